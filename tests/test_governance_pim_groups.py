"""PIM for groups is read for the role-assignable groups, and for the groups a setting given outside the
repository names: never for every group (a request each), and never for a group the working tree names."""

from __future__ import annotations

import git
import pytest

from entragit.registry import get_type
from entragit.store import BackupRepo
from tests.conftest import Admin, run

ELIGIBILITY_REQUESTS = "identityGovernance/privilegedAccess/group/eligibilityScheduleRequests"
TYPES = ("groupEligibilitySchedules", "groupAssignmentSchedules", "groupRoleManagementPolicies",
         "groupRoleManagementPolicyAssignments")


def _groups_read(repo: BackupRepo) -> set[str]:
    run("snapshot", "--repo", str(repo.root), *[arg for t in TYPES for arg in ("--type", t)])
    head = repo.resolve("HEAD")
    eligible = {o["groupId"] for o in repo.read_objects(head, get_type("groupEligibilitySchedules")).values()}
    settings = {o["scopeId"] for o in repo.read_objects(head, get_type("groupRoleManagementPolicies")).values()}
    assert {o["scopeId"] for o in repo.read_objects(head, get_type("groupRoleManagementPolicyAssignments")).values()} \
        == settings
    return eligible | settings


def _make_eligible(admin: Admin, group_id: str) -> None:
    user = admin.get("users", **{"$top": "1", "$select": "id"})["value"][0]
    admin.call("POST", ELIGIBILITY_REQUESTS, json={
        "action": "adminAssign", "accessId": "member", "groupId": group_id, "principalId": user["id"],
        "justification": "test", "scheduleInfo": {"expiration": {"type": "noExpiration"}}})


def test_the_role_assignable_groups_are_read_and_others_only_once_named_outside_the_repository(
        repo: BackupRepo, admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    assignable = {g["id"] for g in admin.get("groups", **{"$filter": "isAssignableToRole eq true"})["value"]}
    marketing = admin.group("Marketing Team")["id"]
    _make_eligible(admin, marketing)
    assert _groups_read(repo) == assignable and len(assignable) == 2

    # The working tree cannot name one: a pull request would choose what the backup reads.
    (repo.root / "entragit.yaml").write_text((repo.root / "entragit.yaml").read_text() + f"pim_groups: [{marketing}]\n")
    refused = run("snapshot", "--repo", str(repo.root), "--type", "groupEligibilitySchedules", ok=False)
    assert refused.exit_code == 1 and "unknown setting(s) pim_groups" in refused.output
    git.Repo(repo.root).git.checkout("--", "entragit.yaml")

    monkeypatch.setenv("ENTRAGIT_PIM_GROUPS", f" {marketing} ,")
    assert _groups_read(repo) == assignable | {marketing}
    monkeypatch.delenv("ENTRAGIT_PIM_GROUPS")
    git.Repo(repo.root).git.config("entragit.pimGroups", marketing)
    assert marketing in _groups_read(repo)


def test_a_schedule_list_without_a_group_or_principal_is_refused(admin: Admin) -> None:
    answer = admin.session.get(admin.base + "identityGovernance/privilegedAccess/group/eligibilitySchedules")
    assert answer.status_code == 400 and "groupId" in answer.json()["error"]["message"]
