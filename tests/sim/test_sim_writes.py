"""Writes: PATCH semantics, refusals, $ref relationships, dynamic groups, manager, create and delete."""

from __future__ import annotations

from typing import Any

from simclient import Graph, error_of

from entragit.sim import Simulator
from entragit.sim.seed_declared import LICENSE_SKUS


def _user(fresh: Graph, department: str = "Sales") -> dict[str, Any]:
    """A rank-and-file member of the department: reports to its head, owns nothing, manages no one."""
    users = fresh.ok("users", {"$filter": f"department eq '{department}'", "$select": "id,displayName,onPremisesExtensionAttributes"})
    return next(u for u in users["value"] if u["onPremisesExtensionAttributes"]["extensionAttribute3"] != "L6")


def _ref(sim: Simulator, object_id: str, kind: str = "directoryObjects") -> dict[str, str]:
    return {"@odata.id": f"https://graph.microsoft.com/v1.0/{kind}/{object_id}"}


def test_patch_is_204_and_shows_on_get(fresh: Graph) -> None:
    user = _user(fresh)
    response = fresh.patch(f"users/{user['id']}", {"jobTitle": "Chief Deal Maker", "city": "Utrecht"})
    assert response.status_code == 204
    assert response.content == b""
    after = fresh.ok(f"users/{user['id']}", {"$select": "jobTitle,city,department"})
    assert (after["jobTitle"], after["city"], after["department"]) == ("Chief Deal Maker", "Utrecht", "Sales")


def test_patch_refusals(fresh: Graph) -> None:
    user = _user(fresh)
    cases = {
        "createdDateTime": "Property 'createdDateTime' is read-only and cannot be set.",
        "securityIdentifier": "Property 'securityIdentifier' is read-only and cannot be set.",
        "favouriteColour": "Property 'favouriteColour' does not exist as a declared property or extension property.",
    }
    for prop, message in cases.items():
        response = fresh.patch(f"users/{user['id']}", {prop: "x"})
        assert response.status_code == 400, prop
        assert error_of(response)["code"] == "Request_BadRequest"
        assert error_of(response)["message"] == message
    wrong_type = fresh.patch(f"users/{user['id']}", {"accountEnabled": "yes"})
    assert wrong_type.status_code == 400
    team = fresh.find("groups", "Sales Team")
    for prop, value in (("isAssignableToRole", True), ("securityEnabled", False), ("mail", "x@y.z")):
        response = fresh.patch(f"groups/{team['id']}", {prop: value})
        assert response.status_code == 400, prop
    assert fresh.patch(f"groups/{team['id']}", {"securityEnabled": True}).status_code == 204  # unchanged is fine
    assert fresh.patch("users/00000000-0000-0000-0000-000000000000", {"city": "x"}).status_code == 404


def test_extension_attributes_merge_key_by_key(fresh: Graph) -> None:
    user = _user(fresh)
    path = f"users/{user['id']}"
    before = fresh.ok(path, {"$select": "onPremisesExtensionAttributes"})["onPremisesExtensionAttributes"]
    assert len(before) == 15 and before["extensionAttribute1"].startswith("CC-SALES-")
    response = fresh.patch(
        path, {"onPremisesExtensionAttributes": {"extensionAttribute2": None, "extensionAttribute9": "nine"}}
    )
    assert response.status_code == 204
    after = fresh.ok(path, {"$select": "onPremisesExtensionAttributes"})["onPremisesExtensionAttributes"]
    assert after == {**before, "extensionAttribute2": None, "extensionAttribute9": "nine"}
    bad = fresh.patch(path, {"onPremisesExtensionAttributes": {"extensionAttribute16": "x"}})
    assert bad.status_code == 400


def test_complex_properties_are_replaced_and_ca_patch_stamps_modified(fresh: Graph) -> None:
    policy = fresh.find("identity/conditionalAccess/policies", "Require MFA for all users")
    path = f"identity/conditionalAccess/policies/{policy['id']}"
    grant = {"operator": "AND", "builtInControls": ["mfa", "compliantDevice"], "customAuthenticationFactors": [], "termsOfUse": []}
    assert fresh.patch(path, {"grantControls": grant, "state": "disabled"}).status_code == 204
    after = fresh.ok(path)
    assert after["grantControls"] == grant and after["state"] == "disabled"
    assert after["modifiedDateTime"] != policy["modifiedDateTime"]
    assert fresh.patch(path, {"state": "on"}).status_code == 400
    assert fresh.patch(path, {"templateId": "x"}).status_code == 400


def test_named_location_patch_needs_matching_odata_type(fresh: Graph) -> None:
    office = fresh.find("identity/conditionalAccess/namedLocations", "Head office")
    path = f"identity/conditionalAccess/namedLocations/{office['id']}"
    assert fresh.patch(path, {"isTrusted": False}).status_code == 400
    wrong = {"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "x"}
    assert fresh.patch(path, wrong).status_code == 400
    right = {"@odata.type": "#microsoft.graph.ipNamedLocation", "isTrusted": False}
    assert fresh.patch(path, right).status_code == 204
    after = fresh.ok(path)
    assert after["isTrusted"] is False and after["@odata.type"] == "#microsoft.graph.ipNamedLocation"
    assert after["modifiedDateTime"] != office["modifiedDateTime"]


def test_member_refs_add_remove_and_already_a_member(fresh: Graph, fresh_sim: Simulator) -> None:
    group = fresh.find("groups", "Finance - Payment Approvers")
    user = _user(fresh, "Marketing")
    members = f"groups/{group['id']}/members"
    assert fresh.post(f"{members}/$ref", _ref(fresh_sim, user["id"])).status_code == 204
    assert user["id"] in {m["id"] for m in fresh.all_pages(members)}
    again = fresh.post(f"{members}/$ref", {"@odata.id": f"https://elsewhere.example/v1.0/users/{user['id']}"})
    assert again.status_code == 400
    assert error_of(again)["message"] == (
        "One or more added object references already exist for the following modified properties: 'members'."
    )
    ghost = fresh.post(f"{members}/$ref", _ref(fresh_sim, "00000000-0000-0000-0000-0000000000aa"))
    assert ghost.status_code == 404
    assert fresh.delete(f"{members}/{user['id']}/$ref").status_code == 204
    assert user["id"] not in {m["id"] for m in fresh.all_pages(members)}
    assert fresh.delete(f"{members}/{user['id']}/$ref").status_code == 404
    member_of = fresh.all_pages(f"users/{user['id']}/memberOf")
    assert group["id"] not in {g["id"] for g in member_of}


def test_the_last_owner_cannot_be_removed(fresh: Graph, fresh_sim: Simulator) -> None:
    group = fresh.find("groups", "HR - Workday Admins")
    owners = f"groups/{group['id']}/owners"
    (head,) = fresh.ok(owners)["value"]
    refused = fresh.delete(f"{owners}/{head['id']}/$ref")
    assert refused.status_code == 400
    deputy = _user(fresh, "HR")
    assert fresh.post(f"{owners}/$ref", _ref(fresh_sim, deputy["id"])).status_code == 204
    assert fresh.delete(f"{owners}/{head['id']}/$ref").status_code == 204
    assert [o["id"] for o in fresh.ok(owners)["value"]] == [deputy["id"]]


def test_dynamic_groups_refuse_member_writes(fresh: Graph, fresh_sim: Simulator) -> None:
    group = fresh.find("groups", "All Sales (dynamic)")
    user = _user(fresh, "Finance")
    add = fresh.post(f"groups/{group['id']}/members/$ref", _ref(fresh_sim, user["id"]))
    assert add.status_code == 403
    assert error_of(add)["code"] == "Authorization_RequestDenied"
    assert error_of(add)["message"] == "Insufficient privileges to complete the operation."
    member = fresh.ok(f"groups/{group['id']}/members", {"$top": "1"})["value"][0]
    assert fresh.delete(f"groups/{group['id']}/members/{member['id']}/$ref").status_code == 403
    fresh_sim.settings.dynamic_member_write_status = 400
    add = fresh.post(f"groups/{group['id']}/members/$ref", _ref(fresh_sim, user["id"]))
    assert add.status_code == 400
    assert error_of(add)["code"] == "Request_BadRequest"


def test_dynamic_membership_follows_user_attributes(fresh: Graph) -> None:
    all_sales = fresh.find("groups", "All Sales (dynamic)")
    emea = fresh.find("groups", "Sales EMEA (dynamic)")

    def members(group: dict[str, Any]) -> set[str]:
        return {m["id"] for m in fresh.all_pages(f"groups/{group['id']}/members")}

    emea_member = sorted(members(emea))[0]
    assert emea_member in members(all_sales)
    attributes = fresh.ok(f"users/{emea_member}", {"$select": "onPremisesExtensionAttributes"})["onPremisesExtensionAttributes"]

    blank = {"onPremisesExtensionAttributes": {"extensionAttribute1": None}}
    assert fresh.patch(f"users/{emea_member}", blank).status_code == 204
    assert emea_member not in members(emea)
    restore = {"onPremisesExtensionAttributes": {"extensionAttribute1": attributes["extensionAttribute1"]}}
    assert fresh.patch(f"users/{emea_member}", restore).status_code == 204
    assert emea_member in members(emea)

    assert fresh.patch(f"users/{emea_member}", {"department": "Finance"}).status_code == 204
    assert emea_member not in members(all_sales)
    groups_of_user = {g["displayName"] for g in fresh.all_pages(f"users/{emea_member}/memberOf")}
    assert "All Sales (dynamic)" not in groups_of_user

    finance_user = _user(fresh, "Finance")
    rule = {"membershipRule": '(user.department -eq "Finance") -or (user.department -eq "Sales")'}
    assert fresh.patch(f"groups/{all_sales['id']}", rule).status_code == 204
    assert {finance_user["id"], emea_member} <= members(all_sales)
    assert fresh.patch(f"groups/{all_sales['id']}", {"membershipRule": "user.department = 1"}).status_code == 400


def test_manager_get_put_delete(fresh: Graph, fresh_sim: Simulator) -> None:
    user = _user(fresh)
    manager = fresh.ok(f"users/{user['id']}/manager")
    assert manager["@odata.type"] == "#microsoft.graph.user"
    other = _user(fresh, "HR")
    ref = _ref(fresh_sim, other["id"], "users")
    assert fresh.request("PUT", f"users/{user['id']}/manager/$ref", json=ref).status_code == 204
    assert fresh.ok(f"users/{user['id']}/manager")["id"] == other["id"]
    reports = fresh.all_pages(f"users/{other['id']}/directReports")
    assert [r["id"] for r in reports] == [user["id"]]
    assert fresh.delete(f"users/{user['id']}/manager/$ref").status_code == 204
    missing = fresh.get(f"users/{user['id']}/manager")
    assert missing.status_code == 404
    assert error_of(missing)["message"] == (
        "Resource 'manager' does not exist or one of its queried reference-property objects are not present."
    )


def test_create_and_delete(fresh: Graph, fresh_sim: Simulator) -> None:
    body = {
        "accountEnabled": True,
        "displayName": "New Starter",
        "mailNickname": "new.starter",
        "userPrincipalName": f"new.starter@{fresh_sim.tenant.domain}",
        "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": "x"},
        "department": "Sales",
    }
    created = fresh.post("users", body)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["displayName"] == "New Starter" and "passwordProfile" not in user
    all_sales = fresh.find("groups", "All Sales (dynamic)")
    assert user["id"] in {m["id"] for m in fresh.all_pages(f"groups/{all_sales['id']}/members")}

    duplicate = fresh.post("users", body)
    assert duplicate.status_code == 400
    assert error_of(duplicate)["details"] == [{"target": "userPrincipalName", "code": "ObjectConflict"}]
    incomplete = fresh.post("users", {k: v for k, v in body.items() if k != "passwordProfile"})
    assert incomplete.status_code == 400

    group = fresh.post(
        "groups",
        {
            "displayName": "Temp",
            "mailEnabled": False,
            "mailNickname": "temp",
            "securityEnabled": True,
            "members@odata.bind": [f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"],
        },
    )
    assert group.status_code == 201, group.text
    assert [m["id"] for m in fresh.ok(f"groups/{group.json()['id']}/members")["value"]] == [user["id"]]

    assert fresh.delete(f"users/{user['id']}").status_code == 204
    assert fresh.get(f"users/{user['id']}").status_code == 404
    assert fresh.ok(f"groups/{group.json()['id']}/members")["value"] == []


def test_assign_license_adds_and_removes_the_tenants_skus(fresh: Graph) -> None:
    user = _user(fresh)
    path = f"users/{user['id']}"
    [held] = fresh.ok(path, {"$select": "assignedLicenses"})["assignedLicenses"]
    other = next(sku for sku in LICENSE_SKUS if sku != held["skuId"])
    swapped = fresh.post(f"{path}/assignLicense", {"addLicenses": [{"skuId": other, "disabledPlans": []}],
                                                    "removeLicenses": [held["skuId"]]})
    assert swapped.status_code == 200
    assert swapped.json()["id"] == user["id"]
    assert fresh.ok(path, {"$select": "assignedLicenses"})["assignedLicenses"] == [{"disabledPlans": [], "skuId": other}]
    refusals = {
        "a license the user does not hold": {"addLicenses": [], "removeLicenses": [held["skuId"]]},
        "a SKU the tenant does not subscribe to": {"addLicenses": [{"skuId": "00000000-0000-0000-0000-00000000beef"}],
                                                   "removeLicenses": []},
        "no removeLicenses": {"addLicenses": []},
    }
    for case, body in refusals.items():
        response = fresh.post(f"{path}/assignLicense", body)
        assert (response.status_code, error_of(response)["code"]) == (400, "Request_BadRequest"), case
