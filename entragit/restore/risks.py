"""What the risk table says of a plan's writes: each step turned into the row a difference report would
show (the object as the steps before it leave it, against the object as it leaves it), judged by the same
rules (entragit/risk.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from entragit.canonical import Obj
from entragit.diff import compare
from entragit.graph import GraphClient
from entragit.live import fetch_objects
from entragit.registry import REGISTRY
from entragit.registry.risks import RISK_RULES
from entragit.report.model import NameLookup
from entragit.restore.kinds import StepKind, effect
from entragit.restore.model import Step
from entragit.risk import flags

WATCHED = frozenset(t for rule in RISK_RULES for t in rule.types)
"""The types some rule looks at: a write to any other object is never flagged."""


def assess(steps: list[Step], client: GraphClient, names: NameLookup,
           known: Mapping[tuple[str, str], Obj | None] | None = None) -> list[Step]:
    """The steps, each carrying what the risk table says of its change: the object as the steps before
    it leave it (at first as it is live) against the object as it leaves it. known: live objects already
    read, by (type, id); the others a watched step writes are read here."""
    before: dict[tuple[str, str], Obj | None] = dict(known or {})
    wanted: dict[str, set[str]] = {}
    for step in steps:
        if step.type in WATCHED and not step.kind.brings_back and (step.type, step.id) not in before:
            wanted.setdefault(step.type, set()).add(step.id)
    for type_name, ids in sorted(wanted.items()):
        for object_id, obj in fetch_objects(client, REGISTRY[type_name], sorted(ids)).items():
            before[(type_name, object_id)] = obj
    state: dict[tuple[str, str], Obj | None] = {}
    marked: list[Step] = []
    for step in steps:
        if step.type not in WATCHED:
            marked.append(dataclasses.replace(step, risks=()))
            continue
        where = (step.type, step.id)
        old = state[where] if where in state else None if step.kind.brings_back else before.get(where)
        state[where] = new = effect(step, old)
        change = compare(REGISTRY[step.type], step.id, old, new, names)
        if change is not None and step.kind is StepKind.RESTORE:
            change.change = "restored"
        found = flags([change], names) if change is not None else []
        marked.append(dataclasses.replace(step, risks=tuple(found)))
    return marked
