"""`entragit import-native`: Microsoft Entra Backup and Recovery's daily backups as backdated commits, read
through a person's device code sign-in, against the simulator's own record of those backups."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from entragit import canonical
from entragit.auth import PersonSignIn
from entragit.errors import AuthError
from entragit.graph import GraphClient
from entragit.native import COVERAGE, PERMISSIONS, Progress, import_native
from entragit.registry import REGISTRY
from entragit.sim import Simulator
from entragit.sim.model import CA_POLICIES, GROUPS, USERS, is_dynamic
from entragit.sim.native import DAY, Point
from entragit.store import BackupRepo
from tests.conftest import Admin, run

NATIVE = "entragit/native"


def _admin_person(sim: Simulator) -> str:
    person = sim.tenant.sorted_objects(USERS)[0]
    sim.native.grant(person["id"], "Entra Backup Administrator")
    return str(person["userPrincipalName"])


def _person_client(sim: Simulator, repo: BackupRepo) -> tuple[GraphClient, list[str]]:
    """A client signed in through the device code flow; the person enters the code the message shows."""
    shown: list[str] = []
    upn = _admin_person(sim)

    def show(message: str) -> None:
        shown.append(message)
        code = re.search(r"enter the code (\S+) to", message)
        assert code is not None, message
        sim.enter_device_code(code.group(1), upn)

    connection = repo.config.connection()
    tokens = PersonSignIn(connection, PERMISSIONS, show)
    return GraphClient(connection.graph_url, tokens.token, invalidate_token=tokens.invalidate,
                       ca_bundle=connection.ca_bundle, sleep=lambda seconds: None), shown


def _live_a_week(sim: Simulator) -> str:
    """Five days of an admin's work, a backup taken each night: titles, a user made and one deleted, a
    group's member gone, policies changed. The id of the user whose title changed every day."""
    admin = Admin(sim)
    users = sim.tenant.sorted_objects(USERS)
    group = next(g for g in sim.tenant.sorted_objects(GROUPS)
                 if sim.tenant.links["members"].get(g["id"]) and not g.get("membershipRule"))
    policy = sim.tenant.sorted_objects(CA_POLICIES)[0]
    for day in range(5):
        admin.call("PATCH", f"users/{users[3]['id']}", json={"jobTitle": f"Title of day {day}",
                                                             "department": f"Department {day}"})
        if day == 1:
            admin.call("DELETE", f"users/{users[4]['id']}")
            admin.call("POST", "users", json={
                "accountEnabled": True, "displayName": "Joined on day 1", "mailNickname": "joined1",
                "userPrincipalName": f"joined1@{sim.tenant.domain}",
                "passwordProfile": {"password": "a-Long-enough-passw0rd!"}})
        if day == 2:
            member = sorted(sim.tenant.links["members"][group["id"]])[0]
            admin.call("DELETE", f"groups/{group['id']}/members/{member}/$ref")
        if day == 3:
            admin.call("PATCH", f"identity/conditionalAccess/policies/{policy['id']}", json={"state": "disabled"})
            # Guests become restricted guests.
            admin.call("PATCH", "policies/authorizationPolicy",
                       json={"guestUserRoleId": "2af84b1e-32c8-42b7-82bc-daa82404023b", "blockMsolPowerShell": True})
        sim.clock.advance(DAY)
    return str(users[3]["id"])


def _covered(type_name: str) -> set[str]:
    """What the service covers of a type and the type keeps."""
    object_type = REGISTRY[type_name]
    coverage = next(c for c in COVERAGE.values() if c.type_name == type_name)
    return set(object_type.stored if coverage.properties is None else object_type.stored & set(coverage.properties))


def _only_covered(type_name: str, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in _covered(type_name) and k != "id"}


def _assert_matches(sim: Simulator, repo: BackupRepo, commit: str, point: Point) -> None:
    for collection, type_name in (("users", "users"), ("groups", "groups"),
                                  ("conditionalAccessPolicies", "conditionalAccessPolicies"),
                                  ("authorizationPolicy", "authorizationPolicy")):
        files = repo.read_objects(commit, REGISTRY[type_name])
        recorded = point.objects[collection]
        assert set(files) == set(recorded), (point.stamp, type_name)
        for object_id, values in recorded.items():
            # The record as a file would hold it: canonical().
            expected = _only_covered(type_name, canonical.canonical(REGISTRY[type_name], values))
            assert _only_covered(type_name, files[object_id]) == expected, (point.stamp, type_name, object_id)
    for group_id in point.objects["groups"]:
        if is_dynamic(sim.tenant.objects["groups"][group_id]):
            continue  # the service covers static memberships only: a dynamic group's rule makes its own
        members = sorted(point.links["members"].get(group_id, set()))
        assert files_members(repo, commit, group_id) == members, (point.stamp, group_id)


def files_members(repo: BackupRepo, commit: str, group_id: str) -> list[str]:
    found = repo.read_object(commit, REGISTRY["groups"], group_id)
    assert found is not None
    return list(found.get("members") or [])


def test_import_native_writes_each_backup_as_a_backdated_commit(sim: Simulator, repo: BackupRepo,
                                                                sim_info: Path) -> None:
    sim.settings.token_lifetime_seconds = 30 * DAY
    sim.native.duration_scale = 0  # each job done at once: the progress of a job is the next test's
    changed = _live_a_week(sim)
    run("snapshot", "--repo", str(repo.root))
    sim.sign_in_devices_as(_admin_person(sim))
    result = run("import-native", "--repo", str(repo.root))
    assert "To sign in, use a web browser" in result.output
    assert "7 native backup(s) written to branch entragit/native." in result.output
    commits = repo.git.git.log("--reverse", "--format=%H %aI %cI", NATIVE).splitlines()
    points = sim.native.points
    assert len(commits) == len(points) == 7
    for line, point in zip(commits, points):
        commit, authored, committed = line.split()
        assert authored == committed == point.stamp.replace("Z", "+00:00")
        message = repo.git.git.log("-1", "--format=%B", commit)
        assert f"Entragit-Native-Point: {point.id}" in message
        assert "Entragit-Native-Covers: users: accountEnabled, ageGroup, businessPhones" in message
        assert "Entragit-Native-Covers: conditionalAccessPolicies: all properties" in message
        _assert_matches(sim, repo, commit, point)
    # The week did change what the backups hold: the oldest has the policy as it was before day 3.
    policy = REGISTRY["authorizationPolicy"]
    oldest, today = repo.read_objects(f"{NATIVE}~6", policy), repo.read_objects("HEAD", policy)
    assert [o.get("guestUserRoleId") for o in oldest.values()] != [o.get("guestUserRoleId") for o in today.values()]
    # A week back on day one: diff reads a native backup as any revision.
    report = run("diff", f"{NATIVE}~6", "HEAD", "--repo", str(repo.root), "--no-attribution")
    assert "Title of day 4" in report.output and "Joined on day 1" in report.output
    # ... and restore from one: the user's title as it was before the week.
    assert sim.tenant.objects["users"][changed]["jobTitle"] == "Title of day 4"
    oldest_title = points[0].objects["users"][changed].get("jobTitle")
    run("restore", "--at", f"{NATIVE}~6", "--id", changed, "--repo", str(repo.root), "--yes")
    assert sim.tenant.objects["users"][changed].get("jobTitle") == oldest_title != "Title of day 4"
    # The current branch is left as it was.
    assert repo.git.active_branch.name != NATIVE and len(repo.snapshots()) == 1


def test_progress_and_one_job_at_a_time(sim: Simulator, repo: BackupRepo) -> None:
    sim.settings.token_lifetime_seconds = 30 * DAY
    run("snapshot", "--repo", str(repo.root))
    client, shown = _person_client(sim, repo)
    sim.native.retention_days = 5
    seen: list[Progress] = []
    client.request("GET", "directory/recovery/snapshots")  # the service records its backups
    point = sim.native.points[-1]
    # A job already runs (a difference report started in the portal): the import waits for it first.
    started = client.request("POST", f"directory/recovery/snapshots/{point.id}/recoveryPreviewJobs", json={})
    assert started is None and len(sim.native.jobs) == 1
    imported = import_native(repo, client, "native", lambda: sim.clock.advance(240), seen.append)
    assert len(imported) == 5 and len(shown) == 1
    jobs = sorted(sim.native.jobs.values(), key=lambda job: job.started)
    assert len(jobs) == 6
    for before, after in zip(jobs, jobs[1:]):
        assert before.completed is not None and after.started >= before.completed
    statuses = [p.status for p in seen if p.point.id == imported[0].point.id]
    assert statuses == ["initialized", "loadingData", "calculating", "successful", "written"]


def test_app_only_sign_in_is_refused(sim: Simulator, repo: BackupRepo, client: GraphClient) -> None:
    run("snapshot", "--repo", str(repo.root))
    with pytest.raises(AuthError, match="needs a person signed in.*app-only sign-in is refused"):
        import_native(repo, client, NATIVE, lambda: None, lambda progress: None)
    assert sim.native.jobs == {}
    config = repo.root / "entragit.yaml"
    data = yaml.safe_load(config.read_text())
    config.write_text(yaml.safe_dump({**data, "auth": "federated"}))
    result = run("import-native", "--repo", str(repo.root), ok=False)
    assert result.exit_code == 1
    assert "needs a person signed in" in result.output and "'federated'" in result.output


def test_the_branch_is_never_replaced(sim: Simulator, repo: BackupRepo) -> None:
    run("snapshot", "--repo", str(repo.root))
    repo.git.git.branch(NATIVE)
    sim.sign_in_devices_as(_admin_person(sim))
    result = run("import-native", "--repo", str(repo.root), ok=False)
    assert "branch entragit/native exists already" in result.output
    assert "To sign in" not in result.output  # refused before the person is asked to sign in
    result = run("import-native", "--repo", str(repo.root), "--branch", "no..good", ok=False)
    assert "'no..good' is not a name git takes for a branch" in result.output
    assert sim.native.jobs == {}


def test_a_person_without_the_role_is_told_so(sim: Simulator, repo: BackupRepo) -> None:
    run("snapshot", "--repo", str(repo.root))
    person = sim.tenant.sorted_objects(USERS)[2]
    sim.native.grant(person["id"], "Entra Backup Reader")
    sim.sign_in_devices_as(person["userPrincipalName"])
    result = run("import-native", "--repo", str(repo.root), ok=False)
    assert result.exit_code == 1
    assert "needs the Entra Backup Administrator role" in result.output
    assert sim.native.jobs == {}


def test_the_sign_in_is_renewed_without_the_person(sim: Simulator, repo: BackupRepo) -> None:
    client, shown = _person_client(sim, repo)
    first = client.access_token()
    sim.clock.advance(sim.settings.token_lifetime_seconds + 1)  # the access token has expired
    assert client.request("GET", "directory/recovery/snapshots") is not None
    assert client.access_token() != first and len(shown) == 1
