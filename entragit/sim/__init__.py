"""entragit.sim: a simulated Entra ID tenant speaking Microsoft Graph v1.0 (and beta) over HTTPS on loopback.

    with Simulator(seed=42, size="small") as sim:
        sim.graph_url, sim.authority, sim.client_id, sim.client_secret, sim.ca_bundle
        sim.private_key_pem, sim.certificate_thumbprint      # certificate credential for msal
        sim.federation.issue("repo:org/repo:ref:refs/heads/main")  # a federated (GitHub OIDC) assertion
        sim.clock.advance(31 * 86400)                         # simulated time: tokens and the recycle bin expire
        sim.user_token("alice@contoso.com")                   # act as a user: the audit log names her

    with Simulator(size="empty", settings=Settings(app_roles="User.ReadWrite.All")) as sim:
        sim.load({"users": [...], "groups": [...]})         # Graph-shaped objects per collection (loading.py)

The simulator keeps its own model of Graph (model.py, written from the behaviour reference) and imports
nothing else from entragit, so that entragit and its test double cannot agree on a wrong Graph.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import trustme

from entragit.sim.audit import AuditLog
from entragit.sim.auth import Authority, ClientApp
from entragit.sim.clock import SimClock
from entragit.sim.credentials import ClientCertificate, Federation
from entragit.sim.entitlement import Governance
from entragit.sim.gateway import Gateway
from entragit.sim.graph import GraphApi
from entragit.sim.identity import FederatedCredentials, IdentityApi
from entragit.sim.loading import collection_at, load
from entragit.sim.model import USERS
from entragit.sim.pim import PimApi
from entragit.sim.native import NativeBackups
from entragit.sim.pim_groups import PimGroupsApi
from entragit.sim.recycle import RecycleBins
from entragit.sim.seed import build_tenant
from entragit.sim.server import SimServer
from entragit.sim.settings import Settings
from entragit.sim.stats import Stats
from entragit.sim.strengths import CombinationConfigurations
from entragit.sim.tenant import Tenant

__all__ = ["Simulator", "Settings", "serve"]


class Simulator:
    def __init__(
        self,
        seed: int = 42,
        size: str = "small",
        port: int = 0,
        host: str = "127.0.0.1",
        state_dir: str | os.PathLike[str] | None = None,
        settings: Settings | None = None,
        client_certificate: ClientCertificate | None = None,
    ) -> None:
        """`client_certificate`: the certificate registered on the app; a new one by default. A key pair costs
        more than seeding a small tenant, so a test run makes one and hands it to every simulator."""
        seeded = build_tenant(seed, size)
        self.seed = seed
        self.size = size
        self.tenant: Tenant = seeded.tenant
        self.tenant_id = seeded.tenant.tenant_id
        self.client_id = seeded.client_id
        self.client_secret = seeded.client_secret
        self.settings = settings if settings is not None else Settings()
        # One clock for every window, delay and expiry; Settings.time_scale speeds it up (clock.py).
        self.clock = SimClock(lambda: self.settings.time_scale)
        # The tenant stamps and expires with the same clock (delta tokens, page links, changes).
        self.tenant.clock = self.clock
        self.client_certificate = client_certificate or ClientCertificate.generate("entragit (simulated)")
        app = ClientApp(
            seeded.client_id,
            "entragit (simulated)",
            [seeded.client_secret],
            certificates=[self.client_certificate.certificate],
            # Read live from the app's federatedIdentityCredentials, which the seed made of seeded.federated_credentials.
            federated=FederatedCredentials(self.tenant, seeded.client_id),
        )
        self.login = Authority(self.tenant_id, self.tenant.domain, [app], self.settings, self.clock)
        self.federation = Federation(self.login, app, self.clock)
        self.graph = GraphApi(self.tenant, self.settings, self.login)
        self.recycle = RecycleBins(self.graph, self.clock)
        self.identity = IdentityApi(self.graph)
        PimApi(self.graph)
        PimGroupsApi(self.graph)
        Governance(self.graph)
        # Entra Backup and Recovery: the tenant's own daily backups, preview jobs and their changes.
        self.native = NativeBackups(self.graph, self.recycle)
        CombinationConfigurations(self.graph)
        self.audit = AuditLog(self.graph, self.settings, self.clock, self._binned)
        self.stats = Stats()
        self.gateway = Gateway(self.graph, self.settings, self.clock, self.stats, seed, self.audit)
        self._host = host
        self._port = port
        self._state_dir = Path(state_dir) if state_dir is not None else None
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self._ca_path: Path | None = None
        self._credential_paths: tuple[Path, Path] | None = None
        self._own_dir: Path | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("simulator already started")
        ca = trustme.CA(organization_name="entragit simulated tenant")
        identities = dict.fromkeys(["127.0.0.1", "localhost", self._host])
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*identities).configure_cert(context)
        server = SimServer(self._host, self._port, context, self.gateway, self.login)
        port = server.server_address[1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._graph_url = f"https://{host}:{port}"
        self.login.base_url = self._graph_url
        self.graph.root = self._graph_url
        if self._state_dir is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="entragit-sim-"))
        directory = self._state_dir or self._own_dir
        assert directory is not None
        directory.mkdir(parents=True, exist_ok=True)
        # The port in the name lets several simulators share one state directory.
        self._ca_path = directory / f"entragit-sim-ca-{port}.pem"
        ca.cert_pem.write_to_path(str(self._ca_path))
        certificate_path = directory / f"entragit-sim-client-{port}.pem"
        key_path = directory / f"entragit-sim-client-{port}.key"
        certificate_path.write_text(self.certificate_pem, encoding="ascii")
        key_path.touch(mode=0o600)
        key_path.write_text(self.private_key_pem, encoding="ascii")
        self._credential_paths = (certificate_path, key_path)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"entragit-sim-{port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None
        else:
            for path in (self._ca_path, *(self._credential_paths or ())):
                if path is not None:
                    path.unlink(missing_ok=True)

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _binned(self, object_id: str) -> dict[str, object] | None:
        item = self.recycle.items.get(object_id)
        return item.obj if item is not None else None

    def load(self, objects: Mapping[str, Iterable[Mapping[str, Any]]],
             deleted: Mapping[str, Iterable[Mapping[str, Any]]] | None = None) -> None:
        """Add objects read from another tenant, as Graph answers them, per collection path, and those
        `deleted` into the collection's recycle bin as the bin serves them (loading.py); with size="empty",
        the tenant then holds nothing else."""
        load(self.tenant, objects)
        with self.tenant.lock:
            for path, items in (deleted or {}).items():
                spec = collection_at(path)
                for obj in items:
                    self.recycle.load(spec, obj)

    def user_token(self, user: str) -> str:
        """An access token for a user of the tenant (id or userPrincipalName), signed in through the
        simulator's app: what an admin working in a portal or a script holds. Writes made with it are
        audited as that user's."""
        with self.tenant.lock:
            found = self.tenant.find(USERS, user)
            if found is None:
                raise KeyError(f"no user {user!r} in the simulated tenant")
            return self.login.issue_delegated(self.client_id, found)

    def _user(self, user: str) -> dict[str, object]:
        with self.tenant.lock:
            found = self.tenant.find(USERS, user)
        if found is None:
            raise KeyError(f"no user {user!r} in the simulated tenant")
        return found

    def enter_device_code(self, user_code: str, user: str) -> None:
        """A person (id or userPrincipalName) enters a device code's user code and signs in, as at
        https://microsoft.com/devicelogin: the device's next poll gets a token for them."""
        self.login.sign_in_with_code(user_code, self._user(user))

    def sign_in_devices_as(self, user: str | None) -> None:
        """Every device code handed out from now on is entered at once by this person (None: by nobody), for
        tests that run a command which waits on a device code."""
        self.login.device_user = None if user is None else self._user(user)

    # --- where to reach it -------------------------------------------------------------------------------

    def _require_started(self) -> None:
        if self._server is None:
            raise RuntimeError("simulator not started: call start() or use it as a context manager")

    @property
    def graph_url(self) -> str:
        self._require_started()
        return self._graph_url

    @property
    def authority(self) -> str:
        return f"{self.graph_url}/{self.tenant_id}"

    @property
    def ca_bundle(self) -> str:
        self._require_started()
        return str(self._ca_path)

    @property
    def certificate_pem(self) -> str:
        """The certificate registered on the simulator's app (a certificate credential)."""
        return self.client_certificate.certificate_pem

    @property
    def private_key_pem(self) -> str:
        return self.client_certificate.private_key_pem

    @property
    def certificate_thumbprint(self) -> str:
        """SHA-1 hex thumbprint, what msal's client_credential={"thumbprint": ...} takes."""
        return self.client_certificate.thumbprint

    @property
    def certificate_path(self) -> str:
        self._require_started()
        assert self._credential_paths is not None
        return str(self._credential_paths[0])

    @property
    def private_key_path(self) -> str:
        self._require_started()
        assert self._credential_paths is not None
        return str(self._credential_paths[1])

    def info(self) -> dict[str, str]:
        return {
            "graph_url": self.graph_url,
            "authority": self.authority,
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "ca_bundle": self.ca_bundle,
            "certificate_path": self.certificate_path,
            "private_key_path": self.private_key_path,
            "certificate_thumbprint": self.certificate_thumbprint,
        }


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(
    port: int = 0, seed: int = 42, size: str = "small", info_path: str | os.PathLike[str] = "sim.json", host: str = "127.0.0.1",
    settings: Settings | None = None,
) -> None:
    """Run a simulator until interrupted. The info file appears only once the server listens, and goes away
    when it stops, so a reader polling for it never connects to a dead or half-started tenant.
    `settings`: switches, e.g. Settings.realistic() then settings.apply("name=value") for each --set."""
    info = Path(info_path).resolve()
    if threading.current_thread() is threading.main_thread():
        # `kill` and subprocess.terminate() send SIGTERM; stop as cleanly as on Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
    sim = Simulator(seed=seed, size=size, port=port, host=host, state_dir=info.parent, settings=settings)
    sim.start()
    try:
        partial = info.with_name(f".{info.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(sim.info(), indent=2) + "\n", encoding="utf-8")
        os.replace(partial, info)
        users, groups = len(sim.tenant.objects["users"]), len(sim.tenant.objects["groups"])
        print(
            f"entragit sim listening on {sim.graph_url} (tenant {sim.tenant_id}, {size}, seed {seed}: "
            f"{users} users, {groups} groups); connection details in {info}",
            flush=True,
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        info.unlink(missing_ok=True)
        sim.stop()
