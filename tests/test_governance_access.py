"""Identity governance of access beyond the round trip: entitlement management's objects naming each other
by id, a policy Graph changes only whole (PUT), what an app cannot write said in the plan, and a tenant
without the licence lifecycle workflows need.
"""

from __future__ import annotations

from typing import Any

from entragit.registry import get_type
from entragit.sim import Simulator
from entragit.sim.catalog import BY_NAME
from entragit.store import BackupRepo
from tests.conftest import Admin, run

EM = "identityGovernance/entitlementManagement"
LCW = "identityGovernance/lifecycleWorkflows"


def _good(repo: BackupRepo) -> tuple[str, str]:
    """The repository's folder, and the snapshot taken before anyone changes the tenant."""
    run("snapshot", "--repo", str(repo.root))
    return str(repo.root), repo.resolve("HEAD")


def _named(repo: BackupRepo, type_name: str, name: str, at: str = "HEAD") -> dict[str, Any]:
    objects = repo.read_objects(repo.resolve(at), get_type(type_name))
    return next(o for o in objects.values() if o.get("displayName") == name)


def test_a_policy_changed_whole_is_put_back_whole(repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    root, good = _good(repo)
    policy = _named(repo, "accessPackagePolicies", "Marketing staff")
    # Graph's update is a PUT of the whole policy: what it leaves out (the approval stages) is gone.
    admin.call("PUT", f"{EM}/assignmentPolicies/{policy['id']}",
               json={"displayName": "Marketing staff", "allowedTargetScope": "allDirectoryUsers",
                     "expiration": {"type": "noExpiration"}, "accessPackage": {"id": policy["accessPackage"]}})
    run("snapshot", "--repo", root)
    loosened = _named(repo, "accessPackagePolicies", "Marketing staff")
    assert loosened["allowedTargetScope"] == "allDirectoryUsers" and "requestApprovalSettings" not in loosened

    sim.stats.reset()
    run("restore", "--repo", root, "--at", good, "--type", "accessPackagePolicies", "--yes")
    assert sim.stats.snapshot()["per_path"].get(f"PUT {EM}/assignmentPolicies/{{id}}") == 1
    assert run("diff", good, "--live", "--type", "accessPackagePolicies", "--exit-code",
               "--repo", root).exit_code == 0


def test_a_package_made_again_names_its_catalog_made_again(repo: BackupRepo, admin: Admin) -> None:
    root, good = _good(repo)
    catalog = _named(repo, "accessPackageCatalogs", "Marketing resources")
    package = _named(repo, "accessPackages", "Marketing campaign tools")
    assert package["catalog"] == catalog["id"]
    admin.call("DELETE", f"{EM}/accessPackages/{package['id']}")
    admin.call("DELETE", f"{EM}/catalogs/{catalog['id']}")

    run("restore", "--repo", root, "--at", good, "--type", "accessPackageCatalogs", "--type", "accessPackages",
        "--yes")
    run("snapshot", "--repo", root)
    new_catalog = _named(repo, "accessPackageCatalogs", "Marketing resources")
    new_package = _named(repo, "accessPackages", "Marketing campaign tools")
    assert new_catalog["id"] != catalog["id"] and new_package["id"] != package["id"]
    assert new_package["catalog"] == new_catalog["id"]
    # Its resources came back through resource requests naming the new catalog.
    assert _origins(new_catalog) == _origins(catalog) and len(_origins(catalog)) == 2


def _origins(catalog: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["originSystem"], r["originId"]) for r in catalog.get("resources", [])]


def test_a_catalogs_resources_are_put_back_by_resource_requests(repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    root, good = _good(repo)
    catalog = _named(repo, "accessPackageCatalogs", "Marketing resources")
    kept, gone = catalog["resources"]
    extra = next(g for g in sim.tenant.sorted_objects(BY_NAME["groups"]) if g["displayName"] == "Finance Team")
    admin.call("POST", f"{EM}/resourceRequests", json={"requestType": "adminRemove", "resource": {"id": gone["id"]},
                                                       "catalog": {"id": catalog["id"]}})
    admin.call("POST", f"{EM}/resourceRequests", json={
        "requestType": "adminAdd", "resource": {"originSystem": "AadGroup", "originId": extra["id"]},
        "catalog": {"id": catalog["id"]}})
    run("snapshot", "--repo", root)
    changed = _named(repo, "accessPackageCatalogs", "Marketing resources")
    assert (gone["originSystem"], gone["originId"]) not in _origins(changed)
    assert ("AadGroup", extra["id"]) in _origins(changed)

    plan = run("restore", "--repo", root, "--at", good, "--id", str(catalog["id"]), "--plan").output
    assert "Finance Team" in plan or extra["id"] in plan
    sim.stats.reset()
    run("restore", "--repo", root, "--at", good, "--id", str(catalog["id"]), "--yes")
    assert sim.stats.snapshot()["per_path"].get(f"POST {EM}/resourceRequests") == 2
    run("snapshot", "--repo", root)
    assert _origins(_named(repo, "accessPackageCatalogs", "Marketing resources")) == _origins(catalog)
    assert (kept["originSystem"], kept["originId"]) in _origins(catalog)


def test_a_role_scope_a_package_lost_is_put_back_and_one_it_gained_removed(
        repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    root, good = _good(repo)
    package = _named(repo, "accessPackages", "Marketing campaign tools")
    [member] = package["resourceRoleScopes"]
    group = member["scope"]["originId"]
    # Kept by what it grants: the catalog's ids of the role and the scope are left out.
    assert member["role"] == {"displayName": "Member", "originId": f"Member_{group}", "originSystem": "AadGroup"}
    at = f"{EM}/accessPackages/{package['id']}/resourceRoleScopes"
    admin.call("DELETE", f"{at}/{member['id']}")
    admin.call("POST", at, json={"role": {"originSystem": "AadGroup", "originId": f"Owner_{group}", "displayName": "Owner"},
                                 "scope": {"originSystem": "AadGroup", "originId": group}})
    run("snapshot", "--repo", root)
    [owner] = _named(repo, "accessPackages", "Marketing campaign tools")["resourceRoleScopes"]
    assert owner["role"]["originId"] == f"Owner_{group}"

    plan = run("restore", "--repo", root, "--at", good, "--id", str(package["id"]), "--plan").output
    assert f"Member_{group}" in plan and f"Owner_{group}" in plan
    sim.stats.reset()
    run("restore", "--repo", root, "--at", good, "--id", str(package["id"]), "--yes")
    writes = sorted(p.split("/")[-1] for p, n in sim.stats.snapshot()["per_path"].items()
                    if "resourceRoleScopes" in p and not p.startswith("GET") for _ in range(n))
    assert writes == sorted(["resourceRoleScopes", owner["id"]])
    run("snapshot", "--repo", root)
    assert _named(repo, "accessPackages", "Marketing campaign tools") == package


def test_a_package_in_another_catalog_is_not_moved_back(repo: BackupRepo, sim: Simulator) -> None:
    root, good = _good(repo)
    package = _named(repo, "accessPackages", "Marketing campaign tools")
    other = _named(repo, "accessPackageCatalogs", "Contractors")
    # An admin in the portal moved it (moveToCatalog takes a signed-in user, never an app).
    with sim.tenant.lock:
        sim.tenant.objects["accessPackages"][str(package["id"])]["catalog"] = {"id": other["id"]}

    plan = run("restore", "--repo", root, "--at", good, "--id", str(package["id"]), "--plan").output
    assert "catalog" in plan and "set only when the access package is made" in plan


def test_what_an_app_cannot_write_is_said_not_sent(repo: BackupRepo, sim: Simulator) -> None:
    root, good = _good(repo)
    extension = _named(repo, "customTaskExtensions", "Tell the HR system")
    user = Admin(sim, as_user=sim.tenant.sorted_objects(BY_NAME["users"])[0]["userPrincipalName"])
    user.call("PATCH", f"{LCW}/customTaskExtensions/{extension['id']}", json={"description": "Changed"})

    plan = run("restore", "--repo", root, "--at", good, "--type", "customTaskExtensions", "--plan").output
    assert "description: read-only (Graph changes it only for a signed-in user with a role on its Logic App, never " \
           "for an app)" in plan


def test_a_tenant_without_the_licence_has_its_workflows_recorded_unavailable(repo: BackupRepo,
                                                                              sim: Simulator) -> None:
    root, _ = _good(repo)
    before = _files(repo, "lifecycleWorkflows")
    assert len(before) == 2
    sim.settings.governance_licensed = False

    # Exit 0: no permission the user could grant would change it (a refused one fails the run).
    result = run("snapshot", "--repo", root, "--type", "lifecycleWorkflows", "--type", "customTaskExtensions")
    assert "lifecycleWorkflows: not available, the tenant lacks the licence it needs (NoLicense" in result.output
    assert "No changes since the last snapshot" in result.output
    assert _files(repo, "lifecycleWorkflows") == before, "the files stay as the last snapshot had them"


def _files(repo: BackupRepo, type_name: str) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in (repo.root / type_name).iterdir()}


def test_a_purged_workflow_is_made_again_with_its_tasks(repo: BackupRepo, admin: Admin) -> None:
    root, good = _good(repo)
    workflow = _named(repo, "lifecycleWorkflows", "Onboard new hires")
    tasks = workflow["tasks"]
    first = tasks[0]
    admin.call("PATCH", f"{LCW}/workflows/{workflow['id']}/tasks/{first['id']}", json={"description": "Changed"})
    run("snapshot", "--repo", root)
    assert _named(repo, "lifecycleWorkflows", "Onboard new hires")["tasks"][0]["description"] == "Changed"
    run("restore", "--repo", root, "--at", good, "--id", str(workflow["id"]), "--yes")
    run("snapshot", "--repo", root)
    assert _named(repo, "lifecycleWorkflows", "Onboard new hires")["tasks"] == tasks

    # Gone from the recycle bin too: made again, its tasks in the request that makes it.
    admin.call("DELETE", f"{LCW}/workflows/{workflow['id']}")
    admin.call("DELETE", f"{LCW}/deletedItems/workflows/{workflow['id']}")
    run("restore", "--repo", root, "--at", good, "--id", str(workflow["id"]), "--yes")
    run("snapshot", "--repo", root)
    again = _named(repo, "lifecycleWorkflows", "Onboard new hires")
    assert again["id"] != workflow["id"]
    without_ids = [{k: v for k, v in task.items() if k != "id"} for task in tasks]
    assert [{k: v for k, v in task.items() if k != "id"} for task in again["tasks"]] == without_ids
    assert {k: v for k, v in again.items() if k not in ("id", "tasks")} == \
           {k: v for k, v in workflow.items() if k not in ("id", "tasks")}


def test_a_task_changed_beyond_its_name_is_not_restorable_in_place(repo: BackupRepo, sim: Simulator) -> None:
    root, good = _good(repo)
    workflow = _named(repo, "lifecycleWorkflows", "Offboard leavers")
    # A new version of the workflow turned its first task off (createNewVersion).
    with sim.tenant.lock:
        sim.tenant.objects["lifecycleWorkflows"][str(workflow["id"])]["tasks"][0]["isEnabled"] = False
    plan = run("restore", "--repo", root, "--at", good, "--id", str(workflow["id"]), "--plan").output
    assert "tasks: 1" in plan and "changed only by a new version of the workflow" in plan
