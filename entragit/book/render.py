"""The book's pages written twice, as markdown and as HTML, from the same blocks.

Names come from Graph, through a backup repository that is untrusted input: every piece of text goes
through printable() and then the escaping of the format it lands in, so a display name can neither forge
markup nor reach a reader's terminal as a control sequence.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

from entragit.book.content import Block, Bullets, Heading, Line, Link, Page, Paragraph
from entragit.printable import printable

# What could start emphasis, a link, an image, code, a heading or a table column wherever it stands (no
# piece of text starts a line, so list markers need no escape); < and & are escaped as HTML first.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]#!|~])")

_STYLE = """body{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem;line-height:1.4}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;
vertical-align:top;overflow-wrap:anywhere}th{background:#f3f3f3}nav{margin-bottom:1rem}"""


def _md_text(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(printable(text), quote=False))


def _html_text(text: str) -> str:
    return html.escape(printable(text))


def _line(line: Line, text: Callable[[str], str], link: Callable[[str, str], str]) -> str:
    return "".join(link(text(piece.text), piece.page) if isinstance(piece, Link) else text(piece) for piece in line)


def _md_line(line: Line) -> str:
    return _line(line, _md_text, lambda text, page: f"[{text}]({page}.md)")


def _html_line(line: Line) -> str:
    return _line(line, _html_text, lambda text, page: f'<a href="{page}.html">{text}</a>')


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"## {_md_text(block.text)}"
    if isinstance(block, Paragraph):
        return _md_line(block.line)
    if isinstance(block, Bullets):
        return "\n".join(f"- {_md_line(line)}" for line in block.lines)
    head = "| " + " | ".join(_md_text(cell) for cell in block.head) + " |"
    rule = "|" + "---|" * len(block.head)
    return "\n".join([head, rule, *("| " + " | ".join(_md_line(cell) for cell in row) + " |" for row in block.rows)])


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h2>{_html_text(block.text)}</h2>"
    if isinstance(block, Paragraph):
        return f"<p>{_html_line(block.line)}</p>"
    if isinstance(block, Bullets):
        return "<ul>\n" + "\n".join(f"<li>{_html_line(line)}</li>" for line in block.lines) + "\n</ul>"
    head = "".join(f"<th>{_html_text(cell)}</th>" for cell in block.head)
    rows = "\n".join("<tr>" + "".join(f"<td>{_html_line(cell)}</td>" for cell in row) + "</tr>" for row in block.rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>"


def markdown_page(page: Page) -> str:
    back = "" if page.name == "index" else "[Contents](index.md)\n\n"
    return back + f"# {_md_text(page.title)}\n\n" + "\n\n".join(_md_block(b) for b in page.blocks) + "\n"


def html_page(page: Page) -> str:
    back = "" if page.name == "index" else '<nav><a href="index.html">Contents</a></nav>\n'
    body = "\n".join(_html_block(b) for b in page.blocks)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_html_text(page.title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"{back}<h1>{_html_text(page.title)}</h1>\n{body}\n</body>\n</html>\n")


def write_pages(pages: list[Page], folder: Path) -> list[Path]:
    """Write each page as name.md and name.html into folder; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for page in pages:
        for suffix, render in ((".md", markdown_page), (".html", html_page)):
            path = folder / f"{page.name}{suffix}"
            path.write_text(render(page), encoding="utf-8")
            written.append(path)
    return written
