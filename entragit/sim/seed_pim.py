"""Seeded governance: a PIM policy and policy assignment for every directory role, two access reviews and two
terms of use agreements.

They draw from their own random stream (f"{seed}-pim") and come after everything else, so every object a
seed produced before stays byte-identical. The policies' rules are those Microsoft gives a role
(policyroot-list-rolemanagementpolicies, example 2), with stricter activation for the most privileged roles.
"""

from __future__ import annotations

import base64
import random
import uuid
from typing import Any

from entragit.sim.model import GROUPS, USERS, CollectionSpec, blank_object
from entragit.sim.model_identity import ROLE_DEFINITIONS
from entragit.sim.model_pim import (
    ACCESS_REVIEW_DEFINITIONS,
    ROLE_MANAGEMENT_POLICIES,
    ROLE_MANAGEMENT_POLICY_ASSIGNMENTS,
    RULE_TYPE,
    RULES,
    TERMS_OF_USE,
)
from entragit.sim.tenant import Tenant

# Global Administrator and Privileged Role Administrator: activation needs approval, and lasts 2 hours; the
# second asks for an authentication context (its Conditional Access policy) instead of MFA, which the
# portal offers as alternatives.
GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10", "e8611ab8-c189-46e8-94e1-60213ab1f814"
STRICT_ROLES = (GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR)
CONTEXT_ROLES = {PRIVILEGED_ROLE_ADMINISTRATOR: "c1"}


def _target(caller: str, level: str) -> dict[str, Any]:
    return {"caller": caller, "operations": ["all"], "level": level, "inheritableSettings": [], "enforcedSettings": []}


def _notifications(caller: str, level: str) -> list[dict[str, Any]]:
    return [{"@odata.type": RULE_TYPE.format("Notification"), "id": f"Notification_{who}_{caller}_{level}",
             "notificationType": "Email", "recipientType": who, "notificationLevel": "All",
             "isDefaultRecipientsEnabled": True, "notificationRecipients": [], "target": _target(caller, level)}
            for who in ("Admin", "Requestor", "Approver")]


def _rule(kind: str, rule_id: str, caller: str, level: str, **values: Any) -> dict[str, Any]:
    return {"@odata.type": RULE_TYPE.format(kind), "id": rule_id, **values, "target": _target(caller, level)}


def role_rules(strict: bool, approver: str, context: str | None = None) -> list[dict[str, Any]]:
    """The seventeen rules of a directory role's policy; `context`: the authentication context activation asks for."""
    stage = {"approvalStageTimeOutInDays": 1, "isApproverJustificationRequired": True, "escalationTimeInMinutes": 0,
             "isEscalationEnabled": False, "escalationApprovers": [],
             "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": approver}] if strict else []}
    return [
        _rule("Expiration", "Expiration_Admin_Eligibility", "Admin", "Eligibility", isExpirationRequired=False,
              maximumDuration="P365D"),
        _rule("Enablement", "Enablement_Admin_Eligibility", "Admin", "Eligibility", enabledRules=[]),
        *_notifications("Admin", "Eligibility"),
        _rule("Expiration", "Expiration_Admin_Assignment", "Admin", "Assignment", isExpirationRequired=False,
              maximumDuration="P180D"),
        _rule("Enablement", "Enablement_Admin_Assignment", "Admin", "Assignment", enabledRules=["Justification"]),
        *_notifications("Admin", "Assignment"),
        _rule("Expiration", "Expiration_EndUser_Assignment", "EndUser", "Assignment", isExpirationRequired=True,
              maximumDuration="PT2H" if strict else "PT8H"),
        _rule("Enablement", "Enablement_EndUser_Assignment", "EndUser", "Assignment",
              enabledRules=["Justification"] if context else ["MultiFactorAuthentication", "Justification"]),
        _rule("Approval", "Approval_EndUser_Assignment", "EndUser", "Assignment", setting={
            "isApprovalRequired": strict, "isApprovalRequiredForExtension": False,
            "isRequestorJustificationRequired": True, "approvalMode": "SingleStage", "approvalStages": [stage]}),
        _rule("AuthenticationContext", "AuthenticationContext_EndUser_Assignment", "EndUser", "Assignment",
              isEnabled=context is not None, claimValue=context),
        *_notifications("EndUser", "Assignment"),
    ]


class _PimSeeder:
    def __init__(self, tenant: Tenant, seed: int) -> None:
        self.rng = random.Random(f"{seed}-pim")
        self.tenant = tenant

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, spec: CollectionSpec, values: dict[str, Any]) -> dict[str, Any]:
        obj = blank_object(spec)
        obj.update(values)
        self.tenant.add(spec, obj)
        return obj

    def build(self) -> None:
        approver = self.tenant.sorted_objects(USERS)[0]["id"]
        for role in self.tenant.sorted_objects(ROLE_DEFINITIONS):
            policy_id = f"DirectoryRole_{self.tenant.tenant_id}_{self.uuid()}"
            self.add(ROLE_MANAGEMENT_POLICIES, {
                "id": policy_id, "displayName": "DirectoryRole", "description": "DirectoryRole",
                "isOrganizationDefault": False, "scopeId": "/", "scopeType": "DirectoryRole",
                "lastModifiedBy": {"displayName": None, "id": None},
                RULES: role_rules(role["id"] in STRICT_ROLES, approver, CONTEXT_ROLES.get(role["id"])),
            })
            self.add(ROLE_MANAGEMENT_POLICY_ASSIGNMENTS, {
                "id": f"{policy_id}_{role['id']}", "policyId": policy_id, "roleDefinitionId": role["id"],
                "scopeId": "/", "scopeType": "DirectoryRole",
            })
        self._access_reviews()
        self._terms_of_use()

    def _access_reviews(self) -> None:
        groups = self.tenant.sorted_objects(GROUPS)[:2]
        for group, frequency in zip(groups, ("absoluteMonthly", "weekly")):
            self.add(ACCESS_REVIEW_DEFINITIONS, {
                "id": self.uuid(), "displayName": f"Review {group['displayName']} members",
                "descriptionForAdmins": "Periodic review of the group's members",
                "descriptionForReviewers": "Keep only those who still need access",
                "createdBy": {"id": None, "displayName": "Identity Governance", "userPrincipalName": None},
                "createdDateTime": "2021-03-01T08:00:00Z", "lastModifiedDateTime": "2021-03-01T08:00:00Z",
                "status": "InProgress",
                "scope": {"@odata.type": "#microsoft.graph.accessReviewQueryScope",
                          "query": f"/groups/{group['id']}/transitiveMembers", "queryType": "MicrosoftGraph"},
                "reviewers": [{"query": f"/groups/{group['id']}/owners", "queryType": "MicrosoftGraph"}],
                "settings": {"mailNotificationsEnabled": True, "reminderNotificationsEnabled": True,
                             "justificationRequiredOnApproval": True, "defaultDecisionEnabled": False,
                             "defaultDecision": "None", "instanceDurationInDays": 7, "autoApplyDecisionsEnabled": False,
                             "recommendationsEnabled": True,
                             "recurrence": {"pattern": {"type": frequency, "interval": 1},
                                            "range": {"type": "noEnd", "startDate": "2021-03-01"}}},
            })

    def _terms_of_use(self) -> None:
        for name, per_device in (("Acceptable use policy", False), ("Guest terms of use", True)):
            pdf = b"%PDF-1.4\n% " + name.encode() + b"\n%%EOF\n"
            self.add(TERMS_OF_USE, {
                "id": self.uuid(), "displayName": name, "isPerDeviceAcceptanceRequired": per_device,
                "isViewingBeforeAcceptanceRequired": True,
                "termsExpiration": {"startDateTime": "2021-04-01T00:00:00Z", "frequency": "P365D"},
                "userReacceptRequiredFrequency": "P90D",
                "files": [{"id": self.uuid(), "fileName": f"{name}.pdf", "language": "en", "isDefault": True,
                           "displayName": name, "isMajorVersion": False, "createdDateTime": "2021-03-15T09:30:00.0000000Z",
                           "fileData": {"data": base64.b64encode(pdf).decode()}}],
            })


def seed_pim(tenant: Tenant, seed: int) -> None:
    _PimSeeder(tenant, seed).build()
