"""Which two states a report compares: revisions chosen by age or date, or left out and filled in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from entragit.errors import StoreError
from entragit.store import BackupRepo, Snapshot


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


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or date and time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise StoreError(f"--at {text!r}: expected a date such as 2026-11-20 or 2026-11-20T08:30 "
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


def default_revisions(repo: BackupRepo, rev_a: str | None, rev_b: str | None, live: bool) -> tuple[str, str | None]:
    """Fill in what the user left out: the two newest snapshots, or the newest against live."""
    if rev_a and (rev_b or live):
        return rev_a, rev_b
    snapshots = repo.snapshots(limit=2)
    if rev_a:
        if not snapshots:
            raise StoreError(f"{repo.root} has no snapshot yet; take one with `entragit snapshot`")
        return rev_a, snapshots[0].commit
    if live:
        if not snapshots:
            raise StoreError(f"{repo.root} has no snapshot yet; take one with `entragit snapshot`")
        return snapshots[0].commit, None
    if len(snapshots) < 2:
        raise StoreError(
            f"{repo.root} has {len(snapshots)} snapshot(s); a diff needs two, or one and --live "
            "(`entragit diff HEAD --live`)"
        )
    return snapshots[1].commit, snapshots[0].commit
