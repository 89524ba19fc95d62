"""The terminal report: grouped by object, one line per changed attribute or member."""

from __future__ import annotations

from collections import Counter

import click

from entragit.diff import DiffReport, ObjectChange
from entragit.history import HistoryEntry
from entragit.report.values import show

_MARK = {"added": ("+", "green"), "removed": ("-", "red"), "modified": ("~", "yellow")}


def _short(commit: str | None, label: str) -> str:
    if commit is None:
        return "the live tenant"
    return label if label.startswith(commit[:7]) else f"{label} ({commit[:10]})"


def summary(report: DiffReport) -> str:
    if report.empty:
        return "No differences."
    kinds = Counter((c.type, c.change) for c in report.changes)
    parts = ", ".join(f"{n} {t} {kind}" for (t, kind), n in sorted(kinds.items()))
    attributes = sum(len(c.attributes) for c in report.changes if c.change == "modified")
    members = sum(len(c.members) for c in report.changes)
    return (f"{len(report.changes)} object(s) differ: {parts}; "
            f"{attributes} attribute change(s), {members} membership change(s).")


def _object_lines(change: ObjectChange, limit: int | None) -> list[str]:
    mark, colour = _MARK[change.change]
    name = change.display_name or "(no name)"
    lines = [click.style(f"{mark} {change.type}/{change.id}  {name}", fg=colour, bold=True)
             + ("" if change.change == "modified" else f"  ({change.change})")]
    if change.change == "modified":
        width = max((len(a.path) for a in change.attributes), default=0)
        for attr in change.attributes:
            lines.append(f"    {attr.path.ljust(width)}  {show(attr.old)}  ->  {show(attr.new)}")
    for member in change.members:
        sign, member_colour = ("+", "green") if member.action == "added" else ("-", "red")
        who = f"{member.display_name or '(unknown)'} ({member.type or 'object'}/{member.id})"
        lines.append(click.style(f"    {member.relationship} {sign} {who}", fg=member_colour))
    if limit is not None and len(lines) > limit + 1:
        hidden = len(lines) - 1 - limit
        lines = lines[: limit + 1] + [f"    ... and {hidden} more change(s) of this object"]
    return lines


def render(report: DiffReport, limit_per_object: int | None = None) -> str:
    head = f"Differences from {_short(report.old.commit, report.old.label)} to {_short(report.new.commit, report.new.label)}"
    lines = [click.style(head, bold=True), ""]
    for change in report.changes:
        lines.extend(_object_lines(change, limit_per_object))
    if report.changes:
        lines.append("")
    lines.append(summary(report))
    return "\n".join(lines)


def render_history(entries: list[HistoryEntry], object_id: str) -> str:
    if not entries:
        return f"No snapshot on this branch changed {object_id}."
    latest = entries[0].change
    lines = [click.style(f"History of {latest.type}/{object_id}  {latest.display_name or ''}".rstrip(), bold=True)]
    for entry in entries:
        lines += ["", click.style(f"{entry.commit[:10]}  {entry.time}  {entry.subject}", fg="cyan")]
        lines += _object_lines(entry.change, None)[1:] or [f"    ({entry.change.change})"]
    return "\n".join(lines)
