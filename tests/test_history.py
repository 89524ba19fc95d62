from __future__ import annotations

from entragit.history import object_history
from entragit.store import BackupRepo
from tests.conftest import Admin, run


def test_log_lists_the_snapshots_in_which_an_object_changed_with_each_change(repo: BackupRepo,
                                                                            admin: Admin) -> None:
    user = admin.users("Finance")[0]
    run("snapshot", "--repo", str(repo.root))
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Controller"})
    run("snapshot", "--repo", str(repo.root))
    admin.call("PATCH", f"groups/{admin.group('HR Team')['id']}", json={"description": "unrelated"})
    run("snapshot", "--repo", str(repo.root))
    admin.call("PATCH", f"users/{user['id']}", json={"officeLocation": "Annex"})
    run("snapshot", "--repo", str(repo.root))

    history = object_history(repo, user["id"])

    assert [e.change.change for e in history] == ["modified", "modified", "added"]
    assert [(a.path, a.new) for a in history[0].change.attributes] == [("officeLocation", "Annex")]
    assert [(a.path, a.old, a.new) for a in history[1].change.attributes] == [
        ("jobTitle", user["jobTitle"], "Controller")]
    assert history[0].commit == repo.resolve("HEAD") and history[1].commit == repo.resolve("HEAD~2")

    output = run("log", user["id"], "--repo", str(repo.root)).output
    assert f"History of users/{user['id']}  {user['displayName']}" in output
    assert "officeLocation" in output and "Controller" in output


def test_log_of_an_unknown_id_says_so(repo: BackupRepo) -> None:
    run("snapshot", "--repo", str(repo.root))
    result = run("log", "00000000-0000-0000-0000-00000000abcd", "--repo", str(repo.root), ok=False)
    assert result.exit_code == 1 and "no object with id 00000000-0000-0000-0000-00000000abcd" in result.output
