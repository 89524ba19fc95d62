"""A new folder's files prepared beside the working tree while the tenant is read, and added as they are
written to a copy of the repository's index, so that the commit only moves them in."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from entragit.recovery import Claim
from entragit.store.plumbing.commands import read_or_none
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
