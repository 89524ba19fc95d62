from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msal
import pytest
import requests
from click.testing import CliRunner, Result

from entragit.cli import cli
from entragit.config import Config, Connection
from entragit.connect import graph_client
from entragit.graph import GraphClient
from entragit.sim import Simulator
from entragit.sim.credentials import ClientCertificate
from entragit.store import BackupRepo, init_repo


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read or write the developer's git config or home, and commit as a fixed identity."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    # pytest-xdist's workers get COLUMNS=80 from their runner; output in tests is read as a pipe's would be.
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "AZURE_CLIENT_SECRET", "COLUMNS", "LINES"):
        monkeypatch.delenv(var, raising=False)


_SIM_SECRET = object()


def connection_of(sim: Simulator, secret: Any = _SIM_SECRET) -> Connection:
    return Connection(sim.graph_url, sim.authority, sim.tenant_id, sim.client_id,
                      sim.client_secret if secret is _SIM_SECRET else secret, sim.ca_bundle)


@pytest.fixture(scope="session")
def client_certificate() -> ClientCertificate:
    """The simulators' app certificate, made once: its RSA key costs more CPU than the rest of a start."""
    return ClientCertificate.generate("entragit (simulated)")


@pytest.fixture
def sim(tmp_path: Path, client_certificate: ClientCertificate) -> Iterator[Simulator]:
    with Simulator(seed=42, size="small", state_dir=str(tmp_path / "sim"),
                   client_certificate=client_certificate) as simulator:
        yield simulator


# The simulated tenant enforces no rate unless a test turns its throttling on, so the client's Conditional
# Access pacing (1.1 s a request against Graph) is only waiting here; a test that proves the pacing against
# the simulator's rate limit asks for real_pacing.
TEST_PACE_SCALE = 0.02


def write_sim_info(sim: Simulator, path: Path) -> Path:
    """The simulator's info file, as `entragit sim serve --info` writes it, with the suite's pace."""
    path.write_text(json.dumps({**sim.info(), "pace_scale": TEST_PACE_SCALE}))
    return path


@pytest.fixture
def sim_info(sim: Simulator, tmp_path: Path) -> Path:
    return write_sim_info(sim, tmp_path / "sim.json")


@pytest.fixture
def real_pacing(sim_info: Path) -> None:
    """The CLI paces Conditional Access in real seconds, as against Graph."""
    sim_info.write_text(json.dumps({**json.loads(sim_info.read_text()), "pace_scale": 1.0}))


@pytest.fixture
def repo(sim_info: Path, sim: Simulator, tmp_path: Path) -> BackupRepo:
    return init_repo(tmp_path / "backup", Config(tenant_id=sim.tenant_id, client_id=sim.client_id,
                                                 simulator=str(sim_info)))


@pytest.fixture
def client(repo: BackupRepo) -> GraphClient:
    return graph_client(repo.config.connection(), sleep=lambda seconds: None)


class Admin:
    """Someone changing the tenant behind entragit's back, through Graph: an app, or a signed-in user
    (`as_user`, a userPrincipalName) whom the tenant's audit log then names."""

    def __init__(self, sim: Simulator, as_user: str | None = None) -> None:
        session = requests.Session()
        session.trust_env = False  # the environment's CA bundle must not replace the simulator's
        session.verify = sim.ca_bundle
        if as_user is not None:
            token = sim.user_token(as_user)
        else:
            app = msal.ConfidentialClientApplication(sim.client_id, client_credential=sim.client_secret,
                                                     authority=sim.authority, http_client=session,
                                                     instance_discovery=False)
            token = app.acquire_token_for_client(scopes=[sim.graph_url + "/.default"])["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        self.session = session
        self.base = sim.graph_url + "/v1.0/"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, self.base + path, **kwargs)
        assert response.status_code < 300, response.text
        return response

    def get(self, path: str, **params: str) -> Any:
        return self.call("GET", path, params=params).json()

    def users(self, department: str) -> list[dict[str, Any]]:
        return self.get("users", **{"$filter": f"department eq '{department}'", "$top": "999",
                                    "$select": "id,displayName,jobTitle,onPremisesExtensionAttributes"})["value"]

    def group(self, name: str) -> dict[str, Any]:
        found = self.get("groups", **{"$filter": f"displayName eq '{name}'"})["value"]
        assert len(found) == 1, name
        return found[0]

    def members(self, group_id: str) -> set[str]:
        return {m["id"] for m in self.get(f"groups/{group_id}/members", **{"$top": "999"})["value"]}


@pytest.fixture
def admin(sim: Simulator) -> Admin:
    return Admin(sim)


def run(*args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result
