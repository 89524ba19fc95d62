"""How much the command line says, and how: colour, --quiet, --verbose, tables that fit the terminal.

The group's options set these once per run (cli.py); the rest of entragit asks here instead of reading the
environment itself. Kept light (no logging until --verbose asks for it): `entragit textconv` imports the
command line once per file git shows.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click

from entragit.printable import printable

HTTP_LOGGER = "entragit.http"  # the logger session.py writes each request to (not imported: requests is slow to load)


@dataclass
class Output:
    quiet: bool = False
    """Errors and the result only: no notes, hints, progress or heartbeat."""
    verbose: bool = False
    """Every HTTP request on stderr: method, URL, status and time taken (never a header or a body)."""
    color: bool | None = None
    """None: colour on a terminal only (click's default)."""


current = Output()


def color_choice(flag: bool | None) -> bool | None:
    """--color/--no-color if given, else none when NO_COLOR is set to anything but "" (https://no-color.org)."""
    if flag is not None:
        return flag
    return False if os.environ.get("NO_COLOR") else None


def configure(color: bool | None, quiet: bool, verbose: bool) -> Output:
    global current
    current = Output(quiet=quiet, verbose=verbose, color=color_choice(color))
    if verbose:
        _log_http(True)
    return current


def reset() -> None:
    """At the end of a run: quiet and verbose end with it (a test runs many in one process); the colour
    choice stays for the error line printed after click's context is gone."""
    global current
    if current.verbose:
        _log_http(False)
    current = Output(color=current.color)


def info(text: str, *, err: bool = True) -> None:
    """A line that helps a person and is no part of the result: a note, a hint, what was written where."""
    if not current.quiet:
        click.echo(text, err=err)


_handler: Any = None


def _log_http(on: bool) -> None:
    import logging

    global _handler

    class Echo(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            click.echo(click.style(printable(record.getMessage()), dim=True), err=True, color=current.color)

    logger = logging.getLogger(HTTP_LOGGER)
    if _handler is not None:
        logger.removeHandler(_handler)
        _handler = None
    logger.setLevel(logging.NOTSET)
    if on:
        _handler = Echo()
        logger.addHandler(_handler)
        logger.setLevel(logging.DEBUG)


def table_width() -> int | None:
    """The width a table must fit: COLUMNS, else the terminal's; none when the output goes to a pipe or a
    file, whose reader wants whole rows."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


# Where a cell may break besides spaces: after the dots of a permission, the slashes of a path, commas.
_BREAK_AFTER = re.compile(r"(?<=[ ./,])")


def _wrap(text: str, width: int) -> list[str]:
    lines = [""]
    for token in _BREAK_AFTER.split(text):
        while len(token) > width:  # a word wider than its column breaks where it must
            if lines[-1]:
                lines.append("")
            lines[-1], token = token[:width], token[width:]
            lines.append("")
        if len(lines[-1]) + len(token.rstrip()) > width and lines[-1]:
            lines.append("")
        lines[-1] += token if lines[-1] or token.strip() else ""
    return [line.rstrip() for line in lines if line.strip()] or [""]


def table(header: Sequence[str], rows: Sequence[Sequence[str]], width: int | None,
          droppable: Sequence[str] = (), whole: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """The lines of a table within `width`: the `droppable` columns go first, in that order, then the widest
    column wraps, at spaces, dots, slashes and commas while it can, then anywhere (but within the words of
    the `whole` columns: a name cut in two reads as two). Returns the lines and the columns left out."""
    dropped: list[str] = []

    def fits(widths: dict[int, int]) -> bool:
        return width is None or sum(widths.values()) + 2 * (len(widths) - 1) <= width

    def longest(column: int, split: Callable[[str], list[str]]) -> int:
        return max(len(part) for row in [header, *rows] for part in split(row[column]) or [""])

    widths = {c: longest(c, lambda text: [text]) for c in range(len(header))}
    for name in droppable:
        if fits(widths):
            break
        del widths[list(header).index(name)]
        dropped.append(name)
    # Shrink the widest column first, to its longest unbreakable part, then to a floor still readable.
    unbreakable = {c: longest(c, lambda text: [t.rstrip() for t in _BREAK_AFTER.split(text)]) for c in widths}
    kept = {list(header).index(name) for name in whole}
    for floor in (unbreakable, {c: unbreakable[c] if c in kept else max(len(header[c]), 12) for c in widths}):
        while not fits(widths):
            roomy = [c for c in widths if widths[c] > floor[c]]
            if not roomy:
                break
            widest = max(roomy, key=lambda c: widths[c])
            widths[widest] -= 1
    lines = []
    for row in [header, *rows]:
        cells = {c: _wrap(row[c], widths[c]) for c in widths}
        for i in range(max(len(cell) for cell in cells.values())):
            parts = [(cells[c][i] if i < len(cells[c]) else "").ljust(widths[c]) for c in widths]
            lines.append("  ".join(parts).rstrip())
    return lines, dropped


def echo_table(header: Sequence[str], rows: Sequence[Sequence[str]], droppable: Sequence[str] = (),
               whole: Sequence[str] = ()) -> None:
    lines, dropped = table(header, rows, table_width(), droppable, whole)
    for line in lines:
        click.echo(line)
    if dropped:
        info(f"(left out to fit {table_width()} columns: {', '.join(dropped)}; set COLUMNS wider to see them)")
