"""A snapshot or an apply killed (SIGKILL) at any moment, inside any git step of the commit, leaves a
repository that the next run takes back by itself, saying what it did; what a live process or a user's
own git command holds is never touched."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from entragit.demo import _bulk_mistake
from entragit.graph import GraphClient
from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin, run
from tests.crashkit import Kill, command, entragit, fired, fsck_clean, git
from tests.test_resume import KillSwitch


def _change_tenant(admin: Admin) -> None:
    """Something for the next snapshot to write, rewrite and delete in folders HEAD already has."""
    user = admin.users("Finance")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Recovered Controller"})
    group = admin.group("Marketing Team")
    admin.call("DELETE", f"groups/{group['id']}")
    admin.call("POST", "groups", json={"displayName": "Crash Test", "mailEnabled": False, "mailNickname": "crash",
                                       "securityEnabled": True})


def _snapshot(repo: BackupRepo, kill: Kill | None = None, work: Path | None = None) -> subprocess.CompletedProcess[str]:
    return entragit(["snapshot", "--repo", str(repo.root)], kill, work)


def _recovered(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("recovered: ")]


def _assert_whole(repo: BackupRepo, old: str) -> None:
    """What every kill must leave: a sound repository whose branch is at the old commit or the new one."""
    assert fsck_clean(repo.root)
    head = git(repo.root, "rev-parse", "HEAD")
    assert head == old or git(repo.root, "rev-parse", "HEAD^") == old


def _assert_like_a_clean_snapshot(repo: BackupRepo, tmp_path: Path) -> None:
    """Nothing left over, nothing lagging, and the tree a clean snapshot of the tenant makes."""
    assert git(repo.root, "status", "--porcelain", "--untracked-files=all") == ""
    git_dir = Path(repo.git.git_dir)
    assert not list(git_dir.glob("*.lock")) and not list(git_dir.glob("entragit-*-index-*"))
    assert not list(git_dir.glob("fast_import_crash_*")) and not list(git_dir.glob("objects/pack/tmp_*"))
    assert not list((git_dir / "entragit").glob("worktree-*")) and not list((git_dir / "entragit").glob("importer-*"))
    running = git_dir / "entragit" / "running"
    assert not running.exists() or not list(running.iterdir())
    clean = tmp_path / "clean"
    subprocess.run(["git", "clone", "-q", str(repo.root), str(clean)], check=True)
    # Which tenant to sign in to is a clone's own setting, never cloned with the repository.
    subprocess.run(["git", "-C", str(clean), "config", "entragit.simulator", str(repo.config.simulator)], check=True)
    again = _snapshot(BackupRepo(clean))
    assert again.returncode == 0, again.stderr
    assert git(clean, "rev-parse", "HEAD^{tree}") == git(repo.root, "rev-parse", "HEAD^{tree}")


# One kill per git step of an incremental snapshot's commit, and whether it always leaves something to
# take back. "before": the kill lands while git runs (git, orphaned, then finishes on its own); "after": once
# it has finished; "hold": git is killed too, while it holds the ref locks (HEAD.lock,
# refs/heads/<branch>.lock). A kill in fast-import always leaves the git directory it runs in (with a crash
# report when it was still being fed); one in mktree leaves it only once fast-import has started.
STEPS = [
    (Kill("fast-import", mode="before"), True),
    (Kill("mktree", mode="after"), False),
    (Kill("commit-tree", mode="after"), True),
    (Kill("update-index", mode="before"), True),
    (Kill("update-ref", mode="after"), True),
    (Kill("update-ref", mode="hold"), True),
    (Kill("checkout-index", mode="before"), True),
]


@pytest.mark.parametrize("kill,leaves", STEPS, ids=[f"{k.step}-{k.mode}" for k, _ in STEPS])
def test_a_snapshot_killed_in_a_git_step_is_taken_back_by_the_next_run(
        kill: Kill, leaves: bool, repo: BackupRepo, admin: Admin, tmp_path: Path) -> None:
    run("snapshot", "--repo", str(repo.root))
    old = repo.resolve("HEAD")
    _change_tenant(admin)

    killed = _snapshot(repo, kill, tmp_path / "crash")

    assert fired(tmp_path / "crash") and killed.returncode == -signal.SIGKILL, killed.stderr
    _assert_whole(repo, old)
    recovering = _snapshot(repo)
    assert recovering.returncode == 0, recovering.stderr
    assert _recovered(recovering) or not leaves, recovering.stderr
    assert all("which is gone" in line or "before it was stopped" in line for line in _recovered(recovering))
    _assert_like_a_clean_snapshot(repo, tmp_path)


def test_a_branch_that_moved_without_the_working_tree_is_brought_in_line(
        repo: BackupRepo, admin: Admin, tmp_path: Path) -> None:
    run("snapshot", "--repo", str(repo.root))
    _change_tenant(admin)
    killed = _snapshot(repo, Kill("update-ref", mode="after"), tmp_path / "crash")
    assert killed.returncode == -signal.SIGKILL
    moved_to = git(repo.root, "rev-parse", "HEAD")
    assert git(repo.root, "status", "--porcelain") != ""  # the working tree lags the branch

    recovering = _snapshot(repo)

    assert recovering.returncode == 0, recovering.stderr
    assert any(f"brought the index and working tree to {moved_to[:10]}" in line for line in _recovered(recovering))
    assert "No changes since the last snapshot" in recovering.stdout
    assert git(repo.root, "rev-parse", "HEAD") == moved_to


def test_a_killed_first_snapshot_leaves_nothing_that_keeps_the_disk_full(
        repo: BackupRepo, tmp_path: Path) -> None:
    killed = _snapshot(repo, Kill("commit-tree", mode="after"), tmp_path / "crash")
    assert killed.returncode == -signal.SIGKILL
    leftovers = list((Path(repo.git.git_dir) / "entragit").glob("worktree-*"))
    assert leftovers and any(leftovers[0].rglob("*.yaml"))

    recovering = _snapshot(repo)

    assert recovering.returncode == 0, recovering.stderr
    assert any(f"removed .git/entragit/{leftovers[0].name} left by entragit process" in line
               for line in _recovered(recovering)), recovering.stderr
    assert not leftovers[0].exists()
    _assert_like_a_clean_snapshot(repo, tmp_path)


def test_a_fast_import_orphaned_as_it_starts_has_its_crash_report_taken_back_and_no_other(
        repo: BackupRepo, admin: Admin, tmp_path: Path) -> None:
    # The kill lands after git fast-import started and before it read anything: it then reads the end of
    # its input from a dead process and writes a crash report, after the entragit that started it is gone.
    run("snapshot", "--repo", str(repo.root))
    _change_tenant(admin)
    git_dir = Path(repo.git.git_dir)
    users_report = git_dir / "fast_import_crash_1"  # a fast-import of the user's own
    users_report.write_text("fast-import crash report:\n")

    killed = _snapshot(repo, Kill("fast-import", mode="orphan"), tmp_path / "crash")
    recovering = _snapshot(repo)

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert recovering.returncode == 0, recovering.stderr
    # The next run waited for the orphan (and the stand-in's watcher) before taking back where it wrote.
    left = (tmp_path / "crash" / "left").read_text().split()
    assert any(name.startswith("fast_import_crash_") for name in left), left
    assert any(re.search(r"removed \.git/entragit/importer-\d+ left by entragit process \d+, which is gone", line)
               for line in _recovered(recovering)), recovering.stderr
    assert users_report.read_text() == "fast-import crash report:\n"
    users_report.unlink()
    _assert_like_a_clean_snapshot(repo, tmp_path)


def test_a_dead_process_whose_pid_was_reused_is_still_known_as_dead(repo: BackupRepo, tmp_path: Path) -> None:
    killed = _snapshot(repo, Kill("commit-tree", mode="after"), tmp_path / "crash")
    assert killed.returncode == -signal.SIGKILL
    [record] = (Path(repo.git.git_dir) / "entragit" / "running").glob("*.json")
    # Another process now has the dead one's pid: it started at another time.
    other = subprocess.Popen(["sleep", "120"])
    try:
        record.write_text(re.sub(r'"pid": \d+', f'"pid": {other.pid}', record.read_text()))

        recovering = _snapshot(repo)
    finally:
        other.kill()
        other.wait()

    assert recovering.returncode == 0, recovering.stderr
    assert any(f"left by entragit process {other.pid}, which is gone" in line for line in _recovered(recovering))
    _assert_like_a_clean_snapshot(repo, tmp_path)


def test_a_lock_entragit_did_not_take_is_never_removed(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    _change_tenant(admin)
    lock = Path(repo.git.git_dir) / "index.lock"
    lock.write_bytes(b"DIRC a user's git command, still writing")

    refused = _snapshot(repo)

    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and f"error: {lock} exists" in refused.stderr
    assert lock.read_bytes() == b"DIRC a user's git command, still writing"


def test_a_lock_a_live_entragit_process_holds_is_never_removed(repo: BackupRepo, admin: Admin, tmp_path: Path) -> None:
    run("snapshot", "--repo", str(repo.root))
    _change_tenant(admin)
    # Stopped, not killed, once its commit is made: alive, and holding the index.
    argv, env = command(["snapshot", "--repo", str(repo.root)], Kill("commit-tree", mode="stop"), tmp_path / "crash")
    holder = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = Path(repo.git.git_dir) / "index.lock"
    try:
        while Path(f"/proc/{holder.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
            assert holder.poll() is None, holder.communicate()
            time.sleep(0.05)

        refused = _snapshot(repo)

        assert lock.exists()
    finally:
        holder.send_signal(signal.SIGCONT)
        holder.communicate(timeout=120)
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.count("\n") == 1
    assert f"{lock} is held by entragit process {holder.pid}, which is still running" in refused.stderr
    assert holder.returncode == 0  # it went on, and its snapshot is whole
    assert not lock.exists() and git(repo.root, "status", "--porcelain") == ""


def test_a_users_change_to_a_file_the_snapshot_changed_is_never_overwritten(
        repo: BackupRepo, admin: Admin, tmp_path: Path) -> None:
    run("snapshot", "--repo", str(repo.root))
    user = admin.users("Finance")[0]
    _change_tenant(admin)
    killed = _snapshot(repo, Kill("update-ref", mode="after"), tmp_path / "crash")
    assert killed.returncode == -signal.SIGKILL
    edited = repo.root / "users" / f"{user['id']}.yaml"
    edited.write_text("someone's own edit\n")

    refused = _snapshot(repo)

    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and f"users/{user['id']}.yaml now holds changes of neither" in refused.stderr
    assert edited.read_text() == "someone's own edit\n"


def test_an_apply_killed_mid_batch_resumes_without_repeating_a_completed_write(
        sim: Simulator, repo: BackupRepo, client: GraphClient) -> None:
    run("snapshot", "--repo", str(repo.root))
    _bulk_mistake(client)
    run("snapshot", "--repo", str(repo.root), "--accept-mass-change")
    subprocess.run(["git", "revert", "--no-edit", "HEAD"], cwd=repo.root, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b",
                        "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b"})
    switch = KillSwitch(sim, "write", 7)

    killed = switch.run("apply", "--repo", str(repo.root), "--yes")
    switch.phase = "none"
    resumed = switch.run("apply", "--repo", str(repo.root), "--yes")

    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Resuming an interrupted run" in resumed.stdout and "Verified" in resumed.stdout
    assert [key for key, count in switch.written.items() if count > 1] == []
