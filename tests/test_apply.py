"""entragit apply after git revert, --paths, saved plans and the snapshot taken before writing."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from entragit.registry import get_type
from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin, run

_GIT_IDENTITY = {"GIT_AUTHOR_NAME": "Admin", "GIT_AUTHOR_EMAIL": "admin@example.com",
                 "GIT_COMMITTER_NAME": "Admin", "GIT_COMMITTER_EMAIL": "admin@example.com"}


def _git(repo: BackupRepo, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo.root), *args], check=True, capture_output=True, text=True,
                          env={**os.environ, **_GIT_IDENTITY}).stdout.strip()


def _snapshot(repo: BackupRepo) -> str:
    run("snapshot", "--repo", str(repo.root))
    return repo.resolve("HEAD")


def _job(admin: Admin, user_id: str) -> str | None:
    value: str | None = admin.get(f"users/{user_id}", **{"$select": "jobTitle"})["jobTitle"]
    return value


def test_git_revert_of_a_bad_snapshot_then_apply_puts_the_tenant_back(repo: BackupRepo, admin: Admin) -> None:
    _snapshot(repo)
    first, second, bystander = admin.users("Engineering")[:3]
    team = admin.group("Sales Team")
    member = sorted(admin.members(team["id"]))[0]
    admin.call("PATCH", f"users/{first['id']}", json={"jobTitle": "Bad bulk edit"})
    admin.call("PATCH", f"users/{second['id']}", json={"jobTitle": "Bad bulk edit"})
    admin.call("DELETE", f"groups/{team['id']}/members/{member}/$ref")
    bad = _snapshot(repo)
    _git(repo, "revert", "--no-edit", bad)
    reverted = repo.resolve("HEAD")
    # A change after the bad snapshot that the revert does not touch must stay as it is.
    admin.call("PATCH", f"users/{bystander['id']}", json={"jobTitle": "Promoted since"})

    output = run("apply", "--repo", str(repo.root), "--yes").output

    assert "Verified" in output
    assert _job(admin, first["id"]) == first["jobTitle"] and _job(admin, second["id"]) == second["jobTitle"]
    assert member in admin.members(team["id"])
    assert _job(admin, bystander["id"]) == "Promoted since"
    # The snapshot before writing went to a side branch: the revert commit is still what HEAD names,
    # and the side branch holds the tenant as it was (the bad state), to undo the apply from.
    assert repo.resolve("HEAD") == reverted
    [branch] = _git(repo, "branch", "--list", "entragit/before-restore/*", "--format=%(refname:short)").split()
    assert repo.resolve(branch)[:10] in output
    before = repo.read_object(branch, get_type("users"), first["id"])
    assert before is not None and before["jobTitle"] == "Bad bulk edit"
    assert not (Path(repo.git.git_dir) / "entragit" / "journal").exists() or not any(
        (Path(repo.git.git_dir) / "entragit" / "journal").iterdir())
    # Restoring from that commit undoes the apply.
    run("restore", "--repo", str(repo.root), "--at", branch, "--paths", f"users/{first['id']}.yaml", "--yes")
    assert _job(admin, first["id"]) == "Bad bulk edit"


def test_paths_narrow_apply_to_the_files_named(repo: BackupRepo, admin: Admin) -> None:
    _snapshot(repo)
    first, second = admin.users("Support")[:2]
    for user in (first, second):
        admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Bad bulk edit"})
    bad = _snapshot(repo)
    _git(repo, "revert", "--no-edit", bad)

    output = run("apply", "--repo", str(repo.root), "--paths", f"users/{first['id']}.yaml", "--yes").output

    assert first["id"] in output and second["id"] not in output
    assert _job(admin, first["id"]) == first["jobTitle"]
    assert _job(admin, second["id"]) == "Bad bulk edit"


def test_apply_of_a_commit_that_deleted_a_file_lists_the_live_object_and_deletes_nothing(
        repo: BackupRepo, admin: Admin) -> None:
    _snapshot(repo)
    created = admin.call("POST", "groups", json={"displayName": "Temporary project", "mailEnabled": False,
                                                 "mailNickname": "tmp-project", "securityEnabled": True}).json()
    added = _snapshot(repo)
    _git(repo, "revert", "--no-edit", added)

    result = run("apply", "--repo", str(repo.root), "--yes")

    assert created["id"] in result.output and "only with --delete-extra" in result.output
    assert admin.get(f"groups/{created['id']}")["id"] == created["id"]


def test_apply_of_the_first_commit_says_there_is_nothing_to_compare_with(repo: BackupRepo) -> None:
    result = run("apply", "HEAD", "--repo", str(repo.root), "--plan", ok=False)

    assert result.exit_code == 1 and "first commit" in result.output


def test_unknown_paths_folder_is_refused_by_name(repo: BackupRepo) -> None:
    good = _snapshot(repo)

    result = run("restore", "--repo", str(repo.root), "--at", good, "--paths", "widgets/", "--plan", ok=False)

    assert result.exit_code == 1 and "widgets" in result.output


def test_restore_paths_select_objects_without_type_or_id(repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    user = admin.users("Support")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})

    output = run("restore", "--repo", str(repo.root), "--at", good, "--paths", "users/", "--yes").output

    assert "Verified" in output and _job(admin, user["id"]) == user["jobTitle"]


def test_saved_plan_applies_later_exactly_as_shown(repo: BackupRepo, admin: Admin, tmp_path: Path) -> None:
    good = _snapshot(repo)
    user = admin.users("Support")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})
    saved = tmp_path / "plan.json"

    run("restore", "--repo", str(repo.root), "--at", good, "--id", user["id"], "--plan", "-o", str(saved))

    data = json.loads(saved.read_text())
    assert data["schema"] == "entragit/plan/1"
    assert f"users/{user['id']}" in data["plan"]["fingerprints"]
    assert _job(admin, user["id"]) == "Changed"
    output = run("apply", "--repo", str(repo.root), "--plan-file", str(saved), "--yes").output
    assert "Verified" in output and _job(admin, user["id"]) == user["jobTitle"]


def _plan_saved_for_one_user(repo: BackupRepo, admin: Admin, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """A user's jobTitle changed since the snapshot, and the plan that puts it back saved to a file."""
    good = _snapshot(repo)
    user = admin.users("Support")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})
    saved = tmp_path / "plan.json"
    run("restore", "--repo", str(repo.root), "--at", good, "--id", user["id"], "--plan", "-o", str(saved))
    return user, saved


def test_plan_saved_before_plans_carried_a_selection_still_applies_and_verifies(repo: BackupRepo, admin: Admin,
                                                                               tmp_path: Path) -> None:
    user, saved = _plan_saved_for_one_user(repo, admin, tmp_path)
    # As entragit wrote it then: what was asked for in three fields of the plan, no "selection".
    data = json.loads(saved.read_text())
    del data["plan"]["selection"]
    data["plan"].update(types=[], ids=[user["id"]], attributes=[])
    saved.write_text(json.dumps(data))

    output = run("apply", "--repo", str(repo.root), "--plan-file", str(saved), "--yes").output

    assert "Verified" in output and _job(admin, user["id"]) == user["jobTitle"]


def test_saved_plan_is_refused_when_the_live_state_moved(repo: BackupRepo, admin: Admin, tmp_path: Path) -> None:
    good = _snapshot(repo)
    user, other = admin.users("Support")[:2]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})
    saved = tmp_path / "plan.json"
    run("restore", "--repo", str(repo.root), "--at", good, "--id", user["id"], "--id", other["id"],
        "--plan", "-o", str(saved))
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed again"})

    result = run("apply", "--repo", str(repo.root), "--plan-file", str(saved), "--yes", ok=False)

    assert result.exit_code == 1
    assert f"users/{user['id']}" in result.output and f"users/{other['id']}" not in result.output
    assert _job(admin, user["id"]) == "Changed again"


def test_saved_plan_is_refused_when_a_group_gained_a_selected_user_since(repo: BackupRepo, admin: Admin,
                                                                         tmp_path: Path) -> None:
    user, saved = _plan_saved_for_one_user(repo, admin, tmp_path)
    # A group the plan never had a reason to read: it held the user neither in the snapshot nor then.
    group = admin.group("Marketing Team")
    assert user["id"] not in admin.members(group["id"])
    admin.call("POST", f"groups/{group['id']}/members/$ref",
               json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"})

    result = run("apply", "--repo", str(repo.root), "--plan-file", str(saved), "--yes", ok=False)

    assert result.exit_code == 1 and "moved" in result.output and f"users/{user['id']}" in result.output
    assert _job(admin, user["id"]) == "Changed"
    assert user["id"] in admin.members(group["id"])


def test_a_file_that_is_not_a_plan_is_refused(repo: BackupRepo, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps({"schema": "entragit/diff/1"}))

    result = run("apply", "--repo", str(repo.root), "--plan-file", str(saved), "--yes", ok=False)

    assert result.exit_code == 1 and "entragit/plan/1" in result.output


def test_policies_restore_under_the_conditional_access_rate_limit(repo: BackupRepo, admin: Admin, sim: Simulator,
                                                                   real_pacing: None) -> None:
    good = _snapshot(repo)
    policies = admin.get("identity/conditionalAccess/policies")["value"]
    for policy in policies:
        admin.call("PATCH", f"identity/conditionalAccess/policies/{policy['id']}", json={"displayName": "Renamed"})
    # Graph allows Conditional Access 1 request/s per tenant, each $batch item counted, with no Retry-After.
    sim.settings.throttling = True
    sim.stats.reset()

    output = run("restore", "--repo", str(repo.root), "--at", good, "--type", "conditionalAccessPolicies",
                 "--yes").output
    sim.settings.throttling = False

    assert "Verified" in output and "failed" not in output
    # Paced, not refused and retried: unpaced, nearly every request is refused (54 here). The client leaves a
    # tenth of a second of slack, which a loaded machine's scheduling delays now and then exceed.
    assert sim.stats.throttled <= 2
    names = {p["id"]: p["displayName"] for p in admin.get("identity/conditionalAccess/policies")["value"]}
    assert names == {p["id"]: p["displayName"] for p in policies}


def test_saved_plan_keeps_restore_options_and_recreates_under_a_new_id(repo: BackupRepo, admin: Admin,
                                                                        tmp_path: Path) -> None:
    good = _snapshot(repo)
    group = admin.group("Marketing Team")
    members = admin.members(group["id"])
    admin.call("DELETE", f"groups/{group['id']}")
    admin.call("DELETE", f"directory/deletedItems/{group['id']}")
    admin.call("POST", "groups", json={"displayName": "Shadow admins", "mailEnabled": False,
                                       "mailNickname": "shadow", "securityEnabled": True})
    saved = tmp_path / "plan.json"
    run("restore", "--repo", str(repo.root), "--at", good, "--type", "groups", "--delete-extra", "--plan",
        "-o", str(saved))

    output = run("apply", "--repo", str(repo.root), "--plan-file", str(saved), "--yes").output

    assert json.loads(saved.read_text())["plan"]["options"]["delete_extra"] is True
    assert "Verified" in output
    made = admin.group("Marketing Team")
    assert made["id"] != group["id"] and admin.members(made["id"]) == members
    assert admin.get("groups", **{"$filter": "displayName eq 'Shadow admins'"})["value"] == []


def test_apply_after_reverting_a_snapshot_that_added_an_app_secret_removes_it_when_asked(
        repo: BackupRepo, admin: Admin) -> None:
    app = next(a for a in admin.get("applications")["value"] if a["passwordCredentials"])
    kept = {c["keyId"] for c in app["passwordCredentials"]}
    _snapshot(repo)
    added = admin.call("POST", f"applications/{app['id']}/addPassword",
                       json={"passwordCredential": {"displayName": "backdoor"}}).json()
    bad = _snapshot(repo)
    _git(repo, "revert", "--no-edit", bad)

    plain = run("apply", "--repo", str(repo.root), "--plan").output
    assert f"backdoor ({added['keyId']})" in plain and "--remove-new-credentials" in plain

    output = run("apply", "--repo", str(repo.root), "--remove-new-credentials", "--yes").output

    assert "REVOKE" in output and "Verified" in output
    assert {c["keyId"] for c in admin.get(f"applications/{app['id']}")["passwordCredentials"]} == kept


def test_apply_delete_extra_deletes_the_objects_whose_files_the_commit_deleted(
        repo: BackupRepo, admin: Admin) -> None:
    _snapshot(repo)
    created = admin.call("POST", "groups", json={"displayName": "Temporary project", "mailEnabled": False,
                                                 "mailNickname": "tmp-project", "securityEnabled": True}).json()
    bystander = admin.call("POST", "groups", json={"displayName": "Made since", "mailEnabled": False,
                                                   "mailNickname": "made-since", "securityEnabled": True}).json()
    added = _snapshot(repo)
    _git(repo, "revert", "--no-edit", added)
    # --paths narrows the deletions as it narrows everything apply writes.

    output = run("apply", "--repo", str(repo.root), "--paths", f"groups/{created['id']}.yaml", "--delete-extra",
                 "--yes").output

    assert f"DELETE  groups/{created['id']}" in output and "Verified" in output
    assert admin.session.get(admin.base + f"groups/{created['id']}").status_code == 404
    assert admin.get(f"groups/{bystander['id']}")["id"] == bystander["id"]


def test_a_saved_plan_is_applied_as_it_is_without_options_that_would_change_it(repo: BackupRepo) -> None:
    result = run("apply", "--repo", str(repo.root), "--plan-file", "plan.json", "--remove-new-credentials",
                 ok=False)

    assert result.exit_code == 1 and "--plan-file applies the saved plan as it is" in result.output
