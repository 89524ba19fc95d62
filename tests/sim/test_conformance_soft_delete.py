"""Conformance: soft delete and the recycle bins (graph-behaviour §7 and §7a), over real HTTPS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from simclient import Graph, error_of

from entragit.sim import Settings, Simulator
from entragit.sim.model import GROUPS, blank_object

DAY = 86400
BIN = "directory/deletedItems"
CA_BIN = "identity/conditionalAccess/deletedItems"


def _member_ids(graph: Graph, path: str) -> set[str]:
    return {m["id"] for m in graph.all_pages(path)}


def _staff(graph: Graph, department: str) -> dict[str, Any]:
    """A cloud user of the department below its head: has a manager, is in the team group, owns nothing."""
    select = "id,userPrincipalName,jobTitle,onPremisesSyncEnabled"
    users = graph.ok("users", {"$filter": f"department eq '{department}'", "$select": select})
    heads = ("Chief Financial Officer", "HR Director", "COO", "CMO", "VP Sales", "VP Engineering", "Head of Support")
    return next(u for u in users["value"] if u["jobTitle"] not in heads and not u["onPremisesSyncEnabled"])


def _delete(graph: Graph, path: str) -> None:
    response = graph.delete(path)
    assert response.status_code == 204, response.text


def _restore(graph: Graph, path: str) -> dict[str, Any]:
    response = graph.request("POST", f"{path}/restore")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _add_group(sim: Simulator, name: str, **props: Any) -> str:
    """Kinds Graph cannot create (mail-enabled security, distribution) enter the tenant the way Exchange would."""
    group = blank_object(GROUPS)
    group.update({"id": str(uuid.uuid4()), "displayName": name, "mailNickname": name.replace(" ", ""), "groupTypes": [], **props})
    with sim.tenant.lock:
        sim.tenant.add(GROUPS, group)
    return str(group["id"])


def test_listing_the_bin_needs_the_type_cast(graph: Graph) -> None:
    response = graph.get(BIN)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "Request_UnsupportedQuery"
    assert error["message"] == "Searches against this resource are not supported. Only specific instances can be queried."


def test_a_deleted_user_moves_to_the_bin_with_its_properties(fresh: Graph, fresh_sim: Simulator) -> None:
    user = _staff(fresh, "Finance")
    full = fresh.ok(f"users/{user['id']}", {"$select": "id,displayName,department,jobTitle,mail,userPrincipalName"})
    _delete(fresh, f"users/{user['id']}")
    gone = fresh.get(f"users/{user['id']}")
    assert (gone.status_code, error_of(gone)["code"]) == (404, "Request_ResourceNotFound")
    assert fresh.get(f"directoryObjects/{user['id']}").status_code == 404

    listing = fresh.ok(f"{BIN}/microsoft.graph.user")
    # The directory bin names the type's entity set (directory-deleteditems-list example).
    assert listing["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#users"
    (item,) = [i for i in listing["value"] if i["id"] == user["id"]]
    assert item["deletedDateTime"].endswith("Z")
    # The UPN is prefixed with the id without hyphens, freeing the original (graph-behaviour §7).
    assert item["userPrincipalName"] == user["id"].replace("-", "") + user["userPrincipalName"]

    single = fresh.ok(f"{BIN}/{user['id']}")
    assert single["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#directoryObjects/$entity"
    assert single["@odata.type"] == "#microsoft.graph.user"
    kept = fresh.ok(f"{BIN}/{user['id']}", {"$select": "displayName,department,jobTitle,mail"})
    assert {k: kept[k] for k in ("displayName", "department", "jobTitle", "mail")} == {
        k: full[k] for k in ("displayName", "department", "jobTitle", "mail")
    }
    assert fresh.ok(f"{BIN}/microsoft.graph.group")["value"] == []


def test_restoring_a_user_brings_back_its_upn_links_and_dynamic_memberships(fresh: Graph, fresh_sim: Simulator) -> None:
    user = _staff(fresh, "Sales")
    team, dynamic = fresh.find("groups", "Sales Team"), fresh.find("groups", "All Sales (dynamic)")
    owned = fresh.find("groups", "Finance - SAP Users")
    assert fresh.post(f"groups/{owned['id']}/owners/$ref", {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{user['id']}"}).status_code == 204
    manager = fresh.ok(f"users/{user['id']}/manager")["id"]
    assert user["id"] in _member_ids(fresh, f"groups/{team['id']}/members") & _member_ids(fresh, f"groups/{dynamic['id']}/members")

    _delete(fresh, f"users/{user['id']}")
    assert user["id"] not in _member_ids(fresh, f"groups/{team['id']}/members")
    assert user["id"] not in _member_ids(fresh, f"users/{manager}/directReports")

    restored = _restore(fresh, f"{BIN}/{user['id']}")
    assert restored["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#directoryObjects/$entity"
    assert restored["@odata.type"] == "#microsoft.graph.user"
    assert (restored["id"], restored["userPrincipalName"]) == (user["id"], user["userPrincipalName"])
    assert fresh.ok(f"users/{user['id']}", {"$select": "deletedDateTime"})["deletedDateTime"] is None
    assert user["id"] in _member_ids(fresh, f"groups/{team['id']}/members")
    assert user["id"] in _member_ids(fresh, f"groups/{dynamic['id']}/members")
    assert user["id"] in _member_ids(fresh, f"groups/{owned['id']}/owners")
    assert fresh.ok(f"users/{user['id']}/manager")["id"] == manager
    assert fresh.get(f"{BIN}/{user['id']}").status_code == 404


def test_links_come_back_whichever_end_is_restored_first(fresh: Graph) -> None:
    user = _staff(fresh, "HR")
    group = fresh.find("groups", "HR Team")
    assert user["id"] in _member_ids(fresh, f"groups/{group['id']}/members")
    _delete(fresh, f"users/{user['id']}")
    _delete(fresh, f"groups/{group['id']}")  # a cloud security group: soft-deleted in 2026
    _restore(fresh, f"{BIN}/{user['id']}")
    _restore(fresh, f"{BIN}/{group['id']}")
    assert user["id"] in _member_ids(fresh, f"groups/{group['id']}/members")
    assert len(fresh.ok(f"groups/{group['id']}/owners")["value"]) == 1


def test_a_taken_upn_blocks_the_restore(fresh: Graph, fresh_sim: Simulator) -> None:
    user = _staff(fresh, "Marketing")
    _delete(fresh, f"users/{user['id']}")
    nickname = user["userPrincipalName"].split("@")[0]
    body = {"accountEnabled": True, "displayName": "Newcomer", "mailNickname": nickname,
            "userPrincipalName": user["userPrincipalName"], "passwordProfile": {"password": "x"}}
    assert fresh.post("users", body).status_code == 201  # the bin no longer holds the UPN
    refused = fresh.request("POST", f"{BIN}/{user['id']}/restore")
    assert refused.status_code == 400
    assert error_of(refused)["details"] == [{"target": "userPrincipalName", "code": "ObjectConflict"}]
    assert fresh.ok(f"{BIN}/{user['id']}")["id"] == user["id"]  # still in the bin


@pytest.mark.parametrize(
    ("name", "props", "soft"),
    [
        ("Microsoft 365", {"groupTypes": ["Unified"], "mailEnabled": True, "securityEnabled": False}, True),
        ("cloud security", {"mailEnabled": False, "securityEnabled": True}, True),
        ("mail-enabled security", {"mailEnabled": True, "securityEnabled": True}, False),
        ("distribution", {"mailEnabled": True, "securityEnabled": False}, False),
        ("synced from AD", {"mailEnabled": False, "securityEnabled": True, "onPremisesSyncEnabled": True}, False),
    ],
)
def test_which_groups_go_to_the_bin(fresh: Graph, fresh_sim: Simulator, name: str, props: dict[str, Any], soft: bool) -> None:
    group_id = _add_group(fresh_sim, name, **props)
    _delete(fresh, f"groups/{group_id}")
    assert fresh.get(f"groups/{group_id}").status_code == 404
    in_bin = fresh.get(f"{BIN}/{group_id}")
    assert in_bin.status_code == (200 if soft else 404)
    listed = {g["id"] for g in fresh.ok(f"{BIN}/microsoft.graph.group")["value"]}
    assert (group_id in listed) is soft


def test_security_groups_are_deleted_at_once_before_2026(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.security_groups_soft_delete = False
    security = fresh.find("groups", "Operations Team")
    unified = fresh.find("groups", "Leadership")
    _delete(fresh, f"groups/{security['id']}")
    _delete(fresh, f"groups/{unified['id']}")
    assert fresh.get(f"{BIN}/{security['id']}").status_code == 404
    assert [g["id"] for g in fresh.ok(f"{BIN}/microsoft.graph.group")["value"]] == [unified["id"]]


def test_a_restored_group_keeps_its_members_and_owners(fresh: Graph, fresh_sim: Simulator) -> None:
    group = fresh.find("groups", "Leadership")
    members, owners = _member_ids(fresh, f"groups/{group['id']}/members"), _member_ids(fresh, f"groups/{group['id']}/owners")
    _delete(fresh, f"groups/{group['id']}")
    item = fresh.ok(f"{BIN}/microsoft.graph.group")["value"][0]
    assert (item["id"], item["mail"], item["groupTypes"]) == (group["id"], group["mail"], ["Unified"])
    restored = _restore(fresh, f"{BIN}/{group['id']}")
    assert restored["@odata.type"] == "#microsoft.graph.group" and restored["deletedDateTime"] is None
    assert _member_ids(fresh, f"groups/{group['id']}/members") == members
    assert _member_ids(fresh, f"groups/{group['id']}/owners") == owners


def test_the_bin_pages_at_100_up_to_999_and_selects(fresh: Graph, fresh_sim: Simulator) -> None:
    staff = [u for u in fresh.all_pages("users", {"$select": "id,userType", "$top": "999"}) if u["userType"] == "Member"][:105]
    for user in staff:
        _delete(fresh, f"users/{user['id']}")
    first = fresh.ok(f"{BIN}/microsoft.graph.user")
    assert len(first["value"]) == 100 and "@odata.nextLink" in first
    assert len(fresh.all_pages(f"{BIN}/microsoft.graph.user")) == 105
    assert len(fresh.ok(f"{BIN}/microsoft.graph.user", {"$top": "999"})["value"]) == 105
    assert fresh.get(f"{BIN}/microsoft.graph.user", {"$top": "1000"}).status_code == 400
    selected = fresh.ok(f"{BIN}/microsoft.graph.user", {"$select": "displayName,deletedDateTime", "$top": "3"})
    assert selected["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#users(displayName,deletedDateTime)"
    assert all(set(item) == {"id", "displayName", "deletedDateTime"} for item in selected["value"])


def test_purge_is_204_and_final(fresh: Graph) -> None:
    user = _staff(fresh, "Operations")
    _delete(fresh, f"users/{user['id']}")
    _delete(fresh, f"{BIN}/{user['id']}")
    missing = fresh.get(f"{BIN}/{user['id']}")
    assert (missing.status_code, error_of(missing)["code"]) == (404, "Request_ResourceNotFound")
    assert fresh.request("POST", f"{BIN}/{user['id']}/restore").status_code == 404
    assert fresh.delete(f"{BIN}/{user['id']}").status_code == 404


def test_items_are_purged_after_30_simulated_days(fresh: Graph, fresh_sim: Simulator) -> None:
    user = _staff(fresh, "Support")
    _delete(fresh, f"users/{user['id']}")
    deleted = fresh.ok(f"{BIN}/{user['id']}", {"$select": "deletedDateTime"})["deletedDateTime"]
    fresh_sim.clock.advance(29 * DAY)
    later = Graph(fresh_sim)  # tokens expire with simulated time too
    assert later.ok(f"{BIN}/{user['id']}", {"$select": "deletedDateTime"})["deletedDateTime"] == deleted
    fresh_sim.clock.advance(1 * DAY + 1)
    later = Graph(fresh_sim)
    assert later.get(f"{BIN}/{user['id']}").status_code == 404
    assert later.ok(f"{BIN}/microsoft.graph.user")["value"] == []


def test_conditional_access_policies_have_their_own_bin(fresh: Graph, fresh_sim: Simulator) -> None:
    policy = fresh.find("identity/conditionalAccess/policies", "Require MFA for all users")
    assert policy["state"] == "enabled"
    _delete(fresh, f"identity/conditionalAccess/policies/{policy['id']}")
    missing = fresh.get(f"identity/conditionalAccess/policies/{policy['id']}")
    assert (missing.status_code, error_of(missing)["code"]) == (404, "itemNotFound")
    assert fresh.get(f"{BIN}/{policy['id']}").status_code == 404  # not a directory object

    listing = fresh.ok(f"{CA_BIN}/policies")
    assert listing["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#{CA_BIN}/policies"
    (item,) = listing["value"]
    assert item["id"] == policy["id"] and item["deletedDateTime"] and item["conditions"] == policy["conditions"]
    assert fresh.ok(f"{CA_BIN}/policies/{policy['id']}")["displayName"] == policy["displayName"]
    selected = fresh.ok(f"{CA_BIN}/policies", {"$select": "displayName,deletedDateTime"})["value"]
    assert selected == [{"id": policy["id"], "displayName": policy["displayName"], "deletedDateTime": item["deletedDateTime"]}]

    restored = _restore(fresh, f"{CA_BIN}/policies/{policy['id']}")
    assert restored["@odata.type"] == "#microsoft.graph.conditionalAccessPolicy"
    # graph-behaviour §7a: an enabled policy comes back in report-only mode.
    assert restored["state"] == "enabledForReportingButNotEnforced"
    assert set(restored) - {"@odata.context", "@odata.type"} == set(policy)  # no deletedDateTime left behind
    assert fresh.ok(f"identity/conditionalAccess/policies/{policy['id']}")["state"] == "enabledForReportingButNotEnforced"
    assert fresh.ok(f"{CA_BIN}/policies")["value"] == []

    fresh_sim.settings.ca_restore_report_only = False
    other = fresh.find("identity/conditionalAccess/policies", "Block legacy authentication")
    _delete(fresh, f"identity/conditionalAccess/policies/{other['id']}")
    assert _restore(fresh, f"{CA_BIN}/policies/{other['id']}")["state"] == "enabled"
    _delete(fresh, f"identity/conditionalAccess/policies/{other['id']}")
    _delete(fresh, f"{CA_BIN}/policies/{other['id']}")
    gone = fresh.get(f"{CA_BIN}/policies/{other['id']}")
    assert (gone.status_code, error_of(gone)["code"]) == (404, "itemNotFound")


def test_a_restored_named_location_is_no_longer_trusted(fresh: Graph) -> None:
    office = fresh.find("identity/conditionalAccess/namedLocations", "Head office")
    assert office["isTrusted"] is True
    _delete(fresh, f"identity/conditionalAccess/namedLocations/{office['id']}")
    (item,) = fresh.ok(f"{CA_BIN}/namedLocations")["value"]
    assert item["@odata.type"] == "#microsoft.graph.ipNamedLocation" and item["isTrusted"] is True
    assert fresh.get(f"{CA_BIN}/policies/{office['id']}").status_code == 404  # each kind has its own list
    restored = _restore(fresh, f"{CA_BIN}/namedLocations/{office['id']}")
    assert restored["isTrusted"] is False and restored["ipRanges"] == office["ipRanges"]
    assert fresh.ok(f"identity/conditionalAccess/namedLocations/{office['id']}")["isTrusted"] is False


@pytest.fixture
def moved_bin() -> Iterator[Simulator]:
    with Simulator(seed=7, size="small", settings=Settings(ca_recycle_path="policies/deletedItems")) as simulator:
        yield simulator


def test_the_conditional_access_bin_path_is_a_switch(moved_bin: Simulator) -> None:
    graph = Graph(moved_bin)
    policy = graph.find("identity/conditionalAccess/policies", "Block legacy authentication")
    _delete(graph, f"identity/conditionalAccess/policies/{policy['id']}")
    assert graph.get(f"{CA_BIN}/policies").status_code == 400
    assert [p["id"] for p in graph.ok("policies/deletedItems/policies")["value"]] == [policy["id"]]
