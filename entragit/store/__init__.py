"""The backup repository: canonical files per object, one commit per snapshot, trees at a revision.

What the repository means lives here: where each object's file is and what it holds (paths), the read API,
commits with their snapshot trailer and init_repo (repo), and the files kept beside them under .git
(sidefiles). The git plumbing that makes a large snapshot fast, which knows nothing of object types or
YAML, is in entragit.store.plumbing.
"""

from __future__ import annotations

from entragit.store.paths import object_path, split_path
from entragit.store.plumbing.commands import NO_DRIVERS, listed_blobs
from entragit.store.plumbing.stager import Staged
from entragit.store.repo import SNAPSHOT_TRAILER, BackupRepo, Content, ObjectStager, PathChange, Snapshot, init_repo
from entragit.store.sidefiles import encode_links, items_digest

__all__ = ["NO_DRIVERS", "SNAPSHOT_TRAILER", "BackupRepo", "Content", "ObjectStager", "PathChange", "Snapshot", "Staged",
           "encode_links", "init_repo", "items_digest", "listed_blobs", "object_path", "split_path"]
