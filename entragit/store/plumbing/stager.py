"""The threaded Stager: a snapshot's files serialized and stored as git objects while the tenant is still
read, its folders' trees made as each is complete, and a new folder's files prepared beside the working
tree; what it staged (Staged) is what the commit is made of. It is told how objects become paths and bytes
(Layout): it knows folders, paths and bytes only."""

from __future__ import annotations

import contextlib
import functools
import shutil
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import git

from entragit.recovery import Claim
from entragit.store.plumbing.commands import blob_id, folder_tree
from entragit.store.plumbing.fastimport import BlobImporter
from entragit.store.plumbing.index import PreparedFolders, PreparedIndex
from entragit.store.plumbing.tuning import tuned_for_bulk_work

K = TypeVar("K")
"""What a folder holds the objects of (for entragit.store: an object type)."""
T = TypeVar("T")
"""An object before it is a file's bytes."""


@dataclass(frozen=True)
class Layout(Generic[K, T]):
    """Where objects go and what their files hold: the meaning the plumbing is given, not one it knows."""

    folder: Callable[[K], str]
    path: Callable[[K, str], str]
    """The path of an object of a kind, by its key."""
    folder_of: Callable[[str], str | None]
    """The folder a path at HEAD is an object file of; None for any other file, which is left as it is."""
    encode: Callable[[T], bytes]


@dataclass(frozen=True)
class Staged:
    writes: dict[str, bytes]
    """path -> the file's bytes, for new and changed files."""
    deletes: list[str]
    before: dict[str, int]
    """folder -> how many object files HEAD holds there."""
    added: set[str]
    """Paths among writes that HEAD does not hold."""
    prepared: Path | None = None
    """A folder outside the working tree holding the files of writes in folders HEAD lacks, at their paths."""
    prepared_index: PreparedIndex | None = None
    """The repository's index with the prepared files added, their stat data included."""
    blob_ids: dict[str, str] = field(default_factory=dict)
    """path -> git's id of its bytes, for each of writes (hashing 150 MB again would take a quarter second)."""
    head: str = ""
    """The commit the changes were staged against: the new commit's parent."""
    trees: dict[str, str | None] = field(default_factory=dict)
    """Folder -> its tree with the changes, made as each type was staged; None where no file is left."""
    claim: Claim | None = None
    """What the snapshot holds in the repository (see entragit.recovery)."""

    @property
    def changed(self) -> int:
        return len(self.writes) + len(self.deletes)

    def vanished(self, folder: str) -> int:
        return self._deleted_per_folder[folder]

    def count_after(self, folder: str) -> int:
        return self.before.get(folder, 0) + self._added_per_folder[folder] - self.vanished(folder)

    # Counted once for all folders: a first snapshot adds 100k+ paths.
    @functools.cached_property
    def _deleted_per_folder(self) -> Counter[str]:
        return Counter(path.split("/", 1)[0] for path in self.deletes)

    @functools.cached_property
    def _added_per_folder(self) -> Counter[str]:
        return Counter(path.split("/", 1)[0] for path in self.added)


@dataclass(frozen=True)
class FolderContent(Generic[T]):
    """What a read of one folder's objects gives: every object (complete), or only what changed."""

    objects: dict[str, T]
    complete: bool = True
    removed: frozenset[str] = frozenset()



class Stager(Generic[K, T]):
    """A snapshot staged folder by folder (a large one page by page) while other folders' objects are
    still being read, so that serializing files and storing them as git objects overlaps the wait on
    Graph instead of following it. A folder holds the objects of one kind (for entragit.store: a type).

    A complete content is the whole folder; a partial one (an incremental read) names the objects that
    changed and those removed, and leaves every other file as it is. Files whose bytes differ from HEAD's
    are stored as git objects at once: nothing refers to them until a commit does, so a snapshot that
    fails later still leaves the repository as it was. Use it as a context manager, so the git process
    storing the files ends whatever happens.

    The work is done on a thread of the stager's own, in the order it was asked for; write(), add() and
    discard() only queue it, so a reader never waits on staging. It begins with HEAD's files (path ->
    blob id, from read_head, which also refuses a working tree with uncommitted changes), listed while
    the first requests wait on Graph: for 100k files that takes a tenth of an incremental snapshot, and
    Conditional Access, read at a request a second, would wait on it at every page otherwise. A failure
    is raised by the next write() once known, else by staged(). While it is open, the interpreter is
    set for the heavy work (see entragit.store.plumbing.tuning).
    """

    def __init__(self, repo: git.Repo, layout: Layout[K, T], kinds: list[K], head: str,
                 read_head: Callable[[], dict[str, str]]) -> None:
        self._repo, self._layout, self._head_commit = repo, layout, head
        self._folders = [layout.folder(kind) for kind in kinds]
        git_dir = Path(repo.git_dir)
        # What the snapshot holds in the repository until it ends, for a run after a kill to take back.
        self._claim = Claim(git_dir)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="staging")
        self._failure: BaseException | None = None
        self._head = self._worker.submit(self._by_folder, read_head, layout.folder_of)
        self._head.add_done_callback(self._note_failure)
        self._queued: list[Future[None]] = []
        self._importer = BlobImporter(repo, self._claim)
        # The working tree itself changes only once the commit exists.
        self._files = PreparedFolders(git_dir, self._claim)
        self._discarded: set[str] = set()
        self._writes: dict[str, bytes] = {}
        self._blob_ids: dict[str, dict[str, str]] = {}
        """Folder -> path -> blob id of each file written."""
        # Folder trees are made on a thread of their own: the last type's (100k users) is made while the
        # blobs' pack is finished.
        self._tree_maker = ThreadPoolExecutor(1, thread_name_prefix="trees")
        self._trees: dict[str, Future[str | None]] = {}
        self._serialized: set[str] = set()
        self._deletes: list[str] = []
        self._tuning = contextlib.ExitStack()

    @staticmethod
    def _by_folder(read_head: Callable[[], dict[str, str]], folder_of: Callable[[str], str | None]
                   ) -> tuple[dict[str, str], dict[str, list[str]]]:
        old = read_head()
        by_folder: dict[str, list[str]] = {}
        for path in old:
            folder = folder_of(path)
            if folder is not None:
                by_folder.setdefault(folder, []).append(path)
        return old, by_folder

    @property
    def _old(self) -> dict[str, str]:
        return self._head.result()[0]

    @property
    def _old_by_folder(self) -> dict[str, list[str]]:
        return self._head.result()[1]

    def __enter__(self) -> Stager[K, T]:
        # The snapshot's heavy work is done while the stager is open: the interpreter is set for it till then.
        self._tuning.enter_context(tuned_for_bulk_work())
        return self

    def __exit__(self, *exc: object) -> None:
        with self._tuning:
            self._worker.shutdown(cancel_futures=True)
            self._tree_maker.shutdown(cancel_futures=True)
            try:
                self._importer.close()
            finally:
                try:
                    self._files.close()
                finally:
                    self._files.remove()
                    self._importer.remove()
                    self._claim.close()

    def _queue(self, work: Callable[..., None], *args: Any) -> None:
        if self._failure is not None:
            raise self._failure
        queued = self._worker.submit(work, *args)
        queued.add_done_callback(self._note_failure)
        self._queued.append(queued)

    def _note_failure(self, done: Future[Any]) -> None:
        if not done.cancelled() and self._failure is None:
            self._failure = done.exception()

    def write(self, kind: K, objects: dict[str, T]) -> None:
        """Serialize and store some objects of a kind, before the rest of it has been read."""
        self._queue(self._write, kind, objects)

    def _write(self, kind: K, objects: dict[str, T]) -> None:
        folder = self._layout.folder(kind)
        if folder in self._discarded:
            return
        writes: dict[str, bytes] = {}
        old = self._old
        path_of, encode = self._layout.path, self._layout.encode
        for object_id, obj in objects.items():
            path = path_of(kind, object_id)
            data = encode(obj)
            blob = blob_id(data)
            if old.get(path) != blob:
                writes[path] = data
                self._blob_ids.setdefault(folder, {})[path] = blob
        self._importer.store(writes.values())
        if folder not in self._old_by_folder:
            # A folder HEAD lacks (a first snapshot's: 100k files) is prepared beside the working tree
            # while the tenant is read, and moved in at once; git checks out the rest, a few files.
            self._files.write(writes)
        self._writes.update(writes)
        self._serialized.update(path_of(kind, i) for i in objects)

    def discard(self, kind: K) -> None:
        """Leave a kind's files as HEAD has them, whatever write() was given for it (its read failed)."""
        self._queue(self._discard, kind)

    def _discard(self, kind: K) -> None:
        folder = self._layout.folder(kind)
        self._writes = {path: data for path, data in self._writes.items() if not path.startswith(f"{folder}/")}
        self._blob_ids.pop(folder, None)
        self._discarded.add(folder)

    def add(self, kind: K, content: FolderContent[T]) -> None:
        """A kind's read is over: what its content changes (objects given to write() are not serialized again)."""
        self._queue(self._add, kind, content)

    def _add(self, kind: K, content: FolderContent[T]) -> None:
        path_of, folder = self._layout.path, self._layout.folder(kind)
        self._write(kind, {i: obj for i, obj in content.objects.items() if path_of(kind, i) not in self._serialized})
        old = self._old_by_folder.get(folder, [])
        if content.complete:
            wanted = {path_of(kind, i) for i in content.objects}
            deletes = [p for p in old if p not in wanted]
        else:
            deletes = [p for p in (path_of(kind, i) for i in content.removed) if p in self._old]
        self._deletes += deletes
        files: dict[str, str | None] = dict.fromkeys(deletes)
        files.update(self._blob_ids.get(folder, {}))
        if files:
            # The folder gets its tree now, while other folders are still read, not at the commit.
            self._trees[folder] = self._tree_maker.submit(
                folder_tree, self._repo, self._head_commit, folder,
                {path.split("/", 1)[1]: blob for path, blob in files.items()})

    def staged(self) -> Staged:
        for done in self._queued:
            done.result()
        self._importer.close()
        prepared_index = self._files.close()
        for folder in self._discarded:
            if (self._files.root / folder).exists():
                # Its files are in the prepared index too: the commit makes the index the slow way.
                shutil.rmtree(self._files.root / folder)
                prepared_index = None
        before = {folder: len(self._old_by_folder.get(folder, [])) for folder in self._folders}
        before.update((folder, len(paths)) for folder, paths in self._old_by_folder.items())
        old = self._old
        return Staged(
            dict(self._writes), sorted(self._deletes), before, {p for p in self._writes if p not in old},
            prepared=self._files.root if self._files.root.exists() else None,
            prepared_index=prepared_index,
            blob_ids={path: blob for by_folder in self._blob_ids.values() for path, blob in by_folder.items()},
            head=self._head_commit,
            trees={folder: tree.result() for folder, tree in self._trees.items()},
            claim=self._claim,
        )

