"""The report as one self-contained HTML page: no external file, font or script, so it can be mailed,
attached to a CI run or opened offline. Filterable by type and kind of change, old and new values side by
side, and on a phone each attribute row folds into a card.
"""

from __future__ import annotations

import html
import json
from typing import Any

from entragit.report.model import CHANGE_KINDS, AttributeChange, DiffReport, ObjectChange, Side
from entragit.printable import printable, printable_lines
from entragit.report.values import (NOT_SET, attribution_note, attribution_text, change_line, reconstruction_lines,
                                    row_path, row_sides, summary)
from entragit.risk import risk_text

_STYLE = """
:root { --added:#1a7f37; --removed:#cf222e; --modified:#9a6700; --restored:#0969da; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; padding: 1rem;
       color: #1f2328; background: #fff; }
h1 { font-size: 1.25rem; margin: 0 0 .75rem; }
code, .value { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
.risks { border: 2px solid var(--removed); border-radius: 6px; padding: .5rem 1rem; margin-bottom: 1rem; }
.risks h2 { color: var(--removed); font-size: 1rem; margin: .25rem 0; }
.note { color: var(--modified); }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
.counts { width: auto; }
.counts th, .counts td { overflow-wrap: normal; }
.counts td.n { text-align: right; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; margin: 1rem 0; padding: .5rem;
           border: 1px solid var(--line); border-radius: 6px; }
.filters label { white-space: nowrap; }
.object { border: 1px solid var(--line); border-left: 6px solid var(--modified); border-radius: 6px;
          margin: .75rem 0; padding: .5rem .75rem; }
.object.added { border-left-color: var(--added); }
.object.removed { border-left-color: var(--removed); }
.object.restored { border-left-color: var(--restored); }
.object h3 { font-size: 1rem; margin: 0 0 .4rem; overflow-wrap: anywhere; }
.kind { font-size: .75rem; text-transform: uppercase; padding: .1rem .4rem; border-radius: 4px; color: #fff;
        background: var(--modified); }
.added .kind { background: var(--added); } .removed .kind { background: var(--removed); }
.restored .kind { background: var(--restored); }
.value { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.old { background: #ffebe9; } .new { background: #dafbe1; }
.elements { margin: 0; padding-left: 1.2rem; }
.members li.added::marker, .elements li.added::marker { content: "+ "; color: var(--added); }
.members li.removed::marker, .elements li.removed::marker { content: "- "; color: var(--removed); }
[hidden] { display: none !important; }
@media (max-width: 640px) {
  body { padding: .5rem; font-size: 14px; }
  .changes, .changes tbody { display: block; }
  .changes thead { display: none; }
  .changes tr { display: block; border: 1px solid var(--line); margin-bottom: .5rem; }
  .changes td { display: block; border: 0; }
  .changes td::before { content: attr(data-label); display: block; font-size: .75rem; color: #59636e; }
}
"""

# Hides the objects of the unticked types and kinds, and says how many remain.
_SCRIPT = """
(function () {
  var boxes = Array.prototype.slice.call(document.querySelectorAll('.filters input[type=checkbox]'));
  var objects = Array.prototype.slice.call(document.querySelectorAll('.object'));
  var shown = document.getElementById('shown');
  function apply() {
    var on = {};
    boxes.forEach(function (box) { on[box.name + ':' + box.value] = box.checked; });
    var count = 0;
    objects.forEach(function (el) {
      var visible = on['type:' + el.dataset.type] && on['change:' + el.dataset.change];
      el.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = count + ' of ' + objects.length + ' object(s) shown';
  }
  boxes.forEach(function (box) { box.addEventListener('change', apply); });
  apply();
})();
"""


def _e(text: str) -> str:
    # A browser ignores most control characters but obeys the bidi overrides, which reorder what the
    # reviewer reads: printable shows them, as in every other report.
    return html.escape(printable(text), quote=True)


def _value(value: Any) -> str:
    if value is None:
        return f'<span class="unset">{NOT_SET}</span>'
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
    return f'<pre class="value">{html.escape(printable_lines(text), quote=True)}</pre>'


def _cells(report: DiffReport, change: ObjectChange, row: AttributeChange) -> str:
    """A row's Old and New cells, values whole; for a list, the elements it lost and gained."""
    old, new = row_sides(report.names, change.type, row)
    if row.added is None or row.removed is None:
        return (f'<td class="old" data-label="Old">{_value(old)}</td>'
                f'<td class="new" data-label="New">{_value(new)}</td>')
    removed = "".join(f'<li class="removed">{_value(e)}</li>' for e in old)
    added = "".join(f'<li class="added">{_value(e)}</li>' for e in new)
    return (f'<td class="old" data-label="Removed elements"><ul class="elements">{removed}</ul></td>'
            f'<td class="new" data-label="Added elements"><ul class="elements">{added}</ul></td>')


def _side(side: Side) -> str:
    if side.commit is None:
        return "the live tenant" + (f" ({_e(side.time)})" if side.time else "")
    return f"<code>{_e(side.commit[:10])}</code>" + (f" ({_e(side.details)})" if side.details else "")


def _object(report: DiffReport, change: ObjectChange) -> str:
    parts = [f'<section class="object {change.change}" data-type="{_e(change.type)}" data-change="{change.change}">',
             f'<h3><span class="kind">{change.change}</span> {_e(change.display_name or "(no name)")} '
             f'<small>{_e(change.type)} <code>{_e(change.id)}</code></small></h3>']
    what = change_line(change)
    if change.change in ("removed", "restored") and what:
        parts.append(f"<p>{_e(what)}</p>")
    parts += [f'<p class="who">{_e(attribution_text(who))}</p>' for who in change.changed_by]
    if change.shown_attributes:
        rows = "".join(f'<tr><td data-label="Attribute"><code>{_e(row_path(a))}</code></td>{_cells(report, change, a)}</tr>'
                       for a in change.shown_attributes)
        parts.append('<table class="changes"><thead><tr><th>Attribute</th><th>Old</th><th>New</th></tr></thead>'
                     f"<tbody>{rows}</tbody></table>")
    if change.members:
        items = "".join(
            f'<li class="{m.action}">{_e(row_path(m))} {m.action}: {_e(m.display_name or "(unknown)")} '
            f'<code>{_e(m.type or "object")}/{_e(m.id)}</code></li>' for m in change.members)
        parts.append(f'<ul class="members">{items}</ul>')
    return "".join(parts) + "</section>\n"


def _checkboxes(name: str, counts: dict[str, int]) -> str:
    return "".join(f'<label><input type="checkbox" name="{name}" value="{_e(value)}" checked> {_e(value)} '
                   f"({n})</label>" for value, n in counts.items() if n)


def render(report: DiffReport, summary_only: bool = False) -> str:
    counts = report.counts_by_type()
    body = [f"<h1>entragit: differences from {_side(report.old)} to {_side(report.new)}</h1>"]
    if report.risks:
        body.append(f'<div class="risks"><h2>{len(report.risks)} change(s) weaken security</h2><ul>'
                    + "".join(f"<li>{_e(risk_text(r))}</li>" for r in report.risks) + "</ul></div>")
    note = attribution_note(report)
    if note:
        body.append(f'<p class="note">{_e(note)}</p>')
    rebuilt = reconstruction_lines(report)
    if rebuilt:
        body.append(f'<div class="unknown"><p class="note">{_e(rebuilt[0])}</p><ul>'
                    + "".join(f"<li>{_e(line)}</li>" for line in rebuilt[1:]) + "</ul></div>")
    if report.empty:
        body.append("<p>No differences.</p>")
    else:
        head = "".join(f"<th>{k}</th>" for k in CHANGE_KINDS)
        rows = "".join(f"<tr><td>{_e(t)}</td>" + "".join(f'<td class="n">{n}</td>' for n in kinds.values()) + "</tr>"
                       for t, kinds in counts.items())
        body.append(f'<div class="scroll"><table class="counts"><thead><tr><th>Type</th>{head}</tr></thead>'
                    f"<tbody>{rows}</tbody></table></div>")
        body.append(f'<p class="summary">{_e(summary(report))}</p>')
    if report.changes and not summary_only:
        by_kind = {k: sum(kinds[k] for kinds in counts.values()) for k in CHANGE_KINDS}
        body.append('<form class="filters" onsubmit="return false">'
                    f'<strong>Types:</strong> {_checkboxes("type", {t: sum(k.values()) for t, k in counts.items()})}'
                    f'<strong>Changes:</strong> {_checkboxes("change", by_kind)}'
                    '<output id="shown"></output></form>')
        body.extend(_object(report, c) for c in report.changes)
    script = f"<script>{_SCRIPT}</script>" if report.changes and not summary_only else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>entragit difference report</title><style>{_STYLE}</style></head>"
            f"<body>{''.join(body)}{script}</body></html>\n")
