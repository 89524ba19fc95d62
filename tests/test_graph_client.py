"""entragit's Graph client against every fault switch of the simulated tenant, over real HTTPS.

Sleeps go through an injected function, so a Retry-After of 30 s costs nothing here, and the delays the
client chose are visible to the test.
"""

from __future__ import annotations

import json

import pytest

from entragit.connect import graph_client
from entragit.errors import GraphError
from entragit.auth import TokenProvider
from entragit.graph import BatchItem, GraphClient, RetryPolicy, leading_members
from entragit.sim import Simulator
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo
from tests.conftest import Admin, connection_of


class Sleeps(list[float]):
    """The client's clock: its sleeps are recorded and pass at once, and its time is what they add up to."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    def now(self) -> float:
        return sum(self)


def _client(sim: Simulator, sleeps: Sleeps, **retry: float) -> GraphClient:
    return graph_client(connection_of(sim), sleep=sleeps, monotonic=sleeps.now,
                        retry=RetryPolicy(**retry) if retry else None)


def _list_users(client: GraphClient) -> list[dict]:  # type: ignore[type-arg]
    return list(client.iter_collection("users", {"$select": "id", "$top": "50"}))


def test_429_storm_honours_fractional_retry_after_then_succeeds(sim: Simulator) -> None:
    sim.settings.fault_status, sim.settings.fault_retry_after, sim.settings.fault_count = 429, 2.5, 3
    sleeps = Sleeps()

    users = _list_users(_client(sim, sleeps))

    assert sleeps == [2.5, 2.5, 2.5]
    assert len({u["id"] for u in users}) == len(users) > 100


def test_429_without_retry_after_backs_off_exponentially_with_jitter(sim: Simulator) -> None:
    sim.settings.fault_status, sim.settings.fault_count = 429, 4
    sleeps = Sleeps()

    _client(sim, sleeps, base_delay=1.0, max_delay=60.0).get("users")

    assert len(sleeps) == 4
    assert all(2 ** attempt / 2 <= delay <= 2 ** attempt for attempt, delay in enumerate(sleeps))
    assert len(set(sleeps)) == 4  # jitter: no two clients retry in lockstep


def test_conditional_access_calls_are_paced_to_the_documented_one_per_second(sim: Simulator) -> None:
    now = [0.0]
    sent: list[float] = []

    def sleep(seconds: float) -> None:  # waits in the simulator's time, not ours
        now[0] += seconds
        sim.clock.advance(seconds)

    client = graph_client(connection_of(sim), sleep=sleep, monotonic=lambda: now[0])
    sim.settings.throttling = True
    for path in ["identity/conditionalAccess/policies", "identity/conditionalAccess/namedLocations"] * 2:
        client.get(path)
        sent.append(now[0])
    client.get("users", {"$top": "1"})  # other paths are not held back

    assert [round(b - a, 2) for a, b in zip(sent, sent[1:])] == [1.1, 1.1, 1.1]
    assert now[0] == sent[-1] and sim.stats.throttled == 0


@pytest.mark.parametrize("status", [503, 504])
@pytest.mark.parametrize("retry_after", [None, 1.5])
def test_503_and_504_are_retried_with_or_without_retry_after(sim: Simulator, status: int,
                                                             retry_after: float | None) -> None:
    sim.settings.fault_status, sim.settings.fault_retry_after, sim.settings.fault_count = status, retry_after, 2
    sleeps = Sleeps()

    assert _list_users(_client(sim, sleeps))
    assert len(sleeps) == 2
    if retry_after is not None:
        assert sleeps == [1.5, 1.5]


@pytest.mark.parametrize("cut", ["headers", "body"])
def test_a_connection_dropped_mid_response_is_retried(sim: Simulator, cut: str) -> None:
    sim.settings.fault_cut, sim.settings.fault_count, sim.settings.fault_path = cut, 2, "users"
    sleeps = Sleeps()

    assert _list_users(_client(sim, sleeps))
    assert len(sleeps) == 2


def test_an_endless_storm_ends_in_a_clear_error_within_the_budget(sim: Simulator) -> None:
    sim.settings.fault_status, sim.settings.fault_retry_after = 429, 30.0
    sleeps = Sleeps()

    with pytest.raises(GraphError) as caught:
        _client(sim, sleeps, max_attempts=10, max_total_wait=100.0).get("users")

    assert sum(sleeps) <= 100.0 and len(sleeps) == 3
    error = caught.value
    assert error.status == 429 and error.code and error.graph_message
    assert error.request_id and error.request_id in str(error)


def test_slow_pages_still_complete(sim: Simulator) -> None:
    sim.settings.fault_delay, sim.settings.fault_count, sim.settings.fault_path = 0.3, 2, "users"
    assert len(_list_users(_client(sim, Sleeps()))) > 100


def test_batch_retries_only_the_items_that_were_throttled(sim: Simulator) -> None:
    client = _client(sim, Sleeps())
    ids = [u["id"] for u in _list_users(client)][:30]
    sim.settings.fault_status, sim.settings.fault_retry_after = 429, 1.0
    sim.settings.fault_path, sim.settings.fault_count = f"users/{ids[3]}", 1
    sim.stats.reset()
    sleeps = Sleeps()

    answers = _client(sim, sleeps).get_many([BatchItem("GET", f"users/{i}", {"$select": "id"}) for i in ids])

    assert [a["id"] for a in answers if isinstance(a, dict)] == ids
    assert sleeps == [1.0]
    # 30 items in two batches (one of them refused), then the refused item again, alone.
    assert (sim.stats.batches, sim.stats.faults, sim.stats.requests) == (3, 1, 30)


def test_chained_items_share_a_batch_and_are_retried_together_when_the_first_was_throttled(sim: Simulator,
                                                                                           admin: Admin) -> None:
    user = admin.users("Support")[0]
    titles = ["First", "Second", "Third"]
    sim.settings.fault_status, sim.settings.fault_retry_after = 429, 1.0
    sim.settings.fault_path, sim.settings.fault_count = f"users/{user['id']}", 1
    sim.stats.reset()
    sleeps = Sleeps()
    items = [BatchItem("PATCH", f"users/{user['id']}", body={"jobTitle": t}, after=i - 1 if i else None)
             for i, t in enumerate(titles)]

    answers = _client(sim, sleeps).batch(items)

    assert [a.status for a in answers] == [204, 204, 204] and sleeps == [1.0]
    # The throttled first item failed the two after it (424); all three went again, in order.
    assert admin.get(f"users/{user['id']}", **{"$select": "jobTitle"})["jobTitle"] == "Third"
    assert (sim.stats.batches, sim.stats.faults) == (2, 1)


def test_a_chain_goes_in_a_batch_of_its_own_since_graph_refuses_half_sequential_ones(sim: Simulator,
                                                                                     admin: Admin) -> None:
    first, second = admin.users("Support")[:2]
    sim.stats.reset()
    items = [BatchItem("PATCH", f"users/{first['id']}", body={"jobTitle": "One"}),
             BatchItem("GET", f"users/{second['id']}", {"$select": "id"}),
             BatchItem("PATCH", f"users/{first['id']}", body={"jobTitle": "Two"}, after=0),
             BatchItem("GET", f"users/{first['id']}", {"$select": "id"})]

    answers = _client(sim, Sleeps()).batch(items)

    assert [a.status for a in answers] == [204, 200, 204, 200]
    assert sim.stats.batches == 2  # the chain [0, 2], then the independent [1, 3]
    assert admin.get(f"users/{first['id']}", **{"$select": "jobTitle"})["jobTitle"] == "Two"


def test_a_batch_item_that_fails_for_good_surfaces_graphs_error(sim: Simulator) -> None:
    missing = "00000000-0000-0000-0000-000000000001"
    [answer] = _client(sim, Sleeps()).get_many([BatchItem("GET", f"users/{missing}")])
    assert isinstance(answer, GraphError)
    assert (answer.status, answer.code) == (404, "Request_ResourceNotFound")


def test_an_expired_token_is_renewed_once_and_the_call_goes_on(sim: Simulator) -> None:
    client = _client(sim, Sleeps())
    client.get("users", {"$top": "1"})
    sim.clock.advance(sim.settings.token_lifetime_seconds + 60)

    assert client.get("users", {"$top": "1"})["value"]


def test_consistency_level_is_sent_on_every_page(sim: Simulator) -> None:
    client = _client(sim, Sleeps())
    everyone = len(_list_users(client))
    pages = list(client.iter_pages("users", {"$count": "true", "$top": "20", "$select": "id"},
                                   headers={"ConsistencyLevel": "eventual"}))
    assert len(pages) > 2 and sum(len(p) for p in pages) == everyone


def test_pages_read_ahead_come_in_order_and_a_failure_reaches_the_callers_thread(sim: Simulator) -> None:
    client = _client(sim, Sleeps(), max_attempts=1)
    query = {"$select": "id", "$top": "20"}
    assert list(client.iter_pages_ahead("users", query)) == list(client.iter_pages("users", query))

    sim.settings.fault_status, sim.settings.fault_path = 400, "users"
    pages = client.iter_pages_ahead("users", query)
    with pytest.raises(GraphError) as failure:
        next(pages)
    assert failure.value.status == 400


@pytest.mark.parametrize("indent", [None, 2])
def test_a_next_link_is_read_before_the_page_only_where_it_comes_first(indent: int | None) -> None:
    link = 'https://graph.example/v1.0/users?$skiptoken=a"b},{"value":'
    body = {"@odata.context": 'users(id,"x"),{', "@odata.count": 3, "@odata.nextLink": link,
            "value": [{"id": "1", "@odata.nextLink": "not this one", "value": {"value": "{"}}]}
    assert leading_members(json.dumps(body, indent=indent)) == {k: v for k, v in body.items() if k != "value"}
    # After the value, a link cannot be read without parsing the page: the reader parses it, then follows.
    assert leading_members(json.dumps({"value": [], "@odata.nextLink": link}, indent=indent)) == {}
    assert leading_members(json.dumps({"@odata.deltaLink": link}, indent=indent)) is None
    assert leading_members("[]") is None


def test_pages_read_ahead_follow_a_next_link_that_comes_after_the_value(sim: Simulator) -> None:
    sim.settings.next_link_last = True
    client = _client(sim, Sleeps())
    query = {"$select": "id", "$top": "20"}
    pages = list(client.iter_pages_ahead("users", query))
    assert len(pages) > 2 and pages == list(client.iter_pages("users", query))


def test_a_proxy_named_by_the_environment_is_used_for_every_request(sim: Simulator,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    connection = connection_of(sim)
    tokens = TokenProvider(connection)
    tokens.token()  # signed in before the proxy appears: msal's own session is not the point here

    def client() -> GraphClient:
        return GraphClient(connection.graph_url, tokens.token, ca_bundle=connection.ca_bundle,
                           retry=RetryPolicy(max_attempts=1))

    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing listens there
    proxied = client()
    for _ in range(2):  # read once per host, the environment must still hold for the next request
        with pytest.raises(GraphError) as refused:
            proxied.get("organization")
        assert "proxy" in str(refused.value).lower()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert client().get("organization")["value"]


def test_empty_pages_with_a_next_link_are_followed(sim: Simulator) -> None:
    client = _client(sim, Sleeps())
    everyone = _list_users(client)
    sim.settings.empty_pages = True
    assert _list_users(client) == everyone


@pytest.mark.parametrize("switches", [
    {"fault_status": 429, "fault_retry_after": 1.0, "fault_probability": 0.2},
    {"fault_status": 503, "fault_probability": 0.2},
    {"fault_status": 504, "fault_retry_after": 2.0, "fault_probability": 0.2},
    {"fault_cut": "body", "fault_probability": 0.1},
    {"fault_delay": 0.05, "fault_probability": 0.2},
])
def test_snapshot_completes_under_each_fault_switch_with_the_same_files(
        repo: BackupRepo, sim: Simulator, switches: dict) -> None:  # type: ignore[type-arg]
    clean = take_snapshot(repo, client=_client(sim, Sleeps()))
    expected = {p: p.read_bytes() for p in repo.root.glob("*/*.yaml")}
    for name, value in switches.items():
        setattr(sim.settings, name, value)

    sim.stats.reset()

    result = take_snapshot(repo, client=_client(sim, Sleeps(), max_attempts=12, max_total_wait=600.0))

    assert sim.stats.faults > 0  # the switch really bit
    assert result.commit is None and result.counts == clean.counts
    assert {p: p.read_bytes() for p in repo.root.glob("*/*.yaml")} == expected


def test_snapshot_over_empty_pages_gives_the_same_files(repo: BackupRepo, sim: Simulator) -> None:
    take_snapshot(repo, client=_client(sim, Sleeps()))
    sim.settings.empty_pages = True
    assert take_snapshot(repo, client=_client(sim, Sleeps())).commit is None


def test_a_user_created_while_replication_lags_is_in_the_next_snapshot(repo: BackupRepo, sim: Simulator,
                                                                       admin: Admin) -> None:
    take_snapshot(repo, client=_client(sim, Sleeps()))
    sim.settings.replication_lag = 30.0
    created = admin.call("POST", "users", json={
        "accountEnabled": True, "displayName": "New Starter", "mailNickname": "newstarter",
        "userPrincipalName": f"newstarter@{sim.tenant.domain}",
        "passwordProfile": {"password": "Correct-Horse-9", "forceChangePasswordNextSignIn": True}}).json()
    client = _client(sim, Sleeps())
    with pytest.raises(GraphError) as lagging:
        client.get(f"users/{created['id']}")
    assert lagging.value.status == 404  # the client reports it; waiting it out is the caller's call

    result = take_snapshot(repo, client=client)

    assert result.commit is not None
    assert (repo.root / "users" / f"{created['id']}.yaml").exists()
    # Delta named the new user, a GET could not read it yet: the incremental read gave way to a full one.
    assert result.modes["users"] == "full" and any("could not be read back" in n for n in result.notes)


def test_snapshot_under_a_storm_it_cannot_outlast_commits_nothing(repo: BackupRepo, sim: Simulator) -> None:
    take_snapshot(repo, client=_client(sim, Sleeps()))
    head = repo.git.head.commit.hexsha
    sim.settings.fault_status, sim.settings.fault_path = 503, "groups"

    with pytest.raises(GraphError, match="503"):
        take_snapshot(repo, client=_client(sim, Sleeps()))

    assert repo.git.head.commit.hexsha == head and repo.git.git.status("--porcelain") == ""


def test_snapshot_within_a_tight_throttling_budget_waits_and_gives_the_same_files(
        repo: BackupRepo, sim: Simulator) -> None:
    take_snapshot(repo, client=_client(sim, Sleeps()))
    expected = {p: p.read_bytes() for p in repo.root.glob("*/*.yaml")}
    # A budget far below a snapshot's cost, on a clock 10 times faster than real: the client must wait
    # out Retry-After again and again (really sleeping, scaled) and still read everything.
    sim.settings.throttling, sim.settings.ru_quota, sim.settings.time_scale = True, 40, 0.1
    sim.stats.reset()

    # Sixty types now compete for that budget: one request may lose the race many times over.
    client = graph_client(connection_of(sim), retry=RetryPolicy(max_attempts=100, max_total_wait=900))
    result = take_snapshot(repo, client=client, full=True)

    assert sim.stats.throttled > 0
    assert result.commit is None
    assert {p: p.read_bytes() for p in repo.root.glob("*/*.yaml")} == expected
