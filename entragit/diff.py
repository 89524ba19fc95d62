"""Attribute-level differences between two states of the tenant (commit/commit or commit/live)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import jsonpatch

from entragit import canonical
from entragit.canonical import Obj
from entragit.errors import GraphError, StoreError
from entragit.graph import BatchItem, GraphClient
from entragit.live import fetch_objects, fetch_type
from entragit.permissions import check_tenant, sign_in
from entragit.registry import RECYCLE_BIN_DAYS, REGISTRY, ObjectType, Relationship, resolve_types
from entragit.report.model import (
    AttributeChange,
    DiffReport,
    MemberChange,
    NameLookup,
    ObjectChange,
    RecycleState,
    Side,
    reference_paths,
)
from entragit.store import BackupRepo, Snapshot, listed_blobs, object_path, split_path


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
            names: NameLookup | None) -> ObjectChange | None:
    """The change of one object; names are looked up for its members unless names is None (the caller
    then names them all at once)."""
    if old == new:
        return None
    old_attrs, old_rel = split_relations(object_type, old)
    new_attrs, new_rel = split_relations(object_type, new)
    change = "added" if old is None else "removed" if new is None else "modified"
    shown = (new or old or {}).get(object_type.display_key)
    result = ObjectChange(object_type.name, object_id, shown, change, attribute_changes(old_attrs, new_attrs))
    for rel, action, member_id in _moves(object_type, old_rel, new_rel):
        found = names(member_id, rel.member_types) if names else None
        result.members.append(MemberChange(rel.name, action, member_id,
                                           found[1] if found else None, found[0] if found else None))
    return result


def _moves(object_type: ObjectType, old_rel: dict[str, Any],
           new_rel: dict[str, Any]) -> Iterator[tuple[Relationship, str, str]]:
    """(relationship, "removed" or "added", member id) for every member that left or joined."""
    for rel in object_type.relationships:
        if not rel.many:
            continue
        before, after = set(old_rel.get(rel.name, [])), set(new_rel.get(rel.name, []))
        for action, ids in (("removed", before - after), ("added", after - before)):
            for member_id in sorted(ids):
                yield rel, action, member_id


def _sort(changes: list[ObjectChange]) -> list[ObjectChange]:
    order = {name: (t.restore_order, name) for name, t in REGISTRY.items()}
    return sorted(changes, key=lambda c: (order[c.type], (c.display_name or "").lower(), c.id))


def _top_level_blocks(data: bytes) -> dict[bytes, bytes] | None:
    """A canonical file cut into its top-level entries (key text -> the entry's lines), or None where the
    text is not laid out as entragit writes it (a hand edit with comments, say): then it is parsed whole."""
    blocks: dict[bytes, bytes] = {}
    key = None
    lines: list[bytes] = []
    for line in data.splitlines(keepends=True):
        if line[:1] in (b" ", b"-") and key is not None:
            lines.append(line)
            continue
        if line[:1] in (b"", b" ", b"-", b"#", b"\t", b"\n", b".", b"%", b"?") or b":" not in line:
            return None
        if key is not None:
            blocks[key] = b"".join(lines)
        key, lines = line.split(b":", 1)[0], [line]
        if key in blocks:
            return None
    if key is not None:
        blocks[key] = b"".join(lines)
    return blocks


class _Entries:
    """Parses canonical files only as far as a report needs.

    Canonical files put one attribute per top-level entry, so the entries whose bytes differ between two
    versions are the attributes that changed; only those (and the display name) are parsed, and an entry
    seen before (`department: Sales` in a thousand files) is parsed once. This is what keeps a report on
    a mass change within a minute: whole-file YAML parsing would dominate it.
    """

    def __init__(self) -> None:
        self._parsed: dict[bytes, Obj] = {}

    def _entry(self, block: bytes, path: str, commit: str) -> Obj | None:
        if block not in self._parsed:
            try:
                parsed = canonical.load(block, path, commit)
            except StoreError:
                return None  # the whole file is parsed instead, so the error names the file's own line
            if len(parsed) != 1:
                return None
            self._parsed[block] = parsed
        return self._parsed[block]

    def value(self, object_type: ObjectType, data: bytes, key: str, path: str, commit: str) -> Any:
        """One top-level attribute of a file."""
        blocks = _top_level_blocks(data)
        if blocks is not None:
            block = blocks.get(key.encode())
            entry = self._entry(block, path, commit) if block is not None else {}
            if entry is not None:
                canonical.check(object_type, entry, data, path, commit, whole=False)
                return entry.get(key)
        return canonical.load(data, path, commit, object_type).get(key)

    def _part(self, blocks: dict[bytes, bytes], keys: set[bytes], path: str, commit: str) -> Obj | None:
        part: Obj = {}
        for key in keys & blocks.keys():
            entry = self._entry(blocks[key], path, commit)
            if entry is None:
                return None
            part.update(entry)
        return part

    def differing(self, object_type: ObjectType, old: bytes, new: bytes, path: str, commit_a: str,
                  commit_b: str) -> tuple[Obj, Obj]:
        old_blocks, new_blocks = _top_level_blocks(old), _top_level_blocks(new)
        if old_blocks is not None and new_blocks is not None:
            keys = {k for k in old_blocks.keys() | new_blocks.keys() if old_blocks.get(k) != new_blocks.get(k)}
            # The kind of a polymorphic object says which attributes it may have.
            keys |= {object_type.display_key.encode(), b"'@odata.type'"}
            old_part = self._part(old_blocks, keys, path, commit_a)
            new_part = self._part(new_blocks, keys, path, commit_b)
            if old_part is not None and new_part is not None:
                # Only what changed is checked, as only that is parsed: a file that reaches this point
                # differs from one that was checked when it was read before, or that entragit wrote.
                canonical.check(object_type, old_part, old, path, commit_a, whole=False)
                canonical.check(object_type, new_part, new, path, commit_b, whole=False)
                return old_part, new_part
        return canonical.load(old, path, commit_a, object_type), canonical.load(new, path, commit_b, object_type)


# git matches every tree entry against every pathspec: above this many paths, naming their folders
# (and filtering the answer) is cheaper than naming each path.
_PATHSPEC_LIMIT = 300


def _pathspec(paths: list[str]) -> list[str]:
    return paths if len(paths) <= _PATHSPEC_LIMIT else sorted({p.split("/", 1)[0] + "/" for p in paths})


def _blobs_at(repo: BackupRepo, commit: str, paths: list[str] | None,
              listing_of: Callable[[str], str] | None = None) -> dict[str, str]:
    """path -> blob id of the given paths in a commit (those it has), or of every file; listing_of gives
    a folder's `git ls-tree -r -z` output at the commit when the caller already has it."""
    if paths is None:
        return listed_blobs(repo.git.git.ls_tree("-r", "-z", commit))
    if len(paths) <= _NAMED_PATHS_LIMIT:
        return listed_blobs(repo.git.git.ls_tree("-r", "-z", commit, "--", *paths))
    by_folder: dict[str, list[str]] = {}
    for path in paths:
        by_folder.setdefault(path.split("/", 1)[0] + "/", []).append(path)
    found: dict[str, str] = {}
    for folder, wanted in by_folder.items():
        listing = listing_of(folder) if listing_of else folder_listing(repo, commit, folder)
        if len(wanted) > _SEARCHED_PATHS_LIMIT:
            parsed = listed_blobs(listing)
            found.update((path, parsed[path]) for path in wanted if path in parsed)
        else:
            found.update((path, blob) for path in wanted if (blob := _search(listing, path)) is not None)
    return found


def folder_listing(repo: BackupRepo, commit: str, folder: str) -> str:
    return str(repo.git.git.ls_tree("-r", "-z", commit, "--", folder))


# A tree listing costs git about the same whether it names a dozen paths or the whole folder (git tests
# every entry against every path named), so beyond a few paths the folder is listed whole. Splitting a
# listing of 100,000 entries costs as much as a few thousand searches in it: fewer paths are searched for.
_NAMED_PATHS_LIMIT = 8
_SEARCHED_PATHS_LIMIT = 2000


def _search(listing: str, path: str) -> str | None:
    """The blob id of path in `git ls-tree -r -z` output, found by bisection: git lists a tree's entries in
    the byte order of their paths, which is the order of Python's strings."""
    low, high = 0, len(listing)
    while low < high:
        start = listing.rfind("\0", low, (low + high) // 2) + 1 or low
        end = listing.find("\0", start)
        tab = listing.index("\t", start, end)
        here = listing[tab + 1:end]
        if here == path:
            return listing[start:tab].split()[2]
        if here < path:
            low = end + 1
        else:
            high = start
    return None


# One thread is enough: it mostly waits on git, which runs on another core.
_LOOKUPS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="entragit-names")


class Names:
    """Display names for ids: from objects already at hand, then from the files of the given commits.

    Only the ids a report shows are looked up, so the cost follows the change, not the tenant: many ids
    at once, through one tree listing per commit narrowed to the paths they can have (a member is a user
    or a group) and one stream of blobs. An id of no expected type is found in a full listing of the
    commit's tree, read once.
    """

    def __init__(self, repo: BackupRepo, commits: list[str], entries: _Entries | None = None) -> None:
        self._repo = repo
        self._commits = commits
        self._entries = entries or _Entries()
        self._known: dict[str, tuple[str, str | None]] = {}
        self._looked: set[str] = set()
        self._trees: dict[str, dict[str, tuple[ObjectType, str]]] = {}
        self._background: Future[None] | None = None
        self._folders: dict[tuple[str, str], Future[str]] = {}

    def warm(self, folders: Iterable[str]) -> None:
        """Start listing these folders of the first commit on another thread: a report about many changed
        groups will look their members up there, and git can list while the changed files are read."""
        for folder in folders:
            key = (self._commits[0], folder)
            if key not in self._folders:
                self._folders[key] = _LOOKUPS.submit(folder_listing, self._repo, *key)

    def _folder(self, commit: str, folder: str) -> str:
        started = self._folders.get((commit, folder))
        if started is not None:
            return started.result()
        # Not submitted: this may run on the lookup thread itself, which must not wait on its own queue.
        listing = folder_listing(self._repo, commit, folder)
        done: Future[str] = Future()
        done.set_result(listing)
        self._folders[(commit, folder)] = done
        return listing

    def prefetch_soon(self, wanted: dict[str, tuple[str, ...]]) -> None:
        """Start looking these ids up on another thread, where git's tree listing runs while the caller
        goes on comparing files; any other use of the names waits for it."""
        self._settle()
        self._background = _LOOKUPS.submit(self._look_up, wanted)

    def _settle(self) -> None:
        if self._background is not None:
            background, self._background = self._background, None
            background.result()

    def add(self, object_type: ObjectType, objects: dict[str, Obj | None]) -> None:
        self._settle()
        for object_id, obj in objects.items():
            if obj is not None:
                self._known.setdefault(object_id, (object_type.name, obj.get(object_type.display_key)))

    def _listing(self, commit: str, paths: list[str] | None) -> dict[str, tuple[ObjectType, str]]:
        """id -> (type, blob id) for the given paths of a commit, or for all of its objects."""
        listed = _blobs_at(self._repo, commit, paths, lambda folder: self._folder(commit, folder))
        return {located[1]: (located[0], blob) for path, blob in listed.items()
                if (located := split_path(path)) is not None}

    def _learn(self, commit: str, located: dict[str, tuple[ObjectType, str]]) -> None:
        blobs = self._repo.read_blobs([blob for _, blob in located.values()])
        for object_id, (object_type, blob) in located.items():
            path = object_path(object_type, object_id)
            shown = self._entries.value(object_type, blobs[blob], object_type.display_key, path, commit)
            self._known[object_id] = (object_type.name, shown)

    def prefetch(self, wanted: dict[str, tuple[str, ...]]) -> None:
        """Look up many ids (id -> the types it likely is) at once."""
        self._settle()
        self._look_up(wanted)

    def _look_up(self, wanted: dict[str, tuple[str, ...]]) -> None:
        pending = {i: likely for i, likely in wanted.items() if i not in self._known and i not in self._looked}
        self._looked |= pending.keys()
        # The likeliest type first for every id (members are mostly users), then the next for the rest:
        # each tree listing is narrowed to as few paths as possible.
        for rank in range(max((len(likely) for likely in pending.values()), default=0)):
            for commit in self._commits:
                hinted = [f"{likely[rank]}/{i}.yaml" for i, likely in pending.items()
                          if len(likely) > rank and likely[rank] in REGISTRY]
                if hinted:
                    self._learn(commit, self._listing(commit, hinted))
                    pending = {i: likely for i, likely in pending.items() if i not in self._known}
        for commit in self._commits:
            if not pending:
                return
            if commit not in self._trees:
                self._trees[commit] = self._listing(commit, None)
            self._learn(commit, {i: self._trees[commit][i] for i in pending if i in self._trees[commit]})
            pending = {i: likely for i, likely in pending.items() if i not in self._known}

    def __call__(self, object_id: str, likely: tuple[str, ...] = ()) -> tuple[str, str | None] | None:
        self.prefetch({object_id: likely})
        return self._known.get(object_id)


def _require_found(ids: tuple[str, ...], found: set[str], where: str) -> None:
    missing = [i for i in ids if i not in found]
    if missing:
        raise StoreError(f"no object with id {', '.join(missing)} in {where}")


def _wanted(object_id: str, ids: tuple[str, ...]) -> bool:
    return not ids or object_id in ids


def attribute_matches(path: str, prefixes: tuple[str, ...]) -> bool:
    """Whether a dotted path is one of the prefixes or lies under one (`conditions.users` covers
    `conditions.users.excludeGroups`)."""
    return not prefixes or any(path == p or path.startswith(p + ".") for p in prefixes)


def _narrowed(change: ObjectChange, prefixes: tuple[str, ...]) -> ObjectChange | None:
    if not prefixes:
        return change
    rows = [a for a in change.attributes if attribute_matches(a.path, prefixes)]
    members = [m for m in change.members if attribute_matches(m.relationship, prefixes)]
    if not rows and not members:
        return None
    return replace(change, attributes=rows, members=members)


def _deletions(repo: BackupRepo, revisions: list[str], paths: list[str]) -> dict[str, tuple[str, str]]:
    """path -> (commit, commit time) of the newest commit among revisions that deleted the file."""
    if not paths:
        return {}
    out = repo.git.git(c="core.quotePath=false").log(
        "--diff-filter=D", "--no-renames", "--name-only", "--format=%x1e%H%x1f%cI", *revisions, "--",
        *_pathspec(paths))
    wanted, found = set(paths), {}
    for block in out.split("\x1e")[1:]:
        head, _, names = block.partition("\n")
        commit, time = head.split("\x1f")
        for name in names.splitlines():
            if name in wanted and name not in found:
                found[name] = (commit, time)
    return found


@dataclass
class _Pair:
    object_type: ObjectType
    object_id: str
    old: Obj | None
    new: Obj | None
    deleted_at: str | None = None
    """Set when the object is back after a deletion; old is then its state before the deletion."""
    recycle: RecycleState | None = None


def _restored(repo: BackupRepo, before: str, pairs: list[_Pair]) -> None:
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
        blobs = _blobs_at(repo, before_deletion, paths)
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


def _removed_from_history(repo: BackupRepo, commit_a: str, commit_b: str, new_time: str,
                          pairs: list[_Pair]) -> None:
    """Where each removed object is now, as far as the snapshots tell: the deletion happened by the
    snapshot that recorded it, so it is restorable until about 30 days after that, unless purged."""
    gone = {object_path(p.object_type, p.object_id): p for p in pairs if p.new is None}
    found = _deletions(repo, [f"{commit_a}..{commit_b}"], list(gone))
    for path, pair in gone.items():
        pair.recycle = _estimated_recycle(pair.object_type, pair.old, found.get(path, ("", new_time))[1])


def _removed_from_tenant(client: GraphClient, pairs: list[_Pair]) -> None:
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


def _ids_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _referenced_names(changes: list[ObjectChange], names: Names) -> dict[str, tuple[str, str | None]]:
    wanted: dict[str, tuple[str, ...]] = {}
    for change in changes:
        object_type = REGISTRY[change.type]
        paths = reference_paths(object_type)
        for row in change.attributes:
            if row.path in paths:
                likely = object_type.references.get(row.path) or _single_target(object_type, row.path)
                wanted.update(dict.fromkeys(_ids_in(row.old) + _ids_in(row.new), likely))
    names.prefetch(wanted)
    return {i: found for i in wanted if (found := names(i)) is not None}


def _member_folders(changed_types: list[ObjectType]) -> set[str]:
    """The folders where the members of these changed objects likely are, when there are enough of them
    to be worth listing the folder whole."""
    holders = [t for t in changed_types if any(rel.many for rel in t.relationships)]
    if len(holders) <= _NAMED_PATHS_LIMIT:
        return set()
    return {f"{rel.member_types[0]}/" for t in set(holders) for rel in t.relationships
            if rel.many and rel.member_types and rel.member_types[0] in REGISTRY}


def _moved_members(pairs: list[_Pair]) -> dict[str, tuple[str, ...]]:
    """Every member that joins or leaves a relationship in these pairs -> the types it may be."""
    wanted: dict[str, tuple[str, ...]] = {}
    for pair in pairs:
        _, old_rel = split_relations(pair.object_type, pair.old)
        _, new_rel = split_relations(pair.object_type, pair.new)
        wanted.update((member_id, rel.member_types) for rel, _, member_id in
                      _moves(pair.object_type, old_rel, new_rel))
    return wanted


def _name_members(changes: list[ObjectChange], names: Names) -> None:
    """Fill in who each member change is about (the names were looked up at once beforehand)."""
    for change in changes:
        change.members = [replace(m, display_name=found[1], type=found[0]) if (found := names(m.id)) else m
                          for m in change.members]


def _single_target(object_type: ObjectType, name: str) -> tuple[str, ...]:
    rel = object_type.relationship(name)
    return (rel.ref_collection,) if rel is not None else ()


def _changes(pairs: list[_Pair], names: Names, attributes: tuple[str, ...]) -> list[ObjectChange]:
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
            change = _narrowed(change, attributes)
        if change is not None:
            changes.append(change)
    _name_members(changes, names)
    return _sort(changes)


def _commit_times(repo: BackupRepo, *commits: str) -> dict[str, str]:
    # Not `git show -s`: it computes each commit's diff before throwing it away.
    out = str(repo.git.git.log("--no-walk", "--format=%H %cI", *commits))
    return dict(line.split(" ", 1) for line in out.splitlines())


def diff_revisions(repo: BackupRepo, rev_a: str, rev_b: str, type_names: tuple[str, ...] = (),
                   ids: tuple[str, ...] = (), attributes: tuple[str, ...] = (),
                   progress: Callable[[str, int], None] | None = None) -> DiffReport:
    """Differences between two commits; only the files git names as changed are read, in one stream."""
    commit_a, commit_b = repo.resolve(rev_a), repo.resolve(rev_b)
    types = resolve_types(type_names)
    files = _Entries()
    names = Names(repo, [commit_b, commit_a], files)
    changed = [(c, located) for c in repo.changed_paths(commit_a, commit_b, types)
               if (located := split_path(c.path)) is not None and _wanted(located[1], ids)]
    names.warm(_member_folders([object_type for _, (object_type, _) in changed]))
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
        pairs.append(_Pair(object_type, object_id, old, new))
        if progress and len(pairs) % 5000 == 0:
            progress("changed files", len(pairs))
    if ids:
        present = {i for t in types for c in (commit_a, commit_b) for i in repo.read_objects(c, t, ids)}
        _require_found(ids, present, f"{rev_a} or {rev_b}")
    times = _commit_times(repo, commit_a, commit_b)
    old_side, new_side = Side(rev_a, commit_a, times[commit_a]), Side(rev_b, commit_b, times[commit_b])
    _restored(repo, commit_a, pairs)
    _removed_from_history(repo, commit_a, commit_b, str(new_side.time), pairs)
    changes = _changes(pairs, names, attributes)
    return DiffReport(old_side, new_side, changes, names=_referenced_names(changes, names))


def diff_live(repo: BackupRepo, client: GraphClient, rev: str, type_names: tuple[str, ...] = (),
              ids: tuple[str, ...] = (), progress: Callable[[str, int], None] | None = None,
              attributes: tuple[str, ...] = ()) -> DiffReport:
    """Differences between a commit and the tenant as it is now (the tenant the snapshots at rev are of:
    another one would differ in every object)."""
    commit = repo.resolve(rev)
    check_tenant(repo, sign_in(client, repo.config.tenant_id), rev, "nothing compared")
    types = resolve_types(type_names)
    names = Names(repo, [commit])
    pairs = []
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
                pairs.append(_Pair(object_type, object_id, old, new))
    _require_found(ids, in_snapshot | seen_live, f"snapshot {rev} or the live tenant")
    _restored(repo, commit, pairs)
    _removed_from_tenant(client, pairs)
    changes = _changes(pairs, names, attributes)
    return DiffReport(Side(rev, commit, _commit_times(repo, commit)[commit]), Side("live", None, read_at), changes,
                      names=_referenced_names(changes, names))


_DURATION = re.compile(r"^(\d+)\s*([hdw])$")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
# Far beyond any repository's history, and far from the limits of Python's dates.
_LONGEST = timedelta(days=36500)


def parse_duration(text: str) -> timedelta:
    """`12h`, `7d`, `2w`."""
    match = _DURATION.match(text.strip())
    if not match:
        raise StoreError(f"--since {text!r}: expected a number of hours, days or weeks, such as 12h, 7d or 2w")
    count, unit = int(match[1]), _UNIT[match[2]]
    if count > _LONGEST // unit:
        raise StoreError(f"--since {text!r}: at most {_LONGEST // unit}{match[2]} (100 years) back")
    return count * unit


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or date and time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise StoreError(f"--at {text!r}: expected a date such as 2026-11-20 or 2026-11-20T08:30 "
                         "(UTC unless a zone is given, e.g. 2026-11-20T08:30+01:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def snapshot_at(repo: BackupRepo, moment: datetime, asked: str) -> Snapshot:
    """The snapshot in force at a moment: the newest one committed at or before it."""
    snapshots = repo.snapshots()
    if not snapshots:
        raise StoreError(f"{repo.root} has no snapshot yet; take one with `entragit snapshot`")
    for snapshot in snapshots:
        if datetime.fromisoformat(snapshot.time) <= moment:
            return snapshot
    raise StoreError(f"{asked} is {moment.isoformat(timespec='minutes')}, before the first snapshot "
                     f"({snapshots[-1].time}) in {repo.root}")


def _revision_by_time(repo: BackupRepo, since: str | None, at: str | None, now: datetime | None) -> str | None:
    if since is not None and at is not None:
        raise StoreError("--since and --at both name the older side; give one of them")
    if since is not None:
        moment = (now or datetime.now(timezone.utc)) - parse_duration(since)
        return snapshot_at(repo, moment, f"--since {since}").commit
    if at is not None:
        return snapshot_at(repo, parse_moment(at), f"--at {at}").commit
    return None


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


def _with_risks(repo: BackupRepo, report: DiffReport) -> DiffReport:
    """The report with its risk highlights: they follow from the changes alone, so they are cached with them."""
    from entragit.risk import find_risks

    report.risks = find_risks(report, Names(repo, [c for c in (report.new.commit, report.old.commit) if c]))
    return report


def make_report(repo: BackupRepo, rev_a: str | None, rev_b: str | None, *, live: bool,
                type_names: tuple[str, ...] = (), ids: tuple[str, ...] = (), attributes: tuple[str, ...] = (),
                since: str | None = None, at: str | None = None, now: datetime | None = None,
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
    by_time = _revision_by_time(repo, since, at, now)
    if by_time is not None and rev_a:
        raise StoreError("--since/--at choose the older snapshot; give them or a revision, not both")
    if by_time is not None:
        rev_a = by_time
    old, new = default_revisions(repo, rev_a, rev_b, live)
    if new is None:
        from entragit.connect import graph_client

        client = client_factory() if client_factory else graph_client(repo.config.connection())
        report = _with_risks(repo, diff_live(repo, client, old, type_names, ids, progress, attributes))
        client_factory = lambda: client  # the audit log is read by the client that read the tenant
    else:
        from entragit.diffcache import DiffCache

        report = DiffCache(repo).report(old, new, type_names, ids, attributes, lambda: _with_risks(
            repo, diff_revisions(repo, old, new, type_names, ids, attributes, progress)))
    if attribution:
        from entragit.attribution import attribute

        attribute(report, repo, client_factory)
    return report
