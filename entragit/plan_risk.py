"""Risk highlights of a restore plan: each write turned into the rows a difference report would show for
it (the object as it is, as the write leaves it), which the risk table (entragit/risk.py) then reads."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from entragit.canonical import Obj
from entragit.diff import compare
from entragit.graph import GraphClient
from entragit.live import fetch_objects
from entragit.registry import REGISTRY
from entragit.report.model import NameLookup
from entragit.restore import Step, effect
from entragit.risk import WATCHED, flags

_COMING_BACK = ("create", "restore")


def assess(steps: list[Step], client: GraphClient, names: NameLookup,
           known: Mapping[tuple[str, str], Obj | None] | None = None) -> list[Step]:
    """The steps, each carrying what the risk table says of its change: the object as the steps before
    it leave it (at first as it is live) against the object as it leaves it. known: live objects already
    read, by (type, id); the others a watched step writes are read here."""
    before: dict[tuple[str, str], Obj | None] = dict(known or {})
    wanted: dict[str, set[str]] = {}
    for step in steps:
        if step.type in WATCHED and step.kind not in _COMING_BACK and (step.type, step.id) not in before:
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
        old = state[where] if where in state else None if step.kind in _COMING_BACK else before.get(where)
        state[where] = new = effect(step, old)
        change = compare(REGISTRY[step.type], step.id, old, new, names)
        if change is not None and step.kind == "restore":
            change.change = "restored"
        risks = flags([change], names) if change is not None else []
        marked.append(dataclasses.replace(step, risks=tuple(risks)))
    return marked

