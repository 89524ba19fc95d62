"""An object's history: the snapshots in which it changed, each with its attribute-level change, and the
changes elsewhere that were about it (added to a group, given a role, excluded from a policy)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from entragit import canonical
from entragit.canonical import Obj
from entragit.diff import Names, compare
from entragit.diff.names import referenced_names
from entragit.errors import StoreError
from entragit.registry import REGISTRY, ObjectType
from entragit.report.model import HistoryEntry, ObjectChange
from entragit.store import NO_DRIVERS, BackupRepo, object_path, split_path


_FORMAT = "--format=%x1e%H%x1f%P%x1f%cI%x1f%s"
_NO_BLOB = "0" * 40


@dataclass(frozen=True)
class _Commit:
    parent: str | None
    time: str
    subject: str
    files: dict[str, tuple[str | None, str | None]]  # path -> (blob before, blob after); None: no file


def _commits(repo: BackupRepo, args: list[str], limit: int | None) -> dict[str, _Commit]:
    """The commits one git log on the current branch lists, each with the blobs of the files it changed:
    reading them by blob id spares git a search of a large folder's tree per file."""
    found = {}
    for block in repo.git.git.log(*NO_DRIVERS, *([f"-{limit}"] if limit else []), _FORMAT, "--raw", "--no-abbrev",
                                  "--no-renames", *args).split("\x1e")[1:]:
        head, _, listing = block.partition("\n")
        commit, parents, time, subject = head.split("\x1f", 3)
        files = {}
        for line in listing.splitlines():
            if line.startswith(":"):
                meta, _, path = line.partition("\t")
                before, after = meta.split()[2:4]
                files[path] = (None if before == _NO_BLOB else before, None if after == _NO_BLOB else after)
        found[commit] = _Commit(parents.split()[0] if parents else None, time, subject, files)
    return found


def _locate(repo: BackupRepo, object_id: str) -> ObjectType:
    """The type whose folder holds this id now or, for an object since deleted, last held it: found by git
    without reading any file (one walk for every type's path: a walk per type would read the whole history
    once per type the id is not)."""
    paths = {object_path(object_type, object_id): object_type for object_type in REGISTRY.values()}
    found = repo.existing("HEAD", list(paths))
    if not found:
        listed = repo.git.git.log(*NO_DRIVERS, "-1", "--format=", "--name-only", "--no-renames", "HEAD", "--", *paths)
        found = [path for path in listed.splitlines() if path in paths]
    if not found:
        raise StoreError(f"no object with id {object_id} in any snapshot of {repo.root}")
    return paths[found[0]]


def _own_commits(repo: BackupRepo, object_id: str, limit: int | None) -> tuple[ObjectType, dict[str, _Commit]]:
    object_type = _locate(repo, object_id)
    return object_type, _commits(repo, ["HEAD", "--", object_path(object_type, object_id)], limit)


def _first_snapshot(repo: BackupRepo, order: list[str]) -> str | None:
    """The oldest commit of the branch that holds objects: the snapshot the backup began with."""
    folders = {t.name for t in REGISTRY.values()}
    for commit in reversed(order):
        if folders & set(repo.git.git.ls_tree("-d", "--name-only", commit).split("\n")):
            return commit
    return None


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
    # The branch's own order, not commit times: snapshots taken within one second share a timestamp.
    order = repo.git.git.rev_list("--topo-order", "HEAD").split()
    newest_first = {commit: n for n, commit in enumerate(order)}
    # The first snapshot lists the whole tenant as new: what named the object then is its state when the
    # backup began, not a change, and the pickaxe would read every file of the tenant to find it.
    searched = order[:order.index(first)] if (first := _first_snapshot(repo, order)) else order
    # Every walk diffs each snapshot's trees, the pickaxe reads each changed file too (most of the time on
    # a large tenant): the object's own walk (after finding its type) and the pickaxe over the newer and
    # the older half of the branch run side by side.
    middle = searched[len(searched) // 2] if len(searched) > 1 else None
    halves = [["HEAD", f"^{middle}"], [middle]] if middle else [["HEAD"]] if searched else []
    for half in halves:
        half += [f"^{first}"] if first else []
    with ThreadPoolExecutor(1 + len(halves)) as pool:
        owning = pool.submit(_own_commits, repo, object_id, limit)
        # No pathspec: git tests every entry of a changed tree against every path named, which costs more
        # than the search itself once there are dozens of type folders; files that are not objects'
        # (entragit.yaml) are passed over below.
        searches = [pool.submit(_commits, repo, [f"-S{object_id}", *half], limit) for half in halves]
        object_type, own = owning.result()
        mentions = {commit: found for search in searches for commit, found in search.result().items()}
    path = object_path(object_type, object_id)
    listed = [c.files for c in [*own.values(), *mentions.values()]]
    blobs = repo.read_blobs(sorted({b for files in listed for pair in files.values() for b in pair if b}))

    def load(commit: str | None, file: str, blob: str | None, of_type: ObjectType) -> Obj | None:
        return None if blob is None else canonical.load(blobs[blob], file, commit, of_type)

    # The object as each of its own commits left it, oldest first: the rows elsewhere name it, and its
    # name at the time is known without asking git for it.
    states = sorted(((newest_first[c], found.files[path][1]) for c, found in own.items()), reverse=True)

    def as_of(commit: str) -> Obj | None:
        blob = next((b for n, b in reversed(states) if n >= newest_first[commit]), None)
        return load(commit, path, blob, object_type)

    entries = []
    for commit in sorted(own.keys() | mentions.keys(), key=newest_first.__getitem__):
        found = own.get(commit) or mentions[commit]
        names = Names(repo, [commit] + ([found.parent] if found.parent else []))
        names.add(object_type, {object_id: as_of(commit)})
        change = None
        if commit in own:
            old, new = own[commit].files[path]
            change = compare(object_type, object_id, load(found.parent, path, old, object_type),
                             load(commit, path, new, object_type), names)
        elsewhere = []
        for other_path, (old, new) in mentions[commit].files.items() if commit in mentions else []:
            located = split_path(other_path)
            if located is None or other_path == path:
                continue
            other_type, other_id = located
            other = compare(other_type, other_id, load(found.parent, other_path, old, other_type),
                            load(commit, other_path, new, other_type), names)
            if other is not None and (narrowed := _about(other, object_id)) is not None:
                elsewhere.append(narrowed)
        if change is not None or elsewhere:
            named = referenced_names([c for c in (change, *elsewhere) if c is not None], names)
            entries.append(HistoryEntry(commit, found.time, found.subject, change, elsewhere, named))
    return entries[:limit] if limit else entries
