"""The renderer of a difference report for each name `--format` takes (terminal, pull request, JSON, HTML)."""

from __future__ import annotations

from collections.abc import Callable

from entragit.report.model import DiffReport
from entragit.report import html_report, json_report, markdown, table


def _json_summary(report: DiffReport) -> str:
    data = json_report.as_dict(report)
    return json_report.dumps({k: v for k, v in data.items() if k not in ("changes", "names")})


FORMATS: dict[str, Callable[[DiffReport], str]] = {
    "table": table.render, "markdown": markdown.render, "json": json_report.render, "html": html_report.render,
}
SUMMARIES: dict[str, Callable[[DiffReport], str]] = {
    "table": table.render_summary, "markdown": markdown.render_summary, "json": _json_summary,
    "html": lambda report: html_report.render(report, summary_only=True),
}


def render(report: DiffReport, fmt: str, summary: bool = False) -> str:
    return (SUMMARIES if summary else FORMATS)[fmt](report)
