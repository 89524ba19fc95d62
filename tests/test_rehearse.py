"""restore/apply --rehearse: the plan run in a simulated tenant loaded with what it touches, as the real
tenant has it, so that what Graph would refuse shows before anything is written to the real tenant (the
`sim` fixture plays the real tenant here; the rehearsal tenant is another simulator, in process)."""

from __future__ import annotations

from pathlib import Path

from entragit.demo import _bulk_mistake
from entragit.graph import GraphClient
from entragit.restore.model import EXIT_REHEARSAL_FAILED
from entragit.sim import Settings, Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin, run
from tests.test_apply import _git


def _snapshot(repo: BackupRepo) -> str:
    run("snapshot", "--repo", str(repo.root))
    return repo.resolve("HEAD")


def _nothing_written(sim: Simulator, repo: BackupRepo, branches: set[str]) -> None:
    """The real tenant's request log holds reads only, and the backup repository gained no branch."""
    assert sim.stats.writes == 0  # $batch items included
    assert {key.split(" ")[0] for key in sim.stats.snapshot()["per_path"] if key != "POST $batch"} == {"GET"}
    assert {str(b) for b in repo.git.branches} == branches


def test_a_clean_rehearsal_shows_what_it_wrote_and_leaves_the_tenant_as_it_was(
        repo: BackupRepo, client: GraphClient, admin: Admin, sim: Simulator) -> None:
    good = _snapshot(repo)
    sales_ids, removed = _bulk_mistake(client)
    team = admin.group("Sales Team")
    broken = admin.members(team["id"])
    branches = {str(b) for b in repo.git.branches}
    sim.stats.reset()

    result = run("restore", "--repo", str(repo.root), "--at", good, *[a for i in sales_ids for a in ("--id", i)],
                 "--rehearse")

    assert f"Wrote {len(sales_ids) + removed} change(s)." in result.output
    assert f"Verified: re-read {len(sales_ids)} object(s)" in result.output
    assert "The rehearsal applied cleanly; nothing was written to tenant" in result.output
    _nothing_written(sim, repo, branches)
    assert all(u["jobTitle"] is None for u in admin.users("Sales"))
    assert admin.members(team["id"]) == broken


def test_objects_in_the_recycle_bin_are_restored_in_the_rehearsal_and_stay_in_the_real_bin(
        repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    good = _snapshot(repo)
    team = admin.group("Sales Team")
    user = sorted(admin.members(team["id"]))[0]
    admin.call("DELETE", f"users/{user}")
    admin.call("DELETE", f"groups/{team['id']}")
    sim.stats.reset()

    result = run("restore", "--repo", str(repo.root), "--at", good, "--id", user, "--id", team["id"], "--rehearse")

    assert "1 groups in the recycle bin, 1 users in the recycle bin" in result.output
    assert "Verified: re-read 2 object(s)" in result.output and "The rehearsal applied cleanly" in result.output
    assert sim.stats.writes == 0
    assert {item["id"] for item in admin.get("directory/deletedItems/microsoft.graph.user")["value"]} >= {user}


def test_a_write_the_app_lacks_permission_for_is_refused_in_the_rehearsal(
        repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    _snapshot(repo)
    policy = admin.get("identity/conditionalAccess/policies")["value"][0]
    admin.call("PATCH", f"identity/conditionalAccess/policies/{policy['id']}", json={"state": "disabled"})
    # The rehearsal tenant's app gets the same permissions as the token: none that writes Conditional Access.
    sim.settings.app_roles = "Directory.ReadWrite.All,Policy.Read.All"
    branches = {str(b) for b in repo.git.branches}
    sim.stats.reset()

    result = run("restore", "--repo", str(repo.root), "--at", "HEAD", "--id", policy["id"], "--rehearse", ok=False)

    assert result.exit_code == EXIT_REHEARSAL_FAILED
    assert "Wrote 0 change(s), 1 failed:" in result.output
    [failed] = [line for line in result.output.splitlines() if "failed: " in line]
    assert policy["id"] in failed and "403" in failed and "Insufficient privileges" in failed
    assert ("Refused before writing: the app lacks the application permission Policy.ReadWrite.ConditionalAccess"
            in result.output)
    assert "Residue: 1 difference(s) remain" in result.output
    assert ("found 1 refusal(s) before writing, 1 step(s) Graph refused, 1 difference(s) verification would "
            "still find; nothing was written") in result.output
    _nothing_written(sim, repo, branches)
    assert admin.get(f"identity/conditionalAccess/policies/{policy['id']}")["state"] == "disabled"


def test_a_member_deleted_for_good_is_a_refused_link_in_the_rehearsal(
        repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    team = admin.group("Sales Team")
    gone, kept = sorted(admin.members(team["id"]))[:2]
    _snapshot(repo)
    for member in (gone, kept):
        admin.call("DELETE", f"groups/{team['id']}/members/{member}/$ref")
    admin.call("DELETE", f"users/{gone}")
    admin.call("DELETE", f"directory/deletedItems/{gone}")
    branches = {str(b) for b in repo.git.branches}
    sim.stats.reset()

    result = run("restore", "--repo", str(repo.root), "--at", "HEAD", "--id", team["id"], "--attribute", "members",
                 "--rehearse", ok=False)

    assert result.exit_code == EXIT_REHEARSAL_FAILED
    [failed] = [line for line in result.output.splitlines() if "failed: " in line]
    assert gone in failed and "404" in failed
    assert "Wrote 1 change(s), 1 failed:" in result.output
    _nothing_written(sim, repo, branches)
    assert kept not in admin.members(team["id"])


def test_a_value_graph_refuses_is_caught_by_the_rehearsal_of_apply(
        repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    _snapshot(repo)
    policy = admin.get("identity/conditionalAccess/policies")["value"][0]
    path = repo.root / "conditionalAccessPolicies" / f"{policy['id']}.yaml"
    text = path.read_text()
    assert f"state: {policy['state']}\n" in text
    # A hand edit in a pull request: a state Graph does not know.
    path.write_text(text.replace(f"state: {policy['state']}\n", "state: on\n"))
    _git(repo, "commit", "-qam", "Turn the policy on")
    branches = {str(b) for b in repo.git.branches}
    sim.stats.reset()

    result = run("apply", "--repo", str(repo.root), "--rehearse", ok=False)

    assert result.exit_code == EXIT_REHEARSAL_FAILED
    [failed] = [line for line in result.output.splitlines() if "failed: " in line]
    assert policy["id"] in failed and "400" in failed and "state" in failed
    _nothing_written(sim, repo, branches)
    assert admin.get(f"identity/conditionalAccess/policies/{policy['id']}")["state"] == policy["state"]


def test_rehearse_writes_nothing_so_it_takes_neither_plan_nor_yes(repo: BackupRepo) -> None:
    for extra in ("--plan", "--yes"):
        result = run("restore", "--repo", str(repo.root), "--at", "HEAD", "--type", "groups", "--rehearse", extra,
                     ok=False)
        assert result.exit_code == 1 and "--rehearse writes nothing" in result.output


def test_the_simulator_loads_graph_shaped_objects_into_an_empty_tenant(tmp_path: Path) -> None:
    user = {"id": "0a4b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "userPrincipalName": "ada@example.org",
            "displayName": "Ada", "accountEnabled": True, "notAProperty": 1}
    group = {"id": "1b5c2d3e-4f5a-4b6c-9d7e-8f9a0b1c2d3e", "displayName": "Readers", "groupTypes": [],
             "securityEnabled": True, "mailEnabled": False, "mailNickname": "readers",
             "members": [{"id": user["id"]}], "owners": [{"id": "2c6d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"}]}
    with Simulator(size="empty", settings=Settings(app_roles="Directory.Read.All"), state_dir=str(tmp_path)) as sim:
        sim.load({"groups": [group], "users": [user]})
        assert {name: len(objects) for name, objects in sim.tenant.objects.items() if objects} == {"users": 1,
                                                                                                "groups": 1}
        admin = Admin(sim)
        assert admin.get(f"users/{user['id']}")["displayName"] == "Ada"
        assert admin.members(group["id"]) == {user["id"]}
        # An owner never loaded is left out of answers, as Graph leaves out what it cannot resolve.
        assert admin.get(f"groups/{group['id']}/owners")["value"] == []
        assert [g["id"] for g in admin.get(f"users/{user['id']}/memberOf")["value"]] == [group["id"]]


def test_a_policy_naming_a_group_deleted_for_good_is_what_the_rehearsal_still_finds_different(
        repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    good = _snapshot(repo)
    group = admin.group("CA Exclusion - Break Glass")
    policy = next(p for p in admin.get("identity/conditionalAccess/policies")["value"]
                  if group["id"] in p["conditions"]["users"]["excludeGroups"])
    users = policy["conditions"]["users"]
    admin.call("PATCH", f"identity/conditionalAccess/policies/{policy['id']}",
               json={"conditions": {**policy["conditions"], "users": {**users, "excludeGroups": []}}})
    admin.call("DELETE", f"groups/{group['id']}")
    admin.call("DELETE", f"directory/deletedItems/{group['id']}")
    branches = {str(b) for b in repo.git.branches}
    sim.stats.reset()

    result = run("restore", "--repo", str(repo.root), "--at", good, "--id", policy["id"], "--rehearse", ok=False)

    assert result.exit_code == EXIT_REHEARSAL_FAILED
    assert "neither in the tenant nor brought back" in result.output
    assert "Still not restorable: 1 difference(s)" in result.output
    assert "found 1 difference(s) verification would still find" in result.output
    _nothing_written(sim, repo, branches)


def test_a_high_risk_write_is_rehearsed_without_accept_risk_and_the_rehearsal_says_a_real_run_needs_it(
        repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    policy = next(p for p in admin.get("identity/conditionalAccess/policies")["value"] if p["state"] == "enabled")
    path = f"identity/conditionalAccess/policies/{policy['id']}"
    admin.call("PATCH", path, json={"state": "disabled"})
    disabled = _snapshot(repo)
    admin.call("PATCH", path, json={"state": "enabled"})
    sim.stats.reset()

    result = run("restore", "--repo", str(repo.root), "--at", disabled, "--id", policy["id"], "--rehearse")

    assert "a real run writes them only with --accept-risk" in result.output
    assert "The rehearsal applied cleanly" in result.output
    assert sim.stats.writes == 0 and admin.get(path)["state"] == "enabled"


def test_a_group_made_again_shows_the_id_the_rehearsal_tenant_gave_and_the_real_tenant_gets_no_group(
        repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    good = _snapshot(repo)
    group = admin.group("CA Exclusion - Break Glass")
    admin.call("DELETE", f"groups/{group['id']}")
    admin.call("DELETE", f"directory/deletedItems/{group['id']}")
    sim.stats.reset()

    result = run("restore", "--repo", str(repo.root), "--at", good, "--id", group["id"], "--rehearse")

    [created] = [line.strip() for line in result.output.splitlines() if line.strip().startswith("created: ")]
    assert created.startswith(f"created: {group['id']} is now ")
    assert "the new ids shown are the rehearsal tenant's" in result.output
    assert "The rehearsal applied cleanly" in result.output
    assert sim.stats.writes == 0
    assert admin.get("groups", **{"$filter": "displayName eq 'CA Exclusion - Break Glass'"})["value"] == []


def test_a_rehearsal_re_adding_a_federated_credential_holds_the_apps_other_credentials(
        repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    app = admin.get("applications", **{"$filter": "displayName eq 'Expense Portal'"})["value"][0]
    base = f"applications/{app['id']}/federatedIdentityCredentials"
    credential = {"issuer": "https://token.actions.githubusercontent.com", "audiences": ["api://AzureADTokenExchange"]}
    deleted = admin.call("POST", base, json={**credential, "name": "deploy", "subject": "repo:contoso/app:prod"}).json()
    admin.call("POST", base, json={**credential, "name": "build", "subject": "repo:contoso/app:main"})
    good = _snapshot(repo)
    admin.call("DELETE", f"{base}/{deleted['id']}")
    admin.call("POST", base, json={**credential, "name": "backdoor", "subject": "repo:evil/x:main"})
    sim.stats.reset()

    result = run("restore", "--repo", str(repo.root), "--at", good, "--type", "applications", "--id", app["id"],
                 "--rehearse")

    # The rehearsal tenant holds the app's credentials as the real one does: the one added since is
    # there to remove, and the one kept is there, so verification finds nothing left.
    assert "Wrote 2 change(s)." in result.output
    assert "The rehearsal applied cleanly" in result.output, result.output
    assert sim.stats.writes == 0
    assert sorted(c["name"] for c in admin.get(base)["value"]) == ["backdoor", "build"]
