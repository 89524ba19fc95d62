"""Paging as graph-behaviour §1 describes it, and the application, service principal and administrative unit
collections (graph-behaviour §6, §9): $top limits, default pages, nextLinks, @odata.count, /$count, empty pages,
expiring page tokens, $select, and the app credential actions."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from simclient import Graph, assert_error, error_of, path_of

from entragit.sim import Simulator
from entragit.sim.apps import MICROSOFT_GRAPH_APP_ID, MICROSOFT_TENANT_ID

EVENTUAL = {"ConsistencyLevel": "eventual"}


def _walk(graph: Graph, path: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    pages = []
    response = graph.get(path, params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if "@odata.nextLink" not in pages[-1]:
            return pages
        response = graph.get(pages[-1]["@odata.nextLink"], headers=headers)


def test_top_limits_on_every_directory_list(graph: Graph, sim: Simulator) -> None:
    group = next(iter(sim.tenant.links["members"]))
    for path in ("users", "groups", "applications", "servicePrincipals", f"groups/{group}/members"):
        assert graph.get(path, {"$top": "999"}).status_code == 200, path
        for bad in ("1000", "0"):
            response = graph.get(path, {"$top": bad})
            assert response.status_code == 400, path
            assert error_of(response)["code"] == "Request_UnsupportedQuery"
            assert error_of(response)["message"] == f"Invalid page size specified: '{bad}'. Must be between 1 and 999 inclusive."


def test_default_page_size_applies_to_every_directory_list(fresh: Graph, fresh_sim: Simulator) -> None:
    assert len(fresh.ok("users")["value"]) == 100
    fresh_sim.settings.default_page_size = 4
    for name in ("users", "groups", "applications", "servicePrincipals", "administrativeUnits"):
        pages = _walk(fresh, path_of(name))
        assert all(len(page["value"]) == 4 for page in pages[:-1]), name
        ids = [item["id"] for page in pages for item in page["value"]]
        assert sorted(ids) == sorted(fresh_sim.tenant.objects[name]), name


def test_next_links_repeat_every_query_option(graph: Graph, sim: Simulator) -> None:
    params = {"$top": "3", "$select": "displayName,appId", "$filter": "signInAudience eq 'AzureADMyOrg'", "$count": "true"}
    first = graph.get("applications", params, headers=EVENTUAL).json()
    options = dict(parse_qsl(urlsplit(first["@odata.nextLink"]).query))
    assert {k: options[k] for k in params} == params and options["$skiptoken"]
    pages = _walk(graph, "applications", params, EVENTUAL)
    items = [item for page in pages for item in page["value"]]
    assert all(set(item) == {"id", "displayName", "appId"} for item in items)
    mine = [a for a in sim.tenant.objects["applications"].values() if a["signInAudience"] == "AzureADMyOrg"]
    assert sorted(i["id"] for i in items) == sorted(a["id"] for a in mine)


def test_count_only_on_the_first_page_and_only_with_the_header(graph: Graph, sim: Simulator) -> None:
    pages = _walk(graph, "users", {"$count": "true", "$top": "90"}, EVENTUAL)
    assert pages[0]["@odata.count"] == len(sim.tenant.objects["users"])
    assert len(pages) > 1 and all("@odata.count" not in page for page in pages[1:])
    # Without ConsistencyLevel, $count=true is silently ignored (graph-behaviour §1).
    ignored = graph.get("users", {"$count": "true", "$top": "5"})
    assert ignored.status_code == 200 and "@odata.count" not in ignored.json()


def test_count_segment_is_a_bare_integer_and_needs_the_header(graph: Graph, sim: Simulator) -> None:
    refused = graph.get("users/$count")
    assert refused.status_code == 400
    assert error_of(refused)["code"] == "Request_BadRequest"
    assert error_of(refused)["message"] == "$count is not currently supported."
    counted = graph.get("users/$count", headers=EVENTUAL)
    assert counted.status_code == 200
    assert counted.headers["Content-Type"].startswith("text/plain")
    assert counted.text == str(len(sim.tenant.objects["users"]))
    sales = graph.get("users/$count", {"$filter": "department eq 'Sales'"}, headers=EVENTUAL)
    assert int(sales.text) == sum(u["department"] == "Sales" for u in sim.tenant.objects["users"].values())
    assert graph.get("servicePrincipals/$count", headers=EVENTUAL).text == str(len(sim.tenant.objects["servicePrincipals"]))


def test_empty_pages_still_carry_a_next_link(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.empty_pages = True
    pages = _walk(fresh, "users", {"$top": "50", "$select": "id"})
    empty = [page for page in pages if not page["value"]]
    assert empty and all("@odata.nextLink" in page for page in empty)
    ids = [item["id"] for page in pages for item in page["value"]]
    assert len(ids) == len(set(ids)) == len(fresh_sim.tenant.objects["users"])


def test_a_page_link_comes_first_or_after_the_value_as_the_switch_says(fresh: Graph, fresh_sim: Simulator) -> None:
    def members(response: Any) -> list[str]:
        return list(response.json())

    assert members(fresh.get("users", {"$top": "10"}))[1:] == ["@odata.nextLink", "value"]
    fresh_sim.settings.next_link_last = True
    assert members(fresh.get("users", {"$top": "10"}))[1:] == ["value", "@odata.nextLink"]


def test_answers_are_gzip_compressed_only_for_a_client_that_accepts_it(fresh: Graph, fresh_sim: Simulator) -> None:
    def encoding(accepted: str) -> str | None:
        response = fresh.get("users", {"$top": "50"}, headers={"Accept-Encoding": accepted})
        assert len(response.json()["value"]) == 50
        return response.headers.get("Content-Encoding")

    assert encoding("gzip, deflate") == "gzip"
    assert encoding("identity") is None
    fresh_sim.settings.gzip_responses = False
    assert encoding("gzip, deflate") is None


def test_page_tokens_expire_when_the_lifetime_switch_says(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.skiptoken_lifetime_seconds = 60
    link = fresh.ok("users", {"$top": "10"})["@odata.nextLink"]
    fresh_sim.clock.advance(59)
    assert fresh.get(link).status_code == 200
    fresh_sim.clock.advance(2)
    expired = fresh.get(link)
    assert expired.status_code == 400
    assert error_of(expired)["code"] == "Directory_ExpiredPageToken"


def test_select_on_the_new_collections(graph: Graph, sim: Simulator) -> None:
    for name in ("applications", "servicePrincipals", "administrativeUnits"):
        page = graph.ok(path_of(name), {"$select": "displayName"})
        assert page["@odata.context"] == f"{sim.graph_url}/v1.0/$metadata#{path_of(name)}(displayName)"
        assert all(set(item) == {"id", "displayName"} for item in page["value"]), name
    app = next(iter(sim.tenant.objects["applications"].values()))
    one = graph.ok(f"applications/{app['id']}", {"$select": "appId,web"})
    assert set(one) == {"@odata.context", "id", "appId", "web"}


def test_seeded_applications_and_service_principals_have_graphs_shapes(graph: Graph, sim: Simulator) -> None:
    apps = graph.all_pages("applications")
    sps = graph.all_pages("servicePrincipals")
    units = graph.all_pages("directory/administrativeUnits")
    assert len(apps) == 15 and len(units) == 2
    for app in apps:
        assert {"id", "appId", "displayName", "signInAudience", "identifierUris", "api", "appRoles", "requiredResourceAccess",
                "web", "spa", "publicClient", "keyCredentials", "passwordCredentials", "publisherDomain", "createdDateTime"} <= set(app)  # fmt: skip
        assert app["publisherDomain"] == sim.tenant.domain and "redirectUris" in app["web"]
        for secret in app["passwordCredentials"]:
            assert set(secret) >= {"keyId", "displayName", "startDateTime", "endDateTime", "hint", "secretText"}
            assert secret["secretText"] is None and len(secret["hint"]) == 3
    by_app_id = {sp["appId"]: sp for sp in sps}
    for app in apps:
        sp = by_app_id[app["appId"]]  # every app of the tenant has its service principal
        assert (sp["appDisplayName"], sp["appOwnerOrganizationId"]) == (app["displayName"], sim.tenant_id)
        assert sp["servicePrincipalType"] == "Application" and app["appId"] in sp["servicePrincipalNames"]
    first_party = [sp for sp in sps if sp["appOwnerOrganizationId"] == MICROSOFT_TENANT_ID]
    assert len(first_party) == 6 and len(sps) == 21
    assert by_app_id[MICROSOFT_GRAPH_APP_ID]["displayName"] == "Microsoft Graph"
    assert {"User.Read.All", "Group.ReadWrite.All"} <= {r["value"] for r in by_app_id[MICROSOFT_GRAPH_APP_ID]["appRoles"]}
    assert sim.client_id in by_app_id  # the app entragit signs in as is registered too
    for unit in units:
        assert {"id", "displayName", "description", "visibility", "membershipType", "membershipRule",
                "membershipRuleProcessingState"} <= set(unit)  # fmt: skip
        assert graph.all_pages(f"directory/administrativeUnits/{unit['id']}/members")


def test_add_password_returns_the_secret_once_and_remove_password_deletes_it(fresh: Graph) -> None:
    app = fresh.find("applications", "Expense Portal")
    added = fresh.post(f"applications/{app['id']}/addPassword", {"passwordCredential": {"displayName": "ci"}})
    assert added.status_code == 200
    credential = added.json()
    assert credential["secretText"] and credential["hint"] == credential["secretText"][:3]
    assert credential["displayName"] == "ci" and credential["endDateTime"] > credential["startDateTime"]
    stored = fresh.ok(f"applications/{app['id']}")["passwordCredentials"]
    mine = next(c for c in stored if c["keyId"] == credential["keyId"])
    assert mine["secretText"] is None and mine["hint"] == credential["hint"]
    removed = fresh.post(f"applications/{app['id']}/removePassword", {"keyId": credential["keyId"]})
    assert removed.status_code == 204
    assert credential["keyId"] not in {c["keyId"] for c in fresh.ok(f"applications/{app['id']}")["passwordCredentials"]}
    assert fresh.post(f"applications/{app['id']}/removePassword", {"keyId": credential["keyId"]}).status_code == 400


def test_application_and_service_principal_refusals(fresh: Graph) -> None:
    app = fresh.find("applications", "Expense Portal")
    for prop, value in (("passwordCredentials", []), ("appId", "x"), ("publisherDomain", "x"), ("createdDateTime", "x")):
        response = fresh.patch(f"applications/{app['id']}", {prop: value})
        assert response.status_code == 400, prop
        assert error_of(response)["message"] == f"Property '{prop}' is read-only and cannot be set."
    # A create may carry passwordCredentials (application-post-applications); only a PATCH may not.
    assert fresh.post("applications", {"displayName": "x", "passwordCredentials": []}).status_code == 201
    sp = fresh.find("servicePrincipals", "Expense Portal")
    for prop in ("appDisplayName", "appOwnerOrganizationId", "servicePrincipalType"):
        assert fresh.patch(f"servicePrincipals/{sp['id']}", {prop: "x"}).status_code == 400, prop
    assert fresh.patch(f"servicePrincipals/{sp['id']}", {"appId": "00000000-0000-0000-0000-000000000001"}).status_code == 400
    assert fresh.patch(f"servicePrincipals/{sp['id']}", {"appId": sp["appId"], "notes": "same appId is fine"}).status_code == 204
    duplicate = fresh.post("servicePrincipals", {"appId": app["appId"]})
    assert duplicate.status_code == 409
    assert error_of(duplicate)["code"] == "Request_MultipleObjectsWithSameKeyValue"
    assert fresh.post("servicePrincipals", {"appId": "00000000-0000-0000-0000-000000000001"}).status_code == 400


def test_new_application_gets_its_app_id_and_service_principal(fresh: Graph, fresh_sim: Simulator) -> None:
    created = fresh.post("applications", {"displayName": "Payroll Export"})
    assert created.status_code == 201
    app = created.json()
    assert app["appId"] and app["publisherDomain"] == fresh_sim.tenant.domain and app["signInAudience"] == "AzureADMyOrg"
    sp = fresh.post("servicePrincipals", {"appId": app["appId"]})
    assert sp.status_code == 201
    assert (sp.json()["appDisplayName"], sp.json()["displayName"]) == ("Payroll Export", "Payroll Export")


def test_a_service_principal_lists_what_it_owns(fresh: Graph) -> None:
    app = fresh.find("applications", "Expense Portal")
    owner = fresh.find("servicePrincipals", "CRM Connector")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{owner['id']}"}
    assert fresh.post(f"applications/{app['id']}/owners/$ref", ref).status_code == 204
    # serviceprincipal-list-ownedobjects: the reverse of an owners link, as for users.
    owned = fresh.all_pages(f"servicePrincipals/{owner['id']}/ownedObjects")
    assert {(o["@odata.type"], o["id"]) for o in owned} == {("#microsoft.graph.application", app["id"])}


def test_owners_and_administrative_unit_members_by_ref(fresh: Graph, fresh_sim: Simulator) -> None:
    app = fresh.find("applications", "Expense Portal")
    user = fresh.ok("users", {"$top": "1"})["value"][0]
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"}
    for owner in fresh.ok(f"applications/{app['id']}/owners")["value"]:
        # Unlike a group, an application may lose its last owner.
        assert fresh.delete(f"applications/{app['id']}/owners/{owner['id']}/$ref").status_code == 204
    assert fresh.post(f"applications/{app['id']}/owners/$ref", ref).status_code == 204
    assert [o["id"] for o in fresh.ok(f"applications/{app['id']}/owners")["value"]] == [user["id"]]
    assert app["id"] in {o["id"] for o in fresh.all_pages(f"users/{user['id']}/ownedObjects")}
    assert fresh.delete(f"applications/{app['id']}/owners/{user['id']}/$ref").status_code == 204
    unit = fresh.find("directory/administrativeUnits", "EMEA")
    guest = fresh.ok("users", {"$filter": "userType eq 'Guest'"})["value"][0]
    guest_ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{guest['id']}"}
    assert fresh.post(f"directory/administrativeUnits/{unit['id']}/members/$ref", guest_ref).status_code == 204
    assert fresh.post(f"directory/administrativeUnits/{unit['id']}/members/$ref", guest_ref).status_code == 400  # already there
    member_of = fresh.all_pages(f"users/{guest['id']}/memberOf")
    assert {"@odata.type": "#microsoft.graph.administrativeUnit", "id": unit["id"]}.items() <= next(
        m for m in member_of if m["id"] == unit["id"]
    ).items()
    assert fresh.delete(f"directory/administrativeUnits/{unit['id']}/members/{guest['id']}/$ref").status_code == 204


def test_expanded_collections_hold_at_most_20_objects(graph: Graph, sim: Simulator) -> None:
    big = max(sim.tenant.objects["groups"], key=lambda g: len(sim.tenant.links["members"].get(g, ())))
    assert len(sim.tenant.links["members"][big]) > 20
    page = graph.ok("groups", {"$filter": f"id in ('{big}')", "$select": "id", "$expand": "members($select=id)"})
    expanded = page["value"][0]["members"]
    assert len(expanded) == 20 and "members@odata.nextLink" not in page["value"][0]
    assert {m["id"] for m in expanded} <= set(sim.tenant.links["members"][big])
    assert all(set(m) == {"@odata.type", "id"} for m in expanded)
    listing = graph.ok("groups", {"$top": "999", "$select": "id", "$expand": "owners($select=id)"})
    owned = next(g for g in listing["value"] if sim.tenant.links["owners"].get(g["id"]))
    assert {o["id"] for o in owned["owners"]} == set(sim.tenant.links["owners"][owned["id"]])
    app = next(a for a in sim.tenant.objects["applications"] if sim.tenant.links["owners"].get(a))
    answer = graph.ok("applications", {"$filter": f"id in ('{app}')", "$expand": "owners($select=id)"})
    assert {o["id"] for o in answer["value"][0]["owners"]} == set(sim.tenant.links["owners"][app])


def test_an_application_id_uri_naming_a_guid_must_name_its_own_app_id(fresh: Graph, fresh_sim: Simulator) -> None:
    borrowed = "api://0b5f6f5e-1b5d-4c49-8a44-7a32c2a2c1a1"
    refused = fresh.post("applications", {"displayName": "Borrowed", "identifierUris": [borrowed]})
    assert_error(refused, 400, "HostNameNotOnVerifiedDomain")
    assert borrowed in error_of(refused)["message"]
    app = fresh.post("applications", {"displayName": "Tenant scoped",
                                      "identifierUris": [f"api://{fresh_sim.tenant_id}/reports"]}).json()
    assert fresh.patch(f"applications/{app['id']}", {"identifierUris": [f"api://{app['appId']}"]}).status_code == 204


def test_an_app_role_or_scope_is_deleted_only_once_disabled(fresh: Graph) -> None:
    app = next(a for a in fresh.all_pages("applications") if a["appRoles"] and a["api"]["oauth2PermissionScopes"])
    role = app["appRoles"][0]
    assert role["isEnabled"] is True
    refused = fresh.patch(f"applications/{app['id']}", {"appRoles": app["appRoles"][1:]})
    assert_error(refused, 400, "CannotDeleteOrUpdateEnabledEntitlement")
    assert fresh.ok(f"applications/{app['id']}")["appRoles"] == app["appRoles"]
    disabled = [{**role, "isEnabled": False}, *app["appRoles"][1:]]
    assert fresh.patch(f"applications/{app['id']}", {"appRoles": disabled}).status_code == 204
    assert fresh.patch(f"applications/{app['id']}", {"appRoles": app["appRoles"][1:]}).status_code == 204
    assert_error(fresh.patch(f"applications/{app['id']}", {"api": {**app["api"], "oauth2PermissionScopes": []}}),
                 400, "CannotDeleteOrUpdateEnabledEntitlement")
