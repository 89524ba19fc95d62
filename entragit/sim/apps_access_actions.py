"""Actions on application templates, in the shape of passwords.ACTIONS (collection -> action -> handler):
POST applicationTemplates/{id}/instantiate (applicationtemplate-instantiate)."""

from __future__ import annotations

from typing import Any

from entragit.sim.errors import bad_request
from entragit.sim.model import APPLICATIONS, SERVICE_PRINCIPALS, CollectionSpec
from entragit.sim.passwords import Action
from entragit.sim.query import project
from entragit.sim.tenant import Tenant


def instantiate(tenant: Tenant, spec: CollectionSpec, template: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """An application and its service principal made from the template, both recording it."""
    name = body.get("displayName")
    if not isinstance(name, str) or not name:
        raise bad_request("Invalid value specified for property 'displayName' of resource 'ApplicationTemplate'.")
    app = tenant.create(APPLICATIONS, {"displayName": name, "applicationTemplateId": template["id"]})
    sp = tenant.create(SERVICE_PRINCIPALS, {"appId": app["appId"], "applicationTemplateId": template["id"]})
    return {"application": project(app, None, APPLICATIONS.default_properties, APPLICATIONS.write_only),
            "servicePrincipal": project(sp, None, SERVICE_PRINCIPALS.default_properties, SERVICE_PRINCIPALS.write_only)}


APPS_ACCESS_ACTIONS: dict[str, dict[str, tuple[Action, str]]] = {
    # Graph answers 201 with an applicationServicePrincipal (the simulator's actions answer 200).
    "applicationTemplates": {"instantiate": (instantiate, "microsoft.graph.applicationServicePrincipal")},
}
