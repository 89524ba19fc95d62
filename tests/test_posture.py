"""`entragit posture`: each pillar passes on the seeded tenant, and warns or fails when what it checks breaks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from entragit.graph import GraphClient
from entragit.posture import FAIL, PASS, WARN, PostureOptions, assess
from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin, run

ACTIONS = "roleManagement/directory/resourceNamespaces/microsoft.directory/resourceActions"
PURGE = f"{ACTIONS}/microsoft.directory-deletedItems-delete-delete"
CA = "identity/conditionalAccess/policies"
PROTECTING = "Protected actions: require MFA for sensitive changes"


def _break_glass(admin: Admin) -> str:
    return str(next(u["userPrincipalName"] for u in admin.get("users", **{"$top": "999"})["value"]
                    if u["userPrincipalName"].startswith("breakglass1@")))


def _posture(repo: BackupRepo, *args: str, code: int = 0) -> dict[str, dict[str, object]]:
    result = run("posture", "--repo", str(repo.root), "--format", "json", *args, ok=False)
    assert result.exit_code == code, result.output
    return {p["name"]: p for p in json.loads(result.output)["pillars"]}


def _pillar(repo: BackupRepo, client: GraphClient, name: str, **options: object) -> tuple[str, str, list[str]]:
    found = next(p for p in assess(repo, client, PostureOptions(**options)).pillars  # type: ignore[arg-type]
                 if p.name == name)
    return found.status, found.summary, found.figures


def test_a_well_kept_tenant_passes_every_pillar(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    result = run("posture", "--repo", str(repo.root), "--break-glass", _break_glass(admin))
    lines = result.output.splitlines()
    assert lines[0].endswith(": PASS")
    assert [line.split()[0] for line in lines if line[:1].isupper() and not line.startswith("Posture")] == ["PASS"] * 4
    assert "microsoft.directory/deletedItems/delete: c1, enforced by " + PROTECTING in result.output
    # Of the directory's actions, only those that can carry an authentication context are kept.
    kept = sorted(p.stem for p in (repo.root / "protectedActions").glob("*.yaml"))
    assert "microsoft.directory-deletedItems-delete-delete" in kept
    assert [k for k in kept if "-users-" in k or "-groups-" in k or "deletedItems-restore" in k] == []


def test_no_snapshot_fails_and_no_break_glass_warns(repo: BackupRepo) -> None:
    pillars = _posture(repo, code=1)
    assert pillars["backups fresh"]["status"] == FAIL
    assert pillars["break-glass accounts excluded"]["status"] == WARN


def test_only_warnings_exit_3_with_the_thresholds_given(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    pillars = _posture(repo, "--break-glass", _break_glass(admin), "--warn-after", "0", code=3)
    assert pillars["backups fresh"]["status"] == WARN
    pillars = _posture(repo, "--break-glass", _break_glass(admin), "--warn-after", "0", "--fail-after", "0", code=1)
    assert pillars["backups fresh"]["status"] == FAIL
    assert "fail after 0 h" in str(pillars["backups fresh"]["figures"])


def test_a_type_the_snapshot_could_not_read_warns(repo: BackupRepo, client: GraphClient, sim: Simulator) -> None:
    sim.settings.app_roles = "Directory.ReadWrite.All,Policy.Read.All,Policy.ReadWrite.ConditionalAccess"
    run("snapshot", "--repo", str(repo.root), ok=False)
    status, summary, figures = _pillar(repo, client, "backups fresh")
    assert status == WARN and "type(s) not read" in summary
    refused = figures[-1].removeprefix("not read by it (permission refused): ").split(", ")
    assert "roleEligibilitySchedules" in refused and "users" not in refused


def test_what_the_recycle_bin_purges_within_a_week_warns(repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    group = admin.group("Marketing Team")
    admin.call("DELETE", f"groups/{group['id']}")
    status, _, figures = _pillar(repo, client, "soft delete usable")
    assert status == PASS and "groups: 1 in the recycle bin, 0 purged within 7 days" in figures
    later = datetime.now(timezone.utc) + timedelta(days=25)
    status, summary, figures = _pillar(repo, client, "soft delete usable", now=later)
    assert status == WARN and summary.startswith("1 of 1 deleted object(s) purged for good")
    assert any(f.startswith("groups: 1 in the recycle bin, 1 purged within 7 days, the first on ") for f in figures)


def test_a_recycle_bin_the_app_cannot_read_fails(repo: BackupRepo, client: GraphClient, sim: Simulator) -> None:
    sim.settings.app_roles = "Policy.Read.All,RoleManagement.Read.Directory"
    status, _, figures = _pillar(repo, client, "soft delete usable")
    assert status == FAIL
    assert "users: the recycle bin could not be read (403 Authorization_RequestDenied)" in figures


def test_an_unprotected_or_unenforced_purge_fails_and_report_only_warns(repo: BackupRepo, client: GraphClient,
                                                                         admin: Admin) -> None:
    name = "protected actions on purge"
    policy = next(p for p in admin.get(CA)["value"] if p["displayName"] == PROTECTING)
    admin.call("PATCH", f"{CA}/{policy['id']}", json={"state": "enabledForReportingButNotEnforced"})
    status, _, figures = _pillar(repo, client, name)
    assert status == WARN and figures == [f"microsoft.directory/deletedItems/delete: c1, only in report-only {PROTECTING}"]
    admin.call("PATCH", PURGE, json={"authenticationContextId": "c2"})
    status, _, figures = _pillar(repo, client, name)
    assert status == FAIL and "c2, which no enabled Conditional Access policy enforces" in figures[0]
    admin.call("PATCH", PURGE, json={"authenticationContextId": None})
    status, summary, figures = _pillar(repo, client, name)
    assert (status, figures) == (FAIL, ["microsoft.directory/deletedItems/delete: no authentication context"])
    assert summary == "purging the recycle bin is not protected by Conditional Access"


def test_an_account_a_blocking_policy_holds_is_no_break_glass(repo: BackupRepo, client: GraphClient,
                                                              admin: Admin) -> None:
    name = "break-glass accounts excluded"
    ordinary = admin.users("Sales")[0]
    status, _, figures = _pillar(repo, client, name, break_glass=(_break_glass(admin), ordinary["id"]))
    assert status == FAIL
    assert figures[0].startswith("breakglass1@") and "excluded from all" in figures[0]
    assert figures[1].endswith(": caught by Block access from blocked countries, Block legacy authentication, "
                               f"{PROTECTING}, Require MFA for all users"), figures
    status, summary, figures = _pillar(repo, client, name, break_glass=("nobody@example.com",))
    assert status == FAIL and figures == ["nobody@example.com: not found (404 Request_ResourceNotFound)"]
    assert summary == "1 named break-glass account(s) not found"


def test_markdown_for_a_pull_request_and_names_from_graph_escaped(repo: BackupRepo, admin: Admin) -> None:
    policy = next(p for p in admin.get(CA)["value"] if p["displayName"] == PROTECTING)
    admin.call("PATCH", f"{CA}/{policy['id']}", json={"displayName": "MFA | \x1b[2Jsensitive"})
    run("snapshot", "--repo", str(repo.root))
    table = run("posture", "--repo", str(repo.root), ok=False).output
    assert "enforced by MFA | \\x1b[2Jsensitive" in table and "\x1b" not in table
    markdown = run("posture", "--repo", str(repo.root), "--format", "markdown", ok=False).output
    assert "| soft delete usable | **PASS** |" in markdown
    assert "enforced by MFA \\| \\x1b[2Jsensitive" in markdown
