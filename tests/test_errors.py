"""What a user can get wrong, or what can go wrong around entragit, ends in one line and a documented exit
code, never a traceback: 1 for an error or a usage mistake, 2 only for differences found, 130 for Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin, run


def _one_error(*args: str) -> str:
    result = run(*args, ok=False)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize("args, hint", [
    (["diff", "--frobnicate"], "entragit diff --help"),
    (["diff", "--format", "xml"], "entragit diff --help"),
    (["log"], "entragit log --help"),
    (["restore", "--max-writes", "-3"], "entragit restore --help"),
    (["frobnicate"], "entragit --help"),
    (["init", "somewhere"], "entragit init --help"),  # raised by the command itself: no --tenant, no --sim
])
def test_a_usage_mistake_exits_1_not_the_2_of_differences_found(args: list[str], hint: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    error = _one_error(*args)

    assert error.endswith(f"(see {hint})")
    assert run("diff", "--help").output.startswith("Usage: entragit diff")


def test_since_too_far_back_names_the_option_and_the_range(repo: BackupRepo) -> None:
    run("snapshot", "--repo", str(repo.root))

    error = _one_error("diff", "--repo", str(repo.root), "--since", "99999999d")

    assert error == "error: --since '99999999d': at most 36500d (100 years) back"


def test_a_delta_round_without_a_delta_link_reads_in_full_and_says_so(repo: BackupRepo, sim: Simulator) -> None:
    run("snapshot", "--repo", str(repo.root))
    sim.settings.delta_drop_link = True

    for _ in range(2):  # the first snapshot had a deltaLink to continue from; this one has none
        result = run("snapshot", "--repo", str(repo.root))
        assert "groups: " in result.output and "without a deltaLink" in result.output
        assert "users: " in result.output

    sim.settings.delta_drop_link = False
    assert "No changes since the last snapshot" in run("snapshot", "--repo", str(repo.root)).output


def _git_that_fails(tmp_path: Path, subcommand: str) -> str:
    """A PATH on which `git <subcommand>` fails as git does on a full disk; every other git command works."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "git"
    stand_in.write_text(f"""#!/bin/sh
for arg in "$@"; do
  if [ "$arg" = "{subcommand}" ]; then
    echo "error: unable to write file: No space left on device" >&2
    echo "fatal: git {subcommand} could not write" >&2
    exit 128
  fi
done
exec {shutil.which("git")} "$@"
""")
    stand_in.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def test_git_failing_while_a_snapshot_is_committed_is_one_line_and_changes_nothing(
        repo: BackupRepo, admin: Admin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run("snapshot", "--repo", str(repo.root))
    head = repo.resolve("HEAD")
    admin.call("PATCH", f"groups/{admin.group('HR Team')['id']}", json={"description": "changed"})
    monkeypatch.setenv("PATH", _git_that_fails(tmp_path, "commit-tree"))

    error = _one_error("snapshot", "--repo", str(repo.root), "--full", "--type", "groups")

    assert error.startswith(f"error: git commit-tree failed in {repo.root}: error: unable to write file: No space")
    assert error.endswith("; no branch and no file was changed")
    monkeypatch.undo()
    assert repo.resolve("HEAD") == head
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repo.root, capture_output=True, text=True,
                          check=True).stdout == ""


def test_git_failing_while_reading_is_one_line(repo: BackupRepo, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    run("snapshot", "--repo", str(repo.root))
    user = next((repo.root / "users").iterdir()).stem
    monkeypatch.setenv("PATH", _git_that_fails(tmp_path, "log"))

    error = _one_error("log", user, "--repo", str(repo.root))

    assert error.startswith("error: git log failed in ") and error.endswith("; nothing was changed")


def test_ctrl_c_is_one_line_and_exit_code_130(repo: BackupRepo, sim: Simulator) -> None:
    run("snapshot", "--repo", str(repo.root))
    sim.settings.fault_path, sim.settings.fault_delay = "users", 3.0  # the snapshot is still reading users
    served = sim.stats.http_requests
    process = subprocess.Popen([sys.executable, "-m", "entragit", "snapshot", "--repo", str(repo.root), "--full"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while sim.stats.http_requests == served and process.poll() is None:
        time.sleep(0.05)  # until entragit is reading the tenant: Ctrl-C while Python starts is not ours
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 130, stderr
    assert stderr.strip() == "error: interrupted"


def test_a_report_written_where_no_folder_is_is_one_line(repo: BackupRepo, tmp_path: Path) -> None:
    run("snapshot", "--repo", str(repo.root))

    error = _one_error("diff", "HEAD", "HEAD", "--repo", str(repo.root), "-o", str(tmp_path / "no" / "drift.md"))

    assert error == f"error: No such file or directory: {tmp_path / 'no' / 'drift.md'}"


def test_git_diff_still_works_on_a_file_that_is_not_utf8(repo: BackupRepo) -> None:
    run("snapshot", "--repo", str(repo.root))
    run("init", str(repo.root), "--refresh")  # the git diff driver
    path = next((repo.root / "groups").iterdir())
    path.write_bytes(path.read_bytes() + b"description: caf\xe9\n")  # Latin-1, as an old editor saves it
    subprocess.run(["git", "-c", "user.name=Admin", "-c", "user.email=admin@example.com", "commit", "-qam",
                    "a hand edit in Latin-1"], cwd=repo.root, check=True)

    shown = subprocess.run(["git", "diff", "HEAD~1", "HEAD"], cwd=repo.root, capture_output=True, check=True)

    assert "+description: caf\ufffd" in shown.stdout.decode()
