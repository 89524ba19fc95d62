"""The object-type registry: one declarative entry per Graph object type.

Snapshot, diff and restore read everything they know about a type from its entry here, so adding a
type is adding one entry. The vocabulary follows Terraform's per-resource schema: read-only properties
are Computed (stored, never written), create-only ones are ForceNew (a difference is reported as
"cannot restore in place"), volatile ones are never stored at all.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from entragit.errors import ConfigError
from entragit.registry.writes import Hooks, LinkWrite, SubCollection, Within


@dataclass(frozen=True)
class Relationship:
    """A link from an object to other directory objects, stored by id in the owning object's file."""

    name: str
    many: bool
    # How a restore adds and removes a link (registry/writes.py: RefLink, RefPut, Action, SubResource).
    write: LinkWrite
    # "collection": GET {collection}/{id}/{name}; "expand": $expand on the list call (single-valued only).
    # Not used where the write strategy reads the links from the object's own body (write.within).
    fetch: str = "collection"
    # Graph collection named in the "@odata.id" of a $ref write, and where a single target is looked up.
    ref_collection: str = "directoryObjects"
    # Path under the *other* object that lists the objects holding it through this relationship, so a
    # restore of one user can find the groups that hold it now without reading every group.
    reverse_path: str | None = None
    # Types whose objects can sit at the far end; only these are looked up through reverse_path.
    member_types: tuple[str, ...] = ()
    # (property, value): when the owning object's property list holds value, the directory computes
    # this relationship itself (dynamic groups) and refuses writes to it.
    computed_when: tuple[str, str] | None = None
    # Whether the type's delta query reports changes to this relationship (members@delta, manager@delta);
    # an incremental snapshot re-reads the ones it does not (an app's owners) for every object.
    delta_tracked: bool = False
    # Whether delta is asked for a many-valued relationship by naming it in $select (a group's owners:
    # group-delta, "by selecting any group relationship of type directoryObject collection"), not by $expand.
    delta_selected: bool = False
    # Whether Graph $expands a many-valued relationship on the collection (at most 20 objects each): then
    # the links of many objects are read 15 objects to a request, `$filter=id in (...)`, instead of one
    # request per object, and only objects with 20 or more links are read one by one.
    expandable: bool = False

    def __post_init__(self) -> None:
        if self.write.within is not None and self.many and not self.delta_tracked:
            # The links come and go with the object's own body: delta reports them with it.
            raise ValueError(f"relationship {self.name!r} is read from its object's body: it is delta_tracked")
        if self.reverse_path and (self.within or self.read_at != (self.name, "id")):
            # What reverse_path lists are the holders themselves, by id, as a navigation property has them.
            raise ValueError(f"relationship {self.name!r} is not a navigation property: it has no reverse_path")

    @property
    def within(self) -> Within | None:
        """The list of the object's own body the links are read from, if they are not read apart."""
        return self.write.within

    @property
    def read_at(self) -> tuple[str, str]:
        """(path under the object, key of each entry) where links read apart are listed."""
        return self.write.read_at(self.name)

    @property
    def read_apart(self) -> bool:
        """Whether the links take requests of their own (GET {item}/{name}), not the object's read."""
        return self.fetch == "collection" and self.within is None

    def computed_for(self, obj: dict[str, object] | None) -> bool:
        """Whether the directory computes this relationship for obj (a dynamic group or unit)."""
        if self.computed_when is None or not obj:
            return False
        prop, value = self.computed_when
        found = obj.get(prop)
        return found == value or (isinstance(found, list) and value in found)


@dataclass(frozen=True)
class ListedPerScope:
    """How a type is listed where Graph lists it one scope at a time only (a $filter naming one group) and
    offers no list of the scopes that have any: one list call per scope read, in $batch requests of 20."""

    filter: str
    """The $filter of one scope's list call, "{id}" standing for the scope's id, quoted."""
    scopes: str
    """Graph path of the collection whose objects are the scopes (groups)."""
    scopes_filter: str
    """The $filter that picks the scopes read without being named (the role-assignable groups): one request."""
    named_by: str
    """The setting, given outside the repository, that names further scopes by id (config.OUTSIDE)."""


@dataclass(frozen=True)
class ObjectType:
    name: str
    """Folder name in the backup repository and the name users type (`--type users`)."""
    singular: str
    collection: str
    """Graph path of the collection, relative to the version (`identity/conditionalAccess/policies`)."""
    odata_types: tuple[str, ...]
    select: tuple[str, ...]
    read_permission: str
    write_permission: str
    volatile: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset()
    create_only: frozenset[str] = frozenset()
    # Complex properties that Graph PATCHes key by key (or may: Microsoft does not say), so every key to
    # clear is sent, at every depth: [] for a list, null for anything else.
    merge_properties: frozenset[str] = frozenset()
    # Secret-bearing lists: property -> keys dropped from each item. The credential's metadata (keyId,
    # displayName, dates) is kept, since a new credential on an app is a classic backdoor; the secret never.
    secret_fields: dict[str, frozenset[str]] = field(default_factory=dict, hash=False)
    # Properties that every PATCH body must carry (the discriminator of a polymorphic type).
    always_send: tuple[str, ...] = ()
    # Properties Graph checks against each other: a PATCH of one carries the rest as the snapshot has them
    # (an enterprise app's SAML settings are taken only with, or after, preferredSingleSignOnMode saml).
    written_together: tuple[tuple[str, ...], ...] = ()
    # Lists whose order means something; every other list of a stored object is a set and is sorted.
    ordered_lists: frozenset[str] = frozenset()
    # Attribute paths whose values are ids of other objects, and the types those ids may name.
    references: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    # Words Graph takes at a reference path in place of ids (a policy for "All" users); any other value
    # there must be an id.
    reference_words: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    relationships: tuple[Relationship, ...] = ()
    sub_collections: tuple[SubCollection, ...] = ()
    """Objects Graph keeps in collections under each object (registry/writes.py), kept as lists in its file."""
    page_size: int | None = 999
    """`$top` for list calls; None where Graph pages by itself (Conditional Access)."""
    delta: bool = False
    """Graph offers {collection}/delta for this type, so snapshots can read only what changed."""
    filter_by_ids: bool = False
    """Graph filters the collection by `id in (...)`: objects named by id (an incremental snapshot's changed
    ones) are read 15 to a request instead of one request each."""
    list_filter: str | None = None
    """The `$filter` Graph requires on every list call of the type (role management policies are listed
    per scope only: `scopeId eq '/' and scopeType eq 'DirectoryRole'`)."""
    listed_per_scope: ListedPerScope | None = None
    """For a type Graph lists only one scope at a time: which scopes are read, and the $filter of each."""
    expand: tuple[str, ...] = ()
    """Contained lists Graph returns only on `$expand`, read with the object (a PIM policy's rules)."""
    api_version: str = "v1.0"
    """The Graph API version its requests go to (collection is relative to it): "v1.0", or "beta" for a
    type Graph serves there only, whose API Microsoft may change without notice."""
    rate_limit: tuple[str, float] | None = None
    """(path prefix, requests per second): a per-tenant rate Graph documents for a family of endpoints,
    shared by every type under the prefix; the client paces itself to it."""
    restore_order: int = 50
    """Lower restores first: named locations and groups before the CA policies that name them."""
    display_key: str = "displayName"
    key: str = "id"
    """The property that names an object (cross-tenant partners are named by tenantId)."""
    singleton: str | None = None
    """For a resource that is one object at the collection path (GET and PATCH only): its file name."""
    item_at: str | None = None
    """Graph path of one object where it is not {collection}/{id}, "{id}" standing for its id (an agent
    identity: servicePrincipals/{id}/microsoft.graph.agentIdentity)."""
    recycle_bin: str | None = None
    """Graph path of the recycle bin that keeps a deleted object RECYCLE_BIN_DAYS (directory/deletedItems),
    as {recycle_bin}/{id}, with POST .../restore; None where a delete is final."""
    recycled_when: Callable[[dict[str, Any]], bool] | None = None
    """For a type only some of whose objects go to the recycle bin: which ones (given the object's file)."""

    kept_when: Callable[[dict[str, Any]], bool] | None = None
    """For a collection only some of whose objects are configuration, which ones a snapshot keeps (given the
    object as Graph lists it), where Graph's $filter cannot pick them: the rest are never read into files."""

    def goes_to_recycle_bin(self, obj: dict[str, Any] | None) -> bool:
        if self.recycle_bin is None:
            return False
        return self.recycled_when is None or obj is None or self.recycled_when(obj)

    # --- how a restore writes this type (entragit/restore/) ---
    create: str | None = None
    """How an object gone for good is made again: "post" (POST to the collection; Graph assigns a new id),
    "patch" (PATCH at its own key, which creates it there: authentication contexts), None: it cannot be."""
    create_with: frozenset[str] = frozenset()
    """Read-only properties a creation still takes (an authentication strength's combinations)."""
    assigned_on_create: tuple[str, ...] = ()
    """Besides the id, properties Graph gives a new value on creation (an application's appId), so that
    references to the old value in the restored set are rewritten too."""
    written_after_create: frozenset[str] = frozenset()
    """Properties whose values may name what Graph assigns on creation (identifierUris: api://<appId>), so
    they are PATCHed once the object exists and the new values are known."""
    written_per_item: frozenset[str] = frozenset()
    """Lists of sub-objects Graph returns with the object ($expand), each written at {item path}/{list}/{its
    id} (a PIM policy's rules), never through the object's own PATCH; items are neither added nor removed."""
    one_way: dict[str, object] = field(default_factory=dict, hash=False)
    """Properties Graph changes in one direction only: property -> the one value a change may bring (a custom
    security attribute's usePreDefinedValuesOnly goes from true to false, never back). A restore that needs
    any other change of one is refused, with why."""
    moved: dict[str, str] = field(default_factory=dict, hash=False)
    """Properties that files written by an older entragit hold and that files of another type now keep
    (property -> that type): such a file is still read, and a diff shows the property go, but a restore
    never writes it (it writes the other type's files)."""
    disable_before_removal: dict[str, str] = field(default_factory=dict, hash=False)
    """Lists whose items Graph deletes only once disabled (app roles, delegated scopes): path -> the flag
    that a first PATCH turns false on the items the restore removes."""
    reset_by_restore: frozenset[str] = frozenset()
    """Properties a restore from the bin may change (a named location comes back untrusted): always re-sent."""
    renamed_in_bin: frozenset[str] = frozenset()
    """Properties the bin alters and its restore puts back by itself (a deleted user's prefixed UPN)."""
    found_again_by: tuple[str, ...] = ()
    """Properties that tell one object of the type from the others (a group's mailNickname, a policy's
    displayName): a creation whose answer an interruption lost is looked up by them, not made twice."""
    match_on: tuple[str, ...] = ()
    """Objects matched between snapshot and tenant by these properties, never by id (role assignments)."""
    credentials: dict[str, str | None] = field(default_factory=dict, hash=False)
    """Credential lists -> the action that removes one by keyId, or None where Graph wants a proof of
    possession of another key (removeKey), which a restore does not have."""
    cannot_create: str | None = None
    """Why an object of this type, once gone for good, is not made again (where Graph could, but not faithfully)."""
    reset_action: tuple[str, str] | None = None
    """(flag, action): where the snapshot has the flag true (Graph's own defaults) and the tenant not, POST
    {collection}/{action} puts the defaults back, the flag with them (which no PATCH can set)."""
    never_delete: str | None = None
    """Why objects of this type are never deleted by a restore, even with --delete-extra."""
    entity: str | None = None
    """Graph's name for the type of these objects in its metadata, where odata_types does not give it."""
    hooks: Hooks = field(default_factory=Hooks, hash=False)
    """Code of the type's own at named points (registry/writes.py): properties written by an action
    (an authentication strength's combinations), objects made and ended by schedule requests (role
    eligibilities)."""
    also_needs: str | None = None
    """What Graph asks of the app besides write_permission for some objects of the type (an Entra role
    assigned to the app, or a further permission), and for which: `entragit doctor --write` says it beside
    the permission, since a token's claims do not show it."""

    # --- what is kept of each property Graph declares (decisions.py holds the registry against the metadata) ---
    keeps: tuple[str, ...] = ()
    """For a type read whole (no select): the declared properties its files keep. Every property Graph's
    metadata declares for a type is decided: kept (select or keeps), volatile, or not_kept."""
    not_kept: dict[str, str] = field(default_factory=dict, hash=False)
    """Declared properties no file holds, each with why: not configuration, or no cheap way to read it."""
    why_read_only: dict[str, str] = field(default_factory=dict, hash=False)
    """Why a kept read-only property is never written (set by sync, by Microsoft, through another API);
    decisions.READ_ONLY_REASONS gives the reasons common to many types."""

    @functools.cached_property
    def stored(self) -> frozenset[str]:
        """The properties a file of this type holds (besides its relationships and its @odata.type)."""
        return (frozenset(self.select or self.keeps) - self.volatile - set(self.not_kept)
                | {s.property for s in self.sub_collections})

    @functools.cached_property
    def sub_collection_names(self) -> frozenset[str]:
        return frozenset(s.property for s in self.sub_collections)

    @functools.cached_property
    def write_permissions(self) -> tuple[str, ...]:
        """What a restore of every part of it needs: its own write permission, and its sub-collections'."""
        extra = [s.write_permission for s in self.sub_collections if s.write_permission]
        return tuple(dict.fromkeys([self.write_permission, *extra]))

    def sub_collection_at(self, path: str, object_id: str) -> tuple[SubCollection, str | None] | None:
        """The sub-collection of the object that a request's path writes, and the id of the item it names
        (None: the collection itself, where an item is added); None when the path is no sub-collection's."""
        for sub in self.sub_collections:
            at = f"{self.item_path(object_id)}/{sub.path}"
            if path == at:
                return sub, None
            if path.startswith(f"{at}/"):
                return sub, unquote(path[len(at) + 1:])
        return None

    def write_permission_at(self, path: str, object_id: str) -> str:
        """The permission a write of the object at path needs: the type's, or its sub-collection's."""
        found = self.sub_collection_at(path, object_id)
        return (found[0].write_permission if found else None) or self.write_permission

    @functools.cached_property
    def relationship_names(self) -> frozenset[str]:
        return frozenset(r.name for r in self.relationships)

    @functools.cached_property
    def links_within(self) -> tuple[tuple[str, Within], ...]:
        """(relationship, where) of the relationships read from a list of the object's own body."""
        return tuple((r.name, r.within) for r in self.relationships if r.within is not None)

    @functools.cached_property
    def read_select(self) -> tuple[str, ...]:
        """$select of a read: the stored properties, and the lists some relationships are read from."""
        if not self.select:
            return ()
        return (*self.select, *(w.property for _, w in self.links_within if w.property not in self.select))

    def relationship(self, name: str) -> Relationship | None:
        for rel in self.relationships:
            if rel.name == name:
                return rel
        return None

    @property
    def if_deleted(self) -> str:
        """How a restore brings back an object of this type that was deleted, in a few words."""
        if self.singleton:
            return "cannot be deleted"
        if self.create == "patch" or (self.create and (self.key != "id" or "id" in self.create_with)):
            made = "made again, same key"
        elif self.create or self.hooks.create:
            made = "made again, new id"
        else:
            made = "cannot be made again"
        return f"recycle bin, else {made}" if self.recycle_bin else made

    @property
    def if_changed(self) -> str:
        """How a restore puts back an object of this type whose settings changed, in a few words."""
        if self.match_on:
            return "made anew"  # what it grants to whom is what it is: a change is another object
        writable = self.stored - self.read_only - self.create_only - {self.key}
        if writable or self.relationships or self.hooks.write_property or self.written_per_item:
            return "in place"
        return "not possible"

    @property
    def why_not(self) -> str:
        """The registry's reasons a restore does not make an object of this type again, or never deletes one."""
        reasons = [f"{label}: {why}" for label, why in (("not made again", self.cannot_create),
                                                         ("never deleted", self.never_delete)) if why]
        return "; ".join(reasons)

    @property
    def list_params(self) -> dict[str, str]:
        """What every list call of the type carries besides its own options: the $filter Graph requires (for a
        type listed per scope, the one scope's filter that `scope_filter` gives)."""
        return {"$filter": self.list_filter} if self.list_filter else {}

    def scope_filter(self, scope_id: str) -> dict[str, str]:
        """The $filter of the list call of one scope, for a type listed per scope."""
        assert self.listed_per_scope is not None
        return {"$filter": self.listed_per_scope.filter.replace("{id}", "'" + scope_id.replace("'", "''") + "'")}

    def item_path(self, object_id: str) -> str:
        if self.item_at:
            return self.item_at.replace("{id}", quote(object_id))
        return self.collection if self.singleton else f"{self.collection}/{quote(object_id)}"

    def object_id(self, raw: dict[str, object]) -> str:
        return self.singleton or str(raw[self.key])

    @property
    def entity_types(self) -> tuple[str, ...]:
        """The metadata's names of the types an object of this type may have (user; ipNamedLocation, ...)."""
        if self.odata_types:
            return tuple(t.removeprefix("#microsoft.graph.") for t in self.odata_types)
        return (self.entity,) if self.entity else ()

    @property
    def polymorphic(self) -> bool:
        """Several @odata.types share the collection, so each file keeps its own."""
        return len(self.odata_types) > 1

    def owns_odata_type(self, odata_type: str | None) -> bool:
        return odata_type in self.odata_types


# Entra keeps a deleted object this long in its recycle bin, then purges it
# (learn.microsoft.com/entra/fundamentals/recover-from-deletions).
RECYCLE_BIN_DAYS = 30
DIRECTORY_RECYCLE_BIN = "directory/deletedItems"

REGISTRY: dict[str, ObjectType] = {}


def register(object_type: ObjectType) -> ObjectType:
    if object_type.name in REGISTRY:
        raise ValueError(f"object type {object_type.name!r} is registered twice")
    REGISTRY[object_type.name] = object_type
    return object_type


def get_type(name: str) -> ObjectType:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ConfigError(f"unknown object type {name!r}; known types: {known}") from None


def resolve_types(names: tuple[str, ...] | list[str] | None) -> list[ObjectType]:
    """The named types (all when none are named), in restore order so dependencies come first."""
    chosen = [get_type(n) for n in names] if names else list(REGISTRY.values())
    return sorted(chosen, key=lambda t: (t.restore_order, t.name))


def type_for_odata(odata_type: str | None) -> ObjectType | None:
    for object_type in REGISTRY.values():
        if object_type.owns_odata_type(odata_type):
            return object_type
    return None


# Importing the entry modules registers their types; the order here is only the order of `entragit types`.
from entragit.registry import (  # noqa: E402,F401
    app_policies, applications, apps_access, beta, conditional_access, directory, governance_access, governance_pim,
    governance_pim_groups,
    policies, protected_actions, roles, tenant_config, tenant_signin,
)
