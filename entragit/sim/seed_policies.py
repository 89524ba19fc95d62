"""Seeded tenant policies: the singletons every tenant has, Microsoft's built-in objects, and a few of the tenant's own.

They draw from their own random stream (f"{seed}-policies") and come after everything else, so every user,
group, policy and application a seed produced before stays byte-identical.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from entragit.sim.model import GROUPS, CollectionSpec, blank_object
from entragit.sim.model_policies import (
    ALL_USERS_TARGET,
    AUTHENTICATION_CONTEXTS,
    AUTHENTICATION_METHOD_CONFIGURATIONS,
    AUTHENTICATION_METHODS_POLICY,
    AUTHENTICATION_STRENGTHS,
    AUTHORIZATION_POLICY,
    BUILT_IN,
    CROSS_TENANT_ACCESS_POLICY,
    CROSS_TENANT_DEFAULT,
    b2b_setting,
    cross_tenant_system_default,
    CROSS_TENANT_PARTNERS,
    EXTERNAL_IDENTITIES_POLICY,
    GROUP_LIFECYCLE_POLICIES,
    GROUP_SETTING_TEMPLATES,
    GROUP_SETTING_TEMPLATES_SPEC,
    GROUP_SETTINGS,
    GROUP_UNIFIED_TEMPLATE_ID,
    METHOD_TYPES,
    ORGANIZATION,
    SECURITY_DEFAULTS,
    TOKEN_LIFETIME_POLICIES,
)
from entragit.sim.tenant import Tenant

# Microsoft's built-in strengths, as authenticationstrengthroot-list-policies shows them (ids are fixed).
BUILT_IN_STRENGTHS = (
    (
        "00000000-0000-0000-0000-000000000002",
        "Multifactor authentication",
        "Combinations of methods that satisfy strong authentication, such as a password + SMS",
        [
            "windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush", "temporaryAccessPassOneTime",
            "temporaryAccessPassMultiUse", "password,microsoftAuthenticatorPush", "password,softwareOath", "password,hardwareOath",
            "password,x509CertificateSingleFactor", "password,x509CertificateMultiFactor", "password,sms", "password,voice",
            "federatedMultiFactor", "microsoftAuthenticatorPush,federatedSingleFactor", "softwareOath,federatedSingleFactor",
            "hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor", "voice,federatedSingleFactor",
        ],
    ),
    (
        "00000000-0000-0000-0000-000000000003",
        "Passwordless MFA",
        "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator",
        ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"],
    ),
    (
        "00000000-0000-0000-0000-000000000004",
        # The docs' example spells it without the hyphen the portal shows.
        "Phishing resistant MFA",
        "Phishing resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
        ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
    ),
)  # fmt: skip
BUILT_IN_STRENGTH_TIME = "2021-12-01T00:00:00Z"
SECURITY_DEFAULTS_ID = "00000000-0000-0000-0000-000000000005"


def _target(group_id: str, **extra: Any) -> dict[str, Any]:
    return {"targetType": "group", "id": group_id, "isRegistrationRequired": False, **extra}


class _PolicySeeder:
    def __init__(self, tenant: Tenant, seed: int, base_time: datetime) -> None:
        self.rng = random.Random(f"{seed}-policies")
        self.tenant = tenant
        self.base_time = base_time
        self.groups = {g["displayName"]: g["id"] for g in tenant.sorted_objects(GROUPS)}
        self.slug = tenant.domain.split(".")[0]

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def timestamp(self, days_after: int, max_days: int, fraction: bool = False) -> str:
        moment = self.base_time + timedelta(days=days_after, seconds=self.rng.randrange(max_days * 86400))
        text = moment.replace(tzinfo=None).isoformat(timespec="seconds")
        return f"{text}.{self.rng.randrange(10**7):07d}Z" if fraction else f"{text}Z"

    def add(self, spec: CollectionSpec, values: dict[str, Any], odata_type: str | None = None) -> dict[str, Any]:
        obj = blank_object(spec, odata_type)
        obj.update(values)
        if spec.key != "id":
            obj["id"] = obj[spec.key]  # filed under its key, like a created one (graph.py, create_object)
        self.tenant.add(spec, obj)
        return obj

    def build(self) -> None:
        self._organization()
        self._authorization_policy()
        self._authentication_methods()
        self.add(
            SECURITY_DEFAULTS,
            {
                "id": SECURITY_DEFAULTS_ID,
                "displayName": "Security Defaults",
                "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When "
                "enabled, these recommendations will be automatically enforced in your organization. Administrators and users "
                "will be better protected from common identity related attacks.",
                # Off: the tenant protects itself with Conditional Access, which security defaults exclude.
                "isEnabled": False,
            },
        )
        # Graph's documented defaults (beta externalidentitiespolicy-get): external users may leave.
        self.add(
            EXTERNAL_IDENTITIES_POLICY,
            {
                "id": "externalIdentityPolicy",
                "displayName": "External Identities Policy",
                "allowExternalIdentitiesToLeave": True,
                "allowDeletedIdentitiesDataRemoval": False,
            },
        )
        self._cross_tenant_access()
        self._lifetimes()
        self._conditional_access_extras()
        self._group_settings()

    def _organization(self) -> None:
        tenant = self.tenant
        self.add(
            ORGANIZATION,
            {
                "id": tenant.tenant_id,
                "displayName": tenant.organization,
                "createdDateTime": self.timestamp(-400, 300),
                "tenantType": "AAD",
                "countryLetterCode": "US",
                "country": None,
                "city": "Redmond",
                "state": "WA",
                "street": "1 Main Street",
                "postalCode": "98052",
                "preferredLanguage": "en",
                "businessPhones": ["+1 425 555 0100"],
                "defaultUsageLocation": "US",
                "marketingNotificationEmails": [],
                "technicalNotificationMails": [f"it-admins@{tenant.domain}"],
                "securityComplianceNotificationMails": [f"security@{tenant.domain}"],
                "securityComplianceNotificationPhones": [],
                "privacyProfile": {"contactEmail": f"privacy@{tenant.domain}", "statementUrl": f"https://{self.slug}.example.com/privacy"},
                "verifiedDomains": [
                    {
                        "capabilities": "Email, OfficeCommunicationsOnline",
                        "isDefault": True,
                        "isInitial": True,
                        "name": tenant.domain,
                        "type": "Managed",
                    }
                ],
                "assignedPlans": [
                    {
                        "assignedDateTime": self.timestamp(-300, 200),
                        "capabilityStatus": "Enabled",
                        "service": service,
                        "servicePlanId": plan,
                    }
                    for service, plan in (
                        ("AADPremiumService", "41781fb2-bc02-4b7c-bd55-b576c07bb09d"),
                        ("exchange", "efb87545-963c-4e0d-99df-69c6916d9eb0"),
                        ("SharePoint", "5dbe027f-2339-4123-9542-606e4d348a72"),
                    )
                ],
                "provisionedPlans": [
                    {"capabilityStatus": "Enabled", "provisioningStatus": "Success", "service": "exchange"},
                    {"capabilityStatus": "Enabled", "provisioningStatus": "Success", "service": "SharePoint"},
                ],
                # The seeded tenant synchronises users and groups from Active Directory (seed.py, _synced).
                "onPremisesSyncEnabled": True,
                "onPremisesLastSyncDateTime": self.timestamp(1200, 60),
            },
        )

    def _authorization_policy(self) -> None:
        self.add(
            AUTHORIZATION_POLICY,
            {
                "id": "authorizationPolicy",
                "displayName": "Authorization Policy",
                "description": "Used to manage authorization related settings across the company.",
                "allowInvitesFrom": "adminsAndGuestInviters",
                "allowedToSignUpEmailBasedSubscriptions": True,
                "allowedToUseSSPR": True,
                "allowEmailVerifiedUsersToJoinOrganization": False,
                "allowUserConsentForRiskyApps": False,
                "blockMsolPowerShell": True,
                "defaultUserRolePermissions": {
                    "allowedToCreateApps": False,
                    "allowedToCreateSecurityGroups": True,
                    "allowedToCreateTenants": False,
                    "allowedToReadBitlockerKeysForOwnedDevice": True,
                    "allowedToReadOtherUsers": True,
                    "permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForSelf.microsoft-user-default-low"],
                },
                "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
            },
        )

    def _authentication_methods(self) -> None:
        self.add(
            AUTHENTICATION_METHODS_POLICY,
            {
                "id": "authenticationMethodsPolicy",
                "displayName": "Authentication Methods Policy",
                "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant, "
                "authentication method registration requirements, and self-service password reset settings",
                "lastModifiedDateTime": self.timestamp(900, 200, fraction=True),
                "policyVersion": "1.5",
                "policyMigrationState": "migrationComplete",
                "reconfirmationInDays": None,
                "registrationEnforcement": {
                    "authenticationMethodsRegistrationCampaign": {
                        "snoozeDurationInDays": 1,
                        "state": "default",
                        "excludeTargets": [],
                        "includeTargets": [
                            {"id": ALL_USERS_TARGET, "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator"}
                        ],
                    }
                },
            },
        )
        break_glass = [{"id": self.groups["CA Exclusion - Break Glass"], "targetType": "group"}]
        everyone = [_target(ALL_USERS_TARGET)]
        settings: dict[str, tuple[str, list[dict[str, Any]], dict[str, Any]]] = {
            "Fido2": (
                "enabled",
                everyone,
                {
                    "isSelfServiceRegistrationAllowed": True,
                    "isAttestationEnforced": True,
                    "keyRestrictions": {"isEnforced": False, "enforcementType": "block", "aaGuids": []},
                },
            ),
            "MicrosoftAuthenticator": (
                "enabled",
                [_target(ALL_USERS_TARGET, authenticationMode="any")],
                {
                    "isSoftwareOathEnabled": False,
                    "featureSettings": {
                        "displayAppInformationRequiredState": {
                            "state": "enabled",
                            "includeTarget": {"targetType": "group", "id": ALL_USERS_TARGET},
                            "excludeTarget": {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"},
                        },
                        "displayLocationInformationRequiredState": {
                            "state": "default",
                            "includeTarget": {"targetType": "group", "id": ALL_USERS_TARGET},
                            "excludeTarget": {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"},
                        },
                    },
                },
            ),
            "Sms": ("disabled", [_target(ALL_USERS_TARGET, isUsableForSignIn=False)], {}),
            "Voice": ("disabled", everyone, {"isOfficePhoneAllowed": False}),
            "Email": ("enabled", [], {"allowExternalIdToUseEmailOtp": "default"}),
            "TemporaryAccessPass": (
                "enabled",
                [_target(self.groups["Engineering - Production Access"])],
                {
                    "defaultLifetimeInMinutes": 60,
                    "defaultLength": 8,
                    "minimumLifetimeInMinutes": 60,
                    "maximumLifetimeInMinutes": 480,
                    "isUsableOnce": True,
                },
            ),
            "SoftwareOath": ("enabled", everyone, {}),
            "X509Certificate": (
                "disabled",
                everyone,
                {
                    "certificateUserBindings": [
                        {"x509CertificateField": "PrincipalName", "userProperty": "onPremisesUserPrincipalName", "priority": 1}
                    ],
                    "authenticationModeConfiguration": {
                        "x509CertificateAuthenticationDefaultMode": "x509CertificateSingleFactor",
                        "rules": [],
                    },
                },
            ),
        }
        for method_id, (state, include, extra) in settings.items():
            # Break-glass accounts stay out of every method they could be locked out of by (graph-behaviour §8).
            exclude = copy.deepcopy(break_glass) if state == "enabled" and method_id != "Fido2" else []
            values = {"id": method_id, "state": state, "includeTargets": include, "excludeTargets": exclude, **extra}
            self.add(AUTHENTICATION_METHOD_CONFIGURATIONS, values, METHOD_TYPES[method_id])

    def _cross_tenant_access(self) -> None:
        self.add(
            CROSS_TENANT_ACCESS_POLICY,
            {"id": "crossTenantAccessPolicy", "displayName": "CrossTenantAccessPolicy", "allowedCloudEndpoints": []},
        )
        # Never customised: partners carry the tenant's own settings.
        self.add(CROSS_TENANT_DEFAULT, {"id": "default", **cross_tenant_system_default()})
        sales = self.groups["Sales Team"]
        partners = (
            # A subsidiary: direct connect both ways for Teams shared channels, device compliance trusted.
            {
                "inboundTrust": {"isMfaAccepted": True, "isCompliantDeviceAccepted": True, "isHybridAzureADJoinedDeviceAccepted": True},
                "b2bDirectConnectInbound": b2b_setting("allowed"),
                "b2bDirectConnectOutbound": b2b_setting("allowed", sales, "group"),
                "isServiceProvider": False,
            },
            # The managed-service provider: a Cloud Solution Provider partner, collaboration inbound only.
            {"b2bCollaborationOutbound": b2b_setting("blocked"), "isServiceProvider": True},
        )
        for values in partners:
            tenant_id = self.uuid()
            self.add(CROSS_TENANT_PARTNERS, {"tenantId": tenant_id, "isInMultiTenantOrganization": False, **values})

    def _lifetimes(self) -> None:
        definition = {"TokenLifetimePolicy": {"Version": 1, "AccessTokenLifetime": "08:00:00"}}
        self.add(
            TOKEN_LIFETIME_POLICIES,
            {
                "id": self.uuid(),
                "displayName": "Long-lived access tokens for line-of-business apps",
                "definition": [json.dumps(definition, separators=(",", ":"))],
                "isOrganizationDefault": False,
            },
        )
        self.add(
            GROUP_LIFECYCLE_POLICIES,
            {
                "id": self.uuid(),
                "groupLifetimeInDays": 180,
                "managedGroupTypes": "Selected",
                "alternateNotificationEmails": f"it-admins@{self.tenant.domain};groups@{self.tenant.domain}",
            },
        )

    def _conditional_access_extras(self) -> None:
        contexts = (
            ("c1", "Require compliant device for sensitive actions", "Protected actions: changes to Conditional Access policies", True),
            ("c2", "Finance step-up", "Step-up for payment approvals in the SAP apps (not published yet)", False),
        )
        for context_id, name, description, available in contexts:
            self.add(AUTHENTICATION_CONTEXTS, {"id": context_id, "displayName": name, "description": description, "isAvailable": available})
        for strength_id, name, description, combinations in BUILT_IN_STRENGTHS:
            built_in = self._strength(strength_id, name, description, combinations, BUILT_IN_STRENGTH_TIME, BUILT_IN)
            self.add(AUTHENTICATION_STRENGTHS, built_in)
        created = self.timestamp(700, 200)
        self.add(
            AUTHENTICATION_STRENGTHS,
            self._strength(
                self.uuid(),
                "FIDO2 or certificate for admins",
                "Phishing-resistant methods the admin accounts have",
                ["fido2", "x509CertificateMultiFactor"],
                created,
                "custom",
            ),
        )

    def _strength(self, strength_id: str, name: str, description: str, combinations: list[str], created: str, kind: str) -> dict[str, Any]:
        return {
            "id": strength_id,
            "createdDateTime": created,
            "modifiedDateTime": created,
            "displayName": name,
            "description": description,
            "policyType": kind,
            "requirementsSatisfied": "mfa",
            "allowedCombinations": combinations,
        }

    def _group_settings(self) -> None:
        for template in GROUP_SETTING_TEMPLATES:
            self.add(GROUP_SETTING_TEMPLATES_SPEC, copy.deepcopy(template))
        overrides = {
            "EnableGroupCreation": "false",
            "GroupCreationAllowedGroupId": self.groups["HR - Workday Admins"],
            "UsageGuidelinesUrl": f"https://{self.slug}.example.com/groups",
            "ClassificationList": "Public,Internal,Confidential",
            "DefaultClassification": "Internal",
        }
        template = next(t for t in GROUP_SETTING_TEMPLATES if t["id"] == GROUP_UNIFIED_TEMPLATE_ID)
        values = [{"name": v["name"], "value": overrides.get(v["name"], v["defaultValue"])} for v in template["values"]]
        setting = {"id": self.uuid(), "displayName": template["displayName"], "templateId": template["id"], "values": values}
        self.add(GROUP_SETTINGS, setting)


def seed_policies(tenant: Tenant, seed: int, base_time: datetime) -> None:
    _PolicySeeder(tenant, seed, base_time).build()
