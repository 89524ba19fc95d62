"""Risk highlights: the rules of entragit/registry/risks.py applied to a difference report's rows (a restore
plan's writes are turned into the same rows by entragit/restore/risks.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from entragit.printable import printable
from entragit.registry.risks import (
    KNOWN_NAMES,
    RISK_RULES,
    BecomesOneOf,
    Changes,
    Condition,
    GainsWord,
    ItemBecomes,
    ItemLengthens,
    ItemLoses,
    ItemsUncovered,
    ListGains,
    ListGainsItem,
    ListLoses,
    RelationshipGains,
    RiskRule,
    Widens,
)
from entragit.report.model import AttributeChange, DiffReport, NameLookup, ObjectChange, RiskFlag

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
SEVERITY_ORDER = {"high": 0, "medium": 1}


@dataclass(frozen=True)
class Hit:
    """What one rule found in one object: the fields its message template may name."""

    path: str = ""
    old: Any = None
    new: Any = None
    items: list[Any] = field(default_factory=list)


def _no_names(object_id: str, likely: tuple[str, ...] = ()) -> tuple[str, str | None] | None:
    return None


def _member(value: Any, choices: frozenset[object] | None) -> bool:
    try:
        return choices is None or value in choices
    except TypeError:  # a list or an object is never one of the scalar choices
        return False


def _identity(item: Any, key: str | tuple[str, ...] | None) -> Any:
    if isinstance(key, tuple) and isinstance(item, dict):
        return tuple(item.get(k) for k in key)
    if key is not None and isinstance(item, dict):
        return item.get(key)
    return json.dumps(item, sort_keys=True, default=str)


def _rows(change: ObjectChange, paths: tuple[str, ...]) -> Iterator[AttributeChange]:
    return (row for row in change.attributes if any(fnmatchcase(row.path, pattern) for pattern in paths))


def _becomes(condition: BecomesOneOf, change: ObjectChange) -> Iterator[Hit]:
    for row in _rows(change, condition.paths):
        if _member(row.new, condition.after) and _member(row.old, condition.before):
            yield Hit(row.path, row.old, row.new)


def _not_in(items: Any, others: Any, key: str | tuple[str, ...] | None) -> list[Any]:
    """The items of one list whose identity the other list lacks."""
    known = {_identity(item, key) for item in others or []}
    return [item for item in items or [] if _identity(item, key) not in known]


def _gains(condition: ListGains, change: ObjectChange) -> Iterator[Hit]:
    for row in _rows(change, condition.paths):
        gained = _not_in(row.new, row.old, condition.key)
        if gained:
            yield Hit(row.path, row.old, row.new, gained)


def _field(item: Any, path: str) -> Any:
    for part in path.split("."):
        item = item.get(part) if isinstance(item, dict) else None
    return item


def _item_pairs(path: str, key: str, change: ObjectChange) -> Iterator[tuple[AttributeChange, Any, Any]]:
    """(row, item before, item after) of each item a list of objects holds on both sides, found by key."""
    for row in _rows(change, (path,)):
        before = {_identity(item, key): item for item in row.old or [] if isinstance(item, dict)}
        for item in row.new or []:
            if isinstance(item, dict) and _identity(item, key) in before:
                yield row, before[_identity(item, key)], item


def _item_hits(path: str, key: str, change: ObjectChange, turned: Callable[[Any, Any], bool]) -> Iterator[Hit]:
    found: dict[str, tuple[AttributeChange, list[Any]]] = {}
    for row, old, new in _item_pairs(path, key, change):
        if turned(old, new):
            found.setdefault(row.path, (row, []))[1].append(new.get(key))
    for row, items in found.values():
        yield Hit(row.path, row.old, row.new, items)


def _loses(condition: ListLoses, change: ObjectChange) -> Iterator[Hit]:
    for row in _rows(change, condition.paths):
        lost = _not_in(row.old, row.new, condition.key)
        if lost:
            yield Hit(row.path, row.old, row.new, [_identity(item, condition.key) for item in lost])


def _covers(condition: ItemsUncovered, wide: Any, narrow: Any) -> bool:
    if not isinstance(wide, dict) or not isinstance(narrow, dict):
        return bool(wide == narrow)
    for name in (set(wide) | set(narrow)) - condition.ignored:
        have, want = wide.get(name), narrow.get(name)
        if have == want or (isinstance(have, list) and isinstance(want, list) and set(want) <= set(have)):
            continue
        if name in condition.wildcards and _matches_anything(have, condition.wildcards[name]):
            continue
        return False
    return True


def _matches_anything(value: Any, wildcard: object) -> bool:
    return value == wildcard or (isinstance(value, list) and wildcard in value)


def _gains_item(condition: ListGainsItem, change: ObjectChange) -> Iterator[Hit]:
    for row in _rows(change, (condition.path,)):
        before = {tuple(item.get(k) for k in condition.key) for item in row.old or [] if isinstance(item, dict)}
        gained = [item for item in row.new or [] if isinstance(item, dict)
                  and tuple(item.get(k) for k in condition.key) not in before
                  and all(_member(item.get(field), values) for field, values in condition.where)]
        if gained:
            yield Hit(row.path, row.old, row.new, gained)


def _uncovered(condition: ItemsUncovered, change: ObjectChange) -> Iterator[Hit]:
    for row in _rows(change, (condition.path,)):
        fresh, other = (row.new, row.old) if condition.gained else (row.old, row.new)
        found = [{k: v for k, v in item.items() if k not in condition.ignored} if isinstance(item, dict) else item
                 for item in fresh or [] if not any(_covers(condition, o, item) for o in other or [])]
        if found:
            yield Hit(row.path, row.old, row.new, found)


def _item_becomes(condition: ItemBecomes, change: ObjectChange) -> Iterator[Hit]:
    return _item_hits(condition.path, condition.key, change, lambda old, new: (
        _member(_field(new, condition.field), condition.after)
        and _member(_field(old, condition.field), condition.before)))


def _item_loses(condition: ItemLoses, change: ObjectChange) -> Iterator[Hit]:
    def lost(old: Any, new: Any) -> bool:
        return bool((set(_field(old, condition.field) or []) - set(_field(new, condition.field) or [])) & condition.words)
    return _item_hits(condition.path, condition.key, change, lost)


_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def duration_seconds(value: Any) -> float | None:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds (P365D, PT8H30M) in seconds; None for
    anything else (years and months have no fixed length)."""
    match = _DURATION.match(value) if isinstance(value, str) and value not in ("P", "PT") else None
    if match is None:
        return None
    weeks, days, hours, minutes, seconds = (float(part or 0) for part in match.groups())
    return (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds


def _item_lengthens(condition: ItemLengthens, change: ObjectChange) -> Iterator[Hit]:
    def longer(old: Any, new: Any) -> bool:
        before, after = duration_seconds(_field(old, condition.field)), duration_seconds(_field(new, condition.field))
        return before is not None and after is not None and after > before
    return _item_hits(condition.path, condition.key, change, longer)


def _widens(condition: Widens, change: ObjectChange) -> Iterator[Hit]:
    for row in _rows(change, (condition.path,)):
        if row.old in condition.scale and row.new in condition.scale:
            if condition.scale.index(row.new) > condition.scale.index(row.old):
                yield Hit(row.path, row.old, row.new)


def _changes(condition: Changes, change: ObjectChange) -> Iterator[Hit]:
    for row in _rows(change, condition.paths):
        if row.old != row.new:
            yield Hit(row.path, row.old, row.new)


def _words(value: Any) -> set[str]:
    return {word.strip() for word in value.split(",")} if isinstance(value, str) else set()


def _gains_word(condition: GainsWord, change: ObjectChange) -> Iterator[Hit]:
    for row in _rows(change, (condition.path,)):
        if (_words(row.new) - _words(row.old)) & condition.words:
            yield Hit(row.path, row.old, row.new)


def _relationship_gains(condition: RelationshipGains, change: ObjectChange) -> Iterator[Hit]:
    gained = [m.display_name or m.id for m in change.members
              if m.relationship == condition.relationship and m.action == "added"]
    if gained:
        yield Hit(condition.relationship, items=gained)


# Each kind of condition and the function that finds its hits.
_EVALUATORS: dict[type, Callable[[Any, ObjectChange], Iterator[Hit]]] = {
    BecomesOneOf: _becomes, ListGains: _gains, ListLoses: _loses, ItemBecomes: _item_becomes,
    ItemLoses: _item_loses, ItemLengthens: _item_lengthens, ItemsUncovered: _uncovered,
    ListGainsItem: _gains_item, Widens: _widens, Changes: _changes, GainsWord: _gains_word,
    RelationshipGains: _relationship_gains,
}


def hits(condition: Condition, change: ObjectChange) -> Iterator[Hit]:
    return _EVALUATORS[type(condition)](condition, change)


class _Shown:
    """Values as a person reads them in a message: ids with their display names, credentials by name."""

    def __init__(self, names: NameLookup) -> None:
        self.names = names

    def __call__(self, value: Any) -> str:
        if value is None:
            return "not set"
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, list):
            return ", ".join(self(item) for item in value) or "nothing"
        if isinstance(value, dict):
            if "appRoleId" in value:  # an app role assignment: who, and which role
                return f"{self(value.get('principalId'))} holds {self(value.get('appRoleId'))}"
            return str(value.get("displayName") or value.get("name") or value.get("keyId") or value.get("id")
                       or json.dumps(value, sort_keys=True))
        text = str(value)
        found = self.names(text, ()) if _GUID.match(text) else None
        name = found[1] if found and found[1] else KNOWN_NAMES.get(text.lower())
        return f"{name} ({text})" if name else text


def _flag(rule: RiskRule, change: ObjectChange, hit: Hit, shown: _Shown) -> RiskFlag:
    values = {row.path: shown(row.new if row.new is not None else row.old) for row in change.attributes}
    detail = rule.message.format(path=hit.path, old=shown(hit.old), new=shown(hit.new), items=shown(hit.items),
                                 values=values)
    return RiskFlag(rule.name, rule.severity, change.type, change.id, change.display_name, detail)


def flags(changes: Iterable[ObjectChange], names: NameLookup = _no_names) -> list[RiskFlag]:
    """Every change the risk table flags, most severe first."""
    shown = _Shown(names)
    found = [
        _flag(rule, change, hit, shown)
        for change in changes
        for rule in RISK_RULES
        if change.type in rule.types and change.change in rule.changes
        for hit in hits(rule.condition, change)
    ]
    return sorted(found, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.type, (f.display_name or "").lower(), f.id, f.rule))


def find_risks(report: DiffReport, names: NameLookup = _no_names) -> list[RiskFlag]:
    """Every change of a difference report the risk table flags, most severe first."""
    return flags(report.changes, names)


def risk_text(risk: RiskFlag) -> str:
    """A flag in one line, as every report and refusal shows it."""
    return printable(f"[{risk.severity}] {risk.rule}: {risk.display_name or risk.id} ({risk.type}/{risk.id}): "
                     f"{risk.detail}")
