"""Reports between two commits, kept under .git/entragit/diff-cache so the same question is answered once.

The key is the pair of commits (which fix both trees and the history before them: whether an object came
back after a deletion, when a removed one was deleted) plus the selection and the report schema. It lives
in the git directory, never in the tree, so it is not committed. Live diffs are never cached: the
tenant changes under them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from entragit import __version__
from entragit.report.model import DiffReport, Side
from entragit.selection import Selection
from entragit.report import json_report
from entragit.store import BackupRepo

# Enough for the pairs one looks at in an incident; older entries are dropped first.
KEEP_ENTRIES = 64


class DiffCache:
    def __init__(self, repo: BackupRepo) -> None:
        self._repo = repo
        self.folder = Path(repo.git.git_dir) / "entragit" / "diff-cache"

    def _key(self, commit_a: str, commit_b: str, selection: Selection) -> str:
        question = {"schema": json_report.SCHEMA, "version": __version__, "from": commit_a, "to": commit_b,
                    "selection": selection.as_dict()}
        return hashlib.sha256(json.dumps(question, sort_keys=True).encode()).hexdigest()

    def report(self, rev_a: str, rev_b: str, selection: Selection, build: Callable[[], DiffReport]) -> DiffReport:
        """The cached report for this pair and this selection, or a new one (then kept)."""
        commit_a, commit_b = self._repo.resolve(rev_a), self._repo.resolve(rev_b)
        path = self.folder / f"{self._key(commit_a, commit_b, selection)}.json"
        try:
            report = json_report.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            report = build()
            self._keep(path, report)
        # The labels are how the user named the commits this time.
        report.old = Side(rev_a, commit_a, report.old.time)
        report.new = Side(rev_b, commit_b, report.new.time)
        return report

    def _keep(self, path: Path, report: DiffReport) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json_report.dumps(json_report.as_dict(report), indent=None))
        temporary.replace(path)
        entries = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in entries[KEEP_ENTRIES:]:
            stale.unlink(missing_ok=True)
