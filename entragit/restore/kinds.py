"""The kinds of write a restore plan makes, and everything that depends on a step's kind, in one place: its
stage, whether it may ride with an earlier write, how a link is sent to Graph, when an error means the write
was already made, what it does to its object (for the risk table) and how it reads in a plan.

A kind's value is the string saved plans and journals have always held ("add-ref"), so they still load.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from entragit.canonical import Obj
from entragit.errors import GraphError
from entragit.graph import GraphClient
from entragit.registry import REGISTRY, ObjectType, Relationship
from entragit.registry.writes import Link, SubCollection

if TYPE_CHECKING:
    from entragit.restore.model import Step

_TIERS = sorted({t.restore_order for t in REGISTRY.values()})


@dataclass(frozen=True)
class _Traits:
    verb: str
    """How describe() names the write; {detail} is the step's detail."""
    stage: int | None
    """Where it goes among the writes to objects that exist (disable 0, properties 1, links to add 2,
    links to remove 3); None for the kinds placed by the object's tier."""
    rides: bool = False
    """It may go out with the earlier write that brings its object back (see send.riders())."""


class StepKind(StrEnum):
    RESTORE = "restore"
    """From a recycle bin, under the same id."""
    CREATE = "create"
    DISABLE = "disable"
    """What the patch after it then removes (Graph deletes only disabled app roles and scopes)."""
    RESET = "reset"
    """To Graph's defaults."""
    PATCH = "patch"
    REWRITE = "rewrite"
    """A reference to an object made again, in an object outside the selection."""
    REMOVE_CREDENTIAL = "remove-credential"
    REMOVE_ITEM = "remove-item"
    """From a sub-collection (registry/writes.py, SubCollection): before any is added, so that an item
    changed by removing and adding it again never meets itself."""
    ADD_ITEM = "add-item"
    SET_REF = "set-ref"
    ADD_REF = "add-ref"
    REMOVE_REF = "remove-ref"
    DELETE_REF = "delete-ref"
    DELETE = "delete"

    @property
    def _traits(self) -> _Traits:
        return _TRAITS[self]

    @property
    def brings_back(self) -> bool:
        """The object is not in the tenant until this write: every other write to it comes after."""
        return self in (StepKind.RESTORE, StepKind.CREATE)

    @property
    def rides(self) -> bool:
        return self._traits.rides

    def verb(self, detail: str | None = None) -> str:
        return self._traits.verb.format(detail=detail)

    def stage(self, object_type: ObjectType) -> int:
        """Objects back tier by tier, then properties, links to add, links to remove (so a group never has
        fewer owners than both ends), then deletions, the most dependent objects first."""
        tier = _TIERS.index(object_type.restore_order)
        if self.brings_back:
            return tier
        if self is StepKind.DELETE:
            return 2 * len(_TIERS) + 3 - tier
        return len(_TIERS) + (self._traits.stage or 0)

    def already_done(self, error: GraphError) -> bool:
        """A link write that fails because the link is already as wanted: a re-run after an interruption, or
        a link a recycle-bin restore brought back with its object."""
        if self is StepKind.ADD_REF and error.status == 400 and "already exist" in error.graph_message:
            return True
        if self is StepKind.ADD_ITEM and error.status == 409:
            return True
        return self in (StepKind.REMOVE_REF, StepKind.DELETE_REF, StepKind.REMOVE_ITEM) and error.status == 404


_TRAITS = {
    StepKind.RESTORE: _Traits("restore from the recycle bin", None),
    StepKind.CREATE: _Traits("create", None),
    StepKind.DISABLE: _Traits("disable, to remove,", 0),
    StepKind.RESET: _Traits("reset to Graph's defaults", 1, rides=True),
    StepKind.PATCH: _Traits("PATCH", 1, rides=True),
    StepKind.REWRITE: _Traits("rewrite the references to recreated objects in", 1),
    StepKind.REMOVE_CREDENTIAL: _Traits("remove {detail} from", 1, rides=True),
    StepKind.REMOVE_ITEM: _Traits("remove {detail} from", 1, rides=True),
    StepKind.ADD_ITEM: _Traits("add {detail} to", 2, rides=True),
    StepKind.SET_REF: _Traits("set", 2, rides=True),
    StepKind.ADD_REF: _Traits("add", 2, rides=True),
    StepKind.REMOVE_REF: _Traits("remove", 3),
    StepKind.DELETE_REF: _Traits("clear", 3),
    StepKind.DELETE: _Traits("delete", None),
}


def link_request(kind: StepKind, client: GraphClient, holder_type: ObjectType, holder_id: str, rel: Relationship,
                 member_id: str) -> tuple[str, str, dict[str, Any] | None]:
    """How Graph is asked to make or undo one link, as the relationship's write strategy says: method, path
    and body."""
    link = Link(holder_id, holder_type.item_path(holder_id), rel.name, member_id,
                lambda other: client.ref_url(rel.ref_collection, other),
                lambda path, query: list(client.iter_collection(path, query, version=holder_type.api_version)))
    request = rel.write.add(link) if kind in (StepKind.ADD_REF, StepKind.SET_REF) else rel.write.remove(link)
    return request.method, request.path, request.body


# Keys of a schedule request's body that are no property of the object it makes or ends.
_REQUEST_ONLY = frozenset({"action", "justification"})


def effect(step: Step, before: Obj | None) -> Obj | None:
    """The object (canonical, None when absent) as this step leaves it, from how it was before: what the
    risk rules judge. A recycle-bin restore or a reset to defaults changes what only Graph knows; a
    creation's ids are the snapshot's, as the plan names them."""
    if step.kind is StepKind.DELETE:
        return None
    object_type = REGISTRY[step.type]
    after = copy.deepcopy(before) if before is not None else {}
    if step.member is not None:
        rel, member_id, _ = step.member
        if step.kind is StepKind.SET_REF:
            after[rel] = member_id
        elif step.kind is StepKind.DELETE_REF:
            after.pop(rel, None)
        else:
            members = set(after.get(rel) or []) - {member_id}
            after[rel] = sorted(members | ({member_id} if step.kind is StepKind.ADD_REF else set()))
        return after
    body = {k: v for k, v in (step.body or {}).items() if k not in _REQUEST_ONLY}
    if step.kind is StepKind.REMOVE_CREDENTIAL:
        for prop in object_type.credentials:
            after[prop] = [c for c in after.get(prop) or [] if c.get("keyId") != body.get("keyId")]
        return after
    if (found := _in_sub_collection(object_type, step)) is not None:
        sub, item_id = found
        items = after.get(sub.property) or []
        if step.kind is StepKind.ADD_ITEM:
            after[sub.property] = sub.sorted_items([*items, body])
        elif step.kind is StepKind.REMOVE_ITEM:
            after[sub.property] = [item for item in items if item.get("id") != item_id]
        else:
            after[sub.property] = [{**item, **body} if item.get("id") == item_id else item for item in items]
        return after
    for prop in object_type.written_per_item:
        prefix = f"{object_type.item_path(step.id)}/{prop}/"
        if step.path.startswith(prefix):
            item_id = unquote(step.path[len(prefix):])
            after[prop] = [{**item, **body} if item.get("id") == item_id else item for item in after.get(prop) or []]
            return after
    for key, value in body.items():
        if key in object_type.merge_properties and isinstance(value, dict):
            value = {k: v for k, v in {**(after.get(key) or {}), **value}.items() if v is not None}
        if value is None or value == [] or value == {}:
            after.pop(key, None)
        else:
            after[key] = value
    return after


def _in_sub_collection(object_type: ObjectType, step: Step) -> tuple[SubCollection, str | None] | None:
    """The sub-collection a step writes, and the id of the item it names (None: it adds one)."""
    for sub in object_type.sub_collections:
        at = f"{object_type.item_path(step.id)}/{sub.path}"
        if step.path == at:
            return sub, None
        if step.path.startswith(f"{at}/"):
            return sub, unquote(step.path[len(at) + 1:])
    return None


def version_of(step: Step) -> str:
    """The API version a step's request goes to: its type's, or its sub-collection's where that differs."""
    object_type = REGISTRY[step.type]
    found = _in_sub_collection(object_type, step)
    return (found[0].api_version if found else None) or object_type.api_version
