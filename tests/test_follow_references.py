"""A group gone for good and made again gets a new id: the live objects outside the restore that named the
old one (Conditional Access policies excluding a break-glass group) are rewritten to the new id, that
reference only, unless --no-follow-references."""

from __future__ import annotations

import copy
import signal
from pathlib import Path
from typing import Any

import pytest

from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin, run
from tests.test_resume import KillSwitch

CA = "identity/conditionalAccess/policies"
BREAK_GLASS = "CA Exclusion - Break Glass"


def _policies(admin: Admin) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in admin.get(CA)["value"]}


def _without_volatile(policy: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in policy.items() if k not in ("modifiedDateTime", "createdDateTime")}


def _three_policies_exclude(admin: Admin, group_id: str) -> list[str]:
    """Ids of three enforced policies excluding the group, one of them with other exclusions beside it."""
    excluding = [p for p in _policies(admin).values() if group_id in p["conditions"]["users"]["excludeGroups"]]
    others = [p for p in _policies(admin).values() if p not in excluding]
    for policy in others[:max(0, 3 - len(excluding))]:
        conditions = copy.deepcopy(policy["conditions"])
        conditions["users"]["excludeGroups"] = [*conditions["users"]["excludeGroups"], group_id]
        admin.call("PATCH", f"{CA}/{policy['id']}", json={"conditions": conditions})
        excluding.append(policy)
    return [p["id"] for p in excluding[:3]]


def _break_glass_purged(repo: BackupRepo, admin: Admin) -> tuple[str, list[str], dict[str, dict[str, Any]], str]:
    group = admin.group(BREAK_GLASS)
    policies = _three_policies_exclude(admin, group["id"])
    run("snapshot", "--repo", str(repo.root))
    good = repo.resolve("HEAD")
    before = _policies(admin)
    admin.call("DELETE", f"groups/{group['id']}")
    admin.call("DELETE", f"directory/deletedItems/{group['id']}")
    return group["id"], policies, before, good


def test_policies_excluding_a_recreated_group_follow_its_new_id_and_nothing_else_changes(
        repo: BackupRepo, admin: Admin) -> None:
    old_id, policies, before, good = _break_glass_purged(repo, admin)
    restore = ("restore", "--repo", str(repo.root), "--at", good, "--id", old_id)

    planned = run(*restore, "--plan").output
    for policy_id in policies:
        assert f"REWRITE conditionalAccessPolicies/{policy_id}" in planned
    assert (f"rewrite reference conditions.users.excludeGroups: {old_id} -> the new id of {BREAK_GLASS} "
            "(assigned when applied)") in planned
    assert "RISK" not in planned and "restore this conditional access policy too" not in planned

    output = run(*restore, "--yes").output

    assert "Verified" in output
    new_id = admin.group(BREAK_GLASS)["id"]
    assert new_id != old_id
    after = _policies(admin)
    for policy_id, policy in before.items():
        expected = _without_volatile(copy.deepcopy(policy))
        if policy_id in policies:
            groups = expected["conditions"]["users"]["excludeGroups"]
            expected["conditions"]["users"]["excludeGroups"] = sorted(new_id if g == old_id else g for g in groups)
            after[policy_id]["conditions"]["users"]["excludeGroups"].sort()
        assert _without_volatile(after[policy_id]) == expected, policy["displayName"]


@pytest.mark.parametrize("kill_at", [1, 2], ids=["before-the-rewrites", "during-the-rewrites"])
def test_a_killed_restore_resumes_the_rewrites_and_makes_none_twice(
        kill_at: int, sim: Simulator, repo: BackupRepo, admin: Admin) -> None:
    old_id, policies, _before, good = _break_glass_purged(repo, admin)
    # Write 1 creates the group: killed as it arrives, the run never hears the new id, and the resumed
    # run plans the rewrites again through the id it finds. Write 2 is the first rewrite: its $batch is
    # written, its answer lost, and the resumed run finds the policies already rewritten.
    switch = KillSwitch(sim, "write", kill_at)
    command = ["restore", "--repo", str(repo.root), "--at", good, "--id", old_id, "--yes"]

    killed = switch.run(*command)
    switch.phase = "none"
    resumed = switch.run(*command)

    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert resumed.returncode == 0 and "Verified" in resumed.stdout, resumed.stdout + resumed.stderr
    assert [key for key, count in switch.written.items() if count > 1] == []
    new_id = admin.group(BREAK_GLASS)["id"]
    for policy_id in policies:
        excluded = _policies(admin)[policy_id]["conditions"]["users"]["excludeGroups"]
        assert new_id in excluded and old_id not in excluded


def test_no_follow_references_leaves_the_policies_naming_the_old_id(repo: BackupRepo, admin: Admin) -> None:
    old_id, policies, before, good = _break_glass_purged(repo, admin)

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", old_id, "--no-follow-references",
                 "--yes").output

    assert "REWRITE" not in output and "restore this conditional access policy too" in output
    assert admin.group(BREAK_GLASS)["id"] != old_id
    after = _policies(admin)
    for policy_id in policies:
        assert old_id in after[policy_id]["conditions"]["users"]["excludeGroups"]
        assert _without_volatile(after[policy_id]) == _without_volatile(before[policy_id])


def test_a_never_write_policy_keeps_its_reference_and_the_plan_says_so(repo: BackupRepo, admin: Admin) -> None:
    old_id, policies, _before, good = _break_glass_purged(repo, admin)
    protected = policies[0]
    config = repo.root / "entragit.yaml"
    config.write_text(config.read_text() + f"restore:\n  never_write:\n    objects: [{protected}]\n")

    planned = run("restore", "--repo", str(repo.root), "--at", good, "--id", old_id, "--plan").output

    assert f"REWRITE conditionalAccessPolicies/{protected}" not in planned
    assert f"conditionalAccessPolicies/{protected}" in planned and "guardrail" in planned
    for policy_id in policies[1:]:
        assert f"REWRITE conditionalAccessPolicies/{policy_id}" in planned


BILLING_ADMINISTRATOR = "b0f54661-2d74-4c50-afa3-1ec803f12efe"
ASSIGNMENTS = "roleManagement/directory/roleAssignments"


def _roles_of(admin: Admin, principal_id: str) -> set[tuple[str, str]]:
    return {(a["roleDefinitionId"], a["directoryScopeId"]) for a in admin.get(ASSIGNMENTS)["value"]
            if a["principalId"] == principal_id}


def test_a_role_assignment_to_a_recreated_group_is_made_again_for_its_new_id(repo: BackupRepo, admin: Admin) -> None:
    group = admin.call("POST", "groups", json={
        "displayName": "Billing Admins", "mailNickname": "billingadmins", "mailEnabled": False,
        "securityEnabled": True, "isAssignableToRole": True}).json()
    admin.call("POST", ASSIGNMENTS, json={"principalId": group["id"], "roleDefinitionId": BILLING_ADMINISTRATOR,
                                          "directoryScopeId": "/"})
    run("snapshot", "--repo", str(repo.root))
    good = repo.resolve("HEAD")
    admin.call("DELETE", f"groups/{group['id']}")
    admin.call("DELETE", f"directory/deletedItems/{group['id']}")

    planned = run("restore", "--repo", str(repo.root), "--at", good, "--id", group["id"], "--plan").output
    assert "CREATE  roleAssignments/" in planned

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", group["id"], "--yes").output

    assert "Verified" in output
    new_id = admin.group("Billing Admins")["id"]
    assert _roles_of(admin, new_id) == {(BILLING_ADMINISTRATOR, "/")}


def test_a_saved_plan_rewrites_the_references_when_applied(repo: BackupRepo, admin: Admin, tmp_path: Path) -> None:
    old_id, policies, _before, good = _break_glass_purged(repo, admin)
    saved = tmp_path / "plan.json"
    run("restore", "--repo", str(repo.root), "--at", good, "--id", old_id, "--plan", "-o", str(saved))

    output = run("apply", "--repo", str(repo.root), "--plan-file", str(saved), "--yes").output

    assert "Verified" in output
    new_id = admin.group(BREAK_GLASS)["id"]
    for policy_id in policies:
        assert new_id in _policies(admin)[policy_id]["conditions"]["users"]["excludeGroups"]
