"""A round trip for every registry type: snapshot, change as an admin would, restore, snapshot again.

Each type is changed, then deleted, then deleted for good where Graph allows it; after each restore a
snapshot of the type must match the good one. An object Graph could only make again under a new id must
match once its new id (and, for an application, its new appId) is written in place of the old one: the
test finds the new object itself, by what is new in the tenant, not from what the restore reports.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from entragit.canonical import Obj, dump
from entragit.diff.build import diff_revisions
from entragit.graph import GraphClient
from entragit.registry import REGISTRY, get_type
from entragit.restore import ApplyResult, apply_plan, plan_restore
from entragit.selection import Selection
from entragit.store import BackupRepo
from tests.conftest import Admin, run

DIRECTORY_BIN = "directory/deletedItems"
CA_BIN = "identity/conditionalAccess/deletedItems"


@dataclass(frozen=True)
class Case:
    pick: Callable[[Obj], bool]
    """Which object of the snapshot the admin changes."""
    change: dict[str, Any] | None
    """The PATCH an admin sends; None where Graph offers no update (role assignments)."""
    delete: str | None = None
    """How the admin deletes it: "DELETE" its URL, or "adminRemove" through a schedule request."""
    purge: str | None = None
    """The recycle bin the admin then empties of it, where Graph allows that."""
    also: tuple[str, ...] = ()
    """Types restored together with it, because they name it (a CA policy naming a named location)."""
    at: str = ""
    """Where under the object the change is sent, when not at the object itself (a PIM policy's rule)."""
    update: str = "PATCH"
    """How the admin sends the change: "PUT" where Graph replaces the object whole (admin consent requests,
    access review definitions), with the change over the object as its file has it."""


def _named(name: str) -> Callable[[Obj], bool]:
    return lambda obj: obj.get("displayName") == name


def _anything(obj: Obj) -> bool:
    return True


CASES: dict[str, Case] = {
    "authenticationContexts": Case(lambda o: o["id"] == "c1", {"displayName": "Changed"}, delete="DELETE"),
    "authenticationMethodsPolicy": Case(_anything, {"reconfirmationInDays": 30}),
    "authenticationStrengths": Case(lambda o: o.get("policyType") == "custom", {"description": "Changed"},
                                    delete="DELETE"),
    "authorizationPolicy": Case(_anything, {"allowInvitesFrom": "none",
                                            "defaultUserRolePermissions": {"allowedToCreateApps": False}}),
    "crossTenantAccessDefault": Case(_anything, {"inboundTrust": {"isMfaAccepted": False,
                                                                  "isCompliantDeviceAccepted": True}}),
    "crossTenantAccessPartners": Case(_anything, {"isServiceProvider": False}, delete="DELETE"),
    "crossTenantAccessPolicy": Case(_anything, {"allowedCloudEndpoints": ["microsoftonline.us"]}),
    "groupLifecyclePolicies": Case(_anything, {"groupLifetimeInDays": 365}, delete="DELETE"),
    "groupSettings": Case(_anything, {"values": [{"name": "EnableGroupCreation", "value": "true"}]},
                          delete="DELETE"),
    "organization": Case(_anything, {"technicalNotificationMails": ["someone@example.com"]}),
    "securityDefaults": Case(_anything, {"isEnabled": True}),
    "externalIdentitiesPolicy": Case(_anything, {"allowExternalIdentitiesToLeave": False}),
    "tokenLifetimePolicies": Case(_anything, {"displayName": "Changed"}, delete="DELETE"),
    "namedLocations": Case(_named("Head office"), {"@odata.type": "#microsoft.graph.ipNamedLocation",
                                                   "isTrusted": False, "displayName": "Changed"},
                           delete="DELETE", purge=f"{CA_BIN}/namedLocations", also=("conditionalAccessPolicies",)),
    "administrativeUnits": Case(_named("EMEA"), {"description": "Changed"}, delete="DELETE"),
    "groups": Case(_named("Marketing Team"), {"description": "Changed"}, delete="DELETE", purge=DIRECTORY_BIN),
    "users": Case(lambda o: o.get("jobTitle") == "Accountant" and not o.get("onPremisesSyncEnabled"),
                  {"jobTitle": "Changed", "department": "Nowhere"}, delete="DELETE"),
    "applications": Case(_named("Expense Portal"), {"web": {"redirectUris": ["https://evil.example.com/cb"]}},
                         delete="DELETE", purge=DIRECTORY_BIN),
    "conditionalAccessPolicies": Case(_named("Require MFA for all users"), {"state": "disabled"},
                                      delete="DELETE", purge=f"{CA_BIN}/policies"),
    "servicePrincipals": Case(lambda o: o.get("displayName") == "Expense Portal", {"notes": "Changed"},
                              delete="DELETE", purge=DIRECTORY_BIN),
    "roleDefinitions": Case(lambda o: not o.get("isBuiltIn"), {"description": "Changed"}),
    "oauth2PermissionGrants": Case(_anything, {"scope": "Directory.ReadWrite.All"}, delete="DELETE"),
    "roleAssignments": Case(_anything, None, delete="DELETE"),
    "roleEligibilitySchedules": Case(_anything, None, delete="adminRemove"),
    # Microsoft's own actions: none is deleted or made; losing its authentication context is the change.
    "protectedActions": Case(lambda o: o["name"] == "microsoft.directory/deletedItems/delete",
                             {"authenticationContextId": None}),
    "roleManagementPolicies": Case(_anything, {"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule",
                                               "maximumDuration": "PT10H"}, at="rules/Expiration_EndUser_Assignment"),
    # Microsoft's own: no write of any kind (test_governance_pim.py holds what a restore says of it).
    "roleManagementPolicyAssignments": Case(_anything, None),
    "accessReviewDefinitions": Case(_anything, {"displayName": "Changed"}, delete="DELETE", update="PUT"),
    # A deleted agreement cannot be made again without its PDF (test_governance_pim.py).
    "termsOfUse": Case(_anything, {"displayName": "Changed", "isViewingBeforeAcceptanceRequired": False}),
    # One without condition sets: sets made again get new ids (tests/test_app_policies.py).
    "permissionGrantPolicies": Case(lambda o: o["id"] == "partner-apps-pilot", {"description": "Changed"},
                                    delete="DELETE"),
    "adminConsentRequestPolicy": Case(_anything, {"isEnabled": False, "notifyReviewers": False, "remindersEnabled": True,
                                                  "requestDurationInDays": 7, "reviewers": []}, update="PUT"),
    "appManagementPolicies": Case(_anything, {"isEnabled": False, "restrictions": {"passwordCredentials": []}},
                                  delete="DELETE"),
    "defaultAppManagementPolicy": Case(_anything, {"isEnabled": False,
                                                   "applicationRestrictions": {"passwordCredentials": []}}),
    "claimsMappingPolicies": Case(_anything, {"displayName": "Changed"}, delete="DELETE"),
    "homeRealmDiscoveryPolicies": Case(_anything, {"isOrganizationDefault": True}, delete="DELETE"),
    "tokenIssuancePolicies": Case(_anything, {"description": "Changed"}, delete="DELETE"),
    "activityBasedTimeoutPolicies": Case(_anything, {"definition": [
        '{"ActivityBasedTimeoutPolicy":{"Version":1,"ApplicationPolicies":[{"ApplicationId":"default",'
        '"WebSessionIdleTimeout":"08:00:00"}]}}']}, delete="DELETE"),
    "customAuthenticationExtensions": Case(_anything, {
        "@odata.type": "#microsoft.graph.onTokenIssuanceStartCustomExtension",
        "endpointConfiguration": {"@odata.type": "#microsoft.graph.httpRequestEndpoint",
                                  "targetUrl": "https://collector.example.net/token"}}, delete="DELETE"),
    # A deleted domain comes back unverified, a deleted social provider not at all, and the device
    # registration policy is changed by PUT: each in tests/test_tenant_signin.py.
    "domains": Case(lambda o: o.get("isDefault") is True, {"supportedServices": ["Email"],
                                                          "passwordValidityPeriodInDays": 90}),
    "identityProviders": Case(lambda o: o["id"] == "Google-OAUTH",
                              {"@odata.type": "#microsoft.graph.socialIdentityProvider", "displayName": "Changed"}),
    "authenticationFlowsPolicy": Case(_anything, {"selfServiceSignUp": {"isEnabled": True}}),
    "deviceRegistrationPolicy": Case(_anything, None),
    "featureRolloutPolicies": Case(_anything, {"isEnabled": False, "description": "Changed"}, delete="DELETE"),
    "b2bManagementPolicies": Case(_anything, {"definition": ['{"B2BManagementPolicy":{}}']}, delete="DELETE"),
    "authenticationMethodConfigurations": Case(
        lambda o: o["id"] == "Sms", {"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
                                     "state": "enabled", "includeTargets": []}),
    "attributeSets": Case(lambda o: o["id"] == "Engineering", {"description": "Changed", "maxAttributesPerSet": 10}),
    "customSecurityAttributeDefinitions": Case(lambda o: o["id"] == "Engineering_Project",
                                               {"status": "Deprecated", "description": "Changed"}),
    "agentIdentities": Case(_named("Service Desk Agent"), {"displayName": "Changed", "accountEnabled": False},
                            delete="DELETE"),
    "accessPackageCatalogs": Case(_named("Contractors"), {"description": "Changed", "state": "unpublished"},
                                  delete="DELETE"),
    "accessPackages": Case(_named("Marketing campaign tools"), {"isHidden": True}, delete="DELETE"),
    # Graph changes a policy by PUT only (tests/test_governance_access.py restores one changed so).
    "accessPackagePolicies": Case(_named("Marketing staff"), None, delete="DELETE"),
    "connectedOrganizations": Case(_named("Fabrikam"), {"state": "proposed"}, delete="DELETE"),
    "entitlementSettings": Case(_anything, {"externalUserLifecycleAction": "none"}),
    # An app can neither change nor make one (tests/test_governance_access.py shows the plan saying so).
    "customTaskExtensions": Case(_anything, None),
    # Once purged, a workflow cannot be made again (its tasks are not kept): tests/test_governance_access.py.
    "lifecycleWorkflows": Case(_named("Offboard leavers"), {"isEnabled": False}, delete="DELETE"),
    # A federation made again brings its domains with it (tests/test_tenant_signin.py: a domain added since).
    "externalDomainFederations": Case(_anything, {"issuerUri": "https://evil.example.net/trust",
                                                  "signingCertificate": "MIIBevil"}, delete="DELETE"),
    "groupRoleManagementPolicies": Case(_anything, {"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule",
                                                    "maximumDuration": "PT10H"}, at="rules/Expiration_EndUser_Assignment"),
    # Microsoft's own, as a directory role's are (test_governance_pim.py).
    "groupRoleManagementPolicyAssignments": Case(_anything, None),
    "groupEligibilitySchedules": Case(lambda o: o["accessId"] == "owner", None, delete="adminRemove"),
    "groupAssignmentSchedules": Case(_anything, None, delete="adminRemove"),
}


def test_every_registry_type_has_a_round_trip() -> None:
    assert sorted(CASES) == sorted(REGISTRY)


def _snapshot(repo: BackupRepo, *types: str) -> str:
    run("snapshot", "--repo", str(repo.root), *[arg for t in types for arg in ("--type", t)])
    return repo.resolve("HEAD")


def _restore(repo: BackupRepo, client: GraphClient, good: str, ids: tuple[str, ...],
             types: tuple[str, ...] = ()) -> ApplyResult:
    plan = plan_restore(repo, client, good, Selection(types, ids))
    assert plan.steps, "the plan should have something to write"
    result = apply_plan(repo, client, plan)
    assert [(s.describe(), str(e)) for s, e in result.failed] == []
    assert result.residue.steps == [] and result.residue.blocked == []
    return result


def _assert_as_in(repo: BackupRepo, good: str, type_name: str, object_id: str) -> None:
    """The type's snapshot now has the object as the good one had it: same id, or a new one."""
    object_type = get_type(type_name)
    now = _snapshot(repo, type_name)
    before = repo.read_objects(good, object_type)
    after = repo.read_objects(now, object_type)
    if object_id in after:
        report = diff_revisions(repo, good, now, Selection((type_name,), (object_id,)))
        assert report.empty, report.changes
        return
    [new_id] = set(after) - set(before)
    expected = dump(before[object_id]).decode().replace(object_id, new_id)
    old_app_id = before[object_id].get("appId")
    if type_name == "applications" and old_app_id:
        expected = expected.replace(old_app_id, after[new_id]["appId"])
    assert dump(after[new_id]).decode() == expected


def _admin_path(type_name: str, obj: Obj) -> str:
    object_type = get_type(type_name)
    return object_type.item_path(object_type.object_id(obj))


def _at_version(admin: Admin, version: str) -> Admin:
    """The same admin, sending to another Graph API version (a type Graph serves in beta only)."""
    other = copy.copy(admin)
    other.base = admin.base.replace("/v1.0/", f"/{version}/")
    return other


# Where an admin ends a schedule of each type, and what names it there.
_REMOVED_AT = {
    "roleEligibilitySchedules": ("roleManagement/directory/roleEligibilityScheduleRequests",
                                 ("principalId", "roleDefinitionId", "directoryScopeId")),
    "groupEligibilitySchedules": ("identityGovernance/privilegedAccess/group/eligibilityScheduleRequests",
                                  ("principalId", "groupId", "accessId")),
    "groupAssignmentSchedules": ("identityGovernance/privilegedAccess/group/assignmentScheduleRequests",
                                 ("principalId", "groupId", "accessId")),
}


def _delete(admin: Admin, type_name: str, obj: Obj, how: str) -> None:
    if how == "adminRemove":
        at, keys = _REMOVED_AT[type_name]
        fields = {k: obj[k] for k in keys if k in obj}
        admin.call("POST", at, json={"action": "adminRemove", "justification": "test", **fields})
    else:
        admin.call("DELETE", _admin_path(type_name, obj))


@pytest.mark.parametrize("type_name", sorted(CASES))
def test_round_trip(type_name: str, repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    case = CASES[type_name]
    object_type = get_type(type_name)
    admin = _at_version(admin, object_type.api_version)
    good = _snapshot(repo)
    obj = next(o for o in repo.read_objects(good, object_type).values() if case.pick(o))
    object_id = object_type.object_id(obj)

    if case.change is not None:
        path = f"{_admin_path(type_name, obj)}/{case.at}" if case.at else _admin_path(type_name, obj)
        admin.call(case.update, path, json={**obj, **case.change} if case.update == "PUT" else case.change)
        assert _snapshot(repo, type_name) != good, "the change should show in a snapshot"
        _restore(repo, client, good, (object_id,))
        _assert_as_in(repo, good, type_name, object_id)

    if case.delete is not None:
        _delete(admin, type_name, obj, case.delete)
        _restore(repo, client, good, (object_id,))
        _assert_as_in(repo, good, type_name, object_id)

    if case.purge is not None:
        admin.call("DELETE", _admin_path(type_name, obj))
        admin.call("DELETE", f"{case.purge}/{object_id}")
        ids = (object_id,) if not case.also else ()
        types = (type_name, *case.also) if case.also else ()
        _restore(repo, client, good, ids, types)
        _assert_as_in(repo, good, type_name, object_id)


def test_types_says_how_a_deleted_object_of_each_type_comes_back() -> None:
    table = run("types").output.split("\n\n")[0]  # a note on optional permissions follows the table
    rows = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert rows["users"].endswith("recycle bin, else cannot be made again")
    assert rows["groups"].endswith("recycle bin, else made again, new id")
    assert rows["authenticationContexts"].endswith("made again, same key")
    assert rows["authorizationPolicy"].endswith("cannot be deleted")


def test_types_says_how_a_restore_brings_each_type_back_and_marks_beta(monkeypatch: pytest.MonkeyPatch) -> None:
    said = run("types").output
    rows = {line.split()[0]: line for line in said.split("\n\n")[0].splitlines()[1:]}
    assert rows["protectedActions"].split()[1:3] == ["(beta)", "beta"]
    assert rows["protectedActions"].split()[-6:] == "in place cannot be made again".split()
    assert " in place " in rows["protectedActions"] and " in place " in rows["groups"]
    assert " made anew " in rows["roleAssignments"] and " in place " not in rows["roleAssignments"]
    assert "(beta): read and written through Graph's beta API" in said
    why = said[said.index("Why a restore does not make or delete some:"):]
    assert "  users: not made again: a user cannot be recreated faithfully" in why
    assert "; never deleted: the directory's own actions" in why
    # On a narrow terminal the table still fits, and still marks the beta types.
    monkeypatch.setenv("COLUMNS", "80")
    narrow = run("types").output
    table = [line for line in narrow.split("\n\n")[0].splitlines() if not line.startswith("(left out")]
    assert max(len(line) for line in table) <= 80 and "(beta)" in "\n".join(table)
