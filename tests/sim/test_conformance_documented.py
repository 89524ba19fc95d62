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
# administrativeunit-delta, oauth2permissiongrant-delta, device-delta) and a property of it to $select.
DELTA_COLLECTIONS = {
    "users": "displayName",
    "groups": "displayName",
    "applications": "displayName",
    "servicePrincipals": "displayName",
    "directory/administrativeUnits": "displayName",
    "oauth2PermissionGrants": "scope",
    "devices": "displayName",
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
    # fido2authenticationmethodconfiguration-update: the page's request names the configuration in lower case,
    # and writes isAttestationEnforced as the string "true", which OData's reader takes for the Boolean.
    path = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
    response = fresh.patch(path, {
        "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "state": "enabled", "isAttestationEnforced": "true",
    })
    assert response.status_code == 204, response.text
    configuration = fresh.ok(path)
    assert configuration["id"] == "Fido2" and configuration["state"] == "enabled"
    assert configuration["isAttestationEnforced"] is True
    kind = {"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration"}
    assert fresh.patch(path, {**kind, "isAttestationEnforced": "False"}).status_code == 204
    assert fresh.ok(path)["isAttestationEnforced"] is False
    assert fresh.patch(path, {**kind, "isAttestationEnforced": "1"}).status_code == 400
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
        # The conditions left out are gone: Graph answers them empty, as for a policy created without them.
        conditions = after["conditions"]
        assert not any(conditions["users"].values()) and not any(conditions["applications"].values())
        assert conditions["platforms"] is None and conditions["locations"] is None


# --- missing routes and properties -----------------------------------------------------------------------------


def test_administrative_units_are_created_and_listed_under_the_directory(fresh: Graph) -> None:
    # directory-post-administrativeunits, with a restricted management unit (own names).
    response = fresh.post("directory/administrativeUnits", {
        "displayName": "Seattle District Technical Schools",
        "description": "Seattle district technical schools administration",
        "visibility": "HiddenMembership",
        "isMemberManagementRestricted": True,
    })
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["isMemberManagementRestricted"] is True and created["visibility"] == "HiddenMembership"
    listed = {unit["id"]: unit for unit in fresh.all_pages("directory/administrativeUnits")}
    assert listed[created["id"]]["isMemberManagementRestricted"] is True
    # Set when the unit is created, never after (administrativeunit resource).
    assert fresh.patch(f"directory/administrativeUnits/{created['id']}", {"isMemberManagementRestricted": False}).status_code == 400


def test_a_user_created_with_identities_keeps_them(fresh: Graph) -> None:
    # user-post-users, "Create a user with social and local account identities" (own names).
    domain = fresh.sim.tenant.domain
    identities = [
        {"signInType": "userName", "issuer": domain, "issuerAssignedId": "johnsmith"},
        {"signInType": "emailAddress", "issuer": domain, "issuerAssignedId": "jsmith@example.com"},
        {"signInType": "federated", "issuer": "facebook.com", "issuerAssignedId": "5eecb0cd"},
    ]
    response = fresh.post("users", {
        "accountEnabled": True, "displayName": "John Smith", "mailNickname": "johnsmith",
        "userPrincipalName": f"johnsmith@{domain}", "identities": identities,
        "passwordProfile": {"password": "password-value", "forceChangePasswordNextSignIn": False},
        "passwordPolicies": "DisablePasswordExpiration",
    })
    assert response.status_code == 201, response.text
    user = fresh.ok(f"users/{response.json()['id']}", {"$select": "identities,passwordPolicies"})
    upn = {"signInType": "userPrincipalName", "issuer": domain, "issuerAssignedId": f"johnsmith@{domain}"}
    assert user["identities"] == [upn, *identities] and user["passwordPolicies"] == "DisablePasswordExpiration"
    bad = fresh.patch(f"users/{user['id']}", {"identities": [{"signInType": "userName", "issuer": 7}]})
    assert bad.status_code == 400


def test_custom_security_attributes_are_set_changed_and_removed(fresh: Graph) -> None:
    # user-update, "Assign a custom security attribute with a string value to a user" and the examples after it.
    user_id = fresh.ok("users", {"$top": "1"})["value"][0]["id"]
    value_type = "#microsoft.graph.customSecurityAttributeValue"
    assert "customSecurityAttributes" not in fresh.ok(f"users/{user_id}")  # returned only on $select
    assert fresh.patch(f"users/{user_id}", {"customSecurityAttributes": {
        "Engineering": {"@odata.type": value_type, "ProjectDate": "2022-10-01"}}}).status_code == 204
    assert fresh.patch(f"users/{user_id}", {"customSecurityAttributes": {
        "Marketing": {"@odata.type": value_type, "Project@odata.type": "#Collection(String)", "Project": ["Baker", "Cascade"]}}}).status_code == 204

    def attributes() -> Any:
        return fresh.ok(f"users/{user_id}", {"$select": "customSecurityAttributes"})["customSecurityAttributes"]

    assert attributes() == {
        "Engineering": {"@odata.type": value_type, "ProjectDate": "2022-10-01"},
        "Marketing": {"@odata.type": value_type, "Project@odata.type": "#Collection(String)", "Project": ["Baker", "Cascade"]},
    }
    # "Remove a single-valued custom security attribute value": null removes it; its set goes with its last one.
    assert fresh.patch(f"users/{user_id}", {"customSecurityAttributes": {
        "Engineering": {"@odata.type": value_type, "ProjectDate": None}}}).status_code == 204
    assert set(attributes()) == {"Marketing"}


def test_combination_configurations_of_a_custom_strength(fresh: Graph) -> None:
    # authenticationstrengthpolicy-post-combinationconfigurations, at the page's path.
    created = fresh.post("policies/authenticationStrengthPolicies", {
        "displayName": "Keys from our vendor", "allowedCombinations": ["fido2", "password, sms"]}).json()
    base = f"identity/conditionalAccess/authenticationStrength/policies/{created['id']}"
    aaguids = ["486c3b50-889c-480a-abc5-c04ef7c873e0", "c042882f-a621-40c8-94d3-9cde3a826fed"]
    response = fresh.post(f"{base}/combinationConfigurations", {
        "@odata.type": "#microsoft.graph.fido2CombinationConfiguration", "allowedAAGUIDs": aaguids, "appliesToCombinations": ["fido2"]})
    assert response.status_code == 201, response.text
    configuration = response.json()
    assert configuration["@odata.type"] == "#microsoft.graph.fido2CombinationConfiguration" and configuration["id"]
    assert configuration["allowedAAGUIDs"] == aaguids and configuration["appliesToCombinations"] == ["fido2"]
    # The strength returns it inline, at either path.
    strength = fresh.ok(f"policies/authenticationStrengthPolicies/{created['id']}")
    assert [c["id"] for c in strength["combinationConfigurations"]] == [configuration["id"]]
    assert fresh.ok(base)["combinationConfigurations"] == strength["combinationConfigurations"]
    item = f"{base}/combinationConfigurations/{configuration['id']}"
    assert fresh.patch(item, {"@odata.type": configuration["@odata.type"], "allowedAAGUIDs": aaguids[:1]}).status_code == 204
    assert fresh.ok(item)["allowedAAGUIDs"] == aaguids[:1]
    wrong = fresh.post(f"{base}/combinationConfigurations", {
        "@odata.type": "#microsoft.graph.fido2CombinationConfiguration", "appliesToCombinations": ["password, sms"]})
    assert wrong.status_code == 400
    assert fresh.delete(item).status_code == 204
    assert fresh.ok(f"{base}/combinationConfigurations")["value"] == []
    built_in = next(p for p in fresh.ok("policies/authenticationStrengthPolicies")["value"] if p["policyType"] == "builtIn")
    refused = fresh.post(f"policies/authenticationStrengthPolicies/{built_in['id']}/combinationConfigurations", {
        "@odata.type": "#microsoft.graph.fido2CombinationConfiguration", "appliesToCombinations": ["fido2"]})
    assert refused.status_code == 400


def test_directory_roles_are_the_activated_roles_with_their_members(fresh: Graph) -> None:
    # directoryrole-list, directoryrole-get, directoryrole-list-members.
    roles = fresh.ok("directoryRoles")
    assert roles["@odata.context"].endswith("$metadata#directoryRoles")
    by_template = {role["roleTemplateId"]: role for role in roles["value"]}
    admin = by_template["62e90394-69f5-4237-9190-012177145e10"]
    assert set(admin) == {"id", "deletedDateTime", "description", "displayName", "roleTemplateId"}
    assert admin["displayName"] == "Global Administrator" and admin["id"] != admin["roleTemplateId"]
    assert fresh.ok(f"directoryRoles/{admin['id']}") == {
        "@odata.context": f"{fresh.sim.graph_url}/v1.0/$metadata#directoryRoles/$entity", **admin}
    # Members are the principals assigned the role tenant-wide (rbacapplication-post-roleassignments, example 1).
    user = fresh.ok("users", {"$top": "1", "$select": "id"})["value"][0]
    template = "f023fd81-a637-4b56-95fd-791ac0226033"  # not assigned yet, so not activated
    assert template not in by_template
    assigned = fresh.post("roleManagement/directory/roleAssignments", {
        "@odata.type": "#microsoft.graph.unifiedRoleAssignment", "roleDefinitionId": template,
        "principalId": user["id"], "directoryScopeId": "/"})
    assert assigned.status_code == 201, assigned.text
    role = next(r for r in fresh.ok("directoryRoles")["value"] if r["roleTemplateId"] == template)
    members = fresh.ok(f"directoryRoles/{role['id']}/members")
    assert members["@odata.context"].endswith("$metadata#directoryObjects")
    assert [(m["@odata.type"], m["id"]) for m in members["value"]] == [("#microsoft.graph.user", user["id"])]
    assert fresh.get("directoryRoles/00000000-0000-0000-0000-000000000000").status_code == 404


# Every built-in role id the role pages' examples name (rbacapplication-list-roledefinitions,
# unifiedroledefinition-get, rbacapplication-list-roleassignments, rbacapplication-post-roleassignments,
# rbacapplication-post-roleeligibilityschedulerequests).
DOCUMENTED_ROLE_IDS = (
    "729827e3-9c14-49f7-bb1b-9608f156bbb8", "f023fd81-a637-4b56-95fd-791ac0226033", "b0f54661-2d74-4c50-afa3-1ec803f12efe",
    "3a2c62db-5318-420d-8d74-23affee5d9d5", "fdd7a751-b60b-444a-984c-02652fe8fa1c", "c2cf284d-6c41-4e6b-afac-4b80928c9034",
    "fe930be7-5e62-47db-91af-98c3a49a38b1", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "8424c6f0-a189-499e-bbd0-26c1753c96d4",
    "62e90394-69f5-4237-9190-012177145e10", "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
)


@pytest.mark.parametrize("role_id", DOCUMENTED_ROLE_IDS)
def test_documented_built_in_roles_exist(graph: Graph, role_id: str) -> None:
    definition = graph.ok(f"roleManagement/directory/roleDefinitions/{role_id}")
    assert definition["isBuiltIn"] is True and definition["templateId"] == role_id and definition["displayName"]


def test_an_eligibility_request_for_a_documented_role(fresh: Graph) -> None:
    # rbacapplication-post-roleeligibilityschedulerequests, example 1 (own principal, dates ahead of the tenant's clock).
    user = fresh.ok("users", {"$top": "1", "$select": "id"})["value"][0]
    response = fresh.post("roleManagement/directory/roleEligibilityScheduleRequests", {
        "action": "adminAssign", "justification": "Assign Attribute Definition Admin eligibility to restricted user",
        "roleDefinitionId": "8424c6f0-a189-499e-bbd0-26c1753c96d4", "directoryScopeId": "/", "principalId": user["id"],
        "scheduleInfo": {"startDateTime": "2030-04-10T00:00:00Z", "expiration": {"type": "afterDateTime", "endDateTime": "2032-04-10T00:00:00Z"}},
    })
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "Provisioned" and response.json()["action"] == "adminAssign"


def test_objects_named_by_their_alternate_keys(fresh: Graph) -> None:
    # application-get and serviceprincipal-get ("by appId"), directoryrole-get ("by roleTemplateId").
    app = fresh.ok("applications", {"$top": "1"})["value"][0]
    by_app_id = fresh.ok(f"applications(appId='{app['appId']}')", {"$select": "id,displayName"})
    assert (by_app_id["id"], by_app_id["displayName"]) == (app["id"], app["displayName"])
    sp = fresh.ok(f"servicePrincipals(appId='{app['appId']}')")
    assert sp["appId"] == app["appId"] and sp["id"] != app["id"]
    assert fresh.patch(f"applications(appId='{app['appId']}')", {"notes": "Named by its appId"}).status_code == 204
    assert fresh.ok(f"applications/{app['id']}")["notes"] == "Named by its appId"
    assert fresh.get("applications(appId='00000000-0000-0000-0000-000000000000')").status_code == 404
    template = "62e90394-69f5-4237-9190-012177145e10"
    role = fresh.ok(f"directoryRoles(roleTemplateId='{template}')")
    assert role["roleTemplateId"] == template and role["displayName"] == "Global Administrator"
    members = fresh.ok(f"directoryRoles(roleTemplateId='{template}')/members")["value"]
    assert members == fresh.ok(f"directoryRoles/{role['id']}/members")["value"]
