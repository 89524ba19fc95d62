"""Seeded apps-and-access data beyond what the identity seed makes. The application permissions of
Microsoft Graph that let an app take over a tenant, offered by the simulated Microsoft Graph service
principal as Graph's own offers them (learn.microsoft.com/graph/permissions-reference gives their ids), so
that granting one can be simulated and flagged (granted to no app here: the risk rule's tests grant one as
an attacker would). Two agent identities of one blueprint, as the agentIdentity page shows them. One app
made in the portal, which instantiates its non-gallery template (applicationtemplate-instantiate) and so
records it on the app and its service principal. It draws no random numbers, so every value an earlier
seed produced stays as it was.
"""

from __future__ import annotations

import uuid

from entragit.sim.apps import MICROSOFT_GRAPH_APP_ID, app_role
from entragit.sim.model import APPLICATIONS, SERVICE_PRINCIPALS
from entragit.sim.model_apps_access import AGENT_IDENTITIES, APPLICATION_TEMPLATES, gallery
from entragit.sim.tenant import Tenant

# (app role id, value): Graph's application permissions of the highest privilege.
HIGH_PRIVILEGE_ROLES = (
    ("9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "RoleManagement.ReadWrite.Directory"),
    ("06b708a9-e830-4db3-a914-8e69da51d44f", "AppRoleAssignment.ReadWrite.All"),
    ("1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Application.ReadWrite.All"),
    ("19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Directory.ReadWrite.All"),
)


AGENTS = ("Invoice Triage Agent", "Service Desk Agent")
# The template the portal instantiates for an app that is not in the gallery (applicationtemplate-instantiate).
NON_GALLERY_TEMPLATE = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
FROM_TEMPLATE = "Contract Signing"


def seed_apps_access(tenant: Tenant) -> None:
    graph = next(sp for sp in tenant.objects[SERVICE_PRINCIPALS.name].values() if sp["appId"] == MICROSOFT_GRAPH_APP_ID)
    offered = {role["id"] for role in graph["appRoles"]}
    graph["appRoles"] += [app_role(role_id, value, ["Application"]) for role_id, value in HIGH_PRIVILEGE_ROLES
                          if role_id not in offered]
    for app in tenant.objects[APPLICATIONS.name].values():
        if app["displayName"] == FROM_TEMPLATE:
            app["applicationTemplateId"] = NON_GALLERY_TEMPLATE
            for sp in tenant.objects[SERVICE_PRINCIPALS.name].values():
                if sp["appId"] == app["appId"]:
                    sp["applicationTemplateId"] = NON_GALLERY_TEMPLATE
    for template in gallery():
        tenant.add(APPLICATION_TEMPLATES, template)
    blueprint = tenant.sorted_objects(APPLICATIONS)[0]["appId"]
    for name in AGENTS:
        tenant.add(AGENT_IDENTITIES, {
            "id": str(uuid.uuid5(uuid.UUID(blueprint), name)), "deletedDateTime": None, "displayName": name,
            "accountEnabled": True, "agentIdentityBlueprintId": blueprint, "createdByAppId": blueprint,
            "createdDateTime": "2026-09-17T19:10:35Z", "disabledByMicrosoftStatus": None,
            "servicePrincipalType": "ServiceIdentity", "tags": []})
