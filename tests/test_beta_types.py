"""A type Graph serves in beta only, end to end: snapshot, diff and restore send its requests to /beta,
while every other type's stay on v1.0, and no $batch holds requests of both versions.

externalIdentitiesPolicy is the one registered (learn.microsoft.com/graph/api/resources/externalidentitiespolicy
?view=graph-rest-beta); the simulated tenant serves it under /beta only, as Graph does.
"""

from __future__ import annotations

import pytest

from entragit.errors import GraphError
from entragit.graph import BatchItem, GraphClient
from entragit.registry import get_type
from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin, run

BETA_TYPE = "externalIdentitiesPolicy"
PATH = "policies/externalIdentitiesPolicy"
LEAVE = "allowExternalIdentitiesToLeave"


def _policy(admin: Admin, sim: Simulator) -> dict[str, object]:
    response = admin.session.get(f"{sim.graph_url}/beta/{PATH}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _paths(sim: Simulator) -> dict[str, int]:
    """Requests the tenant served, by method and path shape; beta ones begin with beta/."""
    return dict(sim.stats.snapshot()["per_path"])


def test_the_beta_type_is_snapshotted_diffed_and_restored_through_beta(repo: BackupRepo, sim: Simulator,
                                                                       admin: Admin) -> None:
    assert get_type(BETA_TYPE).api_version == "beta"
    root = str(repo.root)
    sim.stats.reset()
    run("snapshot", "--repo", root)
    good = repo.resolve("HEAD")
    stored = (repo.root / BETA_TYPE / f"{BETA_TYPE}.yaml").read_text(encoding="utf-8")
    assert f"{LEAVE}: true" in stored and "displayName: External Identities Policy" in stored
    read = _paths(sim)
    assert read.get(f"GET beta/{PATH}", 0) >= 1 and f"GET {PATH}" not in read
    assert read.get("GET users", 0) >= 1 and "GET beta/users" not in read, "v1.0 types stay on v1.0"

    changed = admin.session.patch(f"{sim.graph_url}/beta/{PATH}", json={LEAVE: False})
    assert changed.status_code == 204, changed.text
    live = run("diff", "HEAD", "--live", "--type", BETA_TYPE, "--exit-code", "--repo", root, ok=False)
    assert live.exit_code == 2 and LEAVE in live.output
    run("snapshot", "--repo", root, "--type", BETA_TYPE)
    assert f"{LEAVE}: false" in (repo.root / BETA_TYPE / f"{BETA_TYPE}.yaml").read_text(encoding="utf-8")
    between = run("diff", good, "HEAD", "--exit-code", "--repo", root, ok=False)
    assert between.exit_code == 2 and LEAVE in between.output and BETA_TYPE in between.output

    plan = run("restore", "--repo", root, "--at", good, "--type", BETA_TYPE, "--plan").output
    assert LEAVE in plan and "PATCH" in plan
    assert _policy(admin, sim)[LEAVE] is False, "a plan writes nothing"
    sim.stats.reset()
    run("restore", "--repo", root, "--at", good, "--type", BETA_TYPE, "--yes")
    assert _policy(admin, sim)[LEAVE] is True
    written = _paths(sim)
    assert written.get(f"PATCH beta/{PATH}") == 1 and f"PATCH {PATH}" not in written
    assert run("diff", good, "--live", "--type", BETA_TYPE, "--exit-code", "--repo", root).exit_code == 0


def test_a_v1_request_for_the_beta_type_gets_graphs_unknown_segment_error(client: GraphClient) -> None:
    with pytest.raises(GraphError) as refused:
        client.get(PATH)
    assert refused.value.status == 400
    assert refused.value.graph_message == "Resource not found for the segment 'externalIdentitiesPolicy'."
    assert client.get(PATH, version="beta")[LEAVE] is True


def test_a_batch_never_mixes_versions(client: GraphClient, sim: Simulator) -> None:
    # Interleaved, and more than one $batch of each: a v1.0 $batch would answer the beta items 400.
    items = [BatchItem("GET", PATH, version="beta") if i % 2 else BatchItem("GET", "policies/authorizationPolicy")
             for i in range(50)]
    sim.stats.reset()
    answers = client.batch(items)
    assert [(a.status, (a.body or {}).get("id")) for a in answers] == [
        (200, "externalIdentityPolicy" if i % 2 else "authorizationPolicy") for i in range(50)]
    paths = _paths(sim)
    assert paths["POST beta/$batch"] == 2 and paths["POST $batch"] == 2
    assert paths[f"GET beta/{PATH}"] == 25 and paths["GET policies/authorizationPolicy"] == 25

    # Items chained by dependsOn share one $batch, so a chain cannot span versions.
    with pytest.raises(ValueError, match="one \\$batch"):
        client.batch([BatchItem("PATCH", PATH, body={LEAVE: False}, version="beta"),
                      BatchItem("GET", "policies/authorizationPolicy", after=0)])
    assert client.get(PATH, version="beta")[LEAVE] is True, "nothing of a refused chain is sent"
