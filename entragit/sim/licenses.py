"""assignLicense: the only way to change a user's assignedLicenses, in the shape of passwords.ACTIONS.

POST /users/{id}/assignLicense takes both lists, addLicenses (assignedLicense objects: skuId and the
disabledPlans) and removeLicenses (skuIds), and answers 200 with the user (user-assignlicense.md).
"""

from __future__ import annotations

from typing import Any

from entragit.sim.errors import bad_request
from entragit.sim.model import CollectionSpec
from entragit.sim.passwords import Action
from entragit.sim.query import project
from entragit.sim.seed_declared import LICENSE_SKUS
from entragit.sim.tenant import Tenant


def assign_license(tenant: Tenant, spec: CollectionSpec, user: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    adds, removes = body.get("addLicenses"), body.get("removeLicenses")
    if not isinstance(adds, list) or not isinstance(removes, list):
        # Graph wants both parameters, an empty list where there is nothing to add or remove.
        raise bad_request("Invalid value specified for property 'addLicenses' or 'removeLicenses'.")
    held = {str(license_["skuId"]).lower(): license_ for license_ in user.get("assignedLicenses") or []}
    for sku in removes:
        if str(sku).lower() not in held:
            # The exact text Graph returns here is [UNCONFIRMED].
            raise bad_request("User does not have a corresponding license.")
        del held[str(sku).lower()]
    for added in adds:
        sku = str((added or {}).get("skuId") if isinstance(added, dict) else "").lower()
        if sku not in LICENSE_SKUS:
            raise bad_request(f"License {sku} does not correspond to a valid company License.")
        held[sku] = {"disabledPlans": list(added.get("disabledPlans") or []), "skuId": sku}
    tenant.update(spec, user, {"assignedLicenses": [held[sku] for sku in sorted(held)]})
    return project(user, None, spec.default_properties, spec.write_only)


LICENSE_ACTIONS: dict[str, dict[str, tuple[Action, str]]] = {
    "users": {"assignLicense": (assign_license, "users/$entity")},
}
