"""The machine-readable report. Its schema is a contract: see README "Difference report JSON".

entragit/diff/2 added, over /1: "restored" changes, each side's time, per-type counts, the recycle-bin
state of removed objects, the names of ids inside values, risk flags and attribution. Later additions, kept
additive so that /2 readers keep working: a list attribute's "added" and "removed" elements; for
diff --at-time, "reconstructed" on rows whose value came from the audit log and a top-level "reconstructed"
(how the older side was rebuilt, and what it could not fill).
"""

from __future__ import annotations

import json
import re
from typing import Any

from entragit.report.model import (
    AttributeChange,
    Attribution,
    DiffReport,
    MemberChange,
    ObjectChange,
    Reconstructed,
    RecycleState,
    RiskFlag,
    Side,
)

SCHEMA = "entragit/diff/2"


def _side(side: Side) -> dict[str, Any]:
    return {"label": side.label, "commit": side.commit, "time": side.time, "snapshot": side.snapshot,
            "reverts": side.reverts}


def _recycle(state: RecycleState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {"inRecycleBin": state.in_recycle_bin, "restorableUntil": state.restorable_until,
            "observed": state.observed, "note": state.note}


def _attribute(a: AttributeChange) -> dict[str, Any]:
    row = {"path": a.path, "old": a.old, "new": a.new}
    if a.added is not None and a.removed is not None:
        row |= {"added": list(a.added), "removed": list(a.removed)}
    if a.reconstructed:
        row["reconstructed"] = True
    return row


def _change(c: ObjectChange) -> dict[str, Any]:
    return {
        "type": c.type,
        "id": c.id,
        "displayName": c.display_name,
        "change": c.change,
        "attributes": [_attribute(a) for a in c.attributes],
        "members": [
            {"relationship": m.relationship, "action": m.action, "id": m.id,
             "displayName": m.display_name, "type": m.type, **({"reconstructed": True} if m.reconstructed else {})}
            for m in c.members
        ],
        "recycleBin": _recycle(c.recycle),
        "deletedAt": c.deleted_at,
        "changedBy": [
            {"actor": a.actor, "actorKind": a.actor_kind, "actorId": a.actor_id, "activity": a.activity,
             "time": a.time}
            for a in c.changed_by
        ],
    }


def _reconstructed(rebuilt: Reconstructed | None) -> dict[str, Any]:
    if rebuilt is None:
        return {}
    unknown = [{"type": u.type, "id": u.id, "displayName": u.display_name, "paths": list(u.paths), "why": u.why}
               for u in rebuilt.unknown]
    return {"reconstructed": {"note": rebuilt.note, "notes": rebuilt.notes, "unknown": unknown}}


def as_dict(report: DiffReport) -> dict[str, Any]:
    counts = report.counts
    return {
        "schema": SCHEMA,
        "from": _side(report.old),
        "to": _side(report.new),
        "summary": {
            "objects": len(report.changes),
            **counts.objects,
            "attributeChanges": counts.attribute_changes,
            "memberChanges": counts.member_changes,
            "byType": report.counts_by_type(),
        },
        "attribution": report.attribution,
        "risks": [
            {"rule": r.rule, "severity": r.severity, "type": r.type, "id": r.id, "displayName": r.display_name,
             "detail": r.detail}
            for r in report.risks
        ],
        "changes": [_change(c) for c in report.changes],
        "names": {i: {"type": t, "displayName": n} for i, (t, n) in sorted(report.names.items())},
        **_reconstructed(report.reconstructed),
    }


def _elements(value: list[Any] | None) -> tuple[Any, ...] | None:
    return None if value is None else tuple(value)


def from_dict(data: dict[str, Any]) -> DiffReport:
    """The report back from its JSON form (the cache keeps reports this way)."""
    if data.get("schema") != SCHEMA:
        raise ValueError(f"not an {SCHEMA} report")

    def side(d: dict[str, Any]) -> Side:
        return Side(d["label"], d["commit"], d.get("time"), d.get("snapshot"), d.get("reverts"))

    def recycle(d: dict[str, Any] | None) -> RecycleState | None:
        return None if d is None else RecycleState(d["inRecycleBin"], d["restorableUntil"], d["observed"], d["note"])

    changes = [
        ObjectChange(
            c["type"], c["id"], c["displayName"], c["change"],
            [AttributeChange(a["path"], a["old"], a["new"], _elements(a.get("added")), _elements(a.get("removed")))
             for a in c["attributes"]],
            [MemberChange(m["relationship"], m["action"], m["id"], m["displayName"], m["type"]) for m in c["members"]],
            recycle(c["recycleBin"]),
            [Attribution(a["actor"], a["actorKind"], a["actorId"], a["activity"], a["time"]) for a in c["changedBy"]],
            c["deletedAt"],
        )
        for c in data["changes"]
    ]
    risks = [RiskFlag(r["rule"], r["severity"], r["type"], r["id"], r["displayName"], r["detail"])
             for r in data["risks"]]
    names = {i: (n["type"], n["displayName"]) for i, n in data["names"].items()}
    return DiffReport(side(data["from"]), side(data["to"]), changes, risks, data["attribution"], names)


# A lone surrogate (JSON's "\ud800" read from Graph or a file) cannot be written as UTF-8; it can only be in
# a string, where its escape is the same JSON value.
_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(data: Any, indent: int | None = 2) -> str:
    """JSON as entragit writes it: readable non-ASCII text, and nothing a UTF-8 encoder would refuse."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(data, indent=indent, ensure_ascii=False))


def render(report: DiffReport) -> str:
    return dumps(as_dict(report))
