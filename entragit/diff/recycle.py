"""Where the objects a report compares went: back from a deletion (restored), or removed, and then in a
recycle bin (read from the tenant, or estimated from the snapshots' times) or gone for good."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from entragit import canonical
from entragit.canonical import Obj
from entragit.diff.compare import Pair
from entragit.diff.names import blobs_at
from entragit.errors import GraphError
from entragit.graph import BatchItem, GraphClient
from entragit.registry import RECYCLE_BIN_DAYS, ObjectType
from entragit.report.model import RecycleState
from entragit.store import NO_DRIVERS, BackupRepo, object_path


# git matches every tree entry against every pathspec: above this many paths, naming their folders
# (and filtering the answer) is cheaper than naming each path.
_PATHSPEC_LIMIT = 300


def _pathspec(paths: list[str]) -> list[str]:
    return paths if len(paths) <= _PATHSPEC_LIMIT else sorted({p.split("/", 1)[0] + "/" for p in paths})


def _deletions(repo: BackupRepo, revisions: list[str], paths: list[str]) -> dict[str, tuple[str, str]]:
    """path -> (commit, commit time) of the newest commit among revisions that deleted the file."""
    if not paths:
        return {}
    out = repo.git.git(c="core.quotePath=false").log(
        *NO_DRIVERS, "--diff-filter=D", "--no-renames", "--name-only", "--format=%x1e%H%x1f%cI", *revisions, "--",
        *_pathspec(paths))
    wanted, found = set(paths), {}
    for block in out.split("\x1e")[1:]:
        head, _, names = block.partition("\n")
        commit, time = head.split("\x1f")
        for name in names.splitlines():
            if name in wanted and name not in found:
                found[name] = (commit, time)
    return found


def restored(repo: BackupRepo, before: str, pairs: list[Pair]) -> None:
    """Mark the objects that are new since `before` but were in an earlier snapshot: restored, most likely
    from the recycle bin (same id). Their old side becomes the state they were deleted in."""
    fresh = {object_path(p.object_type, p.object_id): p for p in pairs if p.old is None and p.new is not None}
    deletions = _deletions(repo, [before], list(fresh))
    # Read by blob id, a listing per deleting snapshot: a restore of 500 users from the recycle bin
    # must not cost 500 path lookups in a 100k-entry tree.
    by_snapshot: dict[str, list[str]] = {}
    for path, (commit, _) in deletions.items():
        by_snapshot.setdefault(f"{commit}^", []).append(path)
    for before_deletion, paths in by_snapshot.items():
        blobs = blobs_at(repo, before_deletion, paths)
        contents = repo.read_blobs(list(blobs.values()))
        for path, blob in blobs.items():
            fresh[path].old = canonical.load(contents[blob], path, before_deletion, fresh[path].object_type)
            fresh[path].deleted_at = deletions[path][1]


def _after_days(time: str, days: int) -> str:
    return (datetime.fromisoformat(time) + timedelta(days=days)).astimezone(timezone.utc).date().isoformat()


def _estimated_recycle(object_type: ObjectType, obj: Obj | None, deleted_by: str) -> RecycleState:
    if not object_type.goes_to_recycle_bin(obj):
        why = (f"{object_type.name} have no recycle bin" if object_type.recycle_bin is None
               else f"this kind of {object_type.singular} skips the recycle bin")
        return RecycleState(False, None, note=f"deleted permanently: {why}")
    return RecycleState(True, _after_days(deleted_by, RECYCLE_BIN_DAYS),
                        note=f"deletion recorded by the snapshot of {deleted_by[:10]}")


def removed_from_history(repo: BackupRepo, commit_a: str, commit_b: str, new_time: str,
                          pairs: list[Pair]) -> None:
    """Where each removed object is now, as far as the snapshots tell: the deletion happened by the
    snapshot that recorded it, so it is restorable until about 30 days after that, unless purged."""
    gone = {object_path(p.object_type, p.object_id): p for p in pairs if p.new is None}
    found = _deletions(repo, [f"{commit_a}..{commit_b}"], list(gone))
    for path, pair in gone.items():
        pair.recycle = _estimated_recycle(pair.object_type, pair.old, found.get(path, ("", new_time))[1])


def removed_from_tenant(client: GraphClient, pairs: list[Pair]) -> None:
    """Where each removed object is now, read from the tenant's recycle bins."""
    gone = [p for p in pairs if p.new is None]
    for pair in gone:
        if pair.object_type.recycle_bin is None:
            pair.recycle = RecycleState(False, None, observed=True,
                                        note=f"deleted permanently: {pair.object_type.name} have no recycle bin")
    binned = [p for p in gone if p.object_type.recycle_bin is not None]
    items = [BatchItem("GET", f"{p.object_type.recycle_bin}/{quote(p.object_id)}") for p in binned]
    for pair, answer in zip(binned, client.get_many(items) if items else []):
        if isinstance(answer, GraphError):
            pair.recycle = (RecycleState(False, None, observed=True, note="not in the recycle bin: deleted "
                                         "permanently or purged") if answer.not_found else
                            RecycleState(None, None, observed=True,
                                         note=f"the recycle bin could not be read: {answer.code}"))
        elif answer.get("deletedDateTime"):
            pair.recycle = RecycleState(True, _after_days(str(answer["deletedDateTime"]), RECYCLE_BIN_DAYS),
                                        observed=True, note=f"deleted {str(answer['deletedDateTime'])[:10]}")
        else:
            pair.recycle = RecycleState(True, None, observed=True)
