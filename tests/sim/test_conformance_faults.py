"""Injected faults over real sockets: 429 storms, 503/504, dropped connections, slow pages, replication lag."""

from __future__ import annotations

import logging
import socket
import ssl
import struct
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from simclient import Graph, error_of
from tuned import batch_of, by_id, tuned

from entragit.sim import Simulator


def test_storm_of_the_next_n_requests_with_retry_after() -> None:
    with tuned(fault_status=429, fault_count=2, fault_retry_after=3.0) as (sim, graph):
        for _ in range(2):
            stormed = graph.get("users")
            assert stormed.status_code == 429
            assert stormed.headers["Retry-After"] == "3"
            error = error_of(stormed)
            assert error["code"] == "TooManyRequests" and error["innerError"]["status"] == "429"
        assert graph.get("users").status_code == 200
        assert sim.settings.fault_count == 0  # the storm counted itself down
        assert sim.stats.snapshot()["faults"] == 2

        sim.settings.fault_count = 1
        sim.settings.fault_retry_after = None
        assert "Retry-After" not in graph.get("users").headers
        sim.settings.time_scale = 0.01
        sim.settings.fault_count = 1
        sim.settings.fault_retry_after = 50.0
        assert graph.get("users").headers["Retry-After"] == "0.5"  # simulated seconds, scaled for the client


@pytest.mark.parametrize(("status", "code"), [(503, "serviceNotAvailable"), (504, "gatewayTimeout")])
def test_server_errors_with_and_without_retry_after(status: int, code: str) -> None:
    with tuned(fault_status=status, fault_path="groups") as (sim, graph):
        assert graph.get("users").status_code == 200  # outside the path prefix
        failed = graph.get("groups")
        assert failed.status_code == status and error_of(failed)["code"] == code
        assert "Retry-After" not in failed.headers
        sim.settings.fault_retry_after = 2.0
        assert graph.get("/groups?$top=1").headers["Retry-After"] == "2"
        sim.settings.fault_status = 0
        assert graph.get("groups").status_code == 200


def _pattern(seed: int) -> list[int]:
    with tuned(seed=seed, fault_status=503, fault_probability=0.3) as (_, graph):
        return [graph.get("groups?$top=1&$select=id").status_code for _ in range(30)]


def test_random_storms_are_reproducible_per_seed() -> None:
    first = _pattern(11)
    assert set(first) == {200, 503}
    assert 3 <= first.count(503) <= 20
    assert _pattern(11) == first
    assert _pattern(12) != first


def test_batch_items_are_stormed_one_by_one() -> None:
    with tuned(fault_status=429, fault_path="users", fault_retry_after=1.0) as (_, graph):
        answers = by_id(graph.post("$batch", batch_of({"method": "GET", "url": "/users"}, {"method": "GET", "url": "groups"})))
        assert answers["1"]["status"] == 429 and answers["1"]["headers"]["Retry-After"] == "1"
        assert answers["2"]["status"] == 200


@pytest.mark.parametrize(
    ("where", "raised"),
    [("headers", requests.exceptions.ConnectionError), ("body", requests.exceptions.ChunkedEncodingError)],
)
def test_dropped_connections(where: str, raised: type[Exception]) -> None:
    with tuned(fault_cut=where, fault_count=1, fault_path="users") as (sim, graph):
        with pytest.raises(raised):
            graph.get("users")
        # The same session reconnects and carries on once the fault has fired.
        assert len(graph.ok("users?$top=3")["value"]) == 3
        sim.settings.fault_count, sim.settings.fault_path = 1, "$batch"
        with pytest.raises(raised):
            graph.post("$batch", batch_of({"method": "GET", "url": "users"}))


def test_slow_pages() -> None:
    # 20 simulated seconds at time_scale 0.02: 0.4 s of real waiting, on the groups pages only.
    with tuned(fault_delay=20.0, fault_path="groups", time_scale=0.02) as (_, graph):
        started = time.monotonic()
        graph.get("users?$top=1")
        assert time.monotonic() - started < 0.3
        started = time.monotonic()
        assert graph.get("groups?$top=1").status_code == 200
        assert time.monotonic() - started >= 0.4


def test_replication_lag_hides_a_new_object_for_a_while(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.replication_lag = 5.0
    body = {"displayName": "Lagging", "mailEnabled": False, "mailNickname": "lagging", "securityEnabled": True}
    created = fresh.post("groups", body)
    assert created.status_code == 201
    group_id = created.json()["id"]
    hidden = fresh.get(f"groups/{group_id}")
    assert hidden.status_code == 404
    error = error_of(hidden)
    assert error["code"] == "Request_ResourceNotFound" and group_id in error["message"]
    assert fresh.get(f"groups/{group_id}/members").status_code == 404
    fresh_sim.clock.advance(5.0)
    assert fresh.get(f"groups/{group_id}").status_code == 200


def _answering(caplog: pytest.LogCaptureFixture, path: str) -> logging.LogRecord:
    """The simulator's word on how its answer to a request for path went (it comes on the server's thread)."""
    for _ in range(1000):
        said = [r for r in caplog.records if r.name == "entragit.sim" and path in r.getMessage()
                and ("hung up" in r.getMessage() or r.levelno >= logging.WARNING)]
        if said:
            return said[0]
        time.sleep(0.01)
    raise AssertionError(f"the simulator said nothing about its answer to {path}")


def test_a_client_gone_before_its_answer_costs_one_quiet_line_not_a_traceback(
        sim: Simulator, graph: Graph, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    # As a client killed mid-request does: it is gone (its connection reset) while its request is handled.
    caplog.set_level(logging.DEBUG, logger="entragit.sim")
    host, port = urlsplit(sim.graph_url).hostname, urlsplit(sim.graph_url).port
    client = ssl.create_default_context(cafile=sim.ca_bundle).wrap_socket(
        socket.create_connection((host, port)), server_hostname=host)
    received, gone = threading.Event(), threading.Event()
    charged = sim.gateway._charged

    def hang_up_first(request: Any, claims: Any) -> Any:
        received.set()
        gone.wait(10)
        return charged(request, claims)

    monkeypatch.setattr(sim.gateway, "_charged", hang_up_first)
    client.sendall(f"GET /v1.0/users?$top=999&mark=gone HTTP/1.1\r\nHost: {host}\r\n"
                   f"Authorization: Bearer {graph.token()}\r\n\r\n".encode())
    assert received.wait(10)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
    client.close()
    gone.set()

    said = _answering(caplog, "mark=gone")
    assert said.levelno == logging.DEBUG and said.exc_info is None and "\n" not in said.getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert graph.get("users?$top=1").status_code == 200  # and it serves on


def test_a_failure_in_answering_is_still_logged_with_its_traceback(
        sim: Simulator, graph: Graph, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(request: Any, claims: Any) -> Any:
        raise RuntimeError("a bug in the simulated tenant")

    monkeypatch.setattr(sim.gateway, "_charged", broken)
    answer = graph.get("users?mark=broken")

    assert answer.status_code == 500 and error_of(answer)["code"] == "generalException"
    said = _answering(caplog, "mark=broken")
    assert said.levelno == logging.ERROR and said.exc_info is not None
