"""The commands as a user types them, each in its own process, against `entragit sim serve`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from entragit.auth import TokenProvider
from entragit.config import simulator_connection


def entragit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "entragit", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Path]:
    info = tmp_path / "sim.json"
    server = subprocess.Popen([sys.executable, "-m", "entragit", "sim", "serve", "--seed", "7", "--info", str(info)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not info.exists():
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "the simulator did not write its info file"
            time.sleep(0.1)
        yield info
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_init_snapshot_patch_then_diff_live_json(served: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    assert entragit("init", str(backup), "--sim", str(served)).returncode == 0
    snap = entragit("snapshot", "--repo", str(backup))
    assert snap.returncode == 0, snap.stderr
    user_files = sorted((backup / "users").glob("*.yaml"))
    assert len(user_files) > 100
    assert subprocess.run(["git", "-C", str(backup), "log", "--format=%s"], capture_output=True, text=True
                          ).stdout.startswith("Snapshot: ")
    # The secret stays in the simulator's info file, never in the backup repository.
    secret = json.loads(served.read_text())["client_secret"]
    assert all(secret not in p.read_text() for p in backup.rglob("*") if p.is_file() and ".git" not in p.parts)

    connection = simulator_connection(str(served))
    user_id = user_files[0].stem
    before = requests.get(f"{connection.graph_url}/v1.0/users/{user_id}", verify=connection.ca_bundle,
                          headers={"Authorization": f"Bearer {TokenProvider(connection).token()}"}).json()
    patched = requests.patch(f"{connection.graph_url}/v1.0/users/{user_id}", json={"department": "Skunkworks"},
                             verify=connection.ca_bundle,
                             headers={"Authorization": f"Bearer {TokenProvider(connection).token()}"})
    assert patched.status_code == 204

    diff = entragit("diff", "HEAD", "--live", "--format", "json", "--repo", str(backup))

    assert diff.returncode == 0, diff.stderr
    [change] = json.loads(diff.stdout)["changes"]
    assert change["id"] == user_id and change["displayName"] == before["displayName"]
    old_department = [line.split(": ", 1)[1] for line in user_files[0].read_text().splitlines()
                      if line.startswith("department: ")][0]
    assert change["attributes"] == [{"path": "department", "old": old_department, "new": "Skunkworks"}]


def test_demo_tells_the_whole_story_and_ends_with_no_residue(tmp_path: Path) -> None:
    result = entragit("demo", "--dir", str(tmp_path / "demo"))

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Verified: re-read" in out
    assert "No differences." in out
    assert str(tmp_path / "demo" / "backup") in out
    assert (tmp_path / "demo" / "backup" / "entragit.yaml").exists()


def test_every_command_explains_itself() -> None:
    for command in (["--help"], ["init", "--help"], ["snapshot", "--help"], ["diff", "--help"],
                    ["restore", "--help"], ["apply", "--help"], ["demo", "--help"], ["sim", "serve", "--help"], ["types", "--help"]):
        result = entragit(*command)
        assert result.returncode == 0 and "Usage:" in result.stdout, command
