"""Every module of entragit imports on its own: an import cycle between modules (the kind that once ran
diff -> attribution -> diffcache -> report -> risk -> diff, hidden by imports inside functions) breaks
the import of whichever module of the cycle comes first, so each module is imported first once."""

import os
import pkgutil
import subprocess
import sys

import entragit

# Running entragit's __main__ runs the command line.
_NOT_IMPORTED = {"entragit.__main__"}

_EACH_FIRST = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "entragit" or m.startswith("entragit.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc().strip().splitlines()[-1])
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(entragit.__path__, "entragit.") if m.name not in _NOT_IMPORTED)


def test_every_module_imports_first_in_a_fresh_interpreter():
    modules = _modules()
    assert {"entragit.diff", "entragit.diff.build", "entragit.report.model", "entragit.risk"} <= set(modules)
    done = subprocess.run([sys.executable, "-c", _EACH_FIRST, *modules], capture_output=True, text=True,
                          env=os.environ, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_cycle_fails_the_check(tmp_path):
    """The check itself: two modules importing each other's names fail whichever is imported first."""
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic.b import B\nA = 1\n")
    (package / "b.py").write_text("from cyclic.a import A\nB = 1\n")
    done = subprocess.run([sys.executable, "-c", _EACH_FIRST, "cyclic.a"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=60)
    assert done.returncode == 1
    assert "cyclic.a: ImportError" in done.stdout
