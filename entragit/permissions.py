"""Who entragit is signed in as, from the access token: the tenant, checked against the tenant the backup
repository's snapshots are of, and the application permissions, checked against what a plan will write.

Both are read from the token's claims without checking its signature: the token comes from the sign-in
entragit itself made, and Graph, which does check it, refuses anything the claims overstate. The checks
only make a refusal come before the first read or write instead of half-way through.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from entragit.errors import TenantMismatch
from entragit.graph import GraphClient
from entragit.registry import REGISTRY
from entragit.store import NO_DRIVERS, SNAPSHOT_TRAILER, BackupRepo

if TYPE_CHECKING:
    from entragit.restore import Step

TENANT_TRAILER = "Entragit-Tenant"

# A write permission -> the higher privileged application permissions that Microsoft's page for each write
# lists as allowing it too (e.g. https://learn.microsoft.com/graph/api/user-update?view=graph-rest-1.0,
# https://learn.microsoft.com/graph/api/oauth2permissiongrant-update?view=graph-rest-1.0). Application,
# policy and organization writes have none: Directory.ReadWrite.All does not reach them.
INCLUDED_IN: dict[str, tuple[str, ...]] = {
    "User.ReadWrite.All": ("Directory.ReadWrite.All",),
    "Group.ReadWrite.All": ("Directory.ReadWrite.All",),
    "AdministrativeUnit.ReadWrite.All": ("Directory.ReadWrite.All",),
    "DelegatedPermissionGrant.ReadWrite.All": ("Directory.ReadWrite.All",),
    "RoleEligibilitySchedule.ReadWrite.Directory": ("RoleManagement.ReadWrite.Directory",),
}


@dataclass(frozen=True)
class SignIn:
    tenant: str
    """The tenant the token was issued in (its tid claim), else the tenant the configuration names."""
    roles: frozenset[str] | None
    """The application permissions the token carries; None where it does not say (not a JWT, or a
    delegated token, which carries scopes instead)."""


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, or nothing when the token is not one (Entra may issue opaque tokens)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def sign_in(client: GraphClient, configured_tenant: str) -> SignIn:
    claims = token_claims(client.access_token())
    tenant = claims.get("tid")
    roles = claims.get("roles")
    return SignIn(str(tenant) if isinstance(tenant, str) and tenant else configured_tenant,
                  frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else None)


def snapshot_tenant(repo: BackupRepo, rev: str) -> tuple[str, str] | None:
    """(commit, tenant) of the newest snapshot reachable from rev that names its tenant; None in a
    repository with no snapshot yet."""
    if not repo.git.head.is_valid():
        return None
    out = repo.git.git.log(*NO_DRIVERS, "-1", f"--grep=^{SNAPSHOT_TRAILER}:", f"--format=%H%x1f%(trailers:key={TENANT_TRAILER},"
                           "valueonly,separator=%x1f)", repo.resolve(rev), "--")
    commit, _, tenant = out.strip().partition("\x1f")
    tenant = tenant.split("\x1f")[0].strip()
    return (commit, tenant) if commit and tenant else None


def _same_tenant(recorded: str, signed: SignIn, configured: str) -> bool:
    if recorded.lower() == signed.tenant.lower():
        return True
    # Older snapshots recorded the tenant as configured, which may be a domain name that Entra resolved
    # to the id in the token when signing in; an id is compared with the token's alone.
    return "." in recorded and recorded.lower() == configured.lower()


def check_tenant(repo: BackupRepo, signed: SignIn, rev: str, consequence: str) -> None:
    """Refuse to go on when the snapshots at rev are of another tenant than the one signed in to: a
    restore would write one tenant's objects into another, a snapshot would record a mass deletion.
    Copying configuration between tenants is not supported."""
    found = snapshot_tenant(repo, rev)
    if found is None:
        return
    commit, recorded = found
    if not _same_tenant(recorded, signed, repo.config.tenant_id):
        resolved = repo.resolve(rev)
        where = "" if resolved == commit else f" (the newest reachable from {rev[:10] if rev == resolved else rev})"
        raise TenantMismatch(f"this repository's snapshot {commit[:10]}{where} is of tenant {recorded}; "
                             f"the sign-in is to tenant {signed.tenant}: {consequence}")


def holds(roles: Iterable[str], permission: str) -> bool:
    granted = set(roles)
    return permission in granted or bool(granted & set(INCLUDED_IN.get(permission, ())))


def write_refusals(steps: Iterable[Step], signed: SignIn) -> tuple[list[str], list[str]]:
    """(refusals, notes): one refusal per write permission the steps need and the token lacks, or a note
    that the token does not say which permissions it carries."""
    needed: dict[str, set[str]] = {}
    for step in steps:
        if step.type in REGISTRY:
            needed.setdefault(REGISTRY[step.type].write_permission_at(step.path, step.id), set()).add(step.type)
    if not needed:
        return [], []
    if signed.roles is None:
        return [], ["the app's permissions could not be checked before writing (the token names no application "
                    "roles); a missing one shows as Graph refusing that write"]
    roles = signed.roles
    return [f"the app lacks the application permission {permission}, needed to write {', '.join(sorted(types))}"
            for permission, types in sorted(needed.items()) if not holds(roles, permission)], []
