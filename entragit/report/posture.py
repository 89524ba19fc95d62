"""The tenant's posture (entragit.posture) in words: for a terminal, a pull request or CI job summary, a machine."""

from __future__ import annotations

import json
from dataclasses import asdict

from entragit.posture import Posture
from entragit.printable import printable
from entragit.report.markdown import _cell

POSTURE_FORMATS = ("table", "markdown", "json")


def _table(posture: Posture) -> str:
    lines = [f"Posture of tenant {printable(posture.tenant)} at {posture.checked_at}: {posture.status.upper()}", ""]
    for pillar in posture.pillars:
        lines.append(f"{pillar.status.upper():<5} {pillar.name}: {printable(pillar.summary)}")
        # Names from Graph (policies, accounts) are untrusted: each line is escaped on its own.
        lines += [f"      {printable(figure)}" for figure in pillar.figures]
    return "\n".join(lines) + "\n"


def _markdown(posture: Posture) -> str:
    lines = [f"## Posture of tenant {_cell(posture.tenant)}: {posture.status.upper()}", "",
             f"Checked at {posture.checked_at}.", "", "| pillar | status | what was found |", "|---|---|---|"]
    for pillar in posture.pillars:
        found = "\n".join([pillar.summary, *(f"- {figure}" for figure in pillar.figures)])
        lines.append(f"| {_cell(pillar.name)} | **{pillar.status.upper()}** | {_cell(found)} |")
    return "\n".join(lines) + "\n"


def _json(posture: Posture) -> str:
    return json.dumps({"tenant": posture.tenant, "checkedAt": posture.checked_at, "status": posture.status,
                       "exitCode": posture.exit_code, "pillars": [asdict(p) for p in posture.pillars]}, indent=2) + "\n"


def render_posture(posture: Posture, fmt: str) -> str:
    return {"table": _table, "markdown": _markdown, "json": _json}[fmt](posture)
