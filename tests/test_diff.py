from __future__ import annotations

import json
import random
import subprocess
import uuid
from pathlib import Path

from entragit.store import BackupRepo
from tests.conftest import Admin, run
from tests.test_apply import _git


def _report(*args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(run("diff", *args, "--format", "json").output)


def test_a_patch_in_the_tenant_shows_in_diff_live_with_old_and_new_values(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    user = admin.users("Marketing")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Head of Vibes"})

    report = _report("HEAD", "--live", "--repo", str(repo.root))

    assert report["schema"] == "entragit/diff/2"
    assert (report["to"]["label"], report["to"]["commit"]) == ("live", None)
    [change] = report["changes"]
    assert (change["type"], change["id"], change["displayName"], change["change"]) == (
        "users", user["id"], user["displayName"], "modified")
    assert change["attributes"] == [{"path": "jobTitle", "old": user["jobTitle"], "new": "Head of Vibes"}]


def test_diff_between_snapshots_names_nested_attributes_and_members(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    user = next(u for u in admin.users("Sales") if u["onPremisesExtensionAttributes"]["extensionAttribute1"])
    team = admin.group("Sales Team")
    admin.call("PATCH", f"users/{user['id']}",
               json={"onPremisesExtensionAttributes": {"extensionAttribute1": None}})
    admin.call("DELETE", f"groups/{team['id']}/members/{user['id']}/$ref")
    run("snapshot", "--repo", str(repo.root))

    report = _report("--repo", str(repo.root))  # default: the two newest snapshots

    by_id = {c["id"]: c for c in report["changes"]}
    assert by_id[user["id"]]["attributes"][0] == {
        "path": "onPremisesExtensionAttributes.extensionAttribute1",
        "old": user["onPremisesExtensionAttributes"]["extensionAttribute1"], "new": None}
    assert {"relationship": "members", "action": "removed", "id": user["id"],
            "displayName": user["displayName"], "type": "users"} in by_id[team["id"]]["members"]

    table = run("diff", "--repo", str(repo.root)).output
    assert f"members - {user['displayName']} (users/{user['id']})" in table
    assert "onPremisesExtensionAttributes.extensionAttribute1" in table
    assert "(not set)" in table


def test_type_and_id_filters_narrow_the_report(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    first, second = admin.users("HR")[:2]
    for user in (first, second):
        admin.call("PATCH", f"users/{user['id']}", json={"officeLocation": "Basement"})
    admin.call("PATCH", f"groups/{admin.group('HR Team')['id']}", json={"description": "moved"})
    root = str(repo.root)

    assert {c["type"] for c in _report("HEAD", "--live", "--repo", root)["changes"]} == {"users", "groups"}
    assert {c["type"] for c in _report("HEAD", "--live", "--type", "users", "--repo", root)["changes"]} == {"users"}
    only = _report("HEAD", "--live", "--id", second["id"], "--repo", root)["changes"]
    assert [c["id"] for c in only] == [second["id"]]


def test_no_differences_reads_as_such_and_exit_code_is_optional(repo: BackupRepo) -> None:
    run("snapshot", "--repo", str(repo.root))
    assert "No differences." in run("diff", "HEAD", "--live", "--repo", str(repo.root)).output
    assert run("diff", "HEAD", "--live", "--exit-code", "--repo", str(repo.root)).exit_code == 0


def test_reading_only_the_changed_entries_gives_the_rows_a_whole_parse_gives() -> None:
    from entragit import canonical
    from entragit.diff import attribute_changes
    from entragit.diff.entries import Entries
    from entragit.registry import get_type

    # Each type's files are checked against it, so the tricky values go where that type holds text.
    user = {
        "id": "1c7cb6ed-cde5-4848-b19c-905e57e0a1f1", "displayName": "Adele", "accountEnabled": True,
        "jobTitle": "yes", "department": "True", "employeeId": "1.10", "officeLocation": "null",
        "companyName": "O'Brien: north # east", "city": "first\nsecond\n", "givenName": "x " * 3000,
        "surname": "Zoë Ünal", "mail": "238b05b7-2b64-477c-a177-a771af70de70",
        "onPremisesExtensionAttributes": {"extensionAttribute1": "b", "extensionAttribute2": "d"},
        "businessPhones": ["d", "e"], "manager": "238b05b7-2b64-477c-a177-a771af70de70",
    }
    location = {
        "@odata.type": "#microsoft.graph.ipNamedLocation", "id": "1c7cb6ed-cde5-4848-b19c-905e57e0a1f1",
        "displayName": "Head office", "isTrusted": True,
        "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "10.0.0.0/8"}],
    }
    cases = [(get_type("users"), user, variant) for variant in [
        {"accountEnabled": False}, {"jobTitle": "no"}, {"department": "False"}, {"employeeId": "1.1"},
        {"officeLocation": None}, {"companyName": "plain now"}, {"city": "first\nthird\n"},
        {"givenName": "y " * 3000}, {"surname": "Zoe Unal"}, {"mail": "338b05b7-2b64-477c-a177-a771af70de70"},
        {"onPremisesExtensionAttributes": {"extensionAttribute1": "b"}}, {"businessPhones": ["e"]},
        {"manager": None}, {"displayName": "Adele (old)"}, {"usageLocation": "true"},
    ]] + [(get_type("namedLocations"), location, variant) for variant in [
        {"ipRanges": [{"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "fe80::/10"}]},
        {"@odata.type": "#microsoft.graph.countryNamedLocation", "isTrusted": None, "ipRanges": None,
         "countriesAndRegions": ["FR"]},
    ]] + [(get_type("groupLifecyclePolicies"), {"id": "c36e04f1", "groupLifetimeInDays": 12}, {"groupLifetimeInDays": 13})]
    entries = Entries()
    for object_type, base, variant in cases:
        old = canonical.canonical(object_type, base)
        new = canonical.canonical(object_type, {**base, **variant})
        old_bytes, new_bytes = canonical.dump(old), canonical.dump(new)
        old_part, new_part = entries.differing(object_type, old_bytes, new_bytes, "x.yaml", "a", "b")
        assert attribute_changes(old_part, new_part) == attribute_changes(old, new), variant
        assert new_part.get("displayName") == new.get("displayName")


def test_a_hand_edit_that_does_not_parse_is_reported_at_the_line_of_its_file() -> None:
    import pytest

    from entragit.diff.entries import Entries
    from entragit.errors import StoreError
    from entragit.registry import get_type

    old = b"id: x\ndisplayName: Adele\ncity: Paris\njobTitle: Analyst\n"
    new = b"id: x\ndisplayName: Adele\ncity: Paris\njobTitle: [unclosed\n"
    with pytest.raises(StoreError, match=r"^users/x\.yaml:[45] in commit b{12}: not valid YAML"):
        Entries().differing(get_type("users"), old, new, "users/x.yaml", "a" * 40, "b" * 40)


def test_every_member_of_a_large_change_is_named(repo: BackupRepo, admin: Admin) -> None:
    """Enough members and groups change that names are looked up in whole folder listings, not path by path."""
    run("snapshot", "--repo", str(repo.root))
    groups = [g for g in admin.get("groups", **{"$top": "999"})["value"]
              if "DynamicMembership" not in g["groupTypes"] and not g.get("onPremisesSyncEnabled")
              and g["securityEnabled"] and not g["mailEnabled"] and admin.members(g["id"])]
    users = admin.users("Sales") + admin.users("Engineering")
    assert len(groups) > 8 and len(users) > 12
    target = groups[0]
    joined = [u for u in users if u["id"] not in admin.members(target["id"])][:12]
    admin.call("PATCH", f"groups/{target['id']}",
               json={"members@odata.bind": [f"{admin.base}directoryObjects/{u['id']}" for u in joined]})
    left = {}
    for group in groups[1:]:
        member = sorted(admin.members(group["id"]))[0]
        admin.call("DELETE", f"groups/{group['id']}/members/{member}/$ref")
        left[group["id"]] = member
    run("snapshot", "--repo", str(repo.root))

    changes = {c["id"]: c for c in _report("--repo", str(repo.root))["changes"]}

    assert {(m["action"], m["id"]) for m in changes[target["id"]]["members"]} >= {("added", u["id"]) for u in joined}
    for group_id, member_id in left.items():
        assert ("removed", member_id) in {(m["action"], m["id"]) for m in changes[group_id]["members"]}
    unnamed = [m for c in changes.values() for m in c.get("members", []) if not m["displayName"]]
    assert unnamed == []
    names = {u["id"]: u["displayName"] for u in joined}
    assert {m["id"]: m["displayName"] for m in changes[target["id"]]["members"] if m["id"] in names} == names


def test_blob_lookup_finds_exactly_the_files_a_commit_has(tmp_path: Path) -> None:
    """However many paths are asked for (named to git, or searched for in a folder's listing), the answer
    is git's own: the blob of each path the commit has, nothing for the others."""
    from entragit.config import Config
    from entragit.diff.names import blobs_at
    from entragit.store import init_repo

    root = tmp_path / "backup"
    init_repo(root, Config(tenant_id="00000000-0000-0000-0000-000000000001", client_id="test"))
    rng = random.Random(5)
    ids = sorted(str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(3000))
    for folder, chosen in (("users", ids[:2500]), ("groups", ids[2500:])):
        (root / folder).mkdir(exist_ok=True)
        for object_id in chosen:
            (root / folder / f"{object_id}.yaml").write_text(f"id: {object_id}\n")
    git = ["git", "-C", str(root), "-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "files"], check=True)
    repo = BackupRepo(root)
    commit = repo.resolve("HEAD")
    present = [f"users/{i}.yaml" for i in ids[:2500]] + [f"groups/{i}.yaml" for i in ids[2500:]]
    absent = [f"groups/{i}.yaml" for i in ids[:30]] + ["users/0.yaml", "users/zzz.yaml", "users/"]
    truth = dict(zip(present, subprocess.run([*git, "rev-parse", *(f"{commit}:{p}" for p in present)],
                                             capture_output=True, text=True, check=True).stdout.split()))

    for count in (3, 40, 2100, 2600):  # named paths, searched listing, split listing
        asked = rng.sample(present, min(count, len(present))) + absent
        assert blobs_at(repo, commit, asked) == {p: truth[p] for p in asked if p in truth}, count


def test_the_report_cache_answers_the_same_selection_only(tmp_path: Path) -> None:
    """A cached report is served again for the same pair and the same selection, however its parts were
    ordered, and never for another selection."""
    from entragit.config import Config
    from entragit.diffcache import DiffCache
    from entragit.report.model import DiffReport, Side
    from entragit.selection import Selection
    from entragit.store import init_repo

    root = tmp_path / "backup"
    init_repo(root, Config(tenant_id="00000000-0000-0000-0000-000000000001", client_id="test"))
    git = ["git", "-C", str(root), "-c", "user.name=test", "-c", "user.email=test@example.com"]
    for n in (1, 2):
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", f"snapshot {n}"], check=True)
    built: list[Selection] = []

    def ask(selection: Selection) -> None:
        def build() -> DiffReport:
            built.append(selection)
            return DiffReport(Side("a", None), Side("b", None), [])

        DiffCache(BackupRepo(root)).report("HEAD~1", "HEAD", selection, build)

    ask(Selection(types=("users", "groups"), ids=("b", "a"), attributes=("members",)))
    ask(Selection(types=("groups", "users"), ids=("a", "b", "a"), attributes=("members",)))
    assert len(built) == 1
    others = [Selection(types=("users", "groups"), ids=("a",), attributes=("members",)),
              Selection(types=("users", "groups"), ids=("b", "a"), attributes=("members.id",)),
              Selection(types=("users", "groups"), ids=("b", "a"), attributes=("members",), paths=("users/",)),
              Selection()]
    for other in others:
        ask(other)
    assert built[1:] == others


def test_after_git_revert_and_apply_plain_diff_no_longer_shows_the_reverted_drift(
        repo: BackupRepo, admin: Admin) -> None:
    root = str(repo.root)
    run("snapshot", "--repo", root)
    good = repo.resolve("HEAD")
    user = admin.users("Engineering")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Bad bulk edit"})
    run("snapshot", "--repo", root)
    bad = repo.resolve("HEAD")
    assert "Bad bulk edit" in run("diff", "--repo", root, "--no-attribution").output
    _git(repo, "revert", "--no-edit", bad)
    reverted = repo.resolve("HEAD")
    # Before the apply, the tenant against the revert commit is what the apply will undo.
    pending = _report("--live", "--repo", root, "--no-attribution")
    assert pending["from"]["commit"] == reverted
    assert [c["attributes"] for c in pending["changes"]] == [
        [{"path": "jobTitle", "old": user["jobTitle"], "new": "Bad bulk edit"}]]
    run("apply", "--repo", root, "--yes")
    # The tenant is as the revert has it: the next snapshot has nothing to commit.
    run("snapshot", "--repo", root)
    assert repo.resolve("HEAD") == reverted

    table = run("diff", "--repo", root, "--no-attribution").output
    assert "Bad bulk edit" not in table and "No differences" in table
    assert f"{good[:10]}" in table and f"{reverted[:10]}" in table
    assert "snapshot" in table and f"not a snapshot: reverts {bad[:10]}" in table
    report = _report("--repo", root, "--no-attribution")
    assert (report["from"]["commit"], report["from"]["snapshot"], report["from"]["reverts"]) == (good, True, None)
    assert (report["to"]["commit"], report["to"]["snapshot"], report["to"]["reverts"]) == (reverted, False, bad)

    # A change made after the revert is reported against the revert commit, not the undone snapshot.
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed since"})
    run("snapshot", "--repo", root)
    since = _report("--repo", root, "--no-attribution")
    assert (since["from"]["commit"], since["to"]["snapshot"]) == (reverted, True)
    [change] = since["changes"]
    assert change["attributes"] == [{"path": "jobTitle", "old": user["jobTitle"], "new": "Changed since"}]


def test_a_revert_of_the_revert_brings_the_reverted_snapshot_back(repo: BackupRepo, admin: Admin) -> None:
    root = str(repo.root)
    run("snapshot", "--repo", root)
    user = admin.users("Engineering")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Wanted after all"})
    run("snapshot", "--repo", root)
    changed = repo.resolve("HEAD")
    _git(repo, "revert", "--no-edit", changed)
    reverted = repo.resolve("HEAD")
    _git(repo, "revert", "--no-edit", reverted)

    report = _report("--repo", root, "--no-attribution")

    assert (report["from"]["commit"], report["to"]["commit"]) == (changed, repo.resolve("HEAD"))
    assert report["changes"] == [] and report["to"]["reverts"] == reverted
