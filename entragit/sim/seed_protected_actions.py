"""Seeds the directory's resource actions: those a protected action can be (Microsoft's list on
learn.microsoft.com/entra/identity/role-based-access-control/protected-actions-overview) and a few that
cannot carry an authentication context, with the context c1 on purging the recycle bin and on changing
Conditional Access policies, and the Conditional Access policy that asks for c1."""

from __future__ import annotations

import uuid
from typing import Any

from entragit.sim.model import CA_POLICIES, USERS, blank_object
from entragit.sim.model_protected_actions import RESOURCE_ACTIONS
from entragit.sim.tenant import Tenant

# (name, verb, description, settable, authentication context)
_ACTIONS: tuple[tuple[str, str | None, str, bool, str | None], ...] = (
    ("conditionalAccessPolicies/basic/update", "PATCH", "Update basic properties for conditional access policies", True, "c1"),
    ("conditionalAccessPolicies/create", "POST", "Create conditional access policies", True, "c1"),
    ("conditionalAccessPolicies/delete", "DELETE", "Delete conditional access policies", True, "c1"),
    ("namedLocations/basic/update", "PATCH", "Update basic properties of custom rules that define network locations", True, None),
    ("namedLocations/create", "POST", "Create custom rules that define network locations", True, None),
    ("namedLocations/delete", "DELETE", "Delete custom rules that define network locations", True, None),
    ("crossTenantAccessPolicy/allowedCloudEndpoints/update", "PATCH", "Update allowed cloud endpoints of cross-tenant access policy", True, None),
    ("crossTenantAccessPolicy/default/b2bCollaboration/update", "PATCH", "Update Microsoft Entra B2B collaboration settings of the default cross-tenant access policy", True, None),
    ("crossTenantAccessPolicy/partners/create", "POST", "Create cross-tenant access policy for partners", True, None),
    ("crossTenantAccessPolicy/partners/delete", "DELETE", "Delete cross-tenant access policy for partners", True, None),
    ("deletedItems/delete", "DELETE", "Permanently delete objects, which can no longer be restored", True, "c1"),
    ("resourceNamespaces/resourceActions/authenticationContext/update", "POST", "Update Conditional Access authentication context of Microsoft 365 role-based access control (RBAC) resource actions", True, None),
    ("users/create", "POST", "Add users", False, None),
    ("users/delete", "DELETE", "Delete users", False, None),
    ("users/basic/update", "PATCH", "Update basic properties on users", False, None),
    ("groups/create", "POST", "Create Security groups and Microsoft 365 groups", False, None),
    ("groups/delete", "DELETE", "Delete Security groups and Microsoft 365 groups", False, None),
    ("applications/credentials/update", "PATCH", "Update application credentials", False, None),
    ("deletedItems/restore", "POST", "Restore soft deleted objects to original state", False, None),
    ("authorizationPolicy/allProperties/allTasks", None, "Manage all aspects of authorization policy", False, None),
)
NAMESPACE = "microsoft.directory"
PROTECTING_POLICY = "Protected actions: require MFA for sensitive changes"


def _action(name: str, verb: str | None, description: str, settable: bool, context: str | None) -> dict[str, Any]:
    full = f"{NAMESPACE}/{name}"
    # Graph's ids are the name with dashes for slashes, and the verb, when there is one (the list page's examples).
    action_id = full.replace("/", "-") + (f"-{verb.lower()}" if verb else "")
    return {"id": action_id, "name": full, "description": description, "actionVerb": verb,
            "isPrivileged": settable, "resourceScopeId": None, "authenticationContextId": context,
            "isAuthenticationContextSettable": settable}


def seed_protected_actions(tenant: Tenant, created: str) -> None:
    for entry in _ACTIONS:
        tenant.add(RESOURCE_ACTIONS, _action(*entry))
    # The policy that makes c1 mean something: MFA for everyone reaching a protected action, break glass aside.
    break_glass = [u["id"] for u in tenant.objects[USERS.name].values()
                   if str(u.get("userPrincipalName", "")).startswith("breakglass")]
    policy = blank_object(CA_POLICIES)
    policy.update({
        "id": str(uuid.uuid5(uuid.UUID(tenant.tenant_id), PROTECTING_POLICY)), "displayName": PROTECTING_POLICY,
        "createdDateTime": created, "modifiedDateTime": created, "state": "enabled",
        "conditions": {
            "users": {"includeUsers": ["All"], "excludeUsers": break_glass, "includeGroups": [], "excludeGroups": [],
                      "includeRoles": [], "excludeRoles": []},
            "applications": {"includeApplications": [], "excludeApplications": [], "includeUserActions": [],
                             "includeAuthenticationContextClassReferences": ["c1"]},
            "clientAppTypes": ["all"], "platforms": None, "locations": None, "signInRiskLevels": [],
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": [], "termsOfUse": []},
    })
    tenant.add(CA_POLICIES, policy)
