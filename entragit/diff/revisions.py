"""Which two states a report compares: revisions chosen by age or date, or left out and filled in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from entragit.errors import StoreError
from entragit.store import SNAPSHOT_TRAILER, BackupRepo, Snapshot


_DURATION = re.compile(r"^(\d+)\s*([hdw])$")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
# Far beyond any repository's history, and far from the limits of Python's dates.
_LONGEST = timedelta(days=36500)


def parse_duration(text: str) -> timedelta:
    """`12h`, `7d`, `2w`."""
    match = _DURATION.match(text.strip())
    if not match:
        raise StoreError(f"--since {text!r}: expected a number of hours, days or weeks, such as 12h, 7d or 2w")
    count, unit = int(match[1]), _UNIT[match[2]]
    if count > _LONGEST // unit:
        raise StoreError(f"--since {text!r}: at most {_LONGEST // unit}{match[2]} (100 years) back")
    return count * unit


def parse_moment(text: str, option: str = "--at") -> datetime:
    """An ISO 8601 date or date and time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise StoreError(f"{option} {text!r}: expected a date such as 2026-11-20 or 2026-11-20T08:30 "
                         "(UTC unless a zone is given, e.g. 2026-11-20T08:30+01:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def snapshot_at(repo: BackupRepo, moment: datetime, asked: str) -> Snapshot:
    """The snapshot in force at a moment: the newest one committed at or before it."""
    snapshots = repo.snapshots()
    if not snapshots:
        raise StoreError(f"{repo.root} has no snapshot yet; take one with `entragit snapshot`")
    for snapshot in snapshots:
        if datetime.fromisoformat(snapshot.time) <= moment:
            return snapshot
    raise StoreError(f"{asked} is {moment.isoformat(timespec='minutes')}, before the first snapshot "
                     f"({snapshots[-1].time}) in {repo.root}")


def revision_by_time(repo: BackupRepo, since: str | None, at: str | None, now: datetime | None) -> str | None:
    if since is not None and at is not None:
        raise StoreError("--since and --at both name the older side; give one of them")
    if since is not None:
        moment = (now or datetime.now(timezone.utc)) - parse_duration(since)
        return snapshot_at(repo, moment, f"--since {since}").commit
    if at is not None:
        return snapshot_at(repo, parse_moment(at), f"--at {at}").commit
    return None


# What `git revert` writes in the message (an abbreviated id with revert.reference or --reference).
_REVERTS = re.compile(r"^This reverts commit ([0-9a-f]{7,40})\b", re.MULTILINE)


@dataclass(frozen=True)
class Recorded:
    """What a commit is to a report: a snapshot (it carries the snapshot trailer), and which commit it
    reverts, if `git revert` made it."""

    commit: str
    snapshot: bool
    reverts: str | None


def _parse(out: str) -> list[Recorded]:
    """`git log --format=%H%x1f%B%x1e` output, as Recorded, in its order."""
    found = []
    for record in out.split("\x1e"):
        commit, _, message = record.strip().partition("\x1f")
        if commit:
            reverts = _REVERTS.search(message)
            found.append(Recorded(commit, bool(re.search(f"^{SNAPSHOT_TRAILER}:", message, re.MULTILINE)),
                                  reverts[1] if reverts else None))
    return found


def recorded(repo: BackupRepo, *commits: str) -> dict[str, Recorded]:
    """Commit -> what it is, for the commits given."""
    return {r.commit: r for r in _parse(str(repo.git.git.log("--no-walk", "--format=%H%x1f%B%x1e", *commits)))}


def recorded_states(repo: BackupRepo, count: int) -> list[str]:
    """The newest `count` commits on the current branch that record a state of the tenant, newest first.

    A snapshot records one. A `git revert` of a snapshot undoes it: the reverted snapshot no longer
    counts and the revert commit stands in its place (after `git revert` and `entragit apply`, the
    tenant is as the revert commit has it, and the next snapshot, finding nothing new, commits
    nothing). A revert of such a revert brings the reverted one back the same way."""
    if not repo.git.head.is_valid():
        return []
    out = str(repo.git.git.log("--format=%H%x1f%B%x1e", f"--grep=^{SNAPSHOT_TRAILER}:",
                               "--grep=^This reverts commit ", "HEAD"))
    history = _parse(out)
    full = {r.commit for r in history}

    def target(record: Recorded) -> str | None:
        if record.reverts is None:
            return None
        return next((c for c in full if c.startswith(record.reverts)), None)

    undone: set[str] = set()
    states: list[str] = []
    for record in history:  # newest first: a revert is met before what it reverts
        if record.commit in undone:
            continue
        reverted = target(record)
        if reverted is not None:
            undone.add(reverted)
        if record.snapshot or reverted is not None:
            states.append(record.commit)
            if len(states) == count:
                break
    return states


def default_revisions(repo: BackupRepo, rev_a: str | None, rev_b: str | None, live: bool) -> tuple[str, str | None]:
    """Fill in what the user left out: the two newest recorded states (recorded_states), or the newest
    against live."""
    if rev_a and (rev_b or live):
        return rev_a, rev_b
    states = recorded_states(repo, 2)
    if rev_a:
        if not states:
            raise StoreError(f"{repo.root} has no snapshot yet; take one with `entragit snapshot`")
        return rev_a, states[0]
    if live:
        if not states:
            raise StoreError(f"{repo.root} has no snapshot yet; take one with `entragit snapshot`")
        return states[0], None
    if len(states) < 2:
        raise StoreError(
            f"{repo.root} has {len(states)} snapshot(s); a diff needs two, or one and --live "
            "(`entragit diff HEAD --live`)"
        )
    return states[1], states[0]
