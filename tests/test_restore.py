from __future__ import annotations

from typing import Any

import click

from entragit.demo import _bulk_mistake
from entragit.graph import GraphClient
from entragit.sim import Simulator
from entragit.report.plan import render_plan
from entragit.restore import Journal, Outcome, RestoreOptions, apply_plan, plan_restore
from entragit.selection import Selection
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

    plan = plan_restore(repo, client, good, Selection(ids=tuple(sales_ids)))
    result = apply_plan(repo, client, plan)

    assert not result.failed
    assert result.residue.steps == []
    assert {u["id"]: u for u in admin.users("Sales")} == before
    assert admin.members(sales_team["id"]) == team_before
    assert "No differences." in run("diff", good, "--live", "--repo", str(repo.root)).output


def _out_of_dynamic_group(admin: Admin) -> tuple[dict[str, Any], str]:
    """A dynamic group, and a member it loses as the attribute its rule reads is cleared."""
    dynamic = admin.group("Sales EMEA (dynamic)")
    member_id = sorted(admin.members(dynamic["id"]))[0]
    admin.call("PATCH", f"users/{member_id}", json={"onPremisesExtensionAttributes": {"extensionAttribute1": None}})
    return dynamic, member_id


def test_plan_lists_dynamic_membership_as_not_restorable_and_it_follows_the_attributes(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo)
    dynamic, member_id = _out_of_dynamic_group(admin)
    assert member_id not in admin.members(dynamic["id"])

    plan = plan_restore(repo, client, good, Selection(ids=(member_id,)))

    [blocked] = plan.blocked
    assert blocked.id == dynamic["id"] and "membershipRule" in blocked.reason
    assert [s.kind for s in plan.steps] == ["patch"]
    result = apply_plan(repo, client, plan)
    assert result.residue.steps == [] and result.residue.blocked == []
    assert member_id in admin.members(dynamic["id"])


def test_a_refusal_seen_from_both_ends_of_a_link_is_listed_and_counted_once(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo)
    dynamic, member_id = _out_of_dynamic_group(admin)

    # The group's members and the user's memberships both name the one link the directory computes.
    plan = plan_restore(repo, client, good, Selection(ids=(member_id, dynamic["id"])))

    [blocked] = plan.blocked
    assert blocked.id == dynamic["id"] and "membershipRule" in blocked.reason
    shown = render_plan(plan)
    assert "Cannot restore (1):" in shown and "1 difference(s) cannot be restored" in shown
    assert shown.count(f"groups/{dynamic['id']} ") == 1
    # A plan saved with a repeat reads the same.
    plan.blocked.append(blocked)
    assert render_plan(plan) == shown


def _ref(object_id: str) -> dict[str, str]:
    return {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{object_id}"}


def test_memberships_are_restored_as_of_an_older_snapshot_and_as_of_the_newest_incremental_one(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    user = admin.users("Support")[0]
    group = admin.group("Marketing Team")
    assert user["id"] not in admin.members(group["id"])
    older = _snapshot(repo)
    admin.call("POST", f"groups/{group['id']}/members/$ref", json=_ref(user["id"]))
    newest = _snapshot(repo)
    admin.call("DELETE", f"groups/{group['id']}/members/{user['id']}/$ref")

    # The newest snapshot read the group incrementally: who held the user comes from what it recorded.
    [added] = plan_restore(repo, client, newest, Selection(ids=(user["id"],))).steps
    assert (added.kind, added.id) == ("add-ref", group["id"])
    admin.call("POST", f"groups/{group['id']}/members/$ref", json=_ref(user["id"]))
    # An older commit than the newest snapshot: only its files know.
    [removed] = plan_restore(repo, client, older, Selection(ids=(user["id"],))).steps
    assert (removed.kind, removed.id) == ("remove-ref", group["id"])


def test_memberships_are_restored_as_of_an_older_snapshot_whose_groups_the_newest_kept_as_they_were(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    user = admin.users("Support")[0]
    group = next(g for g in admin.get(f"users/{user['id']}/memberOf")["value"] if "groupTypes" in g
                 and "DynamicMembership" not in g["groupTypes"])
    older = _snapshot(repo)
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})
    _snapshot(repo)
    admin.call("DELETE", f"groups/{group['id']}/members/{user['id']}/$ref")

    plan = plan_restore(repo, client, older, Selection(ids=(user["id"],)))

    assert sorted((s.kind, s.id) for s in plan.steps) == [("add-ref", group["id"]), ("patch", user["id"])]


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

    # Putting the exclusion back excludes more: the same rule as in a report flags it.
    output = run("restore", "--repo", str(repo.root), "--at", good, "--type", "conditionalAccessPolicies",
                 "--yes", "--accept-risk").output

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


def test_a_plan_shows_a_long_value_whole(repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    group = admin.group("Marketing Team")
    long = "Campaign owners for the spring and autumn launches, " * 4 + "end."
    admin.call("PATCH", f"groups/{group['id']}", json={"description": long})

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", group["id"], "--plan").output

    assert long in output and "…" not in output


def test_restore_without_yes_and_without_a_terminal_writes_nothing(repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    user = admin.users("Support")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})

    result = run("restore", "--repo", str(repo.root), "--at", good, "--id", user["id"], ok=False)

    assert result.exit_code == 1 and "--yes" in result.output
    assert admin.get(f"users/{user['id']}")["jobTitle"] == "Changed"


def _ca_policies(admin: Admin) -> list[dict[str, Any]]:
    return list(admin.get("identity/conditionalAccess/policies")["value"])


def _purge_group(admin: Admin, group_id: str) -> None:
    admin.call("DELETE", f"groups/{group_id}")
    admin.call("DELETE", f"directory/deletedItems/{group_id}")


def test_a_hard_deleted_group_is_recreated_and_the_policies_excluding_it_follow_its_new_id(
        repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    group = admin.group("CA Exclusion - Break Glass")
    members = admin.members(group["id"])
    policies = [p["id"] for p in _ca_policies(admin) if group["id"] in p["conditions"]["users"]["excludeGroups"]]
    assert len(policies) >= 2
    _purge_group(admin, group["id"])
    ids = [arg for object_id in (group["id"], *policies) for arg in ("--id", object_id)]

    planned = run("restore", "--repo", str(repo.root), "--at", good, *ids, "--plan").output
    assert f"CREATE  groups/{group['id']}" in planned
    assert f"id {group['id']} -> new id (assigned when applied)" in planned
    assert "rewritten to its new id" in planned

    output = run("restore", "--repo", str(repo.root), "--at", good, *ids, "--yes").output

    new_id = admin.group("CA Exclusion - Break Glass")["id"]
    assert new_id != group["id"]
    assert f"created: {group['id']} is now {new_id}" in output and "Verified" in output
    assert admin.members(new_id) == members
    for policy in _ca_policies(admin):
        if policy["id"] in policies:
            assert policy["conditions"]["users"]["excludeGroups"] == [new_id]


def test_a_policy_naming_a_group_that_is_gone_is_not_written_and_the_plan_says_why(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo)
    group = admin.group("CA Exclusion - Break Glass")
    policy = next(p for p in _ca_policies(admin) if p["displayName"] == "Require MFA for all users")
    # The attacker drops the policy's exclusion and deletes the excluded group for good.
    weakened = {"state": "disabled",
                "conditions": {**policy["conditions"], "users": {**policy["conditions"]["users"], "excludeGroups": []}}}
    admin.call("PATCH", f"identity/conditionalAccess/policies/{policy['id']}", json=weakened)
    _purge_group(admin, group["id"])

    plan = plan_restore(repo, client, good, Selection(ids=(policy["id"],)))

    assert plan.steps == []
    [blocked] = plan.blocked
    assert blocked.id == policy["id"] and group["id"] in blocked.what
    assert "neither in the tenant nor brought back" in blocked.reason and f"--id {group['id']}" in blocked.reason
    apply_plan(repo, client, plan)
    assert admin.get(f"identity/conditionalAccess/policies/{policy['id']}")["state"] == "disabled"


def test_without_following_references_a_recreated_object_names_the_policies_left_outside_the_plan(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo)
    group = admin.group("CA Exclusion - Break Glass")
    _purge_group(admin, group["id"])

    plan = plan_restore(repo, client, good, Selection(ids=(group["id"],)), options=RestoreOptions(follow_references=False))

    assert [s.kind for s in plan.steps if s.kind == "create"] == ["create"]
    left = {b.id for b in plan.blocked if "makes again under a new id" in b.reason}
    assert left == {p["id"] for p in _ca_policies(admin) if group["id"] in p["conditions"]["users"]["excludeGroups"]}


def test_a_deleted_user_comes_back_from_the_recycle_bin_with_its_id_memberships_and_manager(
        repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    user = next(u for u in admin.users("Finance") if u["jobTitle"] == "Accountant")
    before = admin.get(f"users/{user['id']}", **{"$select": "id,userPrincipalName,jobTitle", "$expand": "manager"})
    groups = {g["id"] for g in admin.get(f"users/{user['id']}/memberOf")["value"]}
    admin.call("DELETE", f"users/{user['id']}")

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", user["id"], "--yes").output

    assert f"RESTORE users/{user['id']}" in output and "Verified" in output
    after = admin.get(f"users/{user['id']}", **{"$select": "id,userPrincipalName,jobTitle", "$expand": "manager"})
    assert (after["userPrincipalName"], after["manager"]["id"]) == (before["userPrincipalName"], before["manager"]["id"])
    assert {g["id"] for g in admin.get(f"users/{user['id']}/memberOf")["value"]} == groups


def test_a_plan_for_a_user_in_the_bin_holds_the_restore_and_no_property_the_restore_brings_back(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo)
    user = next(u for u in admin.users("Finance") if u["jobTitle"] == "Accountant")
    city = admin.get(f"users/{user['id']}", **{"$select": "city"})["city"]
    admin.call("PATCH", f"users/{user['id']}", json={"city": "Lisbon"})
    changed = _snapshot(repo)
    admin.call("DELETE", f"users/{user['id']}")

    # The bin keeps every property (department, employeeId... outside Graph's default set): nothing to re-send.
    plan = plan_restore(repo, client, changed, Selection(("users",), (user["id"],)))
    assert [s.kind for s in plan.steps if s.member is None] == ["restore"] and plan.blocked == []

    # What still differs from an older snapshot is planned after the restore, and only that.
    plan = plan_restore(repo, client, good, Selection(("users",), (user["id"],)))
    assert [s.kind for s in plan.steps if s.member is None] == ["restore", "patch"]
    [patch] = [s for s in plan.steps if s.kind == "patch"]
    assert [(c.path, c.old, c.new) for c in patch.changes] == [("city", "Lisbon", city)]
    assert "(not set)" not in render_plan(plan)


def test_writes_on_a_user_back_from_the_bin_ride_with_its_restore_and_fail_with_it_as_not_done(
        repo: BackupRepo, client: GraphClient, admin: Admin, sim: Simulator) -> None:
    good = _snapshot(repo)
    user = next(u for u in admin.users("Finance") if u["jobTitle"] == "Accountant")
    groups = {g["id"] for g in admin.get(f"users/{user['id']}/memberOf")["value"]}
    admin.call("DELETE", f"users/{user['id']}")
    plan = plan_restore(repo, client, good, Selection(ids=(user["id"],)))
    assert {s.kind for s in plan.steps} >= {"restore", "set-ref", "add-ref"}
    journal = Journal(str(repo.git.git_dir), "test", repo.config.tenant_id)
    journal.start(plan)
    heard: list[list[Outcome]] = []

    def record(outcomes: list[Outcome]) -> None:
        heard.append(outcomes)
        journal.outcomes(outcomes)

    sim.settings.fault_status, sim.settings.fault_count = 500, 1
    sim.settings.fault_path = f"directory/deletedItems/{user['id']}/restore"
    first = apply_plan(repo, client, plan, on_batch=record, sleep=lambda _: None)

    # One round: every write on the user went in the restore's $batch, and Graph ran none of them.
    [outcomes] = heard
    assert {(o.step.kind, o.status) for o in outcomes if o.step.kind != "restore"} <= {
        ("set-ref", 424), ("add-ref", 424), ("patch", 424)}
    assert len(outcomes) == len(plan.steps) and len(first.failed) == len(plan.steps)
    progress = journal.read()
    assert progress is not None and progress.succeeded == set()

    again = apply_plan(repo, client, plan, skip=progress.succeeded, sleep=lambda _: None)

    assert not again.failed and again.residue.steps == []
    assert {g["id"] for g in admin.get(f"users/{user['id']}/memberOf")["value"]} == groups


def test_a_user_gone_for_good_is_listed_as_not_restorable_and_nothing_is_written(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo)
    user = next(u for u in admin.users("Finance") if u["jobTitle"] == "Accountant")
    admin.call("DELETE", f"users/{user['id']}")
    admin.call("DELETE", f"directory/deletedItems/{user['id']}")

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", user["id"], "--yes").output

    assert "Cannot restore (1):" in output
    assert "nor in its recycle bin" in output and "cannot be recreated faithfully" in output
    assert "0 write(s)" in output
    assert admin.session.get(admin.base + f"users/{user['id']}").status_code == 404


def test_delete_extra_removes_what_the_snapshot_does_not_have_and_refuses_users(
        repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    rogue = admin.call("POST", "groups", json={"displayName": "Rogue admins", "mailEnabled": False,
                                               "mailNickname": "rogue", "securityEnabled": True}).json()
    new_user = admin.call("POST", "users", json={
        "accountEnabled": True, "displayName": "New Starter", "mailNickname": "newstarter",
        "userPrincipalName": f"newstarter@{admin.get('organization')['value'][0]['verifiedDomains'][0]['name']}",
        "passwordProfile": {"password": "Correct-Horse-7", "forceChangePasswordNextSignIn": True}}).json()

    refused = run("restore", "--repo", str(repo.root), "--at", good, "--type", "users", "--delete-extra", "--yes",
                  ok=False)
    assert refused.exit_code == 1 and "--delete-extra refuses users" in refused.output
    assert admin.session.get(admin.base + f"users/{new_user['id']}").status_code == 200

    without = run("restore", "--repo", str(repo.root), "--at", good, "--type", "groups", "--plan").output
    assert "Rogue admins" not in without

    output = run("restore", "--repo", str(repo.root), "--at", good, "--type", "groups", "--delete-extra",
                 "--yes").output
    assert f"DELETE  groups/{rogue['id']}  Rogue admins" in output and "Verified" in output
    assert admin.session.get(admin.base + f"groups/{rogue['id']}").status_code == 404


def test_credentials_added_since_are_removed_only_when_asked_and_deleted_ones_cannot_come_back(
        repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    app = next(a for a in admin.get("applications")["value"] if a["passwordCredentials"])
    kept = {c["keyId"] for c in app["passwordCredentials"]}
    added = admin.call("POST", f"applications/{app['id']}/addPassword",
                       json={"passwordCredential": {"displayName": "backdoor"}}).json()

    plain = run("restore", "--repo", str(repo.root), "--at", good, "--id", app["id"], "--plan").output
    assert f"backdoor ({added['keyId']})" in plain and "--remove-new-credentials" in plain

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", app["id"],
                 "--remove-new-credentials", "--yes").output
    assert "REVOKE" in output and "Verified" in output
    now = admin.get(f"applications/{app['id']}")["passwordCredentials"]
    assert {c["keyId"] for c in now} == kept

    gone = sorted(kept)[0]
    admin.call("POST", f"applications/{app['id']}/removePassword", json={"keyId": gone})
    lost = run("restore", "--repo", str(repo.root), "--at", good, "--id", app["id"], "--plan").output
    assert gone in lost and "cannot be brought back" in lost


def test_a_custom_role_made_again_takes_its_assignments_along(repo: BackupRepo, client: GraphClient,
                                                               admin: Admin) -> None:
    good = _snapshot(repo)
    role = next(r for r in admin.get("roleManagement/directory/roleDefinitions")["value"] if not r["isBuiltIn"])
    assignments = [a for a in admin.get("roleManagement/directory/roleAssignments")["value"]
                   if a["roleDefinitionId"] == role["id"]]
    assert assignments
    for assignment in assignments:
        admin.call("DELETE", f"roleManagement/directory/roleAssignments/{assignment['id']}")
    admin.call("DELETE", f"roleManagement/directory/roleDefinitions/{role['id']}")

    plan = plan_restore(repo, client, good, Selection(("roleDefinitions", "roleAssignments")))
    result = apply_plan(repo, client, plan)

    assert result.failed == [] and result.residue.steps == []
    new_role = next(r for r in admin.get("roleManagement/directory/roleDefinitions")["value"]
                    if r["displayName"] == role["displayName"])
    assert result.created[role["id"]] == new_role["id"]
    now = {(a["principalId"], a["directoryScopeId"]) for a in admin.get("roleManagement/directory/roleAssignments")["value"]
           if a["roleDefinitionId"] == new_role["id"]}
    assert now == {(a["principalId"], a["directoryScopeId"]) for a in assignments}


def test_a_plan_shows_names_beside_the_ids_its_writes_name(repo: BackupRepo, client: GraphClient,
                                                             admin: Admin) -> None:
    group = admin.group("CA Exclusion - Break Glass")
    # A name from the files reaches the terminal escaped, as every other name does.
    admin.call("PATCH", f"groups/{group['id']}", json={"displayName": "Break Glass\x1b[2J"})
    good = _snapshot(repo)
    policy = next(p for p in _ca_policies(admin) if group["id"] in p["conditions"]["users"]["excludeGroups"])
    admin.call("PATCH", f"identity/conditionalAccess/policies/{policy['id']}",
               json={"conditions": {"users": {**policy["conditions"]["users"], "excludeGroups": []}}})
    assignment = admin.get("roleManagement/directory/roleAssignments")["value"][0]
    admin.call("DELETE", f"roleManagement/directory/roleAssignments/{assignment['id']}")
    principal = admin.get(f"directoryObjects/{assignment['principalId']}")["displayName"]
    role = admin.get(f"roleManagement/directory/roleDefinitions/{assignment['roleDefinitionId']}")["displayName"]

    plan = plan_restore(repo, client, good, Selection(ids=(policy["id"], assignment["id"])))
    shown = render_plan(plan)

    excluded = next(line for line in shown.splitlines() if "conditions.users.excludeGroups" in line)
    assert excluded.endswith(f"->  Break Glass\\x1b[2J ({group['id']})")
    assert f"principalId: {principal} ({assignment['principalId']})" in shown
    assert f"roleDefinitionId: {role} ({assignment['roleDefinitionId']})" in shown


def test_an_application_and_its_service_principal_made_again_get_a_new_app_id_and_uri(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo)
    app = next(a for a in admin.get("applications")["value"] if a["displayName"] == "CRM Connector")
    assert app["identifierUris"] == [f"api://{app['appId']}"]
    sp = admin.get("servicePrincipals", **{"$filter": f"appId eq '{app['appId']}'"})["value"][0]
    grants = {g["id"]: (g["consentType"], g["scope"]) for g in admin.get("oauth2PermissionGrants")["value"]
              if g["clientId"] == sp["id"]}
    assert grants
    for path in (f"servicePrincipals/{sp['id']}", f"directory/deletedItems/{sp['id']}",
                 f"applications/{app['id']}", f"directory/deletedItems/{app['id']}"):
        admin.call("DELETE", path)

    result = apply_plan(repo, client, plan_restore(repo, client, good, Selection(ids=(app["id"], sp["id"]))))

    assert result.failed == [] and result.residue.steps == []
    new_app = next(a for a in admin.get("applications")["value"] if a["displayName"] == "CRM Connector")
    # Graph takes an api://<appId> URI only once the appId exists: it is written after the creation.
    assert new_app["identifierUris"] == [f"api://{new_app['appId']}"]
    new_sp = admin.get("servicePrincipals", **{"$filter": f"appId eq '{new_app['appId']}'"})["value"]
    assert new_app["appId"] != app["appId"] and [s["displayName"] for s in new_sp] == [sp["displayName"]]
    # The service principal's delegated permission grants follow it: made again for its new id.
    assert result.created == {app["id"]: new_app["id"], app["appId"]: new_app["appId"], sp["id"]: new_sp[0]["id"],
                              **{old: result.created[old] for old in grants}}
    assert sorted(grants.values()) == sorted((g["consentType"], g["scope"]) for g in admin.get(
        "oauth2PermissionGrants")["value"] if g["clientId"] == new_sp[0]["id"])


def test_delete_extra_matches_role_assignments_by_principal_role_and_scope(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo)
    user = next(u for u in admin.users("Finance") if u["jobTitle"] == "Accountant")
    global_reader = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
    granted = admin.call("POST", "roleManagement/directory/roleAssignments", json={
        "principalId": user["id"], "roleDefinitionId": global_reader, "directoryScopeId": "/"}).json()

    plan = plan_restore(repo, client, good, Selection(("roleAssignments",)), options=RestoreOptions(delete_extra=True))

    assert [(s.kind, s.id) for s in plan.steps] == [("delete", granted["id"])]
    # The plan says whose assignment of which role it deletes, by name, not by bare ids.
    shown = click.unstyle(render_plan(plan))
    assert f"principalId: {user['displayName']} ({user['id']})" in shown
    assert f"roleDefinitionId: Global Reader ({global_reader})" in shown
    result = apply_plan(repo, client, plan)
    assert result.failed == [] and result.residue.steps == []
    left = admin.get("roleManagement/directory/roleAssignments")["value"]
    assert all(a["principalId"] != user["id"] or a["roleDefinitionId"] != global_reader for a in left)


def test_writes_naming_an_object_whose_creation_failed_are_not_sent(
        repo: BackupRepo, client: GraphClient, admin: Admin, sim: Simulator) -> None:
    good = _snapshot(repo)
    group = admin.group("CA Exclusion - Break Glass")
    policies = [p["id"] for p in _ca_policies(admin) if group["id"] in p["conditions"]["users"]["excludeGroups"]]
    _purge_group(admin, group["id"])
    plan = plan_restore(repo, client, good, Selection(ids=(group["id"], *policies)))
    sim.settings.fault_status, sim.settings.fault_path, sim.settings.fault_count = 500, "groups", 1

    result = apply_plan(repo, client, plan)

    codes = {(step.kind, step.id): error.code for step, error in result.failed}
    assert codes[("create", group["id"])] != "DependencyFailed"
    assert {codes[("patch", p)] for p in policies} == {"DependencyFailed"}
    assert result.done == [] and result.created == {}
    assert all(p["conditions"]["users"]["excludeGroups"] == [group["id"]]
               for p in _ca_policies(admin) if p["id"] in policies)


def test_delete_extra_ends_an_eligibility_added_since_through_an_admin_remove_request(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo)
    user = next(u for u in admin.users("Finance") if u["jobTitle"] == "Accountant")
    global_admin = "62e90394-69f5-4237-9190-012177145e10"
    target = {"principalId": user["id"], "roleDefinitionId": global_admin, "directoryScopeId": "/"}
    admin.call("POST", "roleManagement/directory/roleEligibilityScheduleRequests",
               json={"action": "adminAssign", "justification": "sneaky", **target})

    plan = plan_restore(repo, client, good, Selection(("roleEligibilitySchedules",)), options=RestoreOptions(delete_extra=True))

    [step] = plan.steps
    assert (step.kind, step.path, step.body) == (
        "delete", "roleManagement/directory/roleEligibilityScheduleRequests",
        {**target, "action": "adminRemove", "justification": "Not in the snapshot; removed by entragit restore"})
    result = apply_plan(repo, client, plan)
    assert result.failed == [] and result.residue.steps == []
    left = admin.get("roleManagement/directory/roleEligibilitySchedules")["value"]
    assert not [s for s in left if s["principalId"] == user["id"]]


def test_an_app_role_added_since_is_disabled_then_removed(repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    app = next(a for a in admin.get("applications")["value"] if a["displayName"] == "CRM Connector")
    backdoor = {"id": "5f2b1e6c-58c4-4a4c-9a53-1c1f1f0d6a11", "value": "Backdoor.All", "displayName": "Backdoor",
                "description": "Everything", "allowedMemberTypes": ["Application"], "isEnabled": True}
    admin.call("PATCH", f"applications/{app['id']}", json={"appRoles": [*app["appRoles"], backdoor]})

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", app["id"], "--yes").output

    assert "DISABLE" in output and "appRoles: Backdoor.All" in output and "Verified" in output
    assert admin.get(f"applications/{app['id']}")["appRoles"] == app["appRoles"]


def test_an_authentication_method_turned_off_is_put_back_at_its_own_path(repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    path = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Email"
    before = admin.get(path)
    assert before["state"] == "enabled" and before["excludeTargets"]
    admin.call("PATCH", path, json={"@odata.type": before["@odata.type"], "state": "disabled", "excludeTargets": []})

    output = run("restore", "--repo", str(repo.root), "--at", good, "--type", "authenticationMethodConfigurations",
                 "--yes").output

    assert "Email" in output and "state" in output and "Verified" in output
    assert admin.get(path) == before


def test_an_authentication_strength_weakened_is_put_back_through_update_allowed_combinations(
        repo: BackupRepo, admin: Admin) -> None:
    good = _snapshot(repo)
    strength = next(s for s in admin.get("policies/authenticationStrengthPolicies")["value"]
                    if s["policyType"] == "custom")
    admin.call("POST", f"policies/authenticationStrengthPolicies/{strength['id']}/updateAllowedCombinations",
               json={"allowedCombinations": ["password,sms"]})

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", strength["id"], "--yes").output

    assert "allowedCombinations" in output and "Verified" in output
    now = admin.get(f"policies/authenticationStrengthPolicies/{strength['id']}")
    assert sorted(now["allowedCombinations"]) == sorted(strength["allowedCombinations"])
