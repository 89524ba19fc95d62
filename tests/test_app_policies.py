"""A permission grant policy's condition sets (permissiongrantpolicy-post-includes, -delete-includes, and the
same for excludes): kept in the policy's file, known by their conditions, put back by a restore, and left
alone where the policy is one of Microsoft's.
"""

from __future__ import annotations

from typing import Any

from entragit.canonical import load
from entragit.graph import GraphClient
from entragit.restore import apply_plan, plan_restore
from entragit.selection import Selection
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo
from tests.conftest import Admin, run

POLICY = "verified-publishers-low-risk"
BASE = f"policies/permissionGrantPolicies/{POLICY}"
WIDE_OPEN = {"permissionType": "delegated", "clientApplicationIds": ["all"]}


def _file(repo: BackupRepo, policy_id: str) -> dict[str, Any]:
    return load((repo.root / "permissionGrantPolicies" / f"{policy_id}.yaml").read_bytes(), "policy")


def _without_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "id"} for item in items]


def test_condition_sets_are_kept_and_a_restore_puts_them_back(repo: BackupRepo, client: GraphClient,
                                                              admin: Admin) -> None:
    take_snapshot(repo, ("permissionGrantPolicies",))
    good = repo.resolve("HEAD")
    kept = _file(repo, POLICY)
    assert [s["permissionClassification"] for s in kept["includes"]] == ["low"]
    assert kept["excludes"][0]["resourceApplication"] == "00000003-0000-0000-c000-000000000000"

    # Loosened: everything delegated included, and the exclusion dropped.
    admin.call("POST", f"{BASE}/includes", json=WIDE_OPEN)
    admin.call("DELETE", f"{BASE}/excludes/{kept['excludes'][0]['id']}")
    plan = plan_restore(repo, client, good, Selection(("permissionGrantPolicies",), (POLICY,)))
    assert sorted((s.kind, s.method) for s in plan.steps) == [("add-item", "POST"), ("remove-item", "DELETE")]
    result = apply_plan(repo, client, plan)
    assert result.failed == [] and result.residue.steps == [] and result.residue.blocked == []

    take_snapshot(repo, ("permissionGrantPolicies",))
    now = _file(repo, POLICY)
    assert now["includes"] == kept["includes"]
    # The exclusion is back as it was, under the new id Graph gives a condition set made again.
    assert _without_ids(now["excludes"]) == _without_ids(kept["excludes"])
    assert now["excludes"][0]["id"] != kept["excludes"][0]["id"]
    # That new id is no difference: diff of the good snapshot, against the new one and against the tenant,
    # shows none, and a restore from it finds nothing left to do.
    root = str(repo.root)
    assert "No differences." in run("diff", "--repo", root, good, "HEAD", "--no-attribution").output
    assert "No differences." in run("diff", "--repo", root, good, "--live", "--type", "permissionGrantPolicies",
                                    "--no-attribution").output
    again = plan_restore(repo, client, good, Selection(("permissionGrantPolicies",), (POLICY,)))
    assert again.steps == [] and again.blocked == []


def test_a_built_in_policy_is_kept_but_graph_refuses_to_change_it(repo: BackupRepo, admin: Admin) -> None:
    take_snapshot(repo, ("permissionGrantPolicies",))
    built_in = _file(repo, "microsoft-user-default-low")
    assert built_in["includes"][0]["clientApplicationsFromVerifiedPublisherOnly"] is True
    refused = admin.session.patch(admin.base + "policies/permissionGrantPolicies/microsoft-user-default-low",
                                  json={"description": "mine now"})
    assert refused.status_code == 400
    refused = admin.session.post(admin.base + "policies/permissionGrantPolicies/microsoft-user-default-low/includes",
                                 json=WIDE_OPEN)
    assert refused.status_code == 400


def test_the_apps_a_policy_applies_to_are_kept_and_written_at_each_app(repo: BackupRepo, client: GraphClient,
                                                                       admin: Admin) -> None:
    policy = admin.get("policies/appManagementPolicies")["value"][0]
    take_snapshot(repo, ("appManagementPolicies",))
    good = repo.resolve("HEAD")
    kept = load((repo.root / "appManagementPolicies" / f"{policy['id']}.yaml").read_bytes(), "policy")["appliesTo"]
    app = admin.get("applications", **{"$filter": "displayName eq 'Backup Agent'"})["value"][0]
    assert app["id"] in kept and len(kept) == 2

    # The app freed from its policy, another app put under it.
    other = admin.get("applications", **{"$filter": "displayName eq 'Travel Booking'"})["value"][0]
    admin.call("DELETE", f"applications/{app['id']}/appManagementPolicies/{policy['id']}/$ref")
    admin.call("POST", f"applications/{other['id']}/appManagementPolicies/$ref",
               json={"@odata.id": f"{admin.base}policies/appManagementPolicies/{policy['id']}"})
    plan = plan_restore(repo, client, good, Selection(("appManagementPolicies",), (policy["id"],)))
    assert sorted((s.method, s.path) for s in plan.steps) == [
        ("DELETE", f"applications/{other['id']}/appManagementPolicies/{policy['id']}/$ref"),
        ("POST", f"applications/{app['id']}/appManagementPolicies/$ref"),
    ]
    result = apply_plan(repo, client, plan)
    assert result.failed == [] and result.residue.steps == [] and result.residue.blocked == []
    now = admin.get(f"policies/appManagementPolicies/{policy['id']}/appliesTo")["value"]
    assert sorted(o["id"] for o in now) == sorted(kept)
