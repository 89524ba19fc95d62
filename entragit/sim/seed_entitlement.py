"""Seeded identity governance: a few catalogs, access packages and their policies, a connected organization,
the entitlement management settings, a custom task extension and two lifecycle workflows.

Drawn from its own random stream (f"{seed}-entitlement") after everything else, so every object an older
seed produced stays byte-identical. The counts do not grow with the tenant: governance objects are few in
any tenant, and a large tenant's snapshot reads them in a request each.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from entragit.sim.model import GROUPS, USERS, CollectionSpec, blank_object
from entragit.sim.model_entitlement import (
    ACCESS_PACKAGE_CATALOGS,
    ACCESS_PACKAGES,
    ASSIGNMENT_POLICIES,
    CONNECTED_ORGANIZATIONS,
    CUSTOM_TASK_EXTENSIONS,
    ENTITLEMENT_SETTINGS,
    LIFECYCLE_WORKFLOWS,
    RESOURCES,
    ROLE_SCOPES,
    number_tasks,
    role_scope,
)
from entragit.sim.tenant import Tenant

# Microsoft's built-in task definitions (identitygovernance-taskdefinition-list): enable the account, send
# the welcome email, disable the account, remove the user from all groups.
ENABLE_ACCOUNT = "6fc52c9d-398b-4305-9763-15f42c1676fc"
WELCOME_EMAIL = "70b29d51-b59a-4773-9280-8841dfd3f2ea"
DISABLE_ACCOUNT = "1dfdfcc7-52fa-4c2e-bf3a-e3919cc12950"
REMOVE_FROM_GROUPS = "b3a31406-2a15-4c9a-b25b-a658fa5f07fc"


class _GovernanceSeeder:
    def __init__(self, tenant: Tenant, seed: int, base_time: datetime) -> None:
        self.rng = random.Random(f"{seed}-entitlement")
        self.tenant = tenant
        self.base_time = base_time
        self.slug = tenant.domain.split(".")[0]

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def stamp(self) -> str:
        moment = self.base_time + timedelta(days=self.rng.randrange(30, 300), seconds=self.rng.randrange(86400))
        return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"

    def add(self, spec: CollectionSpec, values: dict[str, Any]) -> dict[str, Any]:
        obj = blank_object(spec)
        created = self.stamp()
        for name in ("createdDateTime", "modifiedDateTime", "lastModifiedDateTime"):
            if name in obj:
                obj[name] = created
        obj.update({"id": self.uuid(), **values})
        self.tenant.add(spec, obj)
        return obj

    def build(self) -> None:
        users = self.tenant.sorted_objects(USERS)
        groups = {g["displayName"]: g["id"] for g in self.tenant.sorted_objects(GROUPS)}
        sponsor, approver = users[0]["id"], users[1]["id"]
        self.add(ENTITLEMENT_SETTINGS, {"durationUntilExternalUserDeletedAfterBlocked": "P30D",
                                        "externalUserLifecycleAction": "blockSignInAndDelete"})
        general = self.catalog("General", "Built-in catalog.", "serviceDefault", visible=True)
        marketing = self.catalog("Marketing resources", "Sites and groups the marketing team works with.",
                                 "userManaged", visible=False)
        for name in ("Marketing Team", "Sales Team"):
            if name in groups:
                self.resource(marketing, "AadGroup", groups[name], name)
        self.catalog("Contractors", "Resources offered to contractors.", "userManaged", visible=True)
        partner = self.add(CONNECTED_ORGANIZATIONS, {
            "displayName": "Fabrikam", "description": "Fabrikam's staff on the joint project", "state": "configured",
            "identitySources": [{"@odata.type": "#microsoft.graph.azureActiveDirectoryTenant",
                                 "tenantId": self.uuid(), "displayName": "Fabrikam"}]})
        self.tenant.link("internalSponsors", partner["id"], sponsor)
        campaign = self.add(ACCESS_PACKAGES, {"displayName": "Marketing campaign tools", "isHidden": False,
                                              "description": "Access to the campaign sites",
                                              "catalog": {"id": marketing["id"]}, ROLE_SCOPES: []})
        onboarding = self.add(ACCESS_PACKAGES, {"displayName": "Sales onboarding", "isHidden": True,
                                                "description": "What a new salesperson needs",
                                                "catalog": {"id": general["id"]}, ROLE_SCOPES: []})
        self.policy(campaign, "Marketing staff", "specificDirectoryUsers",
                    [{"@odata.type": "#microsoft.graph.groupMembers", "groupId": groups.get("Marketing Team", sponsor),
                      "description": "Marketing Team"}],
                    {"type": "afterDuration", "duration": "P365D"}, approver)
        self.policy(onboarding, "Fabrikam staff", "specificConnectedOrganizationUsers",
                    [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers",
                      "connectedOrganizationId": partner["id"], "description": "Fabrikam"}],
                    {"type": "afterDuration", "duration": "P90D"}, approver)
        # The campaign package grants membership of the Marketing Team, its catalog's group (no random draw: what the
        # seed made before stays as it was).
        if "Marketing Team" in groups:
            group = groups["Marketing Team"]
            campaign[ROLE_SCOPES].append(role_scope(marketing, {
                "role": {"originSystem": "AadGroup", "originId": f"Member_{group}", "displayName": "Member"},
                "scope": {"originSystem": "AadGroup", "originId": group}}, campaign["createdDateTime"]))
        self.add(CUSTOM_TASK_EXTENSIONS, {
            "displayName": "Tell the HR system", "description": "Starts the HR system's onboarding run",
            "endpointConfiguration": {"@odata.type": "#microsoft.graph.logicAppTriggerEndpointConfiguration",
                                      "subscriptionId": self.uuid(), "resourceGroupName": "hr-automation",
                                      "logicAppWorkflowName": "hr-onboarding"},
            "authenticationConfiguration": {"@odata.type": "#microsoft.graph.azureAdTokenAuthentication",
                                            "resourceId": self.uuid()},
            "clientConfiguration": {"maximumRetries": 1, "timeoutInMilliseconds": 1000},
            "callbackConfiguration": None})
        self.workflow("Onboard new hires", "joiner", "employeeHireDate", -2, "(department eq 'Sales')",
                      [("Enable User Account", ENABLE_ACCOUNT), ("Send Welcome Email", WELCOME_EMAIL)])
        self.workflow("Offboard leavers", "leaver", "employeeLeaveDateTime", 0, "(accountEnabled eq true)",
                      [("Disable User Account", DISABLE_ACCOUNT), ("Remove user from all groups", REMOVE_FROM_GROUPS)])

    def resource(self, catalog: dict[str, Any], system: str, origin: str, name: str) -> None:
        created = self.stamp()
        catalog[RESOURCES].append({"id": self.uuid(), "displayName": name, "description": None, "originId": origin,
                                   "originSystem": system, "attributes": [], "createdDateTime": created,
                                   "modifiedDateTime": created})

    def catalog(self, name: str, description: str, kind: str, visible: bool) -> dict[str, Any]:
        return self.add(ACCESS_PACKAGE_CATALOGS, {"displayName": name, "description": description, "catalogType": kind,
                                                  "state": "published", "isExternallyVisible": visible})

    def policy(self, package: dict[str, Any], name: str, scope: str, targets: list[dict[str, Any]],
               expiration: dict[str, Any], approver: str) -> None:
        self.add(ASSIGNMENT_POLICIES, {
            "displayName": name, "description": f"Who may request {package['displayName']}",
            "allowedTargetScope": scope, "specificAllowedTargets": targets, "expiration": expiration,
            "requestorSettings": {"enableTargetsToSelfAddAccess": True, "enableTargetsToSelfUpdateAccess": False,
                                  "enableTargetsToSelfRemoveAccess": True, "allowCustomAssignmentSchedule": False,
                                  "enableOnBehalfRequestorsToAddAccess": False,
                                  "enableOnBehalfRequestorsToUpdateAccess": False,
                                  "enableOnBehalfRequestorsToRemoveAccess": False, "onBehalfRequestors": []},
            "requestApprovalSettings": {"isApprovalRequiredForAdd": True, "isApprovalRequiredForUpdate": False,
                                        "stages": [{"durationBeforeAutomaticDenial": "P2D",
                                                    "isApproverJustificationRequired": True,
                                                    "isEscalationEnabled": False,
                                                    "durationBeforeEscalation": "PT0S",
                                                    "primaryApprovers": [
                                                        {"@odata.type": "#microsoft.graph.requestorManager",
                                                         "managerLevel": 1}],
                                                    "fallbackPrimaryApprovers": [
                                                        {"@odata.type": "#microsoft.graph.singleUser",
                                                         "userId": approver, "description": "fallback approver"}],
                                                    "escalationApprovers": [], "fallbackEscalationApprovers": []}]},
            "accessPackage": {"id": package["id"]}})

    def workflow(self, name: str, category: str, attribute: str, offset: int, rule: str,
                 tasks: list[tuple[str, str]]) -> None:
        workflow = self.add(LIFECYCLE_WORKFLOWS, {
            "displayName": name, "description": f"{name} at {self.slug}", "category": category,
            "isEnabled": True, "isSchedulingEnabled": category == "leaver", "version": 1,
            "executionConditions": {
                "@odata.type": "#microsoft.graph.identityGovernance.triggerAndScopeBasedConditions",
                "scope": {"@odata.type": "#microsoft.graph.identityGovernance.ruleBasedSubjectSet", "rule": rule},
                "trigger": {"@odata.type": "#microsoft.graph.identityGovernance.timeBasedAttributeTrigger",
                            "timeBasedAttribute": attribute, "offsetInDays": offset}},
            "tasks": [{"id": self.uuid(), "displayName": task, "description": task, "isEnabled": True,
                       "continueOnError": False, "taskDefinitionId": definition, "arguments": []}
                      for task, definition in tasks]})
        number_tasks(workflow)


def seed_entitlement(tenant: Tenant, seed: int, base_time: datetime) -> None:
    _GovernanceSeeder(tenant, seed, base_time).build()
