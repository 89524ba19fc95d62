"""The directory's resource actions, of which the protected ones carry an authentication context.

Graph serves them at roleManagement/directory/resourceNamespaces/microsoft.directory/resourceActions
(beta unifiedrbacresourcenamespace-list-resourceactions, unifiedrbacresourceaction-get; v1.0's metadata
declares the same type). A list pages at 100 by default and takes $top; $filter takes eq on actionVerb,
description, id, isPrivileged and name. authenticationContextId and isAuthenticationContextSettable come
only when $select names them (the resource page). Actions are Microsoft's: no POST, no DELETE; a PATCH sets
an action's authenticationContextId, which is how the Entra admin center adds a protected action
(learn.microsoft.com/entra/identity/role-based-access-control/protected-actions-add).
"""

from __future__ import annotations

from typing import Any

from entragit.sim.errors import GraphFault
from entragit.sim.model import BOOL, STR, CollectionSpec
from entragit.sim.model_policies import AUTHENTICATION_CONTEXT_ID, READ_ONLY

_PROPERTIES = {"id": STR, "name": STR, "description": STR, "actionVerb": STR, "isPrivileged": BOOL,
               "resourceScopeId": STR, "authenticationContextId": STR, "isAuthenticationContextSettable": BOOL}


def _check_context(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    """An authentication context goes only on an action that takes one, and is c1 to c99 or null
    [UNCONFIRMED: the error Graph gives; whether the context must exist is not documented]."""
    if "authenticationContextId" not in changes or existing is None:
        return
    value = changes["authenticationContextId"]
    if not existing.get("isAuthenticationContextSettable"):
        raise GraphFault(400, "BadRequest", f"The authentication context of '{existing['name']}' cannot be set.")
    if value is not None and not (isinstance(value, str) and AUTHENTICATION_CONTEXT_ID.match(value)):
        raise GraphFault(400, "BadRequest", f"Invalid authentication context id '{value}'; expected c1 to c99.")


RESOURCE_ACTIONS = CollectionSpec(
    name="resourceActions",
    path="roleManagement/directory/resourceNamespaces/microsoft.directory/resourceActions",
    odata_type="#microsoft.graph.unifiedRbacResourceAction",
    properties=_PROPERTIES,
    default_properties=("id", "name", "description", "actionVerb", "isPrivileged", "resourceScopeId"),
    read_only=frozenset(_PROPERTIES) - {"authenticationContextId"},
    filterable=frozenset({"actionVerb", "description", "id", "isPrivileged", "name"}),
    collection_methods=READ_ONLY,
    item_methods=frozenset({"GET", "PATCH"}),
    validate=_check_context,
)

PROTECTED_ACTION_COLLECTIONS: tuple[CollectionSpec, ...] = (RESOURCE_ACTIONS,)
