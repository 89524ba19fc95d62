"""Each kind of bad input gets one clear error, exit code 1, and nothing is written to the tenant."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from entragit.store import BackupRepo
from tests.conftest import Admin, run


@pytest.fixture
def drifted(repo: BackupRepo, admin: Admin) -> dict:  # type: ignore[type-arg]
    """A snapshot, then a change in the tenant that a wrongly accepted restore would undo."""
    run("snapshot", "--repo", str(repo.root))
    user = admin.users("Finance")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Drifted"})
    return user


def _fails(*args: str) -> str:
    result = run(*args, ok=False)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


def _still_drifted(admin: Admin, user: dict) -> None:  # type: ignore[type-arg]
    assert admin.get(f"users/{user['id']}")["jobTitle"] == "Drifted"


def test_a_revision_that_does_not_exist(repo: BackupRepo, admin: Admin, drifted: dict) -> None:  # type: ignore[type-arg]
    error = _fails("restore", "--repo", str(repo.root), "--at", "no-such-rev", "--id", drifted["id"], "--yes")
    assert "'no-such-rev' does not exist" in error
    assert "'no-such-rev' does not exist" in _fails("diff", "no-such-rev", "--repo", str(repo.root))
    _still_drifted(admin, drifted)


def test_a_type_not_in_the_registry(repo: BackupRepo, admin: Admin, drifted: dict) -> None:  # type: ignore[type-arg]
    error = _fails("restore", "--repo", str(repo.root), "--at", "HEAD", "--type", "printers", "--yes")
    assert "unknown object type 'printers'" in error and "users" in error
    assert "unknown object type 'printers'" in _fails("snapshot", "--repo", str(repo.root), "--type", "printers")
    _still_drifted(admin, drifted)


def test_an_id_absent_from_the_snapshot(repo: BackupRepo, admin: Admin, drifted: dict) -> None:  # type: ignore[type-arg]
    missing = "00000000-0000-0000-0000-000000000000"
    error = _fails("restore", "--repo", str(repo.root), "--at", "HEAD", "--id", drifted["id"], "--id", missing,
                   "--yes")
    assert f"no object with id {missing} in the snapshot at HEAD" in error
    _still_drifted(admin, drifted)


def test_an_attribute_no_selected_object_has(repo: BackupRepo, admin: Admin, drifted: dict) -> None:  # type: ignore[type-arg]
    error = _fails("restore", "--repo", str(repo.root), "--at", "HEAD", "--id", drifted["id"],
                   "--attribute", "favouriteColour", "--yes")
    assert "unknown attribute 'favouriteColour'" in error
    _still_drifted(admin, drifted)


def test_a_folder_that_is_not_an_entragit_repo(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert "not an entragit backup repository" in _fails("snapshot", "--repo", str(plain))
    subprocess.run(["git", "init", "-q", str(plain)], check=True)
    assert "no entragit.yaml" in _fails("diff", "--repo", str(plain))


def test_a_snapshot_file_that_does_not_parse(repo: BackupRepo, admin: Admin, drifted: dict) -> None:  # type: ignore[type-arg]
    path = repo.root / "users" / f"{drifted['id']}.yaml"
    path.write_text(path.read_text() + "jobTitle: [unclosed\n")
    repo.git.git.execute(["git", "-c", "user.name=Admin", "-c", "user.email=admin@example.com",
                          "commit", "-qam", "a hand edit gone wrong"])

    error = _fails("restore", "--repo", str(repo.root), "--at", "HEAD", "--id", drifted["id"], "--yes")

    assert f"users/{drifted['id']}.yaml" in error and "not valid YAML" in error
    broken_line = len(path.read_text().splitlines())
    assert any(f".yaml:{n} in commit" in error for n in (broken_line, broken_line + 1)), error
    assert f"users/{drifted['id']}.yaml" in _fails("diff", "HEAD~1", "HEAD", "--repo", str(repo.root))
    _still_drifted(admin, drifted)
