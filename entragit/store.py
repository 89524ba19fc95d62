"""The backup repository: canonical files per object, one commit per snapshot, trees at a revision."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git

from entragit import canonical
from entragit.canonical import Obj
from entragit.config import CONFIG_FILE, Config, load_config, remember
from entragit.errors import GitFailed, StoreError
from entragit.recovery import (RUN_VARIABLE, Claim, DeadClaim, Moving, claims_dir, lock_owner, read_claims,
                               run_env, started_before, wait_for_children)
from entragit.registry import REGISTRY, ObjectType

SNAPSHOT_TRAILER = "Entragit-Snapshot"
# Used only where the machine has no git identity (a fresh CI runner), so a snapshot never fails for it.
_FALLBACK_IDENTITY = {"name": "entragit", "email": "entragit@localhost"}


# What a failed git command cannot have changed, by what the command does; for the rest git's words say it.
_LEFT_AS_IT_WAS = {
    **dict.fromkeys(("cat-file", "diff", "log", "ls-tree", "rev-list", "rev-parse", "show", "status"),
                    "nothing was changed"),
    **dict.fromkeys(("commit-tree", "hash-object", "mktree", "write-tree"), "no branch and no file was changed"),
    "update-ref": "no branch was moved",
}


def _subcommand(argv: list[str]) -> str:
    args = iter(argv[1:])
    for arg in args:
        if arg in ("-c", "-C"):
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return "(no command)"


class _GitFailed(GitFailed, git.GitCommandError):
    """GitFailed, which the CLI shows as one line, that `except git.GitCommandError` still recognises."""

    def __init__(self, cause: git.GitCommandError, root: object) -> None:
        git.GitCommandError.__init__(self, cause.command, cause.status)
        command = _subcommand([str(arg) for arg in cause.command])
        stderr = str(cause.stderr).removeprefix("\n  stderr: '").removesuffix("'")
        GitFailed.__init__(self, command, stderr, root, _LEFT_AS_IT_WAS.get(command, ""))

    def __str__(self) -> str:
        return str(self.args[0])


class _Git(git.Git):
    """Every git command the store runs through GitPython: a failure becomes one line, not a traceback."""

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().execute(*args, **kwargs)
        except git.GitCommandError as exc:
            raise _GitFailed(exc, self.working_dir) from None


class _Repo(git.Repo):
    GitCommandWrapperType = _Git


def object_path(object_type: ObjectType, object_id: str) -> str:
    # Ids are GUIDs for every type so far; refuse anything that could climb out of its folder.
    if not object_id or "/" in object_id or "\\" in object_id or object_id in (".", ".."):
        raise StoreError(f"refusing to store {object_type.singular} with unsafe id {object_id!r}")
    return f"{object_type.name}/{object_id}.yaml"


def split_path(path: str) -> tuple[ObjectType, str] | None:
    """The type and id a repository path stands for, or None for a file that is not an object."""
    folder, _, name = path.partition("/")
    if folder in REGISTRY and name.endswith(".yaml") and "/" not in name:
        return REGISTRY[folder], name[: -len(".yaml")]
    return None


@dataclass(frozen=True)
class Snapshot:
    commit: str
    time: str
    summary: str


@dataclass(frozen=True)
class Staged:
    writes: dict[str, bytes]
    """path -> canonical bytes, for new and changed files."""
    deletes: list[str]
    before: dict[str, int]
    """type name -> how many objects HEAD holds."""
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

    def vanished(self, type_name: str) -> int:
        return self._deleted_per_type[type_name]

    def count_after(self, type_name: str) -> int:
        return self.before.get(type_name, 0) + self._added_per_type[type_name] - self.vanished(type_name)

    # Counted once for all types: a first snapshot adds 100k+ paths.
    @functools.cached_property
    def _deleted_per_type(self) -> Counter[str]:
        return Counter(path.split("/", 1)[0] for path in self.deletes)

    @functools.cached_property
    def _added_per_type(self) -> Counter[str]:
        return Counter(path.split("/", 1)[0] for path in self.added)


@dataclass(frozen=True)
class Content:
    """What a snapshot read of one type gives: every object (complete), or only what changed."""

    objects: dict[str, Obj]
    complete: bool = True
    removed: frozenset[str] = frozenset()


def _blob_id(data: bytes) -> str:
    """The id git gives a blob, computed here so unchanged files are recognised without asking git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 (git's own hash)


def _stdin(text: str) -> Any:
    """A file to feed a git command's standard input (GitPython hands it to the process as is)."""
    handle = tempfile.TemporaryFile()
    handle.write(text.encode())
    handle.seek(0)
    return handle


@dataclass(frozen=True)
class PathChange:
    status: str  # "A", "M" or "D", as git says
    path: str
    old_blob: str | None = None
    new_blob: str | None = None


class BackupRepo:
    def __init__(self, root: Path) -> None:
        try:
            self.git: git.Repo = _Repo(root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise StoreError(
                f"{root} is not an entragit backup repository (not a git repository); "
                f"create one with `entragit init {root}`"
            ) from None
        if self.git.working_tree_dir is None:
            raise StoreError(f"{root} is a bare git repository; entragit needs a working tree")
        self.root = Path(self.git.working_tree_dir)
        self.git_dir = Path(self.git.git_dir)
        self.git.git.update_environment(**run_env())
        self._cat_file_lock = threading.Lock()
        self.config: Config = load_config(self.root, self.git)

    # -- reading -------------------------------------------------------------------------------------

    def resolve(self, rev: str) -> str:
        """The commit a revision names, or a clear error naming the revision."""
        try:
            # GitPython answers through a persistent `git cat-file --batch-check`: one thread at a time.
            with self._cat_file_lock:
                return str(self.git.commit(rev).hexsha)
        except (git.BadName, ValueError, git.GitCommandError):
            raise StoreError(f"revision {rev!r} does not exist in {self.root}") from None

    def snapshots(self, limit: int | None = None) -> list[Snapshot]:
        """Snapshot commits on the current branch, newest first."""
        if not self.git.head.is_valid():
            return []
        args = ["--format=%H%x1f%cI%x1f%s", f"--grep=^{SNAPSHOT_TRAILER}:", "HEAD"]
        if limit:
            args.insert(0, f"-{limit}")
        out = self.git.git.log(*args)
        return [Snapshot(*line.split("\x1f", 2)) for line in out.splitlines() if line]

    def _read_blob(self, spec: str) -> bytes:
        # One persistent `git cat-file --batch` serves every read; a snapshot reads types from several
        # threads, and interleaved requests on that pipe would hand one thread another's bytes.
        with self._cat_file_lock:
            return bytes(self.git.git.get_object_data(spec)[3])

    def read_object(self, rev: str, object_type: ObjectType, object_id: str) -> Obj | None:
        path = object_path(object_type, object_id)
        try:
            data = self._read_blob(f"{rev}:{path}")
        except ValueError:  # cat-file answers "missing" for a path not in that tree
            return None
        return canonical.load(data, path, rev, object_type)

    def read_objects(self, rev: str, object_type: ObjectType, ids: Iterable[str] | None = None) -> dict[str, Obj]:
        """The objects of a type in a commit's tree (only the given ids when there are some)."""
        # Blobs are named by their ids from one tree listing: naming them rev:path would make git
        # search the folder's tree once per file.
        listing = self.git.git.ls_tree("-r", "-z", rev, "--", f"{object_type.name}/")
        found = {located[1]: (path, blob) for path, blob in listed_blobs(listing).items()
                 if (located := split_path(path)) is not None}
        wanted = list(found) if ids is None else [i for i in ids if i in found]
        blobs = self.read_blobs([found[i][1] for i in wanted])
        return {i: canonical.load(blobs[found[i][1]], found[i][0], rev, object_type) for i in wanted}

    def changed_paths(self, rev_a: str, rev_b: str, types: Iterable[ObjectType]) -> list[PathChange]:
        """Object files that differ between two commits, as git lists them (no file is read)."""
        folders = [f"{t.name}/" for t in types]
        out = self.git.git.diff("--raw", "--no-abbrev", "--no-renames", "-z", rev_a, rev_b, "--", *folders)
        fields = [f for f in out.split("\0") if f]
        changes = []
        for meta, path in zip(fields[::2], fields[1::2]):
            _, _, old_blob, new_blob, status = meta.split(" ")
            changes.append(PathChange(status[0], path, None if status == "A" else old_blob,
                                      None if status == "D" else new_blob))
        return changes

    def read_blobs(self, blob_ids: list[str]) -> dict[str, bytes]:
        """The bytes of many blobs by id, streamed through one `git cat-file --batch`.

        Requests are written from a second thread while answers are read, so the pipe never waits for a
        round trip per blob; by id, so git never looks a path up in a 100k-entry tree.
        """
        wanted = list(dict.fromkeys(blob_ids))
        if not wanted:
            return {}
        # --buffer: git writes the answers in large chunks, not one flushed write per blob.
        process = subprocess.Popen(["git", "cat-file", "--batch", "--buffer"], cwd=self.root,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert process.stdin is not None and process.stdout is not None

        def ask() -> None:
            assert process.stdin is not None
            process.stdin.write("".join(f"{blob}\n" for blob in wanted).encode())
            process.stdin.close()

        writer = threading.Thread(target=ask, daemon=True)
        writer.start()
        found: dict[str, bytes] = {}
        for blob in wanted:
            header = process.stdout.readline().split()
            if len(header) != 3:
                process.kill()
                raise StoreError(f"blob {blob} is missing from {self.root}")
            found[blob] = process.stdout.read(int(header[2]))
            process.stdout.read(1)  # the newline after each object
        writer.join()
        process.wait()
        return found

    # -- writing -------------------------------------------------------------------------------------

    def _dirty(self, folders: list[str]) -> list[str]:
        # No optional locks: a status killed with its entragit must not leave an index.lock of git's own.
        out = self.git.git.status("--porcelain", "-z", "--untracked-files=all", "--", *folders,
                                  env={"GIT_OPTIONAL_LOCKS": "0"})
        return [entry[3:] for entry in out.split("\0") if entry[3:]]

    def stager(self, types: list[ObjectType]) -> Stager:
        """Stage a snapshot type by type, each as soon as it has been read (see Stager)."""
        head = self.resolve("HEAD")
        folders = [f"{t.name}/" for t in types]
        return Stager(self, types, head, functools.partial(self._clean_tree_blobs, head, folders))

    def _clean_tree_blobs(self, head: str, folders: list[str]) -> dict[str, str]:
        """path -> blob id of every file under these folders at head (one ls-tree, no file read)."""
        dirty = self._dirty(folders)
        if dirty:
            raise StoreError(
                f"{self.root} has uncommitted changes in snapshot folders ({', '.join(dirty[:3])}"
                f"{', ...' if len(dirty) > 3 else ''}); commit or discard them before taking a snapshot"
            )
        return listed_blobs(self.git.git.ls_tree("-r", "-z", head, "--", *folders))

    def commit(self, staged: Staged, message: str, branch: str | None = None) -> str:
        """Commit staged changes on top of HEAD: to the current branch (and the working tree follows),
        or to another branch, leaving the current one and the working tree untouched.

        The commit's trees are made from HEAD's, so until the branch moves nothing visible has changed:
        a failure at any point before leaves the repository as it was. The index the working tree will
        need is made beside the real one, and the changed files are written against it; it replaces the
        real one last, in one rename. A kill after the branch moved leaves a claim saying from which
        commit to which (see entragit.recovery): the next run brings the index and working tree in line.
        """
        head = staged.head
        claim = staged.claim or Claim(self.git_dir)
        changes = [f"0 {'0' * 40}\t{path}" for path in staged.deletes]
        changes += [f"100644 {staged.blob_ids[path]}\t{path}" for path in staged.writes]
        try:
            if branch is not None:
                commit = self._write_commit(head, staged.trees, message)
                self._move_ref(claim, f"refs/heads/{branch}", None, commit)
                return commit
            next_file = self._next_index_file()
            claim.hold(next_file.name, f"{next_file.name}.lock")
            try:
                # git's own lock on the index, held from reading it to replacing it, so that nothing another
                # git command stages meanwhile is lost (that command fails instead, as git's do).
                with self._index_locked(claim), ThreadPoolExecutor(1) as helper:
                    # The index the working tree will need is made beside the commit, on the other core.
                    next_index = helper.submit(self._next_index, changes, staged)
                    commit = self._write_commit(head, staged.trees, message)
                    self._move_ref(claim, self._head_ref(), head, commit, "HEAD")
                    # The working tree and the index go from the old commit to the new one; only the
                    # changed paths are touched (the snapshot folders were checked clean). The next index
                    # may be learning the prepared files' stat data where they are: they move once it has.
                    index = next_index.result()
                    moved = self._move_in(staged.prepared) if staged.prepared is not None else set()
                    self._bring_in(index, [p for p in staged.writes if p.split("/", 1)[0] not in moved],
                                   staged.deletes)
                    claim.move(None)
            finally:
                next_file.unlink(missing_ok=True)  # left only when the commit failed
            return commit
        finally:
            if staged.claim is None:
                claim.close()

    def _head_ref(self) -> str:
        """The branch HEAD names (refs/heads/...), or HEAD itself when it is detached."""
        head = (self.git_dir / "HEAD").read_text()
        return head[len("ref: "):].strip() if head.startswith("ref: ") else "HEAD"

    def _move_ref(self, claim: Claim, ref: str, old: str | None, new: str, name: str | None = None) -> None:
        """git update-ref, recorded first in the claim: a git killed with its entragit may leave the locks
        it takes, which the claim lets the next run remove. Through HEAD (name), HEAD's reflog has it too,
        and the working tree is to follow."""
        follows = name == "HEAD"
        locks = (f"{ref}.lock",) + (("HEAD.lock",) if follows and ref != "HEAD" else ())
        claim.move(Moving(ref, old, new, locks, follows))
        try:
            self.git.git.update_ref(name or ref, new, *([old] if old else []), "-m", "entragit snapshot")
            if not follows:
                claim.move(None)
        except git.GitCommandError:
            claim.move(None)
            held = [lock for lock in locks if (self.git_dir / lock).exists()]
            if held:
                raise StoreError(f"{self.git_dir / held[0]} exists: another git command is changing {ref}; "
                                 "nothing was changed: wait for it to end, or remove the file if none is "
                                 "running") from None
            raise StoreError(f"HEAD of {self.root} moved while the snapshot was taken (another commit?); "
                             "nothing was changed: take the snapshot again") from None

    def _bring_in(self, index: Path, checkout: list[str], deletes: list[str]) -> None:
        """Write files from an index made beside the real one into the working tree (their stat data going
        into that index), remove others, then make it the repository's index, in one rename."""
        if checkout:
            self.git.git.checkout_index("-u", "-f", "-z", "--stdin", istream=_stdin("\0".join(checkout) + "\0"),
                                        env={"GIT_INDEX_FILE": str(index)})
        for path in deletes:
            (self.root / path).unlink(missing_ok=True)
        for folder in {path.split("/", 1)[0] for path in deletes}:
            with contextlib.suppress(OSError):  # git keeps no empty folder; neither does a checkout
                (self.root / folder).rmdir()
        os.replace(index, self.git_dir / "index")

    def _write_commit(self, head: str, trees: dict[str, str | None], message: str) -> str:
        """The commit of head's tree with these folders' trees in place (None: the folder goes)."""
        root = {path: meta for meta, path in _tree_entries(self.git.git.ls_tree("-z", head))}
        for folder, tree in trees.items():
            root.pop(folder, None)
            if tree is not None:
                root[folder] = f"040000 tree {tree}"
        return str(self.git.git.commit_tree(self._mktree(root), "-p", head, "-m", message, env=self._identity_env()))

    def folder_tree(self, head: str, folder: str, files: dict[str, str | None]) -> str | None:
        """The tree of a folder of head with files changed (name -> blob id, None where removed), made by
        git mktree from head's entries: no index of every file in the repository is read, written and
        hashed (half a second at 125k files). None where no file is left: git keeps no empty folder.
        The new blobs may still be on their way into the repository (see Stager), so they are not looked for."""
        listing = self.git.git.ls_tree("-z", head, "--", f"{folder}/")
        entries = {path.split("/", 1)[1]: meta for meta, path in _tree_entries(listing)}
        for name, blob in files.items():
            if blob is None:
                entries.pop(name, None)
            else:
                entries[name] = f"100644 blob {blob}"
        return self._mktree(entries, "--missing") if entries else None

    def _mktree(self, entries: dict[str, str], *options: str) -> str:
        listing = "".join(f"{meta}\t{name}\0" for name, meta in entries.items())
        return str(self.git.git.mktree("-z", *options, istream=_stdin(listing)))

    @contextlib.contextmanager
    def _index_locked(self, claim: Claim) -> Iterator[None]:
        lock = self.git_dir / "index.lock"
        # The lock is born holding its taker's name (linked from a file written beside it), so a kill at
        # any moment leaves one the next run knows as entragit's.
        beside = claim.path.with_suffix(".index-lock")
        beside.write_bytes(claim.lock_marker)
        try:
            try:
                os.link(beside, lock)
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: created, then named at once
                with open(lock, "xb") as handle:
                    handle.write(claim.lock_marker)
        except FileExistsError:
            raise StoreError(self._lock_in_use(lock)) from None
        finally:
            beside.unlink(missing_ok=True)
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)

    def _lock_in_use(self, lock: Path) -> str:
        token = lock_owner(lock)
        if token is None:
            return (f"{lock} exists: another git command is using the index; wait for it to end, "
                    "or remove the file if none is running")
        live = [owner for owner in read_claims(self.git_dir)[1] if owner.token == token]
        if live or token == run_env()[RUN_VARIABLE]:
            holder = live[0].describe() if live else f"entragit process {os.getpid()}"
            return f"{lock} is held by {holder}, which is still running (another snapshot?): wait for it to end"
        return (f"{lock} was left by entragit process {token.split('-')[0]}, which is gone: run the entragit "
                "command again, it takes back what a killed run left")

    def _next_index_file(self) -> Path:
        return self.git_dir / f"entragit-next-index-{os.getpid()}"

    def _next_index(self, changes: list[str], staged: Staged) -> Path:
        """The index after the commit: the current one with the commit's changes, knowing the stat data of
        the files in prepared folders, which they keep when their folder is renamed into the working tree.
        Files checked out later enter their own stat data as they are written."""
        index, current = self._next_index_file(), Path(self.git.git_dir) / "index"
        env = {"GIT_INDEX_FILE": str(index)}
        prepared = staged.prepared
        if prepared is not None and staged.prepared_index and staged.prepared_index.base == _read_or_none(current):
            # The prepared files were added to a copy of this very index while the tenant was read.
            os.replace(staged.prepared_index.path, index)
            folders = {f"{folder}/" for folder in os.listdir(prepared)}
            changes = [line for line in changes if not line.split("\t", 1)[1].startswith(tuple(folders))]
            prepared = None
        else:
            shutil.copyfile(current, index)
        if changes:
            self.git.git.update_index("--index-info", istream=_stdin("\n".join(changes) + "\n"), env=env)
        if prepared is not None:
            # git hashes every prepared file to learn its stat data (a second at 100k files), beside the
            # commit; every other entry keeps what it knew.
            self.git.git.execute(["git", f"--work-tree={prepared}", "update-index", "-q", "--ignore-missing",
                                  "--refresh"], env=env)
        return index

    def _move_in(self, prepared: Path) -> set[str]:
        """Put prepared folders in place, each in one rename where the working tree lacks it (creating
        100k files is the slow part of a checkout, and it was done while reading); the folders' names."""
        folders = set(os.listdir(prepared))
        # shutil.move renames, and copies only where the git directory is on another file system.
        for folder in folders:
            if not (self.root / folder).exists():
                shutil.move(prepared / folder, self.root / folder)
                continue
            for name in os.listdir(prepared / folder):
                shutil.move(prepared / folder / name, self.root / folder / name)
        return folders

    # -- recovery: what a killed run left ------------------------------------------------------------

    def recover(self) -> list[str]:
        """Take back what entragit processes that were killed left in the repository: their locks and
        files, and a branch that moved without the index and working tree following. What a live process
        holds, or what no entragit process claimed, is never touched. One line per thing done."""
        dead, _ = read_claims(self.git_dir)
        done: list[str] = []
        for claim in dead:
            running = wait_for_children(claim.owner.token)
            if running:
                raise StoreError(f"{claim.owner.describe()} was stopped, but git process {running[0]} it "
                                 f"started still runs in {self.root}; run again once it has ended")
            done += self._remove_leftovers(claim)
        for claim in dead:
            if claim.moving is not None and claim.moving.follows:
                done += self._follow(claim)
            claim.path.unlink(missing_ok=True)
        return done

    def _remove_leftovers(self, claim: DeadClaim) -> list[str]:
        found = [self.git_dir / held for held in claim.holds]
        if lock_owner(self.git_dir / "index.lock") == claim.owner.token:
            found.append(self.git_dir / "index.lock")
        if claim.moving is not None:
            # git's own locks name nobody: one is update-ref's only when it holds nothing or the new
            # commit, and was there before this run started.
            for lock in (self.git_dir / name for name in claim.moving.locks):
                if started_before(lock) and lock.read_bytes().strip() in (b"", claim.moving.new.encode()):
                    found.append(lock)
        done = []
        for path in found:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink(missing_ok=True)  # another run recovering at the same moment may be first
            else:
                continue
            done.append(f"removed {os.path.relpath(path, self.root)} left by {claim.owner.describe()}, "
                        "which is gone")
        for stray in claims_dir(self.git_dir).glob(f"{claim.path.stem}.*"):
            if stray != claim.path:
                stray.unlink(missing_ok=True)  # its record half-written, or its lock not yet taken
        return done

    def _follow(self, claim: DeadClaim) -> list[str]:
        """The index and working tree brought to the commit a killed snapshot moved the branch to, when
        the branch is still there; refused where a file it changed holds something of neither commit."""
        moving = claim.moving
        assert moving is not None and moving.old is not None
        try:
            at = self.resolve(moving.ref)
        except StoreError:
            return []
        if at != moving.new or self._head_ref() != moving.ref:
            return []  # it never moved, or has moved on since: the working tree is not the snapshot's to fix
        listing = self.git.git.diff_tree("-r", "-z", "--no-renames", moving.old, moving.new)
        fields = [f for f in listing.split("\0") if f]
        changed: dict[str, tuple[str | None, str | None, str]] = {}
        for meta, path in zip(fields[::2], fields[1::2]):
            _, mode, old, new, _ = meta.split()  # ":old-mode new-mode old-blob new-blob status"
            changed[path] = (None if set(old) == {"0"} else old, None if set(new) == {"0"} else new, mode)
        staged = {path: meta.split()[1] for meta, path in _tree_entries(self.git.git.ls_files("-s", "-z"))
                  if path in changed}
        present = [path for path in changed if (self.root / path).is_file()]
        hashed = self.git.git.hash_object("--no-filters", "--stdin-paths",
                                          istream=_stdin("".join(f"{p}\n" for p in present))).split()
        on_disk = dict(zip(present, hashed))
        for path, (old, new, _) in changed.items():
            if staged.get(path) not in (old, new) or on_disk.get(path) not in (old, new):
                raise StoreError(
                    f"{moving.ref} in {self.root} was moved from {moving.old[:10]} to {moving.new[:10]} by "
                    f"{claim.owner.describe()}, which was stopped before the working tree followed, and {path} "
                    "now holds changes of neither commit: commit or move them elsewhere, then run again")
        entries = [f"{mode} {new}\t{path}" if new else f"0 {'0' * 40}\t{path}"
                   for path, (_, new, mode) in changed.items()]
        mine = Claim(self.git_dir)
        index = self._next_index_file()
        mine.hold(index.name, f"{index.name}.lock")
        try:
            with self._index_locked(mine):
                shutil.copyfile(self.git_dir / "index", index)
                self.git.git.update_index("--index-info", istream=_stdin("\n".join(entries) + "\n"),
                                          env={"GIT_INDEX_FILE": str(index)})
                self._bring_in(index, [p for p, (_, new, _) in changed.items() if new],
                               [p for p, (_, new, _) in changed.items() if not new])
        finally:
            index.unlink(missing_ok=True)
            mine.close()
        return [f"brought the index and working tree to {moving.new[:10]}, where {claim.owner.describe()} had "
                f"moved {moving.ref} from {moving.old[:10]} before it was stopped ({len(changed)} file(s))"]

    # -- delta state: kept in the git directory, never committed -------------------------------------

    def _delta_file(self, object_type: ObjectType) -> Path:
        return Path(self.git.git_dir) / "entragit" / "delta" / f"{object_type.name}.json"

    def delta_state(self, object_type: ObjectType) -> dict[str, str] | None:
        try:
            state = json.loads(self._delta_file(object_type).read_text())
        except (FileNotFoundError, ValueError):
            return None
        return state if isinstance(state, dict) else None

    def save_delta_state(self, object_type: ObjectType, link: str, commit: str, signature: str) -> None:
        """Where the next incremental read of a type starts, and which commit holds the state it continues."""
        path = self._delta_file(object_type)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"link": link, "commit": commit, "signature": signature}))
        temporary.replace(path)

    def _links_file(self, object_type: ObjectType, relationship: str) -> Path:
        return Path(self.git.git_dir) / "entragit" / "links" / f"{object_type.name}.{relationship}.links"

    def links(self, commit: str, object_type: ObjectType, relationship: str) -> dict[str, list[str]]:
        """Every object's links under one relationship at a commit (a full id): from the cache a snapshot
        left for that commit, else from the files themselves."""
        cached = self.links_at(commit, object_type, relationship)
        if cached is not None:
            return cached
        return {i: obj.get(relationship, []) for i, obj in self.read_objects(commit, object_type).items()}

    def links_at(self, commit: str, object_type: ObjectType, relationship: str) -> dict[str, list[str]] | None:
        """Every object's links under one relationship at a commit (a full id), when a snapshot left them
        for a commit whose files of that type are the same; None otherwise (only the files know)."""
        try:
            with self._links_file(object_type, relationship).open() as kept:
                if not self._kept_for(kept.readline().strip(), commit, object_type):
                    return None
                found = json.loads(kept.read())
        except (FileNotFoundError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def links_kept(self, commit: str, object_type: ObjectType, relationship: str) -> bool:
        """Whether links_at would find them, without reading them (20k groups' members are 30 MB)."""
        try:
            with self._links_file(object_type, relationship).open() as kept:
                return self._kept_for(kept.readline().strip(), commit, object_type)
        except FileNotFoundError:
            return False

    def _kept_for(self, kept: str, commit: str, object_type: ObjectType) -> bool:
        return kept == commit or self._same_folder(kept, commit, object_type)

    def _same_folder(self, commit_a: str, commit_b: str, object_type: ObjectType) -> bool:
        """Whether two commits hold the same files of a type: git names a folder by its contents."""
        try:
            trees = self.git.git.rev_parse(f"{commit_a}:{object_type.name}", f"{commit_b}:{object_type.name}")
        except git.GitCommandError:
            return False  # a commit without that folder, or one no longer in the repository
        first, _, second = str(trees).partition("\n")
        return first == second

    def save_links(self, commit: str, object_type: ObjectType, relationship: str, encoded: str) -> None:
        """Keep every object's links under a relationship, as encode_links made them, for this commit: the
        commit on a line of its own, so that whether they are the ones wanted is known without parsing them."""
        path = self._links_file(object_type, relationship)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.tmp")
        temporary.write_text(f"{commit}\n{encoded}")
        temporary.replace(path)

    def object_ids(self, rev: str, object_type: ObjectType) -> set[str]:
        """Ids of a type in a commit, from the tree listing alone."""
        listing = self.git.git.ls_tree("-r", "-z", "--name-only", rev, "--", f"{object_type.name}/")
        return {located[1] for path in filter(None, listing.split("\0")) if (located := split_path(path))}

    def _identity_env(self) -> dict[str, str]:
        reader = self.git.config_reader()
        env: dict[str, str] = {}
        if not reader.has_option("user", "name"):
            env.update(GIT_AUTHOR_NAME=_FALLBACK_IDENTITY["name"], GIT_COMMITTER_NAME=_FALLBACK_IDENTITY["name"])
        if not reader.has_option("user", "email"):
            env.update(GIT_AUTHOR_EMAIL=_FALLBACK_IDENTITY["email"], GIT_COMMITTER_EMAIL=_FALLBACK_IDENTITY["email"])
        return env


def encode_links(links: dict[str, list[str]]) -> str:
    """A links index as save_links keeps it. For 20k groups' members that is ~30 MB of JSON, made while
    other types are still being read rather than after the commit, which alone knows its own id."""
    return json.dumps(links)


def _tree_entries(listing: str) -> Iterator[tuple[str, str]]:
    """(mode type id, path) of each entry in `git ls-tree -z` output."""
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        yield meta, path


def listed_blobs(listing: str) -> dict[str, str]:
    """path -> blob id from `git ls-tree -r -z` output."""
    return {path: meta.split()[2] for meta, path in _tree_entries(listing)}


def _ustar_template() -> bytes:
    header = bytearray(512)
    header[100:124] = b"0000644\x000000000\x000000000\x00"  # mode, uid, gid
    header[136:157] = b"00000000000\x00        0"  # mtime (tar -m sets its own), checksum blanks, regular file
    header[257:265] = b"ustar\x0000"
    return bytes(header)


_USTAR = _ustar_template()


def _tar_entry(path: str, data: bytes) -> bytes:
    """One file of a tar stream. tarfile builds each header field by field (2.3 ms for a page of 100
    users, on the threads the user chain waits for); a name that fits the ustar field takes a fixed
    layout, and only a longer one goes through tarfile."""
    name = path.encode()
    if len(name) > 100:
        entry = tarfile.TarInfo(path)
        entry.size, entry.mode = len(data), 0o644
        header = entry.tobuf(tarfile.PAX_FORMAT)
    else:
        fields = bytearray(_USTAR)
        fields[: len(name)] = name
        fields[124:136] = b"%011o\x00" % len(data)
        fields[148:156] = b"%06o\x00 " % sum(fields)
        header = bytes(fields)
    return b"".join((header, data, bytes(-len(data) % tarfile.BLOCKSIZE)))


class _Feed:
    """A process fed one stream from the snapshot's threads: it starts with the first bytes and ends with
    a trailer when closed. A failure (a pipe it stopped reading early) is reported by close()."""

    def __init__(self, command: list[str], cwd: Path | None, trailer: bytes, failure: str,
                 env: dict[str, str] | None = None) -> None:
        self._command, self._cwd, self._trailer, self._failure = command, cwd, trailer, failure
        # Marked as this run's, as every git command of it is (see entragit.recovery).
        self._env = {**os.environ, **(env or {}), **run_env()}
        self._process: subprocess.Popen[bytes] | None = None
        self._errors: Any = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        # Its messages go to a file, not a pipe: when entragit is killed, a pipe's reader is gone and the
        # process's first message would kill it (SIGPIPE) before it cleans up (git fast-import then leaves
        # its half-written pack, tens of MB in a first snapshot).
        self._errors = tempfile.TemporaryFile()
        return subprocess.Popen(self._command, cwd=self._cwd, env=self._env, stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=self._errors)

    def feed(self, stream: bytes) -> None:
        if not stream:
            return
        with self._lock:
            if self._process is None:
                self._process = self._start()
            assert self._process.stdin is not None
            try:
                self._process.stdin.write(stream)
            except BrokenPipeError:
                pass  # the process stopped early; close() reports its exit status and message

    def close(self) -> None:
        """Wait until the process has done with everything it was fed."""
        with self._lock:
            process, self._process = self._process, None
            if process is None:
                return
            assert process.stdin is not None
            try:
                process.stdin.write(self._trailer)
                process.stdin.close()
            except BrokenPipeError:
                pass  # it stopped early; its exit status and message say why
            failed = process.wait() != 0
            with self._errors as errors:
                errors.seek(0)
                error = errors.read().decode(errors="replace")
            if failed:
                raise StoreError(f"{self._failure}: {error.strip()}")


class _FileWriter(_Feed):
    """Files created by one `tar -x` reading a stream: creating 100k files from the snapshot's threads
    would trade Python's lock around three system calls per file, which made each file cost ~0.7 ms
    while pages were being read."""

    def __init__(self, root: Path) -> None:
        # -m: no time stamps from the archive; files get the time they are made, as a checkout's do.
        super().__init__(["tar", "-x", "-m", "--no-same-owner", "-f", "-", "-C", str(root)], None,
                         bytes(2 * tarfile.BLOCKSIZE), f"tar could not write the snapshot's files into {root}")
        self.root = root

    def _start(self) -> subprocess.Popen[bytes]:
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            return super()._start()
        except FileNotFoundError:
            raise StoreError("a first snapshot writes its files with tar, which is not on the PATH") from None

    def write(self, files: dict[str, bytes]) -> None:
        self.feed(b"".join(_tar_entry(path, data) for path, data in files.items()))


class _BlobImporter(_Feed):
    """Stores file contents as git objects, all through one `git fast-import` writing one pack: a first
    snapshot of a large tenant has hundreds of thousands of files, and a process or a loose object per
    file would cost more than reading the tenant. It is fed while the tenant is still being read.

    Without deltas (each blob against the one before it) and with light compression, git stores the
    blobs of a large first snapshot in under 60% of the time, for a pack ~15% larger; `git gc` packs
    them tighter later, off the snapshot's clock."""

    # Ending a pack makes its index, which for a first snapshot's 125k blobs took 0.3 s after the last
    # page was read: a pack is ended every SEGMENT blobs, while the tenant is read, so the last is small.
    SEGMENT = 25_000

    def __init__(self, repo: BackupRepo, claim: Claim) -> None:
        # Cut off by a kill, git fast-import writes a crash report into its git directory, named by its pid:
        # a pid is known only once the process runs, and a kill between its start and a record naming the
        # report left a report no run took back. So it runs in a git directory of its own, claimed before
        # it starts, that shares the repository's objects and configuration as a linked worktree's does
        # (its `commondir` file): a report lands there and goes with it, and a report of the user's own
        # fast-import, in .git itself, is never touched.
        self.git_dir = repo.git_dir / "entragit" / f"importer-{os.getpid()}"
        self._common_dir = Path(repo.git.common_dir).resolve()
        claim.hold(str(self.git_dir.relative_to(repo.git_dir)))
        super().__init__(["git", "-c", "pack.compression=1", "fast-import", "--depth=0", "--quiet", "--done"],
                         None, b"done\n", "git fast-import could not store the snapshot's files",
                         {"GIT_DIR": str(self.git_dir)})
        self._in_pack = 0

    def _start(self) -> subprocess.Popen[bytes]:
        self.git_dir.mkdir(parents=True, exist_ok=True)
        (self.git_dir / "commondir").write_text(f"{self._common_dir}\n")
        # git takes a folder for a git directory only with a HEAD; fast-import never reads it.
        shutil.copyfile(self._common_dir / "HEAD", self.git_dir / "HEAD")
        return super()._start()

    def remove(self) -> None:
        shutil.rmtree(self.git_dir, ignore_errors=True)

    def store(self, blobs: Collection[bytes]) -> None:
        self.feed(b"".join(b"blob\ndata %d\n%s\n" % (len(data), data) for data in blobs))
        self._in_pack += len(blobs)
        if self._in_pack >= self.SEGMENT:
            self.close()
            self._in_pack = 0


@dataclass(frozen=True)
class PreparedIndex:
    path: Path
    base: bytes | None
    """The repository's index as it was when the prepared files were first added to a copy of it."""


class _PreparedFolders:
    """Files of folders HEAD lacks (a first snapshot's: 100k), made beside the working tree while the tenant
    is read and moved in once the commit exists, and added as they are made to a copy of the repository's
    index by one `git update-index`: git hashes every file to learn its stat data (1.3 s at 125k files),
    and here does it while the tenant is read rather than after it. Each file goes to git once written:
    the tar process is ended every SEGMENT files, the files it was given are then all on disk."""

    SEGMENT = 10_000

    def __init__(self, git_dir: Path, claim: Claim) -> None:
        self.root = git_dir / "entragit" / f"worktree-{os.getpid()}"
        self._index = git_dir / f"entragit-prepared-index-{os.getpid()}"
        # Claimed before they exist: a first snapshot killed while it writes them leaves them to the next run.
        claim.hold(*(str(path.relative_to(git_dir)) for path in (self.root, self._index)),
                   f"{self._index.name}.lock")
        shutil.rmtree(self.root, ignore_errors=True)
        self._git_dir = git_dir
        self._tar = _FileWriter(self.root)
        self._indexer: _Feed | None = None
        self._base: bytes | None = None
        self._unindexed: list[str] = []

    def write(self, files: dict[str, bytes]) -> None:
        self._tar.write(files)
        self._unindexed += files
        if len(self._unindexed) >= self.SEGMENT:
            self._index_written()

    def _index_written(self) -> None:
        self._tar.close()
        if self._indexer is None:
            self._base = _read_or_none(self._git_dir / "index")
            if self._base is not None:
                self._index.write_bytes(self._base)
            self._indexer = _Feed(["git", f"--git-dir={self._git_dir}", f"--work-tree={self.root}", "update-index",
                                   "--add", "--info-only", "-z", "--stdin"], self.root, b"",
                                  "git could not add the snapshot's prepared files to an index",
                                  {"GIT_INDEX_FILE": str(self._index)})
        self._indexer.feed("".join(f"{path}\0" for path in self._unindexed).encode())
        self._unindexed = []

    def close(self) -> PreparedIndex | None:
        """Wait until every file is written and indexed; the index, if any file was."""
        if self._unindexed:
            self._index_written()
        self._tar.close()
        if self._indexer is None:
            return None
        self._indexer.close()
        return PreparedIndex(self._index, self._base)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self._index.unlink(missing_ok=True)


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


class Stager:
    """A snapshot staged type by type (a large type page by page) while other types are still being
    read, so that serializing files and storing them as git objects overlaps the wait on Graph instead
    of following it.

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
    is raised by the next write() once known, else by staged().
    """

    def __init__(self, repo: BackupRepo, types: list[ObjectType], head: str,
                 read_head: Callable[[], dict[str, str]]) -> None:
        self._repo, self._head_commit, self._types = repo, head, types
        # What the snapshot holds in the repository until it ends, for a run after a kill to take back.
        self._claim = Claim(repo.git_dir)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="staging")
        self._failure: BaseException | None = None
        self._head = self._worker.submit(self._by_type, read_head)
        self._head.add_done_callback(self._note_failure)
        self._queued: list[Future[None]] = []
        self._importer = _BlobImporter(repo, self._claim)
        # The working tree itself changes only once the commit exists.
        self._files = _PreparedFolders(repo.git_dir, self._claim)
        self._discarded: set[str] = set()
        self._writes: dict[str, bytes] = {}
        self._blob_ids: dict[str, dict[str, str]] = {}
        """Type name -> path -> blob id of each file written."""
        # Folder trees are made on a thread of their own: the last type's (100k users) is made while the
        # blobs' pack is finished.
        self._tree_maker = ThreadPoolExecutor(1, thread_name_prefix="trees")
        self._trees: dict[str, Future[str | None]] = {}
        self._serialized: set[str] = set()
        self._deletes: list[str] = []

    @staticmethod
    def _by_type(read_head: Callable[[], dict[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
        old = read_head()
        by_type: dict[str, list[str]] = {}
        for path in old:
            located = split_path(path)
            if located is not None:
                by_type.setdefault(located[0].name, []).append(path)
        return old, by_type

    @property
    def _old(self) -> dict[str, str]:
        return self._head.result()[0]

    @property
    def _old_by_type(self) -> dict[str, list[str]]:
        return self._head.result()[1]

    def __enter__(self) -> Stager:
        return self

    def __exit__(self, *exc: object) -> None:
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

    def write(self, object_type: ObjectType, objects: dict[str, Obj]) -> None:
        """Serialize and store some objects of a type, before the rest of it has been read."""
        self._queue(self._write, object_type, objects)

    def _write(self, object_type: ObjectType, objects: dict[str, Obj]) -> None:
        if object_type.name in self._discarded:
            return
        writes: dict[str, bytes] = {}
        old = self._old
        for object_id, obj in objects.items():
            path = object_path(object_type, object_id)
            data = canonical.dump(obj)
            blob = _blob_id(data)
            if old.get(path) != blob:
                writes[path] = data
                self._blob_ids.setdefault(object_type.name, {})[path] = blob
        self._importer.store(writes.values())
        if object_type.name not in self._old_by_type:
            # A folder HEAD lacks (a first snapshot's: 100k files) is prepared beside the working tree
            # while the tenant is read, and moved in at once; git checks out the rest, a few files.
            self._files.write(writes)
        self._writes.update(writes)
        self._serialized.update(object_path(object_type, i) for i in objects)

    def discard(self, object_type: ObjectType) -> None:
        """Leave a type's files as HEAD has them, whatever write() was given for it (its read failed)."""
        self._queue(self._discard, object_type)

    def _discard(self, object_type: ObjectType) -> None:
        folder = f"{object_type.name}/"
        self._writes = {path: data for path, data in self._writes.items() if not path.startswith(folder)}
        self._blob_ids.pop(object_type.name, None)
        self._discarded.add(object_type.name)

    def add(self, object_type: ObjectType, content: Content) -> None:
        """A type's read is over: what its content changes (objects given to write() are not serialized again)."""
        self._queue(self._add, object_type, content)

    def _add(self, object_type: ObjectType, content: Content) -> None:
        self._write(object_type, {i: obj for i, obj in content.objects.items()
                                  if object_path(object_type, i) not in self._serialized})
        old = self._old_by_type.get(object_type.name, [])
        if content.complete:
            wanted = {object_path(object_type, i) for i in content.objects}
            deletes = [p for p in old if p not in wanted]
        else:
            deletes = [p for p in (object_path(object_type, i) for i in content.removed) if p in self._old]
        self._deletes += deletes
        files: dict[str, str | None] = dict.fromkeys(deletes)
        files.update(self._blob_ids.get(object_type.name, {}))
        if files:
            # The type's folder gets its tree now, while other types are still read, not at the commit.
            self._trees[object_type.name] = self._tree_maker.submit(
                self._repo.folder_tree, self._head_commit, object_type.name,
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
        before = {t.name: len(self._old_by_type.get(t.name, [])) for t in self._types}
        before.update((name, len(paths)) for name, paths in self._old_by_type.items())
        old = self._old
        return Staged(
            dict(self._writes), sorted(self._deletes), before, {p for p in self._writes if p not in old},
            prepared=self._files.root if self._files.root.exists() else None,
            prepared_index=prepared_index,
            blob_ids={path: blob for by_type in self._blob_ids.values() for path, blob in by_type.items()},
            head=self._head_commit,
            trees={folder: tree.result() for folder, tree in self._trees.items()},
            claim=self._claim,
        )


def init_repo(root: Path, config: Config) -> BackupRepo:
    """Create a backup repository: git init, entragit.yaml, first commit."""
    from ruamel.yaml import YAML

    config_path = root / CONFIG_FILE
    if config_path.exists():
        raise StoreError(f"{config_path} already exists; {root} is already an entragit backup repository")
    root.mkdir(parents=True, exist_ok=True)
    # The pipelines `entragit init --ci` writes run on main, GitHub's and Azure Repos' default; a machine
    # that names its own default branch keeps it.
    branch = git.Git().config("--get", "init.defaultBranch", with_exceptions=False) or "main"
    repo = _Repo.init(root, initial_branch=branch)
    yaml = YAML()
    yaml.default_flow_style = False
    with config_path.open("w") as handle:
        handle.write("# entragit backup repository. Secrets never go here: the client secret is read from\n"
                     "# AZURE_CLIENT_SECRET (or from the simulator's info file). Nor do hosts: they come from\n"
                     "# the cloud, or from ENTRAGIT_* / git config entragit.* outside the repository.\n")
        yaml.dump(config.to_yaml_dict(), handle)
    # Where to sign in goes into this clone's own git config: entragit.yaml is open to pull requests.
    for setting in ("graph_url", "authority_host", "simulator"):
        if getattr(config, setting):
            remember(repo, setting, getattr(config, setting))
    repo.git.add("--", CONFIG_FILE)
    backup = BackupRepo(root)
    repo.git.commit("-q", "-m", "Start entragit backup repository", env=backup._identity_env())
    # The branch made here holds the reviewed settings: the guardrails loosen only by a commit on it.
    remember(repo, "trusted_ref", repo.git.symbolic_ref("HEAD"))
    return BackupRepo(root)
