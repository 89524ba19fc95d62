"""Planning the items of an object's sub-collections (registry/writes.py, SubCollection): each matched
between snapshot and tenant by its key, then added (POST {holder}/{segment}), changed (PATCH .../{item
id}), removed (DELETE .../{item id}), or, where Graph allows none of that, refused with why.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from entragit.canonical import Obj
from entragit.diff import attribute_changes
from entragit.registry import ObjectType
from entragit.registry.writes import Request, SubCollection
from entragit.report.model import AttributeChange
from entragit.restore.kinds import StepKind
from entragit.restore.planner.state import PlanState


class Items(PlanState):
    """The items of an object's sub-collections."""

    def _plan_sub_collections(self, object_type: ObjectType, object_id: str, name: str | None, desired: Obj,
                              live: Obj | None, missing: bool = False) -> None:
        """missing: the holder is not in the tenant, and is made again or brought back from a bin."""
        for sub in object_type.sub_collections:
            if not self.selection.writes_attribute(sub.property) or (missing and sub.with_holder):
                continue
            # --attribute <list>.<key>: only those items.
            chosen = {f.removeprefix(f"{sub.property}.") for f in self.attributes if f.startswith(f"{sub.property}.")}
            want = {sub.key_of(i): i for i in desired.get(sub.property, []) if not chosen or sub.key_of(i) in chosen}
            have = {sub.key_of(i): i for i in (live or {}).get(sub.property, []) if not chosen or sub.key_of(i) in chosen}
            plan = _ItemPlan(self, object_type, object_id, name, sub)
            for key in sorted(set(have) - set(want)):
                plan.remove(key, have[key], "added since the snapshot")
            for key in sorted(set(want) - set(have)):
                plan.add(key, want[key], "removed since the snapshot")
            for key in sorted(set(want) & set(have)):
                plan.change(key, want[key], have[key])


class _ItemPlan:
    """The steps and refusals for one sub-collection of one object."""

    def __init__(self, state: PlanState, object_type: ObjectType, object_id: str, name: str | None,
                 sub: SubCollection) -> None:
        self.state, self.object_type, self.object_id, self.name, self.sub = state, object_type, object_id, name, sub
        self.at = f"{object_type.item_path(object_id)}/{sub.path}"

    def _refuse(self, key: str, what: str, verb: str) -> None:
        why = f": {self.sub.why_not}" if self.sub.why_not else ""
        self.state.block(self.object_type, self.object_id, self.name, f"{self.sub.property}: {key}",
                         f"{what}, and Graph does not {verb} one{why}")

    def _label(self, key: str) -> str:
        return f"{self.sub.property} {key}"

    def _unrestorable(self, key: str, want: Obj, have: Obj) -> None:
        for prop, why in sorted(self.sub.cannot_restore.items()):
            if want.get(prop) != have.get(prop):
                self.state.block(self.object_type, self.object_id, self.name, f"{self.sub.property}: {key}.{prop}",
                                 f"changed since the snapshot, and no request puts it back: {why}")

    def add(self, key: str, item: Obj, what: str) -> None:
        if not self.sub.add:
            self._refuse(key, what, "add")
            return
        self._unrestorable(key, item, {})
        body = self.sub.made(item)
        request = self.sub.added(self.object_id, body) if self.sub.added is not None else Request("POST", self.at, body)
        self.state.step(StepKind.ADD_ITEM, self.object_type, self.object_id, self.name, request.method, request.path,
                        request.body, detail=self._label(key),
                        changes=(AttributeChange(f"{self.sub.property}.{key}", None, item),))

    def remove(self, key: str, item: Obj, what: str) -> None:
        if not self.sub.remove:
            self._refuse(key, what, "remove")
            return
        request = (self.sub.removed(self.object_id, item) if self.sub.removed is not None
                   else Request("DELETE", f"{self.at}/{quote(str(item.get('id')))}"))
        self.state.step(StepKind.REMOVE_ITEM, self.object_type, self.object_id, self.name, request.method,
                        request.path, request.body, detail=self._label(key),
                        changes=(AttributeChange(f"{self.sub.property}.{key}", item, None),))

    def change(self, key: str, want: Obj, have: Obj) -> None:
        self._unrestorable(key, want, have)
        # What Graph keeps of its own (the item's id, a principal's name) is no difference to write.
        target, now = self.sub.writable(want), self.sub.writable(have)
        rows = attribute_changes(now, target)
        if not rows:
            return
        keys = sorted({row.path.split(".")[0] for row in rows})
        if self.sub.update and not set(keys) & self.sub.create_only:
            body: dict[str, Any] = {k: target.get(k, [] if isinstance(now.get(k), list) else None) for k in keys}
            changes = tuple(AttributeChange(f"{self.sub.property}.{key}.{row.path}", row.old, row.new) for row in rows)
            self.state.step(StepKind.PATCH, self.object_type, self.object_id, self.name, "PATCH",
                            f"{self.at}/{quote(str(have.get('id')))}", body, changes=changes)
        elif self.sub.add and self.sub.remove:
            # Graph changes it only by making it again.
            self.remove(key, have, "changed since the snapshot")
            self.add(key, want, "changed since the snapshot")
        else:
            self._refuse(key, "changed since the snapshot", "change")
