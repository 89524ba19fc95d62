"""Thinning out history for repositories that want less than all of it. This REWRITES history.

git keeps every snapshot for as long as the repository lives, which is the point of entragit. Some
teams must not keep identity data that long; `entragit prune` keeps the newest snapshot of each of the
last N days that have one and of each of the last M months, and rebuilds the branch from those. Other
commits (the repository's start, hand edits) are kept. Each kept commit keeps its tree, message, author
and dates, so the newest state, and every kept one, is exactly what it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from entragit.registry import REGISTRY
from entragit.store import NO_DRIVERS, SNAPSHOT_TRAILER, BackupRepo


@dataclass(frozen=True)
class PrunePlan:
    keep: list[str]
    drop: list[str]
    """Snapshot commits that would go, oldest first."""


def plan_prune(repo: BackupRepo, keep_daily: int, keep_monthly: int) -> PrunePlan:
    if keep_daily < 1 and keep_monthly < 1:
        raise ValueError("keep at least one daily or monthly snapshot")
    chain = repo.git.git.log(*NO_DRIVERS, "--first-parent", "--reverse", "--format=%H%x1f%cI%x1f%B%x1e", "HEAD")
    commits = []
    for record in filter(str.strip, chain.split("\x1e")):
        sha, when, body = record.strip().split("\x1f", 2)
        commits.append((sha, when, f"\n{SNAPSHOT_TRAILER}:" in f"\n{body}"))
    snapshots = [(sha, when) for sha, when, is_snapshot in commits if is_snapshot]
    kept: set[str] = set()
    for width, count in ((10, keep_daily), (7, keep_monthly)):  # "YYYY-MM-DD" and "YYYY-MM"
        newest_per_period: dict[str, str] = {}
        for sha, when in snapshots:  # oldest first: a later snapshot of the period replaces an earlier one
            newest_per_period[when[:width]] = sha
        kept |= {newest_per_period[p] for p in sorted(newest_per_period)[-count:]} if count > 0 else set()
    if snapshots:
        kept.add(snapshots[-1][0])  # the newest state is never pruned
    keep = [sha for sha, _, is_snapshot in commits if not is_snapshot or sha in kept]
    return PrunePlan(keep, [sha for sha, _ in snapshots if sha not in kept])


def prune(repo: BackupRepo, plan: PrunePlan) -> str:
    """Rebuild the current branch from the kept commits; returns its new head."""
    old_head = repo.resolve("HEAD")
    parent: str | None = None
    for sha in plan.keep:
        commit = repo.git.commit(sha)
        env = {
            "GIT_AUTHOR_NAME": commit.author.name, "GIT_AUTHOR_EMAIL": commit.author.email,
            "GIT_AUTHOR_DATE": commit.authored_datetime.isoformat(),
            "GIT_COMMITTER_NAME": commit.committer.name, "GIT_COMMITTER_EMAIL": commit.committer.email,
            "GIT_COMMITTER_DATE": commit.committed_datetime.isoformat(),
        }
        args = [commit.tree.hexsha] + (["-p", parent] if parent else []) + ["-m", commit.message]
        parent = str(repo.git.git.commit_tree(*args, env=env))
    assert parent is not None
    repo.git.git.update_ref("HEAD", parent, old_head, "-m", "entragit prune")
    # The new head holds the same tree as the old one: the index and working tree need no change,
    # but delta links that continued the old head now continue the new one.
    for object_type in REGISTRY.values():
        state = repo.side_files.delta_state(object_type)
        if state and state.get("commit") == old_head:
            repo.side_files.save_delta_state(object_type, state["link"], parent, state["signature"])
    return parent
