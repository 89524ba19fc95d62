"""Tenant policy objects a complete backup reads: singletons (one object at a fixed path) and small collections.

The shapes follow the Graph v1.0 resource pages (learn.microsoft.com/graph/api/resources/<type>); where a page
is silent the choice is marked [UNCONFIRMED]. Like model.py this is a table: the generic handlers in graph.py
serve every entry, and the rules below are what the table cannot say (value ranges, built-in objects).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from entragit.sim.apps import TenantView
from entragit.sim.errors import GraphFault, bad_request
from entragit.sim.model import (
    BOOL,
    CONDITIONAL_ACCESS_CODES,
    INT,
    OBJ,
    OBJS,
    STR,
    STRS,
    CollectionSpec,
    check_choice,
)

READ_ONLY = frozenset({"GET"})
READ_WRITE = frozenset({"GET", "PATCH"})


def _is_guid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _one_of(changes: dict[str, Any], name: str, allowed: tuple[str, ...], resource: str) -> None:
    """Like check_choice, but null is no value here either."""
    if name in changes and changes[name] is None:
        raise bad_request(f"Invalid value specified for property '{name}' of resource '{resource}'.")
    check_choice(changes, name, allowed, resource)


def conflict(message: str) -> GraphFault:
    # The code Entra uses for a second object with the same key (a second service principal of an app);
    # that these endpoints answer with it too is [UNCONFIRMED].
    return GraphFault(409, "Request_MultipleObjectsWithSameKeyValue", message)


# --- authorizationPolicy (authorizationpolicy.md; graph-behaviour §9) ----------------------------------------

GUEST_USER_ROLES = (
    "a0b1b346-4d3e-4e8b-98f8-753987be4970",  # User: guests get member access
    "10dae51f-b6af-4016-8d66-8c2a99b929b3",  # Guest User
    "2af84b1e-32c8-42b7-82bc-daa82404023b",  # Restricted Guest User
)
ALLOW_INVITES_FROM = ("none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone")
DEFAULT_USER_ROLE_PERMISSIONS = {
    "allowedToCreateApps": bool,
    "allowedToCreateSecurityGroups": bool,
    "allowedToCreateTenants": bool,
    "allowedToReadBitlockerKeysForOwnedDevice": bool,
    "allowedToReadOtherUsers": bool,
    "permissionGrantPoliciesAssigned": list,
}


def _validate_authorization_policy(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    _one_of(changes, "allowInvitesFrom", ALLOW_INVITES_FROM, "AuthorizationPolicy")
    _one_of(changes, "guestUserRoleId", GUEST_USER_ROLES, "AuthorizationPolicy")
    for key, value in (changes.get("defaultUserRolePermissions") or {}).items():
        kind = DEFAULT_USER_ROLE_PERMISSIONS.get(key)
        if kind is None:
            raise bad_request(f"Invalid property '{key}' of type 'microsoft.graph.defaultUserRolePermissions'.")
        if not isinstance(value, kind):
            raise bad_request(f"Invalid value specified for property '{key}' of resource 'DefaultUserRolePermissions'.")


AUTHORIZATION_POLICY = CollectionSpec(
    name="authorizationPolicy",
    path="policies/authorizationPolicy",
    odata_type="#microsoft.graph.authorizationPolicy",
    properties={
        "id": STR,
        "displayName": STR,
        "description": STR,
        "allowInvitesFrom": STR,
        "allowedToSignUpEmailBasedSubscriptions": BOOL,
        "allowedToUseSSPR": BOOL,
        "allowEmailVerifiedUsersToJoinOrganization": BOOL,
        "allowUserConsentForRiskyApps": BOOL,
        "blockMsolPowerShell": BOOL,
        "defaultUserRolePermissions": OBJ,
        "guestUserRoleId": STR,
    },
    read_only=frozenset({"id"}),
    # The update page's example sends {"defaultUserRolePermissions": {"allowedToCreateApps": false}} alone:
    # the other permissions keep their values, so the object merges key by key.
    merged=frozenset({"defaultUserRolePermissions"}),
    paged_by_default=False,
    validate=_validate_authorization_policy,
    singleton=True,
)

# --- authenticationMethodsPolicy and its method configurations (authenticationmethodspolicy.md) ---------------

METHOD_TYPES = {
    "Fido2": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
    "MicrosoftAuthenticator": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
    "Sms": "#microsoft.graph.smsAuthenticationMethodConfiguration",
    "Voice": "#microsoft.graph.voiceAuthenticationMethodConfiguration",
    "Email": "#microsoft.graph.emailAuthenticationMethodConfiguration",
    "TemporaryAccessPass": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
    "SoftwareOath": "#microsoft.graph.softwareOathAuthenticationMethodConfiguration",
    "X509Certificate": "#microsoft.graph.x509CertificateAuthenticationMethodConfiguration",
}
TARGET_TYPES = ("group", "user")
ALL_USERS_TARGET = "all_users"


def _validate_targets(changes: Mapping[str, Any], name: str) -> None:
    for target in changes.get(name) or []:
        if not isinstance(target.get("id"), str) or not isinstance(target.get("targetType"), str):
            raise bad_request(f"Invalid value specified for property '{name}': each target needs an id and a targetType.")
        check_choice(target, "targetType", TARGET_TYPES, "AuthenticationMethodTarget")
        if target["id"] != ALL_USERS_TARGET and not _is_guid(target["id"]):
            raise bad_request(f"Invalid value specified for property '{name}': '{target['id']}' is not an object id.")


def _validate_method_configuration(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    _one_of(changes, "state", ("enabled", "disabled"), "AuthenticationMethodConfiguration")
    _one_of(changes, "allowExternalIdToUseEmailOtp", ("default", "enabled", "disabled"), "AuthenticationMethodConfiguration")
    _validate_targets(changes, "includeTargets")
    _validate_targets(changes, "excludeTargets")
    merged = {**(existing or {}), **changes}
    low, default, high = (merged.get(name) for name in ("minimumLifetimeInMinutes", "defaultLifetimeInMinutes", "maximumLifetimeInMinutes"))
    # Temporary Access Pass lifetimes: the default must lie between the minimum and the maximum (TAP docs).
    if isinstance(low, int) and isinstance(default, int) and isinstance(high, int) and not low <= default <= high:
        raise bad_request("defaultLifetimeInMinutes must lie between minimumLifetimeInMinutes and maximumLifetimeInMinutes.")


AUTHENTICATION_METHOD_CONFIGURATIONS = CollectionSpec(
    name="authenticationMethodConfigurations",
    path="policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
    odata_type="#microsoft.graph.authenticationMethodConfiguration",
    properties={"id": STR, "state": STR, "excludeTargets": OBJS},
    subtypes={
        METHOD_TYPES["Fido2"]: {
            "includeTargets": OBJS,
            "isSelfServiceRegistrationAllowed": BOOL,
            "isAttestationEnforced": BOOL,
            "keyRestrictions": OBJ,
        },
        METHOD_TYPES["MicrosoftAuthenticator"]: {"includeTargets": OBJS, "featureSettings": OBJ, "isSoftwareOathEnabled": BOOL},
        METHOD_TYPES["Sms"]: {"includeTargets": OBJS},
        METHOD_TYPES["Voice"]: {"includeTargets": OBJS, "isOfficePhoneAllowed": BOOL},
        METHOD_TYPES["Email"]: {"includeTargets": OBJS, "allowExternalIdToUseEmailOtp": STR},
        METHOD_TYPES["TemporaryAccessPass"]: {
            "includeTargets": OBJS,
            "defaultLifetimeInMinutes": INT,
            "defaultLength": INT,
            "minimumLifetimeInMinutes": INT,
            "maximumLifetimeInMinutes": INT,
            "isUsableOnce": BOOL,
        },
        METHOD_TYPES["SoftwareOath"]: {"includeTargets": OBJS},
        METHOD_TYPES["X509Certificate"]: {
            "includeTargets": OBJS,
            "certificateUserBindings": OBJS,
            "authenticationModeConfiguration": OBJ,
        },
    },
    read_only=frozenset({"id"}),
    paged_by_default=False,
    validate=_validate_method_configuration,
    # The methods are fixed: GET and PATCH per method; whether the list answers on its own is [UNCONFIRMED].
    collection_methods=READ_ONLY,
    item_methods=READ_WRITE,
)


def _validate_authentication_methods_policy(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    _one_of(changes, "policyMigrationState", ("premigration", "migrationInProgress", "migrationComplete"), "AuthenticationMethodsPolicy")
    days = changes.get("reconfirmationInDays")
    # The portal offers 0-365 days [UNCONFIRMED range for Graph].
    if days is not None and not 0 <= days <= 365:
        raise bad_request("Invalid value specified for property 'reconfirmationInDays' of resource 'AuthenticationMethodsPolicy'.")
    campaign = (changes.get("registrationEnforcement") or {}).get("authenticationMethodsRegistrationCampaign") or {}
    _one_of(campaign, "state", ("default", "enabled", "disabled"), "AuthenticationMethodsRegistrationCampaign")
    snooze = campaign.get("snoozeDurationInDays")
    if snooze is not None and not (isinstance(snooze, int) and 0 <= snooze <= 14):
        raise bad_request(
            "Invalid value specified for property 'snoozeDurationInDays' of resource 'AuthenticationMethodsRegistrationCampaign'."
        )


AUTHENTICATION_METHODS_POLICY = CollectionSpec(
    name="authenticationMethodsPolicy",
    path="policies/authenticationMethodsPolicy",
    odata_type="#microsoft.graph.authenticationMethodsPolicy",
    properties={
        "id": STR,
        "displayName": STR,
        "description": STR,
        "lastModifiedDateTime": STR,
        "policyVersion": STR,
        "policyMigrationState": STR,
        "reconfirmationInDays": INT,
        "registrationEnforcement": OBJ,
    },
    read_only=frozenset({"id", "displayName", "description", "lastModifiedDateTime", "policyVersion"}),
    paged_by_default=False,
    modified_stamp="lastModifiedDateTime",
    validate=_validate_authentication_methods_policy,
    singleton=True,
    # authenticationmethodspolicy-update: "200 OK" and the policy in the body.
    patch_returns_object=True,
    # "Automatically expanded on GET /policies/authenticationMethodsPolicy" (resource page, relationships).
    inline={"authenticationMethodConfigurations": AUTHENTICATION_METHOD_CONFIGURATIONS.name},
    # Both doc examples give '$metadata#authenticationMethodsPolicy', without '/$entity'.
    entity_context="authenticationMethodsPolicy",
)

# --- security defaults (identitysecuritydefaultsenforcementpolicy.md) ----------------------------------------

SECURITY_DEFAULTS = CollectionSpec(
    name="identitySecurityDefaultsEnforcementPolicy",
    path="policies/identitySecurityDefaultsEnforcementPolicy",
    odata_type="#microsoft.graph.identitySecurityDefaultsEnforcementPolicy",
    properties={"id": STR, "displayName": STR, "description": STR, "isEnabled": BOOL},
    # The update page documents isEnabled alone; that displayName and description refuse writes is [UNCONFIRMED].
    read_only=frozenset({"id", "displayName", "description"}),
    paged_by_default=False,
    singleton=True,
)

# --- external identities policy (beta externalidentitiespolicy.md; v1.0 has no such resource) ---------------

EXTERNAL_IDENTITIES_POLICY = CollectionSpec(
    name="externalIdentitiesPolicy",
    path="policies/externalIdentitiesPolicy",
    odata_type="#microsoft.graph.externalIdentitiesPolicy",
    properties={"id": STR, "deletedDateTime": STR, "displayName": STR, "description": STR,
                "allowExternalIdentitiesToLeave": BOOL, "allowDeletedIdentitiesDataRemoval": BOOL},
    # The update page documents allowExternalIdentitiesToLeave alone (allowDeletedIdentitiesDataRemoval is
    # "reserved for future use"); that the others refuse writes is [UNCONFIRMED].
    read_only=frozenset({"id", "deletedDateTime", "displayName", "description", "allowDeletedIdentitiesDataRemoval"}),
    paged_by_default=False,
    singleton=True,
    beta_only=True,
)

# --- cross-tenant access (crosstenantaccesspolicy*.md) -------------------------------------------------------

CLOUD_ENDPOINTS = ("microsoftonline.com", "microsoftonline.us", "partner.microsoftonline.cn")
B2B_SETTINGS = ("b2bCollaborationInbound", "b2bCollaborationOutbound", "b2bDirectConnectInbound", "b2bDirectConnectOutbound")
B2B_TARGET_TYPES = {"usersAndGroups": ("user", "group"), "applications": ("application",)}


def _validate_cross_tenant_settings(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    """crossTenantAccessPolicyB2BSetting: usersAndGroups and applications, each an accessType and targets."""
    for name in B2B_SETTINGS:
        for part, target_types in B2B_TARGET_TYPES.items():
            access = (changes.get(name) or {}).get(part)
            if access is None:
                continue
            if access.get("accessType") not in ("allowed", "blocked"):
                raise bad_request(f"Invalid value specified for property 'accessType' of '{name}.{part}'.")
            for target in access.get("targets") or []:
                if target.get("targetType") not in target_types or not isinstance(target.get("target"), str):
                    raise bad_request(f"Invalid value specified for property 'targets' of '{name}.{part}'.")
    if "tenantId" in changes and not _is_guid(changes["tenantId"]):
        raise bad_request("Invalid value specified for property 'tenantId' of resource 'CrossTenantAccessPolicyConfigurationPartner'.")


def _validate_cross_tenant_policy(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    for endpoint in changes.get("allowedCloudEndpoints") or []:
        if endpoint not in CLOUD_ENDPOINTS:
            raise bad_request(f"Invalid value '{endpoint}' for property 'allowedCloudEndpoints'.")


def b2b_setting(access: str, users: str = "AllUsers", user_type: str = "user") -> dict[str, Any]:
    return {
        "usersAndGroups": {"accessType": access, "targets": [{"target": users, "targetType": user_type}]},
        "applications": {"accessType": access, "targets": [{"target": "AllApplications", "targetType": "application"}]},
    }


def cross_tenant_system_default() -> dict[str, Any]:
    """The default configuration as the service ships it (crosstenantaccesspolicyconfigurationdefault-get)."""
    return {
        "isServiceDefault": True,
        "inboundTrust": {"isMfaAccepted": False, "isCompliantDeviceAccepted": False, "isHybridAzureADJoinedDeviceAccepted": False},
        "b2bCollaborationInbound": b2b_setting("allowed"),
        "b2bCollaborationOutbound": b2b_setting("allowed"),
        "b2bDirectConnectInbound": b2b_setting("blocked"),
        "b2bDirectConnectOutbound": b2b_setting("blocked"),
        "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
        "invitationRedemptionIdentityProviderConfiguration": {
            "primaryIdentityProviderPrecedenceOrder": ["externalFederation", "azureActiveDirectory", "socialIdentityProviders"],
            "fallbackIdentityProvider": "defaultConfiguredIdp",
        },
        "tenantRestrictions": None,
    }


def _customised(config: dict[str, Any]) -> None:
    # Once written, the default configuration is the tenant's own, no longer the service default.
    config["isServiceDefault"] = False


CROSS_TENANT_SETTINGS = {name: OBJ for name in ("inboundTrust", *B2B_SETTINGS, "automaticUserConsentSettings", "tenantRestrictions")}

CROSS_TENANT_ACCESS_POLICY = CollectionSpec(
    name="crossTenantAccessPolicy",
    path="policies/crossTenantAccessPolicy",
    odata_type="#microsoft.graph.crossTenantAccessPolicy",
    # The resource's JSON has no id; the simulator's filing id is never returned.
    properties={"displayName": STR, "allowedCloudEndpoints": STRS},
    # The update page lists allowedCloudEndpoints only; displayName refusing writes is [UNCONFIRMED].
    read_only=frozenset({"displayName"}),
    paged_by_default=False,
    validate=_validate_cross_tenant_policy,
    singleton=True,
)

CROSS_TENANT_DEFAULT = CollectionSpec(
    name="crossTenantAccessPolicyDefault",
    path="policies/crossTenantAccessPolicy/default",
    odata_type="#microsoft.graph.crossTenantAccessPolicyConfigurationDefault",
    properties={"isServiceDefault": BOOL, **CROSS_TENANT_SETTINGS, "invitationRedemptionIdentityProviderConfiguration": OBJ},
    # automaticUserConsentSettings: "always false and can't be updated in the default configuration. Read-only."
    read_only=frozenset({"isServiceDefault", "automaticUserConsentSettings"}),
    paged_by_default=False,
    validate=_validate_cross_tenant_settings,
    after_write=_customised,
    singleton=True,
)

def _complete_partner(tenant: TenantView, partner: dict[str, Any]) -> None:
    # A partner made through Graph is in no multitenant organization until the tenant joins one
    # (crosstenantaccesspolicyconfigurationpartner.md: a read-only boolean, never null).
    partner["isInMultiTenantOrganization"] = bool(partner.get("isInMultiTenantOrganization"))


CROSS_TENANT_PARTNERS = CollectionSpec(
    name="crossTenantAccessPolicyPartners",
    path="policies/crossTenantAccessPolicy/partners",
    odata_type="#microsoft.graph.crossTenantAccessPolicyConfigurationPartner",
    properties={"tenantId": STR, "isServiceProvider": BOOL, "isInMultiTenantOrganization": BOOL, **CROSS_TENANT_SETTINGS},
    read_only=frozenset({"isInMultiTenantOrganization"}),
    create_only=frozenset({"tenantId"}),
    required_on_create=("tenantId",),
    filterable=frozenset({"tenantId"}),
    # Whether the partner list pages is [UNCONFIRMED]; tenants have a handful of partners.
    paged_by_default=False,
    validate=_validate_cross_tenant_settings,
    complete=_complete_partner,
    key="tenantId",
)

# --- token lifetime and group lifecycle policies -------------------------------------------------------------


def _validate_token_lifetime_policy(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    # definition is a collection of JSON strings, one {"TokenLifetimePolicy": {...}} (tokenlifetimepolicy.md).
    for text in changes.get("definition") or []:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("TokenLifetimePolicy"), dict):
            raise bad_request("Invalid value specified for property 'definition' of resource 'TokenLifetimePolicy'.")


TOKEN_LIFETIME_POLICIES = CollectionSpec(
    name="tokenLifetimePolicies",
    path="policies/tokenLifetimePolicies",
    odata_type="#microsoft.graph.tokenLifetimePolicy",
    properties={
        "id": STR,
        "deletedDateTime": STR,
        "displayName": STR,
        "description": STR,
        "definition": STRS,
        "isOrganizationDefault": BOOL,
    },
    read_only=frozenset({"id", "deletedDateTime"}),
    required_on_create=("displayName", "definition"),
    filterable=frozenset({"id", "displayName"}),
    validate=_validate_token_lifetime_policy,
)


def _validate_group_lifecycle_policy(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    _one_of(changes, "managedGroupTypes", ("All", "Selected", "None"), "GroupLifecyclePolicy")
    days = changes.get("groupLifetimeInDays")
    if days is not None and days < 1:
        raise bad_request("Invalid value specified for property 'groupLifetimeInDays' of resource 'GroupLifecyclePolicy'.")


GROUP_LIFECYCLE_POLICIES = CollectionSpec(
    name="groupLifecyclePolicies",
    path="groupLifecyclePolicies",
    odata_type="#microsoft.graph.groupLifecyclePolicy",
    # alternateNotificationEmails is one string, addresses separated by semicolons (grouplifecyclepolicy.md).
    properties={"id": STR, "groupLifetimeInDays": INT, "managedGroupTypes": STR, "alternateNotificationEmails": STR},
    read_only=frozenset({"id"}),
    # Which properties POST requires is [UNCONFIRMED]; a policy without these two means nothing.
    required_on_create=("groupLifetimeInDays", "managedGroupTypes"),
    validate=_validate_group_lifecycle_policy,
    # grouplifecyclepolicy-update: "200 OK and updated groupLifecyclePolicy object in the response body".
    patch_returns_object=True,
)

# --- authentication contexts and strengths (Conditional Access) ----------------------------------------------

# The brief of this simulator allows c1..c99; the v1.0 page names no range (older tooling says c1..c25).
AUTHENTICATION_CONTEXT_ID = re.compile(r"^c([1-9][0-9]?)$")


def _check_context_id(key: str) -> None:
    if not AUTHENTICATION_CONTEXT_ID.match(key):
        raise GraphFault(400, CONDITIONAL_ACCESS_CODES.bad_request, f"Invalid authentication context id '{key}'; expected c1 to c99.")


AUTHENTICATION_CONTEXTS = CollectionSpec(
    name="authenticationContextClassReferences",
    path="identity/conditionalAccess/authenticationContextClassReferences",
    odata_type="#microsoft.graph.authenticationContextClassReference",
    properties={"id": STR, "displayName": STR, "description": STR, "isAvailable": BOOL},
    read_only=frozenset({"id"}),
    filterable=frozenset({"id", "displayName", "isAvailable"}),
    paged_by_default=False,
    codes=CONDITIONAL_ACCESS_CODES,
    # v1.0 documents "Create or update" by PATCH only; POST on the list is beta.
    collection_methods=READ_ONLY,
    upsert=_check_context_id,
)

BUILT_IN = "builtIn"
# Flagged enum authenticationMethodModes (authenticationstrengthroot-post-policies.md).
METHOD_MODES = frozenset(
    {
        "password", "voice", "hardwareOath", "softwareOath", "sms", "fido2", "windowsHelloForBusiness",
        "microsoftAuthenticatorPush", "deviceBasedPush", "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse",
        "email", "x509CertificateSingleFactor", "x509CertificateMultiFactor", "federatedSingleFactor",
        "federatedMultiFactor",
    }
)  # fmt: skip
# Modes that satisfy MFA on their own; any combination of two modes does too [UNCONFIRMED rule for requirementsSatisfied].
MULTIFACTOR_MODES = frozenset(
    {
        "windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush",
        "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse", "federatedMultiFactor",
    }
)  # fmt: skip


def combination_modes(combination: str) -> list[str]:
    """'password, sms' -> ['password', 'sms']: the docs send combinations with and without the space."""
    return [mode.strip() for mode in combination.split(",")]


def check_combinations(combinations: Any) -> None:
    if not isinstance(combinations, list) or not combinations:
        raise bad_request("Invalid value specified for property 'allowedCombinations'.", CONDITIONAL_ACCESS_CODES.bad_request)
    for combination in combinations:
        if not isinstance(combination, str) or not set(combination_modes(combination)) <= METHOD_MODES:
            raise bad_request(f"Invalid authentication method combination '{combination}'.", CONDITIONAL_ACCESS_CODES.bad_request)


def refuse_built_in(policy: Mapping[str, Any]) -> None:
    """Built-in strengths are read-only (authenticationstrengthpolicy.md: "You can't update ... delete")."""
    if policy.get("policyType") == BUILT_IN:
        raise bad_request("Built-in authentication strength policies cannot be changed.", CONDITIONAL_ACCESS_CODES.bad_request)


def _validate_strength(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    if existing is not None:
        refuse_built_in(existing)
    if "allowedCombinations" in changes:
        check_combinations(changes["allowedCombinations"])


def _strength_requirements(policy: dict[str, Any]) -> None:
    policy["policyType"] = policy["policyType"] or "custom"
    modes = [combination_modes(c) for c in policy["allowedCombinations"]]
    satisfied = all(len(m) > 1 or m[0] in MULTIFACTOR_MODES for m in modes)
    policy["requirementsSatisfied"] = "mfa" if satisfied else "none"


AUTHENTICATION_STRENGTHS = CollectionSpec(
    name="authenticationStrengthPolicies",
    path="policies/authenticationStrengthPolicies",
    odata_type="#microsoft.graph.authenticationStrengthPolicy",
    properties={
        "id": STR,
        "createdDateTime": STR,
        "modifiedDateTime": STR,
        "displayName": STR,
        "description": STR,
        "policyType": STR,
        "requirementsSatisfied": STR,
        "allowedCombinations": STRS,
        # A relationship the list returns expanded (authenticationstrengthroot-list-policies example).
        "combinationConfigurations": OBJS,
    },
    read_only=frozenset({"id", "createdDateTime", "modifiedDateTime", "policyType", "combinationConfigurations"}),
    # Derived from the combinations; a create that repeats it (as a copy of a listed policy does) is accepted.
    computed=frozenset({"requirementsSatisfied"}),
    # Combinations change only through POST .../updateAllowedCombinations (authenticationstrengthpolicy-update);
    # a PATCH may repeat them unchanged, as a restore does.
    create_only=frozenset({"allowedCombinations"}),
    required_on_create=("displayName", "allowedCombinations"),
    filterable=frozenset({"id", "displayName", "policyType"}),
    paged_by_default=False,
    modified_stamp="modifiedDateTime",
    # The strengths are served by the Conditional Access team's backend; its generic codes are [UNCONFIRMED] here.
    codes=CONDITIONAL_ACCESS_CODES,
    validate=_validate_strength,
    after_write=_strength_requirements,
    check_delete=refuse_built_in,
)

# --- directory settings (groupsetting.md, groupsettingtemplate.md) -------------------------------------------

GROUP_UNIFIED_TEMPLATE_ID = "62375ab9-6b52-47ed-826b-58e47e0e304b"
PASSWORD_RULE_TEMPLATE_ID = "5cf42378-d67d-4f36-ba46-e8b86229381d"


def _setting(name: str, kind: str, default: str, description: str) -> dict[str, str]:
    return {"name": name, "type": kind, "defaultValue": default, "description": description}


# Values in the order Graph lists them for the Group.Unified template (names and defaults: Entra's
# "Microsoft Entra cmdlets for configuring group settings"); descriptions shortened.
GROUP_SETTING_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "id": GROUP_UNIFIED_TEMPLATE_ID,
        "deletedDateTime": None,
        "displayName": "Group.Unified",
        "description": "Setting templates define the different settings that can be used for the associated ObjectSettings. "
        "This template defines settings that can be used for Unified Groups.",
        "values": [
            _setting("NewUnifiedGroupWritebackDefault", "System.Boolean", "true", "Default value of writeback for new Unified groups."),
            _setting("EnableMIPLabels", "System.Boolean", "false", "Whether sensitivity labels can be applied to Microsoft 365 groups."),
            _setting("CustomBlockedWordsList", "System.String", "", "Comma-delimited blocked words for group names and aliases."),
            _setting("EnableMSStandardBlockedWords", "System.Boolean", "false", "Whether Microsoft's standard blocked words apply."),
            _setting("ClassificationDescriptions", "System.String", "", "Comma-delimited classification:description pairs."),
            _setting("DefaultClassification", "System.String", "", "Classification given to groups created without one."),
            _setting("PrefixSuffixNamingRequirement", "System.String", "", "Naming policy for Microsoft 365 groups."),
            _setting("AllowGuestsToBeGroupOwner", "System.Boolean", "false", "Whether guests can own groups."),
            _setting("AllowGuestsToAccessGroups", "System.Boolean", "true", "Whether guests can access group content."),
            _setting("GuestUsageGuidelinesUrl", "System.String", "", "Link to the guest usage guidelines."),
            _setting("GroupCreationAllowedGroupId", "System.Guid", "", "Security group whose members may create groups."),
            _setting("AllowToAddGuests", "System.Boolean", "true", "Whether guests can be added to groups."),
            _setting("UsageGuidelinesUrl", "System.String", "", "Link to the group usage guidelines."),
            _setting("ClassificationList", "System.String", "", "Comma-delimited classifications for groups."),
            _setting("EnableGroupCreation", "System.Boolean", "true", "Whether non-admin users can create groups."),
        ],
    },
    {
        "id": PASSWORD_RULE_TEMPLATE_ID,
        "deletedDateTime": None,
        "displayName": "Password Rule Settings",
        "description": "Settings for managing tenant-wide password rules.",
        "values": [
            _setting("BannedPasswordCheckOnPremisesMode", "System.String", "Audit", "How banned passwords are checked on-premises."),
            _setting("EnableBannedPasswordCheckOnPremises", "System.Boolean", "True", "Whether banned passwords are checked on-premises."),
            _setting("EnableBannedPasswordCheck", "System.Boolean", "True", "Whether the custom banned password list applies."),
            _setting("LockoutDurationInSeconds", "System.Int32", "60", "Initial smart lockout duration."),
            _setting("LockoutThreshold", "System.Int32", "10", "Failed sign-ins before a lockout."),
            _setting("BannedPasswordList", "System.String", "", "Tab-delimited custom banned passwords."),
        ],
    },
)
TEMPLATES_BY_ID = {template["id"]: template for template in GROUP_SETTING_TEMPLATES}

GROUP_SETTING_TEMPLATES_SPEC = CollectionSpec(
    name="groupSettingTemplates",
    path="groupSettingTemplates",
    odata_type="#microsoft.graph.groupSettingTemplate",
    properties={"id": STR, "deletedDateTime": STR, "displayName": STR, "description": STR, "values": OBJS},
    read_only=frozenset({"id", "deletedDateTime", "displayName", "description", "values"}),
    filterable=frozenset({"id", "displayName"}),
    collection_methods=READ_ONLY,
    item_methods=READ_ONLY,
)


def _validate_group_setting(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    """Values must be named by the template; the stored list stays complete, in the template's order.

    A PATCH naming some values keeps the others [UNCONFIRMED: the update page's example sends one value];
    a POST leaves out what the template defaults. `changes['values']` becomes the whole list to store.
    """
    template = TEMPLATES_BY_ID.get(str(changes.get("templateId") or (existing or {}).get("templateId")))
    if template is None:
        raise bad_request(f"Invalid value specified for property 'templateId': no template '{changes.get('templateId')}'.")
    if "values" not in changes:
        return
    given: dict[str, Any] = {}
    for item in changes["values"] or []:
        if set(item) != {"name", "value"} or not isinstance(item["value"], str):
            raise bad_request("Each setting value needs exactly a name and a string value.")
        if item["name"] not in {value["name"] for value in template["values"]}:
            raise bad_request(f"Setting '{item['name']}' is not defined by template '{template['displayName']}'.")
        given[item["name"]] = item["value"]
    current = {item["name"]: item["value"] for item in (existing or {}).get("values") or []}
    changes["values"] = [
        {"name": value["name"], "value": given.get(value["name"], current.get(value["name"], value["defaultValue"]))}
        for value in template["values"]
    ]


def _complete_group_setting(tenant: TenantView, setting: dict[str, Any]) -> None:
    template = TEMPLATES_BY_ID[setting["templateId"]]
    if any(other["templateId"] == template["id"] for other in tenant.objects["groupSettings"].values()):
        # One tenant-wide setting per template (groupsetting-post-groupsettings) [exact error UNCONFIRMED].
        raise conflict(f"A setting based on template '{template['displayName']}' already exists.")
    setting["displayName"] = template["displayName"]
    if not setting["values"]:
        setting["values"] = [{"name": v["name"], "value": v["defaultValue"]} for v in template["values"]]


GROUP_SETTINGS = CollectionSpec(
    name="groupSettings",
    path="groupSettings",
    odata_type="#microsoft.graph.groupSetting",
    properties={"id": STR, "displayName": STR, "templateId": STR, "values": OBJS},
    read_only=frozenset({"id", "displayName"}),
    create_only=frozenset({"templateId"}),
    required_on_create=("templateId",),
    filterable=frozenset({"id", "displayName", "templateId"}),
    validate=_validate_group_setting,
    complete=_complete_group_setting,
)

# --- organization (organization.md, organization-update.md) -------------------------------------------------

ORGANIZATION_WRITABLE = frozenset(
    {
        "marketingNotificationEmails",
        "privacyProfile",
        "securityComplianceNotificationMails",
        "securityComplianceNotificationPhones",
        "technicalNotificationMails",
    }
)
ORGANIZATION_PROPERTIES: dict[str, str] = {
    "id": STR,
    "deletedDateTime": STR,
    "assignedPlans": OBJS,
    "businessPhones": STRS,
    "city": STR,
    "country": STR,
    "countryLetterCode": STR,
    "createdDateTime": STR,
    "defaultUsageLocation": STR,
    "displayName": STR,
    "marketingNotificationEmails": STRS,
    "onPremisesLastSyncDateTime": STR,
    "onPremisesSyncEnabled": BOOL,
    # organization-get answers it (null for a tenant that is no partner's).
    "partnerTenantType": STR,
    "postalCode": STR,
    "preferredLanguage": STR,
    "privacyProfile": OBJ,
    "provisionedPlans": OBJS,
    "securityComplianceNotificationMails": STRS,
    "securityComplianceNotificationPhones": STRS,
    "state": STR,
    "street": STR,
    "technicalNotificationMails": STRS,
    "tenantType": STR,
    "verifiedDomains": OBJS,
}


def _validate_organization(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    for name in ("marketingNotificationEmails", "technicalNotificationMails"):
        if name in changes and changes[name] is None:
            raise bad_request(f"Invalid value specified for property '{name}' of resource 'Organization'.")  # not nullable
    unknown = sorted(set(changes.get("privacyProfile") or {}) - {"contactEmail", "statementUrl"})
    if unknown:
        raise bad_request(f"Invalid property '{unknown[0]}' of type 'microsoft.graph.privacyProfile'.")


ORGANIZATION = CollectionSpec(
    name="organization",
    path="organization",
    odata_type="#microsoft.graph.organization",
    properties=ORGANIZATION_PROPERTIES,
    read_only=frozenset(ORGANIZATION_PROPERTIES) - ORGANIZATION_WRITABLE,
    filterable=frozenset({"id"}),
    validate=_validate_organization,
    # "A collection of exactly one record": listed and read by id, updated, never created or deleted.
    collection_methods=READ_ONLY,
    item_methods=READ_WRITE,
)

POLICY_COLLECTIONS: tuple[CollectionSpec, ...] = (
    AUTHORIZATION_POLICY,
    AUTHENTICATION_METHODS_POLICY,
    AUTHENTICATION_METHOD_CONFIGURATIONS,
    SECURITY_DEFAULTS,
    EXTERNAL_IDENTITIES_POLICY,
    CROSS_TENANT_ACCESS_POLICY,
    CROSS_TENANT_DEFAULT,
    CROSS_TENANT_PARTNERS,
    TOKEN_LIFETIME_POLICIES,
    GROUP_LIFECYCLE_POLICIES,
    AUTHENTICATION_CONTEXTS,
    AUTHENTICATION_STRENGTHS,
    GROUP_SETTING_TEMPLATES_SPEC,
    GROUP_SETTINGS,
    ORGANIZATION,
)
