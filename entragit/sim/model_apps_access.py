"""Agent identities, and the application templates apps are instantiated from.

Agent identities are the service principals AI agents sign in as, made from an agent identity blueprint.

Graph serves them at /servicePrincipals/microsoft.graph.agentIdentity (list, create) and addresses one at
/servicePrincipals/{id}/microsoft.graph.agentIdentity (get, update, delete), with the properties the
agentIdentity resource page lists (learn.microsoft.com/graph/api/resources/agentidentity); a deleted one
waits in the directory recycle bin. The simulator keeps them apart from other service principals, and takes
as a blueprint the appId of any application in the tenant: it has no blueprints of its own.

Application templates (learn.microsoft.com/graph/api/resources/applicationtemplate) are the gallery's apps;
POST applicationTemplates/{id}/instantiate makes an application and its service principal from one, both
recording the template's id (applicationtemplate-instantiate). The simulator's gallery holds the template
the portal uses for an app of its own and two others.
"""

from __future__ import annotations

from typing import Any

from entragit.sim.apps import TenantView
from entragit.sim.errors import bad_request
from entragit.sim.model import CollectionSpec

# model.py's property kinds (model_identity.py says why they are spelled out).
STR, BOOL, STRS = "str", "bool", "str[]"
AGENT_IDENTITY_CAST = "microsoft.graph.agentIdentity"


def _complete_agent_identity(tenant: TenantView, agent: dict[str, Any]) -> None:
    blueprint = agent.get("agentIdentityBlueprintId")
    if not any(app.get("appId") == blueprint for app in tenant.objects["applications"].values()):
        # "The request body must contain displayName, agentIdentityBlueprintAppId, and a valid sponsor reference"
        # (agentidentity-post); the message is [UNCONFIRMED].
        raise bad_request("Property 'agentIdentityBlueprintId' must be the appId of an agent identity blueprint.")
    agent.update({"servicePrincipalType": "ServiceIdentity", "accountEnabled": agent.get("accountEnabled", True)})


AGENT_IDENTITIES = CollectionSpec(
    name="agentIdentities",
    path=f"servicePrincipals/{AGENT_IDENTITY_CAST}",
    item_path=f"servicePrincipals/{{id}}/{AGENT_IDENTITY_CAST}",
    odata_type="#microsoft.graph.agentIdentity",
    properties={
        "id": STR,
        "deletedDateTime": STR,
        "displayName": STR,
        "accountEnabled": BOOL,
        "agentIdentityBlueprintId": STR,
        "createdByAppId": STR,
        "createdDateTime": STR,
        "disabledByMicrosoftStatus": STR,
        "servicePrincipalType": STR,
        "tags": STRS,
    },
    read_only=frozenset({"id", "deletedDateTime", "createdByAppId", "createdDateTime", "disabledByMicrosoftStatus",
                         "servicePrincipalType"}),
    # Made from one blueprint, an agent identity stays its instance (agentidentity-update takes no blueprint).
    create_only=frozenset({"agentIdentityBlueprintId"}),
    required_on_create=("displayName", "agentIdentityBlueprintId"),
    filterable=frozenset({"id", "displayName", "agentIdentityBlueprintId", "accountEnabled"}),
    complete=_complete_agent_identity,
    recycle=AGENT_IDENTITY_CAST,
)

APPLICATION_TEMPLATES = CollectionSpec(
    name="applicationTemplates",
    path="applicationTemplates",
    odata_type="#microsoft.graph.applicationTemplate",
    properties={"id": STR, "displayName": STR, "categories": STRS, "description": STR, "homePageUrl": STR,
                "logoUrl": STR, "publisher": STR, "supportedProvisioningTypes": STRS, "supportedSingleSignOnModes": STRS},
    read_only=frozenset({"id", "displayName", "categories", "description", "homePageUrl", "logoUrl", "publisher",
                         "supportedProvisioningTypes", "supportedSingleSignOnModes"}),
    filterable=frozenset({"id", "displayName"}),
    collection_methods=frozenset({"GET"}),
    item_methods=frozenset({"GET"}),
)

# (id, name, publisher, single sign-on modes): the portal's template for an app of one's own
# (applicationtemplate-instantiate names its id), and two gallery apps.
GALLERY = (
    ("8adf8e6e-67b2-4cf2-a259-e3dc5476c621", "Custom", "Microsoft Corporation", ["saml", "password"]),
    ("229946b9-a9fb-45b8-9531-efa47453ac9e", "Contoso Contracts", "Contoso", ["saml"]),
    ("4b5fd5d3-cf8d-4f6f-8c3a-64e0e4c5a4d2", "Fabrikam Travel", "Fabrikam", ["oidc"]),
)


def gallery() -> list[dict[str, Any]]:
    return [{"id": template_id, "displayName": name, "categories": ["business"], "description": None,
             "homePageUrl": None, "logoUrl": None, "publisher": publisher, "supportedProvisioningTypes": [],
             "supportedSingleSignOnModes": modes} for template_id, name, publisher, modes in GALLERY]


APPS_ACCESS_COLLECTIONS: tuple[CollectionSpec, ...] = (AGENT_IDENTITIES, APPLICATION_TEMPLATES)
