"""Risk highlights: each rule of the risk table flags the weakening change it names, and leaves alone a
near miss of the same object (the change undone, or the same kind of change that does not weaken).

One simulated tenant, three snapshots: S0; S1 after every weakening change; S2 after the near misses.
The S0..S1 report must flag each rule; the S1..S2 report holds the near misses and must not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Admin, connection_of
from tests.test_risk_app_policies import CASES as APP_POLICY_CASES

from entragit.config import Config
from entragit.connect import graph_client
from entragit.diff.build import make_report
from entragit.report.model import DiffReport
from entragit.registry.risks import RISK_RULES
from entragit.sim import Simulator
from entragit.snapshot import take_snapshot
from entragit.store import init_repo

GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
BILLING_ADMINISTRATOR = "b0f54661-2d74-4c50-afa3-1ec803f12efe"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
CA = "identity/conditionalAccess/policies"
SMS = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms"
SMS_TYPE = "#microsoft.graph.smsAuthenticationMethodConfiguration"
ACTIONS = "roleManagement/directory/resourceNamespaces/microsoft.directory/resourceActions"
PURGE, CA_DELETE = "microsoft.directory-deletedItems-delete-delete", "microsoft.directory-conditionalAccessPolicies-delete-delete"
GUEST_AS_MEMBER, RESTRICTED_GUEST = "a0b1b346-4d3e-4e8b-98f8-753987be4970", "2af84b1e-32c8-42b7-82bc-daa82404023b"


@dataclass
class Scenario:
    weakened: DiffReport
    near_misses: DiffReport
    ids: dict[str, str] = field(default_factory=dict)


def _policy(admin: Admin, name: str) -> dict[str, Any]:
    return next(p for p in admin.get(CA)["value"] if p["displayName"] == name)


def _access(kind: str) -> dict[str, Any]:
    return {"usersAndGroups": {"accessType": kind, "targets": [{"target": "AllUsers", "targetType": "user"}]},
            "applications": {"accessType": kind, "targets": [{"target": "AllApplications", "targetType": "application"}]}}


def _assign(admin: Admin, principal_id: str, role_id: str) -> str:
    body = {"principalId": principal_id, "roleDefinitionId": role_id, "directoryScopeId": "/"}
    return str(admin.call("POST", "roleManagement/directory/roleAssignments", json=body).json()["id"])


def _tenant_policies(admin: Admin, *, sms: str, invites: str, guest_role: str, inbound: str, trust_mfa: bool) -> None:
    admin.call("PATCH", SMS, json={"@odata.type": SMS_TYPE, "state": sms})
    admin.call("PATCH", "policies/authorizationPolicy", json={"allowInvitesFrom": invites, "guestUserRoleId": guest_role})
    admin.call("PATCH", "policies/crossTenantAccessPolicy/default",
               json={"b2bDirectConnectInbound": _access(inbound), "inboundTrust": {"isMfaAccepted": trust_mfa}})


def _weaken(admin: Admin, sim: Simulator, ids: dict[str, str]) -> None:
    mfa, legacy = _policy(admin, "Require MFA for all users"), _policy(admin, "Block legacy authentication")
    countries, sales = _policy(admin, "Block access from blocked countries"), _policy(admin, "Require compliant device for Sales")
    ids.update(disabled=mfa["id"], report_only=legacy["id"], excluded=countries["id"], sales=sales["id"])
    admin.call("PATCH", f"{CA}/{mfa['id']}", json={"state": "disabled"})
    admin.call("PATCH", f"{CA}/{legacy['id']}", json={"state": "enabledForReportingButNotEnforced"})
    group = admin.group("Finance Team")
    conditions = countries["conditions"]
    ids.update(kept_exclusion=conditions["users"]["excludeGroups"][0], new_exclusion=group["id"])
    conditions["users"]["excludeGroups"] = [*conditions["users"]["excludeGroups"], group["id"]]
    admin.call("PATCH", f"{CA}/{countries['id']}", json={"conditions": conditions})

    apps = admin.get("applications", **{"$select": "id,displayName"})["value"]
    ids.update(credential_app=apps[0]["id"], owner_app=apps[1]["id"])
    added = admin.call("POST", f"applications/{apps[0]['id']}/addPassword",
                       json={"passwordCredential": {"displayName": "not a backdoor, honest"}}).json()
    ids["key"] = added["keyId"]
    user = admin.get("users", **{"$top": "3", "$select": "id"})["value"][2]
    ids["user"] = user["id"]
    admin.call("POST", f"applications/{apps[1]['id']}/owners/$ref",
               json={"@odata.id": f"{sim.graph_url}/v1.0/directoryObjects/{user['id']}"})
    ids["privileged"] = _assign(admin, user["id"], GLOBAL_ADMINISTRATOR)
    _tenant_policies(admin, sms="enabled", invites="everyone", guest_role=GUEST_AS_MEMBER, inbound="allowed",
                     trust_mfa=True)
    _weaken_sign_in(admin, apps[2]["id"], user["id"], ids)
    # Anyone holding the role may purge the recycle bin; deleting a CA policy asks for a context nothing enforces.
    admin.call("PATCH", f"{ACTIONS}/{PURGE}", json={"authenticationContextId": None})
    admin.call("PATCH", f"{ACTIONS}/{CA_DELETE}", json={"authenticationContextId": "c2"})
    _weaken_pim(admin, ids)
    _pim_rules(admin, _pim_group_policy(admin, ids), approval=False, mfa=False, context=False, hours=12)
    _federation(admin, ids, signingCertificate="MIIC8DCCAdigAwIBAgIQbackdoor")
    _weaken_apps_access(admin, apps[3]["id"], ids)
    _weaken_external_federations(admin, ids)


def _weaken_sign_in(admin: Admin, app_id: str, user_id: str, ids: dict[str, str]) -> None:
    """A SAML enterprise app that sends tokens somewhere new, an app's claims and lock, a user's password rules."""
    sp = next(s for s in admin.get("servicePrincipals", **{"$select": "id,preferredSingleSignOnMode,replyUrls"})["value"]
              if s["preferredSingleSignOnMode"] == "saml")
    ids.update(saml_sp=sp["id"], claims_app=app_id, weak_user=user_id, reply_urls=json.dumps(sp["replyUrls"]))
    admin.call("PATCH", f"servicePrincipals/{sp['id']}", json={
        "replyUrls": [*sp["replyUrls"], "https://collector.example.net/callback"],
        "samlSingleSignOnSettings": {"relayState": "https://collector.example.net/"}})
    admin.call("PATCH", f"applications/{app_id}", json={
        "optionalClaims": {"idToken": [{"name": "email", "essential": True}]},
        "servicePrincipalLockConfiguration": {"isEnabled": False}})
    admin.call("PATCH", f"users/{user_id}", json={"passwordPolicies": "DisableStrongPassword"})


PIM_POLICIES = "policies/roleManagementPolicies"
PIM_RULE = "#microsoft.graph.unifiedRoleManagementPolicy{}Rule"


def _pim_policy(admin: Admin, role_id: str) -> str:
    assignments = admin.get("policies/roleManagementPolicyAssignments",
                            **{"$filter": "scopeId eq '/' and scopeType eq 'DirectoryRole'"})["value"]
    return str(next(a["policyId"] for a in assignments if a["roleDefinitionId"] == role_id))


def _pim_rules(admin: Admin, policy_id: str, *, approval: bool, mfa: bool, context: bool, hours: int) -> None:
    """Activation of the role behind policy_id: with or without approval, MFA, authentication context, for so long."""
    def patch(rule: str, kind: str, **values: Any) -> None:
        admin.call("PATCH", f"{PIM_POLICIES}/{policy_id}/rules/{rule}", json={"@odata.type": PIM_RULE.format(kind), **values})
    approval_rule = admin.get(f"{PIM_POLICIES}/{policy_id}/rules/Approval_EndUser_Assignment")
    patch("Approval_EndUser_Assignment", "Approval", setting={**approval_rule["setting"], "isApprovalRequired": approval})
    patch("Enablement_EndUser_Assignment", "Enablement",
          enabledRules=["MultiFactorAuthentication", "Justification"] if mfa else ["Justification"])
    patch("AuthenticationContext_EndUser_Assignment", "AuthenticationContext", isEnabled=context,
          claimValue="c1" if context else None)
    patch("Expiration_EndUser_Assignment", "Expiration", maximumDuration=f"PT{hours}H")


def _pim_group_policy(admin: Admin, ids: dict[str, str]) -> str:
    """The PIM settings of the seeded role-assignable group whose activation needs approval and MFA."""
    group = admin.group("PIM Tier 0 Admins")
    policy = admin.get(PIM_POLICIES, **{"$filter": f"scopeId eq '{group['id']}' and scopeType eq 'Group'"})["value"][0]
    ids["pim_group"] = policy["id"]
    return str(policy["id"])


def _weaken_pim(admin: Admin, ids: dict[str, str]) -> None:
    # Global Administrator: approval, MFA and 2 hours in the seed; Privileged Role Administrator: approval,
    # an authentication context and 2 hours.
    ids.update(pim_ga=_pim_policy(admin, GLOBAL_ADMINISTRATOR), pim_pra=_pim_policy(admin, PRIVILEGED_ROLE_ADMINISTRATOR))
    _pim_rules(admin, ids["pim_ga"], approval=False, mfa=False, context=False, hours=12)
    _pim_rules(admin, ids["pim_pra"], approval=True, mfa=False, context=False, hours=2)


def _federation(admin: Admin, ids: dict[str, str], **changes: str) -> None:
    """A change to the federation configuration of the tenant's federated domain."""
    [domain] = [d for d in admin.get("domains")["value"] if d["authenticationType"] == "Federated"]
    [configuration] = admin.get(f"domains/{domain['id']}/federationConfiguration")["value"]
    ids["federated"] = domain["id"]
    admin.call("PATCH", f"domains/{domain['id']}/federationConfiguration/{configuration['id']}", json=changes)


EXTERNAL_FEDERATIONS = "directory/federationConfigurations/microsoft.graph.samlOrWsFedExternalDomainFederation"


def _weaken_external_federations(admin: Admin, ids: dict[str, str]) -> None:
    """A new partner identity provider trusted for fabrikam.com; the seeded one's signing certificate replaced."""
    [seeded] = admin.get(EXTERNAL_FEDERATIONS)["value"]
    added = admin.call("POST", EXTERNAL_FEDERATIONS, json={
        "displayName": "Fabrikam", "issuerUri": "https://fabrikam.example.net/saml2",
        "passiveSignInUri": "https://fabrikam.example.net/saml2/sso", "preferredAuthenticationProtocol": "saml",
        "signingCertificate": "MIIDdDCCAlygAwIBAgIGAXowJih", "domains": [{"id": "fabrikam.com"}]}).json()
    ids.update(partner_idp=seeded["id"], new_idp=added["id"])
    admin.call("PATCH", f"{EXTERNAL_FEDERATIONS}/{seeded['id']}", json={"signingCertificate": "MIIC8DCCbackdoor"})


def _near_misses_external_federations(admin: Admin, ids: dict[str, str]) -> None:
    """Both renamed: no new trust."""
    for key in ("partner_idp", "new_idp"):
        admin.call("PATCH", f"{EXTERNAL_FEDERATIONS}/{ids[key]}", json={"displayName": "Reviewed partner"})


GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
ROLE_MANAGEMENT_WRITE, POLICY_READ = "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "246dd0d5-5bd0-4def-940b-0421030a5b68"


def _grant(admin: Admin, ids: dict[str, str], principal: str, role_id: str) -> None:
    body = {"principalId": ids[principal], "resourceId": ids["graph_sp"], "appRoleId": role_id}
    admin.call("POST", f"servicePrincipals/{ids['graph_sp']}/appRoleAssignedTo", json=body)


def _weaken_apps_access(admin: Admin, app_id: str, ids: dict[str, str]) -> None:
    """A federated identity credential added to an app; Graph's RoleManagement.ReadWrite.Directory granted
    to an enterprise app that did not hold it."""
    admin.call("POST", f"applications/{app_id}/federatedIdentityCredentials", json={
        "name": "deploy-prod", "issuer": "https://token.actions.githubusercontent.com",
        "subject": "repo:outsider/tools:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]})
    sps = admin.get("servicePrincipals", **{"$top": "999", "$select": "id,appId"})["value"]
    graph = next(sp["id"] for sp in sps if sp["appId"] == GRAPH_APP_ID)
    held = {(a["principalId"], a["appRoleId"]) for a in admin.get(f"servicePrincipals/{graph}/appRoleAssignedTo")["value"]}
    grantee = next(sp["id"] for sp in sps if sp["id"] != graph and (sp["id"], POLICY_READ) not in held)
    ids.update(fic_app=app_id, graph_sp=graph, grantee=grantee)
    _grant(admin, ids, "grantee", ROLE_MANAGEMENT_WRITE)


def _near_misses_apps_access(admin: Admin, ids: dict[str, str]) -> None:
    """The credential's description edited; a read-only Graph permission granted."""
    base = f"applications/{ids['fic_app']}/federatedIdentityCredentials"
    [credential] = [c for c in admin.get(base)["value"] if c["name"] == "deploy-prod"]
    admin.call("PATCH", f"{base}/{credential['id']}", json={"description": "the release pipeline"})
    _grant(admin, ids, "grantee", POLICY_READ)


def _near_misses(admin: Admin, ids: dict[str, str]) -> None:
    admin.call("PATCH", f"{CA}/{ids['sales']}", json={"state": "enabled"})  # report-only -> enforced: stronger
    admin.call("DELETE", f"{CA}/{ids['disabled']}")  # deleting a policy that enforced nothing
    admin.call("DELETE", f"{CA}/{ids['report_only']}")  # ... and one that still reported: flagged
    countries = admin.get(f"{CA}/{ids['excluded']}")
    countries["conditions"]["users"]["excludeGroups"] = [ids["new_exclusion"]]  # one exclusion fewer
    admin.call("PATCH", f"{CA}/{ids['excluded']}", json={"conditions": countries["conditions"]})
    admin.call("POST", f"applications/{ids['credential_app']}/removePassword", json={"keyId": ids["key"]})
    admin.call("DELETE", f"applications/{ids['owner_app']}/owners/{ids['user']}/$ref")
    ids["ordinary"] = _assign(admin, ids["user"], BILLING_ADMINISTRATOR)
    _tenant_policies(admin, sms="disabled", invites="none", guest_role=RESTRICTED_GUEST, inbound="blocked",
                     trust_mfa=False)
    # A reply URL taken away, a lock turned back on, a password rule turned back on: all stronger.
    admin.call("PATCH", f"servicePrincipals/{ids['saml_sp']}",
               json={"replyUrls": json.loads(ids["reply_urls"])[:-1] or [], "notes": "reviewed"})
    admin.call("PATCH", f"applications/{ids['claims_app']}",
               json={"servicePrincipalLockConfiguration": {"isEnabled": True, "allProperties": True},
                     "description": "reviewed"})
    admin.call("PATCH", f"users/{ids['weak_user']}", json={"passwordPolicies": None})
    admin.call("PATCH", f"{ACTIONS}/{PURGE}", json={"authenticationContextId": "c1"})  # protected again
    # Approval, MFA and a context all turned on, and a shorter activation: all stronger.
    _pim_rules(admin, ids["pim_ga"], approval=True, mfa=True, context=True, hours=1)
    _pim_rules(admin, ids["pim_group"], approval=True, mfa=True, context=True, hours=1)
    # Where federated users reset their password: no new trust.
    _federation(admin, ids, passwordResetUri="https://sts.example.com/adfs/portal/updatepassword")
    _near_misses_apps_access(admin, ids)
    _near_misses_external_federations(admin, ids)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("risk")
    with pytest.MonkeyPatch.context() as env, Simulator(seed=42, size="small", state_dir=str(root / "sim")) as sim:
        # What conftest's isolated_git does per test, for this module's one scenario.
        env.setenv("HOME", str(root))
        env.setenv("GIT_CONFIG_NOSYSTEM", "1")
        env.setenv("GIT_CONFIG_GLOBAL", str(root / ".gitconfig"))
        connection = connection_of(sim)
        repo = init_repo(root / "backup", Config(tenant_id=sim.tenant_id, client_id=sim.client_id))
        client = graph_client(connection, sleep=lambda seconds: None)
        admin, ids = Admin(sim), {}
        take_snapshot(repo, client=client)
        _weaken(admin, sim, ids)
        take_snapshot(repo, client=client)
        _near_misses(admin, ids)
        take_snapshot(repo, client=client)
        yield Scenario(make_report(repo, "HEAD~2", "HEAD~1", live=False, attribution=False),
                       make_report(repo, "HEAD~1", "HEAD", live=False, attribution=False), ids)


def _flags(report: DiffReport, rule: str, object_id: str) -> list[str]:
    return [f.detail for f in report.risks if f.rule == rule and f.id == object_id]


def _changed(report: DiffReport, object_id: str) -> bool:
    return any(c.id == object_id for c in report.changes)


# rule -> (object flagged in S0..S1, words its message holds, the near miss's object in S1..S2)
CASES = {
    "conditional-access-policy-weakened": ("disabled", "enabled -> disabled", "sales"),
    "conditional-access-exclusion-added": ("excluded", "Finance Team", "excluded"),
    "credential-added": ("credential_app", "not a backdoor, honest", "credential_app"),
    "owner-added": ("owner_app", "New owner:", "owner_app"),
    "privileged-role-assigned": ("privileged", "Global Administrator", "ordinary"),
    "authentication-method-enabled": ("Sms", "disabled -> enabled", "Sms"),
    "guest-invitations-widened": ("authorizationPolicy", "adminsAndGuestInviters -> everyone", "authorizationPolicy"),
    "guest-role-widened": ("authorizationPolicy", "Guest User (10dae51f-b6af-4016-8d66-8c2a99b929b3) -> User (same",
                           "authorizationPolicy"),
    "cross-tenant-inbound-opened": ("default", "b2bDirectConnectInbound.usersAndGroups.accessType blocked -> allowed",
                                    "default"),
    "cross-tenant-inbound-trust-added": ("default", "inboundTrust.isMfaAccepted false -> true", "default"),
    "reply-url-added": ("saml_sp", "https://collector.example.net/callback", "saml_sp"),
    "saml-sign-in-changed": ("saml_sp", "samlSingleSignOnSettings.relayState", "saml_sp"),
    "token-claims-changed": ("claims_app", "optionalClaims", "claims_app"),
    "service-principal-lock-loosened": ("claims_app", "servicePrincipalLockConfiguration.isEnabled true -> false",
                                        "claims_app"),
    "password-policy-weakened": ("weak_user", "not set -> DisableStrongPassword", "weak_user"),
    "protected-action-unprotected": (PURGE, "c1 -> not set", PURGE),
    "protected-action-context-changed": (CA_DELETE, "c1 -> c2", PURGE),
    "pim-activation-approval-removed": ("pim_ga", "Approval_EndUser_Assignment", "pim_ga"),
    "pim-activation-mfa-removed": ("pim_ga", "Enablement_EndUser_Assignment", "pim_ga"),
    "pim-activation-authentication-context-removed": ("pim_pra", "AuthenticationContext_EndUser_Assignment", "pim_ga"),
    "pim-duration-widened": ("pim_ga", "Expiration_EndUser_Assignment", "pim_ga"),
    "domain-federation-trust-changed": ("federated", "federationConfiguration gained", "federated"),
    "federated-credential-added": ("fic_app", "deploy-prod", "fic_app"),
    "high-privilege-graph-permission-granted": ("graph_sp", "holds RoleManagement.ReadWrite.Directory", "graph_sp"),
    "external-identity-provider-trusted": ("new_idp", "Guests of fabrikam.com", "new_idp"),
    "external-identity-provider-trust-changed": ("partner_idp", "signingCertificate", "partner_idp"),
}


def test_every_rule_has_a_case() -> None:
    assert set(CASES) | set(APP_POLICY_CASES) | {"conditional-access-policy-deleted"} == {rule.name for rule in RISK_RULES}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_flags_the_weakening_and_not_its_near_miss(scenario: Scenario, rule: str) -> None:
    flagged, words, near_miss = CASES[rule]
    flagged_id, near_miss_id = scenario.ids.get(flagged, flagged), scenario.ids.get(near_miss, near_miss)
    details = _flags(scenario.weakened, rule, flagged_id)
    assert len(details) >= 1 and any(words in d for d in details), scenario.weakened.risks
    assert _changed(scenario.near_misses, near_miss_id)
    assert _flags(scenario.near_misses, rule, near_miss_id) == []


@pytest.mark.parametrize("rule", ["pim-activation-approval-removed", "pim-activation-mfa-removed",
                                  "pim-duration-widened"])
def test_a_groups_pim_settings_weakened_are_flagged_as_a_roles_are(scenario: Scenario, rule: str) -> None:
    group_policy = scenario.ids["pim_group"]
    assert _flags(scenario.weakened, rule, group_policy)
    assert _changed(scenario.near_misses, group_policy)
    assert _flags(scenario.near_misses, rule, group_policy) == []


def test_a_deleted_policy_is_flagged_only_if_it_did_something(scenario: Scenario) -> None:
    rule = "conditional-access-policy-deleted"
    [detail] = _flags(scenario.near_misses, rule, scenario.ids["report_only"])
    assert "enabledForReportingButNotEnforced" in detail
    assert _changed(scenario.near_misses, scenario.ids["disabled"])
    assert _flags(scenario.near_misses, rule, scenario.ids["disabled"]) == []


def test_risks_come_most_severe_first_with_names_for_ids(scenario: Scenario) -> None:
    severities = [f.severity for f in scenario.weakened.risks]
    assert severities == sorted(severities, key=["high", "medium"].index)
    [exclusion] = _flags(scenario.weakened, "conditional-access-exclusion-added", scenario.ids["excluded"])
    assert f"Finance Team ({scenario.ids['new_exclusion']})" in exclusion
    assert scenario.ids["kept_exclusion"] not in exclusion



def test_the_readme_documents_every_rule() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert [rule.name for rule in RISK_RULES if f"`{rule.name}`" not in readme] == []
