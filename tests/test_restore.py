from __future__ import annotations

from entragit.demo import _bulk_mistake
from entragit.graph import GraphClient
from entragit.restore import apply_plan, plan_restore
from entragit.store import BackupRepo
from tests.conftest import Admin, run


def _snapshot(repo: BackupRepo) -> str:
    run("snapshot", "--repo", str(repo.root))
    return repo.resolve("HEAD")


def test_restoring_the_demo_scenario_leaves_zero_residue(repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo)
    before = {u["id"]: u for u in admin.users("Sales")}
    sales_team = admin.group("Sales Team")
    team_before = admin.members(sales_team["id"])
    sales_ids, removed = _bulk_mistake(client)
    assert removed and all(u["jobTitle"] is None for u in admin.users("Sales"))

    plan = plan_restore(repo, client, good, ids=tuple(sales_ids))
    result = apply_plan(repo, client, plan)

    assert not result.failed
    assert result.residue.steps == []
    assert {u["id"]: u for u in admin.users("Sales")} == before
    assert admin.members(sales_team["id"]) == team_before
    assert "No differences." in run("diff", good, "--live", "--repo", str(repo.root)).output


def test_plan_lists_dynamic_membership_as_not_restorable_and_it_follows_the_attributes(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo)
    dynamic = admin.group("Sales EMEA (dynamic)")
    member_id = sorted(admin.members(dynamic["id"]))[0]
    admin.call("PATCH", f"users/{member_id}", json={"onPremisesExtensionAttributes": {"extensionAttribute1": None}})
    assert member_id not in admin.members(dynamic["id"])

    plan = plan_restore(repo, client, good, ids=(member_id,))

    [blocked] = plan.blocked
    assert blocked.id == dynamic["id"] and "membershipRule" in blocked.reason
    assert [s.kind for s in plan.steps] == ["patch"]
    result = apply_plan(repo, client, plan)
    assert result.residue.steps == [] and result.residue.blocked == []
    assert member_id in admin.members(dynamic["id"])


def test_attribute_filter_restores_only_that_attribute(repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    user = admin.users("Engineering")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Oops", "officeLocation": "Nowhere"})

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", user["id"],
                 "--attribute", "jobTitle", "--yes").output

    assert "Verified" in output
    now = admin.get(f"users/{user['id']}", **{"$select": "jobTitle,officeLocation"})
    assert (now["jobTitle"], now["officeLocation"]) == (user["jobTitle"], "Nowhere")


def test_restore_by_type_puts_back_a_weakened_conditional_access_policy(repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    policy = next(p for p in admin.get("identity/conditionalAccess/policies")["value"]
                  if p["displayName"] == "Require MFA for all users")
    weakened = {"state": "disabled",
                "conditions": {**policy["conditions"],
                               "users": {**policy["conditions"]["users"], "excludeGroups": []}}}
    admin.call("PATCH", f"identity/conditionalAccess/policies/{policy['id']}", json=weakened)

    output = run("restore", "--repo", str(repo.root), "--at", good, "--type", "conditionalAccessPolicies",
                 "--yes").output

    assert "conditions.users.excludeGroups" in output and "Verified" in output
    now = admin.get(f"identity/conditionalAccess/policies/{policy['id']}")
    assert now["state"] == policy["state"]
    assert now["conditions"]["users"]["excludeGroups"] == policy["conditions"]["users"]["excludeGroups"]


def test_plan_writes_nothing(repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    user = admin.users("Support")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", user["id"], "--plan").output

    assert "PATCH" in output and "jobTitle" in output
    assert admin.get(f"users/{user['id']}")["jobTitle"] == "Changed"


def test_restore_without_yes_and_without_a_terminal_writes_nothing(repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    user = admin.users("Support")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})

    result = run("restore", "--repo", str(repo.root), "--at", good, "--id", user["id"], ok=False)

    assert result.exit_code == 1 and "--yes" in result.output
    assert admin.get(f"users/{user['id']}")["jobTitle"] == "Changed"
