"""Entra Backup and Recovery (/directory/recovery) and the device code sign-in it needs, held to Microsoft's
pages: learn.microsoft.com/graph/api/resources/entrarecoveryservices-backup-recovery-overview and the method
pages named in each test, learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import msal
import pytest
import requests
from documented import fill
from simclient import Graph, sim_session

from entragit.sim import Simulator
from entragit.sim.model import GROUPS, USERS
from entragit.sim.native import DAY

PREFER = {"Prefer": "include-unknown-enum-members"}
# Microsoft's examples for this API, written as documented.py says (`job`: what the example needs first), in a
# folder of their own: the corpus proper holds one file per registry type, and these need a person and a job.
EXAMPLES = json.loads((Path(__file__).parent / "corpus" / "native" / "recovery.json").read_text(encoding="utf-8"))
HOUR = 3600
ADMIN_SCOPES = ("EntraBackup.ReadWrite.Preview", "EntraBackup.Read.All")


def _person(sim: Simulator, index: int = 0) -> dict[str, Any]:
    return sim.tenant.sorted_objects(USERS)[index]


def person_session(sim: Simulator, role: str | None = "Entra Backup Administrator",
                   scopes: tuple[str, ...] = ADMIN_SCOPES, index: int = 0) -> requests.Session:
    """A session for a person signed in through msal's device code flow, holding `role`."""
    user = _person(sim, index)
    # These tests move the clock by hours and days; the sign-in's renewal is another test's subject.
    sim.settings.token_lifetime_seconds = 30 * DAY
    if role is not None:
        sim.native.grant(user["id"], role)
    session = sim_session(sim)
    app = msal.PublicClientApplication(sim.client_id, authority=sim.authority, http_client=session,
                                       instance_discovery=False)
    flow = app.initiate_device_flow(scopes=[f"{sim.graph_url}/{scope}" for scope in scopes])
    sim.enter_device_code(flow["user_code"], user["userPrincipalName"])
    result = app.acquire_token_by_device_flow(flow)
    session.headers["Authorization"] = f"Bearer {result['access_token']}"
    return session


def url(sim: Simulator, path: str) -> str:
    return f"{sim.graph_url}/v1.0/directory/recovery/{path}"


def snapshots(session: requests.Session, sim: Simulator) -> list[dict[str, Any]]:
    response = session.get(url(sim, "snapshots"))
    assert response.status_code == 200, response.text
    return list(response.json()["value"])


def start(session: requests.Session, sim: Simulator, snapshot_id: str, body: Any = None) -> requests.Response:
    return session.post(url(sim, f"snapshots/{snapshot_id}/recoveryPreviewJobs"), json=body)


def finish(sim: Simulator, session: requests.Session, location: str) -> dict[str, Any]:
    sim.clock.advance(3 * HOUR)
    job = session.get(location, headers=PREFER).json()
    assert job["status"] == "successful", job
    return dict(job)


def test_device_code_endpoints_answer_as_entra_documents(fresh_sim: Simulator) -> None:
    session = sim_session(fresh_sim)
    code = session.post(f"{fresh_sim.authority}/oauth2/v2.0/devicecode",
                        data={"client_id": fresh_sim.client_id, "scope": f"{fresh_sim.graph_url}/EntraBackup.Read.All"})
    assert code.status_code == 200
    body = code.json()
    assert {"device_code", "user_code", "verification_uri", "expires_in", "interval", "message"} <= set(body)
    poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": fresh_sim.client_id,
            "device_code": body["device_code"]}
    pending = session.post(f"{fresh_sim.authority}/oauth2/v2.0/token", data=poll)
    assert (pending.status_code, pending.json()["error"]) == (400, "authorization_pending")
    fresh_sim.enter_device_code(body["user_code"], _person(fresh_sim)["userPrincipalName"])
    granted = session.post(f"{fresh_sim.authority}/oauth2/v2.0/token", data=poll)
    assert granted.status_code == 200 and granted.json()["scope"] == "EntraBackup.Read.All"
    # A job runs for hours: the refresh token gets the next access token without the person.
    refresh = {"grant_type": "refresh_token", "client_id": fresh_sim.client_id,
               "refresh_token": granted.json()["refresh_token"]}
    renewed = session.post(f"{fresh_sim.authority}/oauth2/v2.0/token", data=refresh)
    assert renewed.status_code == 200 and renewed.json()["access_token"] != granted.json()["access_token"]
    assert session.post(f"{fresh_sim.authority}/oauth2/v2.0/token", data=refresh).json()["error"] == "invalid_grant"
    fresh_sim.clock.advance(901)
    again = session.post(f"{fresh_sim.authority}/oauth2/v2.0/devicecode",
                         data={"client_id": fresh_sim.client_id, "scope": f"{fresh_sim.graph_url}/EntraBackup.Read.All"})
    fresh_sim.clock.advance(901)
    expired = session.post(f"{fresh_sim.authority}/oauth2/v2.0/token", data={**poll, "device_code": again.json()["device_code"]})
    assert expired.json()["error"] == "expired_token"


def test_snapshots_are_daily_newest_first_and_kept_seven_or_five_days(fresh_sim: Simulator) -> None:
    # entrarecoveryservices-recovery-list-snapshots: ids are the base64 of the backup's time.
    session = person_session(fresh_sim)
    listed = snapshots(session, fresh_sim)
    assert len(listed) == 7
    times = [s["createdDateTime"] for s in listed]
    assert times == sorted(times, reverse=True) and all(t.endswith("T22:00:00Z") for t in times)
    assert base64.b64decode(listed[0]["id"]).decode() == times[0]
    got = session.get(url(fresh_sim, f"snapshots/{listed[0]['id']}"))
    assert got.status_code == 200 and got.json()["createdDateTime"] == times[0]
    fresh_sim.native.retention_days = 5
    fresh_sim.clock.advance(DAY)
    later = snapshots(session, fresh_sim)
    assert len(later) == 5 and later[1]["id"] == listed[0]["id"]


def test_apps_read_with_the_permission_but_never_start_a_job(fresh_sim: Simulator) -> None:
    # entrarecoveryservices-snapshot-post-recoverypreviewjobs: Application, Not supported.
    fresh_sim.settings.token_lifetime_seconds = 30 * DAY
    app = Graph(fresh_sim)
    assert app.get("directory/recovery/snapshots").status_code == 403
    fresh_sim.settings.app_roles = "EntraBackup.Read.All"
    app.renew()
    listed = app.get("directory/recovery/snapshots")
    assert listed.status_code == 200
    point = listed.json()["value"][0]["id"]
    assert app.request("POST", f"directory/recovery/snapshots/{point}/recoveryPreviewJobs").status_code == 403
    assert fresh_sim.native.jobs == {}


def test_people_need_the_backup_roles(fresh_sim: Simulator) -> None:
    nobody = person_session(fresh_sim, role=None, index=1)
    assert nobody.get(url(fresh_sim, "snapshots")).status_code == 403
    reader = person_session(fresh_sim, role="Entra Backup Reader", index=2)
    point = snapshots(reader, fresh_sim)[0]["id"]
    assert start(reader, fresh_sim, point).status_code == 403
    read_only = person_session(fresh_sim, scopes=("EntraBackup.Read.All",), index=3)
    assert start(read_only, fresh_sim, point).status_code == 403
    assert start(person_session(fresh_sim), fresh_sim, point).status_code == 202


def test_one_job_at_a_time_and_its_statuses_as_the_clock_moves(fresh_sim: Simulator) -> None:
    session = person_session(fresh_sim)
    points = snapshots(session, fresh_sim)
    created = start(session, fresh_sim, points[0]["id"])
    # 202 with the job's address and no body (entrarecoveryservices-snapshot-post-recoverypreviewjobs).
    assert created.status_code == 202 and not created.content
    location = created.headers["Location"]
    assert location.startswith(url(fresh_sim, f"snapshots/{points[0]['id']}/recoveryPreviewJobs/"))
    busy = start(session, fresh_sim, points[1]["id"])
    assert busy.status_code == 409
    seen = [session.get(location, headers=PREFER).json()["status"]]
    for step in (120, 3600, 600):
        fresh_sim.clock.advance(step)
        seen.append(session.get(location, headers=PREFER).json()["status"])
    assert seen == ["initialized", "loadingData", "calculating", "successful"]
    job = session.get(location).json()
    assert job["jobCompletionDateTime"] is not None and job["totalChangedObjectsCalculated"] == 0
    # A second job on a loaded backup skips loading; without the Prefer header the late members read
    # unknownFutureValue (entrarecoveryservices-recoveryjobbase).
    second = start(session, fresh_sim, points[0]["id"]).headers["Location"]
    fresh_sim.clock.advance(120)
    assert session.get(second, headers=PREFER).json()["status"] == "calculating"
    assert session.get(second).json()["status"] == "unknownFutureValue"
    listed = session.get(url(fresh_sim, "jobs")).json()["value"]
    assert {j["@odata.type"] for j in listed} == {"#microsoft.graph.entraRecoveryServices.recoveryPreviewJob"}
    job_id = second.rsplit("/", 1)[1]
    cancelled = session.post(url(fresh_sim, f"jobs/{job_id}/microsoft.graph.entraRecoveryServices.cancel"))
    assert cancelled.status_code == 202 and cancelled.headers["Location"].endswith(f"/directory/recovery/jobs/{job_id}")
    assert session.get(second).json()["status"] == "abandoned"
    assert session.get(f"{second}/microsoft.graph.entraRecoveryServices.getChanges").status_code == 400


def test_get_changes_gives_the_backups_values_of_what_changed(fresh_sim: Simulator) -> None:
    session = person_session(fresh_sim)
    admin = Graph(fresh_sim)  # signed in after person_session made tokens long-lived
    users = fresh_sim.tenant.sorted_objects(USERS)
    changed, removed = users[5], users[6]
    old_title = changed.get("jobTitle")
    point = snapshots(session, fresh_sim)[0]["id"]
    assert admin.request("PATCH", f"users/{changed['id']}", json={"jobTitle": "Changed since"}).status_code == 204
    assert admin.request("DELETE", f"users/{removed['id']}").status_code == 204
    made = admin.request("POST", "users", json={
        "accountEnabled": True, "displayName": "New Since", "mailNickname": "newsince",
        "userPrincipalName": f"newsince@{fresh_sim.tenant.domain}",
        "passwordProfile": {"password": "x!Y2-long-enough-passw0rd"}}).json()
    location = start(session, fresh_sim, point).headers["Location"]
    early = session.get(f"{location}/microsoft.graph.entraRecoveryServices.getChanges")
    assert early.status_code == 400
    finish(fresh_sim, session, location)
    first = session.get(f"{location}/microsoft.graph.entraRecoveryServices.getChanges", params={"$top": "1"}).json()
    assert len(first["value"]) == 1 and "$skiptoken=" in first["@odata.nextLink"]
    items = list(first["value"])
    link = first["@odata.nextLink"]
    while link:
        page = session.get(link).json()
        items += page["value"]
        link = page.get("@odata.nextLink")
    by_id = {item["id"]: item for item in items}
    assert by_id[changed["id"]]["recoveryAction"] == "update"
    assert by_id[changed["id"]]["deltaFromCurrent"] == {"@odata.type": "#microsoft.graph.user", "jobTitle": old_title}
    assert by_id[changed["id"]]["currentState"]["jobTitle"] == "Changed since"
    assert by_id[removed["id"]]["recoveryAction"] == "restore"
    assert by_id[removed["id"]]["deltaFromCurrent"]["deletedDateTime"] is None
    assert by_id[made["id"]]["recoveryAction"] == "softDelete"
    assert by_id[made["id"]]["deltaFromCurrent"]["@removed"] == {"reason": "changed"}
    beta = session.get(location.replace("/v1.0/", "/beta/") + "/getChanges")
    assert beta.status_code == 200 and len(beta.json()["value"]) == len(items)
    # The deleted user's memberships are links recovery adds back.
    assert any({"@odata.type": "#microsoft.graph.user", "id": removed["id"]} in i["deltaFromCurrent"].get("members@delta", [])
               for i in items)


def test_group_members_come_back_as_members_delta(fresh_sim: Simulator) -> None:
    session = person_session(fresh_sim)
    admin = Graph(fresh_sim)  # signed in after person_session made tokens long-lived
    group = next(g for g in fresh_sim.tenant.sorted_objects(GROUPS)
                 if fresh_sim.tenant.links["members"].get(g["id"]) and not g.get("membershipRule"))
    member = sorted(fresh_sim.tenant.links["members"][group["id"]])[0]
    point = snapshots(session, fresh_sim)[0]["id"]
    assert admin.request("DELETE", f"groups/{group['id']}/members/{member}/$ref").status_code == 204
    location = start(session, fresh_sim, point, {"filteringCriteria": {
        "@odata.type": "#microsoft.graph.entraRecoveryServices.recoveryJobEntityNamesFilter",
        "entityTypes": ["group"]}}).headers["Location"]
    finish(fresh_sim, session, location)
    items = session.get(f"{location}/microsoft.graph.entraRecoveryServices.getChanges").json()["value"]
    assert [i["id"] for i in items] == [group["id"]]
    assert items[0]["deltaFromCurrent"]["members@delta"] == [{"@odata.type": "#microsoft.graph.user", "id": member}]


def test_filters_are_checked(fresh_sim: Simulator) -> None:
    session = person_session(fresh_sim)
    point = snapshots(session, fresh_sim)[0]["id"]
    twice = {"filteringCriteria": {
        "@odata.type": "#microsoft.graph.entraRecoveryServices.recoveryJobEntityNameAndIdsFilter",
        "filterValues": [{"entityType": "user", "entityIds": []}, {"entityType": "user", "entityIds": []}]}}
    # entrarecoveryservices-recoveryjobentitynameandidsfilter: a type named twice is 400.
    assert start(session, fresh_sim, point, twice).status_code == 400
    assert start(session, fresh_sim, "bm90LWEtcG9pbnQ=").status_code == 404


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e['page']}:{e['name']}" for e in EXAMPLES])
def test_documented_example(fresh_sim: Simulator, example: dict[str, Any]) -> None:
    session = person_session(fresh_sim)
    point = snapshots(session, fresh_sim)[0]["id"]
    # What the example needs first (`job`): a job of the newest backup, still running or finished, made
    # after a user changed.
    job = ""
    if example.get("job") == "finished after a change":
        user = _person(fresh_sim, 4)
        changed = Graph(fresh_sim).request("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed since the backup"})
        assert changed.status_code == 204
    if "job" in example:
        job = start(session, fresh_sim, point).headers["Location"].rsplit("/", 1)[1]
        fresh_sim.clock.advance(120 if example["job"] == "running" else 3 * HOUR)
    filled = fill(json.loads(json.dumps(example).replace("{snapshot}", point).replace("{job}", job)), fresh_sim, [])
    request = filled["request"]
    response = session.request(request["method"], url(fresh_sim, request["url"].removeprefix("directory/recovery/")),
                               json=request.get("body"), headers=PREFER)
    assert response.status_code == filled["status"], response.text
    if "location" in filled:
        assert response.headers["Location"].startswith(f"{fresh_sim.graph_url}/v1.0/{filled['location']}")
        assert not response.content
        return
    answer = response.json()
    if "context" in filled:
        assert answer["@odata.context"] == f"{fresh_sim.graph_url}/v1.0/$metadata#{filled['context']}"
    shaped = answer["value"][0] if filled.get("collection") else answer
    for key, kind in filled.get("shape", {}).items():
        assert key in shaped and (kind == "null" or type(shaped[key]).__name__ in (kind, "NoneType")), (key, shaped)
    for key, value in filled.get("values", {}).items():
        assert shaped[key] == value, (key, shaped[key])
