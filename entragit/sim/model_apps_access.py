"""Agent identities: the service principals AI agents sign in as, made from an agent identity blueprint.

Graph serves them at /servicePrincipals/microsoft.graph.agentIdentity (list, create) and addresses one at
/servicePrincipals/{id}/microsoft.graph.agentIdentity (get, update, delete), with the properties the
agentIdentity resource page lists (learn.microsoft.com/graph/api/resources/agentidentity); a deleted one
waits in the directory recycle bin. The simulator keeps them apart from other service principals, and takes
as a blueprint the appId of any application in the tenant: it has no blueprints of its own.
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

APPS_ACCESS_COLLECTIONS: tuple[CollectionSpec, ...] = (AGENT_IDENTITIES,)
