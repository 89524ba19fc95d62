"""Risk highlights of the application and consent policies, held as tests/test_risk.py holds the rest: three
snapshots of these types only; S0..S1 weakens and must be flagged, S1..S2 holds the near misses (the same
objects changed in ways that do not weaken) and must not.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Admin

from entragit.diff.build import make_report
from entragit.graph import GraphClient
from entragit.report.model import DiffReport
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo

DEFAULT = "policies/defaultAppManagementPolicy"
CONSENT = "policies/permissionGrantPolicies/verified-publishers-low-risk"
TYPES = ("defaultAppManagementPolicy", "permissionGrantPolicies")


def _restriction(kind: str, state: str, lifetime: str | None = None) -> dict[str, Any]:
    return {"restrictionType": kind, "state": state, "maxLifetime": lifetime,
            "restrictForAppsCreatedAfterDateTime": "2021-01-01T10:37:00Z"}


def _weaken(admin: Admin) -> None:
    # The default policy off, one password restriction gone, the key restriction turned off.
    admin.call("PATCH", DEFAULT, json={"isEnabled": False, "applicationRestrictions": {
        "passwordCredentials": [_restriction("passwordLifetime", "enabled", "P90D")],
        "keyCredentials": [_restriction("asymmetricKeyLifetime", "disabled", "P365D")]}})
    # Users may consent to any delegated permission of any app, and Graph's Mail.Read is no longer held back.
    admin.call("POST", f"{CONSENT}/includes", json={"permissionType": "delegated", "permissionClassification": "all"})
    for exclusion in admin.get(f"{CONSENT}/excludes")["value"]:
        admin.call("DELETE", f"{CONSENT}/excludes/{exclusion['id']}")


def _narrow_consent(admin: Admin) -> None:
    """The wide inclusion made narrow again (removed, and one app's low permissions included), one more exclusion."""
    for inclusion in admin.get(f"{CONSENT}/includes")["value"]:
        if inclusion["permissionClassification"] == "all":
            admin.call("DELETE", f"{CONSENT}/includes/{inclusion['id']}")
    admin.call("POST", f"{CONSENT}/includes", json={
        "permissionType": "delegated", "permissionClassification": "low", "clientApplicationsFromVerifiedPublisherOnly": True,
        "clientApplicationIds": ["d3590ed6-52b3-4102-aeff-aad2292ab01c"]})
    admin.call("POST", f"{CONSENT}/excludes", json={"permissionType": "application"})


def _near_misses(admin: Admin) -> None:
    # Back on, a restriction added and one turned back on, a shorter lifetime: all stronger.
    admin.call("PATCH", DEFAULT, json={"isEnabled": True, "description": "reviewed", "applicationRestrictions": {
        "passwordCredentials": [_restriction("passwordLifetime", "enabled", "P30D"),
                                _restriction("passwordAddition", "enabled")],
        "keyCredentials": [_restriction("asymmetricKeyLifetime", "enabled", "P365D")]}})
    _narrow_consent(admin)


def _flags(report: DiffReport, rule: str, object_id: str) -> list[str]:
    return [f.detail for f in report.risks if f.rule == rule and f.id == object_id]


# rule -> (object flagged in S0..S1 and changed harmlessly in S1..S2, words its message holds)
CASES = {
    "app-management-default-disabled": ("defaultAppManagementPolicy", "isEnabled true -> false"),
    "app-management-restriction-removed": ("defaultAppManagementPolicy",
                                           "applicationRestrictions.passwordCredentials lost passwordAddition"),
    "app-management-restriction-disabled": ("defaultAppManagementPolicy", "turned off: asymmetricKeyLifetime"),
    "permission-grant-policy-loosened": ("verified-publishers-low-risk", '"permissionClassification": "all"'),
    "permission-grant-exclusion-removed": ("verified-publishers-low-risk", "00000003-0000-0000-c000-000000000000"),
}


def test_each_rule_flags_the_weakening_and_not_its_near_miss(repo: BackupRepo, client: GraphClient,
                                                              admin: Admin) -> None:
    take_snapshot(repo, TYPES, client=client)
    _weaken(admin)
    take_snapshot(repo, TYPES, client=client)
    _near_misses(admin)
    take_snapshot(repo, TYPES, client=client)
    weakened = make_report(repo, "HEAD~2", "HEAD~1", live=False, attribution=False)
    near_misses = make_report(repo, "HEAD~1", "HEAD", live=False, attribution=False)
    for rule, (object_id, words) in CASES.items():
        assert any(words in d for d in _flags(weakened, rule, object_id)), (rule, weakened.risks)
        assert any(c.id == object_id for c in near_misses.changes), rule
        assert _flags(near_misses, rule, object_id) == [], rule
