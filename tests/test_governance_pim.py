"""Governance objects a restore cannot make: PIM role settings and their assignments (Microsoft's, one per
role), and a terms of use agreement (made only with its PDF, which a backup does not keep). The plan says
so, with why, and writes nothing; what it can write (a rule, an access review) test_restore_types.py holds.
"""

from __future__ import annotations

from entragit.graph import GraphClient
from entragit.registry import get_type
from entragit.restore import plan_restore
from entragit.selection import Selection
from entragit.sim import Simulator
from entragit.sim.catalog import BY_NAME
from entragit.store import BackupRepo
from tests.conftest import Admin, run


def _snapshot(repo: BackupRepo, *types: str) -> str:
    run("snapshot", "--repo", str(repo.root), *[arg for t in types for arg in ("--type", t)])
    return repo.resolve("HEAD")


def test_a_deleted_agreement_is_named_as_not_restorable(repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo, "termsOfUse")
    agreement = next(iter(repo.read_objects(good, get_type("termsOfUse")).values()))
    admin.call("DELETE", f"identityGovernance/termsOfUse/agreements/{agreement['id']}")
    plan = plan_restore(repo, client, good, Selection(("termsOfUse",), (agreement["id"],)))
    assert plan.steps == []
    [blocked] = plan.blocked
    assert (blocked.id, blocked.name) == (agreement["id"], agreement["displayName"])
    assert "PDF" in blocked.reason


def test_a_role_setting_gone_from_the_tenant_is_not_made_by_a_restore(repo: BackupRepo, client: GraphClient,
                                                                      sim: Simulator) -> None:
    good = _snapshot(repo, "roleManagementPolicies", "roleManagementPolicyAssignments")
    for type_name in ("roleManagementPolicies", "roleManagementPolicyAssignments"):
        # Only Microsoft removes one (a role it retires): the simulated tenant does it behind Graph's back.
        [object_id, *_] = repo.read_objects(good, get_type(type_name))
        sim.tenant.delete(BY_NAME[type_name], sim.tenant.objects[type_name][object_id])
        plan = plan_restore(repo, client, good, Selection((type_name,), (object_id,)))
        assert plan.steps == []
        [blocked] = plan.blocked
        assert blocked.id == object_id and "Microsoft makes one for every role" in blocked.reason


def test_extra_role_settings_are_never_deleted(repo: BackupRepo) -> None:
    good = _snapshot(repo, "roleManagementPolicies")
    result = run("restore", "--repo", str(repo.root), "--at", good, "--type", "roleManagementPolicies",
                 "--delete-extra", "--yes", ok=False)
    assert "--delete-extra refuses roleManagementPolicies: Microsoft makes one for every role" in result.output
