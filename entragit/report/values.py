"""How a value reads in a human report."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from entragit.report.model import (AttributeChange, Attribution, DiffReport, IdNames, MemberChange, ObjectChange,
                                   RecycleState, named)
from entragit.printable import printable

NOT_SET = "(not set)"


def show(value: Any, limit: int | None = 70, escape: Callable[[str], str] = printable) -> str:
    """A value, cut at limit characters unless limit is None, then escaped for where it is shown (a terminal:
    see printable)."""
    if value is None:
        return NOT_SET
    if isinstance(value, str):
        text = value if value.strip() == value and value else json.dumps(value, ensure_ascii=False)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return escape(text if limit is None or len(text) <= limit else text[: limit - 1] + "…")


def row_sides(names: IdNames, type_name: str, row: AttributeChange) -> tuple[Any, Any]:
    """What a report shows as a row's old and new sides, with names beside ids (names: id -> (type, name),
    DiffReport.names): for a list, the elements it lost and gained (each a list), not the whole list twice."""
    old, new = (row.old, row.new) if row.added is None or row.removed is None else (
        list(row.removed), list(row.added))
    return named(names, type_name, row.path, old), named(names, type_name, row.path, new)


def summary(report: DiffReport) -> str:
    """The report's numbers in one sentence, the same in every format (see DiffReport.counts)."""
    if report.empty:
        return "No differences."
    counts = report.counts
    kinds = Counter((c.type, c.change) for c in report.changes)
    parts = ", ".join(f"{n} {t} {kind}" for (t, kind), n in sorted(kinds.items()))
    return (f"{len(report.changes)} object(s) differ: {parts}; "
            f"{counts.attribute_changes} attribute change(s), {counts.member_changes} membership change(s).")


def recycle_text(state: RecycleState, today: date | None = None) -> str:
    """Where a removed object is, in words: observed in the tenant's bin, or estimated from snapshots."""
    if not state.in_recycle_bin:
        return state.note or "not in the recycle bin"
    if state.restorable_until is None:
        return "in the recycle bin"
    until = state.restorable_until
    if state.observed:
        return f"in the recycle bin until {until} ({state.note})" if state.note else f"in the recycle bin until {until}"
    if until < (today or datetime.now(timezone.utc).date()).isoformat():
        return f"was restorable from the recycle bin until ~{until} ({state.note}): purged by now"
    return f"in the recycle bin until ~{until} (30 days after the {state.note}), unless purged earlier"


def attribution_text(who: Attribution) -> str:
    return printable(f"changed by {who.actor} ({who.activity}) at {who.time}")


def change_line(change: ObjectChange) -> str:
    """What happened to the object as a whole, beyond its attribute rows; empty for a plain modification."""
    if change.change == "restored":
        when = f" (deletion recorded by the snapshot of {change.deleted_at[:10]})" if change.deleted_at else ""
        rows = "; the rows below compare it with its state when deleted" if change.attributes else ""
        return f"restored: back with the same id after a deletion{when}{rows}"
    if change.change == "removed" and change.recycle is not None:
        return printable(f"removed: {recycle_text(change.recycle)}")
    return change.change if change.change != "modified" else ""


def attribution_note(report: DiffReport) -> str:
    """A line for the reader when the report could not say who changed what."""
    return printable(f"attribution {report.attribution}") if report.attribution.startswith("unavailable") else ""


FROM_LOG = " (from the audit log)"


def row_path(row: AttributeChange | MemberChange) -> str:
    """A row's attribute path or relationship, marked when a value of it came from the audit log."""
    path = row.path if isinstance(row, AttributeChange) else row.relationship
    return printable(path + (FROM_LOG if row.reconstructed else ""))


# A human report names this many unknown objects at most; the JSON report names them all.
UNKNOWN_LINES = 50


def reconstruction_lines(report: DiffReport) -> list[str]:
    """For a report whose older side was rebuilt from the audit log: how, then each thing it could not fill."""
    rebuilt = report.reconstructed
    if rebuilt is None:
        return []
    lines = [printable(rebuilt.note)]
    lines += [printable(f"unknown: {note}") for note in rebuilt.notes]
    for gap in rebuilt.unknown[:UNKNOWN_LINES]:
        what = ", ".join(gap.paths) if gap.paths else "its whole state"
        lines.append(printable(f"unknown: {gap.type}/{gap.id} {gap.display_name or '(no name)'}: {what} ({gap.why})"))
    if len(rebuilt.unknown) > UNKNOWN_LINES:
        lines.append(f"unknown: ... and {len(rebuilt.unknown) - UNKNOWN_LINES} more object(s): see the JSON report")
    if len(lines) == 1:
        lines.append("unknown: nothing")
    return lines
