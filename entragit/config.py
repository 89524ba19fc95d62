"""entragit.yaml at the root of a backup repository, plus the secrets that never go into it."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from entragit.errors import ConfigError
from entragit.registry import REGISTRY

CONFIG_FILE = "entragit.yaml"
# The names azure-identity reads, so one pipeline's settings serve both.
SECRET_ENV = "AZURE_CLIENT_SECRET"
CERTIFICATE_ENV = "AZURE_CLIENT_CERTIFICATE_PATH"
CERTIFICATE_PASSWORD_ENV = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
FEDERATED_TOKEN_FILE_ENV = "AZURE_FEDERATED_TOKEN_FILE"
AUTH_KINDS = ("secret", "certificate", "federated")

# Graph and sign-in hosts per national cloud (reference §8); tokens do not cross clouds.
CLOUDS: dict[str, tuple[str, str]] = {
    "global": ("https://graph.microsoft.com", "https://login.microsoftonline.com"),
    "usgov": ("https://graph.microsoft.us", "https://login.microsoftonline.us"),
    "usgovdod": ("https://dod-graph.microsoft.us", "https://login.microsoftonline.us"),
    "china": ("https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
}


@dataclass(frozen=True)
class Connection:
    """Everything needed to sign in and call Graph; the secret lives only in memory."""

    graph_url: str
    authority: str
    tenant_id: str
    client_id: str
    client_secret: str | None
    ca_bundle: str | None = None
    auth: str = "secret"
    """How the app proves itself: a secret, a certificate, or a federated (OIDC) assertion."""

    @property
    def scope(self) -> str:
        return self.graph_url.rstrip("/") + "/.default"


@dataclass(frozen=True)
class Guard:
    """The mass-change guard: a snapshot in which more than vanished_share of a type's objects vanished
    (for types with more than minimum_objects) is held back as suspect."""

    vanished_share: float = 0.2
    minimum_objects: int = 20


@dataclass(frozen=True)
class Guardrails:
    """What a restore must never do, from the `restore:` section of entragit.yaml."""

    never_write_objects: tuple[str, ...] = ()
    """Ids, display names or user principal names of objects no restore may write or link."""
    never_write_attributes: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    """Type name -> dotted attribute paths no restore may write."""
    max_writes: int = 500
    """Writes per run; a larger plan is refused unless --max-writes raises the limit."""


@dataclass(frozen=True)
class Config:
    tenant_id: str
    client_id: str
    cloud: str = "global"
    graph_url: str | None = None
    authority_host: str | None = None
    simulator: str | None = None
    """Path of a `entragit sim serve --info` file: the connection is read from it at run time."""
    types: tuple[str, ...] = ()
    auth: str = "secret"
    guard: Guard = Guard()
    restore: Guardrails = Guardrails()

    def to_yaml_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"tenant_id": self.tenant_id, "client_id": self.client_id, "cloud": self.cloud,
                                "auth": self.auth}
        for key in ("graph_url", "authority_host", "simulator"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.types:
            data["types"] = list(self.types)
        data["guard"] = {"vanished_share": self.guard.vanished_share, "minimum_objects": self.guard.minimum_objects}
        return data

    def connection(self) -> Connection:
        if self.auth not in AUTH_KINDS:
            raise ConfigError(f"{CONFIG_FILE}: unknown auth {self.auth!r}; one of {', '.join(AUTH_KINDS)}")
        if self.simulator:
            return dataclasses.replace(simulator_connection(self.simulator), auth=self.auth)
        if self.cloud not in CLOUDS:
            raise ConfigError(f"{CONFIG_FILE}: unknown cloud {self.cloud!r}; one of {', '.join(CLOUDS)}")
        graph, login = CLOUDS[self.cloud]
        return Connection(
            graph_url=(self.graph_url or graph).rstrip("/"),
            authority=f"{(self.authority_host or login).rstrip('/')}/{self.tenant_id}",
            tenant_id=self.tenant_id,
            client_id=self.client_id,
            client_secret=os.environ.get(SECRET_ENV),
            auth=self.auth,
        )


def read_simulator_info(path: str) -> dict[str, str]:
    try:
        info = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"simulator info file {path} not found; start the simulator with `entragit sim serve --info {path}`"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"simulator info file {path} is unreadable: {exc}") from None
    missing = {"graph_url", "authority", "tenant_id", "client_id", "client_secret", "ca_bundle"} - set(info)
    if missing:
        raise ConfigError(f"simulator info file {path} lacks {', '.join(sorted(missing))}")
    return {key: str(value) for key, value in info.items()}


def simulator_connection(path: str) -> Connection:
    info = read_simulator_info(path)
    return Connection(
        graph_url=info["graph_url"].rstrip("/"),
        authority=info["authority"],
        tenant_id=info["tenant_id"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        ca_bundle=info["ca_bundle"],
    )


def load_config(repo_root: Path) -> Config:
    path = repo_root / CONFIG_FILE
    try:
        data = YAML(typ="safe").load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{repo_root} is not an entragit backup repository (no {CONFIG_FILE}); "
            f"create one with `entragit init {repo_root}`"
        ) from None
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    known = {"tenant_id", "client_id", "cloud", "graph_url", "authority_host", "simulator", "types", "auth",
             "guard", "restore"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    for required in ("tenant_id", "client_id"):
        if not data.get(required):
            raise ConfigError(f"{path}: missing {required}")
    return Config(
        tenant_id=str(data["tenant_id"]),
        client_id=str(data["client_id"]),
        cloud=str(data.get("cloud", "global")),
        graph_url=data.get("graph_url"),
        authority_host=data.get("authority_host"),
        simulator=data.get("simulator"),
        types=tuple(data.get("types") or ()),
        auth=str(data.get("auth", "secret")),
        guard=_guard(data.get("guard"), path),
        restore=_guardrails(data.get("restore"), path),
    )


def _guard(data: Any, path: Path) -> Guard:
    if data is None:
        return Guard()
    if not isinstance(data, dict) or set(data) - {"vanished_share", "minimum_objects"}:
        raise ConfigError(f"{path}: guard takes vanished_share (0..1) and minimum_objects")
    try:
        guard = Guard(float(data.get("vanished_share", Guard.vanished_share)),
                      int(data.get("minimum_objects", Guard.minimum_objects)))
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: guard values must be numbers") from None
    if not 0 <= guard.vanished_share <= 1:
        raise ConfigError(f"{path}: guard.vanished_share must be between 0 and 1")
    return guard


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a list of names")
    return tuple(value)


def _guardrails(data: Any, path: Path) -> Guardrails:
    if data is None:
        return Guardrails()
    usage = (f"{path}: restore takes max_writes (a number) and never_write (objects: [id, name or UPN, ...], "
             "attributes: {type: [dotted.path, ...]})")
    if not isinstance(data, dict) or set(data) - {"max_writes", "never_write"}:
        raise ConfigError(usage)
    never = data.get("never_write") or {}
    if not isinstance(never, dict) or set(never) - {"objects", "attributes"}:
        raise ConfigError(usage)
    attributes = never.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ConfigError(usage)
    unknown = sorted(set(attributes) - set(REGISTRY))
    if unknown:
        raise ConfigError(f"{path}: restore.never_write.attributes names unknown type(s) {', '.join(unknown)}")
    max_writes = data.get("max_writes", Guardrails.max_writes)
    if not isinstance(max_writes, int) or isinstance(max_writes, bool) or max_writes < 0:
        raise ConfigError(f"{path}: restore.max_writes must be a whole number, not {max_writes!r}")
    return Guardrails(
        never_write_objects=_strings(never.get("objects") or [], f"{path}: restore.never_write.objects"),
        never_write_attributes={t: _strings(paths, f"{path}: restore.never_write.attributes.{t}")
                                for t, paths in attributes.items()},
        max_writes=max_writes,
    )
