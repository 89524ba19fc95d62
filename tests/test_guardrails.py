"""Guardrails from entragit.yaml: never_write objects and attributes, max_writes, and the lockout refusals."""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML

from entragit.config import CONFIG_FILE
from entragit.store import BackupRepo
from tests.conftest import Admin, run

GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"


def _guard(repo: BackupRepo, restore: dict[str, Any]) -> None:
    path = repo.root / CONFIG_FILE
    yaml = YAML()
    data = yaml.load(path.read_text())
    data["restore"] = restore
    with path.open("w") as handle:
        yaml.dump(data, handle)


def _snapshot(repo: BackupRepo) -> str:
    run("snapshot", "--repo", str(repo.root))
    return repo.resolve("HEAD")


def _user(admin: Admin, user_id: str) -> dict[str, Any]:
    found: dict[str, Any] = admin.get(f"users/{user_id}", **{"$select": "id,jobTitle,officeLocation,accountEnabled"})
    return found


def test_never_write_object_by_upn_is_left_alone_and_shown_as_blocked(repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    protected, other = admin.get("users", **{"$filter": "department eq 'Support'",
                                             "$select": "id,jobTitle,userPrincipalName"})["value"][:2]
    for user in (protected, other):
        admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})
    _guard(repo, {"never_write": {"objects": [protected["userPrincipalName"]]}})

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", protected["id"], "--id", other["id"],
                 "--yes").output

    assert "guardrail" in output and protected["id"] in output
    assert _user(admin, protected["id"])["jobTitle"] == "Changed"
    assert _user(admin, other["id"])["jobTitle"] == other["jobTitle"]


def test_never_write_attribute_is_kept_back_while_the_rest_is_restored(repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    user = admin.users("Support")[0]
    before = _user(admin, user["id"])
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed", "officeLocation": "Elsewhere"})
    _guard(repo, {"never_write": {"attributes": {"users": ["jobTitle"]}}})

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", user["id"], "--yes").output

    assert "guardrail" in output and "jobTitle" in output
    now = _user(admin, user["id"])
    assert (now["jobTitle"], now["officeLocation"]) == ("Changed", before["officeLocation"])


def test_a_restore_that_would_drop_a_break_glass_exclusion_is_kept_back(repo: BackupRepo, admin: Admin) -> None:
    policy = next(p for p in admin.get("identity/conditionalAccess/policies")["value"]
                  if p["conditions"]["users"].get("excludeGroups"))
    path = f"identity/conditionalAccess/policies/{policy['id']}"
    break_glass = policy["conditions"]["users"]["excludeGroups"][0]
    without = {**policy["conditions"]["users"],
               "excludeGroups": [g for g in policy["conditions"]["users"]["excludeGroups"] if g != break_glass]}
    admin.call("PATCH", path, json={"conditions": {**policy["conditions"], "users": without}})
    unprotected = _snapshot(repo)
    admin.call("PATCH", path, json={"conditions": policy["conditions"], "displayName": "Renamed"})
    _guard(repo, {"never_write": {"objects": [break_glass]}})

    output = run("restore", "--repo", str(repo.root), "--at", unprotected, "--id", policy["id"], "--yes").output

    assert "guardrail" in output and break_glass in output
    now = admin.get(path)
    assert break_glass in now["conditions"]["users"]["excludeGroups"]
    assert now["displayName"] == policy["displayName"]


def test_max_writes_refuses_a_larger_plan_unless_raised_for_the_run(repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    users = admin.users("Support")[:3]
    for user in users:
        admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})
    _guard(repo, {"max_writes": 2})
    args = ["restore", "--repo", str(repo.root), "--at", good, *[a for u in users for a in ("--id", u["id"])], "--yes"]

    refused = run(*args, ok=False)

    assert refused.exit_code == 1 and "more than the 2 allowed" in refused.output and "--max-writes 3" in refused.output
    assert all(_user(admin, u["id"])["jobTitle"] == "Changed" for u in users)
    assert "Verified" in run(*args, "--max-writes", "3").output
    assert [_user(admin, u["id"])["jobTitle"] for u in users] == [u["jobTitle"] for u in users]


def test_a_plan_that_disables_every_enabled_policy_is_refused(repo: BackupRepo, admin: Admin) -> None:
    enabled = [p["id"] for p in admin.get("identity/conditionalAccess/policies")["value"] if p["state"] == "enabled"]
    assert enabled
    for policy_id in enabled:
        admin.call("PATCH", f"identity/conditionalAccess/policies/{policy_id}", json={"state": "disabled"})
    all_disabled = _snapshot(repo)
    for policy_id in enabled:
        admin.call("PATCH", f"identity/conditionalAccess/policies/{policy_id}", json={"state": "enabled"})

    result = run("restore", "--repo", str(repo.root), "--at", all_disabled, "--type", "conditionalAccessPolicies",
                 "--yes", ok=False)

    assert result.exit_code == 1 and "no Conditional Access policy enabled" in result.output
    states = {p["id"]: p["state"] for p in admin.get("identity/conditionalAccess/policies")["value"]}
    assert all(states[i] == "enabled" for i in enabled)


def test_a_plan_that_disables_the_last_global_administrator_is_refused(repo: BackupRepo, admin: Admin) -> None:
    admins = sorted({a["principalId"] for a in admin.get("roleManagement/directory/roleAssignments")["value"]
                     if a["roleDefinitionId"] == GLOBAL_ADMINISTRATOR})
    assert admins
    for user_id in admins:
        admin.call("PATCH", f"users/{user_id}", json={"accountEnabled": False})
    disabled = _snapshot(repo)
    for user_id in admins:
        admin.call("PATCH", f"users/{user_id}", json={"accountEnabled": True})
    # Disabling all but one is allowed; the refusal is about the last one.
    some = run("restore", "--repo", str(repo.root), "--at", disabled, *[a for u in admins[1:] for a in ("--id", u)],
               "--attribute", "accountEnabled", "--plan")
    assert "Refused" not in some.output

    result = run("restore", "--repo", str(repo.root), "--at", disabled, *[a for u in admins for a in ("--id", u)],
                 "--attribute", "accountEnabled", "--yes", ok=False)

    assert result.exit_code == 1 and "no enabled Global Administrator" in result.output
    assert all(_user(admin, u)["accountEnabled"] is True for u in admins)


def test_deleting_every_global_administrator_assignment_is_refused(repo: BackupRepo, admin: Admin) -> None:
    assignments = [a for a in admin.get("roleManagement/directory/roleAssignments")["value"]
                   if a["roleDefinitionId"] == GLOBAL_ADMINISTRATOR]
    assert assignments
    for assignment in assignments:
        admin.call("DELETE", f"roleManagement/directory/roleAssignments/{assignment['id']}")
    without_admins = _snapshot(repo)
    for assignment in assignments:
        admin.call("POST", "roleManagement/directory/roleAssignments",
                   json={k: assignment[k] for k in ("principalId", "roleDefinitionId", "directoryScopeId")})

    result = run("restore", "--repo", str(repo.root), "--at", without_admins, "--type", "roleAssignments",
                 "--delete-extra", "--yes", ok=False)

    assert result.exit_code == 1 and "no enabled Global Administrator" in result.output
    now = [a for a in admin.get("roleManagement/directory/roleAssignments")["value"]
           if a["roleDefinitionId"] == GLOBAL_ADMINISTRATOR]
    assert len(now) == len(assignments)


def test_removing_the_last_member_of_the_group_that_holds_global_administrator_is_refused(
        repo: BackupRepo, admin: Admin) -> None:
    direct = [a for a in admin.get("roleManagement/directory/roleAssignments")["value"]
              if a["roleDefinitionId"] == GLOBAL_ADMINISTRATOR]
    group = admin.call("POST", "groups", json={"displayName": "Tenant admins", "mailEnabled": False,
                                               "mailNickname": "tenantadmins", "securityEnabled": True,
                                               "isAssignableToRole": True}).json()
    admin.call("POST", "roleManagement/directory/roleAssignments",
               json={"principalId": group["id"], "roleDefinitionId": GLOBAL_ADMINISTRATOR, "directoryScopeId": "/"})
    empty_group = _snapshot(repo)
    user = admin.users("Support")[0]
    admin.call("POST", f"groups/{group['id']}/members/$ref",
               json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"})
    for assignment in direct:
        admin.call("DELETE", f"roleManagement/directory/roleAssignments/{assignment['id']}")
    # The group is assigned the role, but only its one member can sign in with it.

    result = run("restore", "--repo", str(repo.root), "--at", empty_group, "--id", user["id"], "--yes", ok=False)

    assert result.exit_code == 1 and "no enabled Global Administrator" in result.output
    assert user["id"] in result.output
    assert admin.members(group["id"]) == {user["id"]}


def test_a_deleted_role_assignment_of_a_never_write_principal_is_not_made_again(repo: BackupRepo,
                                                                                admin: Admin) -> None:
    good = _snapshot(repo)
    assignments = admin.get("roleManagement/directory/roleAssignments")["value"]
    protected = next(a for a in assignments if a["roleDefinitionId"] != GLOBAL_ADMINISTRATOR)
    other = next(a for a in assignments if a["principalId"] != protected["principalId"])
    for assignment in (protected, other):
        admin.call("DELETE", f"roleManagement/directory/roleAssignments/{assignment['id']}")
    _guard(repo, {"never_write": {"objects": [protected["principalId"]]}})

    # The other assignment may be of a privileged role: granting it again is a high-risk write.
    output = run("restore", "--repo", str(repo.root), "--at", good, "--type", "roleAssignments", "--yes",
                 "--accept-risk").output

    assert "guardrail" in output and protected["principalId"] in output
    now = {(a["principalId"], a["roleDefinitionId"])
           for a in admin.get("roleManagement/directory/roleAssignments")["value"]}
    assert (protected["principalId"], protected["roleDefinitionId"]) not in now
    assert (other["principalId"], other["roleDefinitionId"]) in now


def test_bad_guardrail_settings_are_named(repo: BackupRepo) -> None:
    _guard(repo, {"never_write": {"attributes": {"widgets": ["color"]}}})

    result = run("restore", "--repo", str(repo.root), "--at", "HEAD", "--type", "users", "--plan", ok=False)

    assert result.exit_code == 1 and "widgets" in result.output and CONFIG_FILE in result.output
