"""What a restore is made of: the plan a user sees before anything is written (its steps, what cannot be
restored and why), how Graph answered each step, and what a plan remembers of the tenant to notice later
that it moved.

A plan is a value: saved plans and journals hold it as JSON (restore/planfile.py), field by field.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from entragit.canonical import Obj
from entragit.errors import GraphError
from entragit.registry import REGISTRY, ObjectType, Relationship
from entragit.report.model import AttributeChange, RiskFlag
from entragit.restore.kinds import StepKind
from entragit.selection import Selection
from entragit.store import BackupRepo

# What a patch row says a property was, where a restore from the bin may have reset it.
AS_RESTORED = "(as the restore leaves it)"

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
"""An object id as Graph gives them; what a step's path or body names of other objects."""

StepKey = tuple[str, str, str]
"""What makes two steps the same write: method, path and the member of a link, the credential or the
object."""


@dataclass(frozen=True)
class Step:
    kind: StepKind
    type: str
    id: str
    name: str | None
    method: str
    path: str
    body: dict[str, Any] | None
    stage: int = 0
    changes: tuple[AttributeChange, ...] = ()
    """For a patch, the attributes it puts back; for a rewrite, (reference path, old id, new id or None
    while Graph has not given it yet)."""
    member: tuple[str, str, str | None] | None = None
    """For a link, (relationship, member id, member name)."""
    detail: str | None = None
    """For a credential removal, which credential."""
    assigns: tuple[tuple[str, str], ...] = ()
    """For a creation, (property, value in the snapshot) of what Graph gives a new value: id, appId."""
    risks: tuple[RiskFlag, ...] = ()
    """What the risk table says of this write's change to its object (restore/risks.py assess())."""

    @property
    def key(self) -> StepKey:
        # A link is planned from both of its ends; creations of one type share their path.
        return (self.method, self.path, self.member[1] if self.member else self.detail or self.id)

    def describe(self) -> str:
        who = f"{self.type}/{self.id} {self.name or ''}".rstrip()
        if self.member is not None:
            rel, member_id, member_name = self.member
            return f"{self.kind.verb()} {rel}: {member_name or member_id} ({member_id}) on {who}"
        # A type written whole says PUT, as the request it sends (a device registration policy).
        verb = self.method if self.kind is StepKind.PATCH else self.kind.verb(self.detail)
        return f"{verb} {who}"


@dataclass(frozen=True)
class Blocked:
    type: str
    id: str
    name: str | None
    what: str
    reason: str


@dataclass(frozen=True)
class RestoreOptions:
    delete_extra: bool = False
    """Delete objects of the selected types that the snapshot does not have (never users)."""
    remove_new_credentials: bool = False
    """Remove app and service principal credentials added since the snapshot."""
    follow_references: bool = True
    """Rewrite live references to an object the plan makes again under a new id (a CA policy excluding a
    recreated group), in objects outside the selection too."""


class HeldAt:
    """Who held what at a commit (member id -> holder ids, under one relationship), as the files say.

    It never changes, and indexing it means reading every holder's links once: a plan and the plans made
    again from it (verification, resume) share one index, which lives as long as they do."""

    def __init__(self) -> None:
        self._index: dict[tuple[str, str, str], dict[str, set[str]]] = {}

    def __call__(self, repo: BackupRepo, commit: str, holder_type: ObjectType,
                 rel: Relationship) -> dict[str, set[str]]:
        """member id -> the holders whose files at the commit list it under rel (ids as in the files)."""
        key = (commit, holder_type.name, rel.name)
        if key not in self._index:
            index: dict[str, set[str]] = {}
            # The links the snapshot of that commit left, when it is the newest; else every holder's file.
            for holder_id, members in repo.links(commit, holder_type, rel.name).items():
                for member_id in members:
                    index.setdefault(member_id, set()).add(holder_id)
            self._index[key] = index
        return self._index[key]


@dataclass
class Plan:
    at: str
    commit: str
    selected: dict[str, list[str]]
    """Type name -> ids of the objects the plan restores."""
    selection: Selection = Selection()
    """What was asked for; planning it again (verification, resume) finds the same objects."""
    steps: list[Step] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    options: RestoreOptions = RestoreOptions()
    id_map: dict[str, str] = field(default_factory=dict)
    """Snapshot id -> live id of objects created by an earlier apply; the plan was made through it."""
    fingerprints: dict[str, str] = field(default_factory=dict)
    """"type/id" -> fingerprint() of the live object the plan was computed against."""
    holdings: dict[str, str] = field(default_factory=dict)
    """"type/id/holder type.relationship" -> holding_fingerprint() of what held the object then: a group
    that gained a selected user since is noticed, though the plan never read that group."""
    held_at: HeldAt = field(default_factory=HeldAt, repr=False, compare=False, metadata={"saved": False})
    unwanted: dict[str, list[str]] = field(default_factory=dict)
    """Type name -> ids of objects the plan deletes where they exist (apply --delete-extra: those whose
    files the commit deleted)."""
    names: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """Id -> (type, display name) of the other objects its writes name by id (a CA policy's excluded
    groups, a role's principal), as the commit has them, so that a plan shows names beside ids as diff does."""

    @property
    def object_count(self) -> int:
        return sum(len(ids) for ids in self.selected.values())


def fingerprint(obj: Obj | None) -> str:
    """What a plan remembers of a live object, to notice later that it moved."""
    if obj is None:
        return "absent"
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:20]


def holding_key(member_type: str, member_id: str, holder_type: str, relationship: str) -> str:
    return f"{member_type}/{member_id}/{holder_type}.{relationship}"


def holding_fingerprint(holder_ids: Collection[str]) -> str:
    return hashlib.sha256(json.dumps(sorted(holder_ids)).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Outcome:
    """How Graph answered one step: the journal records it, with what a creation was called."""

    step: Step
    status: int
    body: dict[str, Any] | None
    error: GraphError | None

    @property
    def created(self) -> dict[str, str]:
        """What Graph called the object this step created (old -> new): its id, and appId for an app."""
        if self.error is not None:
            return {}
        made = self.body or {}
        # Made by an action that answers with the object under a key (an instantiated template's application),
        # and what it made too under keys of their own ("servicePrincipal.id").
        at = REGISTRY[self.step.type].hooks.answer_at if self.step.type in REGISTRY else None
        own = made[at] if at and isinstance(made.get(at), dict) else made

        def value(prop: str) -> Any:
            key, _, inner = prop.partition(".")
            return (made.get(key) or {}).get(inner) if inner else own.get(prop)

        return {old: new for prop, old in self.step.assigns if isinstance(new := value(prop), str) and new != old}


@dataclass
class ApplyResult:
    done: list[Step]
    failed: list[tuple[Step, GraphError]]
    residue: Plan
    created: dict[str, str] = field(default_factory=dict)
    """Old id (and appId) -> the one Graph gave the recreated object."""


def rewrite(value: Any, id_map: dict[str, str]) -> Any:
    """value with every old id in its strings (paths, @odata.id URLs, scopes) replaced by the new one."""
    if not id_map:
        return value
    pattern = re.compile("|".join(re.escape(old) for old in sorted(id_map, key=len, reverse=True)))

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(lambda m: id_map[m.group(0)], item)
        if isinstance(item, dict):
            return {walk(k): walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(value)


def current_key(step: Step, id_map: dict[str, str]) -> StepKey:
    """The step's key as a plan made once these objects were created would have it."""
    method, path, which = step.key
    return (method, rewrite(path, id_map), rewrite(which, id_map))


EXIT_REHEARSAL_FAILED = 3
"""The exit code of --rehearse when Graph refused a step, or verification found a difference."""


@dataclass
class Rehearsal:
    """What a rehearsal of a plan found (restore/rehearse.py)."""

    plan: Plan
    """The plan rehearsed: the prepared plan's writes still to make."""
    result: ApplyResult
    """How the rehearsal tenant answered, and the residue its verification found."""
    loaded: dict[str, int]
    """Type name -> how many objects of it the rehearsal tenant was given."""
    refusals: list[str] = field(default_factory=list)
    """What a real run would refuse before writing anything (permissions, the write limit, lock-outs)."""
    notes: list[str] = field(default_factory=list)

    @property
    def left(self) -> int:
        """What verification would still find different: writes to make again, and differences no write
        can remove (a reference to an object that no longer exists)."""
        return len(self.result.residue.steps) + len(self.result.residue.blocked)

    @property
    def clean(self) -> bool:
        return not (self.refusals or self.result.failed or self.left)
