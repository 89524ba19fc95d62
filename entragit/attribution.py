"""Who changed what: the tenant's directory audit log matched to the objects of a difference report.

One windowed read of auditLogs/directoryAudits (needs AuditLog.Read.All) covers every object of the report:
the window runs from the old snapshot's commit to the new one's (or to now, against the live tenant), and
each record names the objects it touched in targetResources. A tenant that refuses or cannot be reached
leaves the report as it is, saying why attribution is unavailable: a diff never fails for want of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from entragit.report.model import Attribution, DiffReport, ObjectChange
from entragit.connect import graph_client
from entragit.errors import EntragitError, GraphError
from entragit.graph import GraphClient, RetryPolicy
from entragit.store import BackupRepo

AUDIT_PATH = "auditLogs/directoryAudits"
AUDIT_PERMISSION = "AuditLog.Read.All"
# The old snapshot read the tenant for a while before it committed: a change made during that read, after
# the object was read, belongs to this report although the audit log dates it before the commit.
READ_SLACK = timedelta(minutes=10)
# A report does not wait minutes on an unreachable tenant for something it can do without.
QUICK_RETRY = RetryPolicy(max_attempts=3, max_total_wait=10.0)
_WHOLE_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def audit_window(repo: BackupRepo, report: DiffReport, now: datetime) -> tuple[datetime, datetime]:
    """From a little before the older side's commit to just after the newer side's, or now (a report may
    compare backwards in time); the filter names whole seconds, so the end is rounded up."""
    assert report.old.commit is not None
    times = [repo.git.commit(c).committed_datetime if c else now for c in (report.old.commit, report.new.commit)]
    return min(times) - READ_SLACK, max(times) + timedelta(seconds=1)


def _actor(initiated_by: dict[str, Any]) -> tuple[str, str, str | None] | None:
    user, app = initiated_by.get("user"), initiated_by.get("app")
    if user:
        name = user.get("userPrincipalName") or user.get("displayName") or user.get("id")
        return (str(name), "user", user.get("id")) if name else None
    if app:
        name = app.get("displayName") or app.get("appId")
        return (str(name), "app", app.get("appId")) if name else None
    return None


def _time(value: str) -> str:
    whole = _WHOLE_SECONDS.match(value or "")
    return whole.group() + "Z" if whole else value


def match_records(changes: Iterable[ObjectChange], records: Iterable[dict[str, Any]]) -> None:
    """Fill each change's changed_by from the records naming its object: newest first, no repeats."""
    by_id = {change.id.lower(): change for change in changes}
    # object id -> attribution -> its newest record's exact time (the report shows whole seconds; order needs more)
    found: dict[str, dict[Attribution, str]] = {}
    for record in records:
        actor = _actor(record.get("initiatedBy") or {})
        if actor is None:
            continue
        exact = str(record.get("activityDateTime") or "")
        attribution = Attribution(actor[0], actor[1], actor[2], str(record.get("activityDisplayName") or ""),
                                  _time(exact))
        for target in record.get("targetResources") or []:
            target_id = str(target.get("id") or "").lower()
            if target_id in by_id:
                seen = found.setdefault(target_id, {})
                seen[attribution] = max(seen.get(attribution, ""), exact)
    for target_id, attributions in found.items():
        by_id[target_id].changed_by = sorted(attributions, key=lambda a: attributions[a], reverse=True)


def _reason(error: EntragitError) -> str:
    if isinstance(error, GraphError) and error.status == 403:
        return (f"unavailable: the app lacks {AUDIT_PERMISSION} (or the tenant's audit log needs a licence it "
                f"lacks); Graph answered 403 {error.code}")
    return f"unavailable: the audit log could not be read ({error})"


def attribute(report: DiffReport, repo: BackupRepo, client_factory: Callable[[], GraphClient] | None = None,
              now: datetime | None = None) -> None:
    """Name who changed each object of the report, where the audit log says so; sets report.attribution."""
    if report.empty:
        return
    since, until = audit_window(repo, report, now or datetime.now(timezone.utc))
    params = {"$filter": f"activityDateTime ge {_stamp(since)} and activityDateTime le {_stamp(until)}",
              "$top": "999"}
    try:
        if client_factory is not None:
            client = client_factory()
        else:
            client = graph_client(repo.config.connection(), retry=QUICK_RETRY)
        records = list(client.iter_collection(AUDIT_PATH, params))
    except EntragitError as error:
        report.attribution = _reason(error)
        return
    except (OSError, ValueError) as error:  # msal reaches the authority as it starts, outside entragit's errors
        report.attribution = f"unavailable: the tenant could not be reached ({error})"
        return
    match_records(report.changes, records)
    report.attribution = "available"
