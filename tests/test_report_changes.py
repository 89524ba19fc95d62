"""Every kind of change, computed from real snapshots of the simulated tenant, and the diff options.

One story for the module: three snapshots, ten days, three days and zero days old (their commit times
are set), with an admin changing the tenant in between.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from entragit.config import Config
from entragit.sim import Simulator
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo, init_repo
from tests.conftest import Admin, run, write_sim_info


@dataclass
class Story:
    sim: Simulator
    admin: Admin
    root: str
    times: list[datetime]
    commits: list[str]
    elena: dict[str, Any]
    """jobTitle changed, department cleared, extensionAttribute3 set, manager set."""
    boss: dict[str, Any]
    nadia: dict[str, Any]
    """Deleted before the second snapshot, restored from the recycle bin before the third."""
    newcomer: dict[str, Any]
    """Added to the HR team."""
    leaver: dict[str, Any]
    """Removed from the HR team."""
    created: dict[str, Any]
    team: dict[str, Any]
    policy: dict[str, Any]
    servicenow: dict[str, Any]
    """A cloud security group, deleted: it goes to the recycle bin."""
    assignment: dict[str, Any]
    """A role assignment, deleted: no recycle bin for those."""


def _ref(sim: Simulator, object_id: str) -> dict[str, str]:
    return {"@odata.id": f"{sim.graph_url}/v1.0/directoryObjects/{object_id}"}


def _snapshot(repo: BackupRepo, when: datetime) -> str:
    os.environ["GIT_COMMITTER_DATE"] = os.environ["GIT_AUTHOR_DATE"] = when.isoformat()
    try:
        result = take_snapshot(repo)
    finally:
        del os.environ["GIT_COMMITTER_DATE"], os.environ["GIT_AUTHOR_DATE"]
    assert result.commit is not None
    return result.commit


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    folder = tmp_path_factory.mktemp("story")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(folder))
        env.setenv("GIT_CONFIG_NOSYSTEM", "1")
        env.setenv("GIT_CONFIG_GLOBAL", str(folder / ".gitconfig"))
        with Simulator(seed=42, size="small", state_dir=str(folder / "sim")) as sim:
            info = write_sim_info(sim, folder / "sim.json")
            repo = init_repo(folder / "backup", Config(tenant_id=sim.tenant_id, client_id=sim.client_id,
                                                       simulator=str(info)))
            admin = Admin(sim)
            now = datetime.now(timezone.utc).replace(microsecond=0)
            times = [now - timedelta(days=10), now - timedelta(days=3), now]
            hr = admin.get("users", **{"$filter": "department eq 'HR'", "$top": "999"})["value"]
            elena, nadia, leaver = hr[:3]
            newcomer = admin.get("users", **{"$filter": "department eq 'Finance'"})["value"][0]
            elena = admin.get(f"users/{elena['id']}", **{"$select": "id,displayName,jobTitle,onPremisesExtensionAttributes",
                                                          "$expand": "manager($select=id)"})
            boss = next(u for u in hr[3:] if u["id"] != (elena.get("manager") or {}).get("id"))
            team = admin.group("HR Team")
            servicenow = admin.group("Operations - ServiceNow Users")
            policy = next(p for p in admin.get("identity/conditionalAccess/policies")["value"]
                          if p["displayName"] == "Require MFA for all users")
            assignment = admin.get("roleManagement/directory/roleAssignments")["value"][0]
            assert newcomer["id"] not in admin.members(team["id"]) and leaver["id"] in admin.members(team["id"])
            commits = [_snapshot(repo, times[0])]

            admin.call("PATCH", f"users/{elena['id']}", json={
                "jobTitle": "Head of People", "department": None,
                "onPremisesExtensionAttributes": {"extensionAttribute3": "cost-centre-7"}})
            admin.call("PUT", f"users/{elena['id']}/manager/$ref", json=_ref(sim, boss["id"]))
            admin.call("POST", f"groups/{team['id']}/members/$ref", json=_ref(sim, newcomer["id"]))
            admin.call("DELETE", f"groups/{team['id']}/members/{leaver['id']}/$ref")
            users = dict(policy["conditions"]["users"], excludeUsers=[elena["id"]])
            admin.call("PATCH", f"identity/conditionalAccess/policies/{policy['id']}",
                       json={"conditions": dict(policy["conditions"], users=users)})
            admin.call("DELETE", f"users/{nadia['id']}")
            admin.call("DELETE", f"groups/{servicenow['id']}")
            admin.call("DELETE", f"roleManagement/directory/roleAssignments/{assignment['id']}")
            created = admin.call("POST", "users", json={
                "accountEnabled": True, "displayName": "Quinn Newhire", "mailNickname": "quinn",
                "userPrincipalName": f"quinn@{sim.tenant.domain}", "department": "HR",
                "passwordProfile": {"password": "Correct-Horse-9", "forceChangePasswordNextSignIn": True}}).json()
            commits.append(_snapshot(repo, times[1]))

            admin.call("POST", f"directory/deletedItems/{nadia['id']}/restore")
            admin.call("PATCH", f"users/{nadia['id']}", json={"officeLocation": "Back again"})
            commits.append(_snapshot(repo, times[2]))
            yield Story(sim, admin, str(repo.root), times, commits, elena, boss, nadia, newcomer, leaver, created,
                        team, policy, servicenow, assignment)


def _json(story: Story, *args: str) -> dict[str, Any]:
    return json.loads(run("diff", "--repo", story.root, "--format", "json", *args).output)  # type: ignore[no-any-return]


def _change(report: dict[str, Any], object_id: str) -> dict[str, Any]:
    [found] = [c for c in report["changes"] if c["id"] == object_id]
    return found


def _rows(change: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {a["path"]: (a["old"], a["new"]) for a in change["attributes"]}


def test_attribute_set_cleared_nested_and_reference_with_names(story: Story) -> None:
    report = _json(story, story.commits[0], story.commits[1])

    elena = _change(report, story.elena["id"])
    assert elena["change"] == "modified"
    assert _rows(elena) == {
        "jobTitle": (story.elena["jobTitle"], "Head of People"),
        "department": ("HR", None),
        "onPremisesExtensionAttributes.extensionAttribute3": (
            story.elena["onPremisesExtensionAttributes"]["extensionAttribute3"], "cost-centre-7"),
        "manager": ((story.elena.get("manager") or {}).get("id"), story.boss["id"]),
    }
    assert report["names"][story.boss["id"]] == {"type": "users", "displayName": story.boss["displayName"]}


def test_list_item_added_to_a_policy_is_shown_with_the_user_name(story: Story) -> None:
    report = _json(story, story.commits[0], story.commits[1])

    policy = _change(report, story.policy["id"])
    assert _rows(policy) == {"conditions.users.excludeUsers": (None, [story.elena["id"]])}
    table = run("diff", story.commits[0], story.commits[1], "--repo", story.root, "--type",
                "conditionalAccessPolicies").output
    # The element added, named, on a line of its own: not the whole list before and after.
    assert (f'conditions.users.excludeUsers\n      + {story.elena["displayName"]} ({story.elena["id"]})\n'
            in table)
    assert _change(report, story.policy["id"])["attributes"][0]["added"] == [story.elena["id"]]
    assert "\x1b[" not in table  # colour only on a terminal


def test_membership_added_and_removed(story: Story) -> None:
    report = _json(story, story.commits[0], story.commits[1])

    members = _change(report, story.team["id"])["members"]
    assert {"relationship": "members", "action": "added", "id": story.newcomer["id"],
            "displayName": story.newcomer["displayName"], "type": "users"} in members
    assert {"relationship": "members", "action": "removed", "id": story.leaver["id"],
            "displayName": story.leaver["displayName"], "type": "users"} in members


def test_created_and_deleted_objects_are_rows_of_their_own_with_their_recycle_bin(story: Story) -> None:
    report = _json(story, story.commits[0], story.commits[1])

    created = _change(report, story.created["id"])
    assert (created["change"], created["displayName"]) == ("added", "Quinn Newhire")
    assert _rows(created)["department"] == (None, "HR")

    until = (story.times[1] + timedelta(days=30)).date().isoformat()
    for deleted in (story.nadia, story.servicenow):
        change = _change(report, deleted["id"])
        assert change["change"] == "removed"
        assert change["recycleBin"] == {"inRecycleBin": True, "restorableUntil": until, "observed": False,
                                        "note": f"deletion recorded by the snapshot of {story.times[1].date()}"}
    assignment = _change(report, story.assignment["id"])
    assert assignment["recycleBin"]["inRecycleBin"] is False
    assert assignment["recycleBin"]["note"] == "deleted permanently: roleAssignments have no recycle bin"

    table = run("diff", story.commits[0], story.commits[1], "--repo", story.root).output
    assert (f"removed: in the recycle bin until ~{until} (30 days after the deletion recorded by the snapshot "
            f"of {story.times[1].date()}), unless purged earlier") in table


def test_an_object_back_with_the_same_id_is_restored_and_compared_with_its_state_when_deleted(story: Story) -> None:
    report = _json(story, story.commits[1], story.commits[2])

    nadia = _change(report, story.nadia["id"])
    assert nadia["change"] == "restored"
    assert nadia["deletedAt"] == story.times[1].isoformat()
    assert _rows(nadia) == {"officeLocation": (story.nadia.get("officeLocation"), "Back again")}
    assert report["summary"]["restored"] == 1
    table = run("diff", story.commits[1], story.commits[2], "--repo", story.root).output
    assert f"^ users/{story.nadia['id']}  {story.nadia['displayName']}  (restored)" in table


def test_since_and_at_choose_the_snapshot_in_force_then(story: Story) -> None:
    assert _json(story, "--since", "7d")["from"]["commit"] == story.commits[0]
    assert _json(story, "--since", "7d")["to"]["commit"] == story.commits[2]
    assert _json(story, "--since", "49h")["from"]["commit"] == story.commits[1]
    between = (story.times[1] + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert _json(story, "--at", between)["from"]["commit"] == story.commits[1]
    assert _json(story, "--at", story.times[0].isoformat())["from"]["commit"] == story.commits[0]


def test_bad_times_and_times_before_the_first_snapshot_are_one_clear_error(story: Story) -> None:
    for args, message in (
        (("--since", "7x"), "error: --since '7x': expected a number of hours, days or weeks, such as 12h, 7d or 2w"),
        (("--at", "last tuesday"), "error: --at 'last tuesday': expected a date such as 2026-11-20"),
        (("--since", "3w"), "before the first snapshot"),
        (("--at", "2001-01-01"), "error: --at 2001-01-01 is 2001-01-01T00:00+00:00, before the first snapshot"),
        (("--since", "1d", "--at", "2001-01-01"), "error: --since and --at both name the older side"),
        (("HEAD~1", "--since", "1d"), "error: --since/--at choose the older snapshot"),
    ):
        result = run("diff", "--repo", story.root, *args, ok=False)
        assert result.exit_code == 1, args
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_attribute_filter_keeps_rows_at_and_under_each_path(story: Story) -> None:
    report = _json(story, story.commits[0], story.commits[1], "--attribute", "onPremisesExtensionAttributes",
                   "--attribute", "conditions.users")

    assert {c["id"] for c in report["changes"]} >= {story.elena["id"], story.policy["id"]}
    assert _rows(_change(report, story.elena["id"])) == {"onPremisesExtensionAttributes.extensionAttribute3": (
        story.elena["onPremisesExtensionAttributes"]["extensionAttribute3"], "cost-centre-7")}
    assert story.team["id"] not in {c["id"] for c in report["changes"]}

    members = _json(story, story.commits[0], story.commits[1], "--attribute", "members")
    team = _change(members, story.team["id"])
    assert team["attributes"] == [] and len(team["members"]) >= 2
    assert story.elena["id"] not in {c["id"] for c in members["changes"]}


def test_summary_exit_code_and_output_file(story: Story, tmp_path: Path) -> None:
    summary = run("diff", story.commits[0], story.commits[1], "--repo", story.root, "--summary").output
    # Counts, and the risk highlights (they belong in any summary), but no per-object rows.
    assert "TYPE" in summary and "ADDED" in summary and "Risk highlights" in summary
    assert "extensionAttribute3" not in summary and "cost-centre-7" not in summary

    assert run("diff", story.commits[0], story.commits[1], "--repo", story.root, "--exit-code",
               ok=False).exit_code == 2
    assert run("diff", story.commits[1], story.commits[1], "--repo", story.root, "--exit-code").exit_code == 0

    page = tmp_path / "drift.md"
    result = run("diff", story.commits[0], story.commits[1], "--repo", story.root, "--format", "markdown",
                 "-o", str(page))
    assert result.output.strip() == f"Wrote {page}."
    text = page.read_text()
    assert text.startswith("### entragit: differences from") and "| Type | Added | Removed | Modified | Restored |" in text
    assert f"<b>{story.elena['displayName']}</b>" in text


def test_a_second_report_on_the_same_pair_is_served_from_the_cache(story: Story, tmp_path: Path) -> None:
    copy = tmp_path / "backup"
    shutil.copytree(story.root, copy)
    first = run("diff", story.commits[0], story.commits[1], "--repo", str(copy), "--format", "json").output
    assert list((copy / ".git" / "entragit" / "diff-cache").glob("*.json"))

    # Take away a file the report was built from: only a report that reads no blob can still be made.
    blob = BackupRepo(copy).git.git.rev_parse(f"{story.commits[1]}:users/{story.elena['id']}.yaml")
    (copy / ".git" / "objects" / blob[:2] / blob[2:]).unlink()

    assert run("diff", story.commits[0], story.commits[1], "--repo", str(copy), "--format", "json").output == first
    narrowed = run("diff", story.commits[0], story.commits[1], "--repo", str(copy), "--format", "json",
                   "--attribute", "jobTitle", ok=False)
    assert narrowed.exit_code == 1  # another question: not in the cache, and built afresh it misses the file
    assert f"error: blob {blob} is missing" in narrowed.output


def test_live_diff_reads_the_recycle_bin(story: Story) -> None:
    gone = story.leaver
    story.admin.call("DELETE", f"users/{gone['id']}")
    purged = story.created
    story.admin.call("DELETE", f"users/{purged['id']}")
    story.admin.call("DELETE", f"directory/deletedItems/{purged['id']}")

    report = _json(story, "HEAD", "--live", "--type", "users")

    deleted_on = datetime.now(timezone.utc).date()
    assert _change(report, gone["id"])["recycleBin"] == {
        "inRecycleBin": True, "restorableUntil": (deleted_on + timedelta(days=30)).isoformat(), "observed": True,
        "note": f"deleted {deleted_on.isoformat()}"}
    assert _change(report, purged["id"])["recycleBin"] == {
        "inRecycleBin": False, "restorableUntil": None, "observed": True,
        "note": "not in the recycle bin: deleted permanently or purged"}
    table = run("diff", "HEAD", "--live", "--type", "users", "--repo", story.root).output
    assert f"removed: in the recycle bin until {(deleted_on + timedelta(days=30)).isoformat()}" in table
