"""Objects Graph keeps in a collection under another object (registry/writes.py, SubCollection), through
snapshot, diff, restore and incremental snapshots, on an application's federated identity credentials
(application-list-federatedidentitycredentials, application-post-federatedidentitycredentials,
federatedidentitycredential-update, federatedidentitycredential-delete).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from entragit.canonical import dump, load
from entragit.graph import GraphClient
from entragit.registry import REGISTRY, get_type
from entragit.registry.decisions import rows
from entragit.registry.schema import declared_properties
from entragit.restore import apply_plan, plan_restore
from entragit.selection import Selection
from entragit.sim import Simulator
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo
from tests.conftest import Admin, run

GITHUB = "https://token.actions.githubusercontent.com"
EXCHANGE = ["api://AzureADTokenExchange"]


def _credential(name: str, subject: str) -> dict[str, Any]:
    return {"name": name, "issuer": GITHUB, "subject": subject, "audiences": EXCHANGE, "description": "deploys"}


def _app(admin: Admin) -> dict[str, Any]:
    return admin.get("applications", **{"$filter": "displayName eq 'Expense Portal'"})["value"][0]


def _file(repo: BackupRepo, object_id: str, folder: str = "applications") -> dict[str, Any]:
    return load((repo.root / folder / f"{object_id}.yaml").read_bytes(), folder)


def test_an_apps_federated_credentials_are_kept_in_its_file_diffed_by_name_and_restored(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    app = _app(admin)
    base = f"applications/{app['id']}/federatedIdentityCredentials"
    kept = admin.call("POST", base, json=_credential("deploy", "repo:contoso/app:environment:prod")).json()
    changed = admin.call("POST", base, json=_credential("build", "repo:contoso/app:ref:refs/heads/main")).json()
    take_snapshot(repo, ("applications",))
    good = repo.resolve("HEAD")
    stored = _file(repo, app["id"])["federatedIdentityCredentials"]
    assert [c["name"] for c in stored] == ["build", "deploy"]
    assert stored[1] == {"id": kept["id"], **_credential("deploy", "repo:contoso/app:environment:prod")}

    # An attacker adds their own, removes one and loosens another.
    admin.call("POST", base, json=_credential("backdoor", "repo:evil/x:ref:refs/heads/main"))
    admin.call("DELETE", f"{base}/{kept['id']}")
    admin.call("PATCH", f"{base}/{changed['id']}", json={"subject": "repo:contoso/app:pull_request"})
    report = json.loads(run("diff", "--repo", str(repo.root), "HEAD", "--live", "--type", "applications",
                            "--id", app["id"], "--format", "json", "--no-attribution").output)
    [change] = report["changes"]
    [row] = change["attributes"]
    assert row["path"] == "federatedIdentityCredentials"
    assert sorted(c["name"] for c in row["added"]) == ["backdoor", "build"]
    assert sorted(c["name"] for c in row["removed"]) == ["build", "deploy"]

    plan = plan_restore(repo, client, good, Selection(("applications",), (app["id"],)))
    assert sorted((s.kind, s.method, s.detail) for s in plan.steps) == [
        ("add-item", "POST", "federatedIdentityCredentials deploy"),
        ("patch", "PATCH", None),
        ("remove-item", "DELETE", "federatedIdentityCredentials backdoor"),
    ]
    assert "add federatedIdentityCredentials deploy to applications/" in " ".join(s.describe() for s in plan.steps)
    result = apply_plan(repo, client, plan)
    assert result.failed == [] and result.residue.steps == [] and result.residue.blocked == []
    now = {c["name"]: c for c in admin.get(base)["value"]}
    assert sorted(now) == ["build", "deploy"]
    assert now["build"]["subject"] == "repo:contoso/app:ref:refs/heads/main"


def test_a_name_changed_is_the_credential_made_again_and_attribute_selects_one(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    app = _app(admin)
    base = f"applications/{app['id']}/federatedIdentityCredentials"
    first = admin.call("POST", base, json=_credential("one", "repo:contoso/app:environment:a")).json()
    admin.call("POST", base, json=_credential("two", "repo:contoso/app:environment:b"))
    take_snapshot(repo, ("applications",))
    good = repo.resolve("HEAD")
    admin.call("DELETE", f"{base}/{first['id']}")
    admin.call("POST", base, json=_credential("three", "repo:contoso/app:environment:c"))

    only_one = plan_restore(repo, client, good, Selection(("applications",), (app["id"],),
                                                          ("federatedIdentityCredentials.one",)))
    assert [(s.kind, s.detail) for s in only_one.steps] == [("add-item", "federatedIdentityCredentials one")]
    apply_plan(repo, client, only_one)
    assert sorted(c["name"] for c in admin.get(base)["value"]) == ["one", "three", "two"]


READS = "GET applications/{id}/federatedIdentityCredentials"


@pytest.mark.parametrize("tracked", [False, True])
def test_an_incremental_snapshot_reads_again_only_what_delta_does_not_report(
        tracked: bool, repo: BackupRepo, admin: Admin, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # Whether application delta reports a credential's change the docs do not say: a switch on both sides.
    applications = get_type("applications")
    subs = tuple(replace(s, delta_tracked=tracked) for s in applications.sub_collections)
    monkeypatch.setitem(REGISTRY, "applications", replace(applications, sub_collections=subs))
    sim.settings.delta_reports_children = tracked
    app = _app(admin)
    take_snapshot(repo, ("applications",))
    admin.call("POST", f"applications/{app['id']}/federatedIdentityCredentials",
               json=_credential("late", "repo:contoso/app:environment:late"))
    sim.stats.reset()
    assert take_snapshot(repo, ("applications",)).modes["applications"] == "delta"
    assert [c["name"] for c in _file(repo, app["id"])["federatedIdentityCredentials"]] == ["late"]
    apps = len(admin.get("applications", **{"$top": "999"})["value"])
    per_path = sim.stats.snapshot()["per_path"]
    # Never a request per app: credentials (and owners) are read 15 apps a list call ($expand).
    assert READS not in per_path
    assert per_path["GET applications"] <= 5 < apps


def test_incremental_snapshots_one_after_another_read_only_the_files_whose_items_moved(
        repo: BackupRepo, admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app(admin)
    base = f"applications/{app['id']}/federatedIdentityCredentials"
    take_snapshot(repo, ("applications",))
    files_read: list[str] = []
    read_objects = BackupRepo.read_objects

    def counted(self: BackupRepo, rev: str, object_type: Any, ids: Any = None) -> Any:
        files_read.extend(ids if ids is not None else ["(all)"])
        return read_objects(self, rev, object_type, ids)

    monkeypatch.setattr(BackupRepo, "read_objects", counted)
    added = admin.call("POST", base, json=_credential("first", "repo:contoso/app:environment:one")).json()
    take_snapshot(repo, ("applications",))
    assert [c["name"] for c in _file(repo, app["id"])["federatedIdentityCredentials"]] == ["first"]
    assert files_read == [app["id"]]
    # The digests the incremental read left are those of its own commit's files: the next one trusts them.
    files_read.clear()
    admin.call("DELETE", f"{base}/{added['id']}")
    take_snapshot(repo, ("applications",))
    assert "federatedIdentityCredentials" not in _file(repo, app["id"])
    assert files_read == [app["id"]]


def test_a_credential_taken_out_of_a_file_by_a_commit_is_back_at_the_next_snapshot(
        repo: BackupRepo, admin: Admin) -> None:
    app = _app(admin)
    admin.call("POST", f"applications/{app['id']}/federatedIdentityCredentials",
               json=_credential("deploy", "repo:contoso/app:environment:prod"))
    take_snapshot(repo, ("applications",))
    # A merged pull request takes the credential out of the file; the tenant still has it.
    path = repo.root / "applications" / f"{app['id']}.yaml"
    path.write_bytes(dump({k: v for k, v in _file(repo, app["id"]).items() if k != "federatedIdentityCredentials"}))
    repo.git.git.execute(["git", "-c", "user.name=Reviewer", "-c", "user.email=reviewer@example.com",
                          "commit", "-qam", "Drop the credential from the file"])
    # Neither the delta state nor the digests kept are for this commit: nothing of the commit is trusted.
    take_snapshot(repo, ("applications",))
    assert [c["name"] for c in _file(repo, app["id"])["federatedIdentityCredentials"]] == ["deploy"]


def test_the_items_properties_are_decided_and_shown() -> None:
    found = {name: kind for name, kind, _ in rows(get_type("applications"))}
    assert found["federatedIdentityCredentials.name"] == "kept, set on creation only"
    assert found["federatedIdentityCredentials.id"] == "kept read-only"
    assert found["federatedIdentityCredentials.subject"] == "kept"
    shown = run("types", "--properties", "applications").output
    assert "federatedIdentityCredentials.issuer" in shown


def test_every_kept_item_property_is_one_graph_declares() -> None:
    for object_type in REGISTRY.values():
        for sub in object_type.sub_collections:
            assert sorted(set(sub.keeps) - set(declared_properties(sub.entity))) == [], sub.property
            # A dotted key names a value inside a kept property (an access package role scope's role.originId).
            assert {key.split(".")[0] for key in sub.keys} <= set(sub.keeps), sub.property


GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


def _sp(admin: Admin, app_id: str) -> dict[str, Any]:
    return admin.get("servicePrincipals", **{"$filter": f"appId eq '{app_id}'"})["value"][0]


def test_who_holds_which_app_role_is_kept_with_names_and_restored_by_remove_and_add(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    graph = _sp(admin, GRAPH_APP_ID)
    portal = _sp(admin, _app(admin)["appId"])
    base = f"servicePrincipals/{graph['id']}/appRoleAssignedTo"
    held = admin.get(base)["value"]
    role = next(r for r in graph["appRoles"] if (portal["id"], r["id"]) not in
                {(a["principalId"], a["appRoleId"]) for a in held})
    assert held, "the seeded tenant's apps hold Graph permissions"
    take_snapshot(repo, ("servicePrincipals",))
    good = repo.resolve("HEAD")
    stored = _file(repo, graph["id"], "servicePrincipals")["appRoleAssignedTo"]
    assert {(a["principalId"], a["principalDisplayName"]) for a in stored} == {
        (a["principalId"], a["principalDisplayName"]) for a in held}
    assert all("resourceDisplayName" not in a and "createdDateTime" not in a for a in stored)

    # An attacker gives an app another Graph permission, and drops another app's grant.
    added = admin.call("POST", base, json={"principalId": portal["id"], "resourceId": graph["id"],
                                           "appRoleId": role["id"]}).json()
    dropped = held[0]
    admin.call("DELETE", f"{base}/{dropped['id']}")

    plan = plan_restore(repo, client, good, Selection(("servicePrincipals",), (graph["id"],)))
    assert sorted((s.kind, s.method, s.path.rsplit("/", 1)[-1], s.detail) for s in plan.steps) == sorted([
        ("remove-item", "DELETE", added["id"], f"appRoleAssignedTo {portal['id']}/{role['id']}"),
        ("add-item", "POST", "appRoleAssignedTo", f"appRoleAssignedTo {dropped['principalId']}/{dropped['appRoleId']}"),
    ])
    [add] = [s for s in plan.steps if s.kind == "add-item"]
    assert add.body == {"principalId": dropped["principalId"], "resourceId": graph["id"], "appRoleId": dropped["appRoleId"]}
    result = apply_plan(repo, client, plan)
    assert result.failed == [] and result.residue.steps == [] and result.residue.blocked == []
    now = {(a["principalId"], a["appRoleId"]) for a in admin.get(base)["value"]}
    assert now == {(a["principalId"], a["appRoleId"]) for a in held}


def test_a_credential_restored_under_a_new_id_is_no_difference(repo: BackupRepo, client: GraphClient,
                                                               admin: Admin) -> None:
    app = _app(admin)
    base = f"applications/{app['id']}/federatedIdentityCredentials"
    deleted = admin.call("POST", base, json=_credential("deploy", "repo:contoso/app:environment:prod")).json()
    take_snapshot(repo, ("applications",))
    good = repo.resolve("HEAD")
    admin.call("DELETE", f"{base}/{deleted['id']}")
    result = apply_plan(repo, client, plan_restore(repo, client, good, Selection(("applications",), (app["id"],))))
    assert result.failed == [] and result.residue.steps == [] and result.residue.blocked == []

    # Graph gave the credential made again a new id, which the next snapshot keeps (a delete needs it) ...
    take_snapshot(repo, ("applications",))
    [now] = _file(repo, app["id"])["federatedIdentityCredentials"]
    assert now["id"] != deleted["id"]
    # ... and which is no difference from the good snapshot, in the files or in the tenant.
    root = str(repo.root)
    assert "No differences." in run("diff", "--repo", root, good, "HEAD", "--no-attribution").output
    assert "No differences." in run("diff", "--repo", root, good, "--live", "--type", "applications",
                                    "--id", app["id"], "--no-attribution").output
    assert plan_restore(repo, client, good, Selection(("applications",), (app["id"],))).steps == []


def test_an_app_with_twenty_credentials_is_read_apart_where_the_expansion_stops(
        repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    app = _app(admin)
    base = f"applications/{app['id']}/federatedIdentityCredentials"
    for n in range(20):
        admin.call("POST", base, json=_credential(f"env{n:02}", f"repo:contoso/app:environment:{n}"))
    # Graph's expansion holds 20 items at most, with no link to the rest.
    expanded = admin.get("applications", **{"$filter": f"id in ('{app['id']}')", "$select": "id",
                                            "$expand": "federatedIdentityCredentials"})["value"][0]
    assert len(expanded["federatedIdentityCredentials"]) == 20
    sim.stats.reset()
    take_snapshot(repo, ("applications",))
    assert len(_file(repo, app["id"])["federatedIdentityCredentials"]) == 20
    assert sim.stats.snapshot()["per_path"][READS] == 1


def test_a_resource_whose_role_many_users_hold_is_read_in_pages_of_999(
        repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    portal = _sp(admin, _app(admin)["appId"])
    base = f"servicePrincipals/{portal['id']}/appRoleAssignedTo"
    already = {a["principalId"] for a in admin.get(base)["value"]}
    users = [u for u in admin.get("users", **{"$top": "999", "$select": "id"})["value"] if u["id"] not in already][:120]
    assert len(users) == 120
    for user in users:
        admin.call("POST", base, json={"principalId": user["id"], "resourceId": portal["id"],
                                       "appRoleId": "00000000-0000-0000-0000-000000000000"})
    sim.stats.reset()
    take_snapshot(repo, ("servicePrincipals",))
    stored = {a["principalId"] for a in _file(repo, portal["id"], "servicePrincipals")["appRoleAssignedTo"]}
    assert stored >= {u["id"] for u in users}
    # Each resource whose expansion stops at 20 is read apart, once: in Graph's default pages of 100 the
    # portal's would be two requests, one after the other.
    expanded = admin.get("servicePrincipals", **{"$select": "id", "$expand": "appRoleAssignedTo", "$top": "999"})["value"]
    cut_short = sum(len(sp.get("appRoleAssignedTo", [])) >= 20 for sp in expanded)
    assert sim.stats.snapshot()["per_path"]["GET servicePrincipals/{id}/appRoleAssignedTo"] == cut_short
