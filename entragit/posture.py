"""Whether the tenant can be brought back: the pillars `entragit posture` checks, from the live tenant and the
backup repository, each passing, warning or failing with the figures behind it.

- Soft delete usable: every recycle bin is readable, and what it holds, with what Entra purges within a
  week (it keeps a deleted object RECYCLE_BIN_DAYS).
- Protected actions on purge: the actions that empty the directory's recycle bin ask for an authentication
  context, and an enabled Conditional Access policy enforces that context; otherwise any holder of a role
  that may purge can make a deletion final with no further check.
- Backups fresh: the newest snapshot's age, and the types it could not read.
- Break glass: the emergency accounts are excluded from every enabled Conditional Access policy that blocks
  or asks for MFA, so a broken policy or MFA outage does not lock every administrator out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from entragit.canonical import Obj
from entragit.errors import GraphError
from entragit.graph import GraphClient
from entragit.live import fetch_type
from entragit.registry import DIRECTORY_RECYCLE_BIN, RECYCLE_BIN_DAYS, ObjectType, get_type, resolve_types
from entragit.registry.protected_actions import is_purge_action
from entragit.store import NO_DRIVERS, BackupRepo

PASS, WARN, FAIL = "pass", "warn", "fail"
_ORDER = (PASS, WARN, FAIL)
# What a CI job sees: 0 when every pillar holds, 1 when one fails (as any error), this when some only warn.
EXIT_WARNINGS = 3
EXIT_CODES = {PASS: 0, WARN: EXIT_WARNINGS, FAIL: 1}
# Entra purges a deleted object RECYCLE_BIN_DAYS after its deletion: what goes within this many days is named.
AGES_OUT_DAYS = 7
_BLOCKING_GRANTS = frozenset({"block", "mfa"})
_TYPE_TRAILER = "Entragit-Type:"


@dataclass(frozen=True)
class Pillar:
    name: str
    status: str
    """PASS, WARN or FAIL."""
    summary: str
    figures: list[str] = field(default_factory=list)
    """The figures behind the status, one line each."""


@dataclass(frozen=True)
class Posture:
    tenant: str
    checked_at: str
    """ISO 8601, UTC."""
    pillars: list[Pillar]

    @property
    def status(self) -> str:
        return max((p.status for p in self.pillars), key=_ORDER.index, default=PASS)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


@dataclass(frozen=True)
class PostureOptions:
    break_glass: tuple[str, ...] = ()
    """User principal names or ids of the emergency accounts."""
    warn_after_hours: float = 26
    fail_after_hours: float = 50
    now: datetime | None = None
    """When the check is made (UTC); None: now."""


def _worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=_ORDER.index, default=PASS)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


# --- soft delete ---------------------------------------------------------------------------------------------

def bin_listing(object_type: ObjectType) -> str:
    """Where a type's deleted objects are listed: the directory's bin per type (its OData cast), or the
    type's own bin (Conditional Access)."""
    if object_type.recycle_bin != DIRECTORY_RECYCLE_BIN:
        return str(object_type.recycle_bin)
    return f"{DIRECTORY_RECYCLE_BIN}/{object_type.odata_types[0].removeprefix('#')}"


def soft_delete(client: GraphClient, now: datetime) -> Pillar:
    figures, statuses, held, soon = [], [], 0, 0
    horizon = now + timedelta(days=AGES_OUT_DAYS)
    for object_type in (t for t in resolve_types(()) if t.recycle_bin):
        try:
            items = list(client.iter_collection(bin_listing(object_type), {"$select": "id,deletedDateTime"}))
        except GraphError as error:
            statuses.append(FAIL)
            figures.append(f"{object_type.name}: the recycle bin could not be read ({error.status} {error.code})")
            continue
        purged = sorted(_when(str(i["deletedDateTime"])) + timedelta(days=RECYCLE_BIN_DAYS)
                        for i in items if i.get("deletedDateTime"))
        going = [p for p in purged if p <= horizon]
        held, soon = held + len(items), soon + len(going)
        if going:
            statuses.append(WARN)
        first = f", the first on {going[0].date().isoformat()}" if going else ""
        figures.append(f"{object_type.name}: {len(items)} in the recycle bin, {len(going)} purged within "
                       f"{AGES_OUT_DAYS} days{first}")
    status = _worst(statuses)
    summary = {FAIL: "a recycle bin cannot be read: a deletion there cannot be undone by entragit",
               WARN: f"{soon} of {held} deleted object(s) purged for good within {AGES_OUT_DAYS} days",
               PASS: f"{held} deleted object(s) restorable, none purged within {AGES_OUT_DAYS} days"}[status]
    return Pillar("soft delete usable", status, summary, figures)


# --- protected actions ---------------------------------------------------------------------------------------

def _enforcing(policies: dict[str, Obj], state: str) -> dict[str, list[str]]:
    """Authentication context -> the names of the policies in `state` that target it."""
    found: dict[str, list[str]] = {}
    for policy in policies.values():
        if policy.get("state") != state:
            continue
        for context in (policy.get("conditions") or {}).get("applications", {}).get(
                "includeAuthenticationContextClassReferences") or []:
            found.setdefault(context, []).append(str(policy.get("displayName") or policy.get("id")))
    return found


def protected_purge(client: GraphClient, policies: dict[str, Obj]) -> Pillar:
    name = "protected actions on purge"
    try:
        actions = fetch_type(client, get_type("protectedActions"))
    except GraphError as error:
        return Pillar(name, FAIL, f"the protected actions could not be read ({error.status} {error.code})")
    purges = sorted((a for a in actions.values() if is_purge_action(a)), key=lambda a: str(a.get("name")))
    if not purges:
        return Pillar(name, FAIL, "no action that purges the recycle bin takes an authentication context here")
    enforced, reporting = _enforcing(policies, "enabled"), _enforcing(policies, "enabledForReportingButNotEnforced")
    figures, statuses = [], []
    for action in purges:
        context = action.get("authenticationContextId")
        if not context:
            statuses.append(FAIL)
            figures.append(f"{action['name']}: no authentication context")
        elif context in enforced:
            statuses.append(PASS)
            figures.append(f"{action['name']}: {context}, enforced by {', '.join(enforced[context])}")
        elif context in reporting:
            statuses.append(WARN)
            figures.append(f"{action['name']}: {context}, only in report-only {', '.join(reporting[context])}")
        else:
            statuses.append(FAIL)
            figures.append(f"{action['name']}: {context}, which no enabled Conditional Access policy enforces")
    status = _worst(statuses)
    summary = {FAIL: "purging the recycle bin is not protected by Conditional Access",
               WARN: "purging the recycle bin asks for a context that a policy only reports on",
               PASS: "purging the recycle bin asks for an authentication context that Conditional Access enforces"}
    return Pillar(name, status, summary[status], figures)


# --- backups -------------------------------------------------------------------------------------------------

def skipped_types(repo: BackupRepo, commit: str) -> list[str]:
    """The types a snapshot could not read, from its commit's trailers (mode=skipped)."""
    message = repo.git.git.log(*NO_DRIVERS, "-1", "--format=%B", commit)
    return [line.split()[1] for line in message.splitlines()
            if line.startswith(_TYPE_TRAILER) and "mode=skipped" in line.split()]


def backups_fresh(repo: BackupRepo, options: PostureOptions, now: datetime) -> Pillar:
    name = "backups fresh"
    newest = repo.snapshots(limit=1)
    if not newest:
        return Pillar(name, FAIL, "no snapshot has been taken")
    snapshot = newest[0]
    hours = (now - _when(snapshot.time)).total_seconds() / 3600
    age = f"the newest snapshot ({snapshot.commit[:10]}, {snapshot.time}) is {hours:.1f} h old"
    figures = [f"warn after {options.warn_after_hours:g} h, fail after {options.fail_after_hours:g} h"]
    status = FAIL if hours > options.fail_after_hours else WARN if hours > options.warn_after_hours else PASS
    skipped = skipped_types(repo, snapshot.commit)
    if skipped:
        # The rest is current; a type left out on purpose belongs in `types:` of entragit.yaml instead.
        status = _worst((status, WARN))
        figures.append(f"not read by it (permission refused): {', '.join(skipped)}")
    summary = age if not skipped else f"{age}; {len(skipped)} type(s) not read"
    return Pillar(name, status, summary, figures)


# --- break glass ---------------------------------------------------------------------------------------------

def _blocking(policy: Obj) -> bool:
    """An enabled policy that blocks, or asks for MFA (a control or an authentication strength)."""
    grants = policy.get("grantControls") or {}
    return policy.get("state") == "enabled" and bool(
        _BLOCKING_GRANTS & set(grants.get("builtInControls") or []) or grants.get("authenticationStrength"))


def _applies(users: dict[str, Any], account: str, groups: set[str]) -> tuple[bool, bool]:
    """(included, excluded) of an account by a policy's user conditions, directly or through a group."""
    included = bool({"All", account} & set(users.get("includeUsers") or [])
                    or groups & set(users.get("includeGroups") or []))
    excluded = bool(account in (users.get("excludeUsers") or []) or groups & set(users.get("excludeGroups") or []))
    return included, excluded


def break_glass(client: GraphClient, policies: dict[str, Obj], accounts: tuple[str, ...]) -> Pillar:
    name = "break-glass accounts excluded"
    if not accounts:
        return Pillar(name, WARN, "no break-glass account named (--break-glass, or break_glass in entragit.yaml)")
    blocking = sorted((p for p in policies.values() if _blocking(p)), key=lambda p: str(p.get("displayName")))
    figures, statuses, missing = [], [], 0
    for account in accounts:
        try:
            user = client.get(f"users/{quote(account)}", {"$select": "id,userPrincipalName"})
            groups = {str(g["id"]) for g in client.iter_collection(f"users/{user['id']}/memberOf", {"$select": "id"})}
        except GraphError as error:
            statuses.append(FAIL)
            missing += 1
            figures.append(f"{account}: not found ({error.status} {error.code})")
            continue
        caught = [str(p.get("displayName") or p["id"]) for p in blocking
                  if _applies((p.get("conditions") or {}).get("users") or {}, str(user["id"]), groups) == (True, False)]
        statuses.append(FAIL if caught else PASS)
        shown = str(user.get("userPrincipalName") or account)
        figures.append(f"{shown}: caught by {', '.join(caught)}" if caught else
                       f"{shown}: excluded from all {len(blocking)} blocking or MFA policies")
    status = _worst(statuses)
    if status == PASS:
        summary = f"{len(accounts)} break-glass account(s) excluded from every blocking or MFA policy"
    elif missing == len(statuses) - statuses.count(PASS):
        summary = f"{missing} named break-glass account(s) not found"
    else:
        summary = "a break-glass account is held by a blocking or MFA policy"
    return Pillar(name, status, summary, figures)


def assess(repo: BackupRepo, client: GraphClient, options: PostureOptions) -> Posture:
    """Every pillar, read from the live tenant and the repository."""
    now = options.now or datetime.now(timezone.utc)
    policies = fetch_type(client, get_type("conditionalAccessPolicies"))
    pillars = [soft_delete(client, now), protected_purge(client, policies), backups_fresh(repo, options, now),
               break_glass(client, policies, options.break_glass or repo.config.break_glass)]
    return Posture(repo.config.tenant_id, now.strftime("%Y-%m-%dT%H:%M:%SZ"), pillars)
