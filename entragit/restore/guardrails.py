"""Guardrails on a restore: what entragit.yaml says must never be written, and plans that would lock
everyone out of the tenant.

guard_plan() drops the steps that touch a never_write object or attribute and lists them as blocked;
refusals() names what makes a plan too dangerous to apply at all.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from entragit.config import Guardrails
from entragit.errors import GraphError
from entragit.graph import GraphClient
from entragit.registry import REGISTRY
from entragit.restore.kinds import StepKind
from entragit.restore.model import Blocked, Plan, Step
from entragit.selection import overlaps

GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
_POLICIES = REGISTRY["conditionalAccessPolicies"]
_ASSIGNMENTS = REGISTRY["roleAssignments"]
_USERS = REGISTRY["users"]
_GROUPS = REGISTRY["groups"]


def _mentions(value: Any, object_id: str) -> bool:
    return object_id in json.dumps(value, default=str)


class _Protected:
    def __init__(self, client: GraphClient, guard: Guardrails) -> None:
        self.names = {n.lower() for n in guard.never_write_objects}
        self.ids: set[str] = {n.lower() for n in guard.never_write_objects}
        for name in guard.never_write_objects:
            if "@" in name:
                self.ids |= self._user_id(client, name)

    @staticmethod
    def _user_id(client: GraphClient, upn: str) -> set[str]:
        try:
            found = client.get(_USERS.item_path(upn), {"$select": "id"})
        except GraphError as error:
            if error.not_found:
                return set()  # nobody by that name now: there is nothing of theirs to write
            raise
        return {str(found["id"]).lower()}

    def named(self, object_id: str | None, name: str | None) -> bool:
        return (object_id or "").lower() in self.ids or (name or "").lower() in self.names

    def mentioned_by(self, old: Any, new: Any) -> str | None:
        """A protected id that a change adds or removes, e.g. a break-glass account in excludeUsers."""
        return next((i for i in self.ids if _mentions(old, i) != _mentions(new, i)), None)


def _trim(step: Step, dropped_keys: set[str]) -> Step | None:
    """The patch without the dropped body keys, or None when nothing is left to send."""
    body = {k: v for k, v in (step.body or {}).items() if k not in dropped_keys}
    changes = tuple(c for c in step.changes if c.path.split(".")[0] not in dropped_keys)
    if not changes:
        return None
    return dataclasses.replace(step, body=body, changes=changes)


def guard_plan(plan: Plan, client: GraphClient, guard: Guardrails) -> Plan:
    """The plan without any write to a never_write object or attribute; each one dropped is listed as
    blocked, so the user sees what the guardrail kept back."""
    if not guard.never_write_objects and not guard.never_write_attributes:
        return plan
    protected = _Protected(client, guard)
    steps: list[Step] = []
    blocked = list(plan.blocked)

    def block(step: Step, what: str, reason: str) -> None:
        blocked.append(Blocked(step.type, step.id, step.name, what, f"guardrail: {reason} (entragit.yaml restore.never_write)"))

    for step in plan.steps:
        if protected.named(step.id, step.name):
            block(step, step.describe(), "the object is never written")
            continue
        grantee = next((i for i in protected.ids if REGISTRY[step.type].match_on and _mentions(step.body, i)), None)
        if grantee is not None:
            # An assignment or grant is the principal's own access, like a membership.
            block(step, step.describe(), f"it grants {grantee} access, and {grantee} is never written")
            continue
        if step.member is not None:
            rel, member_id, member_name = step.member
            if protected.named(member_id, member_name):
                block(step, step.describe(), f"{member_name or member_id} is never written")
                continue
            attribute = next((p for p in guard.never_write_attributes.get(step.type, ()) if overlaps(rel, p)), None)
            if attribute:
                block(step, step.describe(), f"{step.type} {attribute} is never written")
                continue
            steps.append(step)
            continue
        dropped: set[str] = set()
        for change in step.changes:
            top = change.path.split(".")[0]
            attribute = next((p for p in guard.never_write_attributes.get(step.type, ()) if overlaps(change.path, p)), None)
            mentioned = protected.mentioned_by(change.old, change.new)
            if attribute:
                block(step, change.path, f"{step.type} {attribute} is never written"
                      + (f"; {top} is written as a whole" if top != change.path else ""))
            elif mentioned:
                block(step, change.path, f"the change adds or removes {mentioned}, which is never written")
            else:
                continue
            dropped.add(top)
        trimmed = _trim(step, dropped) if dropped else step
        if trimmed is not None:
            steps.append(trimmed)
    # What names an object kept from coming back would name an id that does not exist.
    kept_back = {s.id for s in plan.steps if s.kind.brings_back} - {s.id for s in steps if s.kind.brings_back}
    for step in [s for s in steps if s.id in kept_back or any(_mentions([s.path, s.body], i) for i in kept_back)]:
        steps.remove(step)
        block(step, step.describe(), "it names an object the guardrail keeps from coming back")
    return dataclasses.replace(plan, steps=steps, blocked=blocked)


def _enabled_policies_after(plan: Plan, client: GraphClient) -> tuple[list[str], list[str]]:
    """Names of the Conditional Access policies enforced now, and of those the plan leaves enforced."""
    live = list(client.iter_collection(_POLICIES.collection, {"$select": "id,displayName,state"}))
    state = {p["id"]: p.get("state") for p in live}
    names = {p["id"]: p.get("displayName") or p["id"] for p in live}
    before = [names[i] for i, s in state.items() if s == "enabled"]
    for step in plan.steps:
        if step.type != _POLICIES.name:
            continue
        if step.kind is StepKind.DELETE:
            state.pop(step.id, None)
        elif step.body and "state" in step.body:
            state[step.id] = step.body["state"]
            names.setdefault(step.id, step.name or step.id)
    return before, [names[i] for i, s in state.items() if s == "enabled"]


class _AdminHolders:
    """Who can act as Global Administrator through each principal assigned the role: the user itself, the
    members of a (role-assignable) group; a service principal signs no one in."""

    def __init__(self, client: GraphClient) -> None:
        self.client = client
        self.through: dict[str, set[str]] = {}
        self.enabled: dict[str, bool] = {}

    def user_enabled(self, user_id: str) -> bool | None:
        """Whether a user may sign in; None when the id is no user."""
        if user_id not in self.enabled:
            try:
                found = self.client.get(_USERS.item_path(user_id), {"$select": "id,accountEnabled"})
            except GraphError as error:
                if not error.not_found:
                    raise
                return None
            self.enabled[user_id] = found.get("accountEnabled", True) is not False
        return self.enabled[user_id]

    def learn(self, principal: str) -> None:
        if principal in self.through:
            return
        if self.user_enabled(principal) is not None:
            self.through[principal] = {principal}
            return
        try:
            members = [m["id"] for m in self.client.iter_collection(f"{_GROUPS.item_path(principal)}/members",
                                                                    {"$select": "id"})]
        except GraphError as error:
            if not error.not_found:
                raise
            members = []  # a service principal
        self.through[principal] = {m for m in members if self.user_enabled(m) is not None}

    def users(self, principals: Iterable[str]) -> set[str]:
        return {u for p in principals for u in self.through[p] if self.enabled.get(u, True)}


def _global_admins_after(plan: Plan, client: GraphClient) -> tuple[set[str], set[str]]:
    """Enabled users holding Global Administrator now, and those the plan leaves holding it.

    Holding means an active assignment, to the user or to a group the user is a member of. An eligible
    (PIM) one does not count: activating it takes someone who can still sign in and approve; nor does a
    service principal's, which no one can sign in with to undo a mistake."""
    assignments = {a["id"]: a["principalId"] for a in client.iter_collection(_ASSIGNMENTS.collection)
                   if a.get("roleDefinitionId") == GLOBAL_ADMINISTRATOR}
    holders = _AdminHolders(client)
    for principal in set(assignments.values()):
        holders.learn(principal)
    before = holders.users(assignments.values())
    for step in plan.steps:
        if step.type == _ASSIGNMENTS.name and step.kind is StepKind.DELETE:
            assignments.pop(step.id, None)
        elif (step.type == _ASSIGNMENTS.name and step.kind is StepKind.CREATE and step.body
              and step.body.get("roleDefinitionId") == GLOBAL_ADMINISTRATOR):
            principal = str(step.body.get("principalId"))
            holders.learn(principal)
            assignments[f"new:{step.id}"] = principal
        elif step.type == _USERS.name and _disables_user(step):
            holders.enabled[step.id] = False
        elif step.type == _GROUPS.name and step.id in holders.through:
            if step.kind is StepKind.DELETE:
                holders.through[step.id] = set()
            elif step.member is not None and step.member[0] == "members":
                member = step.member[1]
                if step.kind is StepKind.REMOVE_REF:
                    holders.through[step.id].discard(member)
                elif step.kind is StepKind.ADD_REF and holders.user_enabled(member) is not None:
                    holders.through[step.id].add(member)
    return before, holders.users(assignments.values())


def _disables_user(step: Step) -> bool:
    return step.kind is StepKind.DELETE or (step.body or {}).get("accountEnabled") is False


def _may_remove_an_admin(plan: Plan) -> bool:
    return any(step.type == _ASSIGNMENTS.name
               or (step.type == _USERS.name and _disables_user(step))
               or (step.type == _GROUPS.name and step.kind in (StepKind.DELETE, StepKind.REMOVE_REF))
               for step in plan.steps)


def refusals(plan: Plan, client: GraphClient, max_writes: int) -> list[str]:
    """Why this plan must not be applied; empty when it may be."""
    found: list[str] = []
    if len(plan.steps) > max_writes:
        found.append(f"the plan makes {len(plan.steps)} writes, more than the {max_writes} allowed per run "
                     "(restore.max_writes in entragit.yaml); raise the limit for this run with --max-writes "
                     f"{len(plan.steps)}")
    if any(step.type == _POLICIES.name for step in plan.steps):
        enforced, left = _enabled_policies_after(plan, client)
        if enforced and not left:
            found.append(f"the plan would leave no Conditional Access policy enabled ({len(enforced)} are now: "
                         f"{', '.join(sorted(enforced))})")
    if _may_remove_an_admin(plan):
        admins, remaining = _global_admins_after(plan, client)
        if admins and not remaining:
            found.append(f"the plan would leave no enabled Global Administrator (now: {', '.join(sorted(admins))})")
    return found
