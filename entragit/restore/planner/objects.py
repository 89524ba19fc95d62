"""Planning the writes to an object itself: its properties (PATCH, or the action that writes one), the items
written one by one at their own path, app roles disabled before removal, its creation and its deletion.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any
from urllib.parse import quote

from entragit.canonical import Obj
from entragit.diff import attribute_changes, split_relations
from entragit.registry import REGISTRY, ObjectType
from entragit.registry.writes import AtCreation, Request
from entragit.report.model import AttributeChange
from entragit.restore.kinds import StepKind
from entragit.restore.model import AS_RESTORED
from entragit.restore.planner.state import PlanState, get_path


def _set_path(target: Obj, parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            nxt = target[part] = {}
        target = nxt
    if value is None:
        target.pop(parts[-1], None)
    else:
        target[parts[-1]] = copy.deepcopy(value)


def _target(live: Obj, desired: Obj, filters: tuple[str, ...]) -> Obj:
    """The state to write: desired as a whole, or live with only the filtered attribute paths put back."""
    if not filters:
        return desired
    target = copy.deepcopy(live)
    for path in filters:
        parts = path.split(".")
        _set_path(target, parts, get_path(desired, parts))
    return target



def _cleared(target: Any, live: Any) -> Any:
    """target with every key that live has and target lacks said as cleared ([] for a list, else null), at
    every depth: a Graph that merges a PATCH into what it holds keeps any key left out."""
    if not isinstance(live, dict) or not (target is None or isinstance(target, dict)):
        return target
    cleared: dict[str, Any] = {k: [] if isinstance(v, list) else None for k, v in live.items()}
    for k, v in (target or {}).items():
        cleared[k] = _cleared(v, live.get(k))
    return cleared


def _wire(object_type: ObjectType, key: str, target: Any, live: Any) -> Any:
    """The value to PATCH for a property: canonical files leave "not set" out, Graph needs it said."""
    if key in object_type.merge_properties and isinstance(live, dict):
        return _cleared(target, live)
    if target is None:
        return [] if isinstance(live, list) else None
    return target


def made_with(object_type: ObjectType, obj: Obj) -> Obj:
    """The links Graph takes only in the body that makes the object ({"catalog": {"id": ...}})."""
    return {r.name: {"id": obj[r.name]} for r in object_type.relationships
            if isinstance(r.write, AtCreation) and obj.get(r.name)}


class Objects(PlanState):
    """The writes to an object itself."""

    def _plan_properties(self, object_type: ObjectType, object_id: str, name: str | None, desired: Obj,
                         live: Obj, path_id: str, resend: frozenset[str] = frozenset()) -> None:
        if object_type.reset_action is not None and not self.attributes:
            flag, action = object_type.reset_action
            if desired.get(flag) is True and live.get(flag) is not True:
                # The snapshot holds Graph's own defaults: the action puts back all of it at once.
                self.step(StepKind.RESET, object_type, object_id, name, "POST", f"{object_type.item_path(path_id)}/{action}", {})
                return
        live_attrs, _ = split_relations(object_type, live)
        desired_attrs, _ = split_relations(object_type, desired)
        left_out = ({r.name for r in object_type.relationships if not r.many} | set(object_type.credentials)
                    | object_type.written_per_item | set(object_type.moved) | object_type.sub_collection_names)
        live_attrs = {k: v for k, v in live_attrs.items() if k not in left_out}
        desired_attrs = {k: v for k, v in desired_attrs.items() if k not in left_out}
        target = _target(live_attrs, desired_attrs, self.attributes)
        body: dict[str, Any] = {}
        shown: list[AttributeChange] = []
        actions: dict[str, list[AttributeChange]] = {}
        for row in attribute_changes(live_attrs, target):
            key = row.path.split(".")[0]
            if key in object_type.hooks.write_property:
                actions.setdefault(key, []).append(row)
                continue
            if key in object_type.read_only or key in object_type.create_only:
                kind = "read-only" if key in object_type.read_only else "set only when the object is created"
                why = object_type.why_read_only.get(key)
                kind = f"{kind} ({why})" if why else kind
                self.block(object_type, object_id, name, row.path,
                           f"{kind}; Graph refuses to change it ({row.old!r} now, {row.new!r} in the snapshot)")
                continue
            if key in object_type.one_way and target.get(key) != object_type.one_way[key]:
                self.block(object_type, object_id, name, row.path,
                           f"Graph changes it only to {object_type.one_way[key]!r}, never back "
                           f"({row.old!r} now, {row.new!r} in the snapshot)")
                continue
            body[key] = _wire(object_type, key, target.get(key), live_attrs.get(key))
            shown.append(row)
        for key, rows in actions.items():
            request = object_type.hooks.write_property[key](
                object_type.item_path(path_id), key, _wire(object_type, key, target.get(key), live_attrs.get(key)))
            self.step(StepKind.PATCH, object_type, object_id, name, request.method, request.path, request.body,
                      changes=tuple(rows))
        for path in object_type.references:
            # A property naming an object that this plan makes again must be written even where it reads
            # the same: the old id it holds is rewritten to the new one when the plan is applied.
            key = path.split(".")[0]
            named = get_path(target, path.split("."))
            if key not in body and set(named if isinstance(named, list) else [named]) & self.created:
                body[key] = target[key]
                shown.append(AttributeChange(path, named, named))
        for key in sorted(resend):
            if key not in body and target.get(key) is not None and self.selection.writes_attribute(key):
                body[key] = target[key]
                shown.append(AttributeChange(key, AS_RESTORED, target[key]))
        if body:
            for key in object_type.always_send:
                body.setdefault(key, desired.get(key))
            for together in object_type.written_together:
                if set(together) & set(body):
                    for key in together:
                        # As the snapshot has it, even where --attribute left it out: Graph needs it.
                        body.setdefault(key, _wire(object_type, key, desired_attrs.get(key), live_attrs.get(key)))
            self._disable_first(object_type, object_id, name, live_attrs, target, path_id)
            if object_type.hooks.update is not None:
                request = object_type.hooks.update(object_type, object_type.item_path(path_id), target, body)
                # Links Graph takes only in a whole body (an assignment policy's access package) go with it.
                request = dataclasses.replace(request, body={**(request.body or {}), **made_with(object_type, desired)})
                self.step(StepKind.PATCH, object_type, object_id, name, request.method, request.path, request.body,
                          changes=tuple(shown))
                return
            self.step(StepKind.PATCH, object_type, object_id, name, "PATCH", object_type.item_path(path_id), body,
                      changes=tuple(shown))

    def _plan_items(self, object_type: ObjectType, object_id: str, name: str | None, desired: Obj, live: Obj) -> None:
        """Sub-objects written one by one at their own path (a PIM policy's rules)."""
        for prop in sorted(object_type.written_per_item):
            want = {item.get("id"): item for item in desired.get(prop, [])}
            have = {item.get("id"): item for item in live.get(prop, [])}
            for item_id in sorted(set(want) ^ set(have), key=str):
                self.block(object_type, object_id, name, f"{prop}: {item_id}",
                           "Graph offers a fixed set of these; one cannot be added or removed, only changed")
            for item_id in sorted(set(want) & set(have), key=str):
                target = _target(have[item_id], want[item_id], tuple(
                    f.removeprefix(f"{prop}.") for f in self.attributes if f.startswith(f"{prop}.")))
                rows = attribute_changes(have[item_id], target)
                if not rows or not self.selection.writes_attribute(prop):
                    continue
                keys = sorted({row.path.split(".")[0] for row in rows})
                body = {"@odata.type": want[item_id].get("@odata.type"),
                        **{k: _wire(object_type, k, target.get(k), have[item_id].get(k)) for k in keys}}
                changes = tuple(AttributeChange(f"{prop}.{item_id}.{row.path}", row.old, row.new) for row in rows)
                self.step(StepKind.PATCH, object_type, object_id, name, "PATCH",
                          f"{object_type.item_path(object_id)}/{prop}/{quote(str(item_id))}", body, changes=changes)

    def _disable_first(self, object_type: ObjectType, object_id: str, name: str | None, live: Obj, target: Obj,
                       path_id: str) -> None:
        """Graph deletes an enabled app role or scope only once it is disabled: a first PATCH does that."""
        body: dict[str, Any] = {}
        removed: list[str] = []
        for path, flag in object_type.disable_before_removal.items():
            parts = path.split(".")
            kept = {item.get("id") for item in get_path(target, parts) or []}
            current = copy.deepcopy(get_path(live, parts) or [])
            going = [item for item in current if item.get(flag) and item.get("id") not in kept]
            if not going:
                continue
            for item in going:
                item[flag] = False
                removed.append(f"{path}: {item.get('value') or item.get('id')}")
            if len(parts) == 1:
                body[parts[0]] = current
            else:
                if parts[0] not in body:
                    body[parts[0]] = copy.deepcopy(live.get(parts[0]) or {})
                _set_path(body[parts[0]], parts[1:], current)
        if body:
            self.step(StepKind.DISABLE, object_type, object_id, name, "PATCH", object_type.item_path(path_id), body,
                      detail=", ".join(removed))


    def _plan_create(self, object_type: ObjectType, object_id: str, name: str | None, desired: Obj) -> None:
        self.created.add(object_id)
        attrs, _ = split_relations(object_type, desired)
        if object_type.hooks.create is not None:
            request = object_type.hooks.create(object_type, attrs)
            self.step(StepKind.CREATE, object_type, object_id, name, request.method, request.path, request.body)
            return
        singles = {r.name for r in object_type.relationships if not r.many}
        writable_anyway = object_type.create_with | set(object_type.always_send)
        body = {k: v for k, v in attrs.items() if k not in singles and k not in object_type.sub_collection_names
                and (k not in object_type.read_only or k in writable_anyway)}
        body.update(made_with(object_type, attrs))
        body.update((sub.property, [sub.made(item) for item in attrs[sub.property]])
                    for sub in object_type.sub_collections if sub.with_holder and sub.property in attrs)
        assigns: tuple[tuple[str, str], ...] = ((object_type.key, object_id),) if object_type.key == "id" else ()
        assigns += tuple((p, str(attrs[p])) for p in object_type.assigned_on_create if p in attrs)
        made_by = object_type.hooks.made_by(attrs) if object_type.hooks.made_by else None
        if made_by is not None:
            self._plan_made_by(object_type, object_id, name, attrs, body, assigns, made_by)
            return
        if object_type.create == "patch":
            self.step(StepKind.CREATE, object_type, object_id, name, "PATCH", object_type.item_path(object_id), body)
            return
        later = {k: body.pop(k) for k in sorted(object_type.written_after_create) if k in body}
        self.step(StepKind.CREATE, object_type, object_id, name, "POST", object_type.collection, body, assigns=assigns)
        if later:
            # Values naming what Graph assigns on creation (api://<appId>) are written once it has.
            self.step(StepKind.PATCH, object_type, object_id, name, "PATCH", object_type.item_path(object_id), later,
                      changes=tuple(AttributeChange(k, None, v) for k, v in later.items()))

    def _plan_made_by(self, object_type: ObjectType, object_id: str, name: str | None, attrs: Obj, body: Obj,
                      assigns: tuple[tuple[str, str], ...], made_by: Request) -> None:
        """An object made by an action that makes others with it (an app instantiated from its template, with
        its service principal): the action, then a PATCH of what the action does not take."""
        for key, type_name, shared in object_type.hooks.makes_too:
            for other_id, other in self.snapshot_of(REGISTRY[type_name]).items():
                if shared in attrs and other.get(shared) == attrs[shared]:
                    assigns += ((f"{key}.id", other_id),)
                    self.made_along[other_id] = object_id
        self.step(StepKind.CREATE, object_type, object_id, name, made_by.method, made_by.path, made_by.body,
                  assigns=assigns)
        rest = {k: v for k, v in body.items() if k not in (made_by.body or {})}
        if rest:
            self.step(StepKind.PATCH, object_type, object_id, name, "PATCH", object_type.item_path(object_id), rest,
                      changes=tuple(AttributeChange(k, None, v) for k, v in rest.items()))

    def plan_made_along(self, object_type: ObjectType, object_id: str, name: str | None, desired: Obj) -> None:
        """An object another creation of this plan makes too: its settings written once it exists. What Graph
        sets of it by itself (its read-only and create-only properties) is taken to be as the snapshot has it."""
        given = {k: v for k, v in desired.items() if k in object_type.read_only | object_type.create_only}
        self._plan_properties(object_type, object_id, name, desired, given, object_id)

    # --- objects the snapshot does not have ---------------------------------------------------------------

    def plan_extra(self, object_type: ObjectType, live_id: str, live: Obj) -> None:
        name = live.get(object_type.display_key)
        # What the object names (a role assignment's principal and role) is shown with the deletion, with
        # names beside the ids: often it is all that says what is deleted.
        named = tuple(AttributeChange(path, value, None) for path in object_type.references
                      if (value := get_path(live, path.split("."))) not in (None, []))
        if object_type.hooks.delete is not None:
            request = object_type.hooks.delete(object_type, live)
            self.step(StepKind.DELETE, object_type, live_id, name, request.method, request.path, request.body,
                      changes=named)
        else:
            self.step(StepKind.DELETE, object_type, live_id, name, "DELETE", object_type.item_path(live_id), None,
                      changes=named)
