"""Restore: desired state from the files of a commit, live state from Graph, the writes between them.

plan_restore() only reads; apply_plan() only writes what a plan says; verify() plans again and
reports what is still different. A plan is a value the user sees before anything is written.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from entragit.canonical import Obj
from entragit.diff import AttributeChange, Names, attribute_changes, split_relations
from entragit.errors import GraphError, PlanError
from entragit.graph import BATCH_LIMIT, BATCH_WORKERS, BatchItem, GraphClient
from entragit.live import fetch_objects, holders
from entragit.registry import REGISTRY, ObjectType, Relationship, resolve_types
from entragit.store import BackupRepo

# Order of step kinds: objects' own properties first, then links to add, then links to remove, so a
# group never passes through a state with fewer owners than both ends have.
_KIND_ORDER = {"patch": 0, "set-ref": 1, "add-ref": 2, "remove-ref": 3, "delete-ref": 4}

StepKey = tuple[str, str, str]
"""What makes two steps the same write: method, path and, for links, the member."""

# Steps handed to client.batch at once: one $batch per worker. Small enough that an interruption loses
# little (the journal records each slice's outcomes), large enough to keep every worker busy.
WRITE_SLICE = BATCH_LIMIT * BATCH_WORKERS

# Seconds to wait before re-reading objects whose writes are not visible yet (Graph replicates writes
# asynchronously); after the last, what still differs is residue.
SETTLE_WAITS = (0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class Step:
    kind: str
    type: str
    id: str
    name: str | None
    method: str
    path: str
    body: dict[str, Any] | None
    changes: tuple[AttributeChange, ...] = ()
    """For a patch, the attributes it puts back."""
    member: tuple[str, str, str | None] | None = None
    """For a link, (relationship, member id, member name)."""

    @property
    def key(self) -> StepKey:
        return (self.method, self.path, self.member[1] if self.member else "")

    def describe(self) -> str:
        who = f"{self.type}/{self.id} {self.name or ''}".rstrip()
        if self.member is None:
            return f"PATCH {who}"
        rel, member_id, member_name = self.member
        verb = {"add-ref": "add", "remove-ref": "remove", "set-ref": "set", "delete-ref": "clear"}[self.kind]
        return f"{verb} {rel}: {member_name or member_id} ({member_id}) on {who}"


@dataclass(frozen=True)
class Blocked:
    type: str
    id: str
    name: str | None
    what: str
    reason: str


@dataclass
class Plan:
    at: str
    commit: str
    selected: dict[str, list[str]]
    """Type name -> ids of the objects the plan restores."""
    attributes: tuple[str, ...]
    steps: list[Step] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)
    """"type/id" -> fingerprint() of the live object the plan was computed against."""

    @property
    def object_count(self) -> int:
        return sum(len(ids) for ids in self.selected.values())


def fingerprint(obj: Obj | None) -> str:
    """What a plan remembers of a live object, to notice later that it moved."""
    if obj is None:
        return "absent"
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Outcome:
    """How Graph answered one step: the journal records it, a creation's new id is in body["id"]."""

    step: Step
    status: int
    body: dict[str, Any] | None
    error: GraphError | None


@dataclass
class ApplyResult:
    done: list[Step]
    failed: list[tuple[Step, GraphError]]
    residue: Plan


def _matches(path: str, filters: tuple[str, ...]) -> bool:
    return not filters or any(path == f or path.startswith(f + ".") or f.startswith(path + ".") for f in filters)


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


def _get_path(obj: Any, parts: list[str]) -> Any:
    for part in parts:
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _target(live: Obj, desired: Obj, filters: tuple[str, ...]) -> Obj:
    """The state to write: desired as a whole, or live with only the filtered attribute paths put back."""
    if not filters:
        return desired
    target = copy.deepcopy(live)
    for path in filters:
        parts = path.split(".")
        _set_path(target, parts, _get_path(desired, parts))
    return target


def _wire(object_type: ObjectType, key: str, target: Any, live: Any) -> Any:
    """The value to PATCH for a property: canonical files leave "not set" out, Graph needs it said."""
    if key in object_type.merge_properties and isinstance(live, dict):
        # Graph merges these key by key, so every key to clear must be sent as null.
        cleared: dict[str, Any] = {k: None for k in live}
        cleared.update(target or {})
        return cleared
    if target is None:
        return [] if isinstance(live, list) else None
    return target


class _Planner:
    def __init__(self, repo: BackupRepo, client: GraphClient, commit: str, filters: tuple[str, ...]) -> None:
        self.repo = repo
        self.client = client
        self.commit = commit
        self.filters = filters
        self.steps: dict[StepKey, Step] = {}
        self.blocked: list[Blocked] = []
        self._snapshot_cache: dict[str, dict[str, Obj]] = {}
        self._live_cache: dict[tuple[str, str], Obj | None] = {}
        self._holders: dict[tuple[str, str, str], set[str]] = {}
        self._snapshot_holders: dict[tuple[str, str], dict[str, set[str]]] = {}
        self.names = Names(repo, [commit])

    def snapshot_of(self, object_type: ObjectType) -> dict[str, Obj]:
        if object_type.name not in self._snapshot_cache:
            self._snapshot_cache[object_type.name] = self.repo.read_objects(self.commit, object_type)
            self.names.add(object_type, dict(self._snapshot_cache[object_type.name]))
        return self._snapshot_cache[object_type.name]

    def desired_of(self, object_type: ObjectType, ids: list[str]) -> dict[str, Obj]:
        """The named objects' files at the commit, without reading the rest of the type."""
        if object_type.name in self._snapshot_cache:
            return {i: self._snapshot_cache[object_type.name][i] for i in ids}
        found = self.repo.read_objects(self.commit, object_type, ids)
        self.names.add(object_type, dict(found))
        return found

    def live_of(self, object_type: ObjectType, ids: list[str]) -> dict[str, Obj | None]:
        missing = [i for i in ids if (object_type.name, i) not in self._live_cache]
        if missing:
            for object_id, obj in fetch_objects(self.client, object_type, missing).items():
                self._live_cache[(object_type.name, object_id)] = obj
        return {i: self._live_cache[(object_type.name, i)] for i in ids}

    def add(self, step: Step) -> None:
        self.steps.setdefault(step.key, step)

    def block(self, object_type: ObjectType, object_id: str, name: str | None, what: str, reason: str) -> None:
        self.blocked.append(Blocked(object_type.name, object_id, name, what, reason))

    def plan_object(self, object_type: ObjectType, object_id: str, desired: Obj, live: Obj | None) -> None:
        name = desired.get(object_type.display_key)
        if live is None:
            self.block(object_type, object_id, name, "the whole object",
                       "it no longer exists in the tenant; bringing back deleted objects is not supported yet")
            return
        self._plan_properties(object_type, object_id, name, desired, live)
        for rel in object_type.relationships:
            if _matches(rel.name, self.filters):
                self._plan_relationship(object_type, object_id, name, rel, desired, live)
        self._plan_reverse(object_type, object_id, name)

    def _plan_properties(self, object_type: ObjectType, object_id: str, name: str | None,
                         desired: Obj, live: Obj) -> None:
        live_attrs, _ = split_relations(object_type, live)
        desired_attrs, _ = split_relations(object_type, desired)
        singles = {r.name for r in object_type.relationships if not r.many}
        live_attrs = {k: v for k, v in live_attrs.items() if k not in singles}
        desired_attrs = {k: v for k, v in desired_attrs.items() if k not in singles}
        target = _target(live_attrs, desired_attrs, self.filters)
        body: dict[str, Any] = {}
        shown: list[AttributeChange] = []
        for row in attribute_changes(live_attrs, target):
            key = row.path.split(".")[0]
            if key in object_type.read_only or key in object_type.create_only:
                kind = "read-only" if key in object_type.read_only else "set only when the object is created"
                self.block(object_type, object_id, name, row.path,
                           f"{kind}; Graph refuses to change it ({row.old!r} now, {row.new!r} in the snapshot)")
                continue
            body[key] = _wire(object_type, key, target.get(key), live_attrs.get(key))
            shown.append(row)
        if body:
            for key in object_type.always_send:
                body.setdefault(key, desired.get(key))
            self.add(Step("patch", object_type.name, object_id, name, "PATCH",
                          object_type.item_path(object_id), body, tuple(shown)))

    def _plan_relationship(self, object_type: ObjectType, object_id: str, name: str | None, rel: Relationship,
                           desired: Obj, live: Obj) -> None:
        base = f"{object_type.item_path(object_id)}/{rel.name}"
        if not rel.many:
            want, have = desired.get(rel.name), live.get(rel.name)
            if want == have:
                return
            if want:
                body = {"@odata.id": self.client.ref_url(rel.ref_collection, want)}
                self.add(Step("set-ref", object_type.name, object_id, name, "PUT", f"{base}/$ref", body,
                              member=(rel.name, want, self._name_of(want))))
            else:
                self.add(Step("delete-ref", object_type.name, object_id, name, "DELETE", f"{base}/$ref", None,
                              member=(rel.name, str(have), self._name_of(str(have)))))
            return
        want_set, have_set = set(desired.get(rel.name, [])), set(live.get(rel.name, []))
        for member_id in sorted(want_set - have_set):
            self._link(object_type, object_id, name, rel, member_id, "add-ref", desired, live)
        for member_id in sorted(have_set - want_set):
            self._link(object_type, object_id, name, rel, member_id, "remove-ref", desired, live)

    def _link(self, holder_type: ObjectType, holder_id: str, holder_name: str | None, rel: Relationship,
              member_id: str, kind: str, desired: Obj | None, live: Obj) -> None:
        member_name = self._name_of(member_id)
        base = f"{holder_type.item_path(holder_id)}/{rel.name}"
        if rel.computed_for(live) or rel.computed_for(desired):
            verb = "add" if kind == "add-ref" else "remove"
            self.block(holder_type, holder_id, holder_name, f"{rel.name}: {verb} {member_name or member_id}",
                       f"{holder_type.singular} {rel.name} are computed by the directory from its "
                       "membershipRule; they follow the restored attributes")
            return
        if kind == "add-ref":
            body = {"@odata.id": self.client.ref_url(rel.ref_collection, member_id)}
            step = Step(kind, holder_type.name, holder_id, holder_name, "POST", f"{base}/$ref", body,
                        member=(rel.name, member_id, member_name))
        else:
            step = Step(kind, holder_type.name, holder_id, holder_name, "DELETE",
                        f"{base}/{quote(member_id)}/$ref", None, member=(rel.name, member_id, member_name))
        self.add(step)

    def _reverse_links(self, member_type: ObjectType) -> list[tuple[ObjectType, Relationship]]:
        return [(holder_type, rel) for holder_type in REGISTRY.values() for rel in holder_type.relationships
                if rel.many and rel.reverse_path is not None and member_type.name in rel.member_types
                and _matches(rel.name, self.filters)]

    def read_holders(self, member_type: ObjectType, member_ids: list[str]) -> None:
        """Who holds each of these objects now, read in batches before the per-object planning."""
        links = self._reverse_links(member_type)
        for path in sorted({rel.reverse_path for _, rel in links if rel.reverse_path}):
            sharing = [(holder_type, rel) for holder_type, rel in links if rel.reverse_path == path]
            found = holders(self.client, member_type, member_ids, path, [holder_type for holder_type, _ in sharing])
            for holder_type, rel in sharing:
                for member_id, held_by in found[holder_type.name].items():
                    self._holders[(holder_type.name, rel.name, member_id)] = held_by

    def read_changed_holders(self, member_type: ObjectType, member_ids: list[str]) -> None:
        """Read, in batches, every holder whose links to these members differ from the snapshot, before
        planning the members one by one."""
        for holder_type, rel in self._reverse_links(member_type):
            in_snapshot = self._held_in_snapshot(holder_type, rel)
            changed: set[str] = set()
            for member_id in member_ids:
                changed |= in_snapshot.get(member_id, set()) ^ self._holders[(holder_type.name, rel.name, member_id)]
            self.live_of(holder_type, sorted(changed))

    def _held_in_snapshot(self, holder_type: ObjectType, rel: Relationship) -> dict[str, set[str]]:
        """member id -> the holders whose files list it under rel, indexed once per relationship."""
        key = (holder_type.name, rel.name)
        if key not in self._snapshot_holders:
            index: dict[str, set[str]] = {}
            for holder_id, obj in self.snapshot_of(holder_type).items():
                for member_id in obj.get(rel.name, []):
                    index.setdefault(member_id, set()).add(holder_id)
            self._snapshot_holders[key] = index
        return self._snapshot_holders[key]

    def _plan_reverse(self, member_type: ObjectType, member_id: str, member_name: str | None) -> None:
        """Restoring X also restores the links to X recorded in other objects' files (X's memberships)."""
        for holder_type, rel in self._reverse_links(member_type):
            in_snapshot = self._held_in_snapshot(holder_type, rel).get(member_id, set())
            now = self._holders[(holder_type.name, rel.name, member_id)]
            changed = sorted(in_snapshot ^ now)
            live = self.live_of(holder_type, changed)
            for holder_id in changed:
                holder_live = live[holder_id]
                if holder_live is None:
                    continue  # the holder itself is gone; restoring it is its own selection
                kind = "add-ref" if holder_id in in_snapshot else "remove-ref"
                self._link(holder_type, holder_id, holder_live.get(holder_type.display_key), rel, member_id,
                           kind, self.snapshot_of(holder_type).get(holder_id), holder_live)

    def _name_of(self, object_id: str) -> str | None:
        found = self.names(object_id)
        return found[1] if found else None


def _select(repo: BackupRepo, commit: str, at: str, type_names: tuple[str, ...], ids: tuple[str, ...],
            planner: _Planner) -> dict[ObjectType, list[str]]:
    if not type_names and not ids:
        raise PlanError("say what to restore: --type T, --id ID and/or --paths PATHSPEC")
    types = resolve_types(type_names)
    selected: dict[ObjectType, list[str]] = {}
    if ids:
        found: set[str] = set()
        for object_type in types:
            present = repo.object_ids(commit, object_type)
            hits = [i for i in ids if i in present]
            if hits:
                selected[object_type] = hits
                found.update(hits)
        missing = [i for i in ids if i not in found]
        if missing:
            looked = ", ".join(t.name for t in types)
            raise PlanError(f"no object with id {', '.join(missing)} in the snapshot at {at} (looked in {looked})")
    else:
        selected = {t: sorted(planner.snapshot_of(t)) for t in types}
    return selected


def _check_attributes(selected: dict[ObjectType, list[str]], filters: tuple[str, ...], planner: _Planner) -> None:
    for path in filters:
        top = path.split(".")[0]
        known = any(
            top in t.select or top in t.relationship_names
            or any(top in obj for obj in planner.desired_of(t, ids).values())
            for t, ids in selected.items()
        )
        if not known:
            types = ", ".join(t.name for t in selected)
            raise PlanError(f"unknown attribute {path!r}: no selected object ({types}) has it in the snapshot")


def plan_restore(repo: BackupRepo, client: GraphClient, at: str, type_names: tuple[str, ...] = (),
                 ids: tuple[str, ...] = (), attributes: tuple[str, ...] = ()) -> Plan:
    commit = repo.resolve(at)
    planner = _Planner(repo, client, commit, attributes)
    selected = _select(repo, commit, at, type_names, ids, planner)
    _check_attributes(selected, attributes, planner)
    for object_type, object_ids in selected.items():
        snapshot = planner.desired_of(object_type, object_ids)
        live = planner.live_of(object_type, object_ids)
        present = [i for i in object_ids if live[i] is not None]
        planner.read_holders(object_type, present)
        planner.read_changed_holders(object_type, present)
        for object_id in object_ids:
            planner.plan_object(object_type, object_id, snapshot[object_id], live[object_id])
    order = {name: t.restore_order for name, t in REGISTRY.items()}
    steps = sorted(planner.steps.values(), key=lambda s: (_KIND_ORDER[s.kind], order[s.type]))
    fingerprints = {f"{type_name}/{object_id}": fingerprint(obj)
                    for (type_name, object_id), obj in planner._live_cache.items()}
    return Plan(at, commit, {t.name: ids_ for t, ids_ in selected.items()}, attributes, steps, planner.blocked,
                fingerprints)


def _already_done(step: Step, error: GraphError) -> bool:
    """A link write that fails because the link is already as wanted: a re-run after an interruption."""
    if step.kind == "add-ref" and error.status == 400 and "already exist" in error.graph_message:
        return True
    return step.kind in ("remove-ref", "delete-ref") and error.status == 404


def _send(client: GraphClient, steps: list[Step]) -> list[Outcome]:
    items = [BatchItem(s.method, s.path, body=s.body) for s in steps]
    outcomes = []
    for step, item, answer in zip(steps, items, client.batch(items)):
        error = answer.error(item) if answer.status >= 400 else None
        if error is not None and _already_done(step, error):
            error = None
        outcomes.append(Outcome(step, answer.status, answer.body, error))
    return outcomes


def apply_plan(repo: BackupRepo, client: GraphClient, plan: Plan,
               progress: Callable[[int, int], None] | None = None, *,
               skip: Collection[StepKey] = (), on_batch: Callable[[list[Outcome]], None] | None = None,
               sleep: Callable[[float], None] = time.sleep) -> ApplyResult:
    """Write every step of a plan (but those in skip, done by an interrupted run), then verify.

    Steps of one kind are independent of each other, so each kind goes out in $batch requests; the kinds
    go in plan order (properties, then links to add, then links to remove). on_batch hears every slice's
    outcomes as soon as Graph answered them, before anything else is sent."""
    done: list[Step] = []
    failed: list[tuple[Step, GraphError]] = []
    todo = [s for s in plan.steps if s.key not in skip]
    for kind in sorted({s.kind for s in todo}, key=_KIND_ORDER.__getitem__):
        steps = [s for s in todo if s.kind == kind]
        for start in range(0, len(steps), WRITE_SLICE):
            outcomes = _send(client, steps[start:start + WRITE_SLICE])
            if on_batch:
                on_batch(outcomes)
            for outcome in outcomes:
                if outcome.error is None:
                    done.append(outcome.step)
                else:
                    failed.append((outcome.step, outcome.error))
            if progress:
                progress(len(done) + len(failed), len(todo))
    return ApplyResult(done, failed, verify(repo, client, plan, {s.key for s in done}, sleep))


def verify(repo: BackupRepo, client: GraphClient, plan: Plan, written: Collection[StepKey],
           sleep: Callable[[float], None] = time.sleep) -> Plan:
    """Plan again against the same snapshot: what remains is residue. A difference that a write just
    made should have removed is read again a few times, since Graph shows writes with a delay."""
    residue = replan(repo, client, plan)
    for wait in SETTLE_WAITS:
        if not any(step.key in written for step in residue.steps):
            break
        sleep(wait)
        residue = replan(repo, client, plan)
    return residue


def replan(repo: BackupRepo, client: GraphClient, plan: Plan) -> Plan:
    """The same selection planned afresh against the live tenant."""
    fresh = plan_restore(repo, client, plan.commit, tuple(plan.selected),
                         tuple(i for ids in plan.selected.values() for i in ids), plan.attributes)
    fresh.at = plan.at
    return fresh
