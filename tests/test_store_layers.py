"""The backup repository's git plumbing stays apart from what the repository means: it stores bytes at
paths, and is told how an object becomes a path and bytes (entragit.store.paths.OBJECT_FILES)."""

from __future__ import annotations

import ast
from pathlib import Path

import entragit.store.plumbing

# Errors a user sees, and the claims that let a run after a kill take back what the plumbing left.
ALLOWED = {"entragit.errors", "entragit.recovery"}


def _imports(source: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_plumbing_imports_no_object_type_format_or_meaning_of_the_repository() -> None:
    folder = Path(entragit.store.plumbing.__file__).parent
    sources = sorted(folder.glob("*.py"))
    assert len(sources) > 5
    outside = {f"{source.name}: {name}" for source in sources for name in _imports(source)
               if name.split(".")[0] in ("entragit", "ruamel", "yaml")
               and name not in ALLOWED and not name.startswith("entragit.store.plumbing")}
    assert outside == set()
