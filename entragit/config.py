"""entragit.yaml at the root of a backup repository, plus what must never come from it: the secrets, and
the settings a pull request must not be able to change.

The repository is changed through pull requests, so its working tree is untrusted input. Where the
credential is sent (the sign-in and Graph hosts, the simulator) comes from the national cloud's name or
from outside the repository: the environment, or the clone's own git config (.git/config is never
committed). The guardrails are the strictest of the working tree's entragit.yaml and the one committed on
the trusted branch, so a file can always tighten them, and only a reviewed commit can loosen them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import git

from entragit.canonical import parse_yaml
from entragit.errors import ConfigError, StoreError
from entragit.registry import REGISTRY

CONFIG_FILE = "entragit.yaml"
# The names azure-identity reads, so one pipeline's settings serve both.
SECRET_ENV = "AZURE_CLIENT_SECRET"
CERTIFICATE_ENV = "AZURE_CLIENT_CERTIFICATE_PATH"
CERTIFICATE_PASSWORD_ENV = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
FEDERATED_TOKEN_FILE_ENV = "AZURE_FEDERATED_TOKEN_FILE"
# A user-assigned managed identity's client id; without it, the machine's system-assigned identity signs in.
MANAGED_IDENTITY_CLIENT_ID_ENV = "AZURE_CLIENT_ID"
AUTH_KINDS = ("secret", "certificate", "federated", "managed-identity")
# What the snapshot pipeline does with drift (`ci: {drift: ...}`): open or update one pull request for a
# person to review, or commit it to the default branch and say so in the job summary.
DRIFT_MODES = ("pull-request", "commit")

# Graph and sign-in hosts per national cloud; tokens do not cross clouds
# (https://learn.microsoft.com/graph/deployments).
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
    """How the app proves itself: a secret, a certificate, a federated (OIDC) assertion, or the managed identity
    of the Azure machine it runs on."""
    named_scopes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(setting, ids) given outside the repository: the groups PIM is read for besides the role-assignable ones."""
    pace_scale: float = 1.0
    """Real seconds per second of the waits the client keeps to Graph's documented rates (Conditional Access
    pacing): a simulator's info file may shrink them, for a simulated tenant that enforces no such rate."""

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
    """What a restore must never do, from the `restore:` section of entragit.yaml (see _strictest)."""

    never_write_objects: tuple[str, ...] = ()
    """Ids, display names or user principal names of objects no restore may write or link."""
    never_write_attributes: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    """Type name -> dotted attribute paths no restore may write."""
    max_writes: int = 500
    """Writes per run; a larger plan is refused unless --max-writes raises the limit."""


@dataclass(frozen=True)
class Outside:
    """Where a setting that a pull request must not change is read: the environment first, then the
    clone's own git config."""

    env: str
    git_key: str

    def __str__(self) -> str:
        return f"{self.env} or `git config {self.git_key} VALUE`"


OUTSIDE: dict[str, Outside] = {
    "graph_url": Outside("ENTRAGIT_GRAPH_URL", "entragit.graphUrl"),
    "authority_host": Outside("ENTRAGIT_AUTHORITY_HOST", "entragit.authorityHost"),
    "simulator": Outside("ENTRAGIT_SIMULATOR", "entragit.simulator"),
    "client_id": Outside("ENTRAGIT_CLIENT_ID", "entragit.clientId"),
    "trusted_ref": Outside("ENTRAGIT_TRUSTED_REF", "entragit.trustedRef"),
    "max_writes": Outside("ENTRAGIT_MAX_WRITES", "entragit.maxWrites"),
    # Comma-separated group ids: PIM for groups is read for these besides the role-assignable groups.
    "pim_groups": Outside("ENTRAGIT_PIM_GROUPS", "entragit.pimGroups"),
}
# Without a trusted ref set, a clone's remote default branch is the reviewed state.
REMOTE_DEFAULT = "refs/remotes/origin/HEAD"


@dataclass(frozen=True)
class Config:
    tenant_id: str
    client_id: str
    cloud: str = "global"
    graph_url: str | None = None
    """Set only from outside the repository (OUTSIDE), as are authority_host and simulator."""
    authority_host: str | None = None
    simulator: str | None = None
    """Path of a `entragit sim serve --info` file: the connection is read from it at run time."""
    types: tuple[str, ...] = ()
    auth: str = "secret"
    guard: Guard = Guard()
    restore: Guardrails = Guardrails()
    drift: str = "pull-request"
    """`ci: {drift: ...}`: one of DRIFT_MODES."""
    notes: tuple[str, ...] = ()
    """What the working tree's entragit.yaml asked for and did not get: looser guardrails."""
    break_glass: tuple[str, ...] = ()
    """`break_glass: [upn or id, ...]`: the emergency accounts `entragit posture` checks."""
    pim_groups: tuple[str, ...] = ()
    """Set only from outside the repository (OUTSIDE): groups whose PIM is read besides the role-assignable ones."""

    def to_yaml_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"tenant_id": self.tenant_id, "client_id": self.client_id, "cloud": self.cloud,
                                "auth": self.auth}
        if self.types:
            data["types"] = list(self.types)
        data["guard"] = {"vanished_share": self.guard.vanished_share, "minimum_objects": self.guard.minimum_objects}
        return data

    def connection(self) -> Connection:
        if self.auth not in AUTH_KINDS:
            raise ConfigError(f"{CONFIG_FILE}: unknown auth {self.auth!r}; one of {', '.join(AUTH_KINDS)}")
        named = (("pim_groups", self.pim_groups),) if self.pim_groups else ()
        if self.simulator:
            return dataclasses.replace(simulator_connection(self.simulator), auth=self.auth, named_scopes=named)
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
            named_scopes=named,
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
    try:
        pace_scale = float(info.get("pace_scale", 1.0))
    except ValueError:
        pace_scale = math.nan
    if not (math.isfinite(pace_scale) and pace_scale > 0):
        raise ConfigError(f"simulator info file {path}: pace_scale must be a positive number, "
                          f"not {info['pace_scale']!r}")
    return Connection(
        graph_url=info["graph_url"].rstrip("/"),
        authority=info["authority"],
        tenant_id=info["tenant_id"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        ca_bundle=info["ca_bundle"],
        pace_scale=pace_scale,
    )


def _settings(text: bytes | str, where: str) -> dict[str, Any]:
    try:
        data = parse_yaml(text, where)
    except StoreError as exc:
        raise ConfigError(str(exc)) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of settings")
    return data


def load_config(repo_root: Path, repo: git.Repo | None = None) -> Config:
    """The settings of the backup repository at repo_root; with its git repository, also those given
    outside it and the guardrails committed on the trusted ref."""
    path = repo_root / CONFIG_FILE
    try:
        data = _settings(path.read_bytes(), str(path))
    except FileNotFoundError:
        raise ConfigError(
            f"{repo_root} is not an entragit backup repository (no {CONFIG_FILE}); "
            f"create one with `entragit init {repo_root}`"
        ) from None
    moved = [key for key in ("graph_url", "authority_host", "simulator") if key in data]
    if moved:
        raise ConfigError(
            f"{path}: {', '.join(moved)} {'is' if len(moved) == 1 else 'are'} no longer read from the repository, "
            "where a pull request could send the credential to another host; remove "
            f"{'it' if len(moved) == 1 else 'them'} and set " + "; ".join(map(str, (OUTSIDE[k] for k in moved)))
            + " instead")
    known = {"tenant_id", "client_id", "cloud", "types", "auth", "guard", "restore", "ci", "break_glass"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    for required in ("tenant_id", "client_id"):
        if not data.get(required):
            raise ConfigError(f"{path}: missing {required}")
    outside = given_outside(repo)
    hosts = {key: _https(*outside[key]) for key in ("graph_url", "authority_host") if key in outside}
    notes: list[str] = []
    guard, restore = _strictest(_guard(data.get("guard"), str(path)), _guardrails(data.get("restore"), str(path)),
                                repo, outside, notes)
    if "max_writes" in outside:
        restore = dataclasses.replace(restore, max_writes=_whole_number(*outside["max_writes"]))
    return Config(
        tenant_id=str(data["tenant_id"]),
        client_id=outside["client_id"][0] if "client_id" in outside else str(data["client_id"]),
        cloud=str(data.get("cloud", "global")),
        graph_url=hosts.get("graph_url"),
        authority_host=hosts.get("authority_host"),
        simulator=outside["simulator"][0] if "simulator" in outside else None,
        types=tuple(data.get("types") or ()),
        auth=str(data.get("auth", "secret")),
        guard=guard,
        restore=restore,
        drift=_drift(data.get("ci"), str(path)),
        notes=tuple(notes),
        break_glass=_strings(data.get("break_glass", []), f"{path}: break_glass"),
        pim_groups=tuple(i.strip() for i in outside["pim_groups"][0].split(",") if i.strip())
        if "pim_groups" in outside else (),
    )


def _drift(data: Any, where: str) -> str:
    usage = f"{where}: ci takes drift: {' or '.join(DRIFT_MODES)}"
    if data is None:
        return DRIFT_MODES[0]
    if not isinstance(data, dict) or set(data) - {"drift"}:
        raise ConfigError(usage)
    drift = data.get("drift", DRIFT_MODES[0])
    if drift not in DRIFT_MODES:
        raise ConfigError(f"{usage}, not {drift!r}")
    return str(drift)


def _local_git_config(repo: git.Repo) -> dict[str, str]:
    """The clone's own entragit.* settings (keys lowercased, as git compares them)."""
    try:
        listing = repo.git.config("--local", "--null", "--get-regexp", r"^entragit\.")
    except git.GitCommandError:
        return {}  # git says 1 when nothing matches
    pairs = (entry.partition("\n") for entry in listing.split("\0") if entry)
    return {key.lower(): value for key, _, value in pairs}


def given_outside(repo: git.Repo | None) -> dict[str, tuple[str, str]]:
    """setting -> (value, where it was set), for the settings given outside the repository."""
    local = _local_git_config(repo) if repo is not None else {}
    found: dict[str, tuple[str, str]] = {}
    for setting, names in OUTSIDE.items():
        if os.environ.get(names.env):
            found[setting] = (os.environ[names.env], names.env)
        elif local.get(names.git_key.lower()):
            found[setting] = (local[names.git_key.lower()], f"git config {names.git_key}")
    return found


def remember(repo: git.Repo, setting: str, value: str) -> None:
    """Keep a setting in the clone's own git config, where no pull request reaches."""
    repo.git.config("--local", OUTSIDE[setting].git_key, value)


def trust_remote_default(repo: git.Repo) -> str | None:
    """In a clone, make the remote's default branch (as last fetched) the trusted ref, unless one is set;
    the ref now trusted, or None when there is none."""
    local = _local_git_config(repo)
    if OUTSIDE["trusted_ref"].git_key.lower() in local:
        return local[OUTSIDE["trusted_ref"].git_key.lower()]
    try:
        branch = str(repo.git.symbolic_ref("--quiet", REMOTE_DEFAULT))
    except git.GitCommandError:
        return None
    remember(repo, "trusted_ref", branch)
    return branch


def _https(value: str, where: str) -> str:
    parts = urlsplit(value)
    try:
        usable = (parts.scheme == "https" and bool(parts.hostname) and parts.port != 0
                  and not (parts.username or parts.query or parts.fragment))
    except ValueError:  # a port that is not a number
        usable = False
    if not usable:
        raise ConfigError(f"{where} is {value!r}: it must be an https URL such as https://login.example.com "
                          "(the credential and tokens travel to it)")
    return value.rstrip("/")


def _whole_number(value: str, where: str) -> int:
    if not value.isdigit():
        raise ConfigError(f"{where} is {value!r}: it must be a whole number of writes")
    return int(value)


def _commit_of(repo: git.Repo, ref: str) -> str | None:
    if ref.startswith("-"):
        return None
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}"))
    except git.GitCommandError:
        return None


def _trusted(repo: git.Repo | None, outside: dict[str, tuple[str, str]]) -> tuple[str, Guard, Guardrails] | None:
    """The trusted ref and the guardrails committed there, or None when no trusted ref is known."""
    if repo is None:
        return None
    if "trusted_ref" in outside:
        ref, where = outside["trusted_ref"]
        commit = _commit_of(repo, ref)
        if commit is None:
            raise ConfigError(f"the trusted ref {ref} ({where}) names no commit in {repo.working_tree_dir}; "
                              "fetch it, or correct the setting")
    else:
        ref, commit = REMOTE_DEFAULT, _commit_of(repo, REMOTE_DEFAULT)
        if commit is None:
            return None
    try:
        text = str(repo.git.cat_file("blob", f"{commit}:{CONFIG_FILE}"))
    except git.GitCommandError:
        return ref, Guard(), Guardrails()  # no settings committed there: the defaults are what it says
    where = f"{CONFIG_FILE} as committed on {ref}"
    data = _settings(text, where)
    # Only the guardrails are taken from there: the rest is what the working tree says.
    return ref, _guard(data.get("guard"), where), _guardrails(data.get("restore"), where)


def _strictest(guard: Guard, restore: Guardrails, repo: git.Repo | None, outside: dict[str, tuple[str, str]],
               notes: list[str]) -> tuple[Guard, Guardrails]:
    """The working tree's guardrails tightened by the trusted ref's (or by the defaults, when there is no
    trusted ref); each looser wish of the working tree becomes a note."""
    trusted = _trusted(repo, outside)
    if trusted is None:
        base_guard, base_restore = Guard(), Guardrails()
        basis = (f"as entragit's defaults have it (no trusted branch is known: set {OUTSIDE['trusted_ref']}); "
                 "guardrails are loosened only by a commit on the trusted branch")
    else:
        ref, base_guard, base_restore = trusted
        basis = f"as committed on {ref} (guardrails are loosened only by a commit on the trusted branch)"

    def lower(setting: str, wanted: float, applies: float) -> float:
        if wanted > applies:
            notes.append(f"{CONFIG_FILE} in the working tree raises {setting} to {wanted}; {applies} applies, {basis}")
        return min(wanted, applies)

    def union(setting: str, wanted: tuple[str, ...], kept: tuple[str, ...]) -> tuple[str, ...]:
        dropped = [name for name in kept if name.lower() not in {w.lower() for w in wanted}]
        if dropped:
            notes.append(f"{CONFIG_FILE} in the working tree drops {', '.join(dropped)} from {setting}; "
                         f"{'they stay' if len(dropped) > 1 else 'it stays'}, {basis}")
        return wanted + tuple(dropped)

    attributes = dict(restore.never_write_attributes)
    for type_name, paths in base_restore.never_write_attributes.items():
        attributes[type_name] = union(f"restore.never_write.attributes.{type_name}",
                                      attributes.get(type_name, ()), paths)
    return (
        Guard(lower("guard.vanished_share", guard.vanished_share, base_guard.vanished_share),
              int(lower("guard.minimum_objects", guard.minimum_objects, base_guard.minimum_objects))),
        Guardrails(never_write_objects=union("restore.never_write.objects", restore.never_write_objects,
                                             base_restore.never_write_objects),
                   never_write_attributes=attributes,
                   max_writes=int(lower("restore.max_writes", restore.max_writes, base_restore.max_writes))),
    )


def _guard(data: Any, where: str) -> Guard:
    if data is None:
        return Guard()
    if not isinstance(data, dict) or set(data) - {"vanished_share", "minimum_objects"}:
        raise ConfigError(f"{where}: guard takes vanished_share (0..1) and minimum_objects")
    try:
        guard = Guard(float(data.get("vanished_share", Guard.vanished_share)),
                      int(data.get("minimum_objects", Guard.minimum_objects)))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: guard values must be numbers") from None
    if not 0 <= guard.vanished_share <= 1:
        raise ConfigError(f"{where}: guard.vanished_share must be between 0 and 1")
    return guard


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a list of names")
    return tuple(value)


def _guardrails(data: Any, where: str) -> Guardrails:
    if data is None:
        return Guardrails()
    usage = (f"{where}: restore takes max_writes (a number) and never_write (objects: [id, name or UPN, ...], "
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
        raise ConfigError(f"{where}: restore.never_write.attributes names unknown type(s) {', '.join(unknown)}")
    max_writes = data.get("max_writes", Guardrails.max_writes)
    if not isinstance(max_writes, int) or isinstance(max_writes, bool) or max_writes < 0:
        raise ConfigError(f"{where}: restore.max_writes must be a whole number, not {max_writes!r}")
    return Guardrails(
        never_write_objects=_strings(never.get("objects") or [], f"{where}: restore.never_write.objects"),
        never_write_attributes={t: _strings(paths, f"{where}: restore.never_write.attributes.{t}")
                                for t, paths in attributes.items()},
        max_writes=max_writes,
    )
