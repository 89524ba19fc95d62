"""Restore: desired state from the files of a commit, live state from Graph, the writes between them.

plan_restore() only reads; apply_plan() only writes what a plan says; then it plans again and reports
what is still different. A plan is a value the user sees before anything is written.

Every step carries a stage: steps of one stage are independent of each other and go out together in
$batch requests; stages run in order. Objects come back first (from a recycle bin, or created anew),
tier by tier of the registry's restore order, so that a CA policy is made after the group it names;
then app roles about to be removed are disabled (Graph deletes only disabled ones), then properties,
links to add, links to remove, and deletions last. A created object has a new id:
once its stage has run, every later step that names the old id is rewritten to the new one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from entragit.canonical import Obj, canonical
from entragit.diff import Names, attribute_changes, split_relations
from entragit.report.model import AttributeChange, RiskFlag
from entragit.errors import GraphError, PlanError
from entragit.graph import BATCH_LIMIT, BATCH_WORKERS, BatchItem, GraphClient
from entragit.live import fetch_objects, fetch_type, holders
from entragit.registry import REGISTRY, ObjectType, Relationship, resolve_types
from entragit.store import BackupRepo

_TIERS = sorted({t.restore_order for t in REGISTRY.values()})
_LINK_STAGE = {"disable": 0, "reset": 1, "patch": 1, "rewrite": 1, "remove-credential": 1, "set-ref": 2, "add-ref": 2,
               "remove-ref": 3, "delete-ref": 3}
# What a patch row says a property was, where a restore from the bin may have reset it.
AS_RESTORED = "(as the restore leaves it)"
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def stage_of(kind: str, object_type: ObjectType) -> int:
    """Objects back tier by tier, then properties, links to add, links to remove (so a group never has
    fewer owners than both ends), then deletions, the most dependent objects first."""
    tier = _TIERS.index(object_type.restore_order)
    if kind in ("restore", "create"):
        return tier
    if kind == "delete":
        return 2 * len(_TIERS) + 3 - tier
    return len(_TIERS) + _LINK_STAGE[kind]


StepKey = tuple[str, str, str]
"""What makes two steps the same write: method, path and the member of a link, the credential or the
object."""

# Steps handed to client.batch at once: one $batch per worker. Small enough that an interruption loses
# little (the journal records each slice's outcomes), large enough to keep every worker busy.
WRITE_SLICE = BATCH_LIMIT * BATCH_WORKERS

# Seconds to wait before re-reading objects whose writes are not visible yet (Graph replicates writes
# asynchronously); after the last, what still differs is residue.
SETTLE_WAITS = (0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class Step:
    kind: str
    """restore (from a recycle bin), create, disable (what the patch then removes), reset (to Graph's
    defaults), patch, rewrite (a reference to an object made again, in an object outside the selection),
    remove-credential, set-ref, add-ref, remove-ref, delete-ref, delete."""
    type: str
    id: str
    name: str | None
    method: str
    path: str
    body: dict[str, Any] | None
    stage: int = 0
    changes: tuple[AttributeChange, ...] = ()
    """For a patch, the attributes it puts back; for a rewrite, (reference path, old id, new id or None
    while Graph has not given it yet)."""
    member: tuple[str, str, str | None] | None = None
    """For a link, (relationship, member id, member name)."""
    detail: str | None = None
    """For a credential removal, which credential."""
    assigns: tuple[tuple[str, str], ...] = ()
    """For a creation, (property, value in the snapshot) of what Graph gives a new value: id, appId."""
    risks: tuple[RiskFlag, ...] = ()
    """What the risk table says of this write's change to its object (entragit/risk.py assess())."""

    @property
    def key(self) -> StepKey:
        # A link is planned from both of its ends; creations of one type share their path.
        return (self.method, self.path, self.member[1] if self.member else self.detail or self.id)

    def describe(self) -> str:
        who = f"{self.type}/{self.id} {self.name or ''}".rstrip()
        if self.member is not None:
            rel, member_id, member_name = self.member
            verb = {"add-ref": "add", "remove-ref": "remove", "set-ref": "set", "delete-ref": "clear"}[self.kind]
            return f"{verb} {rel}: {member_name or member_id} ({member_id}) on {who}"
        verb = {"restore": "restore from the recycle bin", "create": "create", "disable": "disable, to remove,",
                "reset": "reset to Graph's defaults",
                "patch": "PATCH", "rewrite": "rewrite the references to recreated objects in",
                "remove-credential": f"remove {self.detail} from", "delete": "delete"}[self.kind]
        return f"{verb} {who}"


@dataclass(frozen=True)
class Blocked:
    type: str
    id: str
    name: str | None
    what: str
    reason: str


@dataclass(frozen=True)
class RestoreOptions:
    delete_extra: bool = False
    """Delete objects of the selected types that the snapshot does not have (never users)."""
    remove_new_credentials: bool = False
    """Remove app and service principal credentials added since the snapshot."""
    follow_references: bool = True
    """Rewrite live references to an object the plan makes again under a new id (a CA policy excluding a
    recreated group), in objects outside the selection too."""


@dataclass
class Plan:
    at: str
    commit: str
    selected: dict[str, list[str]]
    """Type name -> ids of the objects the plan restores."""
    attributes: tuple[str, ...]
    steps: list[Step] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    options: RestoreOptions = RestoreOptions()
    id_map: dict[str, str] = field(default_factory=dict)
    """Snapshot id -> live id of objects created by an earlier apply; the plan was made through it."""
    fingerprints: dict[str, str] = field(default_factory=dict)
    """"type/id" -> fingerprint() of the live object the plan was computed against."""
    holdings: dict[str, str] = field(default_factory=dict)
    """"type/id/holder type.relationship" -> holding_fingerprint() of what held the object then: a group
    that gained a selected user since is noticed, though the plan never read that group."""

    @property
    def object_count(self) -> int:
        return sum(len(ids) for ids in self.selected.values())


def fingerprint(obj: Obj | None) -> str:
    """What a plan remembers of a live object, to notice later that it moved."""
    if obj is None:
        return "absent"
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:20]


def holding_key(member_type: str, member_id: str, holder_type: str, relationship: str) -> str:
    return f"{member_type}/{member_id}/{holder_type}.{relationship}"


def holding_fingerprint(holder_ids: Collection[str]) -> str:
    return hashlib.sha256(json.dumps(sorted(holder_ids)).encode()).hexdigest()[:20]


# Who held what at a commit never changes, and indexing it means reading every holder's links once: a plan
# and its verifying re-plan share the index. Keyed by (git directory, commit, holder type, relationship).
_HELD_AT: dict[tuple[str, str, str, str], dict[str, set[str]]] = {}
_HELD_AT_KEPT = 8


def _held_at(repo: BackupRepo, commit: str, holder_type: ObjectType, rel: Relationship) -> dict[str, set[str]]:
    """member id -> the holders whose files at the commit list it under rel (ids as in the files)."""
    key = (str(repo.git.git_dir), commit, holder_type.name, rel.name)
    if key not in _HELD_AT:
        index: dict[str, set[str]] = {}
        # The links the snapshot of that commit left, when it is the newest; else every holder's file.
        for holder_id, members in repo.links(commit, holder_type, rel.name).items():
            for member_id in members:
                index.setdefault(member_id, set()).add(holder_id)
        while len(_HELD_AT) >= _HELD_AT_KEPT:
            del _HELD_AT[next(iter(_HELD_AT))]
        _HELD_AT[key] = index
    return _HELD_AT[key]


@dataclass(frozen=True)
class Outcome:
    """How Graph answered one step: the journal records it, with what a creation was called."""

    step: Step
    status: int
    body: dict[str, Any] | None
    error: GraphError | None

    @property
    def created(self) -> dict[str, str]:
        """What Graph called the object this step created (old -> new): its id, and appId for an app."""
        if self.error is not None:
            return {}
        made = self.body or {}
        return {old: new for prop, old in self.step.assigns
                if isinstance(new := made.get(prop), str) and new != old}


@dataclass
class ApplyResult:
    done: list[Step]
    failed: list[tuple[Step, GraphError]]
    residue: Plan
    created: dict[str, str] = field(default_factory=dict)
    """Old id (and appId) -> the one Graph gave the recreated object."""


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


def rewrite(value: Any, id_map: dict[str, str]) -> Any:
    """value with every old id in its strings (paths, @odata.id URLs, scopes) replaced by the new one."""
    if not id_map:
        return value
    pattern = re.compile("|".join(re.escape(old) for old in sorted(id_map, key=len, reverse=True)))

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(lambda m: id_map[m.group(0)], item)
        if isinstance(item, dict):
            return {walk(k): walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(value)


def effect(step: Step, before: Obj | None) -> Obj | None:
    """The object (canonical, None when absent) as this step leaves it, from how it was before: what the
    risk rules judge. A recycle-bin restore or a reset to defaults changes what only Graph knows; a
    creation's ids are the snapshot's, as the plan names them."""
    if step.kind == "delete":
        return None
    object_type = REGISTRY[step.type]
    after = copy.deepcopy(before) if before is not None else {}
    if step.member is not None:
        rel, member_id, _ = step.member
        if step.kind == "set-ref":
            after[rel] = member_id
        elif step.kind == "delete-ref":
            after.pop(rel, None)
        else:
            members = set(after.get(rel) or []) - {member_id}
            after[rel] = sorted(members | ({member_id} if step.kind == "add-ref" else set()))
        return after
    body = {k: v for k, v in (step.body or {}).items() if k not in _REQUEST_ONLY}
    if step.kind == "remove-credential":
        for prop in object_type.credentials:
            after[prop] = [c for c in after.get(prop) or [] if c.get("keyId") != body.get("keyId")]
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


# Keys of a schedule request's body that are no property of the object it makes or ends.
_REQUEST_ONLY = frozenset({"action", "justification"})


def _rewritten(object_type: ObjectType, obj: Obj, id_map: dict[str, str]) -> Obj:
    """A snapshot object with created objects' new ids put in, canonical again: a set that held the old
    id sorts the new one elsewhere (an app's servicePrincipalNames: its appId and api://<appId>)."""
    if not id_map:
        return obj
    changed = rewrite(obj, id_map)
    return canonical(object_type, changed, {r.name: changed[r.name] for r in object_type.relationships
                                            if r.name in changed})


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _match_key(object_type: ObjectType, obj: Obj) -> tuple[Any, ...]:
    return tuple(obj.get(prop) for prop in object_type.match_on)


def _credential_label(credential: dict[str, Any]) -> str:
    return f"{credential.get('displayName') or 'unnamed'} ({credential.get('keyId')})"


class _Planner:
    def __init__(self, repo: BackupRepo, client: GraphClient, commit: str, filters: tuple[str, ...],
                 options: RestoreOptions, id_map: dict[str, str]) -> None:
        self.repo = repo
        self.client = client
        self.commit = commit
        self.filters = filters
        self.options = options
        self.id_map = id_map
        self._snapshot_ids = {new: old for old, new in id_map.items()}
        self.steps: dict[StepKey, Step] = {}
        self.blocked: list[Blocked] = []
        self.created: set[str] = set()
        """Ids of the objects this plan makes again; planned before anything that names them (restore order)."""
        self._snapshot_cache: dict[str, dict[str, Obj]] = {}
        self._live_cache: dict[tuple[str, str], Obj | None] = {}
        self._holder_cache: dict[tuple[str, str], Obj | None] = {}
        self._holders: dict[tuple[str, str, str], set[str]] = {}
        self.holdings: dict[str, str] = {}
        self.names = Names(repo, [commit])

    def snapshot_of(self, object_type: ObjectType) -> dict[str, Obj]:
        """The type's objects at the commit, as they read once created objects' new ids are put in."""
        if object_type.name not in self._snapshot_cache:
            found = self.repo.read_objects(self.commit, object_type)
            self.names.add(object_type, dict(found))
            self._snapshot_cache[object_type.name] = {self.id_map.get(i, i): _rewritten(object_type, obj, self.id_map)
                                                      for i, obj in found.items()}
        return self._snapshot_cache[object_type.name]

    def desired_of(self, object_type: ObjectType, ids: list[str]) -> dict[str, Obj]:
        """The named objects' files at the commit, without reading the rest of the type (ids as now)."""
        if object_type.name in self._snapshot_cache:
            return {i: self._snapshot_cache[object_type.name][i] for i in ids}
        found = self.repo.read_objects(self.commit, object_type, [self._snapshot_ids.get(i, i) for i in ids])
        self.names.add(object_type, dict(found))
        return {self.id_map.get(i, i): _rewritten(object_type, obj, self.id_map) for i, obj in found.items()}

    def ids_at_commit(self, object_type: ObjectType) -> set[str]:
        """The type's ids in the commit's tree, as they are now (a recreated object's new id)."""
        return {self.id_map.get(i, i) for i in self.repo.object_ids(self.commit, object_type)}

    def live_of(self, object_type: ObjectType, ids: list[str]) -> dict[str, Obj | None]:
        missing = [i for i in ids if (object_type.name, i) not in self._live_cache]
        if missing:
            for object_id, obj in fetch_objects(self.client, object_type, missing).items():
                self._live_cache[(object_type.name, object_id)] = obj
        return {i: self._live_cache[(object_type.name, i)] for i in ids}

    def holders_now(self, holder_type: ObjectType, ids: list[str]) -> dict[str, Obj | None]:
        """Objects that hold a restored one (its groups), as they are now but without their own links: a
        group of 50,000 members is not read whole to add one back."""
        missing = [i for i in ids if (holder_type.name, i) not in self._live_cache
                   and (holder_type.name, i) not in self._holder_cache]
        if missing:
            params = {"$select": ",".join(holder_type.select)} if holder_type.select else None
            answers = self.client.get_many([BatchItem("GET", holder_type.item_path(i), params) for i in missing])
            for holder_id, answer in zip(missing, answers):
                if isinstance(answer, GraphError):
                    if not answer.not_found:
                        raise answer
                    self._holder_cache[(holder_type.name, holder_id)] = None
                else:
                    self._holder_cache[(holder_type.name, holder_id)] = canonical(holder_type, answer)
        return {i: self._live_cache.get((holder_type.name, i), self._holder_cache.get((holder_type.name, i)))
                for i in ids}

    def binned(self, object_type: ObjectType, ids: list[str]) -> dict[str, Obj]:
        """The objects among ids that wait in the type's recycle bin, as the bin shows them."""
        if object_type.recycle_bin is None or not ids:
            return {}
        items = [BatchItem("GET", f"{object_type.recycle_bin}/{quote(i)}") for i in ids]
        found: dict[str, Obj] = {}
        for object_id, answer in zip(ids, self.client.get_many(items)):
            if isinstance(answer, GraphError):
                # 400: a Graph that does not know the bin at all (the Conditional Access one is documented
                # in beta only); the object is then treated as gone for good.
                if not (answer.not_found or answer.status == 400):
                    raise answer
                continue
            found[object_id] = canonical(object_type, answer)
        return found

    def add(self, step: Step) -> None:
        self.steps.setdefault(step.key, step)

    def step(self, kind: str, object_type: ObjectType, object_id: str, name: str | None, method: str, path: str,
             body: dict[str, Any] | None, **details: Any) -> None:
        self.add(Step(kind, object_type.name, object_id, name, method, path, body,
                      stage_of(kind, object_type), **details))

    def block(self, object_type: ObjectType, object_id: str, name: str | None, what: str, reason: str) -> None:
        self.blocked.append(Blocked(object_type.name, object_id, name, what, reason))

    # --- objects that exist -------------------------------------------------------------------------------

    def plan_existing(self, object_type: ObjectType, object_id: str, desired: Obj, live: Obj,
                      live_id: str | None = None) -> None:
        name = desired.get(object_type.display_key)
        self._plan_properties(object_type, object_id, name, desired, live, live_id or object_id)
        self._plan_items(object_type, object_id, name, desired, live)
        self._plan_credentials(object_type, object_id, name, desired, live)
        for rel in object_type.relationships:
            if _matches(rel.name, self.filters):
                self._plan_relationship(object_type, object_id, name, rel, desired, live)
        self._plan_reverse(object_type, object_id, name)

    def _plan_properties(self, object_type: ObjectType, object_id: str, name: str | None, desired: Obj,
                         live: Obj, path_id: str, resend: frozenset[str] = frozenset()) -> None:
        if object_type.reset_action is not None and not self.filters:
            flag, action = object_type.reset_action
            if desired.get(flag) is True and live.get(flag) is not True:
                # The snapshot holds Graph's own defaults: the action puts back all of it at once.
                self.step("reset", object_type, object_id, name, "POST", f"{object_type.item_path(path_id)}/{action}", {})
                return
        live_attrs, _ = split_relations(object_type, live)
        desired_attrs, _ = split_relations(object_type, desired)
        left_out = ({r.name for r in object_type.relationships if not r.many} | set(object_type.credentials)
                    | object_type.written_per_item)
        live_attrs = {k: v for k, v in live_attrs.items() if k not in left_out}
        desired_attrs = {k: v for k, v in desired_attrs.items() if k not in left_out}
        target = _target(live_attrs, desired_attrs, self.filters)
        body: dict[str, Any] = {}
        shown: list[AttributeChange] = []
        actions: dict[str, list[AttributeChange]] = {}
        for row in attribute_changes(live_attrs, target):
            key = row.path.split(".")[0]
            if key in object_type.written_by_action:
                actions.setdefault(key, []).append(row)
                continue
            if key in object_type.read_only or key in object_type.create_only:
                kind = "read-only" if key in object_type.read_only else "set only when the object is created"
                self.block(object_type, object_id, name, row.path,
                           f"{kind}; Graph refuses to change it ({row.old!r} now, {row.new!r} in the snapshot)")
                continue
            body[key] = _wire(object_type, key, target.get(key), live_attrs.get(key))
            shown.append(row)
        for key, rows in actions.items():
            self.step("patch", object_type, object_id, name, "POST",
                      f"{object_type.item_path(path_id)}/{object_type.written_by_action[key]}",
                      {key: _wire(object_type, key, target.get(key), live_attrs.get(key))}, changes=tuple(rows))
        for path in object_type.references:
            # A property naming an object that this plan makes again must be written even where it reads
            # the same: the old id it holds is rewritten to the new one when the plan is applied.
            key = path.split(".")[0]
            named = _get_path(target, path.split("."))
            if key not in body and set(named if isinstance(named, list) else [named]) & self.created:
                body[key] = target[key]
                shown.append(AttributeChange(path, named, named))
        for key in sorted(resend):
            if key not in body and target.get(key) is not None and _matches(key, self.filters):
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
            self.step("patch", object_type, object_id, name, "PATCH", object_type.item_path(path_id), body,
                      changes=tuple(shown))

    def _plan_items(self, object_type: ObjectType, object_id: str, name: str | None, desired: Obj, live: Obj) -> None:
        """Sub-objects written one by one at their own path (an authentication method's configuration)."""
        for prop in sorted(object_type.written_per_item):
            want = {item.get("id"): item for item in desired.get(prop, [])}
            have = {item.get("id"): item for item in live.get(prop, [])}
            for item_id in sorted(set(want) ^ set(have), key=str):
                self.block(object_type, object_id, name, f"{prop}: {item_id}",
                           "Graph offers a fixed set of these; one cannot be added or removed, only changed")
            for item_id in sorted(set(want) & set(have), key=str):
                target = _target(have[item_id], want[item_id], tuple(
                    f.removeprefix(f"{prop}.") for f in self.filters if f.startswith(f"{prop}.")))
                rows = attribute_changes(have[item_id], target)
                if not rows or not _matches(prop, self.filters):
                    continue
                keys = sorted({row.path.split(".")[0] for row in rows})
                body = {"@odata.type": want[item_id].get("@odata.type"),
                        **{k: _wire(object_type, k, target.get(k), have[item_id].get(k)) for k in keys}}
                changes = tuple(AttributeChange(f"{prop}.{item_id}.{row.path}", row.old, row.new) for row in rows)
                self.step("patch", object_type, object_id, name, "PATCH",
                          f"{object_type.item_path(object_id)}/{prop}/{quote(str(item_id))}", body, changes=changes)

    def _disable_first(self, object_type: ObjectType, object_id: str, name: str | None, live: Obj, target: Obj,
                       path_id: str) -> None:
        """Graph deletes an enabled app role or scope only once it is disabled: a first PATCH does that."""
        body: dict[str, Any] = {}
        removed: list[str] = []
        for path, flag in object_type.disable_before_removal.items():
            parts = path.split(".")
            kept = {item.get("id") for item in _get_path(target, parts) or []}
            current = copy.deepcopy(_get_path(live, parts) or [])
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
            self.step("disable", object_type, object_id, name, "PATCH", object_type.item_path(path_id), body,
                      detail=", ".join(removed))

    def _plan_credentials(self, object_type: ObjectType, object_id: str, name: str | None, desired: Obj,
                          live: Obj | None) -> None:
        """A credential added since the snapshot may be a backdoor: removed only when asked. One deleted
        since cannot come back: Graph never gives a secret out, so none is in the snapshot."""
        for prop, action in object_type.credentials.items():
            if not _matches(prop, self.filters):
                continue
            want = {c.get("keyId"): c for c in desired.get(prop, [])}
            have = {c.get("keyId"): c for c in (live or {}).get(prop, [])}
            for key_id in sorted(set(want) - set(have), key=str):
                self.block(object_type, object_id, name, f"{prop}: {_credential_label(want[key_id])}",
                           "removed since the snapshot; a secret or key cannot be brought back (Graph never "
                           "returns one): add a new credential and give it to the app's clients")
            for key_id in sorted(set(have) - set(want), key=str):
                label = f"{prop}: {_credential_label(have[key_id])}"
                if not self.options.remove_new_credentials:
                    self.block(object_type, object_id, name, label,
                               "added since the snapshot; restore with --remove-new-credentials to remove it")
                elif action is None:
                    self.block(object_type, object_id, name, label,
                               "added since the snapshot, but Graph removes a key only with a proof signed by "
                               "another of the app's keys; remove it in the portal")
                else:
                    self.step("remove-credential", object_type, object_id, name, "POST",
                              f"{object_type.item_path(object_id)}/{action}", {"keyId": key_id}, detail=label)

    def _plan_relationship(self, object_type: ObjectType, object_id: str, name: str | None, rel: Relationship,
                           desired: Obj, live: Obj) -> None:
        base = f"{object_type.item_path(object_id)}/{rel.name}"
        if not rel.many:
            want, have = desired.get(rel.name), live.get(rel.name)
            if want == have:
                return
            if want:
                body = {"@odata.id": self.client.ref_url(rel.ref_collection, want)}
                self.step("set-ref", object_type, object_id, name, "PUT", f"{base}/$ref", body,
                          member=(rel.name, want, self._name_of(want)))
            else:
                self.step("delete-ref", object_type, object_id, name, "DELETE", f"{base}/$ref", None,
                          member=(rel.name, str(have), self._name_of(str(have))))
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
            self.step(kind, holder_type, holder_id, holder_name, "POST", f"{base}/$ref", body,
                      member=(rel.name, member_id, member_name))
        else:
            self.step(kind, holder_type, holder_id, holder_name, "DELETE", f"{base}/{quote(member_id)}/$ref", None,
                      member=(rel.name, member_id, member_name))

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
                    key = holding_key(member_type.name, member_id, holder_type.name, rel.name)
                    self.holdings[key] = holding_fingerprint(held_by)

    def read_changed_holders(self, member_type: ObjectType, member_ids: list[str]) -> None:
        """Read, in batches, every holder whose links to these members differ from the snapshot, before
        planning the members one by one."""
        for holder_type, rel in self._reverse_links(member_type):
            changed: set[str] = set()
            for member_id in member_ids:
                changed |= (self._held_in_snapshot(holder_type, rel, member_id)
                            ^ self._holders[(holder_type.name, rel.name, member_id)])
            self.holders_now(holder_type, sorted(changed))

    def _held_in_snapshot(self, holder_type: ObjectType, rel: Relationship, member_id: str) -> set[str]:
        """The holders whose files at the commit list the member under rel (ids as they are now)."""
        held = _held_at(self.repo, self.commit, holder_type, rel).get(self._snapshot_ids.get(member_id, member_id), ())
        return {self.id_map.get(i, i) for i in held}

    def _plan_reverse(self, member_type: ObjectType, member_id: str, member_name: str | None) -> None:
        """Restoring X also restores the links to X recorded in other objects' files (X's memberships)."""
        for holder_type, rel in self._reverse_links(member_type):
            in_snapshot = self._held_in_snapshot(holder_type, rel, member_id)
            # Nothing holds an object that is not in the tenant (deleted, about to come back).
            now = self._holders.get((holder_type.name, rel.name, member_id), set())
            changed = sorted(in_snapshot ^ now)
            live = self.holders_now(holder_type, changed)
            # The holder's file is consulted only when it has been read anyway: whether the directory
            # computes its links is judged on the holder as it is now, not by parsing every holder file.
            read = self._snapshot_cache.get(holder_type.name, {})
            for holder_id in changed:
                holder_live = live[holder_id]
                if holder_live is None:
                    continue  # the holder itself is gone; restoring it is its own selection
                kind = "add-ref" if holder_id in in_snapshot else "remove-ref"
                self._link(holder_type, holder_id, holder_live.get(holder_type.display_key), rel, member_id,
                           kind, read.get(holder_id), holder_live)

    def _name_of(self, object_id: str) -> str | None:
        found = self.names(object_id)
        return found[1] if found else None

    # --- objects that are gone ----------------------------------------------------------------------------

    def plan_missing(self, object_type: ObjectType, object_id: str, desired: Obj, binned: Obj | None) -> None:
        name = desired.get(object_type.display_key)
        if self.filters:
            self.block(object_type, object_id, name, "the whole object",
                       "it is no longer in the tenant; restore the whole object (without --attribute) to bring it back")
            return
        if binned is not None:
            # No body, but $batch refuses a write item without one ("does not contain Content-Type header or body").
            self.step("restore", object_type, object_id, name, "POST",
                      f"{object_type.recycle_bin}/{quote(object_id)}/restore", {})
            # The restore puts back what the bin altered (a user's UPN); what it may reset is sent again.
            base = {**binned, **{k: desired[k] for k in object_type.renamed_in_bin if k in desired}}
            self._plan_properties(object_type, object_id, name, desired, base, object_id,
                                  resend=object_type.reset_by_restore)
        elif (object_type.create or object_type.write_requests) and object_type.cannot_create is None:
            self._plan_create(object_type, object_id, name, desired)
        else:
            reason = object_type.cannot_create or f"Graph cannot create a {object_type.singular}"
            where = " nor in its recycle bin" if object_type.recycle_bin else ""
            self.block(object_type, object_id, name, "the whole object",
                       f"it is no longer in the tenant{where}, and {reason}")
            return
        # Graph brings a restored object's links back with it; any it did not are added (an add that is
        # already there counts as done).
        empty: Obj = {}
        self._plan_credentials(object_type, object_id, name, desired, binned)
        for rel in object_type.relationships:
            self._plan_relationship(object_type, object_id, name, rel, desired, empty)
        self._plan_reverse(object_type, object_id, name)

    def _plan_create(self, object_type: ObjectType, object_id: str, name: str | None, desired: Obj) -> None:
        self.created.add(object_id)
        attrs, _ = split_relations(object_type, desired)
        if object_type.write_requests is not None:
            body = {k: attrs[k] for k in (*object_type.match_on, *sorted(object_type.create_with)) if k in attrs}
            body.update(action="adminAssign", justification="Restored by entragit")
            self.step("create", object_type, object_id, name, "POST", object_type.write_requests, body)
            return
        singles = {r.name for r in object_type.relationships if not r.many}
        writable_anyway = object_type.create_with | set(object_type.always_send)
        body = {k: v for k, v in attrs.items()
                if k not in singles and (k not in object_type.read_only or k in writable_anyway)}
        assigns: tuple[tuple[str, str], ...] = ((object_type.key, object_id),) if object_type.key == "id" else ()
        assigns += tuple((p, str(attrs[p])) for p in object_type.assigned_on_create if p in attrs)
        if object_type.create == "patch":
            self.step("create", object_type, object_id, name, "PATCH", object_type.item_path(object_id), body)
            return
        later = {k: body.pop(k) for k in sorted(object_type.written_after_create) if k in body}
        self.step("create", object_type, object_id, name, "POST", object_type.collection, body, assigns=assigns)
        if later:
            # Values naming what Graph assigns on creation (api://<appId>) are written once it has.
            self.step("patch", object_type, object_id, name, "PATCH", object_type.item_path(object_id), later,
                      changes=tuple(AttributeChange(k, None, v) for k, v in later.items()))

    # --- objects the snapshot does not have ---------------------------------------------------------------

    def plan_extra(self, object_type: ObjectType, live_id: str, live: Obj) -> None:
        name = live.get(object_type.display_key)
        if object_type.write_requests is not None:
            body = {k: live[k] for k in object_type.match_on if k in live}
            body.update(action="adminRemove", justification="Not in the snapshot; removed by entragit restore")
            self.step("delete", object_type, live_id, name, "POST", object_type.write_requests, body)
        else:
            self.step("delete", object_type, live_id, name, "DELETE", object_type.item_path(live_id), None)

    # --- failing closed on references ---------------------------------------------------------------------

    def check_references(self) -> None:
        """A reference to an object that is neither in the tenant nor brought back by this plan would be
        dropped by Graph without a word (a CA policy losing an excluded group): such a write is held back."""
        coming = {s.id for s in self.steps.values() if s.kind in ("restore", "create")}
        wanted: dict[tuple[tuple[str, str, str], str], tuple[Step, str, tuple[str, ...]]] = {}
        for key, step in self.steps.items():
            object_type = REGISTRY[step.type]
            if step.kind not in ("create", "patch") or not object_type.references or step.body is None:
                continue
            for path, types in object_type.references.items():
                value = _get_path(step.body, path.split("."))
                for ref in value if isinstance(value, list) else [value]:
                    if isinstance(ref, str) and _GUID.fullmatch(ref) and ref not in coming:
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
        made = {old for step in self.steps.values() if step.kind == "create"
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
            for holder_id, raw in sorted(_live_listing(self.client, holder_type, whole=True).items()):
                if holder_id not in chosen:
                    self._rewrite_references(holder_type, holder_id, raw, paths, renamed)

    def _grant_again(self, grant_type: ObjectType, paths: list[str], renamed: dict[str, ObjectType],
                     chosen: set[str]) -> None:
        """A grant known by what it grants to whom (a role assignment to a recreated group) has no reference
        to change: it is made again naming the new id, from a live grant still naming the old one, else
        from the snapshot's (Graph may end a grant with its principal). A grant left naming the dead id
        is left alone: it grants nothing."""
        def named(obj: Obj) -> set[Any]:
            return {value for path in paths for value in _listed(_get_path(obj, path.split(".")))}

        # An earlier apply's new ids are in the snapshot as read; a live grant is read through them too.
        now = {self.id_map.get(old, old) for old in renamed}
        live = fetch_type(self.client, grant_type)
        live_keys = {_match_key(grant_type, obj) for obj in live.values()}
        wanted: dict[tuple[Any, ...], tuple[str, Obj]] = {}
        for source in (self.snapshot_of(grant_type), {i: rewrite(o, self.id_map) for i, o in live.items()}):
            for grant_id, obj in source.items():
                if grant_id not in chosen and named(obj) & now:
                    wanted[_match_key(grant_type, obj)] = (grant_id, obj)
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
            for old in sorted(set(_listed(_get_path(raw, path.split(".")))) & renamed.keys()):
                changes.append(AttributeChange(path, old, self.id_map.get(old)))
        if not changes:
            return
        # What a saved plan checks has not moved; a type naming others by reference has no links of its
        # own to read (were it to have some, the saved plan would fail closed, as moved).
        self._live_cache[(holder_type.name, holder_id)] = canonical(holder_type, raw)
        body = {key: rewrite(raw[key], self.id_map) for key in sorted({c.path.split(".")[0] for c in changes})}
        for key in holder_type.always_send:
            body.setdefault(key, raw.get(key))
        self.step("rewrite", holder_type, holder_id, raw.get(holder_type.display_key), "PATCH",
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
                    named = _get_path(obj, path.split("."))
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
            answers = self.client.get_many([BatchItem("GET", object_type.item_path(i)) for i in ids])
            for ref, answer in zip(ids, answers):
                if not isinstance(answer, GraphError):
                    missing.discard(ref)
                elif not answer.not_found:
                    raise answer
        return missing


def _select(type_names: tuple[str, ...], ids: tuple[str, ...], at: str,
            planner: _Planner) -> dict[ObjectType, list[str]]:
    if not type_names and not ids:
        raise PlanError("say what to restore: --type T, --id ID and/or --paths PATHSPEC")
    types = resolve_types(type_names)
    selected: dict[ObjectType, list[str]] = {}
    if ids:
        found: set[str] = set()
        for object_type in types:
            present = planner.ids_at_commit(object_type)
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


def _check_request(selected: dict[ObjectType, list[str]], filters: tuple[str, ...], planner: _Planner,
                   options: RestoreOptions, by_type: bool) -> None:
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
    if options.delete_extra:
        if filters or not by_type:
            raise PlanError("--delete-extra works on whole types: give --type, without --id or --attribute")
        for object_type in selected:
            if object_type.never_delete:
                raise PlanError(f"--delete-extra refuses {object_type.name}: {object_type.never_delete}; "
                                f"leave out --type {object_type.name}")


def _live_listing(client: GraphClient, object_type: ObjectType, whole: bool = False) -> dict[str, Obj]:
    """Every object of a type now, by id, as Graph returns it: whole, or with just enough to name it
    (for --delete-extra)."""
    params: dict[str, str] = {}
    if object_type.select:
        params["$select"] = ",".join(object_type.select) if whole else f"{object_type.key},{object_type.display_key}"
    if object_type.page_size:
        params["$top"] = str(object_type.page_size)
    return {object_type.object_id(raw): raw for raw in client.iter_collection(object_type.collection, params)}


def _plan_matched(planner: _Planner, object_type: ObjectType, object_ids: list[str], extras: bool) -> None:
    """Types whose objects are known by what they say (principal, role, scope), not by their id."""
    snapshot = planner.snapshot_of(object_type)
    live_by_key = {_match_key(object_type, obj): (live_id, obj)
                   for live_id, obj in fetch_type(planner.client, object_type).items()}
    for object_id in object_ids:
        desired = snapshot[object_id]
        found = live_by_key.get(_match_key(object_type, desired))
        if found is None:
            planner.plan_missing(object_type, object_id, desired, None)
        else:
            # Its id is whatever Graph gave the one in the tenant: not a difference.
            planner.plan_existing(object_type, object_id, {**desired, object_type.key: found[0]}, found[1], found[0])
    if extras:
        wanted = {_match_key(object_type, obj) for obj in snapshot.values()}
        for key, (live_id, obj) in sorted(live_by_key.items(), key=lambda item: item[1][0]):
            if key not in wanted:
                planner.plan_extra(object_type, live_id, obj)


def plan_restore(repo: BackupRepo, client: GraphClient, at: str, type_names: tuple[str, ...] = (),
                 ids: tuple[str, ...] = (), attributes: tuple[str, ...] = (),
                 options: RestoreOptions = RestoreOptions(), id_map: dict[str, str] | None = None) -> Plan:
    """The writes that would make the selected objects as the snapshot at `at` has them.

    id_map: objects an earlier apply recreated (old id -> new id), so that a re-plan after it (the
    verification) finds them under their new ids."""
    id_map = dict(id_map or {})
    commit = repo.resolve(at)
    planner = _Planner(repo, client, commit, attributes, options, id_map)
    current_ids = tuple(id_map.get(i, i) for i in ids)
    selected = _select(type_names, current_ids, at, planner)
    _check_request(selected, attributes, planner, options, by_type=not ids)
    for object_type, object_ids in selected.items():
        if object_type.match_on:
            _plan_matched(planner, object_type, object_ids, options.delete_extra)
            continue
        snapshot = planner.desired_of(object_type, object_ids)
        live = planner.live_of(object_type, object_ids)
        present = [i for i in object_ids if live[i] is not None]
        planner.read_holders(object_type, present)
        planner.read_changed_holders(object_type, present)
        binned = planner.binned(object_type, [i for i in object_ids if live[i] is None])
        for object_id in object_ids:
            found = live[object_id]
            if found is None:
                planner.plan_missing(object_type, object_id, snapshot[object_id], binned.get(object_id))
            else:
                planner.plan_existing(object_type, object_id, snapshot[object_id], found)
        if options.delete_extra and not object_type.singleton:
            for live_id, obj in _live_listing(client, object_type).items():
                if live_id not in snapshot:
                    planner.plan_extra(object_type, live_id, obj)
    planner.check_references()
    if options.follow_references:
        planner.follow_references(selected)
    else:
        planner.note_referrers_left_behind(selected)
    order = {name: t.restore_order for name, t in REGISTRY.items()}
    # The risk table reads a plan's writes as it reads a report's rows; it imports this module.
    from entragit.plan_risk import assess

    steps = assess(sorted(planner.steps.values(), key=lambda s: (s.stage, order[s.type], s.type, s.id)), client,
                   planner.names, planner._live_cache)
    fingerprints = {f"{type_name}/{object_id}": fingerprint(obj)
                    for (type_name, object_id), obj in planner._live_cache.items()}
    return Plan(at, commit, {t.name: ids_ for t, ids_ in selected.items()}, attributes, steps, planner.blocked,
                type_names, ids, options, id_map, fingerprints, planner.holdings)


def found_again(client: GraphClient, plan: Plan, uncertain: Collection[StepKey]) -> dict[str, str]:
    """Objects an interrupted run asked Graph to create without hearing its answer, found in the tenant
    by what tells them apart (old id -> the id Graph gave): made again, they would exist twice."""
    found: dict[str, str] = {}
    for step in plan.steps:
        object_type = REGISTRY[step.type]
        if step.kind != "create" or step.key not in uncertain or not object_type.found_again_by:
            continue
        values = [(step.body or {}).get(p) for p in object_type.found_again_by]
        if not all(isinstance(v, str) for v in values):
            continue
        quoted = [str(v).replace("'", "''") for v in values]
        query = " and ".join(f"{p} eq '{q}'" for p, q in zip(object_type.found_again_by, quoted))
        hits = [str(obj[object_type.key]) for obj in
                client.iter_collection(object_type.collection, {"$filter": query, "$select": object_type.key})]
        # Two or more: which one is ours cannot be told, and it is made again as if never sent.
        if len(hits) == 1:
            found[step.id] = hits[0]
    return found


def _already_done(step: Step, error: GraphError) -> bool:
    """A link write that fails because the link is already as wanted: a re-run after an interruption, or
    a link a recycle-bin restore brought back with its object."""
    if step.kind == "add-ref" and error.status == 400 and "already exist" in error.graph_message:
        return True
    return step.kind in ("remove-ref", "delete-ref") and error.status == 404


def _depends_on_failure(step: Step, failed_ids: set[str]) -> str | None:
    text = f"{step.path} {step.body or ''}"
    return next((old for old in failed_ids if old in text), None)


def current_key(step: Step, id_map: dict[str, str]) -> StepKey:
    """The step's key as a plan made once these objects were created would have it."""
    method, path, which = step.key
    return (method, rewrite(path, id_map), rewrite(which, id_map))


_RIDING_KINDS = frozenset({"patch", "reset", "remove-credential", "add-ref", "set-ref"})


def riders(steps: list[Step]) -> dict[StepKey, list[Step]]:
    """Steps that go out with an earlier step on the same object, tied to it by dependsOn, instead of
    waiting for their own stage: a write on an object restored from a recycle bin (it keeps its id, so
    no answer is needed to name it) that names no other object coming back, and the PATCH that removes
    what a disable step just disabled. leader's key -> its riders, at most a $batch's worth."""
    restored = {s.id: s for s in steps if s.kind == "restore"}
    coming = {s.id for s in steps if s.kind in ("restore", "create")}
    disabled = {(s.type, s.id): s for s in steps if s.kind == "disable"}
    found: dict[StepKey, list[Step]] = {}
    if not restored and not disabled:
        return found
    for step in steps:
        leader = disabled.get((step.type, step.id)) if step.kind == "patch" else None
        if leader is None and step.kind in _RIDING_KINDS:
            named = set(_GUID.findall(f"{step.path} {json.dumps(step.body)}")) & coming
            leader = restored.get(next(iter(named))) if len(named) == 1 else None
        if leader is None or leader.stage >= step.stage:
            continue
        riding = found.setdefault(leader.key, [])
        if len(riding) < BATCH_LIMIT - 1:
            riding.append(step)
    return found


def _send(client: GraphClient, steps: list[Step], created: dict[str, str],
          riding: dict[StepKey, list[Step]]) -> list[Outcome]:
    """Each step in $batch requests, its riders in the same request after it (dependsOn)."""
    sent: list[Step] = []
    items: list[BatchItem] = []
    for step in steps:
        leader = len(items)
        for index, each in enumerate([step, *riding.get(step.key, [])]):
            sent.append(each)
            items.append(BatchItem(each.method, rewrite(each.path, created), body=rewrite(each.body, created),
                                   after=leader if index else None))
    outcomes = []
    for step, item, answer in zip(sent, items, client.batch(items)):
        error = answer.error(item) if answer.status >= 400 else None
        if error is not None and _already_done(step, error):
            error = None
        outcomes.append(Outcome(step, answer.status, answer.body, error))
    return outcomes


def apply_plan(repo: BackupRepo, client: GraphClient, plan: Plan,
               progress: Callable[[int, int], None] | None = None, *,
               created: dict[str, str] | None = None, skip: Collection[StepKey] = (),
               on_batch: Callable[[list[Outcome]], None] | None = None,
               on_send: Callable[[list[Step]], None] | None = None,
               sleep: Callable[[float], None] = time.sleep) -> ApplyResult:
    """Write every step of a plan, stage by stage, then verify: plan again against the same snapshot;
    what remains is residue.

    The steps of a stage are independent of each other and go out in $batch requests, WRITE_SLICE at a
    time, each with its riders (see riders()); on_send hears each slice just before it goes out, on_batch
    its outcomes as soon as Graph answered them, before anything else is sent. Before a slice is sent,
    the ids Graph gave the objects created so far replace the old ids in its paths and bodies; a step
    that names an object whose creation failed is not sent.
    A resumed run passes what the interrupted one did: skip, the keys of the steps it wrote, and
    created, the ids it learned (old -> new), so that it rewrites as the first run would have."""
    done: list[Step] = []
    failed: list[tuple[Step, GraphError]] = []
    created = dict(created or {})
    not_created: set[str] = set()
    todo = [s for s in plan.steps if s.key not in skip]
    riding = riders(todo)
    leader_of = {r.key: leader for leader, rs in riding.items() for r in rs}
    requeued: set[StepKey] = set()
    done_keys: set[StepKey] = set()
    for stage in sorted({s.stage for s in todo}):
        steps: list[Step] = []
        for step in (s for s in todo if s.stage == stage and (s.key not in leader_of or s.key in requeued)):
            blocker = _depends_on_failure(step, not_created)
            if blocker is None:
                steps.append(step)
                continue
            for each in [step, *riding.get(step.key, [])]:
                failed.append((each, GraphError(each.method, each.path, 0, "DependencyFailed",
                                                f"not sent: {blocker} could not be brought back")))
        for start in range(0, len(steps), WRITE_SLICE):
            if on_send:
                on_send(steps[start:start + WRITE_SLICE])
            outcomes = _send(client, steps[start:start + WRITE_SLICE], created, riding)
            if on_batch:
                on_batch(outcomes)
            for outcome in outcomes:
                if outcome.error is None:
                    done.append(outcome.step)
                    done_keys.add(outcome.step.key)
                    created.update(outcome.created)
                elif outcome.status == 424 and leader_of.get(outcome.step.key) in done_keys:
                    # A rider before it in the sequential batch failed, not its object: it goes in its own stage.
                    requeued.add(outcome.step.key)
                else:
                    failed.append((outcome.step, outcome.error))
                    if outcome.step.kind in ("restore", "create"):
                        not_created.add(outcome.step.id)
            if progress:
                progress(len(done) + len(failed), len(todo))
    written = {current_key(s, created) for s in done}
    return ApplyResult(done, failed, verify(repo, client, plan, written, created, sleep), created)


def verify(repo: BackupRepo, client: GraphClient, plan: Plan, written: Collection[StepKey],
           created: dict[str, str], sleep: Callable[[float], None] = time.sleep) -> Plan:
    """Plan again against the same snapshot: what remains is residue. A difference that a write just
    made should have removed is read again a few times, since Graph shows writes with a delay."""
    residue = replan(repo, client, plan, created)
    for wait in SETTLE_WAITS:
        if not any(step.key in written for step in residue.steps):
            break
        sleep(wait)
        residue = replan(repo, client, plan, created)
    return residue


def replan(repo: BackupRepo, client: GraphClient, plan: Plan, created: dict[str, str]) -> Plan:
    """The same request planned afresh against the live tenant, through the ids of the objects created
    since the plan was made."""
    fresh = plan_restore(repo, client, plan.commit, plan.types, plan.ids, plan.attributes, plan.options,
                         {**plan.id_map, **created})
    fresh.at = plan.at
    return fresh
