"""Who changed what: a report names the user or app the tenant's audit log records for each change, within
the report's time window, and still works (saying why) when the audit log cannot be read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from tests.conftest import Admin, run

from entragit.diff.build import make_report
from entragit.report.model import DiffReport, ObjectChange
from entragit.graph import GraphClient
from entragit.sim import Simulator
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo


def _people(admin: Admin) -> list[dict[str, Any]]:
    return list(admin.get("users", **{"$top": "5", "$select": "id,displayName,userPrincipalName"})["value"])


def _change(report: DiffReport, object_id: str) -> ObjectChange:
    return next(c for c in report.changes if c.id == object_id)


def _department_changed_by_app(repo: BackupRepo, client: GraphClient, admin: Admin, department: str) -> str:
    """Two snapshots around one change of a user's department; the user's id."""
    target = str(_people(admin)[0]["id"])
    take_snapshot(repo, client=client)
    admin.call("PATCH", f"users/{target}", json={"department": department})
    take_snapshot(repo, client=client)
    return target


def test_a_change_made_by_a_user_names_that_user(sim: Simulator, repo: BackupRepo, client: GraphClient,
                                                admin: Admin) -> None:
    alice, target = _people(admin)[:2]
    take_snapshot(repo, client=client)
    Admin(sim, as_user=alice["userPrincipalName"]).call("PATCH", f"users/{target['id']}", json={"department": "Audit"})
    take_snapshot(repo, client=client)

    report = make_report(repo, None, None, live=False)

    assert report.attribution == "available"
    [who] = _change(report, target["id"]).changed_by
    assert (who.actor, who.actor_kind, who.actor_id, who.activity) == (
        alice["userPrincipalName"], "user", alice["id"], "Update user")
    assert who.time.endswith("Z") and datetime.fromisoformat(who.time) <= datetime.now(timezone.utc)
    backwards = make_report(repo, "HEAD", "HEAD~1", live=False)  # newer side first: the same window
    assert _change(backwards, target["id"]).changed_by == [who]


def test_a_change_made_by_an_app_names_the_app_and_live_reports_too(sim: Simulator, repo: BackupRepo,
                                                                   client: GraphClient, admin: Admin) -> None:
    group = admin.group("Finance Team")
    member = next(p for p in _people(admin) if p["id"] not in admin.members(group["id"]))
    take_snapshot(repo, client=client)
    admin.call("POST", f"groups/{group['id']}/members/$ref",
               json={"@odata.id": f"{sim.graph_url}/v1.0/directoryObjects/{member['id']}"})

    report = make_report(repo, "HEAD", None, live=True, client_factory=lambda: client)

    [who] = _change(report, group["id"]).changed_by
    principal = admin.get("servicePrincipals", **{"$filter": f"appId eq '{sim.client_id}'"})["value"][0]
    assert (who.actor, who.actor_kind, who.actor_id, who.activity) == (
        principal["displayName"], "app", sim.client_id, "Add member to group")


def test_only_changes_inside_the_window_are_named_newest_first(sim: Simulator, repo: BackupRepo, client: GraphClient,
                                                               admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    bob, alice, carol, target = _people(admin)[:4]
    Admin(sim, as_user=bob["userPrincipalName"]).call("PATCH", f"users/{target['id']}", json={"jobTitle": "Early"})
    # Two hours later, in the tenant's clock and in the snapshots' commit times alike.
    sim.clock.advance(7200)
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    monkeypatch.setenv("GIT_COMMITTER_DATE", later.isoformat())
    take_snapshot(repo, client=client)
    Admin(sim, as_user=alice["userPrincipalName"]).call("PATCH", f"users/{target['id']}", json={"department": "A"})
    Admin(sim, as_user=carol["userPrincipalName"]).call("PATCH", f"users/{target['id']}", json={"department": "C"})
    sim.clock.advance(2)
    monkeypatch.setenv("GIT_COMMITTER_DATE", (later + timedelta(seconds=60)).isoformat())
    take_snapshot(repo, client=client)

    report = make_report(repo, None, None, live=False)

    assert [w.actor for w in _change(report, target["id"]).changed_by] == [
        carol["userPrincipalName"], alice["userPrincipalName"]]


def test_without_audit_permission_the_report_says_so_and_still_works(sim: Simulator, repo: BackupRepo,
                                                                     client: GraphClient, admin: Admin) -> None:
    target = _department_changed_by_app(repo, client, admin, "Unattributed")
    sim.settings.audit_log_read = False

    report = make_report(repo, None, None, live=False)

    assert report.attribution.startswith("unavailable: the app lacks AuditLog.Read.All")
    assert _change(report, target).changed_by == []
    result = run("diff", "--repo", str(repo.root))
    assert "Unattributed" in result.output


def test_an_unreachable_tenant_leaves_the_report_unattributed(sim: Simulator, repo: BackupRepo, client: GraphClient,
                                                              admin: Admin) -> None:
    target = _department_changed_by_app(repo, client, admin, "Offline")
    sim.stop()

    report = make_report(repo, None, None, live=False)

    assert report.attribution.startswith("unavailable:")
    assert [a.new for a in _change(report, target).attributes] == ["Offline"]


def test_no_attribution_asks_nothing_of_the_audit_log(sim: Simulator, repo: BackupRepo, client: GraphClient,
                                                      admin: Admin) -> None:
    _department_changed_by_app(repo, client, admin, "Quiet")
    sim.settings.audit_log_read = False  # any read of the audit log would now mark the report unavailable

    assert make_report(repo, None, None, live=False, attribution=False).attribution == "not requested"
    assert run("diff", "--repo", str(repo.root), "--no-attribution").exit_code == 0


def test_types_names_the_permission_attribution_needs() -> None:
    assert "AuditLog.Read.All" in run("types").output
