"""The report model: what a difference report (and an object's history) says, apart from how it is found
(entragit/diff/) and how it is shown (the renderers beside this module).

It imports nothing of the code that builds or renders reports, so that every module of either side can
depend on it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from entragit.registry import REGISTRY, ObjectType

CHANGE_KINDS = ("added", "removed", "modified", "restored")


@dataclass(frozen=True)
class AttributeChange:
    path: str
    """Dotted attribute path, e.g. onPremisesExtensionAttributes.extensionAttribute3."""
    old: Any
    new: Any
    added: tuple[Any, ...] | None = None
    """For a list: the elements only the new value has (an element whose key stays but whose content
    changed is both removed, as it was, and added, as it is); None for a value that is not a list."""
    removed: tuple[Any, ...] | None = None
    """For a list: the elements only the old value has."""
    reconstructed: bool = False
    """A side's value came from the directory audit log, not from a snapshot (diff --at-time)."""


@dataclass(frozen=True)
class MemberChange:
    relationship: str
    action: str  # "added" | "removed"
    id: str
    display_name: str | None
    type: str | None
    reconstructed: bool = False


@dataclass(frozen=True)
class UnknownValues:
    """What a state reconstructed from the audit log could not fill (diff --at-time): these attribute paths
    of an object, or its whole state when paths is empty, and why."""

    type: str
    id: str
    display_name: str | None
    paths: tuple[str, ...]
    why: str


@dataclass
class Reconstructed:
    """How a report's older side was rebuilt from a snapshot and the audit log, and what it cannot say."""

    note: str
    unknown: list[UnknownValues] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Attribution:
    """Who changed an object, from the tenant's directory audit log."""

    actor: str
    """The initiating user's principal name or the initiating app's display name."""
    actor_kind: str  # "user" | "app"
    actor_id: str | None
    activity: str
    """The audit record's activityDisplayName, e.g. "Update user"."""
    time: str
    """ISO 8601, UTC."""


@dataclass(frozen=True)
class RecycleState:
    """Where a removed object is now: in a recycle bin until a date, or gone for good."""

    in_recycle_bin: bool | None
    """None when the recycle bin could not be read."""
    restorable_until: str | None
    """ISO 8601 date (UTC) after which the bin purges the object."""
    observed: bool = False
    """True when read from the tenant's recycle bin (a live diff); False when estimated from snapshot times:
    the deletion happened by the snapshot that recorded it, so the date is a bound, not a fact."""
    note: str = ""
    """Why the object is not in a recycle bin, or what could not be known."""


@dataclass(frozen=True)
class RiskFlag:
    """A change that weakens security, found by a rule of the declarative risk table."""

    rule: str
    severity: str  # "high" | "medium"
    type: str
    id: str
    display_name: str | None
    detail: str


@dataclass
class ObjectChange:
    type: str
    id: str
    display_name: str | None
    change: str  # "added" | "removed" | "modified" | "restored"
    attributes: list[AttributeChange] = field(default_factory=list)
    """For a restored object: the differences from its state when it was deleted."""
    members: list[MemberChange] = field(default_factory=list)
    recycle: RecycleState | None = None
    """For a removed object, when known."""
    changed_by: list[Attribution] = field(default_factory=list)
    deleted_at: str | None = None
    """For a restored object: the time of the snapshot that recorded its deletion."""

    @property
    def shown_attributes(self) -> list[AttributeChange]:
        """The attribute rows a report shows: an added or removed object's attributes are its whole state,
        not changes, so reports show (and count) none of them."""
        return self.attributes if self.change in ("modified", "restored") else []


@dataclass(frozen=True)
class Counts:
    """The one definition of a report's numbers, which every format shows."""

    objects: dict[str, int]
    """Change kind -> number of objects, every kind present."""
    attribute_changes: int
    """Attribute rows shown (ObjectChange.shown_attributes)."""
    member_changes: int


@dataclass(frozen=True)
class Side:
    label: str
    commit: str | None
    """None for the live tenant."""
    time: str | None = None
    """When the snapshot was committed (ISO 8601), or when the live tenant was read."""
    snapshot: bool | None = None
    """Whether the commit is a snapshot (carries the snapshot trailer); None for the live tenant."""
    reverts: str | None = None
    """The commit this one reverts, when `git revert` made it."""

    @property
    def kind(self) -> str:
        """What the side is, for a report's header ("" when not known)."""
        if self.commit is None:
            return "the live tenant"
        if self.snapshot is None or self.snapshot:
            return "snapshot" if self.snapshot else ""
        return f"not a snapshot: reverts {self.reverts[:10]}" if self.reverts else "not a snapshot"

    @property
    def details(self) -> str:
        """When and what, for a report's header: "2026-11-26T02:00:00+00:00, snapshot"."""
        return ", ".join(part for part in (self.time, self.kind) if part)


# id -> (type, display name) of the objects a report's values name.
IdNames = dict[str, tuple[str, str | None]]


@dataclass
class DiffReport:
    old: Side
    new: Side
    changes: list[ObjectChange]
    risks: list[RiskFlag] = field(default_factory=list)
    attribution: str = "not requested"
    """"available", "not requested", or "unavailable: <why>" (e.g. no AuditLog.Read.All)."""
    names: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """id -> (type, display name) of every object an attribute value refers to (a manager, a CA policy's
    excluded groups), from the same snapshots, so that every renderer can show names beside ids."""
    reconstructed: Reconstructed | None = None
    """For diff --at-time: how the older side was rebuilt, and what it could not fill."""

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def counts(self) -> Counts:
        objects = dict.fromkeys(CHANGE_KINDS, 0)
        for change in self.changes:
            objects[change.change] += 1
        return Counts(objects, sum(len(c.shown_attributes) for c in self.changes),
                      sum(len(c.members) for c in self.changes))

    def counts_by_type(self) -> dict[str, dict[str, int]]:
        """type -> change kind -> number of objects, types in report order."""
        counts: dict[str, dict[str, int]] = {}
        for change in self.changes:
            row = counts.setdefault(change.type, dict.fromkeys(CHANGE_KINDS, 0))
            row[change.change] += 1
        return counts

    def named(self, type_name: str, path: str, value: Any) -> Any:
        """value with each id it refers to shown as "name (id)" (ids of no known object stay as they are)."""
        return named(self.names, type_name, path, value)


def named(names: dict[str, tuple[str, str | None]], type_name: str, path: str, value: Any) -> Any:
    """value with each id it refers to shown as "name (id)", names being id -> (type, display name); ids of no
    known object, and values of paths that hold no reference, stay as they are."""
    if path not in reference_paths(REGISTRY[type_name]):
        return value
    if isinstance(value, str):
        found = names.get(value)
        return f"{found[1] or '(no name)'} ({value})" if found else value
    if isinstance(value, list):
        return [named(names, type_name, path, item) for item in value]
    return value


def reference_paths(object_type: ObjectType) -> frozenset[str]:
    """Attribute paths whose values are ids of other objects (single-valued relationships included)."""
    return frozenset(object_type.references) | {r.name for r in object_type.relationships if not r.many}


NameLookup = Callable[[str, tuple[str, ...]], tuple[str, str | None] | None]
"""(id, types it likely is) -> (type name, display name), or None when the id names nothing known."""


@dataclass(frozen=True)
class HistoryEntry:
    commit: str
    time: str
    subject: str
    change: ObjectChange | None
    """The change of the object's own file, if that changed in this snapshot."""
    elsewhere: list[ObjectChange] = field(default_factory=list)
    """Other objects' changes that added or removed a reference to the object, narrowed to those rows."""
    names: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """id -> (type, display name) of the objects the rows' values name, as in DiffReport.names."""
