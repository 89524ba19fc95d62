"""Display names for the ids a report shows, looked up in many at once in the snapshots' trees, on a
thread of their own while the report is compared."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from concurrent.futures import Future, ThreadPoolExecutor

from entragit.canonical import Obj
from entragit.diff.entries import Entries
from entragit.registry import REGISTRY, ObjectType
from entragit.report.model import ObjectChange, reference_paths
from entragit.store import BackupRepo, listed_blobs, object_path, split_path


def blobs_at(repo: BackupRepo, commit: str, paths: list[str] | None,
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

    def __init__(self, repo: BackupRepo, commits: list[str], entries: Entries | None = None) -> None:
        self._repo = repo
        self._commits = commits
        self._entries = entries or Entries()
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
        listed = blobs_at(self._repo, commit, paths, lambda folder: self._folder(commit, folder))
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


def member_folders(changed_types: list[ObjectType]) -> set[str]:
    """The folders where the members of these changed objects likely are, when there are enough of them
    to be worth listing the folder whole."""
    holders = [t for t in changed_types if any(rel.many for rel in t.relationships)]
    if len(holders) <= _NAMED_PATHS_LIMIT:
        return set()
    return {f"{rel.member_types[0]}/" for t in set(holders) for rel in t.relationships
            if rel.many and rel.member_types and rel.member_types[0] in REGISTRY}


def _ids_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _single_target(object_type: ObjectType, name: str) -> tuple[str, ...]:
    rel = object_type.relationship(name)
    return (rel.ref_collection,) if rel is not None else ()


def referenced_names(changes: list[ObjectChange], names: Names) -> dict[str, tuple[str, str | None]]:
    """id -> (type, display name) of every object the changes' attribute values name (a manager, a CA
    policy's excluded users), looked up at once: what a report shows beside those ids."""
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
