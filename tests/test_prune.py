from __future__ import annotations

import pytest

from entragit.registry import get_type
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo
from tests.conftest import Admin, run

DATES = ["2026-01-01T08:00:00+00:00", "2026-01-01T20:00:00+00:00", "2026-01-02T08:00:00+00:00",
         "2026-02-10T08:00:00+00:00", "2026-03-05T08:00:00+00:00", "2026-03-06T08:00:00+00:00"]


@pytest.fixture
def history(repo: BackupRepo, admin: Admin, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Six snapshots on the dates above, each with a change; date -> commit."""
    user = admin.users("Finance")[0]
    commits = {}
    for day, when in enumerate(DATES):
        admin.call("PATCH", f"users/{user['id']}", json={"officeLocation": f"Room {day}"})
        monkeypatch.setenv("GIT_COMMITTER_DATE", when)
        monkeypatch.setenv("GIT_AUTHOR_DATE", when)
        result = take_snapshot(repo)
        assert result.commit is not None
        commits[when] = result.commit
    return commits


def test_prune_keeps_the_newest_snapshot_per_recent_day_and_month(repo: BackupRepo,
                                                                  history: dict[str, str]) -> None:
    head_tree = repo.git.head.commit.tree.hexsha
    assert "3 snapshot(s) would go" in run("prune", "--keep-daily", "2", "--keep-monthly", "2",
                                            "--repo", str(repo.root)).output
    assert repo.git.head.commit.tree.hexsha == head_tree and len(list(repo.git.iter_commits())) == 7

    run("prune", "--keep-daily", "2", "--keep-monthly", "2", "--yes", "--repo", str(repo.root))

    kept = list(repo.git.iter_commits())
    dates = [c.committed_datetime.isoformat() for c in kept]
    assert dates[:3] == [DATES[5], DATES[4], DATES[3]]  # Mar 6, Mar 5 (daily); Feb 10 (monthly)
    assert len(kept) == 4 and kept[-1].message.startswith("Start entragit")
    assert repo.git.head.commit.tree.hexsha == head_tree
    assert [c.tree.hexsha for c in kept[:3]] == [repo.git.commit(history[d]).tree.hexsha for d in DATES[:2:-1]]
    assert repo.git.git.status("--porcelain") == ""


def test_after_prune_the_next_snapshot_continues_incrementally(repo: BackupRepo, history: dict[str, str]) -> None:
    run("prune", "--keep-daily", "1", "--keep-monthly", "1", "--yes", "--repo", str(repo.root))
    result = take_snapshot(repo)
    assert result.commit is None and result.modes[get_type("users").name] == "delta"
