"""The tenant's domains, its identity providers, and its sign-up, device registration and feature rollout policies.

Shapes and rules from the Graph v1.0 pages (learn.microsoft.com/graph/api/resources/<type>): domain,
identityproviderbase and its kinds, authenticationflowspolicy, deviceregistrationpolicy, featurerolloutpolicy.
Where a page is silent the choice is marked [UNCONFIRMED].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from entragit.sim.apps import TenantView
from entragit.sim.errors import bad_request
from entragit.sim.model import BOOL, INT, OBJ, OBJS, STR, STRS, CollectionSpec, Relationship, check_choice
from entragit.sim.model_policies import conflict

# --- domains (domain.md, domain-post-domains.md, domain-update.md) ------------------------------------------

# domain.md: the services a domain may carry; Email, OfficeCommunicationsOnline and Yammer are the ones Graph
# adds and removes, the rest Microsoft sets [UNCONFIRMED: that Graph refuses the others in an update].
DOMAIN_SERVICES = ("Email", "Sharepoint", "EmailInternalRelayOnly", "OfficeCommunicationsOnline",
                   "SharePointDefaultDomain", "FullRedelegation", "SharePointPublic", "OrgIdAuthentication",
                   "Yammer", "Intune")


def _validate_domain(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    if existing is None and set(changes) != {"id"}:
        # domain-post-domains: "Id is the only property that can be specified and it is required."
        raise bad_request("The id, the fully qualified domain name, is the only property a new domain takes.")
    if existing is not None and not existing["isVerified"]:
        # domain-update: "Only verified domains can be updated." [UNCONFIRMED: status and text].
        raise bad_request(f"Domain '{existing['id']}' is not verified; only a verified domain can be updated.")
    for service in changes.get("supportedServices") or []:
        if service not in DOMAIN_SERVICES:
            raise bad_request(f"Invalid value '{service}' for property 'supportedServices'.")


def _complete_domain(tenant: TenantView, domain: dict[str, Any]) -> None:
    """A domain just added: managed, not the default, and unverified until its DNS record is checked."""
    if any(name.lower() == domain["id"].lower() for name in tenant.objects["domains"]):
        raise conflict(f"Domain '{domain['id']}' already exists in this tenant.")
    domain.update(authenticationType="Managed", isAdminManaged=True, isDefault=False, isInitial=False,
                  isRoot=False, isVerified=False)


def _refuse_initial(domain: Mapping[str, Any]) -> None:
    if domain["isInitial"]:
        # The onmicrosoft.com domain is the tenant's own (domain.md: "created by Microsoft Online Services").
        raise bad_request(f"The initial domain '{domain['id']}' cannot be deleted.")


DOMAINS = CollectionSpec(
    name="domains",
    path="domains",
    odata_type="#microsoft.graph.domain",
    properties={
        "id": STR, "authenticationType": STR, "availabilityStatus": STR, "isAdminManaged": BOOL, "isDefault": BOOL,
        "isInitial": BOOL, "isRoot": BOOL, "isVerified": BOOL, "passwordNotificationWindowInDays": INT,
        "passwordValidityPeriodInDays": INT, "state": OBJ, "supportedServices": STRS,
    },
    read_only=frozenset({"authenticationType", "availabilityStatus", "isAdminManaged", "isInitial", "isRoot",
                         "isVerified", "state"}),
    # Named by its id, the domain's name, which the create gives.
    create_only=frozenset({"id"}),
    required_on_create=("id",),
    paged_by_default=False,
    validate=_validate_domain,
    complete=_complete_domain,
    check_delete=_refuse_initial,
)

# --- a federated domain's federation configuration (internaldomainfederation.md, domain-post-federationconfiguration)

PROMPT_LOGIN_BEHAVIOURS = ("translateToFreshPasswordAuthentication", "nativeSupport", "disabled")
MFA_BEHAVIOURS = ("acceptIfMfaDoneByFederatedIdp", "enforceMfaByFederatedIdp", "rejectMfaByFederatedIdp")
# The simulator's own key of the domain a configuration belongs to, never returned (model_identity.PARENT).
DOMAIN_OF = "@sim.parent"


def _validate_federation(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "preferredAuthenticationProtocol", ("wsFed", "saml"), "InternalDomainFederation")
    check_choice(changes, "promptLoginBehavior", PROMPT_LOGIN_BEHAVIOURS, "InternalDomainFederation")
    check_choice(changes, "federatedIdpMfaBehavior", MFA_BEHAVIOURS, "InternalDomainFederation")


def _federate(tenant: TenantView, configuration: dict[str, Any]) -> None:
    """One configuration per verified domain, which makes the domain federated [UNCONFIRMED: the error of a second]."""
    domain_id = configuration[DOMAIN_OF]
    if not tenant.objects["domains"][domain_id]["isVerified"]:
        # Only a domain whose ownership is proven can be federated [UNCONFIRMED: status and text].
        raise bad_request(f"Domain '{domain_id}' is not verified; only a verified domain can be federated.")
    if any(c[DOMAIN_OF] == domain_id for c in tenant.objects["domainFederationConfigurations"].values()):
        raise conflict(f"Domain '{domain_id}' already has a federation configuration.")
    tenant.objects["domains"][domain_id]["authenticationType"] = "Federated"


FEDERATION_PROPERTIES = {
    "id": STR, "displayName": STR, "issuerUri": STR, "metadataExchangeUri": STR, "passiveSignInUri": STR,
    "activeSignInUri": STR, "signOutUri": STR, "passwordResetUri": STR, "preferredAuthenticationProtocol": STR,
    "promptLoginBehavior": STR, "signingCertificate": STR, "nextSigningCertificate": STR,
    "isSignedAuthenticationRequestRequired": BOOL, "federatedIdpMfaBehavior": STR, "signingCertificateUpdateStatus": OBJ,
}
DOMAIN_FEDERATION = CollectionSpec(
    name="domainFederationConfigurations",
    path="domains/{id}/federationConfiguration",
    odata_type="#microsoft.graph.internalDomainFederation",
    properties=FEDERATION_PROPERTIES,
    default_properties=tuple(FEDERATION_PROPERTIES),  # every property, and never DOMAIN_OF
    read_only=frozenset({"id", "signingCertificateUpdateStatus"}),
    paged_by_default=False,
    validate=_validate_federation,
    complete=_federate,
    # internaldomainfederation-update: "200 OK" and the configuration.
    patch_returns_object=True,
)

# --- identity providers (identityproviderbase.md, identitycontainer-post-identityproviders.md) --------------

SOCIAL = "#microsoft.graph.socialIdentityProvider"
BUILT_IN = "#microsoft.graph.builtInIdentityProvider"
APPLE = "#microsoft.graph.appleManagedIdentityProvider"
# The secrets Graph takes and answers masked ("This is write-only. A read operation returns ****").
_SECRETS = ("clientSecret", "certificateData")
MASKED = "******"
# What a new provider of each kind needs (the create page's property tables).
_REQUIRED = {SOCIAL: ("displayName", "identityProviderType", "clientId", "clientSecret"),
             APPLE: ("displayName", "developerId", "serviceId", "keyId", "certificateData")}
# For a B2B (workforce) tenant the social kinds are Google and Facebook (create page).
SOCIAL_KINDS = ("Google", "Facebook", "Microsoft", "Amazon", "LinkedIn", "GitHub", "Twitter", "Weibo", "QQ", "WeChat")


def _validate_identity_provider(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    if existing is not None and existing.get("@odata.type") == BUILT_IN:
        raise bad_request(f"The built-in identity provider '{existing['id']}' cannot be changed.")
    check_choice(changes, "identityProviderType", SOCIAL_KINDS, "SocialIdentityProvider")


def _mask_secrets(provider: dict[str, Any]) -> None:
    # The simulator keeps no secret at all: it answers what Graph answers.
    for name in _SECRETS:
        if provider.get(name):
            provider[name] = MASKED


def _name_provider(tenant: TenantView, provider: dict[str, Any]) -> None:
    """A new provider of a kind Graph makes, with what that kind needs, named by its kind: Amazon-OAUTH,
    Apple-Managed-OIDC (the create page's answers)."""
    kind = provider["@odata.type"]
    missing = [name for name in _REQUIRED.get(kind, ()) if provider.get(name) in (None, "")]
    if kind not in _REQUIRED or missing:
        raise bad_request(f"A new identity provider of type '{kind}' needs {', '.join(missing) or 'another type'}.")
    provider["id"] = f"{provider['identityProviderType']}-OAUTH" if kind == SOCIAL else "Apple-Managed-OIDC"
    if provider["id"] in tenant.objects["identityProviders"]:
        raise conflict(f"An identity provider '{provider['id']}' already exists.")


def _refuse_built_in(provider: Mapping[str, Any]) -> None:
    if provider.get("@odata.type") == BUILT_IN:
        raise bad_request(f"The built-in identity provider '{provider['id']}' cannot be deleted.")


IDENTITY_PROVIDERS = CollectionSpec(
    name="identityProviders",
    path="identity/identityProviders",
    odata_type="#microsoft.graph.identityProviderBase",
    properties={"id": STR, "displayName": STR},
    subtypes={
        SOCIAL: {"identityProviderType": STR, "clientId": STR, "clientSecret": STR},
        BUILT_IN: {"identityProviderType": STR},
        APPLE: {"developerId": STR, "serviceId": STR, "keyId": STR, "certificateData": STR},
    },
    read_only=frozenset({"id"}),
    create_only=frozenset({"identityProviderType"}),
    paged_by_default=False,
    validate=_validate_identity_provider,
    after_write=_mask_secrets,
    complete=_name_provider,
    check_delete=_refuse_built_in,
)

# --- SAML/WS-Fed identity providers of guests (samlorwsfedexternaldomainfederation.md, its -post, -update,
# -delete, -list-domains and -post-domains pages) ------------------------------------------------------------

EXTERNAL_FEDERATION_PATH = "directory/federationConfigurations/microsoft.graph.samlOrWsFedExternalDomainFederation"
# The create page's "required" table, but metadataExchangeUri: the list page shows federations without one.
_EXTERNAL_FEDERATION_REQUIRED = ("displayName", "issuerUri", "passiveSignInUri", "preferredAuthenticationProtocol",
                                 "signingCertificate")
# externalDomainName: an item whose only property is its id, the external organization's domain name.
EXTERNAL_DOMAINS = CollectionSpec(
    name="externalDomainNames",
    path=f"{EXTERNAL_FEDERATION_PATH}/{{id}}/domains",
    odata_type="#microsoft.graph.externalDomainName",
    properties={"id": STR},
    default_properties=("id",),
    create_only=frozenset({"id"}),
    required_on_create=("id",),
    paged_by_default=False,
)


def _validate_external_federation(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "preferredAuthenticationProtocol", ("wsFed", "saml"), "SamlOrWsFedExternalDomainFederation")
    if existing is None and not all(isinstance(d, dict) and isinstance(d.get("id"), str)
                                    for d in changes.get("domains") or []):
        raise bad_request("Each of a federation's domains is an externalDomainName with its id, the domain name.")


def _federate_external(tenant: TenantView, federation: dict[str, Any]) -> None:
    """The domains a create names become the federation's own (the create page's example gives them in its body);
    a domain federated already is refused [UNCONFIRMED: status and text]."""
    names = [domain["id"].lower() for domain in federation.pop("domains", None) or []]
    for name in names:
        if name in tenant.objects[EXTERNAL_DOMAINS.name]:
            raise conflict(f"The domain '{name}' is federated already.")
    for name in names:
        tenant.add(EXTERNAL_DOMAINS, {"id": name, DOMAIN_OF: federation["id"]})


EXTERNAL_FEDERATIONS = CollectionSpec(
    name="externalDomainFederations",
    path=EXTERNAL_FEDERATION_PATH,
    odata_type="#microsoft.graph.samlOrWsFedExternalDomainFederation",
    properties={"id": STR, "displayName": STR, "issuerUri": STR, "metadataExchangeUri": STR, "passiveSignInUri": STR,
                "preferredAuthenticationProtocol": STR, "signingCertificate": STR, "domains": OBJS},
    # The domains are a navigation property, listed at {id}/domains; only the create takes them inline.
    default_properties=("id", "displayName", "issuerUri", "metadataExchangeUri", "passiveSignInUri",
                        "preferredAuthenticationProtocol", "signingCertificate"),
    read_only=frozenset({"id"}),
    required_on_create=_EXTERNAL_FEDERATION_REQUIRED,
    paged_by_default=False,
    validate=_validate_external_federation,
    complete=_federate_external,
    # The update page: "200 OK" and the federation.
    patch_returns_object=True,
)

# --- authentication flows policy (authenticationflowspolicy.md, -update.md) ----------------------------------


def _validate_flows(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    sign_up = changes.get("selfServiceSignUp")
    if sign_up is not None and (set(sign_up) != {"isEnabled"} or not isinstance(sign_up["isEnabled"], bool)):
        raise bad_request("Invalid value specified for property 'selfServiceSignUp': it holds isEnabled alone.")


AUTHENTICATION_FLOWS_POLICY = CollectionSpec(
    name="authenticationFlowsPolicy",
    path="policies/authenticationFlowsPolicy",
    odata_type="#microsoft.graph.authenticationFlowsPolicy",
    properties={"id": STR, "displayName": STR, "description": STR, "selfServiceSignUp": OBJ},
    # "The properties id, type, and description cannot be modified" (update page); displayName likewise [UNCONFIRMED].
    read_only=frozenset({"id", "displayName", "description"}),
    paged_by_default=False,
    validate=_validate_flows,
    singleton=True,
)

# --- device registration policy (deviceregistrationpolicy.md, -update.md) ------------------------------------

MFA_CONFIGURATIONS = ("notRequired", "required")


def _validate_device_registration(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "multiFactorAuthConfiguration", MFA_CONFIGURATIONS, "DeviceRegistrationPolicy")
    quota = changes.get("userDeviceQuota")
    if quota is not None and quota < 0:
        raise bad_request("Invalid value specified for property 'userDeviceQuota' of resource 'DeviceRegistrationPolicy'.")


DEVICE_REGISTRATION_POLICY = CollectionSpec(
    name="deviceRegistrationPolicy",
    path="policies/deviceRegistrationPolicy",
    odata_type="#microsoft.graph.deviceRegistrationPolicy",
    properties={
        "id": STR, "displayName": STR, "description": STR, "userDeviceQuota": INT, "multiFactorAuthConfiguration": STR,
        "azureADRegistration": OBJ, "azureADJoin": OBJ, "localAdminPassword": OBJ,
    },
    read_only=frozenset({"id", "displayName", "description"}),
    paged_by_default=False,
    validate=_validate_device_registration,
    singleton=True,
    # The update is a PUT of every writable property, each "Required"; userDeviceQuota left out "is
    # automatically reset to 0". Its answer is 200 with the policy.
    replaced_by_put={"userDeviceQuota": 0},
    # The get page's answer names the entity without '/$entity'.
    entity_context="deviceRegistrationPolicy",
)

# --- feature rollout policies (featurerolloutpolicy.md) -----------------------------------------------------

STAGED_FEATURES = ("passthroughAuthentication", "seamlessSso", "passwordHashSync", "emailAsAlternateId",
                   "certificateBasedAuthentication", "multiFactorAuthentication")


def _validate_rollout(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "feature", STAGED_FEATURES, "FeatureRolloutPolicy")


FEATURE_ROLLOUT_POLICIES = CollectionSpec(
    name="featureRolloutPolicies",
    path="policies/featureRolloutPolicies",
    odata_type="#microsoft.graph.featureRolloutPolicy",
    properties={"id": STR, "displayName": STR, "description": STR, "feature": STR, "isEnabled": BOOL,
                "isAppliedToOrganization": BOOL},
    read_only=frozenset({"id"}),
    # The update page lists displayName, description, isEnabled and isAppliedToOrganization [UNCONFIRMED: feature refused].
    create_only=frozenset({"feature"}),
    required_on_create=("displayName", "feature", "isEnabled"),
    paged_by_default=False,
    validate=_validate_rollout,
    # "The appliesTo field only supports groups."
    relationships=(Relationship("appliesTo", link="appliesTo", writable=True, target_collections=("groups",)),),
)

# --- B2B management policies (beta b2bmanagementpolicy.md; v1.0 has no such resource) ------------------------

B2B_MANAGEMENT_POLICIES = CollectionSpec(
    name="b2bManagementPolicies",
    path="policies/b2bManagementPolicies",
    odata_type="#microsoft.graph.b2bManagementPolicy",
    properties={"id": STR, "deletedDateTime": STR, "displayName": STR, "description": STR, "definition": STRS,
                "isOrganizationDefault": BOOL},
    read_only=frozenset({"id", "deletedDateTime"}),
    # "Required" on the update page; that a create refuses without them is [UNCONFIRMED].
    required_on_create=("displayName", "description", "definition"),
    paged_by_default=False,
    # The update page answers 200 with the policy.
    patch_returns_object=True,
    beta_only=True,
)

TENANT_SIGNIN_COLLECTIONS: tuple[CollectionSpec, ...] = (
    DOMAINS, DOMAIN_FEDERATION, IDENTITY_PROVIDERS, AUTHENTICATION_FLOWS_POLICY, DEVICE_REGISTRATION_POLICY,
    FEATURE_ROLLOUT_POLICIES, B2B_MANAGEMENT_POLICIES, EXTERNAL_FEDERATIONS, EXTERNAL_DOMAINS,
)
