"""A type added by a registry entry alone, whose relationship Graph writes through an action.

The toy type reads users' licenses (GET users?$select=assignedLicenses) as a relationship to the license
SKUs and writes them back through POST users/{id}/assignLicense, as Graph documents it
(learn.microsoft.com/graph/api/user-assignlicense): nothing in snapshot, diff or restore knows of it
besides its entry, and the simulator only serves Graph's own action.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from entragit.graph import GraphClient
from entragit.registry import REGISTRY, ObjectType, Relationship, get_type, register
from entragit.registry.writes import Action, Within
from entragit.restore import apply_plan, plan_restore
from entragit.store import BackupRepo
from tests.conftest import Admin, run

TOY = "licensedUsers"
# The two SKUs the simulated tenant subscribes to.
E3, E5 = "05e9a617-0261-4cee-bb44-138d3ef5d965", "06ebc4ee-1bb5-47dd-8120-11324bc54e06"


def _license(sku: str) -> dict[str, Any]:
    return {"skuId": sku, "disabledPlans": []}


@pytest.fixture
def toy() -> Iterator[ObjectType]:
    registered = register(ObjectType(
        name=TOY, singular="licensed user", collection="users", entity="user", odata_types=(),
        select=("id", "displayName"), read_only=frozenset({"id"}), restore_order=get_type("users").restore_order,
        read_permission="User.Read.All", write_permission="User.ReadWrite.All",
        relationships=(Relationship(
            name="licenses", many=True, delta_tracked=True,
            write=Action(action="assignLicense", adds="addLicenses", removes="removeLicenses", added=_license,
                         within=Within("assignedLicenses", "skuId")),
        ),),
    ))
    yield registered
    del REGISTRY[TOY]


def _user_with_one_license(admin: Admin) -> dict[str, Any]:
    users = admin.get("users", **{"$select": "id,displayName,assignedLicenses", "$top": "999"})["value"]
    return next(u for u in users if [lic["skuId"] for lic in u["assignedLicenses"]] == [E3])


def test_an_action_written_relationship_goes_through_snapshot_diff_and_restore(
        toy: ObjectType, repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    user = _user_with_one_license(admin)
    run("snapshot", "--repo", str(repo.root), "--type", TOY)
    good = repo.resolve("HEAD")
    stored = (repo.root / TOY / f"{user['id']}.yaml").read_text()
    assert f"licenses:\n- {E3}\n" in stored and "assignedLicenses" not in stored

    # An admin swaps the user's license behind entragit's back.
    admin.call("POST", f"users/{user['id']}/assignLicense",
               json={"addLicenses": [_license(E5)], "removeLicenses": [E3]})
    report = json.loads(run("diff", "--repo", str(repo.root), "HEAD", "--live", "--type", TOY, "--id", user["id"],
                            "--format", "json", "--no-attribution").output)
    [change] = report["changes"]
    assert sorted((m["action"], m["id"]) for m in change["members"]) == [("added", E5), ("removed", E3)]

    plan = plan_restore(repo, client, good, (TOY,), (user["id"],))
    assert [(s.kind, s.method, s.path, s.body) for s in plan.steps] == [
        ("add-ref", "POST", f"users/{user['id']}/assignLicense", {"addLicenses": [_license(E3)], "removeLicenses": []}),
        ("remove-ref", "POST", f"users/{user['id']}/assignLicense", {"addLicenses": [], "removeLicenses": [E5]}),
    ]
    result = apply_plan(repo, client, plan)
    assert result.failed == [] and result.residue.steps == [] and result.residue.blocked == []
    now = admin.get(f"users/{user['id']}", **{"$select": "assignedLicenses"})["assignedLicenses"]
    assert [lic["skuId"] for lic in now] == [E3]
