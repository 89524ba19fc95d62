"""The import rules of docs/architecture.md, checked on the source: a change that breaks a layer fails here.

Imports are read from the source with ast, every one of them (also those inside functions), so a rule
cannot be dodged by importing late.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "entragit"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> list[tuple[str, bool, bool]]:
    """For each import in path: the imported entragit module, whether the import sits inside a function,
    and whether it is for type checking only (`if TYPE_CHECKING:`, never run)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool, bool]] = []

    def visit(node: ast.AST, nested: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            typing = typing_only or (isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING")
            if isinstance(child, ast.Import):
                found.extend((alias.name, nested, typing_only) for alias in child.names
                             if alias.name.startswith("entragit"))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                if base.startswith("entragit"):
                    known = {_module_name(p) for p in MODULES}
                    for alias in child.names:
                        full = f"{base}.{alias.name}"
                        found.append((full if full in known else base, nested, typing_only))
            visit(child, inner, typing)

    visit(tree, False, False)
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
IMPORTS = {_module_name(p): _imports(p, _module_name(p)) for p in MODULES}


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


# (modules, the entragit modules they may import, why): the boundaries the design depends on.
RULES = [
    ("entragit.sim", ("entragit.sim",),
     "the simulator keeps its own model of Graph, so product and simulator cannot agree on a wrong Graph"),
    ("entragit.registry", ("entragit.registry", "entragit.errors"),
     "the registry is data: it knows no Graph client, no repository, no command"),
    ("entragit.graph", ("entragit.errors", "entragit.session"),
     "the Graph client speaks HTTP and knows no object type, repository or report"),
    ("entragit.session", ("entragit.errors",), "the HTTP session is the bottom layer"),
    ("entragit.store.plumbing", ("entragit.store.plumbing", "entragit.errors", "entragit.recovery"),
     "the git plumbing stores bytes at paths: it knows no object type, YAML or meaning of the repository"),
]

# docs/architecture.md's layers, bottom up: a module imports from its own layer or those below it.
LAYERS = [
    ("foundations", ("entragit.errors", "entragit.printable", "entragit.session", "entragit.recovery",
                     "entragit.registry", "entragit.selection", "entragit.canonical", "entragit.config")),
    ("Graph", ("entragit.graph", "entragit.auth", "entragit.connect", "entragit.live")),
    ("repository", ("entragit.store",)),
    ("work", ("entragit.snapshot", "entragit.permissions", "entragit.diff", "entragit.report.model",
              "entragit.risk", "entragit.attribution", "entragit.diffcache", "entragit.history", "entragit.restore",
              "entragit.prune", "entragit.textconv", "entragit.tenants", "entragit.book", "entragit.posture",
              "entragit.pointintime", "entragit.native")),
    ("renderers", ("entragit.report", "entragit.progress", "entragit.output")),
    ("commands", ("entragit.cli", "entragit.ci", "entragit.demo", "entragit.doctor", "entragit.__main__",
                  "entragit.textconv.__main__")),
]
# The entry points: each loads a command's modules only when the command runs.
ENTRY_POINTS = ("entragit.cli", "entragit.textconv.__main__")
# (importer, imported, why) imports across the layers upward that are meant.
UPWARD = {
    ("entragit.diffcache", "entragit.report.json_report"):
        "the cache keeps a report in its JSON form, whose one schema json_report defines",
}


def _layer(module: str) -> int | None:
    """The index of module's layer: the longest matching prefix wins (report.model is work, report renderers)."""
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if _within(module, prefix) and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    return None if best is None else best[0]


@pytest.mark.parametrize("owner,allowed,why", RULES, ids=[r[0] for r in RULES])
def test_boundaries(owner: str, allowed: tuple[str, ...], why: str) -> None:
    wrong = sorted({f"{module} imports {target}" for module, imports in IMPORTS.items() if _within(module, owner)
                    for target, _, _ in imports if not any(_within(target, a) for a in allowed)})
    assert not wrong, f"{why}:\n" + "\n".join(wrong)


def test_the_plumbing_reads_no_yaml() -> None:
    folder = PACKAGE / "store" / "plumbing"
    found = {f"{path.name}: {alias}" for path in folder.glob("*.py") for node in ast.walk(ast.parse(path.read_text()))
             for alias in ([a.name for a in node.names] if isinstance(node, ast.Import) else
                           [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
             if alias.split(".")[0] in ("ruamel", "yaml")}
    assert not found, found


def test_every_module_has_a_layer() -> None:
    homeless = sorted(m for m in IMPORTS if m != "entragit" and not _within(m, "entragit.sim") and _layer(m) is None)
    assert not homeless, "add these to LAYERS and to docs/architecture.md: " + ", ".join(homeless)


def test_no_layer_imports_from_a_layer_above_it() -> None:
    wrong = []
    for module, imports in IMPORTS.items():
        own = _layer(module)
        for target, _, typing_only in imports:
            above = _layer(target)
            if own is None or above is None or above <= own or typing_only or (module, target) in UPWARD:
                continue
            wrong.append(f"{module} ({LAYERS[own][0]}) imports {target} ({LAYERS[above][0]})")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_only_the_command_line_imports_late() -> None:
    """cli.py imports each command's modules inside the command, and the diff driver (run by git once per
    file) its index builder only when HEAD moved, so each starts without loading the rest; anywhere else a
    late import would only hide a cycle."""
    late = sorted(f"{module} imports {target} inside a function" for module, imports in IMPORTS.items()
                  if module not in ENTRY_POINTS for target, nested, _ in imports if nested)
    assert not late, "\n".join(late)


def _loaded_by(target: str, importer: str) -> set[str]:
    """What importing target runs: target and each package above it (their __init__), but not the importer's
    own packages, which are being imported already."""
    parts = target.split(".")
    chain = {".".join(parts[:n]) for n in range(1, len(parts) + 1)}
    return {m for m in chain if m in IMPORTS and m != importer and not _within(importer, m)}


def test_no_import_cycles() -> None:
    """A package's __init__ re-exporting its own modules is not a cycle, nor an import for type checking
    only; anything else that leads back is."""
    graph = {m: {p for t, _, typing in imports if not typing for p in _loaded_by(t, m)} for m, imports in IMPORTS.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                walk(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)
