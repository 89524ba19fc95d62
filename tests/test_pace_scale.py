"""A simulator's info file may shrink the client's Conditional Access pacing (the suite's simulators enforce
no rate unless a test turns their throttling on); anything but a positive number there is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entragit.config import simulator_connection
from entragit.connect import graph_client
from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import run


def _spacing(connection_path: Path) -> list[float]:
    now = [0.0]
    sent: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    client = graph_client(simulator_connection(str(connection_path)), sleep=sleep, monotonic=lambda: now[0])
    for _ in range(3):
        client.get("identity/conditionalAccess/policies")
        sent.append(now[0])
    return [round(b - a, 4) for a, b in zip(sent, sent[1:])]


def test_pace_scale_shrinks_the_conditional_access_pace_and_its_absence_keeps_graphs(sim: Simulator,
                                                                                    tmp_path: Path) -> None:
    scaled, plain = tmp_path / "scaled.json", tmp_path / "plain.json"
    scaled.write_text(json.dumps({**sim.info(), "pace_scale": 0.02}))
    plain.write_text(json.dumps(sim.info()))

    assert _spacing(scaled) == [0.022, 0.022]
    assert _spacing(plain) == [1.1, 1.1]


@pytest.mark.parametrize("value", ["fast", 0, -1, "nan", "inf"])
def test_a_pace_scale_that_is_not_a_positive_number_is_one_error_line(repo: BackupRepo, sim_info: Path,
                                                                      value: object) -> None:
    sim_info.write_text(json.dumps({**json.loads(sim_info.read_text()), "pace_scale": value}))

    result = run("snapshot", "--repo", str(repo.root), ok=False)

    assert result.exit_code == 1
    assert result.output == (f"error: simulator info file {sim_info}: pace_scale must be a positive number, "
                             f"not '{value}'\n")
