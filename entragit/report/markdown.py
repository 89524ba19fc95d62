"""The report as GitHub-flavoured Markdown, for a pull request comment or a CI job summary.

A table of counts per type and kind of change comes first, so a reviewer sees the size of the drift at a
glance; each object follows in a collapsed <details> block. GitHub refuses a comment longer than 65,536
characters, so objects that would not fit are left out with a line saying how many and where they are.
"""

from __future__ import annotations

import html
from typing import Any

from entragit.report.model import CHANGE_KINDS, AttributeChange, DiffReport, ObjectChange, Side
from entragit.printable import printable
from entragit.report.values import (attribution_note, attribution_text, change_line, reconstruction_lines, row_path,
                                    row_sides, show, summary)
from entragit.risk import risk_text

GITHUB_COMMENT_LIMIT = 65_536
_MARK = {"added": "➕", "removed": "➖", "modified": "✏️", "restored": "♻️"}
# Risk lines beyond this many are counted, not listed: the objects' blocks must still fit.
_RISK_LINES = 30


def _cell(text: str) -> str:
    """Text safe inside a table cell or a <summary>: no HTML, no column break, no line of its own (a line
    break becomes <br>), no control character (see printable)."""
    lines = (html.escape(printable(line), quote=False).replace("|", "\\|") for line in text.split("\n"))
    return "<br>".join(lines)


def _value(value: Any) -> str:
    # Whole: a cut value hides the change; a comment too long for GitHub loses whole objects instead, and
    # says so (see render).
    return f"<code>{show(value, limit=None, escape=_cell)}</code>"


def _sides(report: DiffReport, change: ObjectChange, row: AttributeChange) -> tuple[str, str]:
    """A row's Old and New cells; for a list, the elements it lost and gained, one a line."""
    old, new = row_sides(report.names, change.type, row)
    if row.added is None or row.removed is None:
        return _value(old), _value(new)
    return ("<br>".join(f"➖ {_value(e)}" for e in old) or "(none removed)",
            "<br>".join(f"➕ {_value(e)}" for e in new) or "(none added)")


def _side(side: Side) -> str:
    if side.commit is None:
        return f"the live tenant ({side.time})" if side.time else "the live tenant"
    return f"`{side.commit[:10]}`" + (f" ({side.details})" if side.details else "")


def _head(report: DiffReport) -> list[str]:
    lines = [f"### entragit: differences from {_side(report.old)} to {_side(report.new)}", ""]
    if report.risks:
        lines += ["> [!WARNING]", f"> **{len(report.risks)} change(s) weaken security:**"]
        lines += [f"> - {_cell(risk_text(r))}" for r in report.risks[:_RISK_LINES]]
        if len(report.risks) > _RISK_LINES:
            lines.append(f"> - … and {len(report.risks) - _RISK_LINES} more, see the JSON report")
        lines.append("")
    note = attribution_note(report)
    if note:
        lines += [f"_{_cell(note)}_", ""]
    rebuilt = reconstruction_lines(report)
    if rebuilt:
        lines += [f"_{_cell(rebuilt[0])}_", ""] + [f"- {_cell(line)}" for line in rebuilt[1:]] + [""]
    if report.empty:
        return lines + ["No differences."]
    counts = report.counts_by_type()
    lines += ["| Type | " + " | ".join(k.capitalize() for k in CHANGE_KINDS) + " |",
              "|---|" + "---:|" * len(CHANGE_KINDS)]
    lines += [f"| {t} | " + " | ".join(str(n) for n in kinds.values()) + " |" for t, kinds in counts.items()]
    totals = [sum(kinds[k] for kinds in counts.values()) for k in CHANGE_KINDS]
    lines.append("| **Total** | " + " | ".join(f"**{n}**" for n in totals) + " |")
    return lines + ["", _cell(summary(report))]


def _block(report: DiffReport, change: ObjectChange) -> str:
    rows = len(change.shown_attributes) + len(change.members)
    title = (f"{_MARK[change.change]} {change.type} / <b>{_cell(change.display_name or '(no name)')}</b> "
             f"<code>{_cell(change.id)}</code>: {change.change}" + (f", {rows} change(s)" if rows else ""))
    lines = ["<details>", f"<summary>{title}</summary>", ""]
    what = change_line(change)
    if change.change in ("removed", "restored") and what:
        lines += [_cell(what), ""]
    lines += [f"- {_cell(attribution_text(who))}" for who in change.changed_by]
    if change.changed_by:
        lines.append("")
    if change.shown_attributes:
        lines += ["| Attribute | Old | New |", "|---|---|---|"]
        lines += ["| <code>{}</code> | {} | {} |".format(_cell(row_path(a)), *_sides(report, change, a))
                  for a in change.shown_attributes]
        lines.append("")
    for member in change.members:
        sign = "➕ added" if member.action == "added" else "➖ removed"
        lines.append(f"- {_cell(row_path(member))} {sign}: {_cell(member.display_name or '(unknown)')} "
                     f"(<code>{_cell(member.type or 'object')}/{_cell(member.id)}</code>)")
    if change.members:
        lines.append("")
    return "\n".join(lines + ["</details>", ""])


def _cut(left: int) -> str:
    return (f"\n**{left} more object(s) not shown** (a comment holds at most {GITHUB_COMMENT_LIMIT:,} "
            "characters): see the JSON report (`entragit diff --format json`).\n")


def render(report: DiffReport, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    text = "\n".join(_head(report)) + "\n\n"
    # Room for the cut line, whose count has at most as many digits as the number of objects.
    reserve = len(_cut(len(report.changes)))
    for shown, change in enumerate(report.changes):
        block = _block(report, change) + "\n"
        last = shown == len(report.changes) - 1
        if len(text) + len(block) > limit - (0 if last else reserve):
            return text + _cut(len(report.changes) - shown)
        text += block
    return text


def render_summary(report: DiffReport) -> str:
    return "\n".join(_head(report)) + "\n"
