"""A restore puts back one changed condition of a Conditional Access policy whatever Graph does with the
keys a PATCH of `conditions` leaves out: merges them into the policy or drops them (the simulator's
nested_patch switch; conditionalaccesspolicy-update shows a partial update without settling which).

The admin's change is the documented request: `conditions` with signInRiskLevels alone.
"""

from __future__ import annotations

import pytest

from entragit.graph import GraphClient
from entragit.registry import get_type
from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin
from tests.test_restore_types import _assert_as_in, _restore, _snapshot

POLICY = "Require MFA for all users"


@pytest.mark.parametrize("mode", ["merge", "replace"])
def test_restore_of_one_changed_condition(mode: str, sim: Simulator, repo: BackupRepo, client: GraphClient,
                                          admin: Admin) -> None:
    sim.settings.nested_patch = mode
    good = _snapshot(repo)
    object_type = get_type("conditionalAccessPolicies")
    policy_id = next(i for i, o in repo.read_objects(good, object_type).items() if o.get("displayName") == POLICY)
    before = admin.get(f"identity/conditionalAccess/policies/{policy_id}")["conditions"]
    assert before["signInRiskLevels"] == [] and before["users"]["includeUsers"]

    admin.call("PATCH", f"identity/conditionalAccess/policies/{policy_id}",
               json={"conditions": {"signInRiskLevels": ["high", "medium", "low"]}})
    after = admin.get(f"identity/conditionalAccess/policies/{policy_id}")["conditions"]
    assert after["signInRiskLevels"] == ["high", "medium", "low"]
    # The mode shows: merged, the other conditions stay; replaced, they are gone.
    assert (after.get("users") == before["users"]) is (mode == "merge")

    _snapshot(repo, "conditionalAccessPolicies")
    _restore(repo, client, good, (policy_id,))
    _assert_as_in(repo, good, "conditionalAccessPolicies", policy_id)
    assert not admin.get(f"identity/conditionalAccess/policies/{policy_id}")["conditions"].get("signInRiskLevels")
