"""Managed identity: msal's ManagedIdentityClient, unmodified, against the simulator's IMDS-shaped endpoint."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from entragit.auth import TokenProvider
from entragit.errors import AuthError
from entragit.sim import Simulator
from entragit.sim.auth import APP_SERVICE_IDENTITY_HEADER, APP_SERVICE_IDENTITY_PATH
from tests.conftest import connection_of, run


@pytest.fixture
def on_a_vm(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine as an Azure VM whose instance metadata service is the simulator (msal finds IMDS's host
    in AZURE_POD_IDENTITY_AUTHORITY_HOST); no secret and no other identity source in the environment."""
    for name in ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_ID", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT",
                 "MSI_SECRET", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", sim.graph_url)


def _token(sim: Simulator) -> str:
    return TokenProvider(dataclasses.replace(connection_of(sim, None), auth="managed-identity")).token()


def test_a_snapshot_signs_in_with_the_vms_system_assigned_identity_without_any_secret(
        sim: Simulator, sim_info: Path, tmp_path: Path, on_a_vm: None, monkeypatch: pytest.MonkeyPatch) -> None:
    backup = tmp_path / "backup"
    run("init", str(backup), "--sim", str(sim_info), "--auth", "managed-identity")
    assert "auth: managed-identity" in (backup / "entragit.yaml").read_text()
    result = run("snapshot", "--repo", str(backup))
    assert result.output.startswith("Snapshot ")
    # The secret in the simulator's info file played no part: without the identity endpoint, no sign-in.
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "https://127.0.0.1:9")
    result = run("snapshot", "--repo", str(backup), ok=False)
    assert result.exit_code == 1 and "managed identity endpoint" in result.output


def test_a_user_assigned_identity_is_asked_for_by_its_client_id(
        sim: Simulator, on_a_vm: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_ID", sim.client_id)
    assert _token(sim)
    monkeypatch.setenv("AZURE_CLIENT_ID", "00000000-0000-0000-0000-00000000dead")
    with pytest.raises(AuthError, match="managed identity .*invalid_request: Identity not found"):
        _token(sim)


def test_no_identity_endpoint_is_one_auth_error(sim: Simulator, on_a_vm: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "https://127.0.0.1:9")
    with pytest.raises(AuthError, match="signing in at the managed identity endpoint failed"):
        _token(sim)


@pytest.fixture
def on_app_service(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as an App Service or Functions app: the platform gives it its identity endpoint and the
    header to send it in IDENTITY_ENDPOINT and IDENTITY_HEADER (the simulator serves that endpoint)."""
    for name in ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_ID", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "MSI_ENDPOINT",
                 "MSI_SECRET", "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{sim.graph_url}{APP_SERVICE_IDENTITY_PATH}")
    monkeypatch.setenv("IDENTITY_HEADER", APP_SERVICE_IDENTITY_HEADER)


def test_on_app_service_a_snapshot_signs_in_with_the_apps_identity(
        sim: Simulator, sim_info: Path, tmp_path: Path, on_app_service: None, monkeypatch: pytest.MonkeyPatch) -> None:
    backup = tmp_path / "backup"
    run("init", str(backup), "--sim", str(sim_info), "--auth", "managed-identity")
    assert run("snapshot", "--repo", str(backup)).output.startswith("Snapshot ")
    # A header the platform did not give is refused: one auth error.
    monkeypatch.setenv("IDENTITY_HEADER", "not-the-platforms")
    result = run("snapshot", "--repo", str(backup), ok=False)
    assert result.exit_code == 1 and "managed identity endpoint" in result.output
    assert "X-IDENTITY-HEADER is missing or wrong" in result.output
