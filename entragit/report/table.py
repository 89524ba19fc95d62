"""The terminal report: grouped by type and object, one line per changed attribute or member."""

from __future__ import annotations

import textwrap
from typing import Any

import click

from entragit.report.model import CHANGE_KINDS, AttributeChange, DiffReport, HistoryEntry, IdNames, ObjectChange, Side
from entragit.printable import printable
from entragit.report.values import (attribution_note, attribution_text, change_line, reconstruction_lines, row_path,
                                    row_sides, show)
# The demo and the CLI print the one summary line from here.
from entragit.report.values import summary as summary
from entragit.risk import risk_text

_MARK = {"added": ("+", "green"), "removed": ("-", "red"), "modified": ("~", "yellow"), "restored": ("^", "cyan")}


def _short(side: Side) -> str:
    if side.commit is None:
        return "the live tenant"
    name = side.commit[:10] if side.label.startswith(side.commit[:7]) else f"{side.label} ({side.commit[:10]})"
    return printable(f"{name}, {side.details}" if side.details else name)


# Values longer than this go on lines of their own, wrapped at WIDTH, never cut.
_INLINE = 70
WIDTH = 100


def _wrapped(sign: str, value: Any) -> list[str]:
    text = show(value, limit=None)
    return textwrap.wrap(text, WIDTH - 8, initial_indent=f"      {sign} ", subsequent_indent="        ",
                         drop_whitespace=False, replace_whitespace=False) or [f"      {sign} "]


def _attribute_lines(change: ObjectChange, attr: AttributeChange, width: int, names: IdNames) -> list[str]:
    """One line old -> new when it fits; else the path, then each side (or each list element lost and
    gained) whole, wrapped."""
    old, new = row_sides(names, change.type, attr)
    path = row_path(attr).ljust(width)
    if attr.added is None or attr.removed is None:
        if len(show(old, limit=None)) <= _INLINE and len(show(new, limit=None)) <= _INLINE:
            return [f"    {path}  {show(old, limit=None)}  ->  {show(new, limit=None)}"]
        return [f"    {path}"] + _wrapped("-", old) + _wrapped("+", new)
    moved = [("-", "red", e) for e in old] + [("+", "green", e) for e in new]
    if not moved:
        return [f"    {path}  (same elements, new order)"]
    return [f"    {path}"] + [click.style(line, fg=colour) for sign, colour, e in moved for line in _wrapped(sign, e)]


def _object_lines(change: ObjectChange, limit: int | None, names: IdNames) -> list[str]:
    """The object's heading, then its rows (an attribute row may take several lines); past limit rows, a
    line says how many more there are."""
    mark, colour = _MARK[change.change]
    name = change.display_name or "(no name)"
    lines = [click.style(printable(f"{mark} {change.type}/{change.id}  {name}"), fg=colour, bold=True)
             + ("" if change.change == "modified" else f"  ({change.change})")]
    what = change_line(change)
    if change.change in ("removed", "restored") and what:
        lines.append(f"    {what}")
    lines += [f"    {attribution_text(who)}" for who in change.changed_by]
    width = max((len(row_path(a)) for a in change.shown_attributes), default=0)
    rows = [_attribute_lines(change, attr, width, names) for attr in change.shown_attributes]
    for member in change.members:
        sign, member_colour = ("+", "green") if member.action == "added" else ("-", "red")
        who = f"{member.display_name or '(unknown)'} ({member.type or 'object'}/{member.id})"
        rows.append([click.style(f"    {row_path(member)} {sign} {printable(who)}", fg=member_colour)])
    if limit is not None and len(rows) > limit:
        rows = rows[:limit] + [[f"    ... and {len(rows) - limit} more change(s) of this object"]]
    return lines + [line for row in rows for line in row]


def counts_table(report: DiffReport) -> list[str]:
    """Objects per type and kind of change, aligned."""
    rows = [("TYPE", *(k.upper() for k in CHANGE_KINDS))]
    rows += [(t, *(str(n) for n in kinds.values())) for t, kinds in report.counts_by_type().items()]
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
    rebuilt = reconstruction_lines(report)
    if rebuilt:
        lines += ["", click.style(rebuilt[0], fg="cyan")] + [click.style(f"  {line}", fg="yellow") for line in rebuilt[1:]]
    return lines


def render(report: DiffReport, limit_per_object: int | None = None) -> str:
    lines = _preamble(report) + [""]
    current_type = None
    for change in report.changes:
        if change.type != current_type:
            current_type = change.type
            lines.append(click.style(f"{current_type}", underline=True))
        lines.extend(_object_lines(change, limit_per_object, report.names))
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
            lines += _object_lines(entry.change, None, entry.names)[1:] or [f"    ({entry.change.change})"]
        for other in entry.elsewhere:
            lines += ["    " + line for line in _object_lines(other, None, entry.names)]
    return "\n".join(lines)
