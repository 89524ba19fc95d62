from __future__ import annotations

import json
from pathlib import Path

import pytest

from entragit.auth import TokenProvider
from entragit.errors import AuthError
from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import connection_of, run


def test_msal_gets_a_token_from_the_simulator_with_the_right_secret(sim: Simulator) -> None:
    assert TokenProvider(connection_of(sim, sim.client_secret)).token()


def test_msal_is_refused_a_token_for_a_wrong_secret_with_the_aadsts_code(sim: Simulator) -> None:
    with pytest.raises(AuthError) as caught:
        TokenProvider(connection_of(sim, "not-the-secret")).token()
    assert "invalid_client" in str(caught.value)
    assert "AADSTS7000215" in str(caught.value)


def test_a_missing_secret_is_named_before_any_call(sim: Simulator) -> None:
    with pytest.raises(AuthError, match="AZURE_CLIENT_SECRET"):
        TokenProvider(connection_of(sim, None))


def test_snapshot_with_a_wrong_secret_fails_clearly_and_commits_nothing(repo: BackupRepo) -> None:
    info_file = Path(str(repo.config.simulator))
    info = json.loads(info_file.read_text())
    info["client_secret"] = "wrong"
    info_file.write_text(json.dumps(info))
    head = repo.git.head.commit.hexsha

    result = run("snapshot", "--repo", str(repo.root), ok=False)

    assert result.exit_code == 1
    assert "AADSTS7000215" in result.output
    assert repo.git.head.commit.hexsha == head
