"""What the book says: its pages, read from one snapshot, as headings, lines, lists and tables.

Every id a person would read is shown by its name (groups, users, roles, locations, apps); every list is
sorted, and the only time on a page is the snapshot's, so the book of one snapshot is the same on every
run and two books diff cleanly.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from entragit.canonical import Obj
from entragit.errors import StoreError
from entragit.registry import get_type
from entragit.registry.risks import PRIVILEGED_ROLES
from entragit.store import BackupRepo


@dataclass(frozen=True)
class Link:
    """A piece of text that leads to another page of the book."""
    text: str
    page: str


Line = tuple["str | Link", ...]


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    line: Line


@dataclass(frozen=True)
class Bullets:
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Table:
    head: tuple[str, ...]
    rows: tuple[tuple[Line, ...], ...]


Block = Heading | Paragraph | Bullets | Table


@dataclass(frozen=True)
class Page:
    name: str  # the file name without its extension: letters, digits, '-', '_' and '.' only
    title: str
    blocks: tuple[Block, ...]


_ROLE_HOLDINGS = (("roleAssignments", "active"), ("roleEligibilitySchedules", "eligible"))
POLICY_STATES = {"enabled": "on", "disabled": "off", "enabledForReportingButNotEnforced": "report-only"}
# The parts of conditions shown under their own headings; the rest are "Conditions".
_WHO, _APPS = "users", "applications"
_KINDS = {"users": "user", "groups": "group", "servicePrincipals": "service principal",
          "roleDefinitions": "role", "namedLocations": "location", "applications": "app",
          "authenticationStrengths": "authentication strength", "authenticationContexts": "authentication context",
          "conditionalAccessPolicies": "Conditional Access policy", "roleAssignments": "role assignment",
          "roleEligibilitySchedules": "role eligibility"}


def _words(key: str) -> str:
    """A Graph property name in words: includeGroups -> include groups."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).lower()


def _page_name(prefix: str, object_id: str) -> str:
    return f"{prefix}-" + re.sub(r"[^A-Za-z0-9.-]", "_", object_id)


class Configuration:
    """The objects of one snapshot that the book reads, and the names of everything an id can point at."""

    def __init__(self, repo: BackupRepo, commit: str) -> None:
        self.objects = {name: repo.read_objects(commit, get_type(name)) for name in _KINDS}
        self.names: dict[str, tuple[str, str]] = {}
        for type_name, objects in self.objects.items():
            for object_id, obj in sorted(objects.items()):
                name = str(obj.get("displayName") or object_id)
                # Policies name roles by template id and apps by appId: both lead to the same name.
                for key in (object_id, obj.get("templateId"), obj.get("appId")):
                    if isinstance(key, str) and key:
                        self.names.setdefault(key, (name, _KINDS[type_name]))

    def name(self, value: Any) -> str:
        text = str(value)
        return self.names[text][0] if text in self.names else text

    def kind(self, object_id: str) -> str:
        return self.names[object_id][1] if object_id in self.names else "object"

    def sorted(self, type_name: str) -> list[tuple[str, Obj]]:
        return sorted(self.objects[type_name].items(), key=lambda item: (self.name(item[0]), item[0]))


def _flatten(snap: Configuration, value: Any, label: str = "") -> list[Line]:
    """A nested setting as lines of "what: value", ids shown by name."""
    if isinstance(value, dict):
        return [line for key, inner in sorted(value.items()) if not key.startswith("@odata")
                for line in _flatten(snap, inner, f"{label} {_words(key)}".strip())]
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return [(f"{label}: " + (", ".join(sorted(snap.name(v) for v in value)) or "none"),)]
    if isinstance(value, list):
        return [line for index, inner in enumerate(value, 1) for line in _flatten(snap, inner, f"{label} {index}")]
    return [(f"{label}: {snap.name(value) if value is not None else 'not set'}",)]


def _section(snap: Configuration, title: str, value: Any) -> tuple[Block, ...]:
    lines = _flatten(snap, value) if value else []
    return (Heading(title), Bullets(tuple(lines)) if lines else Paragraph(("none",)))


def _policy_page(snap: Configuration, policy_id: str, policy: Obj) -> Page:
    conditions = dict(policy.get("conditions") or {})
    who, apps = conditions.pop(_WHO, None), conditions.pop(_APPS, None)
    state = str(policy.get("state", "not set"))
    return Page(_page_name("policy", policy_id), f"Conditional Access: {snap.name(policy_id)}", (
        Paragraph((f"State: {POLICY_STATES.get(state, state)}. Id: {policy_id}.",)),
        *_section(snap, "Who", who), *_section(snap, "Apps", apps), *_section(snap, "Conditions", conditions),
        *_section(snap, "Grant controls", policy.get("grantControls")),
        *_section(snap, "Session controls", policy.get("sessionControls")),
    ))


def _role_rows(snap: Configuration) -> list[tuple[bool, tuple[str, str, str, str, str]]]:
    """(privileged, (role, holder, active or eligible, scope, until)) of every role assignment and
    eligibility; a built-in role's roleDefinitionId is its template id, which says whether it is privileged."""
    rows = []
    for type_name, how in _ROLE_HOLDINGS:
        for _, item in snap.sorted(type_name):
            end = ((item.get("scheduleInfo") or {}).get("expiration") or {}).get("endDateTime")
            holder = str(item.get("principalId", ""))
            role = str(item.get("roleDefinitionId", ""))
            rows.append((role in PRIVILEGED_ROLES, (snap.name(role), f"{snap.name(holder)} ({snap.kind(holder)})",
                                                     how, str(item.get("directoryScopeId", "/")), str(end or "no end"))))
    return sorted(rows)


def _roles_page(snap: Configuration) -> Page:
    rows = _role_rows(snap)
    head = ("role", "holder", "how", "scope", "until")
    privileged = tuple(tuple((cell,) for cell in row) for is_privileged, row in rows if is_privileged)
    others = tuple(tuple((cell,) for cell in row) for is_privileged, row in rows if not is_privileged)
    return Page("roles", "Role holders", (
        Paragraph((f"{len(rows)} role assignment(s) and eligibility(ies); eligible holders activate the role "
                   "when they need it.",)),
        Heading("Privileged roles"),
        Paragraph((f"{len(privileged)} holding(s) of the built-in roles Microsoft labels privileged (they can "
                   "manage the directory's security, its identities or its apps: learn.microsoft.com/entra/"
                   "identity/role-based-access-control/privileged-roles-permissions).",)),
        Table(head, privileged),
        Heading("Other roles"),
        Paragraph((f"{len(others)} holding(s) of the other roles, custom roles among them: a custom role is as "
                   "privileged as the permissions it grants.",)),
        Table(head, others),
    ))


def _credentials_page(snap: Configuration, at: str) -> Page:
    rows = []
    for type_name in ("applications", "servicePrincipals"):
        for object_id, obj in snap.sorted(type_name):
            for field, kind in (("passwordCredentials", "secret"), ("keyCredentials", "certificate")):
                for credential in obj.get(field) or []:
                    end = str(credential.get("endDateTime") or "")
                    state = "no end" if not end else "expired" if end < at else "valid"
                    rows.append((end, snap.name(object_id), _KINDS[type_name], kind,
                                 str(credential.get("displayName") or credential.get("keyId") or ""), state))
    rows.sort()
    cells = tuple(((end or "none",), *((cell,) for cell in rest)) for end, *rest in rows)
    return Page("credentials", "App credentials by expiry", (
        Paragraph((f"Expired means before the snapshot ({at}).",)),
        Table(("expires", "app", "object", "kind", "credential", "at the snapshot"),
              cells),
    ))


def _assignments_page(snap: Configuration, pages: dict[str, str]) -> Page:
    """For each user and group that something targets, what targets it and how."""
    targets: dict[str, set[tuple[str, str | Link, str]]] = defaultdict(set)
    for policy_id, policy in snap.sorted("conditionalAccessPolicies"):
        users = (policy.get("conditions") or {}).get(_WHO) or {}
        for key in ("includeUsers", "excludeUsers", "includeGroups", "excludeGroups"):
            for principal in users.get(key) or []:
                link = Link(snap.name(policy_id), pages[policy_id])
                how = "included" if key.startswith("include") else "excluded"
                targets[str(principal)].add(("Conditional Access", link, how))
    for role, holder_id, how in ((r.get("roleDefinitionId", ""), str(r.get("principalId", "")), how)
                                 for type_name, how in _ROLE_HOLDINGS for _, r in snap.sorted(type_name)):
        targets[holder_id].add(("role", snap.name(role), how))
    for type_name in ("applications", "servicePrincipals"):
        for object_id, obj in snap.sorted(type_name):
            for owner in obj.get("owners") or []:
                targets[str(owner)].add((_KINDS[type_name], snap.name(object_id), "owner"))
    inherited = _through_groups(snap, targets)
    rows = []
    for principal in sorted((p for p in targets.keys() | inherited.keys() if snap.kind(p) in ("user", "group")),
                            key=lambda p: (snap.kind(p), snap.name(p), p)):
        found = {*targets.get(principal, ()), *inherited.get(principal, ())}
        for what, item, how in sorted(found, key=lambda t: (t[0], str(t[1]), t[2])):
            rows.append(((f"{snap.name(principal)} ({snap.kind(principal)})",), (what,), (item,), (how,)))
    return Page("assignments", "Assignments: what targets each user and group", (
        Paragraph(("Conditional Access policies that include or exclude the user or group, the roles it holds "
                   "and the apps it owns: by name, or through a group it is in, directly or nested (the groups "
                   "between are named, nearest first).",)),
        Table(("user or group", "what", "name", "how"), tuple(rows)),
    ))


def _through_groups(snap: Configuration, targets: dict[str, set[tuple[str, str | Link, str]]]
                    ) -> dict[str, set[tuple[str, str | Link, str]]]:
    """For each member of a group that something targets, what reaches it through that group, with the
    chain of groups it is in on the way (a member of a member of an excluded group is excluded too)."""
    member_of: dict[str, list[str]] = defaultdict(list)
    for group_id, obj in snap.sorted("groups"):
        for member in obj.get("members") or []:
            member_of[str(member)].append(group_id)
    reached: dict[str, set[tuple[str, str | Link, str]]] = defaultdict(set)
    for principal in list(member_of):
        # Breadth first, each group once: a nesting cycle (which Entra refuses, but a file may hold) ends.
        queue: list[tuple[str, tuple[str, ...]]] = [(group, (group,)) for group in member_of[principal]]
        seen = {principal}
        while queue:
            group, chain = queue.pop(0)
            if group in seen:
                continue
            seen.add(group)
            via = " → ".join(snap.name(g) for g in chain)
            for what, item, how in targets.get(group, ()):
                reached[principal].add((what, item, f"{how} through group {via}"))
            queue += [(parent, (*chain, parent)) for parent in member_of.get(group, ())]
    return reached


def book_pages(repo: BackupRepo, rev: str | None) -> list[Page]:
    """The pages of the book of rev (default: the newest snapshot), the index first."""
    if rev is None:
        newest = repo.snapshots(1)
        if not newest:
            raise StoreError(f"{repo.root} has no snapshot yet; take one with `entragit snapshot`")
        rev = newest[0].commit
    commit = repo.resolve(rev)
    # In UTC, as Graph writes times, so that an expiry and the snapshot's time compare as text.
    at = repo.git.commit(commit).committed_datetime.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    snap = Configuration(repo, commit)
    policies = snap.sorted("conditionalAccessPolicies")
    names = {policy_id: _page_name("policy", policy_id) for policy_id, _ in policies}
    pages = [_policy_page(snap, policy_id, policy) for policy_id, policy in policies]
    pages += [_roles_page(snap), _credentials_page(snap, at), _assignments_page(snap, names)]
    index = Page("index", "Tenant configuration", (
        Paragraph((f"The snapshot {commit} taken {at}.",)),
        Heading("Conditional Access policies"),
        Bullets(tuple((Link(snap.name(policy_id), names[policy_id]),
                       f" ({POLICY_STATES.get(str(policy.get('state')), str(policy.get('state')))})")
                      for policy_id, policy in policies)),
        Heading("Roles, apps and assignments"),
        Bullets(tuple((Link(page.title, page.name),) for page in pages[len(policies):])),
    ))
    return [index, *pages]
