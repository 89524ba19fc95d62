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


def test_log_shows_what_other_objects_did_about_the_object(repo: BackupRepo, admin: Admin) -> None:
    """A user's group memberships, role assignments and policy exclusions live in other objects' files;
    the user's history shows them where they changed."""
    user = admin.users("Finance")[0]
    team = admin.group("HR Team")
    ca = "identity/conditionalAccess/policies"
    policy = next(p for p in admin.get(ca)["value"] if p["displayName"] == "Require MFA for all users")
    run("snapshot", "--repo", str(repo.root))
    admin.call("POST", f"groups/{team['id']}/members/$ref",
               json={"@odata.id": f"{admin.base}directoryObjects/{user['id']}"})
    run("snapshot", "--repo", str(repo.root))
    excluded = policy["conditions"]["users"]["excludeUsers"] + [user["id"]]
    admin.call("PATCH", f"{ca}/{policy['id']}", json={"conditions": {"users": {"excludeUsers": excluded}}})
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Excluded"})
    run("snapshot", "--repo", str(repo.root))
    admin.call("DELETE", f"groups/{team['id']}/members/{user['id']}/$ref")
    run("snapshot", "--repo", str(repo.root))

    history = object_history(repo, user["id"])

    left, excluded_and_retitled, joined = history[:3]
    assert left.change is None and joined.change is None
    assert [(o.type, o.id, [(m.action, m.id) for m in o.members]) for o in left.elsewhere] == [
        ("groups", team["id"], [("removed", user["id"])])]
    assert [(o.id, [(m.action, m.display_name) for m in o.members]) for o in joined.elsewhere] == [
        (team["id"], [("added", user["displayName"])])]
    assert [(a.path, a.new) for a in excluded_and_retitled.change.attributes] == [("jobTitle", "Excluded")]
    [policy_change] = excluded_and_retitled.elsewhere
    assert (policy_change.type, policy_change.id) == ("conditionalAccessPolicies", policy["id"])
    assert [a.path for a in policy_change.attributes] == ["conditions.users.excludeUsers"]
    assert history[3].change is not None and history[3].change.change == "added"

    output = run("log", user["id"], "--repo", str(repo.root)).output
    assert f"members + {user['displayName']} (users/{user['id']})" in output
    assert f"members - {user['displayName']} (users/{user['id']})" in output
    assert "conditions.users.excludeUsers" in output and team["displayName"] in output
    # An id in another object's value has its name beside it, as in `entragit diff`.
    assert f"+ {user['displayName']} ({user['id']})" in output


def test_log_of_an_unknown_id_says_so(repo: BackupRepo) -> None:
    run("snapshot", "--repo", str(repo.root))
    result = run("log", "00000000-0000-0000-0000-00000000abcd", "--repo", str(repo.root), ok=False)
    assert result.exit_code == 1 and "no object with id 00000000-0000-0000-0000-00000000abcd" in result.output
