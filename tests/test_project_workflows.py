"""The project's own CI: its workflows pass actionlint and GitHub's schema, and .ci/install-browser gets a
browser the way the machine allows (root here, sudo on a hosted runner, nothing where one is there)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.ci_lint import ROOT, actionlint, schema_errors

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_the_workflows_pass_actionlint_and_the_schema() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "release.yml"}

    assert actionlint(*WORKFLOWS) == []
    assert schema_errors("github", *WORKFLOWS) == ""


def _stand_in(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


@pytest.mark.parametrize("user, expected", [
    ("1001", ["sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq",
              "apt-get update -qq",
              "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver",
              "apt-get install -y -qq chromium chromium-driver"]),
    ("0", ["apt-get update -qq", "apt-get install -y -qq chromium chromium-driver"]),
])
def test_install_browser_uses_sudo_only_when_not_root(tmp_path: Path, user: str, expected: list[str]) -> None:
    log = tmp_path / "calls"
    _stand_in(tmp_path, "id", f'echo {user}\n')
    _stand_in(tmp_path, "sudo", f'echo "sudo $*" >> {log}\nexec "$@"\n')
    _stand_in(tmp_path, "apt-get", f'echo "apt-get $*" >> {log}\n')
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "CHROME_BIN": str(tmp_path / "no-browser")}

    subprocess.run(["bash", str(ROOT / ".ci" / "install-browser")], env=env, check=True, timeout=60)

    assert log.read_text().splitlines() == expected


def test_install_browser_installs_nothing_where_a_browser_and_driver_are(tmp_path: Path) -> None:
    log = tmp_path / "calls"
    _stand_in(tmp_path, "apt-get", f'echo "apt-get $*" >> {log}\n')
    _stand_in(tmp_path, "chrome", "")
    _stand_in(tmp_path, "chromedriver", "")
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "CHROME_BIN": str(tmp_path / "chrome"),
           "CHROMEDRIVER": str(tmp_path / "chromedriver")}

    subprocess.run(["bash", str(ROOT / ".ci" / "install-browser")], env=env, check=True, timeout=60)

    assert not log.exists()
