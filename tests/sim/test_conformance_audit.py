"""The directory audit log (auditLogs/directoryAudits): the directoryAudit shape, who is named as the
initiator, the documented $filter attributes, newest-first paging, the AuditLog.Read.All refusal, the
delay before records appear, and retention."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from simclient import Graph, assert_error
from tuned import batch_of, by_id

from entragit.sim import Simulator

AUDITS = "auditLogs/directoryAudits"
JSON = {"Content-Type": "application/json"}


def _user(graph: Graph, index: int = 0) -> dict[str, Any]:
    return dict(graph.ok("users", {"$top": "10", "$select": "id,displayName,userPrincipalName,department"})["value"][index])


def _as_user(sim: Simulator, upn: str) -> Graph:
    graph = Graph(sim)
    graph.session.headers["Authorization"] = f"Bearer {sim.user_token(upn)}"
    return graph


def _about(graph: Graph, object_id: str) -> list[dict[str, Any]]:
    return graph.all_pages(AUDITS, {"$filter": f"targetResources/any(t: t/id eq '{object_id}')"})


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_update_by_the_app_is_recorded_with_the_documented_shape(fresh: Graph, fresh_sim: Simulator) -> None:
    user = _user(fresh)
    assert fresh.patch(f"users/{user['id']}", {"department": "Audit Test"}).status_code == 204

    page = fresh.ok(AUDITS)
    assert page["@odata.context"].endswith("/$metadata#auditLogs/directoryAudits")
    [record] = [r for r in page["value"] if any(t["id"] == user["id"] for t in r["targetResources"])]
    assert set(record) >= {"id", "category", "correlationId", "result", "resultReason", "activityDisplayName",
                           "activityDateTime", "loggedByService", "operationType", "initiatedBy",
                           "targetResources", "additionalDetails"}
    assert record["activityDisplayName"] == "Update user"
    assert (record["category"], record["loggedByService"], record["operationType"], record["result"]) == (
        "UserManagement", "Core Directory", "Update", "success")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", record["activityDateTime"])
    app = record["initiatedBy"]["app"]
    assert record["initiatedBy"]["user"] is None
    assert app["appId"] == fresh_sim.client_id and app["servicePrincipalId"] and app["displayName"]
    [target] = record["targetResources"]
    assert (target["id"], target["type"], target["userPrincipalName"]) == (user["id"], "User", user["userPrincipalName"])
    changed = {p["displayName"]: p for p in target["modifiedProperties"]}
    # Entra names a user's properties as Active Directory does (settings.audit_ad_names).
    assert changed["Department"]["newValue"] == '["Audit Test"]'
    assert changed["Department"]["oldValue"] == (f'["{user["department"]}"]' if user["department"] else "[]")
    assert fresh.ok(f"{AUDITS}/{record['id']}")["activityDisplayName"] == "Update user"


def test_a_delegated_token_makes_the_user_the_initiator(fresh: Graph, fresh_sim: Simulator) -> None:
    actor, target = _user(fresh, 0), _user(fresh, 1)
    as_actor = _as_user(fresh_sim, actor["userPrincipalName"])
    assert as_actor.patch(f"users/{target['id']}", {"jobTitle": "Changed by a person"}).status_code == 204

    [record] = _about(fresh, target["id"])
    assert record["initiatedBy"]["app"] is None
    assert record["initiatedBy"]["user"]["id"] == actor["id"]
    assert record["initiatedBy"]["user"]["userPrincipalName"] == actor["userPrincipalName"]
    assert record["initiatedBy"]["user"]["displayName"] == actor["displayName"]


def test_member_writes_name_member_and_group_and_deletes_do_not_log_their_cascade(fresh: Graph) -> None:
    group = fresh.find("groups", "Finance Team")
    user = _user(fresh, 3)
    added = fresh.post(f"groups/{group['id']}/members/$ref",
                       {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"})
    assert added.status_code == 204
    [record] = _about(fresh, group["id"])
    assert record["activityDisplayName"] == "Add member to group"
    assert record["category"] == "GroupManagement"
    assert [(t["id"], t["type"]) for t in record["targetResources"]] == [(user["id"], "User"), (group["id"], "Group")]

    assert fresh.delete(f"users/{user['id']}").status_code == 204
    assert fresh.post(f"directory/deletedItems/{user['id']}/restore", {}).status_code == 200
    activities = [r["activityDisplayName"] for r in _about(fresh, user["id"])]
    assert activities == ["Restore user", "Delete user", "Add member to group"]  # newest first, no cascade


def test_each_batch_item_that_writes_is_recorded(fresh: Graph) -> None:
    first, second = _user(fresh, 4), _user(fresh, 5)
    answers = by_id(fresh.post("$batch", batch_of(
        {"method": "PATCH", "url": f"/users/{first['id']}", "body": {"city": "Delft"}, "headers": JSON},
        {"method": "PATCH", "url": f"/users/{second['id']}", "body": {"city": "Ghent"}, "headers": JSON},
        {"method": "GET", "url": f"/users/{second['id']}"},
    )))
    assert [answers[i]["status"] for i in ("1", "2", "3")] == [204, 204, 200]
    assert [len(_about(fresh, u["id"])) for u in (first, second)] == [1, 1]
    assert len(fresh.all_pages(AUDITS)) == 2  # the GET is not audited


def test_filter_on_activity_time_keeps_the_window(fresh: Graph, fresh_sim: Simulator) -> None:
    early, late = _user(fresh, 0), _user(fresh, 1)
    fresh.patch(f"users/{early['id']}", {"city": "Early"})
    fresh_sim.clock.advance(3600)
    boundary = fresh_sim.clock.utcnow()
    fresh.renew()
    fresh.patch(f"users/{late['id']}", {"city": "Late"})

    def targets(filter_text: str) -> list[str]:
        return [r["targetResources"][0]["id"] for r in fresh.all_pages(AUDITS, {"$filter": filter_text})]

    assert targets(f"activityDateTime ge {_stamp(boundary)}") == [late["id"]]
    assert targets(f"activityDateTime le {_stamp(boundary)}") == [early["id"]]
    before, after = _stamp(boundary - timedelta(hours=2)), _stamp(boundary + timedelta(minutes=5))
    assert targets(f"activityDateTime ge {before} and activityDateTime le {after}") == [late["id"], early["id"]]
    tomorrow = (boundary + timedelta(days=1)).date().isoformat()
    assert targets(f"activityDateTime ge {tomorrow}") == []
    assert targets(f"initiatedBy/app/appId eq '{fresh_sim.client_id}' and activityDisplayName eq 'Update user'") == [
        late["id"], early["id"]]
    assert targets("startswith(activityDisplayName, 'Add')") == []


def test_unsupported_filters_are_refused_not_guessed(fresh: Graph) -> None:
    fresh.patch(f"users/{_user(fresh)['id']}", {"city": "Anywhere"})
    quoted = fresh.get(AUDITS, {"$filter": "activityDateTime ge '2026-01-01T00:00:00Z'"})
    assert_error(quoted, 400, "Request_BadRequest")
    assert "Edm.DateTimeOffset" in quoted.json()["error"]["message"]
    assert_error(fresh.get(AUDITS, {"$filter": "category eq 'UserManagement'"}), 400, "Request_UnsupportedQuery")
    assert_error(fresh.get(AUDITS, {"$filter": "activityDateTime gt 2026-01-01"}), 400, "Request_UnsupportedQuery")
    assert_error(fresh.get(AUDITS, {"$orderby": "category"}), 400, "Request_UnsupportedQuery")
    assert_error(fresh.get(AUDITS, {"$top": "1000"}), 400, "Request_UnsupportedQuery")


def test_pages_come_newest_first_and_chain_without_gaps(fresh: Graph, fresh_sim: Simulator) -> None:
    users = [_user(fresh, i) for i in range(5)]
    for n, user in enumerate(users):
        fresh.patch(f"users/{user['id']}", {"city": f"City {n}"})
        fresh_sim.clock.advance(1)
    fresh.renew()
    first = fresh.ok(AUDITS, {"$top": "2"})
    assert len(first["value"]) == 2 and "$top=2" in first["@odata.nextLink"]
    newest_first = fresh.all_pages(AUDITS, {"$top": "2"})
    assert [r["targetResources"][0]["id"] for r in newest_first] == [u["id"] for u in reversed(users)]
    oldest_first = fresh.all_pages(AUDITS, {"$top": "2", "$orderby": "activityDateTime asc"})
    assert [r["id"] for r in oldest_first] == [r["id"] for r in reversed(newest_first)]


def test_an_app_without_auditlog_read_all_is_refused(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.audit_log_read = False
    assert_error(fresh.get(AUDITS), 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    fresh_sim.settings.audit_log_read = True
    assert fresh.get(AUDITS).status_code == 200


def test_records_appear_after_the_delay_and_leave_after_retention(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.audit_delay_seconds = 120
    user = _user(fresh)
    fresh.patch(f"users/{user['id']}", {"city": "Later"})
    assert _about(fresh, user["id"]) == []
    fresh_sim.clock.advance(121)
    fresh.renew()
    [record] = _about(fresh, user["id"])
    assert datetime.fromisoformat(record["activityDateTime"][:26]).replace(tzinfo=timezone.utc) < fresh_sim.clock.utcnow()
    fresh_sim.clock.advance(31 * 86400)
    fresh.renew()
    assert _about(fresh, user["id"]) == []


def test_role_assignments_are_logged_as_role_membership(fresh: Graph) -> None:
    user = _user(fresh, 6)
    created = fresh.post("roleManagement/directory/roleAssignments", {
        "principalId": user["id"], "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10", "directoryScopeId": "/"})
    assert created.status_code == 201, created.text
    assert fresh.delete(f"roleManagement/directory/roleAssignments/{created.json()['id']}").status_code == 204
    records = _about(fresh, created.json()["id"])
    assert [(r["activityDisplayName"], r["category"]) for r in records] == [
        ("Remove member from role", "RoleManagement"), ("Add member to role", "RoleManagement")]
