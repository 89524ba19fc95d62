"""Round trips of the properties kept since the registry decided every declared one: an admin changes them
through Graph, the next snapshot and its report show each change, a restore writes them back, and a
snapshot after it matches the good one. Several properties per test, one object per type."""

from __future__ import annotations

from typing import Any

from entragit.canonical import Obj
from entragit.diff.build import diff_revisions, make_report
from entragit.graph import GraphClient
from entragit.restore import apply_plan, plan_restore
from entragit.selection import Selection
from entragit.store import BackupRepo
from tests.conftest import Admin, run


def _snapshot(repo: BackupRepo, *types: str) -> str:
    run("snapshot", "--repo", str(repo.root), *[arg for t in types for arg in ("--type", t)])
    return repo.resolve("HEAD")


def _pick(repo: BackupRepo, type_name: str, wanted: Any) -> Obj:
    from entragit.registry import get_type

    return next(obj for obj in repo.read_objects("HEAD", get_type(type_name)).values() if wanted(obj))


def _round_trip(repo: BackupRepo, client: GraphClient, admin: Admin, type_name: str, obj: Obj,
                change: dict[str, Any], path: str | None = None) -> tuple[str, set[str]]:
    """Change obj through Graph, snapshot: the report's rows; restore it, snapshot: no difference left.
    Returns the bad snapshot's commit and the changed paths' top-level names."""
    good = repo.resolve("HEAD")
    admin.call("PATCH", f"{path or type_name}/{obj['id']}", json=change)
    bad = _snapshot(repo, type_name)
    [changed] = diff_revisions(repo, good, bad, Selection((type_name,), (obj["id"],))).changes
    shown = {row.path.split(".")[0] for row in changed.attributes}
    plan = plan_restore(repo, client, good, Selection(ids=(obj["id"],)))
    result = apply_plan(repo, client, plan)
    assert [(s.describe(), str(e)) for s, e in result.failed] == []
    assert result.residue.steps == [] and result.residue.blocked == []
    assert diff_revisions(repo, good, _snapshot(repo, type_name), Selection((type_name,), (obj["id"],))).empty
    return bad, shown


_USER_CHANGE = {
    "ageGroup": "Adult", "consentProvidedForMinor": "NotRequired", "employeeHireDate": "2020-02-03T00:00:00Z",
    "employeeLeaveDateTime": "2030-01-31T00:00:00Z", "employeeOrgData": {"division": "Elsewhere", "costCenter": "CC-0"},
    "employeeType": "Contractor", "faxNumber": "+1 555 0100", "otherMails": ["someone@example.org"],
    "passwordPolicies": "DisablePasswordExpiration, DisableStrongPassword", "postalCode": "00000",
    "preferredDataLocation": "EUR", "state": "Nowhere", "streetAddress": "1 Changed Road",
    "authorizationInfo": {"certificateUserIds": ["X509:<PN>someone@example.org"]}, "deviceEnrollmentLimit": 1000,
}


def test_a_users_new_properties_come_back(repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    _snapshot(repo, "users")
    user = _pick(repo, "users", lambda u: u.get("streetAddress") and not u.get("onPremisesSyncEnabled"))
    bad, shown = _round_trip(repo, client, admin, "users", user, _USER_CHANGE)
    assert shown == set(_USER_CHANGE)
    report = make_report(repo, "HEAD~2", bad, live=False, attribution=False)
    assert [(f.rule, f.id) for f in report.risks] == [("password-policy-weakened", user["id"])]


def test_a_groups_new_properties_come_back(repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    _snapshot(repo, "groups")
    group = _pick(repo, "groups", lambda g: "Unified" in g.get("groupTypes", []) and g.get("preferredLanguage"))
    change = {"preferredDataLocation": "EUR", "preferredLanguage": "fr-FR", "theme": "Orange",
              "onPremisesExtensionAttributes": {"extensionAttribute3": "changed"}}
    _, shown = _round_trip(repo, client, admin, "groups", group, change)
    assert shown == set(change)


def test_an_applications_claims_lock_and_settings_come_back_whole(repo: BackupRepo, client: GraphClient,
                                                                  admin: Admin) -> None:
    _snapshot(repo, "applications")
    app = _pick(repo, "applications", lambda a: a.get("optionalClaims") and a.get("groupMembershipClaims"))
    change = {
        # One token type's claims left, another's dropped: Graph replaces optionalClaims whole.
        "optionalClaims": {"idToken": [{"name": "upn", "essential": True}]}, "groupMembershipClaims": "All",
        "servicePrincipalLockConfiguration": {"isEnabled": False}, "isDisabled": True,
        "isDeviceOnlyAuthSupported": True, "serviceManagementReference": "SR-CHANGED",
        "nativeAuthenticationApisEnabled": "all", "defaultRedirectUri": "https://changed.example.com/cb",
        "addIns": [{"id": "4fd4ab7a-8a0f-4d9b-9a42-1b6ff1b3f5a1", "type": "FileHandler",
                    "properties": [{"key": "version", "value": "2"}]}],
        "info": {"supportUrl": "https://changed.example.com/help"}, "samlMetadataUrl": "https://changed.example.com/m",
        "isFallbackPublicClient": True, "oauth2RequirePostResponse": True,
        "parentalControlSettings": {"legalAgeGroupRule": "BlockMinors"},
        "authenticationBehaviors": {"removeUnverifiedEmailClaim": True},
        "requestSignatureVerification": {"isSignedRequestRequired": True, "allowedWeakAlgorithms": "rsaSha1"},
    }
    good = repo.resolve("HEAD")
    bad, shown = _round_trip(repo, client, admin, "applications", app, change)
    assert shown == set(change)
    report = make_report(repo, good, bad, live=False, attribution=False)
    assert {f.rule for f in report.risks} == {"token-claims-changed", "service-principal-lock-loosened"}


def test_the_optional_claims_go_back_whole_in_one_write(repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    _snapshot(repo, "applications")
    app = _pick(repo, "applications", lambda a: len(a.get("optionalClaims", {})) > 1)
    admin.call("PATCH", f"applications/{app['id']}", json={"optionalClaims": {"idToken": []}})
    plan = plan_restore(repo, client, "HEAD", Selection(ids=(app["id"],)))
    [step] = plan.steps
    assert step.body["optionalClaims"] == app["optionalClaims"]


def test_a_saml_apps_sign_in_comes_back_with_its_mode(repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    _snapshot(repo, "servicePrincipals")
    sp = _pick(repo, "servicePrincipals", lambda s: s.get("preferredSingleSignOnMode") == "saml")
    change = {"preferredSingleSignOnMode": "password", "samlSingleSignOnSettings": None,
              "replyUrls": [*sp.get("replyUrls", []), "https://collector.example.net/callback"],
              "loginUrl": "https://changed.example.com/login", "logoutUrl": "https://changed.example.com/logout",
              "homepage": "https://changed.example.com", "notificationEmailAddresses": ["someone@example.org"],
              "alternativeNames": ["changed"], "preferredTokenSigningKeyThumbprint": "00" * 20}
    good = repo.resolve("HEAD")
    bad, shown = _round_trip(repo, client, admin, "servicePrincipals", sp, change)
    assert shown == set(change)
    report = make_report(repo, good, bad, live=False, attribution=False)
    assert {f.rule for f in report.risks} == {"reply-url-added", "saml-sign-in-changed"}


def test_restoring_only_the_saml_settings_sends_the_mode_they_need(repo: BackupRepo, client: GraphClient,
                                                                  admin: Admin) -> None:
    _snapshot(repo, "servicePrincipals")
    sp = _pick(repo, "servicePrincipals", lambda s: s.get("preferredSingleSignOnMode") == "saml")
    admin.call("PATCH", f"servicePrincipals/{sp['id']}",
               json={"preferredSingleSignOnMode": "password", "samlSingleSignOnSettings": None})
    plan = plan_restore(repo, client, "HEAD", Selection(ids=(sp["id"],), attributes=("samlSingleSignOnSettings",)))
    [step] = plan.steps
    assert step.body == {"samlSingleSignOnSettings": sp["samlSingleSignOnSettings"], "preferredSingleSignOnMode": "saml"}
    result = apply_plan(repo, client, plan)
    assert result.failed == [] and result.residue.steps == []
    assert admin.get(f"servicePrincipals/{sp['id']}", **{"$select": "samlSingleSignOnSettings"})[
        "samlSingleSignOnSettings"] == sp["samlSingleSignOnSettings"]
