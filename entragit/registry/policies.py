"""Tenant-wide policies and settings: one object each, or small collections of them."""

from __future__ import annotations

from entragit.registry import ObjectType, register
from entragit.registry.conditional_access import CONDITIONAL_ACCESS_RATE
from entragit.registry.directory import COMMON_VOLATILE


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


_policy("authorizationPolicy", "authorizationPolicy", "policies/authorizationPolicy", "Policy.ReadWrite.Authorization",
        singleton="authorizationPolicy", merge_properties=frozenset({"defaultUserRolePermissions"}))
_policy("authenticationMethodsPolicy", "authenticationMethodsPolicy", "policies/authenticationMethodsPolicy", "Policy.ReadWrite.AuthenticationMethod",
        singleton="authenticationMethodsPolicy",
        volatile=COMMON_VOLATILE | {"policyMigrationState"},
        # Each method's configuration is written at its own path, not through this object's PATCH.
        written_per_item=frozenset({"authenticationMethodConfigurations"}))
_policy("securityDefaults", "identitySecurityDefaultsEnforcementPolicy", "policies/identitySecurityDefaultsEnforcementPolicy", "Policy.ReadWrite.SecurityDefaults",
        singleton="identitySecurityDefaultsEnforcementPolicy")
_policy("crossTenantAccessPolicy", "crossTenantAccessPolicy", "policies/crossTenantAccessPolicy", "Policy.ReadWrite.CrossTenantAccess",
        singleton="crossTenantAccessPolicy")
_policy("crossTenantAccessDefault", "crossTenantAccessPolicyConfigurationDefault", "policies/crossTenantAccessPolicy/default", "Policy.ReadWrite.CrossTenantAccess",
        singleton="default", read_only=frozenset({"isServiceDefault"}),
        reset_action=("isServiceDefault", "resetToSystemDefault"))
_policy("crossTenantAccessPartners", "crossTenantAccessPolicyConfigurationPartner", "policies/crossTenantAccessPolicy/partners", "Policy.ReadWrite.CrossTenantAccess",
        key="tenantId", read_only=frozenset({"tenantId", "isInMultiTenantOrganization"}),
        create="post", create_with=frozenset({"tenantId"}))
_policy("tokenLifetimePolicies", "tokenLifetimePolicy", "policies/tokenLifetimePolicies", "Policy.ReadWrite.ApplicationConfiguration",
        create="post")
_policy("groupLifecyclePolicies", "groupLifecyclePolicy", "groupLifecyclePolicies", "Directory.ReadWrite.All",
        read_permission="Directory.Read.All", create="post")
_policy("authenticationContexts", "authenticationContextClassReference", "identity/conditionalAccess/authenticationContextClassReferences",
        "Policy.ReadWrite.ConditionalAccess", read_permission="Policy.Read.ConditionalAccess",
        rate_limit=CONDITIONAL_ACCESS_RATE,
        # v1.0 creates a context by PATCH at its id (c1..c99), so a recreated one keeps it.
        create="patch")
_policy("authenticationStrengths", "authenticationStrengthPolicy", "policies/authenticationStrengthPolicies", "Policy.ReadWrite.ConditionalAccess",
        # Combinations change through updateAllowedCombinations; built-in strengths not at all.
        read_only=frozenset({"id", "policyType", "requirementsSatisfied", "allowedCombinations"}),
        create="post", create_with=frozenset({"allowedCombinations"}),
        written_by_action={"allowedCombinations": "updateAllowedCombinations"})
_policy("groupSettings", "groupSetting", "groupSettings", "Directory.ReadWrite.All", read_permission="Directory.Read.All",
        # Graph names a setting after its template.
        read_only=frozenset({"id", "displayName"}), create_only=frozenset({"templateId"}), create="post")
_policy("organization", "organization", "organization", "Organization.ReadWrite.All", read_permission="Organization.Read.All",
        volatile=COMMON_VOLATILE | {"onPremisesLastSyncDateTime", "assignedPlans", "provisionedPlans"},
        # Only the notification contacts and the privacy profile are writable (Graph's organization docs).
        read_only=frozenset({"id", "displayName", "businessPhones", "city", "country", "countryLetterCode",
                             "defaultUsageLocation", "onPremisesSyncEnabled", "postalCode", "preferredLanguage",
                             "state", "street", "tenantType", "verifiedDomains"}))
