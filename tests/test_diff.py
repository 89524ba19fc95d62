from __future__ import annotations

import json

from entragit.store import BackupRepo
from tests.conftest import Admin, run


def _report(*args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(run("diff", *args, "--format", "json").output)


def test_a_patch_in_the_tenant_shows_in_diff_live_with_old_and_new_values(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    user = admin.users("Marketing")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Head of Vibes"})

    report = _report("HEAD", "--live", "--repo", str(repo.root))

    assert report["schema"] == "entragit/diff/2"
    assert (report["to"]["label"], report["to"]["commit"]) == ("live", None)
    [change] = report["changes"]
    assert (change["type"], change["id"], change["displayName"], change["change"]) == (
        "users", user["id"], user["displayName"], "modified")
    assert change["attributes"] == [{"path": "jobTitle", "old": user["jobTitle"], "new": "Head of Vibes"}]


def test_diff_between_snapshots_names_nested_attributes_and_members(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    user = next(u for u in admin.users("Sales") if u["onPremisesExtensionAttributes"]["extensionAttribute1"])
    team = admin.group("Sales Team")
    admin.call("PATCH", f"users/{user['id']}",
               json={"onPremisesExtensionAttributes": {"extensionAttribute1": None}})
    admin.call("DELETE", f"groups/{team['id']}/members/{user['id']}/$ref")
    run("snapshot", "--repo", str(repo.root))

    report = _report("--repo", str(repo.root))  # default: the two newest snapshots

    by_id = {c["id"]: c for c in report["changes"]}
    assert by_id[user["id"]]["attributes"][0] == {
        "path": "onPremisesExtensionAttributes.extensionAttribute1",
        "old": user["onPremisesExtensionAttributes"]["extensionAttribute1"], "new": None}
    assert {"relationship": "members", "action": "removed", "id": user["id"],
            "displayName": user["displayName"], "type": "users"} in by_id[team["id"]]["members"]

    table = run("diff", "--repo", str(repo.root)).output
    assert f"members - {user['displayName']} (users/{user['id']})" in table
    assert "onPremisesExtensionAttributes.extensionAttribute1" in table
    assert "(not set)" in table


def test_type_and_id_filters_narrow_the_report(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    first, second = admin.users("HR")[:2]
    for user in (first, second):
        admin.call("PATCH", f"users/{user['id']}", json={"officeLocation": "Basement"})
    admin.call("PATCH", f"groups/{admin.group('HR Team')['id']}", json={"description": "moved"})
    root = str(repo.root)

    assert {c["type"] for c in _report("HEAD", "--live", "--repo", root)["changes"]} == {"users", "groups"}
    assert {c["type"] for c in _report("HEAD", "--live", "--type", "users", "--repo", root)["changes"]} == {"users"}
    only = _report("HEAD", "--live", "--id", second["id"], "--repo", root)["changes"]
    assert [c["id"] for c in only] == [second["id"]]


def test_no_differences_reads_as_such_and_exit_code_is_optional(repo: BackupRepo) -> None:
    run("snapshot", "--repo", str(repo.root))
    assert "No differences." in run("diff", "HEAD", "--live", "--repo", str(repo.root)).output
    assert run("diff", "HEAD", "--live", "--exit-code", "--repo", str(repo.root)).exit_code == 0
