"""Types added by a registry entry alone, whose relationships are not written as `$ref` links.

One toy type reads users' licenses (GET users?$select=assignedLicenses) as a relationship to the license
SKUs and writes them back through POST users/{id}/assignLicense (learn.microsoft.com/graph/api/
user-assignlicense); another reads who is assigned to a service principal (appRoleAssignedTo) and writes
those links as objects of their own (serviceprincipal-post-approleassignedto). Nothing in snapshot, diff or
restore knows of them besides their entries, and the simulator only serves Graph's own endpoints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from entragit.graph import GraphClient
from entragit.registry import REGISTRY, ObjectType, Relationship, get_type, register
from entragit.registry.writes import Action, SubResource, Within
from entragit.restore import apply_plan, plan_restore
from entragit.selection import Selection
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo
from tests.conftest import Admin, run

TOY = "licensedUsers"
# The two SKUs the simulated tenant subscribes to.
E3, E5 = "05e9a617-0261-4cee-bb44-138d3ef5d965", "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
ASSIGNEES = "appAssignees"
# The app role Graph takes for "assigned, without a role" (approleassignment: appRoleId).
DEFAULT_ROLE = "00000000-0000-0000-0000-000000000000"


def _license(sku: str) -> dict[str, Any]:
    return {"skuId": sku, "disabledPlans": []}


def _assignment(resource_id: str, principal_id: str) -> dict[str, Any]:
    return {"principalId": principal_id, "resourceId": resource_id, "appRoleId": DEFAULT_ROLE}


@contextmanager
def _registered(object_type: ObjectType) -> Iterator[ObjectType]:
    register(object_type)
    try:
        yield object_type
    finally:
        del REGISTRY[object_type.name]


def _licensed_users(delta: bool = False) -> ObjectType:
    return ObjectType(
        name=TOY, singular="licensed user", collection="users", entity="user", odata_types=(),
        select=("id", "displayName"), read_only=frozenset({"id"}), restore_order=get_type("users").restore_order,
        read_permission="User.Read.All", write_permission="User.ReadWrite.All", delta=delta,
        relationships=(Relationship(
            name="licenses", many=True, delta_tracked=True,
            write=Action(action="assignLicense", adds="addLicenses", removes="removeLicenses", added=_license,
                         within=Within("assignedLicenses", "skuId")),
        ),),
    )


@pytest.fixture
def toy() -> Iterator[ObjectType]:
    with _registered(_licensed_users()) as registered:
        yield registered


@pytest.fixture
def assignees() -> Iterator[ObjectType]:
    with _registered(ObjectType(
        name=ASSIGNEES, singular="assigned app", collection="servicePrincipals", entity="servicePrincipal",
        odata_types=(), select=("id", "displayName"), read_only=frozenset({"id"}),
        restore_order=get_type("servicePrincipals").restore_order,
        read_permission="Application.Read.All", write_permission="AppRoleAssignment.ReadWrite.All",
        relationships=(Relationship(
            name="assignedUsers", many=True, member_types=("users",),
            write=SubResource(collection="appRoleAssignedTo", key="principalId", made=_assignment),
        ),),
    )) as registered:
        yield registered


def _diff_members(repo: BackupRepo, type_name: str, object_id: str) -> list[tuple[str, str]]:
    report = json.loads(run("diff", "--repo", str(repo.root), "HEAD", "--live", "--type", type_name, "--id", object_id,
                            "--format", "json", "--no-attribution").output)
    [change] = report["changes"]
    return sorted((m["action"], m["id"]) for m in change["members"])


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
    assert _diff_members(repo, TOY, user["id"]) == [("added", E5), ("removed", E3)]

    plan = plan_restore(repo, client, good, Selection(types=(TOY,), ids=(user["id"],)))
    assert [(s.kind, s.method, s.path, s.body) for s in plan.steps] == [
        ("add-ref", "POST", f"users/{user['id']}/assignLicense", {"addLicenses": [_license(E3)], "removeLicenses": []}),
        ("remove-ref", "POST", f"users/{user['id']}/assignLicense", {"addLicenses": [], "removeLicenses": [E5]}),
    ]
    result = apply_plan(repo, client, plan)
    assert result.failed == [] and result.residue.steps == [] and result.residue.blocked == []
    now = admin.get(f"users/{user['id']}", **{"$select": "assignedLicenses"})["assignedLicenses"]
    assert [lic["skuId"] for lic in now] == [E3]


def test_an_incremental_snapshot_reads_links_kept_in_the_objects_body(repo: BackupRepo, admin: Admin) -> None:
    with _registered(_licensed_users(delta=True)):
        user = _user_with_one_license(admin)
        take_snapshot(repo, (TOY,))
        admin.call("POST", f"users/{user['id']}/assignLicense",
                   json={"addLicenses": [_license(E5)], "removeLicenses": [E3]})
        assert take_snapshot(repo, (TOY,)).modes[TOY] == "delta"
        assert f"licenses:\n- {E5}\n" in (repo.root / TOY / f"{user['id']}.yaml").read_text()


def test_links_made_as_objects_of_their_own_go_through_snapshot_diff_and_restore(
        assignees: ObjectType, repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    app = admin.get("servicePrincipals", **{"$filter": "displayName eq 'Expense Portal'"})["value"][0]
    base = f"servicePrincipals/{app['id']}/appRoleAssignedTo"
    held = {a["principalId"] for a in admin.get(base)["value"]}
    kept, dropped = [u["id"] for u in admin.get("users", **{"$top": "50", "$select": "id"})["value"]
                     if u["id"] not in held][:2]
    admin.call("POST", base, json=_assignment(app["id"], kept))
    run("snapshot", "--repo", str(repo.root), "--type", ASSIGNEES)
    good = repo.resolve("HEAD")
    assert kept in (repo.root / ASSIGNEES / f"{app['id']}.yaml").read_text()

    # An admin takes one user's assignment away and gives another user one.
    [gone] = admin.get(base, **{"$filter": f"principalId eq '{kept}'"})["value"]
    admin.call("DELETE", f"{base}/{gone['id']}")
    added = admin.call("POST", base, json=_assignment(app["id"], dropped)).json()
    assert _diff_members(repo, ASSIGNEES, app["id"]) == sorted([("added", dropped), ("removed", kept)])

    plan = plan_restore(repo, client, good, Selection(types=(ASSIGNEES,), ids=(app["id"],)))
    assert [(s.kind, s.method, s.path, s.body) for s in plan.steps] == [
        ("add-ref", "POST", base, _assignment(app["id"], kept)),
        ("remove-ref", "DELETE", f"{base}/{added['id']}", None),
    ]
    result = apply_plan(repo, client, plan)
    assert result.failed == [] and result.residue.steps == [] and result.residue.blocked == []
    now = {a["principalId"] for a in admin.get(base)["value"]}
    assert kept in now and dropped not in now
