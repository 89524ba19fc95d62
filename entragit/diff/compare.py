"""The comparison itself: one object's two states turned into attribute rows and member moves."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jsonpatch

from entragit.canonical import Obj
from entragit.registry import ObjectType, Relationship
from entragit.registry.writes import value_at
from entragit.report.model import AttributeChange, MemberChange, NameLookup, ObjectChange, RecycleState


def _pointer_to_path(pointer: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.lstrip("/").split("/")] if pointer else []


def _lookup(obj: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(obj, dict):
            obj = obj.get(part)
        else:
            return None
    return obj


def _collapse(parts: list[str], old: Obj, new: Obj) -> tuple[str, ...]:
    """Cut a JSON pointer at the first list: a set-like list is reported as a whole value."""
    kept: list[str] = []
    for part in parts:
        if isinstance(_lookup(old, kept), list) or isinstance(_lookup(new, kept), list):
            break
        kept.append(part)
    return tuple(kept)


# Graph's key of a list's elements, where they have one: a credential's keyId, an app role's or a
# permission scope's id (https://learn.microsoft.com/graph/api/resources/passwordcredential,
# .../resources/approle).
_ELEMENT_KEYS = ("keyId", "id")


def _element_key(old: list[Any], new: list[Any]) -> str | None:
    """The key every element of both lists has, or None: the lists are then compared by value."""
    elements = old + new
    return next((key for key in _ELEMENT_KEYS
                 if elements and all(isinstance(e, dict) and e.get(key) is not None for e in elements)), None)


# A list's path -> the properties that key its items, where the registry names them (a sub-collection's).
Keys = dict[str, tuple[str, ...]]


def _elements_moved(old: list[Any], new: list[Any], keys: tuple[str, ...] | None = None
                    ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(added, removed) elements. Keyed elements are matched by key, so a changed credential shows as its
    old form removed and its new form added, side by side, not as two whole lists."""
    found = _element_key(old, new)
    keys = keys or ((found,) if found else None)
    if keys is None or not all(isinstance(e, dict) for e in old + new):
        return tuple(e for e in new if e not in old), tuple(e for e in old if e not in new)
    before = {tuple(str(value_at(e, k)) for k in keys): e for e in old}
    after = {tuple(str(value_at(e, k)) for k in keys): e for e in new}
    return (tuple(e for k, e in after.items() if before.get(k) != e),
            tuple(e for k, e in before.items() if after.get(k) != e))


def _leaf_rows(path: tuple[str, ...], old: Any, new: Any, keys: Keys) -> Iterable[AttributeChange]:
    """A change to a nested object becomes one row per changed leaf, so the row names what changed; a
    changed list also says which elements it gained and lost."""
    if old == new:
        return
    if isinstance(old, list | None) and isinstance(new, list | None):
        added, removed = _elements_moved(old or [], new or [], keys.get(".".join(path)))
        yield AttributeChange(".".join(path), old, new, added, removed)
        return
    if isinstance(old, dict) or isinstance(new, dict):
        if (old is None or isinstance(old, dict)) and (new is None or isinstance(new, dict)):
            old_d, new_d = old or {}, new or {}
            for key in sorted(set(old_d) | set(new_d)):
                yield from _leaf_rows(path + (key,), old_d.get(key), new_d.get(key), keys)
            return
    yield AttributeChange(".".join(path), old, new)


def attribute_changes(old: Obj, new: Obj, keys: Keys | None = None) -> list[AttributeChange]:
    """Rows for the differences between two attribute maps, found with an RFC 6902 patch; keys: the lists
    whose items are matched by the properties named, not by Graph's usual keyId or id."""
    paths: set[tuple[str, ...]] = set()
    for op in jsonpatch.make_patch(old, new).patch:
        for pointer in (op.get("path"), op.get("from")):
            if pointer is not None:
                paths.add(_collapse(_pointer_to_path(pointer), old, new))
    # A shorter path covers its longer ones (an object replaced as a whole).
    roots = {p for p in paths if not any(p[: len(q)] == q and p != q for q in paths)}
    rows: list[AttributeChange] = []
    for parts in sorted(roots):
        rows.extend(_leaf_rows(parts, _lookup(old, list(parts)), _lookup(new, list(parts)), keys or {}))
    return rows


def split_relations(object_type: ObjectType, obj: Obj | None) -> tuple[Obj, dict[str, Any]]:
    """An object's own attributes apart from its relationships (single-valued ones stay attributes)."""
    if obj is None:
        return {}, {}
    many = {r.name for r in object_type.relationships if r.many}
    return {k: v for k, v in obj.items() if k not in many}, {k: obj.get(k, []) for k in many}


def same_items_same_ids(object_type: ObjectType, old: Obj | None, new: Obj | None) -> Obj | None:
    """new, its sub-collections' items that old has under another id Graph gave (an item a restore added
    back) under old's ids: the id is kept in a file, for deletes, but is no difference between two states."""
    if old is None or new is None:
        return new
    found = {sub.property: sub.with_ids_of(old[sub.property], new[sub.property])
             for sub in object_type.sub_collections if sub.property in old and sub.property in new}
    return {**new, **found} if found else new


def compare(object_type: ObjectType, object_id: str, old: Obj | None, new: Obj | None,
            names: NameLookup | None) -> ObjectChange | None:
    """The change of one object; names are looked up for its members unless names is None (the caller
    then names them all at once)."""
    new = same_items_same_ids(object_type, old, new)
    if old == new:
        return None
    old_attrs, old_rel = split_relations(object_type, old)
    new_attrs, new_rel = split_relations(object_type, new)
    change = "added" if old is None else "removed" if new is None else "modified"
    shown = (new or old or {}).get(object_type.display_key)
    keys = {s.property: s.keys for s in object_type.sub_collections}
    result = ObjectChange(object_type.name, object_id, shown, change, attribute_changes(old_attrs, new_attrs, keys))
    for rel, action, member_id in moves(object_type, old_rel, new_rel):
        found = names(member_id, rel.member_types) if names else None
        result.members.append(MemberChange(rel.name, action, member_id,
                                           found[1] if found else None, found[0] if found else None))
    return result


def moves(object_type: ObjectType, old_rel: dict[str, Any],
           new_rel: dict[str, Any]) -> Iterator[tuple[Relationship, str, str]]:
    """(relationship, "removed" or "added", member id) for every member that left or joined."""
    for rel in object_type.relationships:
        if not rel.many:
            continue
        before, after = set(old_rel.get(rel.name, [])), set(new_rel.get(rel.name, []))
        for action, ids in (("removed", before - after), ("added", after - before)):
            for member_id in sorted(ids):
                yield rel, action, member_id


@dataclass
class Pair:
    """One object as a report compares it: its two states, and what became of it in between."""

    object_type: ObjectType
    object_id: str
    old: Obj | None
    new: Obj | None
    deleted_at: str | None = None
    """Set when the object is back after a deletion; old is then its state before the deletion."""
    recycle: RecycleState | None = None
