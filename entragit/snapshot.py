"""A snapshot: read every selected type from Graph, write canonical files, make one commit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from entragit import __version__
from entragit.canonical import Obj
from entragit.config import Guard
from entragit.connect import graph_client
from entragit.graph import GraphClient
from entragit.live import ProgressFn, fetch_type
from entragit.registry import ObjectType, resolve_types
from entragit.store import SNAPSHOT_TRAILER, BackupRepo, Staged

SUSPECT_PREFIX = "entragit/suspect/"


@dataclass(frozen=True)
class SnapshotResult:
    commit: str | None
    """The new commit, or None when the tenant matched the last snapshot byte for byte."""
    counts: dict[str, int]
    changed_files: int
    suspicions: list[str] = field(default_factory=list)
    """Why the snapshot looks like a partial answer rather than the tenant; non-empty: held back."""
    branch: str | None = None
    """Where a held-back snapshot was committed instead of the current branch."""


def _message(tenant_id: str, counts: dict[str, int], when: datetime, suspicions: list[str]) -> str:
    total = ", ".join(f"{n} {name}" for name, n in counts.items())
    lines = [f"{'Suspect snapshot' if suspicions else 'Snapshot'}: {total}", ""]
    lines += [f"{name}: {n}" for name, n in counts.items()]
    if suspicions:
        lines += ["", "Held back from the main line, because:"] + [f"- {s}" for s in suspicions]
    lines += [
        "",
        f"{SNAPSHOT_TRAILER}: {when.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"Entragit-Tenant: {tenant_id}",
        f"Entragit-Version: {__version__}",
    ]
    # One trailer per type, so tools can read counts and how each type was read without parsing prose.
    lines += [f"Entragit-Type: {name} count={n} mode=full" for name, n in counts.items()]
    return "\n".join(lines)


def suspicions(staged: Staged, counts: dict[str, int], guard: Guard) -> list[str]:
    """A partial Graph answer looks exactly like a mass deletion: name every type where that is what
    this snapshot would record, so it never becomes the known-good state a restore trusts."""
    found = []
    for name, before in staged.before.items():
        vanished = staged.vanished(name)
        if before > guard.minimum_objects and vanished / before > guard.vanished_share:
            found.append(f"{vanished} of {before} {name} vanished since the last snapshot "
                         f"({vanished / before:.0%}; the guard allows {guard.vanished_share:.0%}), "
                         f"{counts.get(name, 0)} remain")
    return found


# Types are read side by side: their endpoints are throttled separately (Conditional Access has its own
# 1 request/s), so one type's waits overlap another's reads.
_TYPE_WORKERS = 3


def read_tenant(client: GraphClient, types: list[ObjectType], progress: ProgressFn | None = None
                ) -> dict[ObjectType, dict[str, Obj]]:
    with ThreadPoolExecutor(_TYPE_WORKERS) as pool:
        results = list(pool.map(lambda t: fetch_type(client, t, progress), types))
    return dict(zip(types, results))


def take_snapshot(repo: BackupRepo, type_names: tuple[str, ...] = (), progress: ProgressFn | None = None,
                  client: GraphClient | None = None, accept_mass_change: bool = False) -> SnapshotResult:
    """Read the tenant, then commit. Every read finishes before anything is written, so a failed read
    leaves the repository exactly as it was. A snapshot the mass-change guard suspects goes to a side
    branch (entragit/suspect/<time>) unless accept_mass_change says it is real."""
    types = resolve_types(type_names or repo.config.types)
    client = client or graph_client(repo.config.connection())
    objects = read_tenant(client, types, progress)
    counts = {t.name: len(by_id) for t, by_id in objects.items()}
    staged = repo.stage(objects)
    if not staged.changed:
        return SnapshotResult(None, counts, 0)
    now = datetime.now(timezone.utc)
    doubts = [] if accept_mass_change else suspicions(staged, counts, repo.config.guard)
    message = _message(repo.config.tenant_id, counts, now, doubts)
    branch = f"{SUSPECT_PREFIX}{now.strftime('%Y%m%dT%H%M%SZ')}" if doubts else None
    return SnapshotResult(repo.commit(staged, message, branch), counts, staged.changed, doubts, branch)
