"""`entragit docs`: a browsable book of the tenant's configuration at one snapshot, in markdown and HTML.

content.py reads the snapshot and says what each page holds; render.py writes those pages twice, as
markdown and as HTML, so both books always carry the same words.
"""

from __future__ import annotations

from pathlib import Path

from entragit.book.content import book_pages
from entragit.book.render import write_pages
from entragit.store import BackupRepo


def write_book(repo: BackupRepo, rev: str | None, folder: Path) -> list[Path]:
    """Write the book of rev (default: the newest snapshot) into folder; the files written, in a stable order."""
    return write_pages(book_pages(repo, rev), folder)


__all__ = ["write_book"]
