"""Reads: the envelope, paging, $top, $select, $filter, $expand, get by id, and Graph's error shapes."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from requests.adapters import HTTPAdapter
from simclient import Graph, error_of

from entragit.sim import Simulator

GRAPH_CONTENT_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
USER_DEFAULTS = {
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
}


def test_envelope_headers_and_context(graph: Graph, sim: Simulator) -> None:
    response = graph.get("users", {"$top": "2"}, headers={"client-request-id": "my-id-1"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == GRAPH_CONTENT_TYPE
    assert response.headers["client-request-id"] == "my-id-1"
    assert re.fullmatch(r"[0-9a-f-]{36}", response.headers["request-id"])
    assert response.json()["@odata.context"] == f"{sim.graph_url}/v1.0/$metadata#users"
    generated = graph.get("users", {"$top": "1"})
    assert generated.headers["client-request-id"]


def test_error_body_shape(graph: Graph) -> None:
    response = graph.get("users/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "Request_ResourceNotFound"
    assert error["message"] == (
        "Resource '00000000-0000-0000-0000-000000000000' does not exist or one of its queried "
        "reference-property objects are not present."
    )
    inner = error["innerError"]
    assert set(inner) == {"date", "request-id", "client-request-id"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", inner["date"])
    assert inner["request-id"] == response.headers["request-id"]


def test_paging_follows_next_links_until_absent(graph: Graph, sim: Simulator) -> None:
    first = graph.ok("users", {"$top": "7", "$select": "id,displayName"})
    assert len(first["value"]) == 7
    link = first["@odata.nextLink"]
    assert link.startswith(f"{sim.graph_url}/v1.0/users?")
    options = dict(parse_qsl(urlsplit(link).query))
    assert options["$top"] == "7" and options["$select"] == "id,displayName" and options["$skiptoken"]

    seen: list[str] = []
    page = first
    pages = 0
    while True:
        pages += 1
        assert all(set(item) == {"id", "displayName"} for item in page["value"])
        seen += [item["id"] for item in page["value"]]
        if "@odata.nextLink" not in page:
            break
        page = graph.ok(page["@odata.nextLink"])
    assert len(seen) == len(set(seen)) == len(sim.tenant.objects["users"])
    assert pages == -(-len(seen) // 7)


def test_default_page_size_is_100_and_a_switch(graph: Graph, sim: Simulator) -> None:
    assert len(graph.ok("users")["value"]) == 100
    sim.settings.default_page_size = 50
    try:
        assert len(graph.ok("users")["value"]) == 50
    finally:
        sim.settings.default_page_size = 100


def test_top_limits(graph: Graph) -> None:
    assert len(graph.ok("users", {"$top": "999"})["value"]) > 100
    for bad in ("1000", "0"):
        response = graph.get("users", {"$top": bad})
        assert response.status_code == 400
        assert error_of(response)["code"] == "Request_UnsupportedQuery"
        assert error_of(response)["message"] == f"Invalid page size specified: '{bad}'. Must be between 1 and 999 inclusive."


def test_select_returns_id_always_and_defaults_otherwise(graph: Graph, sim: Simulator) -> None:
    default = graph.ok("users", {"$top": "5"})["value"]
    assert all(set(user) <= USER_DEFAULTS and "department" not in user for user in default)
    selected = graph.ok("users", {"$top": "5", "$select": "department,accountEnabled,signInActivity"})
    assert selected["@odata.context"] == f"{sim.graph_url}/v1.0/$metadata#users(department,accountEnabled,signInActivity)"
    for user in selected["value"]:
        assert set(user) == {"id", "department", "accountEnabled", "signInActivity"}
    response = graph.get("users", {"$select": "id,noSuchThing"})
    assert response.status_code == 400
    assert error_of(response) | {"innerError": None} == {
        "code": "Request_BadRequest",
        "message": "Could not find a property named 'noSuchThing' on type 'microsoft.graph.user'.",
        "innerError": None,
    }


def test_filter_lookups(graph: Graph) -> None:
    sales = graph.all_pages("users", {"$filter": "department eq 'Sales'", "$select": "department"})
    assert sales and all(user["department"] == "Sales" for user in sales)
    ids = [user["id"] for user in sales[:3]]
    quoted = ",".join(f"'{i}'" for i in ids)
    found = graph.ok("users", {"$filter": f"id in ({quoted})"})["value"]
    assert sorted(user["id"] for user in found) == sorted(ids)
    team = graph.ok("groups", {"$filter": "displayName eq 'Sales Team'"})["value"]
    assert [group["displayName"] for group in team] == ["Sales Team"]
    for unsupported in ("endsWith(mail,'x')", "department ne 'Sales'", "createdDateTime eq '2020-01-01'"):
        response = graph.get("users", {"$filter": unsupported})
        assert response.status_code == 400, unsupported
        assert error_of(response)["code"] == "Request_UnsupportedQuery"


def test_expand_manager(graph: Graph, sim: Simulator) -> None:
    page = graph.ok("users", {"$top": "999", "$expand": "manager($select=id,displayName)"})
    assert len(page["value"]) == 100  # $expand caps the page at 100
    managed = [user for user in page["value"] if "manager" in user]
    assert managed
    for user in managed:
        assert set(user["manager"]) == {"@odata.type", "id", "displayName"}
        assert user["manager"]["@odata.type"] == "#microsoft.graph.user"
    ceo = next(u for u in sim.tenant.objects["users"].values() if u["jobTitle"] == "Chief Executive Officer")
    alone = graph.ok(f"users/{ceo['id']}", {"$expand": "manager"})
    assert "manager" not in alone
    head = graph.ok("users", {"$filter": "jobTitle eq 'VP Sales'", "$expand": "manager"})["value"][0]
    assert head["manager"]["id"] == ceo["id"]


def test_get_by_id_upn_and_select(graph: Graph, sim: Simulator) -> None:
    user = next(iter(sim.tenant.objects["users"].values()))
    by_id = graph.ok(f"users/{user['id']}", {"$select": "displayName,department"})
    assert by_id == {
        "@odata.context": f"{sim.graph_url}/v1.0/$metadata#users(displayName,department)/$entity",
        "id": user["id"],
        "displayName": user["displayName"],
        "department": user["department"],
    }
    by_upn = graph.ok(f"users/{user['userPrincipalName'].upper()}")
    assert by_upn["id"] == user["id"]
    assert by_upn["@odata.context"] == f"{sim.graph_url}/v1.0/$metadata#users/$entity"


def test_conditional_access_lists_come_in_one_page(graph: Graph, sim: Simulator) -> None:
    policies = graph.ok("identity/conditionalAccess/policies")
    assert "@odata.nextLink" not in policies
    assert {p["displayName"] for p in policies["value"]} == {
        "Require MFA for all users",
        "Block legacy authentication",
        "Block access from blocked countries",
        "Require compliant device for Sales",
        "Protected actions: require MFA for sensitive changes",
    }
    policy = policies["value"][0]
    assert set(policy) == {
        "id", "templateId", "displayName", "createdDateTime", "modifiedDateTime", "state",
        "sessionControls", "conditions", "grantControls",
    }  # fmt: skip
    assert set(policy["conditions"]["users"]) == {
        "includeUsers", "excludeUsers", "includeGroups", "excludeGroups", "includeRoles", "excludeRoles",
    }  # fmt: skip
    locations = graph.ok("identity/conditionalAccess/namedLocations")["value"]
    types = {loc["displayName"]: loc["@odata.type"] for loc in locations}
    assert types == {"Head office": "#microsoft.graph.ipNamedLocation", "Blocked countries": "#microsoft.graph.countryNamedLocation"}
    head_office = next(loc for loc in locations if loc["displayName"] == "Head office")
    assert {r["@odata.type"] for r in head_office["ipRanges"]} == {
        "#microsoft.graph.iPv4CidrRange",
        "#microsoft.graph.iPv6CidrRange",
    }
    missing = graph.get("identity/conditionalAccess/policies/nope")
    assert missing.status_code == 404


def test_unknown_segment_and_wrong_method(graph: Graph) -> None:
    response = graph.get("usrs")
    assert response.status_code == 400
    assert error_of(response)["message"] == "Resource not found for the segment 'usrs'."
    response = graph.request("PUT", "users")
    assert response.status_code == 405
    assert error_of(response) | {"innerError": None} == {
        "code": "Request_BadRequest",
        "message": "Specified HTTP method is not allowed for the request target.",
        "innerError": None,
    }


def test_relationship_lists_carry_odata_type(graph: Graph) -> None:
    crm = graph.find("groups", "Sales - CRM Users")
    members = graph.all_pages(f"groups/{crm['id']}/members", {"$select": "id,displayName", "$top": "5"})
    kinds = {member["@odata.type"] for member in members}
    assert kinds == {"#microsoft.graph.user", "#microsoft.graph.group"}  # the nested Sales Team
    assert all(set(m) == {"@odata.type", "id", "displayName"} for m in members)
    owners = graph.ok(f"groups/{crm['id']}/owners")["value"]
    assert [o["jobTitle"] for o in owners] == ["VP Sales"]
    head = owners[0]
    owned = graph.all_pages(f"users/{head['id']}/ownedObjects", {"$select": "displayName"})
    assert "Sales Team" in {g["displayName"] for g in owned}
    member_of = graph.all_pages(f"users/{head['id']}/memberOf")
    # memberOf lists administrative units too, as Graph's does; clients filter on @odata.type.
    assert {g["@odata.type"] for g in member_of} <= {"#microsoft.graph.group", "#microsoft.graph.administrativeUnit"}
    assert {"Sales Team", "All Sales (dynamic)", "Leadership"} <= {g["displayName"] for g in member_of}


def test_keep_alive_connections_are_reused(graph: Graph) -> None:
    for _ in range(5):
        response = graph.get("users", {"$top": "1"})
        assert response.status_code == 200
        assert response.headers.get("Connection", "").lower() != "close"
    adapter = graph.session.get_adapter("https://")
    assert isinstance(adapter, HTTPAdapter)
    pools = adapter.poolmanager.pools
    assert sum(pools[key].num_connections for key in pools.keys()) == 1
