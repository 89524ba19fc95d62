from __future__ import annotations

import dataclasses
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
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


def test_an_authority_msal_refuses_is_an_auth_error_not_a_traceback(sim: Simulator) -> None:
    plain = dataclasses.replace(connection_of(sim), authority=f"http://127.0.0.1:9/{sim.tenant_id}")
    with pytest.raises(AuthError, match="signing in at http://127.0.0.1:9/.* failed: .*https"):
        TokenProvider(plain)


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


def _signed_in(sim: Simulator, auth: str) -> str:
    return TokenProvider(dataclasses.replace(connection_of(sim, None), auth=auth)).token()


@pytest.fixture
def certificate_file(sim: Simulator, tmp_path: Path) -> Path:
    """One PEM file with the key and the certificate, as AZURE_CLIENT_CERTIFICATE_PATH wants it."""
    path = tmp_path / "app.pem"
    path.write_text(sim.private_key_pem + sim.certificate_pem)
    return path


def test_a_certificate_signs_in_through_msal(sim: Simulator, certificate_file: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_CERTIFICATE_PATH", str(certificate_file))
    assert _signed_in(sim, "certificate")


def test_a_certificate_the_app_does_not_know_is_refused_with_aadsts700027(
        sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Simulator(seed=42, state_dir=str(tmp_path / "other")) as stranger:
        path = tmp_path / "stranger.pem"
        path.write_text(stranger.private_key_pem + stranger.certificate_pem)
    monkeypatch.setenv("AZURE_CLIENT_CERTIFICATE_PATH", str(path))
    with pytest.raises(AuthError, match="AADSTS700027"):
        _signed_in(sim, "certificate")


def test_a_certificate_file_without_its_key_is_named(sim: Simulator, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cert-only.pem"
    path.write_text(sim.certificate_pem)
    monkeypatch.setenv("AZURE_CLIENT_CERTIFICATE_PATH", str(path))
    with pytest.raises(AuthError, match="no private key"):
        _signed_in(sim, "certificate")


def _federated_subject(sim: Simulator) -> str:
    return sim.federation.credentials[0].subject


def test_a_federated_token_file_signs_in_without_any_secret(sim: Simulator, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    token_file = tmp_path / "federated-token"
    token_file.write_text(sim.federation.issue(_federated_subject(sim)))
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    assert _signed_in(sim, "federated")


@pytest.mark.parametrize(("subject_of", "code"), [
    (lambda good: good.replace("refs/heads/main", "refs/heads/feature"), "AADSTS700213"),
    (lambda good: good.upper(), "AADSTS7002138"),
])
def test_a_federated_subject_that_does_not_match_is_refused_with_its_aadsts_code(
        sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, subject_of, code: str) -> None:  # type: ignore[no-untyped-def]
    token_file = tmp_path / "federated-token"
    token_file.write_text(sim.federation.issue(subject_of(_federated_subject(sim))))
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    with pytest.raises(AuthError, match=code):
        _signed_in(sim, "federated")


def test_a_federated_token_from_an_unknown_issuer_is_refused_with_aadsts70021(
        sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token_file = tmp_path / "federated-token"
    token_file.write_text(sim.federation.issue(_federated_subject(sim), issuer="https://issuer.example"))
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    with pytest.raises(AuthError, match="AADSTS70021"):
        _signed_in(sim, "federated")


def test_github_actions_oidc_is_asked_for_the_exchange_audience(sim: Simulator,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    class GitHubOidc(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            asked.append(self.path)
            assert self.headers["Authorization"] == "Bearer request-token"
            body = json.dumps({"value": sim.federation.issue(_federated_subject(sim))}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), GitHubOidc)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f"http://127.0.0.1:{server.server_port}/token?x=1")
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token")
        assert _signed_in(sim, "federated")
    finally:
        server.shutdown()
    assert "audience=api%3A%2F%2FAzureADTokenExchange" in asked[0]


def test_federated_without_an_assertion_source_says_what_to_set(sim: Simulator,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_FEDERATED_TOKEN_FILE", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(AuthError, match="AZURE_FEDERATED_TOKEN_FILE"):
        _signed_in(sim, "federated")
