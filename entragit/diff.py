"""Attribute-level differences between two states of the tenant (commit/commit or commit/live)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jsonpatch

from entragit.canonical import Obj
from entragit.errors import StoreError
from entragit.graph import GraphClient
from entragit.live import fetch_objects, fetch_type
from entragit.registry import REGISTRY, ObjectType, resolve_types
from entragit.store import BackupRepo, split_path


@dataclass(frozen=True)
class AttributeChange:
    path: str
    """Dotted attribute path, e.g. onPremisesExtensionAttributes.extensionAttribute3."""
    old: Any
    new: Any


@dataclass(frozen=True)
class MemberChange:
    relationship: str
    action: str  # "added" | "removed"
    id: str
    display_name: str | None
    type: str | None


@dataclass(frozen=True)
class Attribution:
    """Who changed an object, from the tenant's directory audit log."""

    actor: str
    """The initiating user's principal name or the initiating app's display name."""
    actor_kind: str  # "user" | "app"
    actor_id: str | None
    activity: str
    """The audit record's activityDisplayName, e.g. "Update user"."""
    time: str
    """ISO 8601, UTC."""


@dataclass(frozen=True)
class RecycleState:
    """Where a removed object is now: in a recycle bin until a date, or gone for good."""

    in_recycle_bin: bool
    restorable_until: str | None


@dataclass(frozen=True)
class RiskFlag:
    """A change that weakens security, found by a rule of the declarative risk table."""

    rule: str
    severity: str  # "high" | "medium"
    type: str
    id: str
    display_name: str | None
    detail: str


@dataclass
class ObjectChange:
    type: str
    id: str
    display_name: str | None
    change: str  # "added" | "removed" | "modified" | "restored"
    attributes: list[AttributeChange] = field(default_factory=list)
    members: list[MemberChange] = field(default_factory=list)
    recycle: RecycleState | None = None
    """For a removed object, when known."""
    changed_by: list[Attribution] = field(default_factory=list)


@dataclass(frozen=True)
class Side:
    label: str
    commit: str | None
    """None for the live tenant."""


@dataclass
class DiffReport:
    old: Side
    new: Side
    changes: list[ObjectChange]
    risks: list[RiskFlag] = field(default_factory=list)
    attribution: str = "not requested"
    """"available", "not requested", or "unavailable: <why>" (e.g. no AuditLog.Read.All)."""

    @property
    def empty(self) -> bool:
        return not self.changes


NameLookup = Callable[[str], tuple[str, str | None] | None]
"""id -> (type name, display name), or None when the id names nothing known."""


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


def _leaf_rows(path: tuple[str, ...], old: Any, new: Any) -> Iterable[AttributeChange]:
    """A change to a nested object becomes one row per changed leaf, so the row names what changed."""
    if old == new:
        return
    if isinstance(old, dict) or isinstance(new, dict):
        if (old is None or isinstance(old, dict)) and (new is None or isinstance(new, dict)):
            old_d, new_d = old or {}, new or {}
            for key in sorted(set(old_d) | set(new_d)):
                yield from _leaf_rows(path + (key,), old_d.get(key), new_d.get(key))
            return
    yield AttributeChange(".".join(path), old, new)


def attribute_changes(old: Obj, new: Obj) -> list[AttributeChange]:
    """Rows for the differences between two attribute maps, found with an RFC 6902 patch."""
    paths: set[tuple[str, ...]] = set()
    for op in jsonpatch.make_patch(old, new).patch:
        for pointer in (op.get("path"), op.get("from")):
            if pointer is not None:
                paths.add(_collapse(_pointer_to_path(pointer), old, new))
    # A shorter path covers its longer ones (an object replaced as a whole).
    roots = {p for p in paths if not any(p[: len(q)] == q and p != q for q in paths)}
    rows: list[AttributeChange] = []
    for parts in sorted(roots):
        rows.extend(_leaf_rows(parts, _lookup(old, list(parts)), _lookup(new, list(parts))))
    return rows


def split_relations(object_type: ObjectType, obj: Obj | None) -> tuple[Obj, dict[str, Any]]:
    """An object's own attributes apart from its relationships (single-valued ones stay attributes)."""
    if obj is None:
        return {}, {}
    many = {r.name for r in object_type.relationships if r.many}
    return {k: v for k, v in obj.items() if k not in many}, {k: obj.get(k, []) for k in many}


def compare(object_type: ObjectType, object_id: str, old: Obj | None, new: Obj | None,
            names: NameLookup) -> ObjectChange | None:
    if old == new:
        return None
    old_attrs, old_rel = split_relations(object_type, old)
    new_attrs, new_rel = split_relations(object_type, new)
    change = "added" if old is None else "removed" if new is None else "modified"
    shown = (new or old or {}).get(object_type.display_key)
    result = ObjectChange(object_type.name, object_id, shown, change, attribute_changes(old_attrs, new_attrs))
    for rel in object_type.relationships:
        if not rel.many:
            continue
        before, after = set(old_rel.get(rel.name, [])), set(new_rel.get(rel.name, []))
        for action, ids in (("removed", before - after), ("added", after - before)):
            for member_id in sorted(ids):
                found = names(member_id)
                result.members.append(MemberChange(rel.name, action, member_id,
                                                   found[1] if found else None, found[0] if found else None))
    return result


def _sort(changes: list[ObjectChange]) -> list[ObjectChange]:
    order = {name: (t.restore_order, name) for name, t in REGISTRY.items()}
    return sorted(changes, key=lambda c: (order[c.type], (c.display_name or "").lower(), c.id))


class Names:
    """Display names for ids: from objects already at hand, then from the files of the given commits.

    Only the ids a report actually shows are looked up, so the cost follows the change, not the tenant.
    """

    def __init__(self, repo: BackupRepo, commits: list[str]) -> None:
        self._repo = repo
        self._commits = commits
        self._known: dict[str, tuple[str, str | None]] = {}
        self._looked: set[str] = set()

    def add(self, object_type: ObjectType, objects: dict[str, Obj | None]) -> None:
        for object_id, obj in objects.items():
            if obj is not None:
                self._known.setdefault(object_id, (object_type.name, obj.get(object_type.display_key)))

    def __call__(self, object_id: str) -> tuple[str, str | None] | None:
        if object_id not in self._known and object_id not in self._looked:
            self._looked.add(object_id)
            for commit in self._commits:
                for object_type in REGISTRY.values():
                    try:
                        obj = self._repo.read_object(commit, object_type, object_id)
                    except StoreError:
                        obj = None
                    if obj is not None:
                        self._known[object_id] = (object_type.name, obj.get(object_type.display_key))
                        return self._known[object_id]
        return self._known.get(object_id)


def _require_found(ids: tuple[str, ...], found: set[str], where: str) -> None:
    missing = [i for i in ids if i not in found]
    if missing:
        raise StoreError(f"no object with id {', '.join(missing)} in {where}")


def _wanted(object_id: str, ids: tuple[str, ...]) -> bool:
    return not ids or object_id in ids


def diff_revisions(repo: BackupRepo, rev_a: str, rev_b: str, type_names: tuple[str, ...] = (),
                   ids: tuple[str, ...] = ()) -> DiffReport:
    """Differences between two commits; only the files git names as changed are read."""
    commit_a, commit_b = repo.resolve(rev_a), repo.resolve(rev_b)
    types = resolve_types(type_names)
    names = Names(repo, [commit_b, commit_a])
    pairs = []
    for path_change in repo.changed_paths(commit_a, commit_b, types):
        located = split_path(path_change.path)
        if located is None or not _wanted(located[1], ids):
            continue
        object_type, object_id = located
        old = None if path_change.status == "A" else repo.read_object(commit_a, object_type, object_id)
        new = None if path_change.status == "D" else repo.read_object(commit_b, object_type, object_id)
        names.add(object_type, {object_id: new or old})
        pairs.append((object_type, object_id, old, new))
    if ids:
        present = {i for t in types for c in (commit_a, commit_b) for i in repo.read_objects(c, t, ids)}
        _require_found(ids, present, f"{rev_a} or {rev_b}")
    changes = [c for c in (compare(t, i, o, n, names) for t, i, o, n in pairs) if c is not None]
    return DiffReport(Side(rev_a, commit_a), Side(rev_b, commit_b), _sort(changes))


def diff_live(repo: BackupRepo, client: GraphClient, rev: str, type_names: tuple[str, ...] = (),
              ids: tuple[str, ...] = (), progress: Callable[[str, int], None] | None = None) -> DiffReport:
    """Differences between a commit and the tenant as it is now."""
    commit = repo.resolve(rev)
    types = resolve_types(type_names)
    names = Names(repo, [commit])
    pairs = []
    stored_by_type = {t: repo.read_objects(commit, t, ids or None) for t in types}
    in_snapshot = {i for stored in stored_by_type.values() for i in stored}
    seen_live: set[str] = set()
    for object_type, stored in stored_by_type.items():
        if ids:
            # An id absent from the snapshot may be an object created since: look for it in every type.
            wanted = [i for i in ids if i in stored or i not in in_snapshot]
            live: dict[str, Obj | None] = dict(fetch_objects(client, object_type, wanted))
        else:
            live = dict(fetch_type(client, object_type, progress))
        names.add(object_type, live)
        names.add(object_type, dict(stored))
        seen_live |= {i for i, o in live.items() if o is not None}
        for object_id in sorted(set(stored) | {i for i, o in live.items() if o is not None}):
            pairs.append((object_type, object_id, stored.get(object_id), live.get(object_id)))
    _require_found(ids, in_snapshot | seen_live, f"snapshot {rev} or the live tenant")
    changes = [c for c in (compare(t, i, o, n, names) for t, i, o, n in pairs) if c is not None]
    return DiffReport(Side(rev, commit), Side("live", None), _sort(changes))


def default_revisions(repo: BackupRepo, rev_a: str | None, rev_b: str | None, live: bool) -> tuple[str, str | None]:
    """Fill in what the user left out: the two newest snapshots, or the newest against live."""
    if rev_a and (rev_b or live):
        return rev_a, rev_b
    snapshots = repo.snapshots(limit=2)
    if rev_a:
        if not snapshots:
            raise StoreError(f"{repo.root} has no snapshot yet; take one with `entragit snapshot`")
        return rev_a, snapshots[0].commit
    if live:
        if not snapshots:
            raise StoreError(f"{repo.root} has no snapshot yet; take one with `entragit snapshot`")
        return snapshots[0].commit, None
    if len(snapshots) < 2:
        raise StoreError(
            f"{repo.root} has {len(snapshots)} snapshot(s); a diff needs two, or one and --live "
            "(`entragit diff HEAD --live`)"
        )
    return snapshots[1].commit, snapshots[0].commit


def make_report(repo: BackupRepo, rev_a: str | None, rev_b: str | None, *, live: bool,
                type_names: tuple[str, ...] = (), ids: tuple[str, ...] = (),
                client_factory: Callable[[], GraphClient] | None = None,
                progress: Callable[[str, int], None] | None = None, attribution: bool = True) -> DiffReport:
    """The report `entragit diff` shows, with the user's omissions filled in; `attribution` reads the
    tenant's audit log for who made each change (never failing the report)."""
    if live and rev_b:
        raise StoreError("--live compares one revision with the tenant; give one revision, not two")
    old, new = default_revisions(repo, rev_a, rev_b, live)
    if new is None:
        from entragit.connect import graph_client

        client = client_factory() if client_factory else graph_client(repo.config.connection())
        report = diff_live(repo, client, old, type_names, ids, progress)
        client_factory = lambda: client  # the audit log is read by the client that read the tenant
    else:
        report = diff_revisions(repo, old, new, type_names, ids)
    from entragit.risk import find_risks

    report.risks = find_risks(report, Names(repo, [c for c in (report.new.commit, report.old.commit) if c]))
    if attribution:
        from entragit.attribution import attribute

        attribute(report, repo, client_factory)
    return report
