"""Delta queries as graph-behaviour §2 describes them, over real HTTPS: rounds, links, @removed, members@delta,
split groups, replays, token expiry and forced resync, and the query options delta refuses."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from deltaclient import DeltaReplica
from simclient import Graph, error_of, path_of

from entragit.sim import Simulator

DAY = 86400
USER_DEFAULTS = {
    "id", "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
    "preferredLanguage", "surname", "userPrincipalName",
}  # fmt: skip


def _initial(graph: Graph, path: str, headers: dict[str, str] | None = None) -> DeltaReplica:
    replica = DeltaReplica()
    replica.sync(graph, path, headers)
    return replica


def _member_user(graph: Graph) -> dict[str, Any]:
    """A Sales rank-and-file user (reports to the head, in static groups)."""
    users = graph.ok("users", {"$filter": "department eq 'Sales'", "$select": "id,jobTitle,mobilePhone"})["value"]
    return next(u for u in users if u["jobTitle"] != "VP Sales" and u["mobilePhone"])


def _memberships(sim: Simulator, group_id: str) -> set[str]:
    return set(sim.tenant.links["members"].get(group_id, ()))


def test_initial_round_returns_every_object_once_after_merging(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.delta_page_size = 40
    replica = DeltaReplica()
    items = replica.sync(fresh, "users/delta")
    users = fresh_sim.tenant.objects["users"]
    assert len(replica.pages) == -(-len(users) // 40)
    assert len(items) == len(users) and set(replica.objects) == set(users)
    assert all(set(user) <= USER_DEFAULTS for user in replica.objects.values())
    # Never-set properties are left out rather than returned as null (graph-behaviour §2).
    glass = next(u for u in replica.objects.values() if u["displayName"] == "Break Glass 1")
    assert "jobTitle" not in glass and "mail" not in glass
    assert replica.pages[0]["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#users"


def test_next_link_and_delta_link_never_together_and_carry_only_a_token(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.delta_page_size = 30
    replica = _initial(fresh, "users/delta?$select=displayName,jobTitle")
    *middle, last = replica.pages
    assert middle and all("@odata.nextLink" in p and "@odata.deltaLink" not in p for p in middle)
    assert "@odata.deltaLink" in last and "@odata.nextLink" not in last
    for link in [p["@odata.nextLink"] for p in middle] + [last["@odata.deltaLink"]]:
        assert link.startswith(f"{fresh_sim.graph_url}/v1.0/users/delta?")
        # Query options live in the opaque token; later URLs are used as given (graph-behaviour §2).
        assert {k for k, _ in parse_qsl(urlsplit(link).query)} <= {"$skiptoken", "$deltatoken"}
    assert all(set(u) <= {"id", "displayName", "jobTitle"} for u in replica.objects.values())


def test_no_change_gives_an_empty_page_and_a_new_delta_link(fresh: Graph) -> None:
    replica = _initial(fresh, "applications/delta")
    assert replica.sync(fresh) == []
    assert len(replica.pages) == 1 and replica.pages[0]["value"] == []
    assert set(replica.pages[0]) == {"@odata.context", "@odata.deltaLink", "value"}


def test_a_change_shows_up_with_its_new_value_merged_into_the_object(fresh: Graph, fresh_sim: Simulator) -> None:
    replica = _initial(fresh, "users/delta")
    user = _member_user(fresh)
    assert fresh.patch(f"users/{user['id']}", {"jobTitle": "Deal Closer"}).status_code == 204
    items = replica.sync(fresh)
    assert [item["id"] for item in items] == [user["id"]]
    # Every selected property that is set comes back, not only the changed one (graph-behaviour §2).
    assert items[0]["jobTitle"] == "Deal Closer" and items[0]["displayName"] and items[0]["userPrincipalName"]
    assert replica.objects[user["id"]]["jobTitle"] == "Deal Closer"


def test_a_cleared_property_comes_back_as_null(fresh: Graph, fresh_sim: Simulator) -> None:
    replica = _initial(fresh, "users/delta")
    user = _member_user(fresh)
    fresh.patch(f"users/{user['id']}", {"mobilePhone": None})
    items = replica.sync(fresh)
    assert "mobilePhone" in items[0] and items[0]["mobilePhone"] is None
    assert fresh.patch(f"users/{user['id']}", {"city": "Utrecht"}).status_code == 204
    again = replica.sync(fresh)  # city is not selected by default: the user does not reappear
    assert again == []


def test_select_limits_which_changes_make_an_object_reappear(fresh: Graph, fresh_sim: Simulator) -> None:
    replica = _initial(fresh, "users/delta?$select=displayName")
    user = _member_user(fresh)
    fresh.patch(f"users/{user['id']}", {"jobTitle": "Unwatched"})
    assert replica.sync(fresh) == []
    fresh.patch(f"users/{user['id']}", {"displayName": "Watched Name"})
    assert replica.sync(fresh) == [{"id": user["id"], "displayName": "Watched Name"}]


def test_soft_delete_is_removed_changed_restore_returns_it_and_purge_is_removed_deleted(fresh: Graph) -> None:
    replica = _initial(fresh, "users/delta")
    user = _member_user(fresh)
    before = dict(replica.objects[user["id"]])

    assert fresh.delete(f"users/{user['id']}").status_code == 204
    assert replica.sync(fresh) == [{"id": user["id"], "@removed": {"reason": "changed"}}]
    assert user["id"] not in replica.objects

    assert fresh.post(f"directory/deletedItems/{user['id']}/restore", {}).status_code == 200
    [back] = replica.sync(fresh)
    assert back["id"] == user["id"] and "@removed" not in back
    assert replica.objects[user["id"]] == before

    fresh.delete(f"users/{user['id']}")
    assert fresh.delete(f"directory/deletedItems/{user['id']}").status_code == 204
    # Soft-deleted and then purged between two rounds: the newest state, gone for good, is what counts.
    assert replica.sync(fresh) == [{"id": user["id"], "@removed": {"reason": "deleted"}}]


def test_an_object_without_a_recycle_bin_is_removed_deleted(fresh: Graph) -> None:
    replica = _initial(fresh, "groups/delta")
    synced = fresh.find("groups", "SG-FileShare-Finance")  # synced groups are deleted at once (graph-behaviour §7a)
    assert fresh.delete(f"groups/{synced['id']}").status_code == 204
    assert replica.sync(fresh) == [{"id": synced["id"], "@removed": {"reason": "deleted"}}]


def test_members_delta_reports_added_and_removed_members(fresh: Graph, fresh_sim: Simulator) -> None:
    replica = _initial(fresh, "groups/delta")
    team = fresh.find("groups", "Finance Team")
    members = sorted(_memberships(fresh_sim, team["id"]))
    outsider = fresh.ok("users", {"$filter": "department eq 'HR'"})["value"][0]
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{outsider['id']}"}
    assert fresh.post(f"groups/{team['id']}/members/$ref", ref).status_code == 204
    assert fresh.delete(f"groups/{team['id']}/members/{members[-1]}/$ref").status_code == 204
    items = replica.sync(fresh)
    assert [item["id"] for item in items] == [team["id"]]
    entries = {entry["id"]: entry for entry in items[0]["members@delta"]}
    assert entries[outsider["id"]] == {"@odata.type": "#microsoft.graph.user", "id": outsider["id"]}
    assert entries[members[-1]] == {"@odata.type": "#microsoft.graph.user", "id": members[-1], "@removed": {"reason": "deleted"}}
    assert replica.objects[team["id"]]["members"] == _memberships(fresh_sim, team["id"])
    # A deleted user is a removed member of every group it was in.
    fresh.delete(f"users/{outsider['id']}")
    items = replica.sync(fresh)
    assert {"@odata.type": "#microsoft.graph.user", "id": outsider["id"], "@removed": {"reason": "deleted"}} in items[0]["members@delta"]
    assert replica.objects[team["id"]]["members"] == _memberships(fresh_sim, team["id"])


def test_members_only_by_default_or_with_expand_and_never_for_empty_groups(fresh: Graph, fresh_sim: Simulator) -> None:
    body = {"displayName": "Nobody yet", "mailEnabled": False, "mailNickname": "nobodyyet", "securityEnabled": True}
    empty = fresh.post("groups", body).json()
    default = _initial(fresh, "groups/delta")
    for group_id, group in default.objects.items():
        assert ("members" in group) == bool(_memberships(fresh_sim, group_id))
    assert "members" not in default.objects[empty["id"]]
    selected = _initial(fresh, "groups/delta?$select=displayName,description")
    assert all("members" not in group for group in selected.objects.values())
    expanded = _initial(fresh, "groups/delta?$select=displayName,description&$expand=members")
    assert {gid: g.get("members", set()) for gid, g in expanded.objects.items()} == {
        gid: _memberships(fresh_sim, gid) for gid in fresh_sim.tenant.objects["groups"]
    }


def test_owners_are_tracked_when_selected_and_only_then(fresh: Graph, fresh_sim: Simulator) -> None:
    # group-delta: "track other changes like ownership ... by selecting any group relationship of type
    # directoryObject collection".
    def owners(group_id: str) -> set[str]:
        return set(fresh_sim.tenant.links["owners"].get(group_id, ()))

    plain = _initial(fresh, "groups/delta?$select=displayName")
    replica = _initial(fresh, "groups/delta?$select=displayName,owners&$expand=members")
    assert {gid: g.get("owners", set()) for gid, g in replica.objects.items()} == {
        gid: owners(gid) for gid in fresh_sim.tenant.objects["groups"]}
    assert any(replica.objects[gid].get("owners") for gid in replica.objects)
    team = fresh.find("groups", "Finance Team")
    outsider = fresh.ok("users", {"$filter": "department eq 'HR'"})["value"][0]
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{outsider['id']}"}
    assert fresh.post(f"groups/{team['id']}/owners/$ref", ref).status_code == 204
    items = replica.sync(fresh)
    assert [item["id"] for item in items] == [team["id"]]
    assert items[0]["owners@delta"] == [{"@odata.type": "#microsoft.graph.user", "id": outsider["id"]}]
    assert replica.objects[team["id"]]["owners"] == owners(team["id"])
    assert fresh.delete(f"groups/{team['id']}/owners/{outsider['id']}/$ref").status_code == 204
    items = replica.sync(fresh)
    assert items[0]["owners@delta"] == [{"@odata.type": "#microsoft.graph.user", "id": outsider["id"],
                                         "@removed": {"reason": "deleted"}}]
    # Not selected: an ownership change alone does not bring the group back.
    assert plain.sync(fresh) == []


def test_a_large_group_is_split_across_pages_and_merges_to_its_membership(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.delta_members_per_page = 5
    fresh_sim.settings.delta_page_size = 4
    replica = _initial(fresh, "groups/delta")
    sequence = [(page_no, item["id"]) for page_no, page in enumerate(replica.pages) for item in page["value"]]
    ids = [object_id for _, object_id in sequence]
    split = [gid for gid in set(ids) if ids.count(gid) > 1]
    assert split
    for gid in split:
        positions = [i for i, object_id in enumerate(ids) if object_id == gid]
        pages = {page_no for page_no, object_id in sequence if object_id == gid}
        assert len(pages) > 1  # the same id on later pages
        assert any(ids[i] != gid for i in range(positions[0], positions[-1]))  # other groups in between
    for gid in fresh_sim.tenant.objects["groups"]:
        assert replica.objects[gid].get("members", set()) == _memberships(fresh_sim, gid)
        assert replica.objects[gid]["displayName"]


def test_replays_repeat_objects_and_merging_stays_correct(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.delta_replay = True
    fresh_sim.settings.delta_page_size = 20
    replica = DeltaReplica()
    items = replica.sync(fresh, "users/delta")
    ids = [item["id"] for item in items]
    assert len(ids) > len(set(ids)) and set(ids) == set(fresh_sim.tenant.objects["users"])
    user = _member_user(fresh)
    fresh.patch(f"users/{user['id']}", {"jobTitle": "Replayed"})
    assert user["id"] in {item["id"] for item in replica.sync(fresh)}
    before = {k: dict(v) for k, v in replica.objects.items()}
    replayed = replica.sync(fresh)  # nothing changed, yet the last changed object comes again
    assert [item["id"] for item in replayed] == [user["id"]]
    assert replica.objects == before


def test_delta_links_expire_after_seven_simulated_days(fresh: Graph, fresh_sim: Simulator) -> None:
    replica = _initial(fresh, "users/delta")
    link = replica.link
    fresh_sim.clock.advance(7 * DAY - 60)
    fresh.renew()  # the access token from a week ago expired long since
    assert fresh.get(link).status_code == 200
    fresh_sim.clock.advance(120)
    expired = fresh.get(link)
    assert expired.status_code == 400
    assert error_of(expired) | {"innerError": None} == {
        "code": "syncStateNotFound",
        "message": "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
        "innerError": None,
    }
    fresh_sim.settings.delta_token_lifetime_days = 30
    assert fresh.get(link).status_code == 200


def test_forced_resync_is_410_with_the_initial_url(fresh: Graph, fresh_sim: Simulator) -> None:
    replica = _initial(fresh, "groups/delta?$select=displayName&$expand=members")
    fresh_sim.settings.delta_force_resync = True
    gone = fresh.get(replica.link)
    assert gone.status_code == 410
    location = gone.headers["Location"]
    assert location.startswith(f"{fresh_sim.graph_url}/v1.0/groups/delta?")
    assert parse_qsl(urlsplit(location).query, keep_blank_values=True) == [
        ("$select", "displayName"), ("$expand", "members"), ("$deltatoken", ""),
    ]  # fmt: skip
    restarted = _initial(fresh, location)
    assert restarted.objects == replica.objects


def test_deltatoken_latest_skips_the_initial_data(fresh: Graph, fresh_sim: Simulator) -> None:
    page = fresh.ok("users/delta", {"$deltatoken": "latest"})
    assert page["value"] == [] and "@odata.deltaLink" in page and "@odata.nextLink" not in page
    replica = DeltaReplica(link=page["@odata.deltaLink"])
    user = _member_user(fresh)
    fresh.patch(f"users/{user['id']}", {"jobTitle": "From now on"})
    assert [item["id"] for item in replica.sync(fresh)] == [user["id"]]


def test_return_minimal_sends_only_changed_properties(fresh: Graph, fresh_sim: Simulator) -> None:
    replica = _initial(fresh, "users/delta")
    link = replica.link
    user = _member_user(fresh)
    fresh.patch(f"users/{user['id']}", {"jobTitle": "Minimal", "mobilePhone": None})
    minimal = fresh.get(link, headers={"Prefer": "return=minimal"}).json()["value"]
    assert minimal == [{"id": user["id"], "jobTitle": "Minimal", "mobilePhone": None}]
    full = fresh.get(link).json()["value"]
    assert full[0]["displayName"] and full[0]["jobTitle"] == "Minimal"


def test_manager_can_be_tracked(fresh: Graph, fresh_sim: Simulator) -> None:
    replica = _initial(fresh, "users/delta?$select=displayName,manager")
    user = _member_user(fresh)
    old = fresh.ok(f"users/{user['id']}/manager")["id"]
    assert replica.objects[user["id"]]["manager"] == {old}
    ceo = fresh.ok("users", {"$filter": "jobTitle eq 'Chief Executive Officer'"})["value"][0]
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{ceo['id']}"}
    assert fresh.request("PUT", f"users/{user['id']}/manager/$ref", json=ref).status_code == 204
    items = replica.sync(fresh)
    assert sorted(items[0]["manager@delta"], key=lambda e: e["id"] != ceo["id"]) == [
        {"@odata.type": "#microsoft.graph.user", "id": ceo["id"]},
        {"@odata.type": "#microsoft.graph.user", "id": old, "@removed": {"reason": "deleted"}},
    ]
    assert replica.objects[user["id"]]["manager"] == {ceo["id"]}


@pytest.mark.parametrize(
    "path",
    [
        "users/delta?$top=5",
        "users/delta?$orderby=displayName",
        "users/delta?$expand=manager",
        "groups/delta?$expand=owners",
        "groups/delta?$top=5",
        "groups/delta?$filter=displayName eq 'Sales Team'",
    ],
)
def test_refused_query_options(graph: Graph, path: str) -> None:
    response = graph.get(path)
    assert response.status_code == 400, path
    assert error_of(response)["code"] == "Request_UnsupportedQuery"


def test_top_is_ignored_when_the_switch_says_so(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.delta_refuse_unsupported_options = False
    replica = _initial(fresh, "users/delta?$top=5")
    assert len(replica.objects) == len(fresh_sim.tenant.objects["users"])


def test_filter_by_ids_up_to_fifty(graph: Graph, sim: Simulator) -> None:
    ids = sorted(sim.tenant.objects["users"])
    two = " or ".join(f"id eq '{i}'" for i in ids[:2])
    replica = _initial(graph, f"users/delta?$filter={two}")
    assert set(replica.objects) == set(ids[:2])
    too_many = " or ".join(f"id eq '{i}'" for i in ids[:51])
    assert graph.get("users/delta", {"$filter": too_many}).status_code == 400


def test_every_delta_collection_and_the_long_function_name(graph: Graph, sim: Simulator) -> None:
    for name in ("users", "groups", "applications", "servicePrincipals", "administrativeUnits"):
        for function in ("delta", "microsoft.graph.delta"):
            replica = _initial(graph, f"{path_of(name)}/{function}")
            assert set(replica.objects) == set(sim.tenant.objects[name]), (name, function)


def test_empty_pages_switch_applies_to_delta(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.empty_pages = True
    fresh_sim.settings.delta_page_size = 50
    replica = _initial(fresh, "users/delta")
    assert any(page["value"] == [] and "@odata.nextLink" in page for page in replica.pages)
    assert set(replica.objects) == set(fresh_sim.tenant.objects["users"])


def test_delta_page_links_expire_with_the_skiptoken_switch(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.skiptoken_lifetime_seconds = 300
    link = fresh.ok("users/delta")["@odata.nextLink"]
    fresh_sim.clock.advance(301)
    expired = fresh.get(link)
    assert expired.status_code == 400
    assert error_of(expired)["code"] == "Directory_ExpiredPageToken"
