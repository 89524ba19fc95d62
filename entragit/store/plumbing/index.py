"""The index and working tree a commit needs: a new folder's files prepared beside the working tree while
the tenant is read, and added as they are written to a copy of the repository's index; the next index made
beside the real one; the prepared folders moved in and the other files checked out against it."""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import git

from entragit.recovery import Claim
from entragit.store.plumbing.commands import read_or_none, stdin
from entragit.store.plumbing.feed import Feed
from entragit.store.plumbing.tar import FileWriter


@dataclass(frozen=True)
class PreparedIndex:
    path: Path
    base: bytes | None
    """The repository's index as it was when the prepared files were first added to a copy of it."""


class PreparedFolders:
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
        self._tar = FileWriter(self.root)
        self._indexer: Feed | None = None
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
            self._base = read_or_none(self._git_dir / "index")
            if self._base is not None:
                self._index.write_bytes(self._base)
            self._indexer = Feed(["git", f"--git-dir={self._git_dir}", f"--work-tree={self.root}", "update-index",
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


def index_after_commit(repo: git.Repo, index: Path, changes: list[str], prepared: Path | None,
                       prepared_index: PreparedIndex | None) -> Path:
    """The index after the commit: the current one with the commit's changes, knowing the stat data of
    the files in prepared folders, which they keep when their folder is renamed into the working tree.
    Files checked out later enter their own stat data as they are written."""
    current = Path(repo.git_dir) / "index"
    env = {"GIT_INDEX_FILE": str(index)}
    if prepared is not None and prepared_index and prepared_index.base == read_or_none(current):
        # The prepared files were added to a copy of this very index while the tenant was read.
        os.replace(prepared_index.path, index)
        folders = {f"{folder}/" for folder in os.listdir(prepared)}
        changes = [line for line in changes if not line.split("\t", 1)[1].startswith(tuple(folders))]
        prepared = None
    else:
        shutil.copyfile(current, index)
    if changes:
        repo.git.update_index("--index-info", istream=stdin("\n".join(changes) + "\n"), env=env)
    if prepared is not None:
        # git hashes every prepared file to learn its stat data (a second at 100k files), beside the
        # commit; every other entry keeps what it knew.
        repo.git.execute(["git", f"--work-tree={prepared}", "update-index", "-q", "--ignore-missing",
                          "--refresh"], env=env)
    return index


def move_in(prepared: Path, root: Path) -> set[str]:
    """Put prepared folders in place, each in one rename where the working tree lacks it (creating
    100k files is the slow part of a checkout, and it was done while reading); the folders' names."""
    folders = set(os.listdir(prepared))
    # shutil.move renames, and copies only where the git directory is on another file system.
    for folder in folders:
        if not (root / folder).exists():
            shutil.move(prepared / folder, root / folder)
            continue
        for name in os.listdir(prepared / folder):
            shutil.move(prepared / folder / name, root / folder / name)
    return folders


def bring_in(repo: git.Repo, index: Path, checkout: list[str], deletes: list[str]) -> None:
    """Write files from an index made beside the real one into the working tree (their stat data going
    into that index), remove others, then make it the repository's index, in one rename."""
    root = Path(str(repo.working_tree_dir))
    if checkout:
        repo.git.checkout_index("-u", "-f", "-z", "--stdin", istream=stdin("\0".join(checkout) + "\0"),
                                env={"GIT_INDEX_FILE": str(index)})
    for path in deletes:
        (root / path).unlink(missing_ok=True)
    for folder in {path.split("/", 1)[0] for path in deletes}:
        with contextlib.suppress(OSError):  # git keeps no empty folder; neither does a checkout
            (root / folder).rmdir()
    os.replace(index, Path(repo.git_dir) / "index")
