"""Objects Graph keeps in a collection under another object (registry/writes.py, SubCollection), through
snapshot, diff, restore and incremental snapshots, on an application's federated identity credentials
(application-list-federatedidentitycredentials, application-post-federatedidentitycredentials,
federatedidentitycredential-update, federatedidentitycredential-delete).
"""

from __future__ import annotations

import json
from typing import Any

from entragit.canonical import load
from entragit.graph import GraphClient
from entragit.registry import get_type
from entragit.registry.decisions import rows
from entragit.restore import apply_plan, plan_restore
from entragit.selection import Selection
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo
from tests.conftest import Admin, run

GITHUB = "https://token.actions.githubusercontent.com"
EXCHANGE = ["api://AzureADTokenExchange"]


def _credential(name: str, subject: str) -> dict[str, Any]:
    return {"name": name, "issuer": GITHUB, "subject": subject, "audiences": EXCHANGE, "description": "deploys"}


def _app(admin: Admin) -> dict[str, Any]:
    return admin.get("applications", **{"$filter": "displayName eq 'Expense Portal'"})["value"][0]


def _file(repo: BackupRepo, app_id: str) -> dict[str, Any]:
    return load((repo.root / "applications" / f"{app_id}.yaml").read_bytes(), "app")


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


def test_an_incremental_snapshot_reads_every_apps_credentials_again(repo: BackupRepo, admin: Admin) -> None:
    app = _app(admin)
    take_snapshot(repo, ("applications",))
    admin.call("POST", f"applications/{app['id']}/federatedIdentityCredentials",
               json=_credential("late", "repo:contoso/app:environment:late"))
    result = take_snapshot(repo, ("applications",))
    assert result.modes["applications"] == "delta"
    assert [c["name"] for c in _file(repo, app["id"])["federatedIdentityCredentials"]] == ["late"]


def test_the_items_properties_are_decided_and_shown() -> None:
    found = {name: kind for name, kind, _ in rows(get_type("applications"))}
    assert found["federatedIdentityCredentials.name"] == "kept, set on creation only"
    assert found["federatedIdentityCredentials.id"] == "kept read-only"
    assert found["federatedIdentityCredentials.subject"] == "kept"
    shown = run("types", "--properties", "applications").output
    assert "federatedIdentityCredentials.issuer" in shown


def test_every_kept_item_property_is_one_graph_declares() -> None:
    from entragit.registry import REGISTRY
    from entragit.registry.schema import declared_properties
    for object_type in REGISTRY.values():
        for sub in object_type.sub_collections:
            assert sorted(set(sub.keeps) - set(declared_properties(sub.entity))) == [], sub.property
            assert set(sub.keys) <= set(sub.keeps), sub.property
