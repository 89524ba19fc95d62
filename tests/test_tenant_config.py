"""Tenant and sign-in configuration: each authentication method's configuration in a file of its own, and
what a repository written before that change reads as."""

from __future__ import annotations

import hashlib

from entragit.canonical import dump
from entragit.graph import GraphClient
from entragit.registry import get_type
from entragit.restore import apply_plan, plan_restore
from entragit.restore.model import Plan
from entragit.selection import Selection
from entragit.store import BackupRepo
from tests.conftest import Admin, run

POLICY = "authenticationMethodsPolicy"
METHODS = "authenticationMethodConfigurations"
SMS = f"policies/{POLICY}/{METHODS}/Sms"


def _snapshot(repo: BackupRepo) -> str:
    run("snapshot", "--repo", str(repo.root))
    return repo.resolve("HEAD")


def _as_an_older_entragit_wrote_it(repo: BackupRepo, at: str) -> None:
    """Commit the snapshot at `at` in the older layout: the methods as a list inside the policy's file."""
    methods = repo.read_objects(at, get_type(METHODS))
    policy = repo.read_objects(at, get_type(POLICY))[POLICY]
    (repo.root / POLICY / f"{POLICY}.yaml").write_bytes(
        dump({**policy, METHODS: [methods[i] for i in sorted(methods)]}))
    git = ["git", "-c", "user.name=Old", "-c", "user.email=old@example.com"]
    repo.git.git.execute([*git, "rm", "-rq", METHODS])
    repo.git.git.execute([*git, "commit", "-qam", "Snapshot in the older layout"])


def test_each_method_is_a_file_of_its_own_and_the_policy_holds_none(repo: BackupRepo) -> None:
    head = _snapshot(repo)
    methods = repo.read_objects(head, get_type(METHODS))
    assert {"Fido2", "Sms", "Email", "TemporaryAccessPass"} <= set(methods)
    assert methods["Sms"]["@odata.type"] == "#microsoft.graph.smsAuthenticationMethodConfiguration"
    assert METHODS not in repo.read_objects(head, get_type(POLICY))[POLICY]


def test_a_repository_from_before_reads_as_the_list_gone_and_a_file_per_method(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    _as_an_older_entragit_wrote_it(repo, _snapshot(repo))
    old = repo.resolve("HEAD")
    admin.call("PATCH", SMS, json={"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
                                   "state": "enabled"})
    _snapshot(repo)

    output = run("diff", old, "HEAD", "--repo", str(repo.root)).output

    assert METHODS in output and "Sms" in output
    plan = plan_restore(repo, client, old, Selection((POLICY,)))
    assert [s for s in plan.steps if METHODS in (s.body or {})] == []


def test_predefined_values_once_given_up_are_not_asked_back_of_graph(repo: BackupRepo, client: GraphClient,
                                                                     admin: Admin) -> None:
    good = _snapshot(repo)
    admin.call("PATCH", "directory/customSecurityAttributeDefinitions/Engineering_Project",
               json={"usePreDefinedValuesOnly": False, "description": "Loosened"})

    plan = plan_restore(repo, client, good, Selection((), ("Engineering_Project",)))

    [patch] = plan.steps
    assert patch.body == {"description": "Active projects for user"}
    [refused] = plan.blocked
    assert refused.what == "usePreDefinedValuesOnly" and "never back" in refused.reason


def _organization(admin: Admin) -> str:
    return str(admin.get("organization")["value"][0]["id"])


def _restored(repo: BackupRepo, client: GraphClient, good: str, ids: tuple[str, ...]) -> Plan:
    plan = plan_restore(repo, client, good, Selection((), ids))
    result = apply_plan(repo, client, plan)
    assert [(s.describe(), str(e)) for s, e in result.failed] == []
    return plan


def test_allowed_values_are_added_and_reactivated_but_never_deleted(repo: BackupRepo, client: GraphClient,
                                                                   admin: Admin) -> None:
    values = "directory/customSecurityAttributeDefinitions/Engineering_Project/allowedValues"
    good = _snapshot(repo)
    kept = repo.read_objects(good, get_type("customSecurityAttributeDefinitions"))["Engineering_Project"]
    assert kept["allowedValues"] == [{"id": "Alpine", "isActive": True}, {"id": "Baker", "isActive": True},
                                     {"id": "Cascade", "isActive": False}]
    admin.call("PATCH", f"{values}/Alpine", json={"isActive": False})
    admin.call("POST", values, json={"id": "Denali", "isActive": True})

    plan = _restored(repo, client, good, ("Engineering_Project",))

    assert {v["id"]: v["isActive"] for v in admin.get(values)["value"]} == {
        "Alpine": True, "Baker": True, "Cascade": False, "Denali": True}
    [refused] = plan.blocked
    assert refused.what == "allowedValues: Denali" and "never deleted" in refused.reason


def test_a_certificate_authority_changed_is_its_configuration_made_again(repo: BackupRepo, client: GraphClient,
                                                                         admin: Admin) -> None:
    organization = _organization(admin)
    at = f"organization/{organization}/certificateBasedAuthConfiguration"
    good = _snapshot(repo)
    [before] = admin.get(at)["value"]
    admin.call("DELETE", f"{at}/{before['id']}")
    rogue = {**before["certificateAuthorities"][0], "certificate": "RXZpbENB", "issuer": "CN=Evil CA"}
    admin.call("POST", at, json={"certificateAuthorities": [rogue]})

    plan = _restored(repo, client, good, (organization,))

    assert [s.method for s in plan.steps] == ["DELETE", "POST"]
    [after] = admin.get(at)["value"]
    # The backup leaves out what is not set (the delta revocation list's URL).
    assert after["certificateAuthorities"] == [{k: v for k, v in ca.items() if v is not None}
                                               for ca in before["certificateAuthorities"]]


def test_branding_texts_are_restored_and_a_new_locale_removed(repo: BackupRepo, client: GraphClient,
                                                              admin: Admin) -> None:
    organization = _organization(admin)
    at = f"organization/{organization}/branding/localizations"
    good = _snapshot(repo)
    stored = repo.read_objects(good, get_type("organization"))[organization]["brandingLocalizations"]
    assert [b["id"] for b in stored] == ["0", "fr-FR"] and stored[0]["signInPageText"] == "Authorised use only."
    admin.call("PATCH", f"{at}/0", json={"signInPageText": "Phishing welcome"})
    admin.call("DELETE", f"{at}/fr-FR")
    admin.call("POST", at, json={"id": "de-DE", "signInPageText": "Willkommen"})

    _restored(repo, client, good, (organization,))

    now = {b["id"]: b for b in admin.get(at)["value"]}
    assert sorted(now) == ["0", "fr-FR"]
    assert now["0"]["signInPageText"] == "Authorised use only."
    assert now["fr-FR"]["usernameHintText"] == "nom@entreprise"


def test_a_branding_image_is_kept_by_hash_and_one_replaced_is_refused_with_why(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    organization = _organization(admin)
    logo = f"organization/{organization}/branding/localizations/0/bannerLogo"
    good = _snapshot(repo)
    [default, french] = repo.read_objects(good, get_type("organization"))[organization]["brandingLocalizations"]
    assert default["bannerLogo"] == f"sha256:{hashlib.sha256(b'Contoso banner logo').hexdigest()}"
    assert "bannerLogo" not in french and "bannerLogoRelativeUrl" not in default
    admin.call("PUT", logo, data=b"Phishing banner", headers={"Content-Type": "image/png"})

    plan = plan_restore(repo, client, good, Selection((), (organization,)))

    [refused] = plan.blocked
    assert refused.what == "brandingLocalizations: 0.bannerLogo"
    assert "cannot upload it again" in refused.reason
