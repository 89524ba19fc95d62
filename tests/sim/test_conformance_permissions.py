"""Application permissions: tokens carry the roles the app was granted, and each path takes the permissions
Microsoft's page for it lists (https://learn.microsoft.com/graph/permissions-reference): any one of them, a
ReadWrite one including the Read one of its family; an app holding none gets 403 and Graph's body."""

from __future__ import annotations

import base64
import json
from typing import Any

from simclient import Graph, assert_error

from entragit.sim import Settings, Simulator

DENIED = "Insufficient privileges to complete the operation."


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def granted(sim: Simulator, roles: str) -> Graph:
    """A client whose token was issued after the app was granted exactly these roles."""
    sim.settings.app_roles = roles
    return Graph(sim)


def test_tokens_carry_the_roles_granted_to_the_app(fresh: Graph, fresh_sim: Simulator) -> None:
    # By default the app holds what entragit reads and writes, the audit log included.
    assert {"Directory.ReadWrite.All", "Policy.ReadWrite.ConditionalAccess", "RoleManagement.ReadWrite.Directory",
            "AuditLog.Read.All"} <= set(claims(fresh.token())["roles"])
    fresh_sim.settings.apply("app_roles=User.Read.All, Group.Read.All")
    assert claims(fresh.token())["roles"] == ["User.Read.All", "Group.Read.All"]
    assert Settings().app_roles is None


def test_a_read_permission_reads_its_family_only(fresh_sim: Simulator) -> None:
    graph = granted(fresh_sim, "User.Read.All")
    user = graph.ok("users", {"$top": "1"})["value"][0]
    assert graph.get(f"users/{user['id']}").status_code == 200
    assert graph.get("users/delta").status_code == 200
    assert_error(graph.get("groups"), 403, "Authorization_RequestDenied", DENIED)
    assert_error(graph.patch(f"users/{user['id']}", {"jobTitle": "x"}), 403, "Authorization_RequestDenied", DENIED)
    assert_error(graph.get("identity/conditionalAccess/policies"), 403, "AccessDenied", DENIED)  # the CA backend's code


def test_read_write_includes_read_of_the_same_family(fresh_sim: Simulator) -> None:
    graph = granted(fresh_sim, "Group.ReadWrite.All")
    group = graph.ok("groups", {"$top": "1"})["value"][0]
    assert graph.get(f"groups/{group['id']}/members").status_code == 200
    assert graph.patch(f"groups/{group['id']}", {"description": "written"}).status_code == 204
    assert_error(graph.get("users"), 403, "Authorization_RequestDenied")


def test_directory_read_write_covers_directory_objects_but_not_policies_or_applications(fresh_sim: Simulator) -> None:
    graph = granted(fresh_sim, "Directory.ReadWrite.All")
    user = graph.ok("users", {"$top": "1"})["value"][0]
    group = graph.ok("groups", {"$top": "1"})["value"][0]
    assert graph.patch(f"users/{user['id']}", {"jobTitle": "written"}).status_code == 204
    assert graph.patch(f"groups/{group['id']}", {"description": "written"}).status_code == 204
    app = graph.ok("applications", {"$top": "1"})["value"][0]  # Directory.Read.All reads applications...
    # ...but their update page lists only Application.ReadWrite.*
    assert_error(graph.patch(f"applications/{app['id']}", {"notes": "x"}), 403, "Authorization_RequestDenied")
    assert_error(graph.get("identity/conditionalAccess/namedLocations"), 403, "AccessDenied")
    assert_error(graph.get("policies/authorizationPolicy"), 403, "Authorization_RequestDenied")


def test_conditional_access_needs_its_own_permissions(fresh_sim: Simulator) -> None:
    reader = granted(fresh_sim, "Policy.Read.All")
    location = reader.ok("identity/conditionalAccess/namedLocations")["value"][0]
    path = f"identity/conditionalAccess/namedLocations/{location['id']}"
    body = {"@odata.type": location["@odata.type"], "displayName": "renamed"}
    assert_error(reader.patch(path, body), 403, "AccessDenied")
    writer = granted(fresh_sim, "Policy.ReadWrite.ConditionalAccess")
    assert writer.patch(path, body).status_code == 204
    assert writer.get("identity/conditionalAccess/authenticationContextClassReferences").status_code == 200


def test_batch_items_are_checked_one_by_one(fresh_sim: Simulator) -> None:
    graph = granted(fresh_sim, "User.Read.All")
    batch = graph.post("$batch", {"requests": [{"id": "1", "method": "GET", "url": "/groups?$top=1"},
                                               {"id": "2", "method": "GET", "url": "/users?$top=1"}]})
    answers = {r["id"]: r for r in batch.json()["responses"]}
    assert (answers["1"]["status"], answers["2"]["status"]) == (403, 200)
    assert answers["1"]["body"]["error"]["code"] == "Authorization_RequestDenied"


def test_a_token_keeps_the_roles_it_was_issued_with(fresh_sim: Simulator) -> None:
    graph = granted(fresh_sim, "User.Read.All,Group.Read.All")
    fresh_sim.settings.app_roles = "User.Read.All"  # consent revoked: only new tokens lose it
    assert graph.get("groups").status_code == 200
    graph.renew()
    assert_error(graph.get("groups"), 403, "Authorization_RequestDenied")


def test_delegated_tokens_are_not_checked_against_application_roles(fresh_sim: Simulator) -> None:
    fresh_sim.settings.app_roles = ""
    graph = Graph(fresh_sim)
    assert_error(graph.get("users"), 403, "Authorization_RequestDenied")
    upn = next(iter(fresh_sim.tenant.objects["users"].values()))["userPrincipalName"]
    graph.session.headers["Authorization"] = f"Bearer {fresh_sim.user_token(upn)}"
    assert graph.get("users").status_code == 200
