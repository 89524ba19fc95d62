"""The terminal report: grouped by type and object, one line per changed attribute or member."""

from __future__ import annotations

from collections import Counter

import click

from entragit.report.model import DiffReport, HistoryEntry, ObjectChange, Side
from entragit.printable import printable
from entragit.report.json_report import CHANGE_KINDS, counts_by_type
from entragit.report.values import attribution_note, attribution_text, change_line, show
from entragit.risk import risk_text

_MARK = {"added": ("+", "green"), "removed": ("-", "red"), "modified": ("~", "yellow"), "restored": ("^", "cyan")}


def _short(side: Side) -> str:
    if side.commit is None:
        return "the live tenant"
    name = side.commit[:10] if side.label.startswith(side.commit[:7]) else f"{side.label} ({side.commit[:10]})"
    return printable(f"{name}, {side.details}" if side.details else name)


def summary(report: DiffReport) -> str:
    if report.empty:
        return "No differences."
    kinds = Counter((c.type, c.change) for c in report.changes)
    parts = ", ".join(f"{n} {t} {kind}" for (t, kind), n in sorted(kinds.items()))
    attributes = sum(len(c.attributes) for c in report.changes if c.change in ("modified", "restored"))
    members = sum(len(c.members) for c in report.changes)
    return (f"{len(report.changes)} object(s) differ: {parts}; "
            f"{attributes} attribute change(s), {members} membership change(s).")


def _object_lines(change: ObjectChange, limit: int | None, report: DiffReport | None = None) -> list[str]:
    mark, colour = _MARK[change.change]
    name = change.display_name or "(no name)"
    lines = [click.style(printable(f"{mark} {change.type}/{change.id}  {name}"), fg=colour, bold=True)
             + ("" if change.change == "modified" else f"  ({change.change})")]
    what = change_line(change)
    if change.change in ("removed", "restored") and what:
        lines.append(f"    {what}")
    lines += [f"    {attribution_text(who)}" for who in change.changed_by]
    if change.change in ("modified", "restored"):
        width = max((len(printable(a.path)) for a in change.attributes), default=0)
        for attr in change.attributes:
            old, new = (attr.old, attr.new) if report is None else (
                report.named(change.type, attr.path, attr.old), report.named(change.type, attr.path, attr.new))
            lines.append(f"    {printable(attr.path).ljust(width)}  {show(old)}  ->  {show(new)}")
    for member in change.members:
        sign, member_colour = ("+", "green") if member.action == "added" else ("-", "red")
        who = f"{member.display_name or '(unknown)'} ({member.type or 'object'}/{member.id})"
        lines.append(click.style(printable(f"    {member.relationship} {sign} {who}"), fg=member_colour))
    if limit is not None and len(lines) > limit + 1:
        hidden = len(lines) - 1 - limit
        lines = lines[: limit + 1] + [f"    ... and {hidden} more change(s) of this object"]
    return lines


def counts_table(report: DiffReport) -> list[str]:
    """Objects per type and kind of change, aligned."""
    rows = [("TYPE", *(k.upper() for k in CHANGE_KINDS))]
    rows += [(t, *(str(n) for n in kinds.values())) for t, kinds in counts_by_type(report).items()]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths)))
            for row in rows]


def _preamble(report: DiffReport) -> list[str]:
    lines = [click.style(f"Differences from {_short(report.old)} to {_short(report.new)}", bold=True)]
    if report.risks:
        lines += ["", click.style(f"Risk highlights ({len(report.risks)}):", fg="red", bold=True)]
        lines += [click.style(f"  ! {risk_text(r)}", fg="red" if r.severity == "high" else "yellow")
                  for r in report.risks]
    note = attribution_note(report)
    if note:
        lines += ["", click.style(note, fg="yellow")]
    return lines


def render(report: DiffReport, limit_per_object: int | None = None) -> str:
    lines = _preamble(report) + [""]
    current_type = None
    for change in report.changes:
        if change.type != current_type:
            current_type = change.type
            lines.append(click.style(f"{current_type}", underline=True))
        lines.extend(_object_lines(change, limit_per_object, report))
    if report.changes:
        lines.append("")
    lines.append(summary(report))
    return "\n".join(lines)


def render_summary(report: DiffReport) -> str:
    lines = _preamble(report) + [""]
    if not report.empty:
        lines += counts_table(report) + [""]
    return "\n".join(lines + [summary(report)])


def render_history(entries: list[HistoryEntry], object_id: str) -> str:
    if not entries:
        return printable(f"No snapshot on this branch changed {object_id}.")
    latest = next((e.change for e in entries if e.change is not None), None)
    title = f"History of {latest.type}/{object_id}  {latest.display_name or ''}" if latest else f"History of {object_id}"
    lines = [click.style(printable(title.rstrip()), bold=True)]
    for entry in entries:
        lines += ["", click.style(printable(f"{entry.commit[:10]}  {entry.time}  {entry.subject}"), fg="cyan")]
        if entry.change is not None:
            lines += _object_lines(entry.change, None)[1:] or [f"    ({entry.change.change})"]
        for other in entry.elsewhere:
            lines += ["    " + line for line in _object_lines(other, None)]
    return "\n".join(lines)
