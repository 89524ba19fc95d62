"""Planning around references (a property naming another object by id, such as a CA policy's excluded
group): failing closed on one to an object that is gone for good, and following an object made again under
a new id into the objects that still name the old one.
"""

from __future__ import annotations

from typing import Any

from entragit.canonical import Obj, canonical
from entragit.errors import GraphError
from entragit.graph import BatchItem
from entragit.live import fetch_type
from entragit.registry import REGISTRY, ObjectType
from entragit.report.model import AttributeChange
from entragit.restore.kinds import StepKind
from entragit.restore.model import GUID, Step, rewrite
from entragit.restore.planner.objects import Objects
from entragit.restore.planner.state import get_path, listed, live_listing, match_key


class References(Objects):
    """References between objects, when one comes back under a new id or not at all."""

    def check_references(self) -> None:
        """A reference to an object that is neither in the tenant nor brought back by this plan would be
        dropped by Graph without a word (a CA policy losing an excluded group): such a write is held back."""
        coming = {s.id for s in self.steps.values() if s.kind.brings_back}
        wanted: dict[tuple[tuple[str, str, str], str], tuple[Step, str, tuple[str, ...]]] = {}
        for key, step in self.steps.items():
            object_type = REGISTRY[step.type]
            if step.kind not in (StepKind.CREATE, StepKind.PATCH) or not object_type.references or step.body is None:
                continue
            for path, types in object_type.references.items():
                value = get_path(step.body, path.split("."))
                for ref in value if isinstance(value, list) else [value]:
                    if isinstance(ref, str) and GUID.fullmatch(ref) and ref not in coming:
                        wanted[(key, ref)] = (step, path, types)
        unresolved = self._absent({ref for _, ref in wanted}, {t for _, _, types in wanted.values() for t in types})
        for (key, ref), (step, path, _types) in wanted.items():
            if ref not in unresolved:
                continue
            self.steps.pop(key, None)
            shown = self._name_of(ref)
            self.block(REGISTRY[step.type], step.id, step.name, f"{path}: {shown or ref} ({ref})",
                       f"{ref} is neither in the tenant nor brought back by this plan; restore it too "
                       f"(--id {ref}), or Graph would drop it from the {REGISTRY[step.type].singular}. "
                       "Nothing is written for this object")

    def _renamed(self, selected: dict[ObjectType, list[str]]) -> dict[str, ObjectType]:
        """Old id -> type of each selected object that has a new id: made again by this plan, or by an
        earlier apply (the id_map; a re-plan after it sees the new id)."""
        made = {old for step in self.steps.values() if step.kind is StepKind.CREATE
                for prop, old in step.assigns if prop == REGISTRY[step.type].key}
        return {self._snapshot_ids.get(i, i): object_type for object_type, ids in selected.items() for i in ids
                if i in made or i in self._snapshot_ids}

    def follow_references(self, selected: dict[ObjectType, list[str]]) -> None:
        """Live objects outside the selection that still name an object made again under a new id keep
        a dead id (a CA policy excluding a break-glass group would exclude nobody): each gets a write of
        that reference alone, the rest of the property as it is live. Graph takes a complex property
        whole, so the live value is sent with the old id in it, rewritten to the new one when applied."""
        renamed = self._renamed(selected)
        if not renamed:
            return
        renamed_types = {object_type.name for object_type in renamed.values()}
        for holder_type in REGISTRY.values():
            paths = [path for path, types in holder_type.references.items() if renamed_types & set(types)]
            if not paths:
                continue
            chosen = set(selected.get(holder_type, []))
            if holder_type.match_on:
                self._grant_again(holder_type, paths, renamed, chosen)
                continue
            for holder_id, raw in sorted(live_listing(self.client, holder_type, whole=True).items()):
                if holder_id not in chosen:
                    self._rewrite_references(holder_type, holder_id, raw, paths, renamed)

    def _grant_again(self, grant_type: ObjectType, paths: list[str], renamed: dict[str, ObjectType],
                     chosen: set[str]) -> None:
        """A grant known by what it grants to whom (a role assignment to a recreated group) has no reference
        to change: it is made again naming the new id, from a live grant still naming the old one, else
        from the snapshot's (Graph may end a grant with its principal). A grant left naming the dead id
        is left alone: it grants nothing."""
        def named(obj: Obj) -> set[Any]:
            return {value for path in paths for value in listed(get_path(obj, path.split(".")))}

        # An earlier apply's new ids are in the snapshot as read; a live grant is read through them too.
        now = {self.id_map.get(old, old) for old in renamed}
        live = fetch_type(self.client, grant_type)
        live_keys = {match_key(grant_type, obj) for obj in live.values()}
        wanted: dict[tuple[Any, ...], tuple[str, Obj]] = {}
        for source in (self.snapshot_of(grant_type), {i: rewrite(o, self.id_map) for i, o in live.items()}):
            for grant_id, obj in source.items():
                if grant_id not in chosen and named(obj) & now:
                    wanted[match_key(grant_type, obj)] = (grant_id, obj)
        for key, (grant_id, obj) in sorted(wanted.items(), key=lambda item: item[1][0]):
            # One naming an id this plan gives anew is never there yet (one naming the old id grants nothing).
            if key not in live_keys or named(obj) & renamed.keys() - self.id_map.keys():
                self._plan_create(grant_type, grant_id, obj.get(grant_type.display_key), obj)

    def _rewrite_references(self, holder_type: ObjectType, holder_id: str, raw: Obj, paths: list[str],
                            renamed: dict[str, ObjectType]) -> None:
        """raw: the object as Graph returned it, so that what the write sends back is the live value itself
        (canonical form leaves out empty values, which a whole-property write would then clear)."""
        changes: list[AttributeChange] = []
        for path in paths:
            for old in sorted(set(listed(get_path(raw, path.split(".")))) & renamed.keys()):
                changes.append(AttributeChange(path, old, self.id_map.get(old)))
        if not changes:
            return
        # What a saved plan checks has not moved; a type naming others by reference has no links of its
        # own to read (were it to have some, the saved plan would fail closed, as moved).
        self._live_cache[(holder_type.name, holder_id)] = canonical(holder_type, raw)
        body = {key: rewrite(raw[key], self.id_map) for key in sorted({c.path.split(".")[0] for c in changes})}
        for key in holder_type.always_send:
            body.setdefault(key, raw.get(key))
        self.step(StepKind.REWRITE, holder_type, holder_id, raw.get(holder_type.display_key), "PATCH",
                  holder_type.item_path(holder_id), body, changes=tuple(changes))

    def note_referrers_left_behind(self, selected: dict[ObjectType, list[str]]) -> None:
        """Objects outside the plan whose files name an object it makes again keep the old id: say so."""
        if not self.created:
            return
        for object_type in REGISTRY.values():
            if not object_type.references:
                continue
            chosen = set(selected.get(object_type, []))
            for object_id, obj in self.snapshot_of(object_type).items():
                if object_id in chosen:
                    continue
                for path in object_type.references:
                    named = get_path(obj, path.split("."))
                    for ref in sorted(set(named if isinstance(named, list) else [named]) & self.created):
                        self.block(object_type, object_id, obj.get(object_type.display_key), f"{path}: {ref}",
                                   f"names {self._name_of(ref) or ref}, which this plan makes again under a new "
                                   f"id; restore this {object_type.singular} too (--id {object_id}) so that it follows")

    def _absent(self, refs: set[str], type_names: set[str]) -> set[str]:
        missing = set(refs)
        for type_name in sorted(type_names):
            if not missing:
                break
            object_type = REGISTRY[type_name]
            ids = sorted(missing)
            answers = self.client.get_many([BatchItem("GET", object_type.item_path(i), version=object_type.api_version)
                                            for i in ids])
            for ref, answer in zip(ids, answers):
                if not isinstance(answer, GraphError):
                    missing.discard(ref)
                elif not answer.not_found:
                    raise answer
        return missing


