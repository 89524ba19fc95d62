"""`entragit doctor`: what a backup repository, its sign-in and its pipelines lack, each with what fixes it.

Every check reads; none writes to the tenant, the repository or the remote. The permission checks ask Graph
itself (one cheap GET per type, batched), because what a token says it holds and what Graph lets through can
differ: a permission granted but not consented, a tenant that asks for an Entra role besides it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import git

from entragit.ci.templates import PIPELINES, template_text
from entragit.config import CLOUDS, CONFIG_FILE, OUTSIDE, REMOTE_DEFAULT, Config, given_outside
from entragit.connect import graph_client
from entragit.errors import EntragitError, GraphError, TenantMismatch
from entragit.graph import BatchItem, RetryPolicy
from entragit.permissions import SignIn, check_tenant, holds, sign_in, snapshot_tenant
from entragit.registry import ObjectType, resolve_types
from entragit.store import BackupRepo

OK, MISSING, NOTE = "ok", "missing", "note"
# A doctor run should answer in seconds: an unreachable host is the finding, not something to wait out.
_PATIENCE = RetryPolicy(max_attempts=3, max_total_wait=20.0)
_LS_REMOTE_SECONDS = 30


@dataclass(frozen=True)
class Finding:
    status: str
    """ok, missing (and detail says what fixes it), or note (worth knowing, not missing)."""
    check: str
    detail: str


def diagnose(root: Path, write: bool = False) -> Iterator[Finding]:
    """The findings about the backup repository at root, in the order a newcomer sets things up: the
    settings, the sign-in and the tenant, the permissions, the remote, the pipelines."""
    try:
        repo = BackupRepo(root)
    except EntragitError as exc:
        yield Finding(MISSING, CONFIG_FILE, f"{exc} (the other checks need it)")
        return
    config = repo.config
    types = resolve_types(config.types)
    yield Finding(OK, CONFIG_FILE, f"tenant {config.tenant_id}, app {config.client_id}, auth {config.auth}, "
                                   f"{len(types)} type(s) backed up")
    for note in config.notes:
        yield Finding(NOTE, CONFIG_FILE, note)
    yield from _graph(repo, types, write)
    yield from _remote(repo)
    yield from _pipelines(repo.root)


def _connection_source(config: Config, outside: dict[str, tuple[str, str]]) -> str:
    if config.simulator:
        return f"a simulated tenant described by {config.simulator} (from {outside['simulator'][1]})"
    graph, login = CLOUDS.get(config.cloud, ("", ""))
    hosts = []
    for setting, default, what in (("graph_url", graph, "Graph"), ("authority_host", login, "sign-in")):
        if setting in outside:
            hosts.append(f"{what} {outside[setting][0]} (from {outside[setting][1]})")
        else:
            hosts.append(f"{what} {default} (cloud {config.cloud})")
    if "client_id" in outside:
        hosts.append(f"as app {config.client_id} (from {outside['client_id'][1]}, not {CONFIG_FILE}'s client_id)")
    return ", ".join(hosts)


_NO_SCOPE = "00000000-0000-0000-0000-000000000000"


def _graph(repo: BackupRepo, types: list[ObjectType], write: bool) -> Iterator[Finding]:
    config = repo.config
    try:
        connection = config.connection()
    except EntragitError as exc:
        yield Finding(MISSING, "connection", str(exc))
        return
    yield Finding(OK, "connection", _connection_source(config, given_outside(repo.git)))
    client = graph_client(connection, retry=_PATIENCE)
    try:
        signed = sign_in(client, config.tenant_id)
    except EntragitError as exc:
        yield Finding(MISSING, "sign-in", f"{exc} (the permission checks need a sign-in)")
        return
    held = "naming no application permissions" if signed.roles is None else \
        f"carrying {len(signed.roles)} application permission(s)"
    yield Finding(OK, "sign-in", f"a token for app {connection.client_id} in tenant {signed.tenant}, {held}")
    yield _tenant(repo, signed)
    # A type listed per scope is probed with a scope that has no objects: Graph checks the permission all the same.
    probes = [BatchItem("GET", t.collection, {**({"$top": "1"} if t.page_size and not t.singleton else {}),
                                             **t.list_params,
                                             **(t.scope_filter(_NO_SCOPE) if t.listed_per_scope else {})} or None,
                        version=t.api_version)
              for t in types]
    for object_type, answer in zip(types, client.get_many(probes)):
        yield _read(object_type, answer, signed)
    if write:
        yield from _writes(types, signed)


def _tenant(repo: BackupRepo, signed: SignIn) -> Finding:
    try:
        check_tenant(repo, signed, "HEAD", "a snapshot would stop, and a restore would refuse to write")
    except TenantMismatch as exc:
        return Finding(MISSING, "tenant", f"{exc}; sign in to the repository's tenant, or back this one up in "
                                          "a repository of its own")
    found = snapshot_tenant(repo, "HEAD")
    if found is None:
        return Finding(OK, "tenant", f"no snapshot yet: the first one records tenant {signed.tenant}")
    return Finding(OK, "tenant", f"the newest snapshot {found[0][:10]} is of this tenant")


def _read(object_type: ObjectType, answer: object, signed: SignIn) -> Finding:
    check = f"read {object_type.name}"
    permission = object_type.read_permission
    if not isinstance(answer, GraphError):
        return Finding(OK, check, permission)
    if answer.status != 403:
        return Finding(MISSING, check, f"Graph answered {answer.status} {answer.code}: {answer.graph_message}")
    if signed.roles is not None and permission in signed.roles:
        return Finding(MISSING, check, f"Graph refused ({answer.code}) though the app holds the application "
                                       f"permission {permission}: the type's Graph page names the Entra role "
                                       "it asks for besides")
    return Finding(MISSING, check, f"Graph refused ({answer.code}): grant the app the application permission "
                                   f"{permission} (admin consent), or leave the type out with `types:` in "
                                   f"{CONFIG_FILE}")


def _writes(types: list[ObjectType], signed: SignIn) -> Iterator[Finding]:
    if signed.roles is None:
        yield Finding(NOTE, "write", "the token names no application permissions (a delegated sign-in?): the "
                                     "restore permissions cannot be checked before a restore")
        return
    for object_type in types:
        permission = ", ".join(object_type.write_permissions)
        besides = f"; for some objects Graph also asks for {object_type.also_needs}" if object_type.also_needs else ""
        lacking = [p for p in object_type.write_permissions if not holds(signed.roles, p)]
        if not lacking:
            yield Finding(OK, f"write {object_type.name}", permission + besides)
        else:
            yield Finding(MISSING, f"write {object_type.name}",
                          f"grant the restore app the application permission {', '.join(lacking)}{besides}")


def _shown_url(url: str) -> str:
    """A remote's URL without the password or token a URL may carry."""
    parts = urlsplit(url)
    if not parts.scheme or parts.password is None and not parts.username:
        return url
    return urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")
                                     if parts.hostname else ""))


def _remote(repo: BackupRepo) -> Iterator[Finding]:
    remotes = {remote.name: remote for remote in repo.git.remotes}
    if not remotes:
        yield Finding(MISSING, "git remote", "none: a pipeline clones and pushes the backup through one; add "
                                             "it with `git remote add origin URL` and `git push -u origin HEAD`")
    else:
        name = "origin" if "origin" in remotes else sorted(remotes)[0]
        url = _shown_url(next(remotes[name].urls, ""))
        try:
            listing = str(repo.git.git.ls_remote("--symref", name, "HEAD", kill_after_timeout=_LS_REMOTE_SECONDS,
                                                 env={"GIT_TERMINAL_PROMPT": "0"}))
        except git.GitCommandError as exc:
            said = [line.strip() for line in str(exc.stderr).splitlines() if line.strip()]
            yield Finding(MISSING, "git remote", f"{name} ({url}) did not answer `git ls-remote`: "
                                                 f"{said[-1] if said else 'no message from git'}")
        else:
            heads = [line.split()[1] for line in listing.splitlines() if line.startswith("ref: ")]
            branch = heads[0].removeprefix("refs/heads/") if heads else None
            yield Finding(OK, "git remote", f"{name} ({url}) answers; " +
                          (f"its default branch is {branch}" if branch else "it has no branch yet: push one"))
    outside = given_outside(repo.git)
    if "trusted_ref" in outside:
        ref, where = outside["trusted_ref"]
        yield Finding(OK, "trusted ref", f"{ref} (from {where})")
    elif repo.git.git.rev_parse("--verify", "--quiet", REMOTE_DEFAULT, with_exceptions=False):
        yield Finding(OK, "trusted ref", f"{REMOTE_DEFAULT}, the remote's default branch as last fetched")
    else:
        yield Finding(MISSING, "trusted ref", "none: guardrails stay at entragit's defaults whatever is committed; "
                                              f"run `entragit init --refresh` in a clone, or set {OUTSIDE['trusted_ref']}")


# Where `entragit init --ci PLATFORM` writes each platform's pipeline files in a backup repository.
PIPELINE_FOLDERS = {platform: Path(next(iter(targets.values()))).parent.as_posix()
                    for platform, targets in PIPELINES.items()}


def _pipelines(root: Path) -> Iterator[Finding]:
    found = [(platform, path) for platform, folder in PIPELINE_FOLDERS.items()
             for path in sorted((root / folder).glob("entragit*.yml"))]
    if not found:
        # Not missing: a repository snapshotted by a pipeline elsewhere (a service provider's matrix of
        # tenants) has none of its own.
        yield Finding(NOTE, "pipelines", f"none under {' or '.join(PIPELINE_FOLDERS.values())}: write them with "
                                         f"`entragit init --ci {' or --ci '.join(PIPELINE_FOLDERS)}`, unless a "
                                         "pipeline elsewhere snapshots this repository")
    for platform, path in found:
        yield _pipeline(platform, path.relative_to(root), path.read_bytes())


def _pipeline(platform: str, path: Path, text: bytes) -> Finding:
    try:
        template = template_text(platform, path.name)
    except FileNotFoundError:
        return Finding(NOTE, f"pipeline {path}", "not one of entragit's templates: not compared")
    if template.encode() == text:
        return Finding(OK, f"pipeline {path}", "the same as entragit's template")
    return Finding(NOTE, f"pipeline {path}", f"changed from entragit's template {platform}/{path.name}: keep the "
                                             "change if it is meant, or take the template's again")
