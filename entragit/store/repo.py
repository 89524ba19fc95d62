"""BackupRepo, what a backup repository means: objects read at a revision, snapshots and their trailer,
the commit made from what a snapshot staged, and what a killed run left taken back; the files it keeps
under .git are its side_files (entragit.store.sidefiles). init_repo makes one. The git work that makes it
fast is entragit.store.plumbing's."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import git

from entragit import canonical
from entragit.canonical import Obj
from entragit.config import CONFIG_FILE, Config, load_config, remember
from entragit.errors import StoreError
from entragit.recovery import (RUN_VARIABLE, Claim, DeadClaim, Moving, claims_dir, lock_owner, read_claims,
                               run_env, started_before, wait_for_children)
from entragit.registry import ObjectType
from entragit.store.paths import OBJECT_FILES, object_path, split_path
from entragit.store.plumbing.commands import NO_DRIVERS, GitRepo, listed_blobs, mktree, read_blobs, stdin, tree_entries
from entragit.store.plumbing.index import bring_in, index_after_commit, move_in
from entragit.store.plumbing.stager import FolderContent, Staged, Stager
from entragit.store.sidefiles import SideFiles

SNAPSHOT_TRAILER = "Entragit-Snapshot"
# Used only where the machine has no git identity (a fresh CI runner), so a snapshot never fails for it.
_FALLBACK_IDENTITY = {"name": "entragit", "email": "entragit@localhost"}


@dataclass(frozen=True)
class Snapshot:
    commit: str
    time: str
    summary: str


Content = FolderContent[Obj]
"""What a snapshot read of one type gives: every object (complete), or only what changed."""
ObjectStager = Stager[ObjectType, Obj]
"""The plumbing's Stager, staging a snapshot's objects as their files."""


@dataclass(frozen=True)
class PathChange:
    status: str  # "A", "M" or "D", as git says
    path: str
    old_blob: str | None = None
    new_blob: str | None = None


class BackupRepo:
    def __init__(self, root: Path) -> None:
        try:
            self.git: git.Repo = GitRepo(root)
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
        self.side_files = SideFiles(self.git)

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
        args = [*NO_DRIVERS, "--format=%H%x1f%cI%x1f%s", f"--grep=^{SNAPSHOT_TRAILER}:", "HEAD"]
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

    def existing(self, rev: str, paths: list[str]) -> list[str]:
        """The paths that name a file at rev, asked of git in one `cat-file --batch-check`."""
        answers = self.git.git.cat_file("--batch-check", istream=stdin("".join(f"{rev}:{p}\n" for p in paths)))
        return [path for path, answer in zip(paths, answers.splitlines()) if not answer.endswith(" missing")]

    def read_blobs(self, blob_ids: list[str]) -> dict[str, bytes]:
        """The bytes of many blobs by id (see plumbing.commands.read_blobs)."""
        return read_blobs(self.root, blob_ids)

    def changed_paths(self, rev_a: str, rev_b: str, types: Iterable[ObjectType]) -> list[PathChange]:
        """Object files that differ between two commits, as git lists them (no file is read)."""
        folders = [f"{t.name}/" for t in types]
        out = self.git.git.diff(*NO_DRIVERS, "--raw", "--no-abbrev", "--no-renames", "-z", rev_a, rev_b, "--", *folders)
        fields = [f for f in out.split("\0") if f]
        changes = []
        for meta, path in zip(fields[::2], fields[1::2]):
            _, _, old_blob, new_blob, status = meta.split(" ")
            changes.append(PathChange(status[0], path, None if status == "A" else old_blob,
                                      None if status == "D" else new_blob))
        return changes

    # -- writing -------------------------------------------------------------------------------------

    def _dirty(self, folders: list[str]) -> list[str]:
        # No optional locks: a status killed with its entragit must not leave an index.lock of git's own.
        out = self.git.git.status("--porcelain", "-z", "--untracked-files=all", "--", *folders,
                                  env={"GIT_OPTIONAL_LOCKS": "0"})
        return [entry[3:] for entry in out.split("\0") if entry[3:]]

    def stager(self, types: list[ObjectType]) -> ObjectStager:
        """Stage a snapshot type by type, each as soon as it has been read (see Stager)."""
        head = self.resolve("HEAD")
        folders = [f"{t.name}/" for t in types]
        return Stager(self.git, OBJECT_FILES, types, head, functools.partial(self._clean_tree_blobs, head, folders))

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
                    next_index = helper.submit(index_after_commit, self.git, next_file, changes, staged.prepared,
                                               staged.prepared_index)
                    commit = self._write_commit(head, staged.trees, message)
                    self._move_ref(claim, self._head_ref(), head, commit, "HEAD")
                    # The working tree and the index go from the old commit to the new one; only the
                    # changed paths are touched (the snapshot folders were checked clean). The next index
                    # may be learning the prepared files' stat data where they are: they move once it has.
                    index = next_index.result()
                    moved = move_in(staged.prepared, self.root) if staged.prepared is not None else set()
                    bring_in(self.git, index, [p for p in staged.writes if p.split("/", 1)[0] not in moved],
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

    def _write_commit(self, head: str, trees: dict[str, str | None], message: str) -> str:
        """The commit of head's tree with these folders' trees in place (None: the folder goes)."""
        root = {path: meta for meta, path in tree_entries(self.git.git.ls_tree("-z", head))}
        for folder, tree in trees.items():
            root.pop(folder, None)
            if tree is not None:
                root[folder] = f"040000 tree {tree}"
        return str(self.git.git.commit_tree(mktree(self.git, root), "-p", head, "-m", message, env=self._identity_env()))

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
        listing = self.git.git.diff_tree(*NO_DRIVERS, "-r", "-z", "--no-renames", moving.old, moving.new)
        fields = [f for f in listing.split("\0") if f]
        changed: dict[str, tuple[str | None, str | None, str]] = {}
        for meta, path in zip(fields[::2], fields[1::2]):
            _, mode, old, new, _ = meta.split()  # ":old-mode new-mode old-blob new-blob status"
            changed[path] = (None if set(old) == {"0"} else old, None if set(new) == {"0"} else new, mode)
        staged = {path: meta.split()[1] for meta, path in tree_entries(self.git.git.ls_files("-s", "-z"))
                  if path in changed}
        present = [path for path in changed if (self.root / path).is_file()]
        hashed = self.git.git.hash_object("--no-filters", "--stdin-paths",
                                          istream=stdin("".join(f"{p}\n" for p in present))).split()
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
                self.git.git.update_index("--index-info", istream=stdin("\n".join(entries) + "\n"),
                                          env={"GIT_INDEX_FILE": str(index)})
                bring_in(self.git, index, [p for p, (_, new, _) in changed.items() if new],
                               [p for p, (_, new, _) in changed.items() if not new])
        finally:
            index.unlink(missing_ok=True)
            mine.close()
        return [f"brought the index and working tree to {moving.new[:10]}, where {claim.owner.describe()} had "
                f"moved {moving.ref} from {moving.old[:10]} before it was stopped ({len(changed)} file(s))"]

    def links(self, commit: str, object_type: ObjectType, relationship: str) -> dict[str, list[str]]:
        """Every object's links under one relationship at a commit (a full id): from the cache a snapshot
        left for that commit, else from the files themselves."""
        cached = self.side_files.links_at(commit, object_type, relationship)
        if cached is not None:
            return cached
        return {i: obj.get(relationship, []) for i, obj in self.read_objects(commit, object_type).items()}

    def object_ids(self, rev: str, object_type: ObjectType) -> set[str]:
        """Ids of a type in a commit, from the tree listing alone."""
        listing = self.git.git.ls_tree("-r", "-z", "--name-only", rev, "--", f"{object_type.name}/")
        return {located[1] for path in filter(None, listing.split("\0")) if (located := split_path(path))}

    def commit_beside(self, base: str, files: dict[str, bytes | None], message: str, when: str,
                      ref: str | None = None) -> str:
        """A commit of base's tree with these files written (None: removed), base its parent, dated when
        (ISO 8601); on ref when given. No branch, index or working tree changes."""
        written = sorted(path for path, data in files.items() if data is not None)
        with tempfile.TemporaryDirectory(dir=self.git_dir) as folder:
            # One `git hash-object` for every file, named by its position (paths may share a name).
            for number, path in enumerate(written):
                Path(folder, str(number)).write_bytes(files[path] or b"")
            names = "".join(f"{Path(folder, str(n))}\n" for n in range(len(written)))
            blobs = self.git.git.hash_object("-w", "--no-filters", "--stdin-paths", istream=stdin(names)).split()
        lines = [f"100644 {blob}\t{path}" for path, blob in zip(written, blobs)]
        lines += [f"0 {'0' * 40}\t{path}" for path, data in sorted(files.items()) if data is None]
        index = self.git_dir / "entragit" / "beside.index"
        index.parent.mkdir(parents=True, exist_ok=True)
        env = {"GIT_INDEX_FILE": str(index)}
        try:
            self.git.git.read_tree(base, env=env)
            if lines:
                self.git.git.update_index("--index-info", istream=stdin("\n".join(lines) + "\n"), env=env)
            tree = self.git.git.write_tree(env=env)
        finally:
            index.unlink(missing_ok=True)
        dated = {**self._identity_env(), "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        commit = str(self.git.git.commit_tree(tree, "-p", base, istream=stdin(message), env=dated))
        if ref is not None:
            self.git.git.update_ref(ref, commit)
        return commit

    def _identity_env(self) -> dict[str, str]:
        reader = self.git.config_reader()
        env: dict[str, str] = {}
        if not reader.has_option("user", "name"):
            env.update(GIT_AUTHOR_NAME=_FALLBACK_IDENTITY["name"], GIT_COMMITTER_NAME=_FALLBACK_IDENTITY["name"])
        if not reader.has_option("user", "email"):
            env.update(GIT_AUTHOR_EMAIL=_FALLBACK_IDENTITY["email"], GIT_COMMITTER_EMAIL=_FALLBACK_IDENTITY["email"])
        return env


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
    repo = GitRepo.init(root, initial_branch=branch)
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
