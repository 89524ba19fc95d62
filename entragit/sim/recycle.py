"""Soft delete: the directory recycle bin (/directory/deletedItems) and the Conditional Access one.

A collection whose spec sets `recycle` goes to the bin named by `recycle_bin` on DELETE (graph-behaviour §7, §7a):
it keeps its id and every property, and the links it took part in (group memberships, ownerships, manager,
and any link table another module adds, such as role links) are parked so that a restore brings them back.
Items stay 30 simulated days (SimClock), then are purged the next time a bin is looked at.

Each object is its own item: restoring an application does not restore its service principal, exactly as
Entra behaves (graph-behaviour §7); a client must restore both. Collections added later (applications,
servicePrincipals, administrativeUnits) need only `recycle="microsoft.graph.<type>"` in their spec; the tables below
already know that administrative units cannot be purged by hand and that multi-tenant applications never expire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from entragit.sim.catalog import COLLECTIONS
from entragit.sim.changes import HARD_DELETED, RESTORED, SOFT_DELETED
from entragit.sim.clock import SimClock
from entragit.sim.errors import (
    GraphFault,
    bad_request,
    resource_not_found,
    unsupported_query,
)
from entragit.sim.graph import NO_CONTENT, GraphApi, GraphRequest, GraphResponse
from entragit.sim.model import (
    IP_NAMED_LOCATION,
    STR,
    UNIFIED,
    USERS,
    CollectionSpec,
    blank_object,
    is_dynamic,
    is_synced,
)
from entragit.sim.query import (
    Query,
    QueryTarget,
    page_size_for,
    paginate,
    parse_query,
    project,
    target_for,
)
from entragit.sim.settings import Settings

RETENTION_SECONDS = 30 * 86400
DIRECTORY_BIN = "directory"
CONDITIONAL_ACCESS_BIN = "conditionalAccess"
DIRECTORY_BIN_PATH = ("directory", "deletedItems")
# Deleted lifecycle workflows, restorable for 30 days (identitygovernance-workflow-delete, -restore).
LIFECYCLE_WORKFLOWS_BIN = "lifecycleWorkflows"
LIFECYCLE_WORKFLOWS_BIN_PATH = ("identityGovernance", "lifecycleWorkflows", "deletedItems")

Link = tuple[str, str, str]  # (link table, source id, target id)


def _group_goes_to_bin(group: Mapping[str, Any], settings: Settings) -> bool:
    """graph-behaviour §7a: Microsoft 365 groups and (since 2026) cloud security groups are soft-deleted;
    distribution groups, mail-enabled security groups and groups synced from on-premises are not."""
    if is_synced(group):
        return False
    if UNIFIED in (group.get("groupTypes") or []):
        return True
    if group.get("mailEnabled"):
        return False
    return settings.security_groups_soft_delete


# Collections where only some objects are soft-deleted; every other collection with `recycle` set always is.
SOFT_DELETE_WHEN: dict[str, Callable[[Mapping[str, Any], Settings], bool]] = {"groups": _group_goes_to_bin}
# Items DELETE /directory/deletedItems/{id} refuses to purge (graph-behaviour §7a).
PURGE_REFUSED = frozenset({"microsoft.graph.administrativeUnit"})
# Items the 30-day purge leaves alone: multi-tenant applications (graph-behaviour §7a).
NEVER_EXPIRES: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "microsoft.graph.application": lambda app: app.get("signInAudience") not in (None, "AzureADMyOrg"),
}


def _reset_named_location(location: dict[str, Any], settings: Settings) -> None:
    if location.get("@odata.type") == IP_NAMED_LOCATION:
        location["isTrusted"] = False  # graph-behaviour §7a: trust is not restored


def _reset_ca_policy(policy: dict[str, Any], settings: Settings) -> None:
    if settings.ca_restore_report_only and policy.get("state") == "enabled":
        policy["state"] = "enabledForReportingButNotEnforced"


# What a restore changes on the object before it is live again, per collection.
ON_RESTORE: dict[str, Callable[[dict[str, Any], Settings], None]] = {
    "namedLocations": _reset_named_location,
    "conditionalAccessPolicies": _reset_ca_policy,
}


@dataclass
class DeletedItem:
    spec: CollectionSpec
    obj: dict[str, Any]  # as the bin serves it: deletedDateTime set, a user's UPN prefixed
    deleted_at: float
    original_upn: str | None = None


class RecycleBins:
    """The bins of one tenant, routed on its Graph API, whose DELETE now goes through delete() below."""

    def __init__(self, api: GraphApi, clock: SimClock) -> None:
        self.api = api
        self.tenant = api.tenant
        self.settings = api.settings
        self.clock = clock
        self.items: dict[str, DeletedItem] = {}
        self.parked: set[Link] = set()
        api.remove = self.delete
        self._add_routes()

    # --- deleting and restoring (callers hold the tenant lock) ---------------------------------------------

    def delete(self, spec: CollectionSpec, obj: dict[str, Any]) -> None:
        """DELETE /{collection}/{id}: into the bin when the collection and the object allow it, else for good."""
        self.expire()
        object_id = obj["id"]
        wanted = SOFT_DELETE_WHEN.get(spec.name)
        if spec.recycle is None or (wanted is not None and not wanted(obj, self.settings)):
            self._forget(object_id)
            self.tenant.delete(spec, obj)
            return
        self.parked |= {
            (name, source, target)
            for name, table in self.tenant.links.items()
            for source, targets in table.items()
            for target in targets
            if object_id in (source, target)
        }
        # Delta reports this as @removed "changed": restorable (graph-behaviour §2).
        self.tenant.delete(spec, obj, SOFT_DELETED)
        item = DeletedItem(spec, obj, self.clock.now())
        obj["deletedDateTime"] = self.clock.utc_now()
        if spec is USERS:
            # Frees the UPN for a new user; restore puts it back (graph-behaviour §7, observed).
            item.original_upn = obj["userPrincipalName"]
            obj["userPrincipalName"] = object_id.replace("-", "") + obj["userPrincipalName"]
        self.items[object_id] = item

    def load(self, spec: CollectionSpec, obj: Mapping[str, Any]) -> None:
        """Put an object as a bin serves it (deletedDateTime set, a user's UPN prefixed with its id) straight
        into the bin, with no link parked: a tenant loaded from another one (loading.py)."""
        item = DeletedItem(spec, blank_object(spec, obj.get("@odata.type") if spec.subtypes else None), self.clock.now())
        known = spec.properties_of(obj)
        item.obj.update({k: v for k, v in obj.items() if k in known or k == "deletedDateTime"})
        if spec is USERS:
            prefix, upn = str(obj["id"]).replace("-", ""), str(obj.get("userPrincipalName") or "")
            item.original_upn = upn.removeprefix(prefix)
        self.items[str(obj["id"])] = item

    def restore(self, item: DeletedItem) -> dict[str, Any]:
        obj = item.obj
        binned_upn = obj.get("userPrincipalName")
        if item.original_upn is not None:
            obj["userPrincipalName"] = item.original_upn
        try:
            # Refuses, as Entra does, when another user took the UPN meanwhile; the item stays in the bin.
            self.tenant.add(item.spec, obj)
        except GraphFault:
            obj["userPrincipalName"] = binned_upn
            raise
        del self.items[obj["id"]]
        self.tenant.changes.record(RESTORED, item.spec.name, obj["id"])
        if "deletedDateTime" in item.spec.properties:
            obj["deletedDateTime"] = None
        else:
            del obj["deletedDateTime"]  # a type without the property (CA) looks as it did before deletion
        adjust = ON_RESTORE.get(item.spec.name)
        if adjust is not None:
            adjust(obj, self.settings)
        back = {link for link in self.parked if self._live(link[1]) and self._live(link[2])}
        self.parked -= back
        for name, source, target in back:
            if not self._computed(name, source):
                self.tenant.link(name, source, target)
        return obj

    def purge(self, item: DeletedItem) -> None:
        del self.items[item.obj["id"]]
        # Gone for good now: delta reports @removed "deleted" from here on (graph-behaviour §2).
        self.tenant.changes.record(HARD_DELETED, item.spec.name, item.obj["id"])
        self._forget(item.obj["id"])

    def expire(self) -> None:
        """Purge what has been in a bin for 30 simulated days (lazily, whenever a bin is used)."""
        cutoff = self.clock.now() - RETENTION_SECONDS
        for item in [i for i in self.items.values() if i.deleted_at <= cutoff]:
            keep = NEVER_EXPIRES.get(item.spec.recycle or "")
            if keep is None or not keep(item.obj):
                self.purge(item)

    def _forget(self, object_id: str) -> None:
        self.parked = {link for link in self.parked if object_id not in (link[1], link[2])}

    def _live(self, object_id: str) -> bool:
        return any(object_id in objects for objects in self.tenant.objects.values())

    def _computed(self, link: str, source: str) -> bool:
        """Members of an active dynamic group come from its rule, which the restore already re-ran."""
        group = self.tenant.objects["groups"].get(source)
        return link == "members" and group is not None and is_dynamic(group) and group.get("membershipRuleProcessingState") != "Paused"

    # --- HTTP ----------------------------------------------------------------------------------------------

    def _add_routes(self) -> None:
        api = self.api
        api._route(DIRECTORY_BIN_PATH, GET=self._list_without_cast)
        api._route((*DIRECTORY_BIN_PATH, "{id}"), GET=self._get_directory_item, DELETE=self._purge_item)
        api._route((*DIRECTORY_BIN_PATH, "{id}", "restore"), POST=self._restore_item)
        bases = {DIRECTORY_BIN: DIRECTORY_BIN_PATH, LIFECYCLE_WORKFLOWS_BIN: LIFECYCLE_WORKFLOWS_BIN_PATH,
                 CONDITIONAL_ACCESS_BIN: tuple(self.settings.ca_recycle_path.strip("/").split("/"))}
        for spec in COLLECTIONS:
            if spec.recycle is None:
                continue
            base = bases[spec.recycle_bin]
            path = "/".join((*base, spec.recycle))
            api._route((*base, spec.recycle), GET=partial(self._list, spec, path))
            if spec.recycle_bin != DIRECTORY_BIN:
                # A bin of one type's own: its items are named under the type's segment.
                item = (*base, spec.recycle, "{id}")
                api._route(item, GET=partial(self._get_typed_item, spec, path),
                           DELETE=partial(self._purge_item, spec=spec))
                api._route((*item, "restore"), POST=partial(self._restore_item, spec=spec))

    def _find(self, key: str, spec: CollectionSpec | None) -> DeletedItem:
        """An item of the directory bin, or of `spec` in a bin of its own (Conditional Access, workflows)."""
        self.expire()
        item = self.items.get(key) or self.items.get(key.lower())
        in_bin = item is not None and (
            item.spec is spec if spec is not None else item.spec.recycle_bin == DIRECTORY_BIN
        )
        if item is None or not in_bin:
            raise resource_not_found(key, spec.codes.not_found if spec is not None else "Request_ResourceNotFound")
        return item

    def _target(self, spec: CollectionSpec) -> QueryTarget:
        """$select and $filter in a bin: the type's properties, plus deletedDateTime on every item."""
        target = target_for(spec, with_expand=False)
        return replace(target, properties={**target.properties, "deletedDateTime": STR})

    def _render(self, item: DeletedItem, select: tuple[str, ...] | None) -> dict[str, Any]:
        spec = item.spec
        # Every item of the bin says when it was deleted, whatever the type's default property set.
        default = None if spec.default_properties is None else (*spec.default_properties, "deletedDateTime")
        return project(item.obj, select, default, spec.write_only)

    def _list_without_cast(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        # graph-behaviour §7: the cast is required; Graph's answer is recorded in msgraph-sdk-powershell#832.
        raise unsupported_query("Searches against this resource are not supported. Only specific instances can be queried.")

    def _list(self, spec: CollectionSpec, path: str, request: GraphRequest, params: list[str]) -> GraphResponse:
        self.expire()
        query = parse_query(request.pairs, self._target(spec), eventual=request.eventual)
        items = sorted((i for i in self.items.values() if i.spec is spec), key=lambda i: str(i.obj["id"]))
        if query.where is not None:
            items = [i for i in items if query.where(i.obj)]
        size = page_size_for(query, self.settings.default_page_size, spec.paged_by_default)
        page, token = paginate(items, query, size, key=lambda i: str(i.obj["id"]))
        values = [self._render(i, query.select) for i in page]
        # The directory bin names the type's own entity set in its context (directory-deleteditems-list example).
        entity_set = spec.path if spec.recycle_bin == DIRECTORY_BIN else path
        return self.api._collection(request, entity_set, query, values, token, len(items))

    def _get_directory_item(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        item = self._find(params[0], None)
        query = parse_query(request.pairs, self._target(item.spec), eventual=request.eventual)
        body = {"@odata.type": item.spec.odata_type, **self._render(item, query.select)}
        return self.api._entity("directoryObjects", query.select, body)

    def _get_typed_item(self, spec: CollectionSpec, path: str, request: GraphRequest, params: list[str]) -> GraphResponse:
        item = self._find(params[0], spec)
        query = parse_query(request.pairs, self._target(spec), eventual=request.eventual)
        return self.api._entity(path, query.select, self._render(item, query.select))

    def _restore_item(self, request: GraphRequest, params: list[str], spec: CollectionSpec | None = None) -> GraphResponse:
        item = self._find(params[0], spec)
        obj = self.restore(item)
        rendered = self.api._render(item.spec, obj, Query(pairs=[]), typed=True)
        # Directory restores answer as a directoryObject (directory-deleteditems-restore); the others with the
        # object itself (beta conditionalaccesspolicy-restore, whose exact envelope is [UNCONFIRMED];
        # identitygovernance-workflow-restore).
        entity_set = "directoryObjects" if spec is None else item.spec.path
        return self.api._entity(entity_set, None, rendered)

    def _purge_item(self, request: GraphRequest, params: list[str], spec: CollectionSpec | None = None) -> GraphResponse:
        item = self._find(params[0], spec)
        if item.spec.recycle in PURGE_REFUSED:
            raise bad_request("Administrative units cannot be permanently deleted; they are purged 30 days after deletion.")
        self.purge(item)
        return GraphResponse(NO_CONTENT)
