"""An object's history: the snapshots in which it changed, each with its attribute-level change, and the
changes elsewhere that were about it (added to a group, given a role, excluded from a policy)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from entragit.diff import Names, compare
from entragit.errors import StoreError
from entragit.registry import REGISTRY, ObjectType
from entragit.report.model import HistoryEntry, ObjectChange
from entragit.store import NO_DRIVERS, BackupRepo, object_path, split_path


def _locate(repo: BackupRepo, object_id: str) -> ObjectType:
    """The type whose folder ever held this id, found by git without reading any file: one walk for every
    type's path (a walk per type would read the whole history once per type the id is not)."""
    paths = {object_path(object_type, object_id): object_type for object_type in REGISTRY.values()}
    listed = repo.git.git.log(*NO_DRIVERS, "-1", "--format=", "--name-only", "--no-renames", "--all", "--", *paths)
    found = [paths[path] for path in listed.splitlines() if path in paths]
    if not found:
        raise StoreError(f"no object with id {object_id} in any snapshot of {repo.root}")
    return min(found, key=list(REGISTRY.values()).index)


_FORMAT = "--format=%x1e%H%x1f%ct%x1f%cI%x1f%s"


def _commits(repo: BackupRepo, args: list[str], limit: int | None) -> dict[str, tuple[int, str, str, list[str]]]:
    """commit -> (timestamp, time, subject, the files listed) from one git log on the current branch."""
    found = {}
    for block in repo.git.git.log(*NO_DRIVERS, *([f"-{limit}"] if limit else []), _FORMAT, "--no-renames",
                                  *args).split("\x1e")[1:]:
        head, _, files = block.partition("\n")
        commit, stamp, time, subject = head.split("\x1f", 3)
        found[commit] = (int(stamp), time, subject, [f for f in files.splitlines() if f])
    return found


def _about(change: ObjectChange, object_id: str) -> ObjectChange | None:
    """The rows of another object's change that add or remove object_id."""
    members = [m for m in change.members if m.id == object_id]
    attributes = [a for a in change.attributes if object_id in json.dumps([a.old, a.new])]
    if not members and not attributes:
        return None
    return replace(change, members=members, attributes=attributes)


def object_history(repo: BackupRepo, object_id: str, limit: int | None = None) -> list[HistoryEntry]:
    """Newest first: every commit on the current branch that changed the object's file, or changed how
    many times another object's file names it (git's pickaxe finds those without reading every file)."""
    object_type = _locate(repo, object_id)
    path = object_path(object_type, object_id)
    # Both walks diff every snapshot's trees, the pickaxe reads every changed file too: side by side.
    with ThreadPoolExecutor(2) as pool:
        owning = pool.submit(_commits, repo, ["HEAD", "--", path], limit)
        mentions = _commits(repo, [f"-S{object_id}", "--name-only", "HEAD", "--",
                                   *(f"{t.name}/" for t in REGISTRY.values())], limit)
        own = owning.result()
    # The branch's own order, not commit times: snapshots taken within one second share a timestamp.
    newest_first = {commit: n for n, commit in enumerate(repo.git.git.rev_list("--topo-order", "HEAD").split())}
    entries = []
    for commit in sorted(own.keys() | mentions.keys(), key=newest_first.__getitem__):
        _, time, subject, _ = own.get(commit) or mentions[commit]
        parents = repo.git.commit(commit).parents
        before = parents[0].hexsha if parents else None
        names = Names(repo, [commit] + ([before] if before else []))
        change = None
        if commit in own:
            old = repo.read_object(before, object_type, object_id) if before else None
            change = compare(object_type, object_id, old, repo.read_object(commit, object_type, object_id), names)
        elsewhere = []
        for other_path in mentions[commit][3] if commit in mentions else []:
            located = split_path(other_path)
            if located is None or other_path == path:
                continue
            other_type, other_id = located
            old = repo.read_object(before, other_type, other_id) if before else None
            other = compare(other_type, other_id, old, repo.read_object(commit, other_type, other_id), names)
            if other is not None and (narrowed := _about(other, object_id)) is not None:
                elsewhere.append(narrowed)
        if change is not None or elsewhere:
            entries.append(HistoryEntry(commit, time, subject, change, elsewhere))
    return entries[:limit] if limit else entries
