"""Saved plans: a restore plan as versioned JSON, and the check that the live tenant has not moved since.

The plan is written field by field from its dataclasses and read back the same way, driven by their type
hints, so a field added to Step or Plan is saved and loaded without touching this module. A plan saved
before plans carried their Selection (with types, ids and attributes side by side) still loads.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from entragit.errors import PlanError
from entragit.graph import GraphClient
from entragit.live import fetch_objects, holders
from entragit.registry import REGISTRY, ObjectType
from entragit.restore.model import Plan, fingerprint, holding_fingerprint, holding_key
from entragit.selection import Selection

SCHEMA = "entragit/plan/1"


def to_json(value: Any) -> Any:
    if isinstance(value, Selection):
        return value.as_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.metadata.get("saved", True)}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


def from_json(hint: Any, value: Any) -> Any:
    """value (parsed JSON) as the type hint says: dataclasses, tuples, lists, dicts, unions, plain values."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if value is None:
        return None
    if hint is Selection:
        return Selection.from_dict(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        known = {f.name for f in dataclasses.fields(hint) if f.init}
        return hint(**{name: from_json(hints[name], v) for name, v in value.items() if name in known})
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        for option in options:
            if _fits(option, value):
                return from_json(option, value)
        return value
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_json(args[0], v) for v in value)
        return tuple(from_json(a, v) for a, v in zip(args, value)) if args else tuple(value)
    if origin is list:
        return [from_json(args[0], v) for v in value] if args else list(value)
    if origin is dict:
        return {k: from_json(args[1], v) for k, v in value.items()} if args else dict(value)
    return value


def _fits(hint: Any, value: Any) -> bool:
    origin = typing.get_origin(hint) or hint
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return isinstance(value, dict)
    if origin in (tuple, list):
        return isinstance(value, list)
    if origin is dict:
        return isinstance(value, dict)
    return hint is Any or (isinstance(origin, type) and isinstance(value, origin))


def dump_plan(plan: Plan, tenant_id: str) -> dict[str, Any]:
    return {"schema": SCHEMA, "tenant": tenant_id,
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "plan": to_json(plan)}


def load_plan(data: Any, where: str, tenant_id: str) -> Plan:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        raise PlanError(f"{where}: not an entragit plan of schema {SCHEMA} (schema {found!r})")
    if data.get("tenant") != tenant_id:
        raise PlanError(f"{where}: the plan is for tenant {data.get('tenant')}, this repository backs up {tenant_id}")
    try:
        plan: Plan = from_json(Plan, _with_selection(data["plan"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanError(f"{where}: the plan is damaged ({exc})") from None
    return plan


def _with_selection(saved: Any) -> Any:
    """A plan saved before plans carried their Selection kept its parts as fields of their own."""
    if isinstance(saved, dict) and "selection" not in saved:
        return {**saved, "selection": {part: saved.get(part) for part in ("types", "ids", "attributes")}}
    return saved


def save_plan(plan: Plan, path: Path, tenant_id: str) -> None:
    path.write_text(json.dumps(dump_plan(plan, tenant_id), indent=1) + "\n")


def read_plan(path: Path, tenant_id: str) -> Plan:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise PlanError(f"plan file {path} not found") from None
    except (OSError, ValueError) as exc:
        raise PlanError(f"plan file {path} is unreadable: {exc}") from None
    return load_plan(data, str(path), tenant_id)


def moved_objects(client: GraphClient, plan: Plan) -> list[str]:
    """"type/id" of every object the plan was computed against that no longer looks as it did then."""
    wanted: dict[str, list[str]] = {}
    for key in plan.fingerprints:
        type_name, _, object_id = key.partition("/")
        if type_name not in REGISTRY:
            raise PlanError(f"the plan names an unknown object type {type_name!r}")
        wanted.setdefault(type_name, []).append(object_id)
    moved = []
    for type_name, ids in wanted.items():
        for object_id, obj in fetch_objects(client, REGISTRY[type_name], ids).items():
            key = f"{type_name}/{object_id}"
            if fingerprint(obj) != plan.fingerprints[key]:
                moved.append(key)
    return sorted(set(moved) | _moved_holdings(client, plan))


def _moved_holdings(client: GraphClient, plan: Plan) -> set[str]:
    """"type/id" of every object whose holders (the groups of a user) are not those the plan saw."""
    # (member type, reverse path) -> member ids, and which holder relationships each read answers
    wanted: dict[tuple[ObjectType, str], dict[str, set[tuple[ObjectType, str]]]] = {}
    for key in plan.holdings:
        member_type_name, member_id, holder = (key.split("/") + ["", ""])[:3]
        holder_type_name, _, rel_name = holder.partition(".")
        if member_type_name not in REGISTRY or holder_type_name not in REGISTRY:
            raise PlanError(f"the plan names an unknown object type in {key!r}")
        holder_type = REGISTRY[holder_type_name]
        rel = next((r for r in holder_type.relationships if r.name == rel_name and r.reverse_path), None)
        if rel is None or rel.reverse_path is None:
            raise PlanError(f"the plan names an unknown relationship in {key!r}")
        by_member = wanted.setdefault((REGISTRY[member_type_name], rel.reverse_path), {})
        by_member.setdefault(member_id, set()).add((holder_type, rel.name))
    moved: set[str] = set()
    for (member_type, path), by_member in wanted.items():
        holder_types = sorted({t for pairs in by_member.values() for t, _ in pairs}, key=lambda t: t.name)
        found = holders(client, member_type, sorted(by_member), path, holder_types)
        for member_id, held in by_member.items():
            for holder_type, rel_name in held:
                key = holding_key(member_type.name, member_id, holder_type.name, rel_name)
                if holding_fingerprint(found[holder_type.name][member_id]) != plan.holdings[key]:
                    moved.add(f"{member_type.name}/{member_id}")
    return moved
