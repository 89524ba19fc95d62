"""Requests in the forms Microsoft's generated (Kiota) Graph clients send them, answered as their plain forms are.

The URLs are what Kiota's RequestInformation.url builds (microsoft/kiota-abstractions-python,
packages/abstractions/kiota_abstractions/request_information.py): it expands the request builder's RFC 6570
template with std-uritemplate, e.g. msgraph-sdk's `{+baseurl}/users{?%24count,%24filter,%24select,%24top}` and
`{+baseurl}/users/delta(){?%24select}`. So the query option names arrive as `%24select`, a list value ($select,
$expand) is joined with literal commas, and every other reserved character of a value is percent-encoded: a space
as %20, a comma inside a $filter as %2C, parentheses, quotes and `=` too. The strings below were expanded with
std-uritemplate itself. The bodies are what Kiota's models serialize: every model, nested complex values included,
writes its "@odata.type" (the generated .NET SDK's PasswordProfile, for one, sets
"#microsoft.graph.passwordProfile" in its constructor and Serialize writes it), which Graph takes and, for a
type that is not a derived one, leaves out of its answers.
"""

from __future__ import annotations

from typing import Any

from simclient import Graph, path_of

EVENTUAL = {"ConsistencyLevel": "eventual"}


def _get(graph: Graph, url: str, headers: dict[str, str] | None = None) -> Any:
    """The answer to a URL sent exactly as written (requests would re-encode a params dict)."""
    response = graph.get(url, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def _values(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return list(answer["value"])


def test_query_options_encoded_as_kiota_encodes_them(graph: Graph) -> None:
    plain = _get(graph, "users?$count=true&$filter=startswith(displayName,'a')&$select=displayName,id&$top=5", EVENTUAL)
    kiota = _get(graph, "users?%24count=true&%24filter=startswith%28displayName%2C%27a%27%29&%24select=displayName,id&%24top=5",
                 EVENTUAL)
    assert _values(kiota) == _values(plain) and len(_values(kiota)) == 5
    assert kiota["@odata.context"] == plain["@odata.context"] and kiota["@odata.context"].endswith("users(displayName,id)")
    assert kiota["@odata.count"] == plain["@odata.count"] > 5
    # A client that encodes the $select list's commas too is answered the same.
    assert _values(_get(graph, "users?%24select=displayName%2Cid&%24top=3")) == _values(_get(graph, "users?$select=displayName,id&$top=3"))


def test_filter_with_spaces_and_reserved_characters(fresh: Graph) -> None:
    created = fresh.post("groups", {"displayName": "Sales & Marketing", "mailEnabled": False, "mailNickname": "salesmarketing",
                                    "securityEnabled": True})
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    member = fresh.ok("users", {"$top": "1"})["value"][0]
    assert fresh.post(f"groups/{group_id}/members/$ref",
                      {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{member['id']}"}).status_code == 204
    # $filter=displayName eq 'Sales & Marketing' and $expand=members($select=id,displayName), as Kiota expands them.
    answer = _get(fresh, "groups?%24expand=members%28%24select%3Did%2CdisplayName%29"
                         "&%24filter=displayName%20eq%20%27Sales%20%26%20Marketing%27")
    [group] = _values(answer)
    assert group["id"] == group_id
    assert [(m["id"], m["displayName"]) for m in group["members"]] == [(member["id"], member["displayName"])]


def test_delta_function_calls_as_kiota_sends_them(graph: Graph) -> None:
    for collection in ("users", "groups", "servicePrincipals", path_of("administrativeUnits")):
        plain = _get(graph, f"{collection}/delta?$select=displayName")
        kiota = _get(graph, f"{collection}/delta()?%24select=displayName")
        namespaced = _get(graph, f"{collection}/microsoft.graph.delta()?%24select=displayName")
        assert kiota["@odata.context"] == plain["@odata.context"] == namespaced["@odata.context"]
        assert _values(kiota) == _values(plain) == _values(namespaced)
        assert ("@odata.nextLink" in kiota) == ("@odata.nextLink" in plain)


def test_prefer_headers_a_generated_client_adds(fresh: Graph) -> None:
    # Delta with Prefer: return=minimal (user-delta): a changed object carries its id and the changed properties
    # only. Kiota joins several preferences into one header; Graph reads each.
    last = _round(fresh, "users/delta()?%24select=displayName,jobTitle")
    user = fresh.ok("users", {"$top": "1"})["value"][0]
    assert fresh.patch(f"users/{user['id']}", {"jobTitle": "Kiota tester"}).status_code == 204
    page = _get(fresh, last["@odata.deltaLink"], {"Prefer": "return=minimal, odata.maxpagesize=3"})
    [changed] = [item for item in _values(page) if item["id"] == user["id"]]
    assert changed == {"id": user["id"], "jobTitle": "Kiota tester"}
    # Directory collections page by $top; a maxpagesize preference does not change the answer.
    assert _values(_get(fresh, "users?%24top=4", {"Prefer": "odata.maxpagesize=2"})) == _values(_get(fresh, "users?$top=4"))


def _round(graph: Graph, url: str) -> dict[str, Any]:
    """The last page of a delta round (the one with the deltaLink)."""
    page = _get(graph, url)
    while "@odata.nextLink" in page:
        page = _get(graph, page["@odata.nextLink"])
    return page


def test_count_with_consistency_level_eventual(graph: Graph) -> None:
    counted = graph.get("groups/%24count", headers=EVENTUAL)
    assert counted.status_code == 200, counted.text
    assert counted.headers["Content-Type"].startswith("text/plain")
    listed = _get(graph, "groups?%24count=true&%24select=id&%24top=999", EVENTUAL)
    assert int(counted.text) == listed["@odata.count"] == len(_values(listed))


def test_bodies_with_the_odata_type_of_every_model(fresh: Graph) -> None:
    domain = fresh.sim.tenant.domain
    user = fresh.post("users", {
        "@odata.type": "#microsoft.graph.user", "accountEnabled": True, "displayName": "Kiota User", "mailNickname": "kiota",
        "userPrincipalName": f"kiota@{domain}",
        "passwordProfile": {"@odata.type": "#microsoft.graph.passwordProfile", "forceChangePasswordNextSignIn": True,
                            "password": "xWwvJ]6NMw+bWH-d"},
    })
    assert user.status_code == 201, user.text
    assert "@odata.type" not in user.json()

    policy = fresh.post("identity/conditionalAccess/policies", {
        "@odata.type": "#microsoft.graph.conditionalAccessPolicy", "displayName": "Kiota policy", "state": "disabled",
        "conditions": {
            "@odata.type": "#microsoft.graph.conditionalAccessConditionSet", "clientAppTypes": ["all"],
            "applications": {"@odata.type": "#microsoft.graph.conditionalAccessApplications", "includeApplications": ["All"]},
            "users": {"@odata.type": "#microsoft.graph.conditionalAccessUsers", "includeUsers": [user.json()["id"]]},
        },
        "grantControls": {"@odata.type": "#microsoft.graph.conditionalAccessGrantControls", "operator": "OR",
                          "builtInControls": ["mfa"]},
    })
    assert policy.status_code == 201, policy.text
    read = fresh.ok(f"identity/conditionalAccess/policies/{policy.json()['id']}")
    # Graph names no type in the answer's nested values: the policy reads back as a plain client wrote it.
    assert _types_in(read["conditions"]) == _types_in(read["grantControls"]) == []
    assert read["conditions"]["users"]["includeUsers"] == [user.json()["id"]]

    nested = {"@odata.type": "#microsoft.graph.defaultUserRolePermissions", "allowedToCreateApps": False}
    patched = fresh.patch("policies/authorizationPolicy", {"@odata.type": "#microsoft.graph.authorizationPolicy",
                                                           "defaultUserRolePermissions": nested})
    assert patched.status_code == 204, patched.text
    permissions = fresh.ok("policies/authorizationPolicy")["defaultUserRolePermissions"]
    assert permissions["allowedToCreateApps"] is False and "@odata.type" not in permissions


def test_polymorphic_bodies_keep_their_derived_types(fresh: Graph) -> None:
    ranges = [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "12.34.221.11/22"}]
    created = fresh.post("identity/conditionalAccess/namedLocations", {
        "@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "Kiota range", "isTrusted": False, "ipRanges": ranges,
    })
    assert created.status_code == 201, created.text
    location = fresh.ok(f"identity/conditionalAccess/namedLocations/{created.json()['id']}")
    assert location["@odata.type"] == "#microsoft.graph.ipNamedLocation" and location["ipRanges"] == ranges

    configuration = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
    response = fresh.patch(configuration, {"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
                                           "isSelfServiceRegistrationAllowed": False})
    assert response.status_code == 204, response.text
    assert fresh.ok(configuration)["@odata.type"] == "#microsoft.graph.fido2AuthenticationMethodConfiguration"


def _types_in(value: Any) -> list[str]:
    """Every @odata.type inside value, at any depth."""
    if isinstance(value, list):
        return [found for item in value for found in _types_in(item)]
    if isinstance(value, dict):
        own = [value["@odata.type"]] if "@odata.type" in value else []
        return own + [found for item in value.values() for found in _types_in(item)]
    return []
