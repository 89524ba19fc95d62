"""JSON batching (graph-behaviour §3): shape, limits, dependsOn and 424, order, per-item 429 in an outer 200."""

from __future__ import annotations

from typing import Any

from simclient import Graph, error_of
from tuned import batch_of, by_id, tuned

from entragit.sim import Simulator
from entragit.sim.batch import MAX_REQUESTS, TOO_MANY_REQUESTS

JSON = {"Content-Type": "application/json"}


def _user_id(graph: Graph) -> str:
    return str(graph.ok("users", {"$select": "id", "$top": "1"})["value"][0]["id"])


def _city(graph: Graph, user_id: str) -> Any:
    return graph.ok(f"users/{user_id}", {"$select": "city"})["city"]


def test_items_answer_like_direct_requests(fresh: Graph) -> None:
    user_id = _user_id(fresh)
    response = fresh.post(
        "$batch",
        batch_of(
            {"method": "GET", "url": "/users?$select=id,displayName&$top=3"},
            {"method": "GET", "url": f"users/{user_id}?$select=city"},
            {"method": "PATCH", "url": f"/users/{user_id}", "body": {"city": "Delft"}, "headers": JSON},
            {"method": "GET", "url": "users/00000000-0000-0000-0000-000000000000"},
            {"method": "GET", "url": "groups?$count=true&$top=1", "headers": {"ConsistencyLevel": "eventual"}},
        ),
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    answers = by_id(response)
    assert set(answers) == {"1", "2", "3", "4", "5"}
    assert all(set(a) <= {"id", "status", "headers", "body"} for a in answers.values())

    listed = answers["1"]
    assert listed["status"] == 200
    assert listed["headers"]["x-ms-resource-unit"] == "1"  # GET users 2, $select −1, $top<20 −1, floor 1
    assert listed["headers"]["Content-Type"].startswith("application/json;odata.metadata=minimal")
    assert listed["body"]["@odata.context"].endswith("$metadata#users(id,displayName)")
    assert len(listed["body"]["value"]) == 3 and "@odata.nextLink" in listed["body"]
    assert answers["2"]["body"]["city"] != "Delft"  # items run in request order when nothing depends

    patched = answers["3"]
    assert patched["status"] == 204 and "body" not in patched  # a 204 item has no body (graph-behaviour §3)
    assert _city(fresh, user_id) == "Delft"

    missing = answers["4"]
    assert missing["status"] == 404
    assert missing["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert set(missing["body"]["error"]["innerError"]) == {"date", "request-id", "client-request-id"}
    assert answers["5"]["body"]["@odata.count"] == len(fresh.sim.tenant.objects["groups"])


def test_answers_come_back_out_of_order_reproducibly(sim: Simulator, graph: Graph) -> None:
    body = batch_of(*({"method": "GET", "url": "groups?$top=1&$select=id"} for _ in range(6)))
    order = [a["id"] for a in graph.post("$batch", body).json()["responses"]]
    assert sorted(order) == ["1", "2", "3", "4", "5", "6"] and order != sorted(order)
    two = graph.post("$batch", batch_of({"method": "GET", "url": "groups/x"}, {"method": "GET", "url": "groups/y"}))
    assert [a["id"] for a in two.json()["responses"]] == ["2", "1"]
    # Same seed, same sequence of batches: same orders, so a failure can be replayed.
    with tuned(seed=sim.seed) as (_, twin):
        assert [a["id"] for a in twin.post("$batch", body).json()["responses"]] == order
    with tuned(batch_shuffle=False) as (_, ordered):
        assert [a["id"] for a in ordered.post("$batch", body).json()["responses"]] == sorted(order)


def test_depends_on_runs_in_order_and_failures_cascade_as_424(fresh: Graph) -> None:
    user_id = _user_id(fresh)
    answers = by_id(
        fresh.post(
            "$batch",
            {
                "requests": [
                    # Listed first, but waits for "Patch" (ids are case-insensitive).
                    {"id": "read", "method": "GET", "url": f"users/{user_id}?$select=city", "dependsOn": ["patch"]},
                    {"id": "Patch", "method": "PATCH", "url": f"users/{user_id}", "body": {"city": "Gouda"}, "headers": JSON},
                    {"id": "bad", "method": "PATCH", "url": f"users/{user_id}", "body": {"createdDateTime": "x"}, "headers": JSON},
                    {"id": "after-bad", "method": "PATCH", "url": f"users/{user_id}", "body": {"city": "Edam"}, "headers": JSON, "dependsOn": ["bad"]},
                    {"id": "after-that", "method": "GET", "url": "users", "dependsOn": ["after-bad", "read"]},
                ]
            },
        )
    )
    assert answers["read"]["status"] == 200 and answers["read"]["body"]["city"] == "Gouda"
    assert answers["bad"]["status"] == 400
    for skipped in ("after-bad", "after-that"):
        assert answers[skipped]["status"] == 424
        assert answers[skipped]["body"]["error"]["code"] == "FailedDependency"
        assert "x-ms-resource-unit" not in answers[skipped]["headers"]  # never ran, never charged
    assert _city(fresh, user_id) == "Gouda"


def _refused(graph: Graph, body: Any) -> dict[str, Any]:
    response = graph.post("$batch", body)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["code"] == "BadRequest"
    return error


def test_malformed_batches_fail_whole_and_run_nothing(fresh: Graph) -> None:
    user_id = _user_id(fresh)
    patch = {"method": "PATCH", "url": f"users/{user_id}", "body": {"city": "Breda"}, "headers": JSON}
    get = {"method": "GET", "url": "users?$top=1"}

    assert _refused(fresh, batch_of(*[get] * MAX_REQUESTS, patch))["message"] == TOO_MANY_REQUESTS
    assert fresh.post("$batch", batch_of(*[get] * MAX_REQUESTS)).status_code == 200
    _refused(fresh, {"requests": [{"id": "a", **patch}, {"id": "A", **get}]})  # duplicate, case-insensitively
    no_type = _refused(fresh, batch_of(patch, {"method": "POST", "url": "groups", "body": {"displayName": "x"}}))
    assert no_type["message"] == "Write request id : 2 does not contain Content-Type header or body."
    assert "id : 1 " in _refused(fresh, batch_of({"method": "PATCH", "url": f"users/{user_id}", "headers": JSON}))["message"]
    _refused(fresh, batch_of(patch, {**get, "dependsOn": ["9"]}))
    _refused(fresh, {"requests": [{"id": "1", **get, "dependsOn": ["2"]}, {"id": "2", **get, "dependsOn": ["1"]}]})
    for body in ({}, {"requests": {}}, batch_of({"method": "GET"}), {"requests": [{"id": 1, **get}]}, batch_of({**get, "method": "TRACE"})):
        _refused(fresh, body)
    raw = fresh.request("POST", "$batch", data=b"{not json", headers=JSON)
    assert raw.status_code == 400 and error_of(raw)["code"] == "BadRequest"
    assert _city(fresh, user_id) != "Breda"  # the PATCH rode in every refused batch and never ran

    assert fresh.get("$batch").status_code == 405
    anonymous = fresh.session.post(fresh.url("$batch"), json=batch_of(get), headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_throttled_items_are_429_inside_an_outer_200() -> None:
    # 11 RU: five 2-RU items pass, the rest find the bucket empty; each item is charged separately (graph-behaviour §3).
    with tuned(throttling=True, ru_quota=11, time_scale=1000.0) as (sim, graph):
        response = graph.post("$batch", batch_of(*({"method": "GET", "url": "users"} for _ in range(8)), {"method": "GET", "url": "groups"}))
        answers = by_id(response)
        statuses = {key: a["status"] for key, a in answers.items()}
        assert statuses == {**{str(n): 200 for n in range(1, 6)}, "6": 429, "7": 429, "8": 429, "9": 429}
        for key in ("6", "7", "8", "9"):
            throttled = answers[key]
            assert float(throttled["headers"]["Retry-After"]) > 0
            assert throttled["headers"]["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
            assert throttled["body"]["error"]["code"] == "TooManyRequests"
        # Later items were charged while throttled, so each waits longer than the one before (graph-behaviour §4).
        waits = [float(answers[k]["headers"]["Retry-After"]) for k in ("6", "7", "8")]
        assert waits == sorted(waits) and waits[0] < waits[-1]
        stats = sim.stats.snapshot()
        assert (stats["http_requests"], stats["requests"], stats["batches"], stats["throttled"]) == (1, 9, 1, 4)
        assert stats["resource_units"] == 8 * 2 + 1
