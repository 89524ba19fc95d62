"""Identity throttling (graph-behaviour §4): RU costs and headers, quotas, Retry-After, CA 1 rps, time scale,
latency."""

from __future__ import annotations

import time
from dataclasses import fields

import pytest
import requests
from simclient import Graph, error_of
from tuned import batch_of, by_id, tuned

import entragit.sim.settings
from entragit.sim import Settings, Simulator
from entragit.sim.clock import SimClock
from entragit.sim.throttle import cost_of, ru_quota_for

CA_POLICIES = "identity/conditionalAccess/policies"


def _units(response: requests.Response) -> int:
    return int(response.headers["x-ms-resource-unit"])


def test_resource_unit_header_has_the_documented_costs(sim: Simulator, graph: Graph) -> None:
    group = graph.find("groups", "Sales Team")["id"]
    user = graph.ok("users", {"$select": "id", "$top": "1"})["value"][0]["id"]
    expected = {
        "users": 2,
        "users?$select=id": 1,
        "users?$top=5": 1,
        "users?$top=20": 2,
        "users?$expand=manager": 3,
        "users?$select=id&$expand=manager": 2,
        "users?$select=id&$top=5": 1,  # floor
        f"groups/{group}/members": 3,
        f"groups/{group}/members?$select=id&$top=1": 1,
        f"users/{user}/memberOf": 2,  # users/{id}/... lists cost what me/... lists cost
        f"users/{user}/manager": 1,
        "groups": 1,
        f"users/{user}": 1,
        f"directoryObjects/{user}": 1,
        "users/00000000-0000-0000-0000-000000000000": 1,  # refused requests are charged too
    }
    for path, units in expected.items():
        response = graph.get(path)
        assert response.status_code in (200, 404), (path, response.text)
        assert _units(response) == units, path
    # Conditional Access sits on another backend: no directory RU header (graph-behaviour §0, §4).
    assert "x-ms-resource-unit" not in graph.get(CA_POLICIES).headers


def test_writes_cost_one_unit_and_one_write(fresh: Graph, fresh_sim: Simulator) -> None:
    user = fresh.ok("users", {"$select": "id", "$top": "1"})["value"][0]["id"]
    fresh_sim.stats.reset()
    response = fresh.patch(f"users/{user}?$select=id&$expand=manager", {"city": "Zwolle"})
    assert response.status_code == 204 and _units(response) == 1
    assert fresh.delete("users/00000000-0000-0000-0000-000000000000").headers["x-ms-resource-unit"] == "1"
    stats = fresh_sim.stats.snapshot()
    assert (stats["requests"], stats["resource_units"], stats["writes"]) == (2, 2, 2)
    assert stats["per_path"] == {"PATCH users/{id}": 1, "DELETE users/{id}": 1}


@pytest.mark.parametrize(
    ("method", "path", "query", "units"),
    [
        ("GET", "applications", "", 2),
        ("GET", "applications/x/extensionProperties", "", 2),
        ("GET", "groups/x/transitiveMembers", "", 5),
        ("GET", "groups/x/transitiveMembers", "$select=id&$top=5", 3),
        ("GET", "oauth2PermissionGrants", "", 2),
        ("GET", "servicePrincipals/x/appRoleAssignments", "", 2),
        ("GET", "subscribedSkus", "", 3),
        ("GET", "me/memberOf", "", 2),
        ("POST", "directoryObjects/getByIds", "", 5),
        ("POST", "directoryObjects/getByIds", "$select=id", 2),
        ("POST", "groups/x/checkMemberGroups", "", 4),
        ("GET", "organization", "", 1),
    ],
)
def test_cost_table_rows_the_simulator_does_not_serve(method: str, path: str, query: str, units: int) -> None:
    pairs = [tuple(p.split("=")) for p in query.split("&")] if query else []
    cost = cost_of(method, path.split("/"), pairs)  # type: ignore[arg-type]
    assert (cost.units, cost.writes) == (units, 0)


def test_quota_by_tenant_size() -> None:
    assert [ru_quota_for(n) for n in (0, 49, 50, 500, 501, 100_000)] == [3500, 3500, 5000, 5000, 8000, 8000]


def test_default_quota_of_a_medium_tenant_runs_out_at_5000_units() -> None:
    # 205 users: M, 5,000 RU per 10 s. A huge time_scale keeps the bucket from refilling while we spend it.
    with tuned(throttling=True, time_scale=100_000.0) as (sim, graph):
        group = graph.find("groups", "Sales Team")["id"]  # 1 RU
        admitted = 0
        while True:
            answers = by_id(graph.post("$batch", batch_of(*({"method": "GET", "url": f"groups/{group}/members"} for _ in range(20)))))
            statuses = [answers[str(n)]["status"] for n in range(1, 21)]
            admitted += statuses.count(200)
            if 429 in statuses:
                break
        assert admitted == (5000 - 1) // 3  # 1,666 items of 3 RU; the next finds 1 RU left
        first = answers[str(statuses.index(429) + 1)]
        # It was charged anyway (1 − 3 = −2), so it waits for 5 RU at 500 RU/s: 0.01 s, × 100,000 real.
        assert float(first["headers"]["Retry-After"]) == pytest.approx(1000.0, rel=0.01)
        assert first["headers"]["x-ms-throttle-scope"] == f"Tenant_Application/ReadWrite/{sim.client_id}/{sim.tenant_id}"


def test_exhausted_bucket_gives_429_until_the_refill_time() -> None:
    # 20 RU per 10 s: 2 RU/s. Ten GET users spend it.
    with tuned(throttling=True, ru_quota=20) as (sim, graph):
        started = time.monotonic()
        for _ in range(10):
            assert graph.get("users").status_code == 200
        refused = graph.get("users")
        refused_at = time.monotonic()
        assert refused.status_code == 429
        # 4 RU short at 2 RU/s, less what refilled while the requests were made (a busy machine is slow).
        assert 2.0 - (time.monotonic() - started) - 0.05 <= float(refused.headers["Retry-After"]) <= 2.05
        assert refused.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
        assert refused.headers["x-ms-throttle-scope"] == f"Tenant_Application/ReadWrite/{sim.client_id}/{sim.tenant_id}"
        assert _units(refused) == 2
        error = error_of(refused)
        assert (error["code"], error["message"]) == ("TooManyRequests", "Please retry again later.")
        inner = error["innerError"]
        assert (inner["code"], inner["status"], inner["message"]) == ("429", "429", "Please retry after")
        assert {"date", "request-id", "client-request-id"} <= set(inner) and "Z" not in inner["date"]

        again = graph.get("users")  # a request made while throttled still counts (graph-behaviour §4)
        waited = float(refused.headers["Retry-After"])
        assert waited + 1.0 - (time.monotonic() - refused_at) - 0.05 <= float(again.headers["Retry-After"]) <= 3.05
        sim.clock.advance(float(again.headers["Retry-After"]))
        assert graph.get("users").status_code == 200

        sim.settings.throttle_code = "Request_ThrottledTemporarily"
        sim.settings.throttle_retry_after = False
        unannounced = graph.get("users")
        assert error_of(unannounced)["code"] == "Request_ThrottledTemporarily"
        assert "Retry-After" not in unannounced.headers
        sim.settings.throttling = False
        assert graph.get("users").status_code == 200


def test_write_quota_throttles_writes_not_reads() -> None:
    # 5 writes per 150 s, in real seconds: the quota refills one write per 30 s, so the real time the six
    # requests take (a few tenths of a second on a loaded machine) barely moves the Retry-After.
    with tuned(throttling=True, write_quota=5) as (sim, graph):
        user = graph.ok("users", {"$select": "id", "$top": "1"})["value"][0]["id"]
        for n in range(5):
            assert graph.patch(f"users/{user}", {"city": f"City {n}"}).status_code == 204
        refused = graph.patch(f"users/{user}", {"city": "Refused"})
        assert refused.status_code == 429
        assert refused.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
        assert refused.headers["x-ms-throttle-scope"] == f"Tenant_Application/Write/{sim.client_id}/{sim.tenant_id}"
        # One write short after being charged (−1): 2 writes at 1 per 30 s = 60 s.
        assert float(refused.headers["Retry-After"]) == pytest.approx(60, abs=1.5)
        assert graph.get(f"users/{user}").status_code == 200
        sim.clock.advance(60)
        assert graph.patch(f"users/{user}", {"city": "Admitted"}).status_code == 204
        assert sim.stats.snapshot()["writes"] == 7


def test_conditional_access_allows_one_request_per_second_without_retry_after() -> None:
    with tuned(throttling=True) as (sim, graph):
        assert graph.get(CA_POLICIES).status_code == 200
        refused = graph.get("identity/conditionalAccess/namedLocations")  # same tenant-wide limit
        assert refused.status_code == 429
        assert "Retry-After" not in refused.headers
        assert error_of(refused)["code"] == "TooManyRequests"
        assert graph.get("users").status_code == 200  # the directory has its own budget
        sim.clock.advance(2.0)  # the refused request counted: two seconds to earn one request back
        assert graph.get(CA_POLICIES).status_code == 200


def test_throttling_is_off_by_default(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.ru_quota = 2
    fresh_sim.settings.write_quota = 1
    assert all(fresh.get("users").status_code == 200 for _ in range(3))
    assert all(fresh.get(CA_POLICIES).status_code == 200 for _ in range(3))


def test_time_scale_shrinks_windows_retry_after_and_latency() -> None:
    # 20 RU per 10 s; at time_scale 0.05 that is 40 RU per real second, drained faster than it refills.
    with tuned(throttling=True, ru_quota=20, time_scale=0.05) as (sim, graph):
        refused = next(r for r in (graph.get("users") for _ in range(200)) if r.status_code == 429)
        wait = float(refused.headers["Retry-After"])
        # Between 1 and 2 simulated seconds short (2 RU at 2 RU/s, charged while short): 0.05–0.1 s real.
        assert 0.045 <= wait <= 0.105
        time.sleep(wait)  # a real client obeying the header, at a twentieth of the real duration
        assert graph.get("users").status_code == 200

        sim.settings.throttling = False
        sim.settings.latency_base = 4.0  # simulated seconds: 0.2 s real
        started = time.monotonic()
        assert graph.get("groups?$top=1").status_code == 200
        assert 0.2 <= time.monotonic() - started < 1.5


def test_latency_grows_with_the_items_returned() -> None:
    with tuned(latency_base=0.05, latency_per_item=0.002) as (_, graph):
        started = time.monotonic()
        graph.get("users?$top=1")
        one = time.monotonic() - started
        started = time.monotonic()
        assert len(graph.ok("users?$top=100")["value"]) == 100
        hundred = time.monotonic() - started
        assert one >= 0.05 and hundred >= 0.05 + 0.2 and hundred > one + 0.15


def test_clock_scales_sleep_and_advances() -> None:
    scale = [0.01]
    clock = SimClock(lambda: scale[0])
    start, real = clock.now(), time.monotonic()
    clock.sleep(10.0)
    assert time.monotonic() - real < 1.0
    assert clock.now() - start >= 10.0
    clock.advance(100.0)
    assert clock.now() - start >= 110.0
    scale[0] = 1.0
    before = clock.now()
    time.sleep(0.02)
    assert 0.02 <= clock.now() - before < 1.0  # no jump when the scale changes


def test_switches_from_text_and_the_realistic_preset() -> None:
    settings = Settings.realistic(time_scale=0.1)
    assert (settings.throttling, settings.latency_base, settings.latency_per_item, settings.time_scale) == (True, 0.06, 0.00005, 0.1)
    for text, name, value in [
        ("throttling=off", "throttling", False),
        ("fault_count=3", "fault_count", 3),
        ("fault_count=none", "fault_count", None),
        ("fault_retry_after=2.5", "fault_retry_after", 2.5),
        ("fault_path=/users", "fault_path", "/users"),
        ("time_scale=0.01", "time_scale", 0.01),
    ]:
        settings.apply(text)
        assert getattr(settings, name) == value
    for bad in ("nothing", "no_such_switch=1", "fault_count=many", "throttling=maybe"):
        with pytest.raises(ValueError):
            settings.apply(bad)
    documented = entragit.sim.settings.__doc__ or ""
    assert all(f"| {field.name} |" in documented for field in fields(Settings)), "document every switch in settings.py"
