"""Renderers of a difference report: one model, several readers (terminal, JSON)."""

from __future__ import annotations

from entragit.diff import DiffReport
from entragit.report import json_report, table

FORMATS = {"table": table.render, "json": json_report.render}


def render(report: DiffReport, fmt: str) -> str:
    return FORMATS[fmt](report)
