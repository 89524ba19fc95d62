"""Incremental snapshots (Graph delta queries) give exactly the tree a full read gives."""

from __future__ import annotations

from pathlib import Path

from entragit.config import Config
from entragit.registry import REGISTRY
from entragit.sim import Simulator
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo, init_repo
from tests.conftest import Admin


def _folder_trees(repo: BackupRepo) -> dict[str, str]:
    return {name: repo.git.git.rev_parse(f"HEAD:{name}") for name in REGISTRY
            if (repo.root / name).is_dir()}


def _full_twin(sim: Simulator, sim_info: Path, tmp_path: Path) -> BackupRepo:
    twin = init_repo(tmp_path / "twin", Config(tenant_id=sim.tenant_id, client_id=sim.client_id,
                                               simulator=str(sim_info)))
    take_snapshot(twin, full=True)
    return twin


def _ref(object_id: str) -> dict[str, str]:
    return {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{object_id}"}


def test_incremental_after_many_kinds_of_change_equals_a_full_read(repo: BackupRepo, sim: Simulator,
                                                                   admin: Admin, sim_info: Path,
                                                                   tmp_path: Path) -> None:
    take_snapshot(repo)
    finance, hr = admin.users("Finance"), admin.users("HR")
    team, crm = admin.group("HR Team"), admin.group("Sales - CRM Users")
    app = admin.get("applications", **{"$top": "1"})["value"][0]
    unit = admin.get("directory/administrativeUnits")["value"][0]
    admin.call("PATCH", f"users/{finance[0]['id']}", json={"jobTitle": "Treasurer", "officeLocation": None})
    admin.call("PATCH", f"users/{finance[1]['id']}", json={"onPremisesExtensionAttributes": {"extensionAttribute2": None}})
    admin.call("PUT", f"users/{finance[2]['id']}/manager/$ref", json=_ref(hr[0]["id"]))
    admin.call("POST", f"groups/{team['id']}/members/$ref", json=_ref(finance[3]["id"]))
    admin.call("DELETE", f"groups/{crm['id']}/members/{sorted(admin.members(crm['id']))[0]}/$ref")
    admin.call("POST", f"groups/{team['id']}/owners/$ref", json=_ref(finance[5]["id"]))  # group delta reports it (owners@delta)
    admin.call("POST", f"applications/{app['id']}/owners/$ref", json=_ref(hr[2]["id"]))
    admin.call("POST", f"directory/administrativeUnits/{unit['id']}/members/$ref", json=_ref(hr[3]["id"]))
    admin.call("PATCH", f"groups/{crm['id']}", json={"description": "CRM licences"})
    # Changed, its members not: they are kept from the last snapshot rather than read again.
    large = next(g for g in admin.get("groups", **{"$top": "999"})["value"]
                 if g["id"] not in (team["id"], crm["id"]) and len(admin.members(g["id"])) > 20)
    admin.call("PATCH", f"groups/{large['id']}", json={"description": "Reviewed"})
    admin.call("DELETE", f"users/{finance[4]['id']}")
    admin.call("POST", "users", json={
        "accountEnabled": True, "displayName": "New Hire", "mailNickname": "newhire", "department": "Finance",
        "userPrincipalName": f"newhire@{sim.tenant.domain}",
        "passwordProfile": {"password": "Correct-Horse-9", "forceChangePasswordNextSignIn": True}})

    sim.stats.reset()
    incremental = take_snapshot(repo)
    incremental_requests = sim.stats.requests

    assert incremental.modes["users"] == incremental.modes["groups"] == "delta"
    assert incremental.modes["conditionalAccessPolicies"] == "full"  # Graph has no delta for it
    sim.stats.reset()
    twin = _full_twin(sim, sim_info, tmp_path)
    assert _folder_trees(repo) == _folder_trees(twin)
    assert incremental.counts == {t: n for t, n in take_snapshot(twin, full=True).counts.items()}
    assert incremental_requests < sim.stats.requests  # cost follows change, not tenant size


def test_incremental_with_nothing_changed_makes_no_commit(repo: BackupRepo) -> None:
    take_snapshot(repo)
    head = repo.resolve("HEAD")
    result = take_snapshot(repo)
    assert result.commit is None and result.modes["users"] == "delta" and repo.resolve("HEAD") == head


def test_an_expired_delta_link_falls_back_to_a_full_read_of_that_type(repo: BackupRepo, sim: Simulator,
                                                                      admin: Admin, sim_info: Path,
                                                                      tmp_path: Path) -> None:
    take_snapshot(repo)
    user = admin.users("Support")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Week-old change"})
    sim.settings.delta_token_lifetime_days = 0.0001  # about nine seconds

    sim.clock.advance(60)
    result = take_snapshot(repo)

    assert result.modes["users"] == "full"
    assert any("users" in note and "syncStateNotFound" in note for note in result.notes)
    assert "Week-old change" in (repo.root / "users" / f"{user['id']}.yaml").read_text()
    sim.settings.delta_token_lifetime_days = 7
    assert _folder_trees(repo) == _folder_trees(_full_twin(sim, sim_info, tmp_path))


def test_a_forced_resync_falls_back_to_a_full_read(repo: BackupRepo, sim: Simulator, admin: Admin) -> None:
    take_snapshot(repo)
    sim.settings.delta_force_resync = True
    user = admin.users("Support")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "After the reset"})

    result = take_snapshot(repo)

    assert set(result.modes.values()) == {"full"}
    assert "After the reset" in (repo.root / "users" / f"{user['id']}.yaml").read_text()


def test_full_flag_reads_everything(repo: BackupRepo) -> None:
    take_snapshot(repo)
    assert set(take_snapshot(repo, full=True).modes.values()) == {"full"}


def test_a_delta_link_from_another_line_of_history_is_not_trusted(repo: BackupRepo, admin: Admin) -> None:
    take_snapshot(repo)
    user = admin.users("Support")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Hand-made"})
    # Someone commits by hand: the delta link no longer continues the state HEAD holds.
    (repo.root / "users" / f"{user['id']}.yaml").write_text(
        (repo.root / "users" / f"{user['id']}.yaml").read_text().replace("displayName:", "displayName: X"))
    repo.git.git.execute(["git", "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-qam", "edit"])

    result = take_snapshot(repo)

    assert result.modes["users"] == "full"
    assert "displayName: X" not in (repo.root / "users" / f"{user['id']}.yaml").read_text()


def _links_in_files(repo: BackupRepo, type_name: str, relationship: str) -> dict[str, list[str]]:
    return {i: obj.get(relationship, []) for i, obj in repo.read_objects("HEAD", REGISTRY[type_name]).items()}


def test_the_links_kept_beside_the_snapshots_stay_true_to_the_files(repo: BackupRepo, admin: Admin) -> None:
    # A restore learns from these who held an object, and an incremental read compares owners with them.
    groups, finance = REGISTRY["groups"], admin.users("Finance")
    take_snapshot(repo)
    admin.call("PATCH", f"users/{finance[0]['id']}", json={"jobTitle": "Treasurer"})
    assert take_snapshot(repo).modes["groups"] == "delta"  # nothing of the groups changed
    for relationship in ("members", "owners"):
        assert repo.side_files.links_at(repo.resolve("HEAD"), groups, relationship) == _links_in_files(repo, "groups", relationship)

    team = admin.group("HR Team")
    admin.call("POST", f"groups/{team['id']}/members/$ref", json=_ref(finance[3]["id"]))
    admin.call("POST", f"groups/{team['id']}/owners/$ref", json=_ref(finance[5]["id"]))
    take_snapshot(repo)

    head = repo.resolve("HEAD")
    for relationship in ("members", "owners"):
        assert repo.side_files.links_at(head, groups, relationship) == _links_in_files(repo, "groups", relationship)
    assert finance[3]["id"] in repo.side_files.links_at(head, groups, "members")[team["id"]]  # type: ignore[index]
    assert finance[5]["id"] in repo.side_files.links_at(head, groups, "owners")[team["id"]]  # type: ignore[index]


def test_a_groups_new_owner_comes_through_delta_without_reading_every_groups_owners(
        repo: BackupRepo, sim: Simulator, admin: Admin) -> None:
    for n in range(40):
        admin.call("POST", "groups", json={"displayName": f"Project {n}", "mailEnabled": False,
                                           "mailNickname": f"project{n}", "securityEnabled": True})
    take_snapshot(repo, ("groups",))
    team, finance = admin.group("HR Team"), admin.users("Finance")
    owned_before = {owner["id"] for owner in admin.get(f"groups/{team['id']}/owners")["value"]}
    admin.call("POST", f"groups/{team['id']}/owners/$ref", json=_ref(finance[5]["id"]))
    sim.stats.reset()
    assert take_snapshot(repo, ("groups",)).modes["groups"] == "delta"
    stored = repo.read_objects("HEAD", REGISTRY["groups"], [team["id"]])[team["id"]]
    assert set(stored["owners"]) == owned_before | {finance[5]["id"]}
    # The changed group and its owners, read afresh: not every group's owners, 15 groups a request.
    assert sim.stats.snapshot()["per_path"]["GET groups"] <= 2 < len(sim.tenant.objects["groups"]) // 15
