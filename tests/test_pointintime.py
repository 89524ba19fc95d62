"""Point in time from the directory audit log (`diff --at-time`): a simulated stretch of a day of changes to
users, groups and Conditional Access policies, snapshots of the truth taken every few simulated minutes on a
side branch, and the state rebuilt from the first snapshot and the log equals each of them, except for what
it lists as unknown; and what the log cannot say is listed, never guessed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.conftest import Admin, run

from entragit.graph import GraphClient
from entragit.errors import EntragitError
from entragit.pointintime import reconstruct, report_at_time, restore_point
from entragit.selection import Selection
from entragit.sim import Simulator
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo

TYPES = ("users", "groups", "conditionalAccessPolicies")
POLICIES = "identity/conditionalAccess/policies"


def _snapshot(repo: BackupRepo, client: GraphClient, sim: Simulator, monkeypatch: pytest.MonkeyPatch,
              branch: str | None = None, types: tuple[str, ...] = TYPES) -> tuple[str, datetime]:
    """A snapshot of the types, committed at the tenant's (simulated) time; its commit and that time."""
    monkeypatch.setenv("GIT_COMMITTER_DATE", sim.clock.utcnow().isoformat())
    commit = take_snapshot(repo, types, client=client, full=True, branch=branch).commit
    assert commit is not None
    return commit, sim.clock.utcnow()


def _step(admin: Admin, sim: Simulator, step: int, users: list[dict[str, Any]], groups: list[dict[str, Any]],
          policies: list[dict[str, Any]], spare: dict[str, Any]) -> None:
    """Half an hour of an admin's work: properties, memberships, managers and policies changed again and
    again, a group made, another deleted and later restored from the recycle bin."""
    user, group, policy = users[step % len(users)], groups[step % 3], policies[step % len(policies)]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": f"Title {step}", "department": f"Dept {step % 3}",
                                                     "businessPhones": [f"+1 555 01{step:02d}"]})
    admin.call("PATCH", f"groups/{group['id']}", json={"description": f"Changed at step {step}"})
    member = users[(step + 1) % len(users)]["id"]
    if member in admin.members(group["id"]):
        admin.call("DELETE", f"groups/{group['id']}/members/{member}/$ref")
    else:
        admin.call("POST", f"groups/{group['id']}/members/$ref",
                   json={"@odata.id": f"{sim.graph_url}/v1.0/directoryObjects/{member}"})
    managed = users[0]["id"]
    if step % 10 == 5:
        admin.call("PUT", f"users/{managed}/manager/$ref", json={"@odata.id": f"{sim.graph_url}/v1.0/users/{users[step // 10 + 1]['id']}"})
    elif step % 10 == 0:
        admin.call("DELETE", f"users/{managed}/manager/$ref")
    admin.call("PATCH", f"{POLICIES}/{policy['id']}", json={
        "displayName": f"{policy['displayName'].split(' @')[0]} @{step}",
        "state": "disabled" if step % 2 else "enabledForReportingButNotEnforced"})
    if step == 4:
        created = admin.call("POST", "groups", json={"displayName": "Made at step 4", "mailEnabled": False,
                                                     "mailNickname": "step4", "securityEnabled": True}).json()
        groups.append(created)
    if step == 7:
        admin.call("PATCH", f"users/{user['id']}", json={"usageLocation": "FR"})
    if step == 10:
        admin.call("DELETE", f"groups/{spare['id']}")
    if step == 20:
        admin.call("POST", f"directory/deletedItems/{spare['id']}/restore", json={})


def test_the_state_at_any_snapshot_minute_equals_that_snapshot_except_what_is_unknown(
        sim: Simulator, repo: BackupRepo, client: GraphClient, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = Admin(sim)
    users = admin.get("users", **{"$top": "6", "$select": "id,displayName"})["value"]
    groups = [g for g in admin.get("groups", **{"$top": "30"})["value"]
              if not g.get("membershipRule") and "Unified" not in g["groupTypes"]][:4]
    spare = groups.pop()
    policies = admin.get(POLICIES)["value"][:2]
    _, start = _snapshot(repo, client, sim, monkeypatch)
    truths: list[tuple[str, datetime]] = []
    for step in range(1, 49):  # a day, half an hour a step
        sim.clock.advance(1800)
        admin = Admin(sim)  # its token lasts an hour of the tenant's clock
        _step(admin, sim, step, users, groups, policies, spare)
        if step % 8 == 0 or step in (4, 11):
            truths.append(_snapshot(repo, client, sim, monkeypatch, branch=f"truth-{step}"))
    now = sim.clock.utcnow() + timedelta(minutes=10)
    selection = Selection(types=TYPES)

    for truth, moment in truths:
        report = report_at_time(repo, moment.isoformat(), truth, live=False, selection=selection,
                                now=now, attribution=False)
        assert report.empty, [(c.type, c.id, c.attributes, c.members) for c in report.changes]
        assert report.reconstructed is not None
        # Only what the log cannot say: a user's usage location (and the whole of the user whose only change,
        # at minute 7, was its usage location: that record carries no values), the members the directory
        # computes, and what the creation of the group at minute 4 did not record.
        reasons = {(u.type, u.why.split(" at ")[0] if "carries no values" in u.why else u.why.split(" ")[0])
                   for u in report.reconstructed.unknown}
        assert reasons <= {("users", "the"), ("groups", "the"), ("groups", "created"), ("users", "Update user")}, (
            report.reconstructed.unknown)
        assert all(u.paths == ("usageLocation",) for u in report.reconstructed.unknown if u.why.startswith("the audit"))

    # Before the first snapshot and its changes, the state is that snapshot's; the day changed every type.
    first = run("diff", "--repo", str(repo.root), "--at-time", (start - timedelta(minutes=30)).isoformat(),
                truths[-1][0], "--format", "json", "--no-attribution", *[a for t in TYPES for a in ("--type", t)])
    changed = json.loads(first.output)
    assert {c["type"] for c in changed["changes"]} == set(TYPES)
    rows = [a for c in changed["changes"] for a in c["attributes"]]
    assert rows and not any(a.get("reconstructed") for a in rows)  # the older side is the snapshot itself there

    middle = report_at_time(repo, truths[1][1].isoformat(), truths[-1][0], live=False, selection=selection, now=now,
                            attribution=False)
    marked = [a for c in middle.changes for a in c.attributes if a.reconstructed]
    assert marked and any(c.type == "conditionalAccessPolicies" for c in middle.changes)


def test_what_the_log_cannot_say_is_unknown_never_guessed(sim: Simulator, repo: BackupRepo, client: GraphClient,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    admin = Admin(sim)
    user = admin.get("users", **{"$top": "1"})["value"][0]
    policy = admin.get(POLICIES)["value"][0]
    _snapshot(repo, client, sim, monkeypatch, types=(*TYPES, "authorizationPolicy"))
    sim.clock.advance(300)
    sim.settings.audit_value_limit = 60  # any whole policy is longer: cut, no longer JSON
    admin.call("PATCH", f"{POLICIES}/{policy['id']}", json={"displayName": "Cut short"})
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Known", "usageLocation": "NL"})
    admin.call("PATCH", "policies/authorizationPolicy", json={"allowInvitesFrom": "none"})
    moment = sim.clock.utcnow()

    result = reconstruct(repo, client, moment, Selection(types=TYPES), now=moment + timedelta(minutes=10))
    assert result.notes == []  # the authorization policy's record is of a type not asked for
    policies = reconstruct(repo, client, moment, Selection(types=("authorizationPolicy",)),
                           now=moment + timedelta(minutes=10))
    [(_, rebuilt)] = policies.objects["authorizationPolicy"].items()
    assert rebuilt["allowInvitesFrom"] == "none"

    assert result.objects["users"][user["id"]]["jobTitle"] == "Known"
    unknown = {(u.type, u.id): u for u in result.unknown}
    assert unknown[("users", user["id"])].paths == ("usageLocation",)
    assert unknown[("conditionalAccessPolicies", policy["id"])].paths == ()  # its whole state
    assert "cut short" in unknown[("conditionalAccessPolicies", policy["id"])].why
    text = run("diff", "--repo", str(repo.root), "--at-time", moment.isoformat(), "--live", "--no-attribution",
               "--type", "conditionalAccessPolicies", "--type", "users").output
    assert f"unknown: conditionalAccessPolicies/{policy['id']}" in text and "its whole state" in text
    assert "Cut short" not in text  # the policy's rows are left out, not shown as a guess


def test_before_the_first_snapshot_the_log_is_replayed_backwards(sim: Simulator, repo: BackupRepo,
                                                                 client: GraphClient,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    admin = Admin(sim)
    user = admin.get("users", **{"$top": "1", "$select": "id,jobTitle"})["value"][0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Before"})
    sim.clock.advance(120)
    moment = sim.clock.utcnow()
    sim.clock.advance(120)
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "After"})
    sim.clock.advance(1200)
    _snapshot(repo, client, sim, monkeypatch)

    result = reconstruct(repo, client, moment, Selection(types=("users",)), now=sim.clock.utcnow())

    assert not result.forwards
    assert result.objects["users"][user["id"]]["jobTitle"] == "Before"
    assert "jobTitle" in result.reconstructed[("users", user["id"])]


def test_without_auditlog_read_all_one_clear_error(sim: Simulator, repo: BackupRepo, client: GraphClient,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _snapshot(repo, client, sim, monkeypatch)
    sim.settings.audit_log_read = False
    result = run("diff", "--repo", str(repo.root), "--at-time", sim.clock.utcnow().isoformat(), ok=False)
    [line] = result.output.strip().splitlines()
    assert result.exit_code == 1 and line.startswith("error: --at-time reads the directory audit log, which needs "
                                                     "AuditLog.Read.All: the app lacks it")


def test_restore_at_a_time_writes_what_the_log_says_and_leaves_the_unknown_as_it_is_live(
        sim: Simulator, repo: BackupRepo, client: GraphClient, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = Admin(sim)
    user = admin.get("users", **{"$top": "1", "$select": "id,displayName"})["value"][0]
    _snapshot(repo, client, sim, monkeypatch)
    head = repo.resolve("HEAD")
    sim.clock.advance(300)
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Good", "usageLocation": "NL"})
    sim.clock.advance(300)
    moment = sim.clock.utcnow()
    sim.clock.advance(300)
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Bad", "usageLocation": "FR"})
    args = ("restore", "--repo", str(repo.root), "--at-time", moment.isoformat(), "--id", user["id"])

    plan = run(*args, "--plan").output
    assert "Good" in plan and "jobTitle" in plan
    assert "left as it is live" in plan and "usageLocation" in plan

    run(*args, "--yes")
    live = admin.get(f"users/{user['id']}", **{"$select": "jobTitle,usageLocation"})
    assert (live["jobTitle"], live["usageLocation"]) == ("Good", "FR")  # the unknown one never written
    refs = repo.git.git.for_each_ref("--format=%(refname)", "refs/entragit/at/").split()
    assert len(refs) == 1 and repo.resolve("HEAD") == head  # on a side ref, never on the branch
    assert repo.git.git.rev_parse(f"{refs[0]}^") == head  # the snapshot it was rebuilt from is its parent


def test_a_gap_in_the_log_is_said_and_refuses_a_restore(sim: Simulator, repo: BackupRepo, client: GraphClient,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    admin = Admin(sim)
    user = admin.get("users", **{"$top": "1"})["value"][0]
    sim.settings.audit_retention_days = 7  # no P1/P2 licence
    _snapshot(repo, client, sim, monkeypatch)
    sim.clock.advance(600)
    Admin(sim).call("PATCH", f"users/{user['id']}", json={"jobTitle": "Forgotten"})
    moment = sim.clock.utcnow()
    sim.clock.advance(8 * 86400)  # the change's record is gone by now

    result = reconstruct(repo, client, moment, Selection(types=("users",)), now=sim.clock.utcnow())
    assert any("the audit log holds nothing from" in note for note in result.notes)
    # (The command line's clock is the machine's, days behind the simulated tenant's here.)
    with pytest.raises(EntragitError, match="nothing planned: the audit log holds nothing from"):
        restore_point(repo, client, moment.isoformat(), Selection(ids=(user["id"],)), now=sim.clock.utcnow())


def _record(activity: str, *targets: dict[str, Any]) -> dict[str, Any]:
    return {"activityDisplayName": activity, "activityDateTime": "2099-01-09T21:20:02.7215374Z", "result": "success",
            "targetResources": list(targets)}


def test_records_in_other_shapes_than_the_simulator_s_are_read_as_entra_writes_them() -> None:
    from entragit.pointintime import _Replay
    from entragit.registry import REGISTRY

    group, user = "ef7e527d-6c92-4234-8c6d-cf6fdfb57f95", "1f0e98f5-3161-4c6b-9b50-d488572f2bb7"
    replay = _Replay([REGISTRY["groups"], REGISTRY["users"]],
                     {"groups": {group: {"id": group, "displayName": "Example.com"}},
                      "users": {user: {"id": user, "displayName": "Example", "accountEnabled": True}}}, True)
    # Microsoft's example on the Get directoryAudit page: the group named first, the member second.
    replay.apply(_record("Add member to group",
                         {"id": group, "type": "Group", "modifiedProperties": [
                             {"displayName": "Action Client Name", "oldValue": None, "newValue": "DirectorySync"}]},
                         {"id": user, "type": "User", "modifiedProperties": []}))
    # An activity on a user that is no creation, deletion or update of it: its values are applied...
    replay.apply(_record("Disable account", {"id": user, "type": "User", "modifiedProperties": [
        {"displayName": "AccountEnabled", "oldValue": "[true]", "newValue": "[false]"}]}))
    objects, unknown = replay.result()
    assert objects["groups"][group]["members"] == [user]
    assert objects["users"][user]["accountEnabled"] is False
    assert [(u.id, u.paths) for u in unknown] == [(user, ("usageLocation",))]  # never in a record
    # ...and one that carries none leaves the user's state unknown, not gone.
    replay.apply(_record("Add app role assignment to user", {"id": user, "type": "User", "modifiedProperties": []}))
    objects, unknown = replay.result()
    assert user in objects["users"] and [(u.id, u.paths) for u in unknown] == [(user, ())]


def test_a_creation_the_snapshot_already_holds_keeps_what_the_snapshot_knows() -> None:
    from entragit.pointintime import _Replay
    from entragit.registry import REGISTRY

    group = "ef7e527d-6c92-4234-8c6d-cf6fdfb57f95"
    replay = _Replay([REGISTRY["groups"]], {"groups": {group: {
        "id": group, "displayName": "Made", "description": "described", "securityEnabled": True}}}, True)
    # Made a few minutes before the snapshot's commit, while it read the tenant: in the replay's window.
    replay.apply(_record("Add group", {"id": group, "type": "Group", "modifiedProperties": [
        {"displayName": "DisplayName", "oldValue": "[]", "newValue": '["Made"]'}]}))
    objects, unknown = replay.result()
    assert objects["groups"][group]["description"] == "described" and unknown == []
