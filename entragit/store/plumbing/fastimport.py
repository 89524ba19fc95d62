"""Blobs stored by one `git fast-import` fed while the tenant is read."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Collection
from pathlib import Path

import git

from entragit.recovery import Claim
from entragit.store.plumbing.feed import Feed


class BlobImporter(Feed):
    """Stores file contents as git objects, all through one `git fast-import` writing one pack: a first
    snapshot of a large tenant has hundreds of thousands of files, and a process or a loose object per
    file would cost more than reading the tenant. It is fed while the tenant is still being read.

    Without deltas (each blob against the one before it) and with light compression, git stores the
    blobs of a large first snapshot in under 60% of the time, for a pack ~15% larger; `git gc` packs
    them tighter later, off the snapshot's clock."""

    # Ending a pack makes its index, which for a first snapshot's 125k blobs took 0.3 s after the last
    # page was read: a pack is ended every SEGMENT blobs, while the tenant is read, so the last is small.
    SEGMENT = 25_000

    def __init__(self, repo: git.Repo, claim: Claim) -> None:
        # Cut off by a kill, git fast-import writes a crash report into its git directory, named by its pid:
        # a pid is known only once the process runs, and a kill between its start and a record naming the
        # report left a report no run took back. So it runs in a git directory of its own, claimed before
        # it starts, that shares the repository's objects and configuration as a linked worktree's does
        # (its `commondir` file): a report lands there and goes with it, and a report of the user's own
        # fast-import, in .git itself, is never touched.
        git_dir = Path(repo.git_dir)
        self.git_dir = git_dir / "entragit" / f"importer-{os.getpid()}"
        self._common_dir = Path(repo.common_dir).resolve()
        claim.hold(str(self.git_dir.relative_to(git_dir)))
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

