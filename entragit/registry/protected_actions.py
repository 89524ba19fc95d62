"""Protected actions: the authentication context Conditional Access asks for before a sensitive directory
action, such as microsoft.directory/deletedItems/delete (who may purge the recycle bin).

Each is an action of the microsoft.directory resource namespace with its authenticationContextId
(learn.microsoft.com/entra/identity/role-based-access-control/protected-actions-overview). Graph lists
thousands of actions there; only those whose context can be set (isAuthenticationContextSettable, a few
dozen) are configuration, and Graph's $filter does not take that property, so the rest are dropped as they
are read. Graph's pages for reading them (unifiedrbacresourcenamespace-list-resourceactions,
unifiedrbacresourceaction-get) are beta pages; v1.0's metadata declares the type, but no v1.0 page does.
"""

from __future__ import annotations

from typing import Any

from entragit.registry import ObjectType, register
from entragit.registry.beta import BETA

NAMESPACE = "microsoft.directory"
# The actions that purge an object from the directory's recycle bin: what soft delete is worth depends on them.
PURGE_ACTION_PREFIX = f"{NAMESPACE}/deletedItems"
_DEFINED_BY_MICROSOFT = "defined by Microsoft for the action; only its authentication context is written"


def is_settable(raw: dict[str, Any]) -> bool:
    """Whether an action can carry an authentication context: the ones a protected action can be."""
    return raw.get("isAuthenticationContextSettable") is True


def is_purge_action(obj: dict[str, Any]) -> bool:
    """Whether an action permanently deletes items of the directory's recycle bin."""
    name = str(obj.get("name") or "")
    return name.startswith(PURGE_ACTION_PREFIX) and name.endswith("/delete")


register(ObjectType(
    name="protectedActions", singular="protectedAction", entity="unifiedRbacResourceAction",
    collection=f"roleManagement/directory/resourceNamespaces/{NAMESPACE}/resourceActions", api_version=BETA,
    odata_types=(),
    # authenticationContextId and isAuthenticationContextSettable come only when $select names them.
    select=("id", "name", "description", "actionVerb", "authenticationContextId", "isAuthenticationContextSettable"),
    kept_when=is_settable, display_key="name",
    read_permission="RoleManagement.Read.Directory", write_permission="RoleManagement.ReadWrite.Directory",
    read_only=frozenset({"id", "name", "description", "actionVerb", "isAuthenticationContextSettable"}),
    why_read_only=dict.fromkeys(("name", "description", "actionVerb", "isAuthenticationContextSettable"),
                                _DEFINED_BY_MICROSOFT),
    not_kept={"resourceScopeId": "not implemented, says Graph's resource page"},
    # After the authentication contexts and the Conditional Access policies that enforce them.
    restore_order=70,
    never_delete="the directory's own actions: Microsoft defines them; a restore only sets their authentication "
                 "context",
    cannot_create="the directory's own actions: Microsoft defines them, none can be made",
))
