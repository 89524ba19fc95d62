"""Requests as Microsoft's documentation pages and generated SDKs send them, answered as those pages show.

Each test restates a documented request and the answer its page shows, in this project's own data, and names
the page (learn.microsoft.com/graph/api/<page>?view=graph-rest-1.0). Covers the five ways the simulator once
answered differently from Graph: function-call URLs, nested objects on PATCH, case, over-strict checks and
missing routes and properties.
"""

from __future__ import annotations

from typing import Any

import pytest
from simclient import Graph
from tuned import batch_of, by_id

# --- function-call URLs: Microsoft's generated SDKs send delta() ----------------------------------------------

# Every collection with a delta function (user-delta, group-delta, application-delta, serviceprincipal-delta,
# administrativeunit-delta, oauth2permissiongrant-delta) and a property of it to $select.
DELTA_COLLECTIONS = {
    "users": "displayName",
    "groups": "displayName",
    "applications": "displayName",
    "servicePrincipals": "displayName",
    "directory/administrativeUnits": "displayName",
    "oauth2PermissionGrants": "scope",
}


def _round(graph: Graph, url: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A delta round's items and its last page."""
    items: list[dict[str, Any]] = []
    while True:
        response = graph.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["value"]
        if "@odata.nextLink" not in page:
            return items, page
        url = page["@odata.nextLink"]


@pytest.mark.parametrize("collection", DELTA_COLLECTIONS)
@pytest.mark.parametrize("function", ["delta()", "microsoft.graph.delta()"])
def test_delta_as_a_function_call_answers_as_delta(graph: Graph, collection: str, function: str) -> None:
    select = DELTA_COLLECTIONS[collection]
    plain, plain_last = _round(graph, f"{collection}/delta?$select={select}")
    called, called_last = _round(graph, f"{collection}/{function}?$select={select}")
    assert called == plain and called
    assert all(set(item) <= {"id", select, "@odata.type"} for item in called)
    # The context names the collection and the selection, and the round ends with a deltaLink (user-delta).
    assert called_last["@odata.context"] == plain_last["@odata.context"]
    assert called_last["@odata.context"].endswith(f"({select})")
    assert "@odata.deltaLink" in called_last
    follow_up, _ = _round(graph, called_last["@odata.deltaLink"])
    assert follow_up == []


def test_delta_function_calls_inside_a_batch(graph: Graph) -> None:
    response = graph.post("$batch", batch_of(
        {"method": "GET", "url": "/users/delta()?$select=displayName,givenName,surname"},
        {"method": "GET", "url": "groups/delta()?$select=displayName,description&$expand=members"},
        {"method": "GET", "url": "/directory/administrativeUnits/microsoft.graph.delta()"},
    ))
    answers = by_id(response)
    assert [answers[n]["status"] for n in "123"] == [200, 200, 200], answers
    users = answers["1"]["body"]
    assert users["@odata.context"].endswith("$metadata#users(displayName,givenName,surname)")
    assert users["value"] and all(set(u) <= {"id", "displayName", "givenName", "surname"} for u in users["value"])
    assert any("members@delta" in g for g in answers["2"]["body"]["value"])
    assert answers["3"]["body"]["value"]


# --- case: enum values in any case, answered in Graph's; keys matched in any case ------------------------------


def _dynamic_group(graph: Graph) -> dict[str, Any]:
    """group-post-groups, "Create a group with dynamic membership" (own names)."""
    response = graph.post("groups", {
        "description": "Marketing department folks", "displayName": "Marketing department", "groupTypes": ["DynamicMembership"],
        "mailEnabled": False, "mailNickname": "marketing", "securityEnabled": True,
        "membershipRule": 'user.department -eq "Marketing"', "membershipRuleProcessingState": "on",
    })
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_enum_values_are_accepted_in_any_case_and_answered_in_graphs(fresh: Graph) -> None:
    group = _dynamic_group(fresh)
    assert group["membershipRuleProcessingState"] == "On"
    assert fresh.patch(f"groups/{group['id']}", {"membershipRuleProcessingState": "PAUSED"}).status_code == 204
    assert fresh.ok(f"groups/{group['id']}")["membershipRuleProcessingState"] == "Paused"
    assert fresh.patch(f"groups/{group['id']}", {"membershipRuleProcessingState": "Off"}).status_code == 400

    policy = fresh.ok("identity/conditionalAccess/policies")["value"][0]
    path = f"identity/conditionalAccess/policies/{policy['id']}"
    assert fresh.patch(path, {"state": "EnabledForReportingButNotEnforced"}).status_code == 204
    assert fresh.ok(path)["state"] == "enabledForReportingButNotEnforced"


def test_method_configuration_ids_match_in_any_case(fresh: Graph) -> None:
    # fido2authenticationmethodconfiguration-update: the page's request names the configuration in lower case.
    # (The page writes isAttestationEnforced as the string "true"; sent here as the Boolean its resource declares.)
    path = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
    response = fresh.patch(path, {
        "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "state": "enabled", "isAttestationEnforced": True,
    })
    assert response.status_code == 204, response.text
    configuration = fresh.ok(path)
    assert configuration["id"] == "Fido2" and configuration["state"] == "enabled"
    assert configuration["isAttestationEnforced"] is True
    assert fresh.ok(path.upper().replace("POLICIES/", "policies/"))["id"] == "Fido2"
    assert fresh.get(f"{path}x").status_code == 404


# --- too strict ---------------------------------------------------------------------------------------------


def test_an_update_may_repeat_the_objects_own_id(fresh: Graph) -> None:
    group = fresh.ok("groups", {"$top": "1"})["value"][0]
    response = fresh.patch(f"groups/{group['id']}", {"id": group["id"].upper(), "description": "Repeats its id"})
    assert response.status_code == 204, response.text
    assert fresh.ok(f"groups/{group['id']}")["description"] == "Repeats its id"
    other = "00000000-0000-0000-0000-000000000001"
    assert fresh.patch(f"groups/{group['id']}", {"id": other, "description": "Another id"}).status_code == 400
    assert fresh.ok(f"groups/{group['id']}")["description"] == "Repeats its id"


def test_a_created_strength_may_carry_requirements_satisfied(fresh: Graph) -> None:
    # authenticationstrengthroot-post-policies, with the requirementsSatisfied its own answer shows repeated.
    response = fresh.post("policies/authenticationStrengthPolicies", {
        "@odata.type": "#microsoft.graph.authenticationStrengthPolicy",
        "displayName": "Contoso authentication level",
        "description": "The only authentication level allowed to access our secret apps",
        "requirementsSatisfied": "mfa",
        "allowedCombinations": ["password, hardwareOath", "password, sms"],
    })
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["policyType"] == "custom" and created["requirementsSatisfied"] == "mfa"
    assert created["allowedCombinations"] == ["password, hardwareOath", "password, sms"]
    assert created["combinationConfigurations"] == []


def test_an_application_created_with_a_password_answers_its_secret_once(fresh: Graph) -> None:
    # application-post-applications, "Create a new application and add a password secret".
    response = fresh.post("applications", {"displayName": "MyAppName", "passwordCredentials": [{"displayName": "MyAppSecret"}]})
    assert response.status_code == 201, response.text
    created = response.json()
    [credential] = created["passwordCredentials"]
    assert credential["displayName"] == "MyAppSecret" and len(credential["secretText"]) >= 40
    assert credential["hint"] == credential["secretText"][:3] and credential["keyId"]
    assert credential["startDateTime"] < credential["endDateTime"]
    [kept] = fresh.ok(f"applications/{created['id']}")["passwordCredentials"]
    assert kept == {**credential, "secretText": None}
    refused = fresh.post("applications", {"displayName": "Bad", "passwordCredentials": {"displayName": "not a list"}})
    assert refused.status_code == 400


# --- nested objects on PATCH ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["merge", "replace"])
def test_updating_one_condition_of_a_policy(fresh: Graph, mode: str) -> None:
    # conditionalaccesspolicy-update: the request names one condition; the page does not say what becomes of
    # the others, so the simulator does either (nested_patch).
    fresh.sim.settings.nested_patch = mode
    policy = next(p for p in fresh.ok("identity/conditionalAccess/policies")["value"] if p["conditions"].get("users"))
    path = f"identity/conditionalAccess/policies/{policy['id']}"
    response = fresh.patch(path, {"conditions": {"signInRiskLevels": ["high", "medium", "low"]}})
    assert response.status_code == 204 and not response.content
    after = fresh.ok(path)
    assert after["conditions"]["signInRiskLevels"] == ["high", "medium", "low"]
    # Properties left out of the body keep their values in either mode (the page's request body section).
    assert after["grantControls"] == policy["grantControls"] and after["displayName"] == policy["displayName"]
    if mode == "merge":
        assert after["conditions"] == {**policy["conditions"], "signInRiskLevels": ["high", "medium", "low"]}
        # Deeper objects merge too; lists are replaced whole.
        assert fresh.patch(path, {"conditions": {"users": {"excludeUsers": ["GuestsOrExternalUsers"]}}}).status_code == 204
        users = fresh.ok(path)["conditions"]["users"]
        assert users == {**policy["conditions"]["users"], "excludeUsers": ["GuestsOrExternalUsers"]}
    else:
        assert after["conditions"] == {"signInRiskLevels": ["high", "medium", "low"]}
