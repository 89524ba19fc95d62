"""A snapshot: read every selected type from Graph, write canonical files, make one commit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone

from entragit import __version__
from entragit.canonical import Obj
from entragit.connect import graph_client
from entragit.graph import GraphClient
from entragit.live import ProgressFn, fetch_type
from entragit.registry import ObjectType, resolve_types
from entragit.store import SNAPSHOT_TRAILER, BackupRepo


@dataclass(frozen=True)
class SnapshotResult:
    commit: str | None
    """The new commit, or None when the tenant matched the last snapshot byte for byte."""
    counts: dict[str, int]
    changed_files: int


def _message(tenant_id: str, counts: dict[str, int], when: datetime) -> str:
    total = ", ".join(f"{n} {name}" for name, n in counts.items())
    lines = [f"Snapshot: {total}", ""]
    lines += [f"{name}: {n}" for name, n in counts.items()]
    lines += [
        "",
        f"{SNAPSHOT_TRAILER}: {when.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"Entragit-Tenant: {tenant_id}",
        f"Entragit-Version: {__version__}",
    ]
    return "\n".join(lines)


# Types are read side by side: their endpoints are throttled separately (Conditional Access has its own
# 1 request/s), so one type's waits overlap another's reads.
_TYPE_WORKERS = 3


def read_tenant(client: GraphClient, types: list[ObjectType], progress: ProgressFn | None = None
                ) -> dict[ObjectType, dict[str, Obj]]:
    with ThreadPoolExecutor(_TYPE_WORKERS) as pool:
        results = list(pool.map(lambda t: fetch_type(client, t, progress), types))
    return dict(zip(types, results))


def take_snapshot(repo: BackupRepo, type_names: tuple[str, ...] = (), progress: ProgressFn | None = None,
                  client: GraphClient | None = None) -> SnapshotResult:
    """Read the tenant, then write and commit. Every read finishes before the first write, so a
    failed read leaves the repository exactly as it was."""
    types = resolve_types(type_names or repo.config.types)
    client = client or graph_client(repo.config.connection())
    objects = read_tenant(client, types, progress)
    counts = {t.name: len(by_id) for t, by_id in objects.items()}
    message = _message(repo.config.tenant_id, counts, datetime.now(timezone.utc))
    staged = repo.stage(objects)
    if not staged.changed:
        return SnapshotResult(None, counts, 0)
    return SnapshotResult(repo.commit(staged, message), counts, staged.changed)
