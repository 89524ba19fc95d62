"""Conformance: write rules of graph-behaviour §5 and §6, one test per behaviour, over real HTTPS."""

from __future__ import annotations

from typing import Any

import pytest
from simclient import Graph, assert_error

from entragit.sim import Simulator

MASTERED_MESSAGE = (
    "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently "
    "undergoing migration."
)


def _ref(object_id: str) -> dict[str, str]:
    return {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{object_id}"}


def _new_user(graph: Graph, sim: Simulator, nickname: str, **extra: Any) -> dict[str, Any]:
    body = {
        "accountEnabled": True,
        "displayName": nickname.replace(".", " ").title(),
        "mailNickname": nickname,
        "userPrincipalName": f"{nickname}@{sim.tenant.domain}",
        "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": "x"},
        **extra,
    }
    response = graph.post("users", body)
    assert response.status_code == 201, response.text
    return dict(response.json())




def _synced(graph: Graph, kind: str) -> list[dict[str, Any]]:
    listed = graph.all_pages(kind, {"$select": "id,displayName,onPremisesSyncEnabled", "$top": "999"})
    return [obj for obj in listed if obj["onPremisesSyncEnabled"] is True]


# --- status codes of successful writes --------------------------------------------------------------------------


def test_create_is_201_with_the_full_object(fresh: Graph, fresh_sim: Simulator) -> None:
    user = _new_user(fresh, fresh_sim, "ada.lovelace", jobTitle="Analyst")
    assert user["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#users/$entity"
    assert user["jobTitle"] == "Analyst" and user["userPrincipalName"].startswith("ada.lovelace@")
    assert "passwordProfile" not in user  # write-only (graph-behaviour §6)
    group = fresh.post(
        "groups", {"displayName": "Analysts", "mailEnabled": False, "mailNickname": "analysts", "securityEnabled": True}
    )
    assert group.status_code == 201
    created = group.json()
    assert created["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#groups/$entity"
    # The whole group comes back, server-computed properties included.
    for prop in ("id", "createdDateTime", "securityIdentifier", "renewedDateTime", "groupTypes", "mail", "visibility"):
        assert prop in created, prop
    assert created["securityIdentifier"].startswith("S-1-12-1-")


def test_patch_delete_and_ref_writes_are_204_without_a_body(fresh: Graph, fresh_sim: Simulator) -> None:
    user = _new_user(fresh, fresh_sim, "grace.hopper")
    group = fresh.find("groups", "Finance - SAP Users")
    boss = fresh.find("users", "Break Glass 1")
    writes = [
        ("PATCH", f"users/{user['id']}", {"city": "Arlington"}),
        ("POST", f"groups/{group['id']}/members/$ref", _ref(user["id"])),
        ("POST", f"groups/{group['id']}/owners/$ref", _ref(user["id"])),
        ("DELETE", f"groups/{group['id']}/members/{user['id']}/$ref", None),
        ("PUT", f"users/{user['id']}/manager/$ref", _ref(boss["id"])),
        ("DELETE", f"users/{user['id']}/manager/$ref", None),
        ("PATCH", f"groups/{group['id']}", {"members@odata.bind": [_ref(user["id"])["@odata.id"]]}),
        ("DELETE", f"users/{user['id']}", None),
    ]
    for method, path, body in writes:
        response = fresh.request(method, path, json=body)
        assert response.status_code == 204, (method, path, response.text)
        assert response.content == b"" and "Content-Length" not in response.headers


# --- refusals ---------------------------------------------------------------------------------------------------


def test_adding_a_member_twice_is_400_whichever_way(fresh: Graph) -> None:
    group = fresh.find("groups", "Leadership")
    member = fresh.ok(f"groups/{group['id']}/members", {"$top": "1"})["value"][0]
    message = "One or more added object references already exist for the following modified properties: 'members'."
    assert_error(fresh.post(f"groups/{group['id']}/members/$ref", _ref(member["id"])), 400, "Request_BadRequest", message)
    bind = {"members@odata.bind": [_ref(member["id"])["@odata.id"]]}
    assert_error(fresh.patch(f"groups/{group['id']}", bind), 400, "Request_BadRequest", message)


def test_the_last_owner_cannot_be_removed(fresh: Graph) -> None:
    group = fresh.find("groups", "Marketing Team")
    (owner,) = fresh.ok(f"groups/{group['id']}/owners")["value"]
    assert_error(fresh.delete(f"groups/{group['id']}/owners/{owner['id']}/$ref"), 400, "Request_BadRequest")
    assert [o["id"] for o in fresh.ok(f"groups/{group['id']}/owners")["value"]] == [owner["id"]]


def test_dynamic_groups_refuse_member_writes_with_a_switchable_status(fresh: Graph, fresh_sim: Simulator) -> None:
    group = fresh.find("groups", "All Support (dynamic)")
    outsider = fresh.find("users", "Break Glass 2")
    member = fresh.ok(f"groups/{group['id']}/members", {"$top": "1"})["value"][0]
    attempts = [
        ("POST", f"groups/{group['id']}/members/$ref", _ref(outsider["id"])),
        ("DELETE", f"groups/{group['id']}/members/{member['id']}/$ref", None),
        ("PATCH", f"groups/{group['id']}", {"members@odata.bind": [_ref(outsider["id"])["@odata.id"]]}),
    ]
    for method, path, body in attempts:
        response = fresh.request(method, path, json=body)
        assert_error(response, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    fresh_sim.settings.dynamic_member_write_status = 400  # graph-behaviour §10: some tenants answer 400
    for method, path, body in attempts:
        assert_error(fresh.request(method, path, json=body), 400, "Request_BadRequest")
    # The rule itself stays writable (graph-behaviour §6).
    assert fresh.patch(f"groups/{group['id']}", {"membershipRule": '(user.department -eq "HR")'}).status_code == 204


@pytest.mark.parametrize(
    "prop",
    ["signInSessionsValidFromDateTime", "createdDateTime", "onPremisesSyncEnabled", "proxyAddresses", "securityIdentifier",
     "assignedLicenses"],
)
def test_read_only_user_properties_are_refused(graph: Graph, prop: str) -> None:
    user = graph.find("users", "Break Glass 1")
    value: Any = True if prop == "onPremisesSyncEnabled" else (["smtp:x@y.z"] if prop == "proxyAddresses" else "2024-01-01T00:00:00Z")
    response = graph.patch(f"users/{user['id']}", {prop: value})
    assert_error(response, 400, "Request_BadRequest", f"Property '{prop}' is read-only and cannot be set.")


def test_create_only_group_properties_are_refused_on_patch(fresh: Graph) -> None:
    team = fresh.find("groups", "HR Team")
    for prop, value in (("isAssignableToRole", True), ("mailEnabled", True), ("securityEnabled", False)):
        error = assert_error(fresh.patch(f"groups/{team['id']}", {prop: value}), 400, "Request_BadRequest")
        assert prop in error["message"]
    leadership = fresh.find("groups", "Leadership")
    hidden = fresh.patch(f"groups/{leadership['id']}", {"visibility": "HiddenMembership"})
    assert_error(hidden, 400, "Request_BadRequest")
    policy = fresh.find("identity/conditionalAccess/policies", "Require MFA for all users")
    # The Conditional Access backend answers with generic codes (graph-behaviour §5).
    ca = fresh.patch(f"identity/conditionalAccess/policies/{policy['id']}", {"templateId": "x"})
    assert_error(ca, 400, "BadRequest", "Property 'templateId' is read-only and cannot be set.")


def test_seeded_synced_users_look_synced(graph: Graph) -> None:
    synced = _synced(graph, "users")
    assert len(synced) >= 3
    props = "onPremisesSyncEnabled,onPremisesImmutableId,onPremisesSamAccountName,onPremisesDistinguishedName," \
        "onPremisesDomainName,onPremisesUserPrincipalName,onPremisesSecurityIdentifier,onPremisesLastSyncDateTime"
    user = graph.ok(f"users/{synced[0]['id']}", {"$select": props})
    assert all(user[p] for p in props.split(",")), user
    assert user["onPremisesDistinguishedName"].startswith("CN=") and ",DC=" in user["onPremisesDistinguishedName"]
    assert user["onPremisesUserPrincipalName"].endswith("@" + user["onPremisesDomainName"])
    assert user["onPremisesSecurityIdentifier"].startswith("S-1-5-21-")
    assert len(_synced(graph, "groups")) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"businessPhones": ["+1 555 0100"]},
        {"mobilePhone": "+1 555 0101"},
        {"onPremisesExtensionAttributes": {"extensionAttribute5": "x"}},
        {"department": "Sales", "usageLocation": "US"},  # one mastered attribute refuses the whole request
    ],
)
def test_synced_users_refuse_writes_to_mastered_attributes(fresh: Graph, change: dict[str, Any]) -> None:
    user = _synced(fresh, "users")[0]
    before = fresh.ok(f"users/{user['id']}", {"$select": ",".join(change)})
    assert_error(fresh.patch(f"users/{user['id']}", change), 400, "Request_BadRequest", MASTERED_MESSAGE)
    assert fresh.ok(f"users/{user['id']}", {"$select": ",".join(change)}) == before


def test_synced_users_accept_cloud_attributes_and_the_unconfirmed_list_is_a_switch(fresh: Graph, fresh_sim: Simulator) -> None:
    user = _synced(fresh, "users")[0]
    assert fresh.patch(f"users/{user['id']}", {"usageLocation": "NL", "preferredLanguage": "nl-NL"}).status_code == 204
    assert_error(fresh.patch(f"users/{user['id']}", {"jobTitle": "Controller"}), 400, "Request_BadRequest", MASTERED_MESSAGE)
    fresh_sim.settings.synced_refuses_unconfirmed = False
    assert fresh.patch(f"users/{user['id']}", {"jobTitle": "Controller"}).status_code == 204
    # The documented three stay refused whatever the switch says.
    assert_error(fresh.patch(f"users/{user['id']}", {"mobilePhone": "1"}), 400, "Request_BadRequest", MASTERED_MESSAGE)


def test_cloud_users_may_write_what_synced_users_may_not(fresh: Graph) -> None:
    user = fresh.find("users", "Break Glass 1")
    change = {"businessPhones": ["+1 555 0100"], "mobilePhone": "+1 555 0101", "onPremisesImmutableId": "abc=="}
    assert fresh.patch(f"users/{user['id']}", change).status_code == 204


def test_synced_groups_refuse_member_writes(fresh: Graph) -> None:
    group = _synced(fresh, "groups")[0]
    user = fresh.find("users", "Break Glass 1")
    assert_error(fresh.post(f"groups/{group['id']}/members/$ref", _ref(user["id"])), 400, "Request_BadRequest", MASTERED_MESSAGE)
    assert_error(fresh.patch(f"groups/{group['id']}", {"displayName": "x"}), 400, "Request_BadRequest", MASTERED_MESSAGE)


def test_duplicate_user_principal_name_is_an_object_conflict(fresh: Graph, fresh_sim: Simulator) -> None:
    first = _new_user(fresh, fresh_sim, "alan.turing")
    second = _new_user(fresh, fresh_sim, "alan.turing2")
    message = "Another object with the same value for property userPrincipalName already exists."
    conflict = [{"target": "userPrincipalName", "code": "ObjectConflict"}]
    body = {
        "accountEnabled": True,
        "displayName": "Impostor",
        "mailNickname": "impostor",
        "userPrincipalName": first["userPrincipalName"].upper(),  # UPNs compare case-insensitively
        "passwordProfile": {"password": "x"},
    }
    created = assert_error(fresh.post("users", body), 400, "Request_BadRequest", message)
    assert created["details"] == conflict
    patched = fresh.patch(f"users/{second['id']}", {"userPrincipalName": first["userPrincipalName"]})
    assert assert_error(patched, 400, "Request_BadRequest", message)["details"] == conflict
    assert fresh.ok(f"users/{second['id']}")["userPrincipalName"] == second["userPrincipalName"]
