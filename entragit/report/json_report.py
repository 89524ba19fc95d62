"""The machine-readable report. Its schema is a contract: see README "Difference report JSON"."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from entragit.diff import DiffReport, Side

SCHEMA = "entragit/diff/1"


def _side(side: Side) -> dict[str, Any]:
    return {"label": side.label, "commit": side.commit}


def as_dict(report: DiffReport) -> dict[str, Any]:
    kinds = Counter(c.change for c in report.changes)
    return {
        "schema": SCHEMA,
        "from": _side(report.old),
        "to": _side(report.new),
        "summary": {
            "objects": len(report.changes),
            "added": kinds["added"],
            "removed": kinds["removed"],
            "modified": kinds["modified"],
            "attributeChanges": sum(len(c.attributes) for c in report.changes),
            "memberChanges": sum(len(c.members) for c in report.changes),
        },
        "changes": [
            {
                "type": c.type,
                "id": c.id,
                "displayName": c.display_name,
                "change": c.change,
                "attributes": [{"path": a.path, "old": a.old, "new": a.new} for a in c.attributes],
                "members": [
                    {"relationship": m.relationship, "action": m.action, "id": m.id,
                     "displayName": m.display_name, "type": m.type}
                    for m in c.members
                ],
            }
            for c in report.changes
        ],
    }


def render(report: DiffReport) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False)
