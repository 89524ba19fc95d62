"""Tenant-wide policies and settings: one object each, or small collections of them."""

from __future__ import annotations

from entragit.registry import ObjectType, register
from entragit.registry.conditional_access import CONDITIONAL_ACCESS_RATE
from entragit.registry.directory import COMMON_VOLATILE
from entragit.registry.tenant_config import BRANDING_LOCALIZATIONS, CERTIFICATE_BASED_AUTH
from entragit.registry.writes import Hooks, by_action


def _policy(name: str, entity: str, collection: str, write_permission: str, *, singleton: str | None = None,
            read_permission: str = "Policy.Read.All", **details: object) -> ObjectType:
    """Policies share most of their description: no $top (small, unpaged), dates volatile, id read-only."""
    details.setdefault("volatile", COMMON_VOLATILE)
    details.setdefault("read_only", frozenset({"id"}))
    return register(ObjectType(
        name=name, singular=name, entity=entity, collection=collection, odata_types=(), select=(), page_size=None,
        singleton=singleton, read_permission=read_permission, write_permission=write_permission,
        restore_order=5, **details,  # type: ignore[arg-type]
    ))


# Both cross-tenant access settings, the default and each partner's.
_CROSS_TENANT = ("appServiceConnectInbound", "automaticUserConsentSettings", "b2bCollaborationInbound",
                 "b2bCollaborationOutbound", "b2bDirectConnectInbound", "b2bDirectConnectOutbound", "inboundTrust",
                 "m365CollaborationInbound", "m365CollaborationOutbound", "tenantRestrictions")
_BY_MICROSOFT = "set by Microsoft: built-in or custom, and what the strength's combinations satisfy"
# Only the notification contacts and the privacy profile are writable (Graph's organization docs).
_ORGANIZATION_READ_ONLY = frozenset({"id", "displayName", "businessPhones", "city", "country", "countryLetterCode",
                                     "defaultUsageLocation", "onPremisesSyncEnabled", "postalCode",
                                     "preferredLanguage", "state", "street", "tenantType", "verifiedDomains"})

_policy("authorizationPolicy", "authorizationPolicy", "policies/authorizationPolicy", "Policy.ReadWrite.Authorization",
        singleton="authorizationPolicy",
        keeps=("id", "displayName", "allowEmailVerifiedUsersToJoinOrganization", "allowInvitesFrom",
               "allowUserConsentForRiskyApps", "allowedToSignUpEmailBasedSubscriptions", "allowedToUseSSPR",
               "blockMsolPowerShell", "defaultUserRolePermissions", "description", "guestUserRoleId"),
        merge_properties=frozenset({"defaultUserRolePermissions"}))
_policy("authenticationMethodsPolicy", "authenticationMethodsPolicy", "policies/authenticationMethodsPolicy", "Policy.ReadWrite.AuthenticationMethod",
        singleton="authenticationMethodsPolicy",
        # Each method's configuration is a file of its own (registry/tenant_config.py).
        keeps=("id", "displayName", "description", "policyVersion", "reconfirmationInDays",
               "registrationEnforcement"),
        volatile=COMMON_VOLATILE | {"policyMigrationState"},
        moved={"authenticationMethodConfigurations": "authenticationMethodConfigurations"})
_policy("securityDefaults", "identitySecurityDefaultsEnforcementPolicy", "policies/identitySecurityDefaultsEnforcementPolicy", "Policy.ReadWrite.SecurityDefaults",
        singleton="identitySecurityDefaultsEnforcementPolicy", keeps=("id", "displayName", "description", "isEnabled"))
_policy("crossTenantAccessPolicy", "crossTenantAccessPolicy", "policies/crossTenantAccessPolicy", "Policy.ReadWrite.CrossTenantAccess",
        singleton="crossTenantAccessPolicy", keeps=("id", "displayName", "allowedCloudEndpoints", "description"))
_policy("crossTenantAccessDefault", "crossTenantAccessPolicyConfigurationDefault", "policies/crossTenantAccessPolicy/default", "Policy.ReadWrite.CrossTenantAccess",
        singleton="default", keeps=("id", *_CROSS_TENANT, "invitationRedemptionIdentityProviderConfiguration",
                                    "isServiceDefault"),
        read_only=frozenset({"isServiceDefault"}),
        why_read_only={"isServiceDefault": "turns false at any change and true again only through "
                                           "resetToSystemDefault, which a restore calls"},
        reset_action=("isServiceDefault", "resetToSystemDefault"))
_policy("crossTenantAccessPartners", "crossTenantAccessPolicyConfigurationPartner", "policies/crossTenantAccessPolicy/partners", "Policy.ReadWrite.CrossTenantAccess",
        key="tenantId", keeps=("tenantId", *_CROSS_TENANT, "isInMultiTenantOrganization", "isServiceProvider"),
        read_only=frozenset({"tenantId", "isInMultiTenantOrganization"}),
        why_read_only={"tenantId": "the partner's key, set when the partner is added",
                       "isInMultiTenantOrganization": "set by the multitenant organization that both tenants "
                                                      "joined, not through this policy"},
        create="post", create_with=frozenset({"tenantId"}))
_policy("tokenLifetimePolicies", "tokenLifetimePolicy", "policies/tokenLifetimePolicies", "Policy.ReadWrite.ApplicationConfiguration",
        keeps=("id", "displayName", "definition", "description", "isOrganizationDefault"), create="post")
_policy("groupLifecyclePolicies", "groupLifecyclePolicy", "groupLifecyclePolicies", "Directory.ReadWrite.All",
        read_permission="Directory.Read.All", create="post",
        keeps=("id", "alternateNotificationEmails", "groupLifetimeInDays", "managedGroupTypes"))
_policy("authenticationContexts", "authenticationContextClassReference", "identity/conditionalAccess/authenticationContextClassReferences",
        "Policy.ReadWrite.ConditionalAccess", read_permission="Policy.Read.ConditionalAccess",
        rate_limit=CONDITIONAL_ACCESS_RATE, keeps=("id", "displayName", "description", "isAvailable"),
        # v1.0 creates a context by PATCH at its id (c1..c99), so a recreated one keeps it.
        create="patch")
_policy("authenticationStrengths", "authenticationStrengthPolicy", "policies/authenticationStrengthPolicies", "Policy.ReadWrite.ConditionalAccess",
        # Combinations change through updateAllowedCombinations; built-in strengths not at all.
        keeps=("id", "displayName", "allowedCombinations", "description", "policyType", "requirementsSatisfied"),
        read_only=frozenset({"id", "policyType", "requirementsSatisfied", "allowedCombinations"}),
        why_read_only={"policyType": _BY_MICROSOFT, "requirementsSatisfied": _BY_MICROSOFT,
                       "allowedCombinations": "changed through updateAllowedCombinations, which a restore calls"},
        create="post", create_with=frozenset({"allowedCombinations"}),
        hooks=Hooks(write_property={"allowedCombinations": by_action("updateAllowedCombinations")}))
_policy("groupSettings", "groupSetting", "groupSettings", "Directory.ReadWrite.All", read_permission="Directory.Read.All",
        # Graph names a setting after its template.
        keeps=("id", "displayName", "templateId", "values"),
        read_only=frozenset({"id", "displayName"}), create_only=frozenset({"templateId"}), create="post",
        why_read_only={"displayName": "named by Graph after the setting's template"})
_policy("organization", "organization", "organization", "Organization.ReadWrite.All", read_permission="Organization.Read.All",
        volatile=COMMON_VOLATILE | {"onPremisesLastSyncDateTime", "assignedPlans", "provisionedPlans"},
        keeps=("id", "displayName", "businessPhones", "city", "country", "countryLetterCode", "defaultUsageLocation",
               "marketingNotificationEmails", "mobileDeviceManagementAuthority", "onPremisesSyncEnabled",
               "partnerTenantType", "postalCode", "preferredLanguage", "privacyProfile",
               "securityComplianceNotificationMails", "securityComplianceNotificationPhones", "state", "street",
               "technicalNotificationMails", "tenantType", "verifiedDomains"),
        read_only=_ORGANIZATION_READ_ONLY,
        sub_collections=(CERTIFICATE_BASED_AUTH, BRANDING_LOCALIZATIONS),
        why_read_only=dict.fromkeys(_ORGANIZATION_READ_ONLY - {"id", "onPremisesSyncEnabled"},
                                    "the tenant's sign-up and billing details, changed in the Microsoft 365 admin "
                                    "center; Graph's update takes only the contacts and the privacy profile"))
