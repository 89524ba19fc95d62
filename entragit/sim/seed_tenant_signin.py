"""Seeded domains, identity providers, and the sign-up, device registration and feature rollout policies.

A few objects per type, the same in every tenant size. They come after everything else and draw no random
numbers, so every object a seed produced before stays byte-identical.
"""

from __future__ import annotations

import json
from typing import Any

from entragit.sim.model import GROUPS, CollectionSpec, blank_object
from entragit.sim.model_tenant_signin import (
    AUTHENTICATION_FLOWS_POLICY,
    B2B_MANAGEMENT_POLICIES,
    BUILT_IN,
    DEVICE_REGISTRATION_POLICY,
    DOMAIN_FEDERATION,
    DOMAIN_OF,
    DOMAINS,
    EXTERNAL_DOMAINS,
    EXTERNAL_FEDERATIONS,
    FEATURE_ROLLOUT_POLICIES,
    IDENTITY_PROVIDERS,
    MASKED,
    SOCIAL,
)
from entragit.sim.tenant import Tenant

# The get pages' texts (deviceregistrationpolicy-get, authenticationflowspolicy-get).
DEVICE_REGISTRATION_DESCRIPTION = ("Tenant-wide policy that manages intial provisioning controls using quota "
                                   "restrictions, additional authentication and authorization checks")
FLOWS_DESCRIPTION = ("Authentication flows policy allows modification of settings related to authentication flows "
                     "in AAD tenant, such as self-service sign up configuration.")


def _add(tenant: Tenant, spec: CollectionSpec, values: dict[str, Any], odata_type: str | None = None) -> dict[str, Any]:
    obj = blank_object(spec, odata_type)
    obj.update(values)
    tenant.add(spec, obj)
    return obj


def _domains(tenant: Tenant) -> None:
    slug = tenant.domain.split(".")[0]
    verified = {"authenticationType": "Managed", "isAdminManaged": True, "isVerified": True, "isRoot": True,
                "isInitial": False, "isDefault": False}
    # The initial domain every tenant gets, the company's own (the default for new users), and a subdomain
    # federated with the company's on-premises sign-in.
    _add(tenant, DOMAINS, {**verified, "id": tenant.domain, "isInitial": True,
                           "supportedServices": ["Email", "OfficeCommunicationsOnline"]})
    _add(tenant, DOMAINS, {**verified, "id": f"{slug}.example.com", "isDefault": True,
                           "passwordValidityPeriodInDays": 180, "passwordNotificationWindowInDays": 14,
                           "supportedServices": ["Email", "OfficeCommunicationsOnline", "Intune"]})
    federated = _add(tenant, DOMAINS, {**verified, "id": f"ad.{slug}.example.com", "authenticationType": "Federated",
                                  "isRoot": False, "supportedServices": ["Email"]})
    # Its users sign in at the company's AD FS (domain-post-federationconfiguration's example, for this company).
    sts = f"https://sts.{slug}.example.com/adfs"
    _add(tenant, DOMAIN_FEDERATION, {
        "id": "6601d14b-d113-8f64-fda2-9b5ddda18ecc", DOMAIN_OF: federated["id"], "displayName": f"{slug} AD FS",
        "issuerUri": f"http://{slug}.example.com/adfs/services/trust", "metadataExchangeUri": f"{sts}/services/trust/mex",
        "passiveSignInUri": f"{sts}/ls", "activeSignInUri": f"{sts}/services/trust/2005/usernamemixed",
        "signOutUri": f"{sts}/ls", "preferredAuthenticationProtocol": "wsFed", "promptLoginBehavior": "nativeSupport",
        "signingCertificate": "MIIE3jCCAsagAwIBAgIQQcyDaZz3MI", "isSignedAuthenticationRequestRequired": True,
        "federatedIdpMfaBehavior": "rejectMfaByFederatedIdp",
        "signingCertificateUpdateStatus": {"certificateUpdateResult": "Success", "lastRunDateTime": "2026-08-25T07:44:46Z"}})


def _identity_providers(tenant: Tenant) -> None:
    # As identitycontainer-list-identityproviders shows a workforce tenant's: Microsoft accounts built in,
    # Google added for guests.
    _add(tenant, IDENTITY_PROVIDERS, {"id": "MSASignup-OAUTH", "identityProviderType": "MicrosoftAccount",
                                      "displayName": "MicrosoftAccount"}, BUILT_IN)
    _add(tenant, IDENTITY_PROVIDERS, {"id": "EmailOtpSignup-OAUTH", "identityProviderType": "EmailOTP",
                                      "displayName": "Email One Time Passcode"}, BUILT_IN)
    _add(tenant, IDENTITY_PROVIDERS, {"id": "Google-OAUTH", "identityProviderType": "Google", "displayName": "Google",
                                      "clientId": "104117519034-partners.apps.googleusercontent.com",
                                      "clientSecret": MASKED}, SOCIAL)


def _external_federations(tenant: Tenant) -> None:
    # A partner's guests sign in at its own SAML identity provider (samlorwsfedexternaldomainfederation-list's
    # example): the partner's two domains.
    federation = _add(tenant, EXTERNAL_FEDERATIONS, {
        "id": "96db02e2-80c1-5555-bc3a-de92ffb8c5be", "displayName": "Contoso partners",
        "issuerUri": "http://contoso.com/adfs/services/trust", "metadataExchangeUri": None,
        "signingCertificate": "MIIC6DCCAdCgAwIBAgIQQ6vYJIVKQ", "passiveSignInUri": "https://contoso.com/adfs/ls/",
        "preferredAuthenticationProtocol": "saml"})
    for name in ("contoso.com", "contoso.co.uk"):
        tenant.add(EXTERNAL_DOMAINS, {"id": name, DOMAIN_OF: federation["id"]})


def _policies(tenant: Tenant) -> None:
    _add(tenant, AUTHENTICATION_FLOWS_POLICY, {
        "id": "authenticationFlowsPolicy", "displayName": "Authentication flows policy",
        "description": FLOWS_DESCRIPTION, "selfServiceSignUp": {"isEnabled": False}})
    groups = {g["displayName"]: g["id"] for g in tenant.sorted_objects(GROUPS)}
    admins = groups["Engineering - Production Access"]
    _add(tenant, DEVICE_REGISTRATION_POLICY, {
        "id": "deviceRegistrationPolicy", "displayName": "Device Registration Policy",
        "description": DEVICE_REGISTRATION_DESCRIPTION, "userDeviceQuota": 20,
        "multiFactorAuthConfiguration": "required",
        "azureADRegistration": {"isAdminConfigurable": False,
                                "allowedToRegister": {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"}},
        "azureADJoin": {"isAdminConfigurable": True,
                        "allowedToJoin": {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"},
                        "localAdmins": {"enableGlobalAdmins": True, "registeringUsers": {
                            "@odata.type": "#microsoft.graph.enumeratedDeviceRegistrationMembership",
                            "users": [], "groups": [admins]}}},
        "localAdminPassword": {"isEnabled": True}})
    # Staged rollout of password hash sync: a pilot group first.
    rollout = _add(tenant, FEATURE_ROLLOUT_POLICIES, {
        "id": "e3c2f23a-edd2-43a8-849f-154e70794ac5", "displayName": "Password hash sync pilot",
        "description": "Cloud sign-in for the pilot group before the whole organization", "feature": "passwordHashSync",
        "isEnabled": True, "isAppliedToOrganization": False})
    tenant.link("appliesTo", rollout["id"], groups["Operations Team"])


def _b2b_management(tenant: Tenant) -> None:
    # Invitations to personal mail domains blocked, as the allow-deny list guide's example does.
    definition = {"B2BManagementPolicy": {
        "InvitationsAllowedAndBlockedDomainsPolicy": {"BlockedDomains": ["gmail.com", "outlook.com"]},
        "AutoRedeemPolicy": {"AdminConsentedForUsersIntoTenantIds": [], "NoAADConsentForUsersFromTenantsIds": []}}}
    _add(tenant, B2B_MANAGEMENT_POLICIES, {
        "id": "f596ef0d-42f9-0359-1aaa-12d02b38802a", "displayName": "B2BManagementPolicy",
        "description": "Domains invitations may not go to", "isOrganizationDefault": True,
        "definition": [json.dumps(definition, separators=(",", ":"))]})


def seed_tenant_signin(tenant: Tenant) -> None:
    _domains(tenant)
    _identity_providers(tenant)
    _external_federations(tenant)
    _policies(tenant)
    _b2b_management(tenant)
