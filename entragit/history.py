"""An object's history: the snapshots in which it changed, each with its attribute-level change."""

from __future__ import annotations

from dataclasses import dataclass

from entragit.diff import Names, ObjectChange, compare
from entragit.errors import StoreError
from entragit.registry import REGISTRY, ObjectType
from entragit.store import BackupRepo, object_path


@dataclass(frozen=True)
class HistoryEntry:
    commit: str
    time: str
    subject: str
    change: ObjectChange


def _locate(repo: BackupRepo, object_id: str) -> ObjectType:
    """The type whose folder ever held this id, found by git without reading any file."""
    for object_type in REGISTRY.values():
        if repo.git.git.log("-1", "--format=%H", "--all", "--", object_path(object_type, object_id)):
            return object_type
    raise StoreError(f"no object with id {object_id} in any snapshot of {repo.root}")


def object_history(repo: BackupRepo, object_id: str, limit: int | None = None) -> list[HistoryEntry]:
    """Newest first: every commit on the current branch that changed the object's file."""
    object_type = _locate(repo, object_id)
    path = object_path(object_type, object_id)
    args = ["--format=%H%x1f%cI%x1f%s", "--no-renames", "HEAD", "--", path]
    if limit:
        args.insert(0, f"-{limit}")
    entries = []
    for line in filter(None, repo.git.git.log(*args).splitlines()):
        commit, time, subject = line.split("\x1f", 2)
        parents = repo.git.commit(commit).parents
        old = repo.read_object(parents[0].hexsha, object_type, object_id) if parents else None
        new = repo.read_object(commit, object_type, object_id)
        names = Names(repo, [commit] + [p.hexsha for p in parents[:1]])
        change = compare(object_type, object_id, old, new, names)
        if change is not None:
            entries.append(HistoryEntry(commit, time, subject, change))
    return entries
