"""A difference report from start to end: the two states read, compared, named, placed in the recycle bin,
cached, flagged for risk and attributed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone

from entragit import canonical
from entragit.attribution import attribute
from entragit.canonical import Obj
from entragit.connect import graph_client
from entragit.diff.compare import Pair, compare, moves, split_relations
from entragit.diff.entries import Entries
from entragit.diff.names import Names, member_folders, referenced_names
from entragit.diff.recycle import removed_from_history, removed_from_tenant, restored
from entragit.diff.revisions import default_revisions, recorded, revision_by_time
from entragit.diffcache import DiffCache
from entragit.errors import StoreError
from entragit.graph import GraphClient
from entragit.live import fetch_objects, fetch_type
from entragit.permissions import check_tenant, sign_in
from entragit.registry import REGISTRY
from entragit.report.model import DiffReport, ObjectChange, Side
from entragit.risk import find_risks
from entragit.selection import Selection
from entragit.store import NO_DRIVERS, BackupRepo, split_path


def _sort(changes: list[ObjectChange]) -> list[ObjectChange]:
    order = {name: (t.restore_order, name) for name, t in REGISTRY.items()}
    return sorted(changes, key=lambda c: (order[c.type], (c.display_name or "").lower(), c.id))


def _require_found(ids: tuple[str, ...], found: set[str], where: str) -> None:
    missing = [i for i in ids if i not in found]
    if missing:
        raise StoreError(f"no object with id {', '.join(missing)} in {where}")


def _narrowed(change: ObjectChange, selection: Selection) -> ObjectChange | None:
    if not selection.attributes:
        return change
    rows = [a for a in change.attributes if selection.shows_attribute(a.path)]
    members = [m for m in change.members if selection.shows_attribute(m.relationship)]
    if not rows and not members:
        return None
    return replace(change, attributes=rows, members=members)


def _moved_members(pairs: list[Pair]) -> dict[str, tuple[str, ...]]:
    """Every member that joins or leaves a relationship in these pairs -> the types it may be."""
    wanted: dict[str, tuple[str, ...]] = {}
    for pair in pairs:
        _, old_rel = split_relations(pair.object_type, pair.old)
        _, new_rel = split_relations(pair.object_type, pair.new)
        wanted.update((member_id, rel.member_types) for rel, _, member_id in
                      moves(pair.object_type, old_rel, new_rel))
    return wanted


def _name_members(changes: list[ObjectChange], names: Names) -> None:
    """Fill in who each member change is about (the names were looked up at once beforehand)."""
    for change in changes:
        change.members = [replace(m, display_name=found[1], type=found[0]) if (found := names(m.id)) else m
                          for m in change.members]


def _changes(pairs: list[Pair], names: Names, selection: Selection) -> list[ObjectChange]:
    names.prefetch_soon(_moved_members(pairs))
    changes = []
    for pair in pairs:
        change = compare(pair.object_type, pair.object_id, pair.old, pair.new, None)
        if pair.deleted_at is not None:
            shown = (pair.new or {}).get(pair.object_type.display_key)
            change = replace(change or ObjectChange(pair.object_type.name, pair.object_id, shown, "restored"),
                             change="restored", deleted_at=pair.deleted_at)
        if change is not None:
            change.recycle = pair.recycle
            change = _narrowed(change, selection)
        if change is not None:
            changes.append(change)
    _name_members(changes, names)
    return _sort(changes)


def _commit_times(repo: BackupRepo, *commits: str) -> dict[str, str]:
    # Not `git show -s`: it computes each commit's diff before throwing it away.
    out = str(repo.git.git.log(*NO_DRIVERS, "--no-walk", "--format=%H %cI", *commits))
    return dict(line.split(" ", 1) for line in out.splitlines())


def diff_revisions(repo: BackupRepo, rev_a: str, rev_b: str, selection: Selection = Selection(),
                   progress: Callable[[str, int], None] | None = None) -> DiffReport:
    """Differences between two commits; only the files git names as changed are read, in one stream."""
    commit_a, commit_b = repo.resolve(rev_a), repo.resolve(rev_b)
    types = selection.object_types()
    files = Entries()
    names = Names(repo, [commit_b, commit_a], files)
    changed = [(c, located) for c in repo.changed_paths(commit_a, commit_b, types)
               if (located := split_path(c.path)) is not None and selection.wants_id(located[1])]
    names.warm(member_folders([object_type for _, (object_type, _) in changed]))
    blobs = repo.read_blobs([b for c, _ in changed for b in (c.old_blob, c.new_blob) if b is not None])
    pairs = []
    for path_change, (object_type, object_id) in changed:
        old_blob, new_blob = path_change.old_blob, path_change.new_blob
        old: Obj | None
        new: Obj | None
        if old_blob is not None and new_blob is not None:
            old, new = files.differing(object_type, blobs[old_blob], blobs[new_blob], path_change.path,
                                       commit_a, commit_b)
        else:
            old = None if old_blob is None else canonical.load(blobs[old_blob], path_change.path, commit_a,
                                                                object_type)
            new = None if new_blob is None else canonical.load(blobs[new_blob], path_change.path, commit_b,
                                                                object_type)
        names.add(object_type, {object_id: new or old})
        pairs.append(Pair(object_type, object_id, old, new))
        if progress and len(pairs) % 5000 == 0:
            progress("changed files", len(pairs))
    if selection.ids:
        present = {i for t in types for c in (commit_a, commit_b) for i in repo.read_objects(c, t, selection.ids)}
        _require_found(selection.ids, present, f"{rev_a} or {rev_b}")
    times = _commit_times(repo, commit_a, commit_b)
    old_side, new_side = Side(rev_a, commit_a, times[commit_a]), Side(rev_b, commit_b, times[commit_b])
    restored(repo, commit_a, pairs)
    removed_from_history(repo, commit_a, commit_b, str(new_side.time), pairs)
    changes = _changes(pairs, names, selection)
    return DiffReport(old_side, new_side, changes, names=referenced_names(changes, names))


def diff_live(repo: BackupRepo, client: GraphClient, rev: str, selection: Selection = Selection(),
              progress: Callable[[str, int], None] | None = None) -> DiffReport:
    """Differences between a commit and the tenant as it is now (the tenant the snapshots at rev are of:
    another one would differ in every object)."""
    commit = repo.resolve(rev)
    check_tenant(repo, sign_in(client, repo.config.tenant_id), rev, "nothing compared")
    types = selection.object_types()
    names = Names(repo, [commit])
    pairs = []
    ids = selection.ids
    stored_by_type = {t: repo.read_objects(commit, t, ids or None) for t in types}
    in_snapshot = {i for stored in stored_by_type.values() for i in stored}
    seen_live: set[str] = set()
    read_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
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
            old, new = stored.get(object_id), live.get(object_id)
            if old != new:
                pairs.append(Pair(object_type, object_id, old, new))
    _require_found(ids, in_snapshot | seen_live, f"snapshot {rev} or the live tenant")
    restored(repo, commit, pairs)
    removed_from_tenant(client, pairs)
    changes = _changes(pairs, names, selection)
    return DiffReport(Side(rev, commit, _commit_times(repo, commit)[commit]), Side("live", None, read_at), changes,
                      names=referenced_names(changes, names))


def _with_risks(repo: BackupRepo, report: DiffReport) -> DiffReport:
    """The report with its risk highlights: they follow from the changes alone, so they are cached with them."""
    report.risks = find_risks(report, Names(repo, [c for c in (report.new.commit, report.old.commit) if c]))
    return report


def make_report(repo: BackupRepo, rev_a: str | None, rev_b: str | None, *, live: bool,
                selection: Selection = Selection(), since: str | None = None, at: str | None = None, now: datetime | None = None,
                client_factory: Callable[[], GraphClient] | None = None,
                progress: Callable[[str, int], None] | None = None, attribution: bool = True) -> DiffReport:
    """The report `entragit diff` shows, with the user's omissions filled in.

    --since and --at choose the older side by time; a report between two commits is kept in a cache
    under .git/entragit/, so asking again for the same pair costs nothing. Risk highlights follow from
    the changes; `attribution` reads the tenant's audit log for who made each change (never failing the
    report), afresh each time, since audit records arrive minutes late.
    """
    if live and rev_b:
        raise StoreError("--live compares one revision with the tenant; give one revision, not two")
    by_time = revision_by_time(repo, since, at, now)
    if by_time is not None and rev_a:
        raise StoreError("--since/--at choose the older snapshot; give them or a revision, not both")
    if by_time is not None:
        rev_a = by_time
    old, new = default_revisions(repo, rev_a, rev_b, live)
    if new is None:
        client = client_factory() if client_factory else graph_client(repo.config.connection())
        report = _with_risks(repo, diff_live(repo, client, old, selection, progress))
        client_factory = lambda: client  # the audit log is read by the client that read the tenant
    else:
        report = DiffCache(repo).report(old, new, selection, lambda: _with_risks(
            repo, diff_revisions(repo, old, new, selection, progress)))
    # Said on every report, cached or not: a revert commit compared is easily taken for a snapshot.
    kinds = recorded(repo, *(side.commit for side in (report.old, report.new) if side.commit))
    report.old, report.new = (replace(side, snapshot=kinds[side.commit].snapshot,
                                      reverts=kinds[side.commit].reverts) if side.commit else side
                              for side in (report.old, report.new))
    if attribution:
        attribute(report, repo, client_factory)
    return report
