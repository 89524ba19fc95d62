"""Conformance: tenant policy objects over real HTTPS (Graph v1.0 resource pages; graph-behaviour §5, §6, §9).

Singletons answer GET and PATCH only; collections their documented methods; read-only properties refuse
writes; the seeded objects have the documented shapes. Shared `graph` tests only read (or are refused).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simclient import Graph, assert_error
from tuned import batch_of, by_id, tuned

import entragit.sim.seed
from entragit.sim import Simulator
from entragit.sim.model_identity import NESTED
from entragit.sim.model_policies import POLICY_COLLECTIONS

AUTHORIZATION = "policies/authorizationPolicy"
METHODS = "policies/authenticationMethodsPolicy"
CONFIGURATIONS = f"{METHODS}/authenticationMethodConfigurations"
SECURITY_DEFAULTS = "policies/identitySecurityDefaultsEnforcementPolicy"
CROSS_TENANT = "policies/crossTenantAccessPolicy"
PARTNERS = f"{CROSS_TENANT}/partners"
TOKEN_LIFETIMES = "policies/tokenLifetimePolicies"
LIFECYCLE = "groupLifecyclePolicies"
CONTEXTS = "identity/conditionalAccess/authenticationContextClassReferences"
STRENGTHS = "policies/authenticationStrengthPolicies"
SETTINGS = "groupSettings"
TEMPLATES = "groupSettingTemplates"
GROUP_UNIFIED = "62375ab9-6b52-47ed-826b-58e47e0e304b"
BUILT_IN_STRENGTHS = {
    "00000000-0000-0000-0000-000000000002": "Multifactor authentication",
    "00000000-0000-0000-0000-000000000003": "Passwordless MFA",
    "00000000-0000-0000-0000-000000000004": "Phishing resistant MFA",
}
METHOD_TYPES = {
    "Fido2": "fido2",
    "MicrosoftAuthenticator": "microsoftAuthenticator",
    "Sms": "sms",
    "Voice": "voice",
    "Email": "email",
    "TemporaryAccessPass": "temporaryAccessPass",
    "SoftwareOath": "softwareOath",
    "X509Certificate": "x509Certificate",
}
NEW_PARTNER = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"  # the tenant of crosstenantaccesspolicy-post-partners


def _metadata(sim: Simulator, fragment: str) -> str:
    return f"{sim.graph_url}/v1.0/$metadata#{fragment}"




def _no_content(response: requests.Response) -> None:
    assert response.status_code == 204, response.text
    assert response.content == b""


def _config_type(method_id: str) -> str:
    return f"#microsoft.graph.{METHOD_TYPES[method_id]}AuthenticationMethodConfiguration"


# --- singletons ---------------------------------------------------------------------------------------------


def test_authorization_policy_is_one_object_with_the_documented_shape(sim: Simulator, graph: Graph) -> None:
    policy = graph.ok(AUTHORIZATION)
    assert policy["@odata.context"] == _metadata(sim, "policies/authorizationPolicy/$entity")
    assert set(policy) == {
        "@odata.context",
        "id",
        "displayName",
        "description",
        "allowInvitesFrom",
        "allowedToSignUpEmailBasedSubscriptions",
        "allowedToUseSSPR",
        "allowEmailVerifiedUsersToJoinOrganization",
        "allowUserConsentForRiskyApps",
        "blockMsolPowerShell",
        "defaultUserRolePermissions",
        "guestUserRoleId",
    }
    assert "value" not in policy  # a single object in v1.0, not a collection (graph-behaviour §9)
    assert policy["id"] == "authorizationPolicy"
    assert set(policy["defaultUserRolePermissions"]) == {
        "allowedToCreateApps",
        "allowedToCreateSecurityGroups",
        "allowedToCreateTenants",
        "allowedToReadBitlockerKeysForOwnedDevice",
        "allowedToReadOtherUsers",
        "permissionGrantPoliciesAssigned",
    }
    assert policy["guestUserRoleId"] in (
        "a0b1b346-4d3e-4e8b-98f8-753987be4970",
        "10dae51f-b6af-4016-8d66-8c2a99b929b3",
        "2af84b1e-32c8-42b7-82bc-daa82404023b",
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", AUTHORIZATION),
        ("DELETE", AUTHORIZATION),
        ("PUT", AUTHORIZATION),
        ("POST", METHODS),
        ("DELETE", SECURITY_DEFAULTS),
        ("DELETE", CROSS_TENANT),
        ("POST", f"{CROSS_TENANT}/default"),
        ("POST", CONFIGURATIONS),
        ("DELETE", f"{CONFIGURATIONS}/Sms"),
        ("POST", CONTEXTS),
        ("POST", TEMPLATES),
        ("PATCH", f"{TEMPLATES}/{GROUP_UNIFIED}"),
        ("DELETE", f"{TEMPLATES}/{GROUP_UNIFIED}"),
        ("POST", "organization"),
    ],
)
def test_methods_a_resource_does_not_have_are_405(graph: Graph, method: str, path: str) -> None:
    response = graph.request(method, path, json={"displayName": "x"})
    assert_error(response, 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")


def test_organization_cannot_be_deleted(sim: Simulator, graph: Graph) -> None:
    assert_error(graph.delete(f"organization/{sim.tenant_id}"), 405, "Request_BadRequest")


def test_patch_authorization_policy_is_204_and_merges_default_user_role_permissions(fresh: Graph) -> None:
    before = fresh.ok(AUTHORIZATION)["defaultUserRolePermissions"]
    # authorizationpolicy-update example 3 sends one permission alone.
    _no_content(fresh.patch(AUTHORIZATION, {"defaultUserRolePermissions": {"allowedToCreateApps": True}, "blockMsolPowerShell": False}))
    after = fresh.ok(AUTHORIZATION)
    assert after["defaultUserRolePermissions"] == {**before, "allowedToCreateApps": True}
    assert after["blockMsolPowerShell"] is False


@pytest.mark.parametrize(
    ("path", "body", "prop"),
    [
        (AUTHORIZATION, {"id": "other"}, "id"),
        (METHODS, {"displayName": "Mine"}, "displayName"),
        (METHODS, {"lastModifiedDateTime": "2024-01-01T00:00:00Z"}, "lastModifiedDateTime"),
        (METHODS, {"policyVersion": "2.0"}, "policyVersion"),
        (SECURITY_DEFAULTS, {"id": "x"}, "id"),
        (f"{CROSS_TENANT}/default", {"isServiceDefault": False}, "isServiceDefault"),
        (f"{CROSS_TENANT}/default", {"automaticUserConsentSettings": {"inboundAllowed": True}}, "automaticUserConsentSettings"),
    ],
)
def test_read_only_properties_of_singletons_refuse_patch(graph: Graph, path: str, body: dict[str, Any], prop: str) -> None:
    before = graph.ok(path)
    assert_error(graph.patch(path, body), 400, "Request_BadRequest", f"Property '{prop}' is read-only and cannot be set.")
    assert graph.ok(path) == before


@pytest.mark.parametrize(
    "body",
    [
        {"allowInvitesFrom": "anyone"},
        {"guestUserRoleId": "62e90394-69f5-4237-9190-012177145e10"},  # Global Administrator is no guest role
        {"defaultUserRolePermissions": {"allowedToDeleteTenants": True}},
        {"blockMsolPowerShell": "yes"},
        {"unknownSetting": True},
    ],
)
def test_authorization_policy_refuses_invalid_values(graph: Graph, body: dict[str, Any]) -> None:
    assert_error(graph.patch(AUTHORIZATION, body), 400, "Request_BadRequest")


def test_select_on_a_singleton(sim: Simulator, graph: Graph) -> None:
    policy = graph.ok(AUTHORIZATION, {"$select": "displayName,guestUserRoleId"})
    assert policy["@odata.context"] == _metadata(sim, "policies/authorizationPolicy(displayName,guestUserRoleId)/$entity")
    assert set(policy) == {"@odata.context", "id", "displayName", "guestUserRoleId"}
    refused = graph.get(AUTHORIZATION, {"$select": "allowEverything"})
    message = "Could not find a property named 'allowEverything' on type 'microsoft.graph.authorizationPolicy'."
    assert_error(refused, 400, "Request_BadRequest", message)


def test_security_defaults(fresh: Graph) -> None:
    policy = fresh.ok(SECURITY_DEFAULTS)
    assert policy["id"] == "00000000-0000-0000-0000-000000000005"
    assert set(policy) == {"@odata.context", "id", "displayName", "description", "isEnabled"}
    assert policy["isEnabled"] is False  # the seeded tenant uses Conditional Access instead
    _no_content(fresh.patch(SECURITY_DEFAULTS, {"isEnabled": True}))
    assert fresh.ok(SECURITY_DEFAULTS)["isEnabled"] is True
    # A string Graph's reader cannot take for a Boolean ("true" it takes: fido2AuthenticationMethodConfiguration-update).
    assert_error(fresh.patch(SECURITY_DEFAULTS, {"isEnabled": "yes"}), 400, "Request_BadRequest")


# --- authentication methods policy --------------------------------------------------------------------------


def test_authentication_methods_policy_expands_its_method_configurations(sim: Simulator, graph: Graph) -> None:
    policy = graph.ok(METHODS)
    # Both documented examples: '$metadata#authenticationMethodsPolicy', without '/$entity'.
    assert policy["@odata.context"] == _metadata(sim, "authenticationMethodsPolicy")
    assert policy["id"] == "authenticationMethodsPolicy"
    for prop in ("displayName", "description", "lastModifiedDateTime", "policyVersion", "policyMigrationState", "reconfirmationInDays"):
        assert prop in policy, prop
    campaign = policy["registrationEnforcement"]["authenticationMethodsRegistrationCampaign"]
    assert {"snoozeDurationInDays", "state", "includeTargets", "excludeTargets"} <= set(campaign)
    assert policy["authenticationMethodConfigurations@odata.context"] == _metadata(sim, CONFIGURATIONS)
    configurations = {c["id"]: c for c in policy["authenticationMethodConfigurations"]}
    assert set(configurations) == set(METHOD_TYPES)
    for method_id, configuration in configurations.items():
        assert configuration["@odata.type"] == _config_type(method_id)
        assert configuration["state"] in ("enabled", "disabled")
        for target in configuration["includeTargets"]:
            assert target["targetType"] == "group" and "isRegistrationRequired" in target
    assert configurations["Fido2"]["includeTargets"][0]["id"] == "all_users"
    assert set(configurations["TemporaryAccessPass"]) >= {"defaultLifetimeInMinutes", "defaultLength", "isUsableOnce"}
    assert "keyRestrictions" in configurations["Fido2"] and "keyRestrictions" not in configurations["Sms"]
    single = graph.ok(f"{CONFIGURATIONS}/Fido2")
    assert single["@odata.context"] == _metadata(sim, f"{CONFIGURATIONS}/$entity")
    assert {k: v for k, v in single.items() if k != "@odata.context"} == configurations["Fido2"]


def test_patch_authentication_methods_policy_answers_200_with_the_policy(fresh: Graph, fresh_sim: Simulator) -> None:
    before = fresh.ok(METHODS)["lastModifiedDateTime"]
    campaign = {"snoozeDurationInDays": 3, "state": "enabled", "excludeTargets": [], "includeTargets": []}
    response = fresh.patch(METHODS, {"registrationEnforcement": {"authenticationMethodsRegistrationCampaign": campaign}})
    assert response.status_code == 200, response.text  # authenticationmethodspolicy-update
    body = response.json()
    assert body["@odata.context"] == _metadata(fresh_sim, "authenticationMethodsPolicy")
    assert body["registrationEnforcement"]["authenticationMethodsRegistrationCampaign"] == campaign
    assert body["lastModifiedDateTime"] != before
    too_long = {"registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {**campaign, "snoozeDurationInDays": 15}}}
    assert_error(fresh.patch(METHODS, too_long), 400, "Request_BadRequest")


def test_method_configuration_patch_must_name_its_type(fresh: Graph) -> None:
    path = f"{CONFIGURATIONS}/TemporaryAccessPass"
    assert_error(fresh.patch(path, {"state": "disabled"}), 400, "Request_BadRequest")
    wrong = {"@odata.type": _config_type("Fido2"), "state": "disabled"}
    assert_error(fresh.patch(path, wrong), 400, "Request_BadRequest")
    # A property of another method type does not exist on this one.
    foreign = {"@odata.type": _config_type("TemporaryAccessPass"), "isAttestationEnforced": True}
    assert_error(fresh.patch(path, foreign), 400, "Request_BadRequest")
    inverted = {"@odata.type": _config_type("TemporaryAccessPass"), "minimumLifetimeInMinutes": 600}
    assert_error(fresh.patch(path, inverted), 400, "Request_BadRequest")  # minimum above the default
    body = {
        "@odata.type": _config_type("TemporaryAccessPass"),
        "state": "disabled",
        "defaultLifetimeInMinutes": 120,
        "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": False}],
    }
    _no_content(fresh.patch(path, body))  # graph-behaviour §6
    inline = {c["id"]: c for c in fresh.ok(METHODS)["authenticationMethodConfigurations"]}
    assert inline["TemporaryAccessPass"]["state"] == "disabled"
    assert inline["TemporaryAccessPass"]["defaultLifetimeInMinutes"] == 120
    assert inline["TemporaryAccessPass"]["includeTargets"] == body["includeTargets"]
    assert_error(fresh.get(f"{CONFIGURATIONS}/QRCodePin"), 404, "Request_ResourceNotFound")


# --- cross-tenant access ------------------------------------------------------------------------------------


def test_cross_tenant_access_policy_and_its_default(fresh: Graph, fresh_sim: Simulator) -> None:
    policy = fresh.ok(CROSS_TENANT)
    assert policy == {
        "@odata.context": _metadata(fresh_sim, f"{CROSS_TENANT}/$entity"),
        "displayName": "CrossTenantAccessPolicy",
        "allowedCloudEndpoints": [],
    }
    _no_content(fresh.patch(CROSS_TENANT, {"allowedCloudEndpoints": ["microsoftonline.us"]}))
    assert fresh.ok(CROSS_TENANT)["allowedCloudEndpoints"] == ["microsoftonline.us"]
    assert_error(fresh.patch(CROSS_TENANT, {"allowedCloudEndpoints": ["example.com"]}), 400, "Request_BadRequest")

    default = fresh.ok(f"{CROSS_TENANT}/default")
    assert default["isServiceDefault"] is True
    assert "id" not in default  # the resource has no id (crosstenantaccesspolicyconfigurationdefault-get)
    assert default["automaticUserConsentSettings"] == {"inboundAllowed": False, "outboundAllowed": False}
    assert default["b2bDirectConnectInbound"]["usersAndGroups"] == {
        "accessType": "blocked",
        "targets": [{"target": "AllUsers", "targetType": "user"}],
    }
    trust = {"isMfaAccepted": True, "isCompliantDeviceAccepted": False, "isHybridAzureADJoinedDeviceAccepted": False}
    _no_content(fresh.patch(f"{CROSS_TENANT}/default", {"inboundTrust": trust}))
    customised = fresh.ok(f"{CROSS_TENANT}/default")
    assert customised["inboundTrust"] == trust
    assert customised["isServiceDefault"] is False  # customised now
    bad = {"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "maybe", "targets": []}}}
    assert_error(fresh.patch(f"{CROSS_TENANT}/default", bad), 400, "Request_BadRequest")


def test_resetting_the_cross_tenant_default_puts_back_the_service_default(fresh: Graph) -> None:
    shipped = fresh.ok(f"{CROSS_TENANT}/default")
    trust = {"isMfaAccepted": True, "isCompliantDeviceAccepted": True, "isHybridAzureADJoinedDeviceAccepted": False}
    _no_content(fresh.patch(f"{CROSS_TENANT}/default", {"inboundTrust": trust, "b2bDirectConnectInbound": shipped["b2bCollaborationInbound"]}))
    # crosstenantaccesspolicyconfigurationdefault-resettosystemdefault: no request body, 204.
    _no_content(fresh.request("POST", f"{CROSS_TENANT}/default/resetToSystemDefault"))
    assert fresh.ok(f"{CROSS_TENANT}/default") == shipped
    assert_error(fresh.request("GET", f"{CROSS_TENANT}/default/resetToSystemDefault"), 405, "Request_BadRequest")


def test_partners_are_keyed_by_tenant_id(sim: Simulator, graph: Graph) -> None:
    listed = graph.ok(PARTNERS)
    assert listed["@odata.context"] == _metadata(sim, PARTNERS)
    assert len(listed["value"]) == 2
    for partner in listed["value"]:
        assert "id" not in partner
        assert {"tenantId", "isServiceProvider", "inboundTrust", "b2bCollaborationInbound", "automaticUserConsentSettings"} <= set(partner)
        assert graph.ok(f"{PARTNERS}/{partner['tenantId']}")["tenantId"] == partner["tenantId"]
    selected = graph.ok(PARTNERS, {"$select": "isServiceProvider"})["value"]
    assert all(set(p) == {"tenantId", "isServiceProvider"} for p in selected)  # the key comes along, like id
    assert_error(graph.get(f"{PARTNERS}/{NEW_PARTNER}"), 404, "Request_ResourceNotFound")


def test_partner_create_update_delete(fresh: Graph, fresh_sim: Simulator) -> None:
    body = {
        "tenantId": NEW_PARTNER,
        "b2bDirectConnectOutbound": {
            "usersAndGroups": {
                "accessType": "blocked",
                "targets": [{"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"}],
            }
        },
    }
    created = fresh.post(PARTNERS, body)
    assert created.status_code == 201, created.text
    partner = created.json()
    assert partner["@odata.context"] == _metadata(fresh_sim, f"{PARTNERS}/$entity")
    assert partner["tenantId"] == NEW_PARTNER and partner["inboundTrust"] is None  # unset settings inherit the default
    assert partner["isInMultiTenantOrganization"] is False  # a read-only boolean: in none until the tenant joins one
    assert partner["b2bDirectConnectOutbound"] == body["b2bDirectConnectOutbound"]
    assert "id" not in partner
    assert_error(fresh.post(PARTNERS, {"tenantId": NEW_PARTNER}), 409, "Request_MultipleObjectsWithSameKeyValue")
    assert_error(fresh.post(PARTNERS, {"tenantId": "contoso"}), 400, "Request_BadRequest")
    assert_error(fresh.post(PARTNERS, {"isServiceProvider": True}), 400, "Request_BadRequest")  # tenantId required
    item = f"{PARTNERS}/{NEW_PARTNER}"
    _no_content(fresh.patch(item, {"isServiceProvider": True, "tenantId": NEW_PARTNER}))  # the key repeated unchanged
    assert fresh.ok(item)["isServiceProvider"] is True
    assert_error(fresh.patch(item, {"tenantId": "0b5f6f5e-1b5d-4c49-8a44-7a32c2a2c1a1"}), 400, "Request_BadRequest")
    assert_error(fresh.patch(item, {"isInMultiTenantOrganization": True}), 400, "Request_BadRequest")
    _no_content(fresh.delete(item))
    assert_error(fresh.get(item), 404, "Request_ResourceNotFound")
    assert len(fresh.ok(PARTNERS)["value"]) == 2


# --- token lifetime and group lifecycle policies ------------------------------------------------------------


def test_token_lifetime_policies(fresh: Graph, fresh_sim: Simulator) -> None:
    seeded = fresh.ok(TOKEN_LIFETIMES)["value"]
    assert len(seeded) == 1
    assert set(seeded[0]) == {"id", "deletedDateTime", "displayName", "description", "definition", "isOrganizationDefault"}
    assert isinstance(seeded[0]["definition"], list) and "TokenLifetimePolicy" in seeded[0]["definition"][0]
    definition = ['{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"8:00:00"}}']
    created = fresh.post(TOKEN_LIFETIMES, {"displayName": "Contoso token policy", "definition": definition, "isOrganizationDefault": True})
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["@odata.context"] == _metadata(fresh_sim, f"{TOKEN_LIFETIMES}/$entity")
    assert policy["definition"] == definition and policy["isOrganizationDefault"] is True
    _no_content(fresh.patch(f"{TOKEN_LIFETIMES}/{policy['id']}", {"isOrganizationDefault": False}))
    assert fresh.ok(f"{TOKEN_LIFETIMES}/{policy['id']}")["isOrganizationDefault"] is False
    assert_error(fresh.patch(f"{TOKEN_LIFETIMES}/{policy['id']}", {"definition": ["8 hours"]}), 400, "Request_BadRequest")
    assert_error(fresh.patch(f"{TOKEN_LIFETIMES}/{policy['id']}", {"definition": "{}"}), 400, "Request_BadRequest")
    _no_content(fresh.delete(f"{TOKEN_LIFETIMES}/{policy['id']}"))
    assert_error(fresh.get(f"{TOKEN_LIFETIMES}/{policy['id']}"), 404, "Request_ResourceNotFound")


def test_group_lifecycle_policy_patch_answers_200_with_the_policy(fresh: Graph, fresh_sim: Simulator) -> None:
    seeded = fresh.ok(LIFECYCLE)["value"]
    assert len(seeded) == 1
    assert set(seeded[0]) == {"id", "groupLifetimeInDays", "managedGroupTypes", "alternateNotificationEmails"}
    item = f"{LIFECYCLE}/{seeded[0]['id']}"
    response = fresh.patch(item, {"groupLifetimeInDays": 365, "managedGroupTypes": "All"})
    assert response.status_code == 200, response.text  # grouplifecyclepolicy-update
    assert response.json()["@odata.context"] == _metadata(fresh_sim, f"{LIFECYCLE}/$entity")
    assert response.json()["groupLifetimeInDays"] == 365 and response.json()["managedGroupTypes"] == "All"
    assert_error(fresh.patch(item, {"managedGroupTypes": "Some"}), 400, "Request_BadRequest")
    created = fresh.post(LIFECYCLE, {"groupLifetimeInDays": 100, "managedGroupTypes": "None", "alternateNotificationEmails": "a@b.c"})
    assert created.status_code == 201, created.text
    _no_content(fresh.delete(f"{LIFECYCLE}/{created.json()['id']}"))


# --- authentication contexts and strengths ------------------------------------------------------------------


def test_authentication_contexts_are_created_or_updated_by_patch(fresh: Graph) -> None:
    listed = {c["id"]: c for c in fresh.ok(CONTEXTS)["value"]}
    assert listed["c1"] == {
        "id": "c1",
        "displayName": "Require compliant device for sensitive actions",
        "description": listed["c1"]["description"],
        "isAvailable": True,
    }
    body = {"displayName": "Contoso medium", "description": "Medium protection level defined for Contoso policy", "isAvailable": True}
    _no_content(fresh.patch(f"{CONTEXTS}/c25", body))  # unused id: created
    assert fresh.ok(f"{CONTEXTS}/c25") | {"@odata.context": None} == {"@odata.context": None, "id": "c25", **body}
    _no_content(fresh.patch(f"{CONTEXTS}/c25", {"isAvailable": False}))  # used id: updated
    assert fresh.ok(f"{CONTEXTS}/c25")["displayName"] == "Contoso medium"
    _no_content(fresh.patch(f"{CONTEXTS}/c26", {}))  # an empty body creates one with nulls (the update page)
    assert fresh.ok(f"{CONTEXTS}/c26")["displayName"] is None
    assert fresh.ok(CONTEXTS, {"$filter": "isAvailable eq false"})["value"][0]["id"] == "c2"
    # The Conditional Access backend answers with generic codes (graph-behaviour §5).
    assert_error(fresh.patch(f"{CONTEXTS}/c100", body), 400, "BadRequest")
    assert_error(fresh.patch(f"{CONTEXTS}/high", body), 400, "BadRequest")
    assert_error(fresh.patch(f"{CONTEXTS}/c1", {"id": "c3"}), 400, "BadRequest")
    _no_content(fresh.delete(f"{CONTEXTS}/c25"))
    assert_error(fresh.get(f"{CONTEXTS}/c25"), 404, "itemNotFound")
    assert_error(fresh.delete(f"{CONTEXTS}/c25"), 404, "itemNotFound")


def test_authentication_contexts_share_the_conditional_access_limit() -> None:
    with tuned(throttling=True) as (sim, graph):
        assert graph.get(CONTEXTS).status_code == 200
        # One request per second, tenant-wide (graph-behaviour §4)
        refused = graph.get("identity/conditionalAccess/policies")
        assert refused.status_code == 429 and "Retry-After" not in refused.headers
        sim.clock.advance(2.0)
        assert graph.get("identity/conditionalAccess/policies").status_code == 200
        refused = graph.get(CONTEXTS)
        assert refused.status_code == 429 and "x-ms-resource-unit" not in refused.headers
        # The policies under /policies are directory calls: no CA limit, one resource unit each
        # (graph-behaviour §4 default).
        for path in (AUTHORIZATION, METHODS, STRENGTHS, f"{CROSS_TENANT}/default", "organization"):
            response = graph.get(path)
            assert response.status_code == 200, path
            assert response.headers["x-ms-resource-unit"] == "1"


def test_built_in_authentication_strengths_are_listed_and_read_only(sim: Simulator, graph: Graph) -> None:
    listed = graph.ok(STRENGTHS)
    assert listed["@odata.context"] == _metadata(sim, STRENGTHS)
    built_in = {p["id"]: p for p in listed["value"] if p["policyType"] == "builtIn"}
    assert {i: p["displayName"] for i, p in built_in.items()} == BUILT_IN_STRENGTHS
    mfa = built_in["00000000-0000-0000-0000-000000000002"]
    assert mfa["requirementsSatisfied"] == "mfa" and "password,sms" in mfa["allowedCombinations"]
    assert mfa["createdDateTime"] == "2021-12-01T00:00:00Z" and mfa["combinationConfigurations"] == []
    assert built_in["00000000-0000-0000-0000-000000000004"]["allowedCombinations"] == [
        "windowsHelloForBusiness",
        "fido2",
        "x509CertificateMultiFactor",
    ]
    custom = [p for p in listed["value"] if p["policyType"] == "custom"]
    assert len(custom) == 1
    assert graph.ok(STRENGTHS, {"$filter": "policyType eq 'custom'"})["value"] == custom
    item = f"{STRENGTHS}/00000000-0000-0000-0000-000000000003"
    assert_error(graph.patch(item, {"description": "mine now"}), 400, "BadRequest")
    assert_error(graph.delete(item), 400, "BadRequest")
    assert_error(graph.post(f"{item}/updateAllowedCombinations", {"allowedCombinations": ["fido2"]}), 400, "BadRequest")
    assert graph.ok(item)["description"] == built_in[item.rsplit("/", 1)[1]]["description"]


def test_custom_authentication_strength_lifecycle(fresh: Graph, fresh_sim: Simulator) -> None:
    body = {
        "@odata.type": "#microsoft.graph.authenticationStrengthPolicy",
        "displayName": "Contoso authentication level",
        "description": "The only authentication level allowed to access our secret apps",
        "allowedCombinations": ["password, hardwareOath", "password, sms"],
    }
    created = fresh.post(STRENGTHS, body)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["@odata.context"] == _metadata(fresh_sim, f"{STRENGTHS}/$entity")
    assert (policy["policyType"], policy["requirementsSatisfied"]) == ("custom", "mfa")
    assert policy["allowedCombinations"] == body["allowedCombinations"]
    assert policy["createdDateTime"] and policy["modifiedDateTime"]
    item = f"{STRENGTHS}/{policy['id']}"
    # PATCH changes names only; combinations go through updateAllowedCombinations (a restore may repeat them).
    _no_content(fresh.patch(item, {"displayName": "FIDO2 only", "allowedCombinations": body["allowedCombinations"]}))
    assert_error(fresh.patch(item, {"allowedCombinations": ["fido2"]}), 400, "BadRequest")
    assert_error(fresh.patch(item, {"policyType": "builtIn"}), 400, "BadRequest")
    assert_error(fresh.post(STRENGTHS, {**body, "allowedCombinations": ["password, carrierPigeon"]}), 400, "BadRequest")
    response = fresh.post(f"{item}/updateAllowedCombinations", {"allowedCombinations": ["fido2", "password"]})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["@odata.context"] == _metadata(fresh_sim, "microsoft.graph.updateAllowedCombinationsResult")
    assert result["previousCombinations"] == body["allowedCombinations"]
    assert result["currentCombinations"] == ["fido2", "password"]
    assert result["conditionalAccessReferences"] == []
    after = fresh.ok(item)
    assert after["allowedCombinations"] == ["fido2", "password"] and after["displayName"] == "FIDO2 only"
    assert after["requirementsSatisfied"] == "none"  # a password alone is not multifactor
    _no_content(fresh.delete(item))
    assert_error(fresh.get(item), 404, "itemNotFound")


# --- directory settings -------------------------------------------------------------------------------------


def test_group_setting_templates_are_read_only(sim: Simulator, graph: Graph) -> None:
    templates = {t["id"]: t for t in graph.ok(TEMPLATES)["value"]}
    unified = templates[GROUP_UNIFIED]
    assert unified["displayName"] == "Group.Unified"
    names = [v["name"] for v in unified["values"]]
    documented = ("EnableGroupCreation", "GroupCreationAllowedGroupId", "AllowGuestsToAccessGroups", "UsageGuidelinesUrl", "ClassificationList")
    assert set(documented) <= set(names)
    assert all(set(v) == {"name", "type", "defaultValue", "description"} for v in unified["values"])
    single = graph.ok(f"{TEMPLATES}/{GROUP_UNIFIED}")
    assert single["@odata.context"] == _metadata(sim, f"{TEMPLATES}/$entity")


def test_group_settings_from_a_template(fresh: Graph, fresh_sim: Simulator) -> None:
    seeded = fresh.ok(SETTINGS)["value"]
    assert len(seeded) == 1
    setting = seeded[0]
    assert setting["displayName"] == "Group.Unified" and setting["templateId"] == GROUP_UNIFIED
    values = {v["name"]: v["value"] for v in setting["values"]}
    assert values["EnableGroupCreation"] == "false" and values["AllowGuestsToAccessGroups"] == "true"
    assert fresh.ok(f"groups/{values['GroupCreationAllowedGroupId']}")["securityEnabled"] is True
    item = f"{SETTINGS}/{setting['id']}"
    # One value named: the others keep theirs [UNCONFIRMED, groupsetting-update example].
    _no_content(fresh.patch(item, {"values": [{"name": "AllowToAddGuests", "value": "false"}]}))
    after = {v["name"]: v["value"] for v in fresh.ok(item)["values"]}
    assert after == {**values, "AllowToAddGuests": "false"}
    assert_error(fresh.patch(item, {"values": [{"name": "EnableTimeTravel", "value": "true"}]}), 400, "Request_BadRequest")
    assert_error(fresh.patch(item, {"displayName": "Mine"}), 400, "Request_BadRequest")
    duplicate = fresh.post(SETTINGS, {"templateId": GROUP_UNIFIED, "values": []})
    assert_error(duplicate, 409, "Request_MultipleObjectsWithSameKeyValue")
    assert_error(fresh.post(SETTINGS, {"templateId": "00000000-0000-0000-0000-00000000abcd"}), 400, "Request_BadRequest")
    _no_content(fresh.delete(item))
    created = fresh.post(SETTINGS, {"templateId": GROUP_UNIFIED, "values": [{"name": "EnableGroupCreation", "value": "false"}]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["@odata.context"] == _metadata(fresh_sim, f"{SETTINGS}/$entity")
    assert body["displayName"] == "Group.Unified"
    created_values = {v["name"]: v["value"] for v in body["values"]}
    assert created_values["EnableGroupCreation"] == "false"
    assert created_values["AllowGuestsToAccessGroups"] == "true"  # the template's default
    assert set(created_values) == set(values)


# --- organization -------------------------------------------------------------------------------------------


def test_organization_is_a_collection_of_exactly_one(sim: Simulator, graph: Graph) -> None:
    listed = graph.ok("organization")
    assert listed["@odata.context"] == _metadata(sim, "organization")
    assert len(listed["value"]) == 1
    organization = listed["value"][0]
    assert organization["id"] == sim.tenant_id and organization["displayName"] == sim.tenant.organization
    assert organization["tenantType"] == "AAD"
    initial = [d for d in organization["verifiedDomains"] if d["isInitial"]]
    assert [d["name"] for d in initial] == [sim.tenant.domain]
    for prop in ("assignedPlans", "createdDateTime", "countryLetterCode", "privacyProfile", "technicalNotificationMails"):
        assert prop in organization, prop
    single = graph.ok(f"organization/{sim.tenant_id}")
    assert single["@odata.context"] == _metadata(sim, "organization/$entity")
    assert {k: v for k, v in single.items() if k != "@odata.context"} == organization
    assert_error(graph.get("organization/00000000-0000-0000-0000-000000000000"), 404, "Request_ResourceNotFound")


def test_organization_patch_writes_only_the_notification_and_privacy_settings(fresh: Graph, fresh_sim: Simulator) -> None:
    item = f"organization/{fresh_sim.tenant_id}"
    # The organization-update example, verbatim.
    body = {
        "marketingNotificationEmails": ["marketing@contoso.com"],
        "privacyProfile": {"contactEmail": "alice@contoso.com", "statementUrl": "https://contoso.com/privacyStatement"},
        "securityComplianceNotificationMails": ["security@contoso.com"],
        "securityComplianceNotificationPhones": ["(123) 456-7890"],
        "technicalNotificationMails": ["tech@contoso.com"],
    }
    _no_content(fresh.patch(item, body))
    after = fresh.ok(item)
    assert {k: after[k] for k in body} == body
    for prop, value in (("displayName", "Contoso"), ("verifiedDomains", []), ("tenantType", "AADB2C"), ("createdDateTime", None)):
        assert_error(fresh.patch(item, {prop: value}), 400, "Request_BadRequest", f"Property '{prop}' is read-only and cannot be set.")
    assert_error(fresh.patch(item, {"technicalNotificationMails": None}), 400, "Request_BadRequest")  # not nullable
    assert_error(fresh.patch(item, {"privacyProfile": {"phone": "1"}}), 400, "Request_BadRequest")


# --- how a backup reads them --------------------------------------------------------------------------------


def test_a_backup_can_batch_the_policy_reads(sim: Simulator, graph: Graph) -> None:
    paths = [AUTHORIZATION, METHODS, SECURITY_DEFAULTS, CROSS_TENANT, f"{CROSS_TENANT}/default", PARTNERS, TOKEN_LIFETIMES]
    paths += [LIFECYCLE, CONTEXTS, STRENGTHS, SETTINGS, "organization"]
    answers = by_id(graph.post("$batch", batch_of(*({"method": "GET", "url": f"/{path}"} for path in paths))))
    for number, path in enumerate(paths, 1):
        answer = answers[str(number)]
        assert answer["status"] == 200, (path, answer)
        assert answer["body"] == graph.ok(path), path


def test_policy_seed_is_reproducible_and_leaves_the_rest_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = Simulator(seed=11), Simulator(seed=11)
    for name in POLICY_COLLECTIONS:
        assert one.tenant.objects[name.name] == two.tenant.objects[name.name], name.name
    partners = one.tenant.objects["crossTenantAccessPolicyPartners"]
    assert set(partners) == {p["tenantId"] for p in partners.values()}
    assert Simulator(seed=12).tenant.objects["crossTenantAccessPolicyPartners"].keys() != partners.keys()
    # Without the policies, every other object and link is what it was: they come last, from their own stream.
    monkeypatch.setattr(entragit.sim.seed, "seed_policies", lambda *args: None)
    without = Simulator(seed=11)
    policy_names = {spec.name for spec in POLICY_COLLECTIONS}
    # What a policy object holds (the organization's branding) goes with it.
    policy_names |= {nested.spec.name for nested in NESTED if nested.parent in policy_names}
    assert {n: o for n, o in one.tenant.objects.items() if n not in policy_names} == {
        n: o for n, o in without.tenant.objects.items() if n not in policy_names
    }
    assert one.tenant.links == without.tenant.links
    assert (one.tenant_id, one.client_id, one.client_secret) == (without.tenant_id, without.client_id, without.client_secret)
    assert all(not without.tenant.objects[name] for name in policy_names)
