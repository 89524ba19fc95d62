"""How a restore writes what Graph does not take in an object's own PATCH, chosen per registry entry.

A relationship names its write strategy (`Relationship.write`): a `$ref` link (RefLink, RefPut), an
action that takes the ids to add and to remove (Action, user: assignLicense), or links that are objects
of a collection under the holder (SubResource, appRoleAssignedTo). Each strategy turns adding or removing
one link into the Graph request that does it, and says where the links are read when that is not the
usual way (`within`: a list in the object's own body, as assignedLicenses; `read_at`: another
collection). The planner only asks the strategy; it never branches on how a relationship is written.
A list of ids written with the object's own PATCH is no relationship: it is a property whose values are
references (`ObjectType.references`, a Conditional Access policy's includeGroups).

A type that needs code of its own at a few named points carries `Hooks` (`ObjectType.hooks`) instead of a
field per special case: a property written by a request of its own, and how an object is made and ended
where Graph wants that in a shape of its own.

Objects Graph keeps in a collection under another one (an application's federatedIdentityCredentials)
are no links: they are `SubCollection`s of the holder, kept as a list in the holder's file and written
item by item at {holder}/{segment}.

Nothing here speaks to Graph: a strategy or hook describes a request, the restore sends it.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from entragit.registry import ObjectType

Obj = dict[str, Any]


@dataclass(frozen=True)
class Request:
    """One Graph write: method, path relative to the API version, and its JSON body (None: no body)."""

    method: str
    path: str
    body: Obj | None = None


@dataclass(frozen=True)
class Link:
    """One link to add or remove, and what a strategy may need to write it."""

    holder_id: str
    item_path: str
    """Graph path of the object that holds the link (users/{id})."""
    relationship: str
    member_id: str
    ref_url: Callable[[str], str]
    """The "@odata.id" URL naming an object of the relationship's ref_collection."""
    read: Callable[[str, dict[str, str]], list[Obj]]
    """Every entry of a Graph collection (path, query): for a strategy that must look a link up to remove it."""


@dataclass(frozen=True)
class Within:
    """Links kept in a list of the object's own body: each item's `key` is the id of the far object."""

    property: str
    key: str


@dataclass(frozen=True)
class LinkWrite:
    """How links of one relationship are written; `within` says where they are read when they are not
    a navigation property of their own (GET {item}/{relationship} or $expand)."""

    within: Within | None = None

    def read_at(self, relationship: str) -> tuple[str, str]:
        """Where links read apart are listed, under the object's path, and the property of each entry
        that names the far object: the navigation property itself, by id, unless a strategy says else."""
        return relationship, "id"

    def add(self, link: Link) -> Request:
        raise NotImplementedError

    def remove(self, link: Link) -> Request:
        raise NotImplementedError


@dataclass(frozen=True)
class RefLink(LinkWrite):
    """A many-valued navigation property: POST {rel}/$ref, DELETE {rel}/{id}/$ref (group members)."""

    def add(self, link: Link) -> Request:
        return Request("POST", f"{link.item_path}/{link.relationship}/$ref", {"@odata.id": link.ref_url(link.member_id)})

    def remove(self, link: Link) -> Request:
        return Request("DELETE", f"{link.item_path}/{link.relationship}/{quote(link.member_id)}/$ref")


@dataclass(frozen=True)
class RefPut(LinkWrite):
    """A single-valued navigation property: PUT {rel}/$ref sets it, DELETE {rel}/$ref clears it (manager)."""

    def add(self, link: Link) -> Request:
        return Request("PUT", f"{link.item_path}/{link.relationship}/$ref", {"@odata.id": link.ref_url(link.member_id)})

    def remove(self, link: Link) -> Request:
        return Request("DELETE", f"{link.item_path}/{link.relationship}/$ref")


@dataclass(frozen=True, kw_only=True)
class Action(LinkWrite):
    """Links changed by an action that takes the links to add and the ids to remove, both always given
    (POST users/{id}/assignLicense {addLicenses: [{skuId, disabledPlans}], removeLicenses: [skuId]},
    learn.microsoft.com/graph/api/user-assignlicense)."""

    action: str
    adds: str
    """The body's list of links to add."""
    removes: str
    """The body's list of ids to remove."""
    added: Callable[[str], Any] = str
    """One item of the list to add, from the id it links to (a license: {skuId, disabledPlans: []})."""

    def _post(self, link: Link, add: list[Any], remove: list[str]) -> Request:
        return Request("POST", f"{link.item_path}/{self.action}", {self.adds: add, self.removes: remove})

    def add(self, link: Link) -> Request:
        return self._post(link, [self.added(link.member_id)], [])

    def remove(self, link: Link) -> Request:
        return self._post(link, [], [link.member_id])


@dataclass(frozen=True, kw_only=True)
class SubResource(LinkWrite):
    """Links that are objects of their own in a collection under the holder, made with a body and deleted
    by their own id (a service principal's appRoleAssignedTo: POST with principalId, resourceId and
    appRoleId, DELETE appRoleAssignedTo/{assignment id}; serviceprincipal-post-approleassignedto)."""

    collection: str
    key: str
    """The property of a link that names the far object (principalId)."""
    made: Callable[[str, str], Obj]
    """The body that makes a link, from the holder's id and the far object's."""

    def read_at(self, relationship: str) -> tuple[str, str]:
        return self.collection, self.key

    def add(self, link: Link) -> Request:
        return Request("POST", f"{link.item_path}/{self.collection}", self.made(link.holder_id, link.member_id))

    def remove(self, link: Link) -> Request:
        at = f"{link.item_path}/{self.collection}"
        found = link.read(at, {"$filter": f"{self.key} eq '{link.member_id}'", "$select": "id"})
        # None left (removed since the plan read it): a DELETE of the far object's id there answers 404,
        # which a restore counts as a link already gone.
        return Request("DELETE", f"{at}/{quote(str(found[0]['id']) if found else link.member_id)}")


@dataclass(frozen=True)
class AtCreation(LinkWrite):
    """A single-valued link Graph takes only in the body that makes the object, as {name: {"id": ...}}, and
    no write of the app's changes afterwards (an access package's catalog:
    entitlementmanagement-post-accesspackages; moveToCatalog takes delegated permissions only). A created
    object gets it with its body; a different one on a live object is shown as not restorable in place."""


def value_at(item: Obj, key: str, default: Any = None) -> Any:
    """A property of an item, or a value inside one where the key is dotted (role.originId)."""
    value: Any = item
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


@dataclass(frozen=True)
class SubCollection:
    """Objects Graph keeps in a collection under each object of a type (GET {holder}/{segment}), stored as
    a list in the holder's file, compared item by item by their key, and restored item by item: POST
    {holder}/{segment} adds one, PATCH {holder}/{segment}/{item id} changes it, DELETE removes it, each
    where Graph allows it (else a plan says it cannot, and why)."""

    property: str
    """The list's name in the holder's file (the field hides the builtin in this class: hence builtins.property)."""
    entity: str
    """Graph's metadata type of an item: its properties are decided as a type's are."""
    segment: str | None = None
    """The path under the holder, where it differs from property."""
    key: str | tuple[str, ...] = "id"
    """What identifies an item between snapshot and tenant: a property, or several (an app role assignment
    is who holds which role, as Graph gives a remade one a new id), each maybe a dotted path into the item."""
    keeps: tuple[str, ...] = ()
    """The properties kept of each item (its id among them)."""
    read_only: frozenset[str] = frozenset()
    """Kept, never written; the item's id always is."""
    why_read_only: dict[str, str] = field(default_factory=dict, hash=False)
    create_only: frozenset[str] = frozenset()
    """Taken when the item is made, never changed: a difference is a removal and an addition, where both are allowed."""
    volatile: frozenset[str] = frozenset()
    """Properties Graph changes by itself, and dotted paths to values inside an item's properties (role.id)."""
    not_kept: dict[str, str] = field(default_factory=dict, hash=False)
    """Declared properties no file holds, each with why."""
    add: bool = True
    update: bool = True
    remove: bool = True
    streams: tuple[str, ...] = ()
    """Properties Graph serves as bytes at {item}/{property} (a branding's images): kept as the sha256 of the
    bytes ("sha256:<hex>", left out where Graph has none), read with a request each, never written."""
    cannot_restore: dict[str, str] = field(default_factory=dict, hash=False)
    """Kept read-only properties that no request puts back, each with why (a branding image's CDN address:
    the image's bytes are not in the backup): a difference in one is refused in the plan."""
    id_given: bool = False
    """The item's id is chosen by whoever makes it (an allowed value is its own id, a branding localization
    is its locale): an addition sends it, where Graph otherwise assigns one."""
    why_not: str = ""
    """Why Graph will not add, update or remove items where one of those is False."""
    api_version: str | None = None
    """The API version of its requests, where it differs from the holder's."""
    write_permission: str | None = None
    """The permission its writes need, where it differs from the holder's."""
    delta_tracked: bool = False
    """Whether the holder's delta query reports a change of these items; an incremental snapshot re-reads
    the ones it does not for every holder."""
    expandable: bool = False
    """Whether Graph $expands the items on the holder's collection (at most 20 a holder), as its resource
    page says: then the items of 15 holders are read a request (`$filter=id in (...)`), not a request per
    holder, and only holders with 20 or more are read one by one."""
    added: Callable[[str, Obj], Request] | None = None
    """The request that adds an item where that is no POST {holder}/{segment}, from the holder's id and the
    item as kept (a catalog's resource: a resource request, adminAdd)."""
    removed: Callable[[str, Obj], Request] | None = None
    """The request that removes an item where that is no DELETE of it (a resource request, adminRemove)."""
    expand: str | None = None
    """The $expand of the items' read, where Graph says what an item is only in navigation properties of it (an
    access package's role scopes: the role and the scope each grants)."""
    page_size: int | None = None
    """`$top` for the reads of one holder's items, where Graph takes it: a resource that thousands of users
    hold a role of is read in pages of that many, not of Graph's default 100."""
    with_holder: bool = False
    """Graph takes the items in the body that makes the holder (a workflow's tasks): a holder made again is
    made with them, and one back from a recycle bin has them."""

    @builtins.property
    def path(self) -> str:
        return self.segment or self.property

    @builtins.property
    def keys(self) -> tuple[str, ...]:
        return (self.key,) if isinstance(self.key, str) else self.key

    @builtins.property
    def stored(self) -> frozenset[str]:
        return frozenset(self.keeps) - self.volatile - set(self.not_kept)

    @builtins.property
    def never_written(self) -> frozenset[str]:
        return self.read_only | {"id"}

    def without_volatile_inside(self, item: Obj) -> Obj:
        """The item without the volatile values inside its properties (dotted paths); it must be a copy."""
        for path in self.volatile:
            holder, _, leaf = path.rpartition(".")
            if holder and isinstance(inside := value_at(item, holder), dict):
                inside.pop(leaf, None)
        return item

    def writable(self, item: Obj) -> Obj:
        """The item without what Graph never takes in a write (its id, what only Graph sets)."""
        return {k: v for k, v in item.items() if k not in self.never_written}

    def with_ids_of(self, old: list[Obj], new: list[Obj]) -> list[Obj]:
        """new, where an item is one of old made again (the same key and properties, only the id Graph gave
        it differs: a restore adds back a deleted item so), under old's id: the two are one item, not a
        difference. Where the key is the id, or the id is chosen by whoever makes the item, ids stay."""
        if "id" in self.keys or self.id_given:
            return new
        before = {self.key_of(item): item for item in old}
        return [was if (was := before.get(self.key_of(item))) is not None and was.get("id") != item.get("id")
                and {**item, "id": was.get("id")} == was else item for item in new]

    def made(self, item: Obj) -> Obj:
        """The body that makes the item: what is writable, and its id where whoever makes it chooses that."""
        body = self.writable(item)
        return {"id": item.get("id"), **body} if self.id_given else body

    def key_of(self, item: Obj) -> str:
        """The item's key as one string (several properties joined by "/"): how plans and reports name it."""
        return "/".join(str(value_at(item, k)) for k in self.keys)

    def sorted_items(self, items: list[Obj]) -> list[Obj]:
        # Numbers in their order (a workflow's tasks by executionSequence: 2 before 10), the rest as text.
        return sorted(items, key=lambda item: tuple((0, v, "") if isinstance(v := value_at(item, k, ""), int)
                                                    else (1, 0, str(v)) for k in self.keys))


@dataclass(frozen=True, kw_only=True)
class RefFromMember(LinkWrite):
    """Links written from the far end: POST {member}/{segment}/$ref naming the holder, DELETE
    {member}/{segment}/{holder id}/$ref (an app management policy's appliesTo is written at the application
    or service principal it applies to; appmanagementpolicy-post-appliesto). The member's collection is
    looked up, as the link names only its id."""

    segment: str
    members: tuple[str, ...]
    """The collections a member may be in, looked up in this order."""

    def _member_path(self, link: Link) -> str:
        found = next((c for c in self.members
                      if link.read(c, {"$filter": f"id eq '{link.member_id}'", "$select": "id"})), self.members[0])
        return f"{found}/{quote(link.member_id)}/{self.segment}"

    def add(self, link: Link) -> Request:
        return Request("POST", f"{self._member_path(link)}/$ref", {"@odata.id": link.ref_url(link.holder_id)})

    def remove(self, link: Link) -> Request:
        return Request("DELETE", f"{self._member_path(link)}/{quote(link.holder_id)}/$ref")


# (item path, property, value) -> the request that writes it.
PropertyWrite = Callable[[str, str, Any], Request]


def by_action(action: str) -> PropertyWrite:
    """A property that only an action changes, POSTed {property: value} (an authentication strength's
    allowedCombinations: updateAllowedCombinations)."""
    def write(item_path: str, prop: str, value: Any) -> Request:
        return Request("POST", f"{item_path}/{action}", {prop: value})
    return write


@dataclass(frozen=True)
class Hooks:
    """The code a rare type needs at named points, each optional."""

    write_property: dict[str, PropertyWrite] = field(default_factory=dict, hash=False)
    """Properties Graph changes only through a request of their own, never the object's PATCH."""
    create: Callable[[ObjectType, Obj], Request] | None = None
    """The request that makes an object gone for good again, from its attributes in the snapshot, where
    that is no POST to the collection."""
    delete: Callable[[ObjectType, Obj], Request] | None = None
    """The request that ends a live object the snapshot does not have, where that is no DELETE of it."""
    update: Callable[[ObjectType, str, Obj, Obj], Request] | None = None
    """The request that writes changed properties where Graph's update is no PATCH, from the type, the item
    path, the object as it should be (the live one with the plan's changes) and the properties that differ."""
    made_by: Callable[[Obj], Request | None] | None = None
    """For some objects of the type (given their file), the request that makes one gone for good again in
    place of a POST to the collection: an action that makes others with it, and answers with each under a
    key of its own (applicationTemplates/{id}/instantiate: application, servicePrincipal)."""
    answer_at: str | None = None
    """The key of made_by's answer that holds the object made."""
    makes_too: tuple[tuple[str, str, str], ...] = ()
    """What else made_by's request makes: (its key in the answer, its type, the property it shares with the
    object made, by which the snapshot's is found): an instantiated app's service principal."""


def put_whole(object_type: ObjectType, item_path: str, target: Obj, changed: Obj) -> Request:
    """A PUT of every writable property, where Graph's update replaces the object and requires them all
    (adminconsentrequestpolicy-update, accessreviewscheduledefinition-update): the object as it should be,
    its read-only properties left out; one a file leaves out for being empty is still named, as not set,
    unless it is set only on creation (Graph refuses to be told those again, even as not set)."""
    whole = {k: target.get(k) for k in sorted(object_type.stored - object_type.read_only - {"@odata.type"})
             if k not in object_type.create_only or target.get(k) is not None}
    return Request("PUT", item_path, {**whole, **changed})


_JUSTIFICATION = {"adminAssign": "Restored by entragit", "adminRemove": "Not in the snapshot; removed by entragit restore"}


def schedule_requests(collection: str) -> Hooks:
    """Objects made by an adminAssign request and ended by an adminRemove one, POSTed to a collection of
    schedule requests (unifiedroleeligibilityschedulerequest-post-unifiedroleeligibilityschedulerequests):
    the request names the object by what it grants to whom (match_on) and, to make it, its create_with."""
    def request(action: str, obj: Obj, keys: tuple[str, ...]) -> Request:
        body = {k: obj[k] for k in keys if k in obj}
        return Request("POST", collection, {**body, "action": action, "justification": _JUSTIFICATION[action]})

    return Hooks(
        create=lambda t, obj: request("adminAssign", obj, (*t.match_on, *sorted(t.create_with))),
        delete=lambda t, obj: request("adminRemove", obj, t.match_on),
    )
