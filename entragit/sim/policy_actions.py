"""Actions on tenant policy objects, in the shape of passwords.ACTIONS (collection -> action -> handler).

An authentication strength's combinations change only through updateAllowedCombinations, which answers with
what was there before and which Conditional Access policies use the strength
(authenticationstrengthpolicy-updateallowedcombinations.md).
"""

from __future__ import annotations

from typing import Any

from entragit.sim.model import CA_POLICIES, CollectionSpec
from entragit.sim.model_policies import check_combinations, cross_tenant_system_default, refuse_built_in
from entragit.sim.passwords import Action
from entragit.sim.tenant import Tenant


def update_allowed_combinations(tenant: Tenant, spec: CollectionSpec, policy: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    refuse_built_in(policy)
    combinations = body.get("allowedCombinations")
    check_combinations(combinations)
    previous = list(policy["allowedCombinations"])
    tenant.update(spec, policy, {"allowedCombinations": combinations})
    users = [
        ca["id"]
        for ca in tenant.sorted_objects(CA_POLICIES)
        if ((ca.get("grantControls") or {}).get("authenticationStrength") or {}).get("id") == policy["id"]
    ]
    return {
        "@odata.type": "#microsoft.graph.updateAllowedCombinationsResult",
        "previousCombinations": previous,
        "currentCombinations": list(policy["allowedCombinations"]),
        "conditionalAccessReferences": users,
        # Graph explains here when the change lowers a strength that policies use; the text is not modelled.
        "additionalInformation": None,
    }


def reset_to_system_default(tenant: Tenant, spec: CollectionSpec, config: dict[str, Any], body: dict[str, Any]) -> None:
    """POST /policies/crossTenantAccessPolicy/default/resetToSystemDefault: no body, 204, isServiceDefault true again."""
    config.update(cross_tenant_system_default())


POLICY_ACTIONS: dict[str, dict[str, tuple[Action, str]]] = {
    "crossTenantAccessPolicyDefault": {"resetToSystemDefault": (reset_to_system_default, "")},
    "authenticationStrengthPolicies": {
        "updateAllowedCombinations": (update_allowed_combinations, "microsoft.graph.updateAllowedCombinationsResult"),
    },
}
