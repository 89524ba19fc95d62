"""Conformance: the identity configuration a complete backup reads and restores, over real HTTPS.

Directory extensions, federated identity credentials, app role assignments, delegated permission grants,
directory roles and PIM eligibility, and the denied_paths switch. Expected shapes are the v1.0
documentation's examples (cited per test); where the docs are silent the simulator's choice is marked
[UNCONFIRMED] in model_identity.py and identity.py.
"""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

import requests
from simclient import Graph, assert_error

from entragit.sim import Settings, Simulator
from entragit.sim import model, model_identity
from entragit.sim.apps import MICROSOFT_GRAPH_APP_ID
from entragit.sim.seed import build_tenant

GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
BRIEF_ROLES = {
    GLOBAL_ADMIN: "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    USER_ADMIN: "User Administrator",
    "fdd7a751-b60b-444a-984c-02652fe8fa1c": "Groups Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
}
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
APP_ROLE_ASSIGNMENT_KEYS = {
    "id", "deletedDateTime", "appRoleId", "createdDateTime", "principalDisplayName", "principalId", "principalType",
    "resourceDisplayName", "resourceId",
}  # fmt: skip




def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _guid_prefix(object_id: str) -> str:
    """The base64url of a GUID's little-endian bytes, as Graph's opaque ids start (observed in the docs)."""
    return base64.urlsafe_b64encode(uuid.UUID(object_id).bytes_le).decode()[:21]


def _own_app(graph: Graph) -> dict[str, Any]:
    (app,) = graph.ok("applications", {"$filter": f"appId eq '{graph.sim.client_id}'"})["value"]
    return dict(app)


def _own_sp(graph: Graph) -> dict[str, Any]:
    (sp,) = graph.ok("servicePrincipals", {"$filter": f"appId eq '{graph.sim.client_id}'"})["value"]
    return dict(sp)


def _sp(graph: Graph, app_id: str) -> dict[str, Any]:
    (sp,) = graph.ok("servicePrincipals", {"$filter": f"appId eq '{app_id}'"})["value"]
    return dict(sp)


def _some_user(graph: Graph, name: str = "Break Glass 2") -> dict[str, Any]:
    return graph.find("users", name)


def test_kinds_are_models_kinds() -> None:
    kinds = ("STR", "BOOL", "INT", "STRS", "OBJ", "OBJS")
    assert [getattr(model_identity, k) for k in kinds] == [getattr(model, k) for k in kinds]


# --- directory schema extensions (application-post-extensionproperty, directoryobject-getavailableextensionproperties) ---


def test_seeded_extension_properties_on_the_own_app(graph: Graph, sim: Simulator) -> None:
    app = _own_app(graph)
    response = graph.get(f"applications/{app['id']}/extensionProperties")
    assert response.status_code == 200
    assert response.headers["x-ms-resource-unit"] == "2"  # graph-behaviour §4
    body = response.json()
    assert body["@odata.context"] == f"{sim.graph_url}/v1.0/$metadata#applications('{app['id']}')/extensionProperties"
    prefix = f"extension_{sim.client_id.replace('-', '')}_"
    by_name = {p["name"]: p for p in body["value"]}
    assert set(by_name) == {prefix + "costCenterCode", prefix + "clearanceLevel"}
    cost = by_name[prefix + "costCenterCode"]
    assert set(cost) == {"id", "deletedDateTime", "appDisplayName", "dataType", "isMultiValued", "isSyncedFromOnPremises", "name", "targetObjects"}
    assert (cost["dataType"], cost["targetObjects"], cost["isSyncedFromOnPremises"]) == ("String", ["User"], False)
    assert by_name[prefix + "clearanceLevel"]["dataType"] == "Integer"
    assert cost["appDisplayName"] == app["displayName"]

    users = graph.all_pages("users", {"$select": f"id,{prefix}costCenterCode", "$top": "999"})
    carrying = [u for u in users if prefix + "costCenterCode" in u]
    assert 0.15 < len(carrying) / len(users) < 0.45
    assert all(re.fullmatch(r"CC-[A-Z]{2,3}-\d{3}", u[prefix + "costCenterCode"]) for u in carrying)
    # Extension values are returned only when selected, like Graph.
    plain = graph.ok(f"users/{carrying[0]['id']}")
    assert not any(key.startswith("extension_") for key in plain)
    # They are filterable (eq).
    wanted = carrying[0][prefix + "costCenterCode"]
    found = graph.ok("users", {"$filter": f"{prefix}costCenterCode eq '{wanted}'", "$select": "id"})["value"]
    assert carrying[0]["id"] in {u["id"] for u in found}


def test_extension_lifecycle_and_user_values(fresh: Graph, fresh_sim: Simulator) -> None:
    app = _own_app(fresh)
    created = fresh.post(f"applications/{app['id']}/extensionProperties", {"name": "badgeNumber", "dataType": "String", "targetObjects": ["User"]})
    assert created.status_code == 201, created.text
    prop = created.json()
    name = f"extension_{fresh_sim.client_id.replace('-', '')}_badgeNumber"
    assert prop["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#applications('{app['id']}')/extensionProperties/$entity"
    assert (prop["name"], prop["isMultiValued"], prop["isSyncedFromOnPremises"], prop["deletedDateTime"]) == (name, False, False, None)
    again = fresh.post(f"applications/{app['id']}/extensionProperties", {"name": "badgeNumber", "dataType": "String", "targetObjects": ["User"]})
    assert again.status_code == 409
    assert_error(fresh.post(f"applications/{app['id']}/extensionProperties", {"name": "x", "dataType": "Text", "targetObjects": ["User"]}), 400, "Request_BadRequest")

    available = fresh.post("directoryObjects/getAvailableExtensionProperties", {"isSyncedFromOnPremises": False})
    assert available.status_code == 200
    listed = available.json()
    assert listed["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#Collection(extensionProperty)"
    assert name in {p["name"] for p in listed["value"]} and len(listed["value"]) == 3
    assert all(p["@odata.type"] == "#microsoft.graph.extensionProperty" for p in listed["value"])
    assert fresh.post("directoryObjects/getAvailableExtensionProperties", {"isSyncedFromOnPremises": True}).json()["value"] == []

    user = _some_user(fresh)
    assert fresh.patch(f"users/{user['id']}", {name: "B-1234"}).status_code == 204
    assert fresh.ok(f"users/{user['id']}", {"$select": f"displayName,{name}"})[name] == "B-1234"
    clearance = f"extension_{fresh_sim.client_id.replace('-', '')}_clearanceLevel"
    assert_error(fresh.patch(f"users/{user['id']}", {clearance: "high"}), 400, "Request_BadRequest")
    assert fresh.patch(f"users/{user['id']}", {clearance: 3}).status_code == 204
    # null removes the value: a $select of it then leaves it out.
    assert fresh.patch(f"users/{user['id']}", {name: None}).status_code == 204
    cleared = fresh.ok(f"users/{user['id']}", {"$select": f"{name},{clearance}"})
    assert name not in cleared and cleared[clearance] == 3

    assert fresh.delete(f"applications/{app['id']}/extensionProperties/{prop['id']}").status_code == 204
    assert_error(fresh.get(f"users/{user['id']}", {"$select": name}), 400, "Request_BadRequest")
    assert_error(fresh.delete(f"applications/{app['id']}/extensionProperties/{prop['id']}"), 404, "Request_ResourceNotFound")
    # Extension properties cannot be updated.
    first = fresh.ok(f"applications/{app['id']}/extensionProperties")["value"][0]
    assert_error(fresh.patch(f"applications/{app['id']}/extensionProperties/{first['id']}", {"dataType": "Integer"}), 405, "Request_BadRequest")


# --- federated identity credentials (application-post-federatedidentitycredentials) -------------------------


def _federated_token(sim: Simulator, subject: str) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.post(
        f"{sim.authority}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sim.client_id,
            "client_assertion_type": JWT_BEARER,
            "client_assertion": sim.federation.issue(subject),
            "scope": f"{sim.graph_url}/.default",
        },
        verify=sim.ca_bundle,
    )


def test_seeded_github_credential_is_the_apps_federated_credential(graph: Graph, sim: Simulator) -> None:
    app = _own_app(graph)
    body = graph.ok(f"applications/{app['id']}/federatedIdentityCredentials")
    assert body["@odata.context"] == f"{sim.graph_url}/v1.0/$metadata#applications('{app['id']}')/federatedIdentityCredentials"
    (credential,) = body["value"]
    assert set(credential) == {"id", "name", "issuer", "subject", "audiences", "description"}
    assert credential["issuer"] == "https://token.actions.githubusercontent.com"
    assert credential["audiences"] == ["api://AzureADTokenExchange"]
    (seen_by_sign_in,) = sim.federation.credentials
    assert (seen_by_sign_in.name, seen_by_sign_in.subject) == (credential["name"], credential["subject"])
    # Addressable by id or by name.
    assert graph.ok(f"applications/{app['id']}/federatedIdentityCredentials/{credential['name']}")["id"] == credential["id"]


def test_credentials_written_through_graph_decide_federated_sign_in(fresh: Graph, fresh_sim: Simulator) -> None:
    app = _own_app(fresh)
    base = f"applications/{app['id']}/federatedIdentityCredentials"
    subject = "repo:contoso/infra:environment:prod"
    assert _federated_token(fresh_sim, subject).status_code == 401
    created = fresh.post(base, {"name": "infra-prod", "issuer": "https://token.actions.githubusercontent.com", "subject": subject, "audiences": ["api://AzureADTokenExchange"]})
    assert created.status_code == 201, created.text
    credential = created.json()
    assert credential["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#applications('{app['id']}')/federatedIdentityCredentials/$entity"
    assert credential["description"] is None and _is_guid(credential["id"])
    assert _federated_token(fresh_sim, subject).status_code == 200

    moved = "repo:contoso/infra:environment:staging"
    assert fresh.patch(f"{base}/{credential['id']}", {"subject": moved}).status_code == 204
    assert _federated_token(fresh_sim, subject).status_code == 401
    assert _federated_token(fresh_sim, moved).status_code == 200
    assert_error(fresh.patch(f"{base}/{credential['id']}", {"name": "renamed"}), 400, "Request_BadRequest")  # immutable
    duplicate = fresh.post(base, {"name": "infra-prod", "issuer": "https://example.org", "subject": "x", "audiences": ["api://AzureADTokenExchange"]})
    assert duplicate.status_code == 409
    assert_error(fresh.post(base, {"name": "two", "issuer": "https://example.org", "subject": "y", "audiences": ["a", "b"]}), 400, "Request_BadRequest")

    assert fresh.delete(f"{base}/{credential['id']}").status_code == 204
    refused = _federated_token(fresh_sim, moved)
    # The seeded GitHub credential still trusts the issuer and audience: only the subject is unknown now.
    assert refused.status_code == 401 and refused.json()["error_codes"] == [700213]
    # The other direction: a credential the test harness adds is listed by Graph.
    fresh_sim.federation.add_credential("repo:contoso/app:ref:refs/heads/main", name="harness")
    assert "harness" in {c["name"] for c in fresh.ok(base)["value"]}
    assert _federated_token(fresh_sim, "repo:contoso/app:ref:refs/heads/main").status_code == 200


# --- app role assignments (serviceprincipal-post-approleassignedto, approleassignment resource) --------------


def test_own_service_principal_holds_its_graph_application_permissions(graph: Graph, sim: Simulator) -> None:
    sp = _own_sp(graph)
    response = graph.get(f"servicePrincipals/{sp['id']}/appRoleAssignments")
    assert response.status_code == 200 and response.headers["x-ms-resource-unit"] == "2"  # graph-behaviour §4
    body = response.json()
    assert body["@odata.context"] == f"{sim.graph_url}/v1.0/$metadata#servicePrincipals('{sp['id']}')/appRoleAssignments"
    graph_sp = _sp(graph, MICROSOFT_GRAPH_APP_ID)
    roles = {r["id"]: r["value"] for r in graph_sp["appRoles"]}
    held = {roles[a["appRoleId"]] for a in body["value"]}
    assert held == {"User.ReadWrite.All", "Group.ReadWrite.All", "Policy.Read.All", "Application.Read.All"}
    for assignment in body["value"]:
        assert set(assignment) == APP_ROLE_ASSIGNMENT_KEYS
        assert (assignment["principalType"], assignment["principalId"], assignment["resourceId"]) == ("ServicePrincipal", sp["id"], graph_sp["id"])
        assert assignment["resourceDisplayName"] == "Microsoft Graph"
        assert not _is_guid(assignment["id"]) and assignment["id"].startswith(_guid_prefix(sp["id"]))
    assigned_to = graph.all_pages(f"servicePrincipals/{graph_sp['id']}/appRoleAssignedTo")
    assert {a["id"] for a in body["value"]} <= {a["id"] for a in assigned_to}
    groups_with_roles = [a for a in graph.all_pages("servicePrincipals", {"$top": "999"}) if a["appRoles"] and a["appOwnerOrganizationId"] == sim.tenant_id]
    given = [a for sp_ in groups_with_roles for a in graph.ok(f"servicePrincipals/{sp_['id']}/appRoleAssignedTo")["value"]]
    assert {"Group", "User"} <= {a["principalType"] for a in given}


def test_assign_and_remove_an_app_role(fresh: Graph, fresh_sim: Simulator) -> None:
    resource = next(sp for sp in fresh.all_pages("servicePrincipals", {"$top": "999"}) if any("User" in r["allowedMemberTypes"] for r in sp["appRoles"]))
    role = next(r for r in resource["appRoles"] if "User" in r["allowedMemberTypes"])
    user = _some_user(fresh)
    base = f"servicePrincipals/{resource['id']}/appRoleAssignedTo"
    body = {"principalId": user["id"], "resourceId": resource["id"], "appRoleId": role["id"]}
    created = fresh.post(base, body)
    assert created.status_code == 201, created.text
    assignment = created.json()
    assert assignment["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#servicePrincipals('{resource['id']}')/appRoleAssignedTo/$entity"
    assert set(assignment) - {"@odata.context"} == APP_ROLE_ASSIGNMENT_KEYS
    assert (assignment["principalType"], assignment["principalDisplayName"], assignment["resourceDisplayName"]) == ("User", user["displayName"], resource["displayName"])
    assert assignment["id"].startswith(_guid_prefix(user["id"]))
    assert assignment["id"] in {a["id"] for a in fresh.ok(f"users/{user['id']}/appRoleAssignments")["value"]}
    assert_error(fresh.post(base, body), 400, "Request_BadRequest")  # already assigned
    assert_error(fresh.post(base, {**body, "appRoleId": str(uuid.uuid4())}), 400, "Request_BadRequest")
    assert_error(fresh.post(base, {**body, "principalId": str(uuid.uuid4())}), 404, "Request_ResourceNotFound")
    assert_error(fresh.patch(f"{base}/{assignment['id']}", {"appRoleId": role["id"]}), 405, "Request_BadRequest")
    assert fresh.delete(f"users/{user['id']}/appRoleAssignments/{assignment['id']}").status_code == 204
    assert_error(fresh.delete(f"{base}/{assignment['id']}"), 404, "Request_ResourceNotFound")

    group = fresh.find("groups", "Sales Team")
    created = fresh.post(f"groups/{group['id']}/appRoleAssignments", {"principalId": group["id"], "resourceId": resource["id"], "appRoleId": role["id"]})
    assert created.status_code == 201 and created.json()["principalType"] == "Group"
    mismatch = {"principalId": user["id"], "resourceId": resource["id"], "appRoleId": role["id"]}
    assert_error(fresh.post(f"groups/{group['id']}/appRoleAssignments", mismatch), 400, "Request_BadRequest")


# --- delegated permission grants (oauth2permissiongrant-post, -update, -delta) ------------------------------


def test_seeded_grants_have_the_documented_shape(graph: Graph) -> None:
    response = graph.get("oauth2PermissionGrants")
    assert response.status_code == 200 and response.headers["x-ms-resource-unit"] == "2"  # graph-behaviour §4
    grants = response.json()["value"]
    assert {g["consentType"] for g in grants} == {"AllPrincipals", "Principal"}
    for grant in grants:
        assert set(grant) == {"id", "clientId", "consentType", "principalId", "resourceId", "scope"}
        assert (grant["principalId"] is None) == (grant["consentType"] == "AllPrincipals")
        assert grant["id"].startswith(_guid_prefix(grant["clientId"])) and not _is_guid(grant["id"])
    principal = next(g for g in grants if g["consentType"] == "Principal")
    assert graph.ok("oauth2PermissionGrants", {"$filter": f"principalId eq '{principal['principalId']}'"})["value"]


def test_grant_lifecycle_and_delta(fresh: Graph) -> None:
    start = fresh.ok("oauth2PermissionGrants/delta")
    while "@odata.nextLink" in start:
        start = fresh.ok(start["@odata.nextLink"])
    client = _own_sp(fresh)
    resource = _sp(fresh, MICROSOFT_GRAPH_APP_ID)
    user = _some_user(fresh)
    body = {"clientId": client["id"], "consentType": "Principal", "principalId": user["id"], "resourceId": resource["id"], "scope": "User.Read"}
    created = fresh.post("oauth2PermissionGrants", body)
    assert created.status_code == 201, created.text
    grant = created.json()
    assert {k: grant[k] for k in body} == body
    assert fresh.post("oauth2PermissionGrants", body).status_code == 409
    assert_error(fresh.post("oauth2PermissionGrants", {**body, "consentType": "Everyone"}), 400, "Request_BadRequest")
    assert fresh.patch(f"oauth2PermissionGrants/{grant['id']}", {"scope": "User.Read Mail.Read"}).status_code == 204
    assert fresh.ok(f"oauth2PermissionGrants/{grant['id']}")["scope"] == "User.Read Mail.Read"
    assert_error(fresh.patch(f"oauth2PermissionGrants/{grant['id']}", {"clientId": resource["id"]}), 400, "Request_BadRequest")

    changed = fresh.ok(start["@odata.deltaLink"])
    assert [g["id"] for g in changed["value"]] == [grant["id"]]
    assert fresh.delete(f"oauth2PermissionGrants/{grant['id']}").status_code == 204
    assert_error(fresh.get(f"oauth2PermissionGrants/{grant['id']}"), 404, "Request_ResourceNotFound")
    removed = fresh.ok(changed["@odata.deltaLink"])
    assert removed["value"] == [{"id": grant["id"], "@removed": {"reason": "deleted"}}]


# --- directory roles (rbacapplication-post-roledefinitions, -roleassignments, PIM) ---------------------------


def test_role_definitions_built_in_and_custom(graph: Graph, sim: Simulator) -> None:
    body = graph.ok("roleManagement/directory/roleDefinitions")
    assert body["@odata.context"] == f"{sim.graph_url}/v1.0/$metadata#roleManagement/directory/roleDefinitions"
    by_id = {d["id"]: d for d in body["value"]}
    for template_id, name in BRIEF_ROLES.items():
        definition = by_id[template_id]
        assert (definition["displayName"], definition["isBuiltIn"], definition["templateId"]) == (name, True, template_id)
        assert definition["rolePermissions"][0]["allowedResourceActions"]
        assert set(definition) == {"id", "description", "displayName", "isBuiltIn", "isEnabled", "resourceScopes", "rolePermissions", "templateId", "version"}
    (custom,) = [d for d in body["value"] if not d["isBuiltIn"]]
    assert custom["displayName"] == "Helpdesk Tier 1 (custom)" and custom["templateId"] == custom["id"]


def test_custom_roles_are_writable_and_built_in_ones_are_not(fresh: Graph) -> None:
    base = "roleManagement/directory/roleDefinitions"
    created = fresh.post(base, {"displayName": "App Reader (custom)", "isEnabled": True, "rolePermissions": [{"allowedResourceActions": ["microsoft.directory/applications/standard/read"]}]})
    assert created.status_code == 201, created.text
    role = created.json()
    assert (role["isBuiltIn"], role["templateId"], role["version"]) == (False, role["id"], None)
    assert role["rolePermissions"] == [{"condition": None, "allowedResourceActions": ["microsoft.directory/applications/standard/read"]}]
    assert fresh.patch(f"{base}/{role['id']}", {"description": "Reads app registrations"}).status_code == 204
    assert_error(fresh.patch(f"{base}/{GLOBAL_ADMIN}", {"description": "mine now"}), 400, "Request_BadRequest")
    assert_error(fresh.delete(f"{base}/{GLOBAL_ADMIN}"), 400, "Request_BadRequest")
    assert fresh.delete(f"{base}/{role['id']}").status_code == 204
    assert_error(fresh.get(f"{base}/{role['id']}"), 404, "Request_ResourceNotFound")


def test_role_assignments_seeded_filtered_and_scoped(graph: Graph, sim: Simulator) -> None:
    base = "roleManagement/directory/roleAssignments"
    body = graph.ok(base)
    assert body["@odata.context"] == f"{sim.graph_url}/v1.0/$metadata#roleManagement/directory/roleAssignments"
    for assignment in body["value"]:
        assert set(assignment) == {"id", "condition", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId"}
        assert assignment["id"].endswith("-1") and not _is_guid(assignment["id"])  # graph-behaviour §9: opaque
    admins = graph.ok(base, {"$filter": f"roleDefinitionId eq '{GLOBAL_ADMIN}'"})["value"]
    names = {graph.ok(f"users/{a['principalId']}")["displayName"] for a in admins}
    assert {"Break Glass 1", "Break Glass 2"} <= names and len(admins) == 3
    one = admins[0]
    assert graph.ok(base, {"$filter": f"principalId eq '{one['principalId']}'"})["value"]
    assert graph.ok(f"{base}/{one['id']}")["id"] == one["id"]
    units = {u["id"] for u in graph.ok("directory/administrativeUnits")["value"]}
    scoped = [a for a in body["value"] if a["directoryScopeId"] != "/"]
    assert scoped and all(a["directoryScopeId"].removeprefix("/administrativeUnits/") in units for a in scoped)


def test_assign_and_remove_a_directory_role(fresh: Graph) -> None:
    base = "roleManagement/directory/roleAssignments"
    user = fresh.find("users", "Break Glass 2")
    unit = fresh.ok("directory/administrativeUnits")["value"][0]
    body = {"@odata.type": "#microsoft.graph.unifiedRoleAssignment", "roleDefinitionId": USER_ADMIN, "principalId": user["id"], "directoryScopeId": f"/administrativeUnits/{unit['id']}"}
    created = fresh.post(base, body)
    assert created.status_code == 201, created.text
    assignment = created.json()
    assert assignment["@odata.context"].endswith("/$metadata#roleManagement/directory/roleAssignments/$entity")
    # Role definition, principal and scope object, little-endian, base64url, '-1' (the documentation's example 3).
    raw = b"".join(uuid.UUID(g).bytes_le for g in (USER_ADMIN, user["id"], unit["id"]))
    assert assignment["id"] == base64.urlsafe_b64encode(raw).decode().rstrip("=") + "-1"
    assert_error(fresh.post(base, body), 400, "Request_BadRequest")
    assert_error(fresh.patch(f"{base}/{assignment['id']}", {"directoryScopeId": "/"}), 405, "Request_BadRequest")
    assert_error(fresh.post(base, {**body, "principalId": str(uuid.uuid4())}), 404, "Request_ResourceNotFound")
    group = fresh.find("groups", "Sales Team")  # not role-assignable
    assert_error(fresh.post(base, {**body, "principalId": group["id"]}), 400, "Request_BadRequest")
    assert fresh.delete(f"{base}/{assignment['id']}").status_code == 204
    assert_error(fresh.get(f"{base}/{assignment['id']}"), 404, "Request_ResourceNotFound")


def test_pim_eligibility_through_schedule_requests(fresh: Graph, fresh_sim: Simulator) -> None:
    schedules = "roleManagement/directory/roleEligibilitySchedules"
    seeded = fresh.ok(schedules)["value"]
    assert len(seeded) == 3
    for schedule in seeded:
        assert {k: schedule[k] for k in ("memberType", "status", "directoryScopeId")} == {"memberType": "Direct", "status": "Provisioned", "directoryScopeId": "/"}
        assert schedule["scheduleInfo"]["expiration"]["type"] in ("noExpiration", "afterDateTime")
        assert schedule["createdUsing"] == schedule["id"]
    user = fresh.find("users", "Break Glass 2")
    request = {"action": "adminAssign", "justification": "on call", "roleDefinitionId": USER_ADMIN, "directoryScopeId": "/", "principalId": user["id"]}
    created = fresh.post("roleManagement/directory/roleEligibilityScheduleRequests", request)
    assert created.status_code == 201, created.text
    made = created.json()
    assert made["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#roleManagement/directory/roleEligibilityScheduleRequests/$entity"
    assert (made["status"], made["action"], made["targetScheduleId"], made["isValidationOnly"]) == ("Provisioned", "adminAssign", made["id"], False)
    assert made["scheduleInfo"]["expiration"] == {"type": "noExpiration", "endDateTime": None, "duration": None}
    new = fresh.ok(f"{schedules}/{made['id']}")
    assert (new["principalId"], new["roleDefinitionId"], new["memberType"]) == (user["id"], USER_ADMIN, "Direct")
    assert fresh.ok(schedules, {"$filter": f"principalId eq '{user['id']}'"})["value"] == [{k: v for k, v in new.items() if k != "@odata.context"}]
    assert_error(fresh.post("roleManagement/directory/roleEligibilityScheduleRequests", request), 400, "RoleAssignmentExists")
    assert_error(fresh.post(schedules, {"principalId": user["id"]}), 405, "Request_BadRequest")

    removal = fresh.post("roleManagement/directory/roleEligibilityScheduleRequests", {"action": "adminRemove", "roleDefinitionId": USER_ADMIN, "directoryScopeId": "/", "principalId": user["id"]})
    assert removal.status_code == 201
    assert (removal.json()["status"], removal.json()["scheduleInfo"], removal.json()["targetScheduleId"]) == ("Revoked", None, None)
    assert_error(fresh.get(f"{schedules}/{made['id']}"), 404, "Request_ResourceNotFound")
    listed = fresh.ok("roleManagement/directory/roleEligibilityScheduleRequests")["value"]
    assert [r["action"] for r in listed if r["principalId"] == user["id"]].count("adminRemove") == 1


# --- permissions ---------------------------------------------------------------------------------------------


def test_denied_paths_refuse_one_type_and_leave_the_rest(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.apply("denied_paths=roleManagement/directory/roleEligibilitySchedules, oauth2PermissionGrants,identity/conditionalAccess")
    error = assert_error(fresh.get("roleManagement/directory/roleEligibilitySchedules"), 403, "Authorization_RequestDenied")
    assert error["message"] == "Insufficient privileges to complete the operation."
    assert_error(fresh.get("oauth2PermissionGrants/delta"), 403, "Authorization_RequestDenied")
    assert_error(fresh.get("OAuth2PermissionGrants"), 403, "Authorization_RequestDenied")  # paths compare case-insensitively
    # The CA backend (graph-behaviour §5)
    assert_error(fresh.get("identity/conditionalAccess/policies"), 403, "AccessDenied")
    assert fresh.get("roleManagement/directory/roleAssignments").status_code == 200
    batch = fresh.post("$batch", {"requests": [{"id": "1", "method": "GET", "url": "/oauth2PermissionGrants"}, {"id": "2", "method": "GET", "url": "/users?$top=1"}]})
    statuses = {r["id"]: r["status"] for r in batch.json()["responses"]}
    assert statuses == {"1": 403, "2": 200}
    # Prefixes match whole segments: "oauth2" denies nothing.
    fresh_sim.settings.denied_paths = "oauth2"
    assert fresh.get("oauth2PermissionGrants").status_code == 200
    assert Settings().denied_paths == ""


# --- seed -----------------------------------------------------------------------------------------------------


def test_identity_seed_is_reproducible_and_scales() -> None:
    one, two = build_tenant(42, "small").tenant, build_tenant(42, "small").tenant
    for spec in model_identity.IDENTITY_COLLECTIONS:
        assert list(one.objects[spec.name].values()) == list(two.objects[spec.name].values())
    medium = build_tenant(42, "medium").tenant
    counts = {spec.name: len(medium.objects[spec.name]) for spec in model_identity.IDENTITY_COLLECTIONS}
    small_counts = {spec.name: len(one.objects[spec.name]) for spec in model_identity.IDENTITY_COLLECTIONS}
    assert small_counts["roleAssignments"] < counts["roleAssignments"] and small_counts["appRoleAssignments"] < counts["appRoleAssignments"]
    assert counts["roleDefinitions"] == len(model_identity.BUILT_IN_ROLES) + 1
    assert (counts["extensionProperties"], counts["federatedIdentityCredentials"]) == (2, 2)
