"""Tenant and sign-in: the tenant's domains, the identity providers guests sign in with, and the policies of
self-service sign-up, device registration and the staged rollout of cloud authentication.

Where the invitation and collaboration settings of B2B are kept: who may invite guests and what guests may
see (authorizationPolicy: allowInvitesFrom, guestUserRoleId, allowEmailVerifiedUsersToJoinOrganization),
whether guests may leave (externalIdentitiesPolicy), self-service sign-up (authenticationFlowsPolicy, here),
which organizations collaborate inbound and outbound (crossTenantAccessDefault and -Partners), and the
domains invitations may or may not go to, with automatic redemption (b2bManagementPolicies, beta, here).
"""

from __future__ import annotations

from entragit.registry import ObjectType, Relationship, register
from entragit.registry.beta import BETA, DOCUMENTED
from entragit.registry.directory import COMMON_VOLATILE
from entragit.registry.policies import _policy
from entragit.registry.writes import Hooks, Obj, RefLink, Request, SubCollection, put_whole

_VERIFY = ("set by Graph's verify action once the domain's DNS zone holds the verification record; a domain a "
           "restore adds again stays unverified, and Graph updates no unverified domain, until its owner "
           "verifies it")
_BY_MICROSOFT = "set by Microsoft for the domain (the initial onmicrosoft.com one, a root domain or a subdomain)"
_NOT_DOCUMENTED = "declared by Graph's metadata but on no documentation page of the domain: no setting an admin makes"


def _add_domain(object_type: ObjectType, obj: Obj) -> Request:
    # The create takes the id alone (domain-post-domains); the domain is unverified until DNS proves it.
    return Request("POST", object_type.collection, {"id": obj["id"]})


# How a federated domain's users sign in: the identity provider Entra trusts for them, by its issuer and the
# certificate that signs its tokens (internaldomainfederation; one configuration per domain). Whoever changes
# these can sign in as any of the domain's users ("golden SAML"): a risk rule watches them. Items are matched
# by their name, so a remade one (Graph gives it a new id) is the same configuration.
FEDERATION_CONFIGURATION = SubCollection(
    property="federationConfiguration", entity="internalDomainFederation", key="displayName",
    keeps=("id", "displayName", "issuerUri", "metadataExchangeUri", "passiveSignInUri", "activeSignInUri",
           "signOutUri", "passwordResetUri", "preferredAuthenticationProtocol", "promptLoginBehavior",
           "signingCertificate", "nextSigningCertificate", "isSignedAuthenticationRequestRequired",
           "federatedIdpMfaBehavior"),
    # The result and time of Entra's own certificate rollover.
    volatile=frozenset({"signingCertificateUpdateStatus"}),
)

# A domain is named by its id, its fully qualified name; its create takes the id alone, and its update a
# verified domain only (graph-behaviour §6).
register(ObjectType(
    name="domains", singular="domain", entity="domain", collection="domains", odata_types=(), select=(),
    # A tenant has a handful of domains, and Graph documents no $top for their list.
    page_size=None, restore_order=5, display_key="id",
    read_permission="Domain.Read.All", write_permission="Domain.ReadWrite.All",
    keeps=("id", "authenticationType", "isAdminManaged", "isDefault", "isInitial", "isRoot", "isVerified",
           "passwordNotificationWindowInDays", "passwordValidityPeriodInDays", "supportedServices"),
    read_only=frozenset({"id", "authenticationType", "isAdminManaged", "isInitial", "isRoot", "isVerified"}),
    why_read_only={
        "authenticationType": "Managed or Federated: a domain becomes federated when its federation "
                              "configuration is made, never through the domain's update",
        "isAdminManaged": "false once the domain's DNS records are delegated to Microsoft 365, outside Graph",
        "isInitial": _BY_MICROSOFT, "isRoot": _BY_MICROSOFT, "isVerified": _VERIFY,
    },
    # availabilityStatus is null except in the verify action's answer; state is that of an operation under way.
    volatile=frozenset({"availabilityStatus", "state"}),
    not_kept={"manufacturer": _NOT_DOCUMENTED, "model": _NOT_DOCUMENTED},
    create="post", create_with=frozenset({"id"}), hooks=Hooks(create=_add_domain),
    sub_collections=(FEDERATION_CONFIGURATION,),
))

# identityproviderbase (v1.0): a workforce tenant has social and built-in providers, a B2C tenant social and
# Apple ones. Secrets are write-only: Graph answers them as asterisks (graph-behaviour §6), and no file keeps them.
_SECRET = "write-only: Graph answers it as asterisks, and a secret is never stored"
register(ObjectType(
    name="identityProviders", singular="identityProvider", collection="identity/identityProviders",
    odata_types=("#microsoft.graph.socialIdentityProvider", "#microsoft.graph.builtInIdentityProvider",
                 "#microsoft.graph.appleManagedIdentityProvider"),
    select=(), page_size=None, restore_order=5,
    read_permission="IdentityProvider.Read.All", write_permission="IdentityProvider.ReadWrite.All",
    keeps=("id", "displayName", "identityProviderType", "clientId", "developerId", "serviceId", "keyId"),
    read_only=frozenset({"id"}),
    # Built-in providers are Microsoft's (MicrosoftAccount, EmailOTP); a social one's kind is chosen when it is added.
    create_only=frozenset({"identityProviderType"}),
    not_kept={"clientSecret": _SECRET, "certificateData": _SECRET},
    cannot_create=("Graph makes one only with its client secret (or Apple's key), which no snapshot holds: add it "
                   "again in the portal, then restore the rest"),
    always_send=("@odata.type",),
))

# A partner organization's own SAML or WS-Fed identity provider, which its guests sign in at
# (samlorwsfedexternaldomainfederation): trusted by its issuer and signing certificate for the domains it names.
# Each domain is an item whose only property is its id, the domain name, added by POST {federation}/domains;
# Graph v1.0 documents neither a get, an update nor a delete of one (the resource page's methods): a domain
# added since the snapshot can be taken away only with the whole federation, in the portal or by deleting
# and restoring it.
_DOMAINS_STAY = ("Graph v1.0 documents no update or delete of a federation's domain: one added since is taken "
                 "away only with its federation")
register(ObjectType(
    name="externalDomainFederations", singular="SAML/WS-Fed identity provider",
    entity="samlOrWsFedExternalDomainFederation",
    collection="directory/federationConfigurations/microsoft.graph.samlOrWsFedExternalDomainFederation",
    odata_types=(), select=(), page_size=None, restore_order=5,
    read_permission="IdentityProvider.Read.All", write_permission="IdentityProvider.ReadWrite.All",
    keeps=("id", "displayName", "issuerUri", "metadataExchangeUri", "passiveSignInUri",
           "preferredAuthenticationProtocol", "signingCertificate"),
    read_only=frozenset({"id"}),
    sub_collections=(SubCollection(
        property="domains", entity="externalDomainName", keeps=("id",), id_given=True, update=False, remove=False,
        why_not=_DOMAINS_STAY, with_holder=True,
    ),),
    # Made again under a new id (the create answers one), found by the issuer it trusts.
    create="post", found_again_by=("issuerUri",),
))

_policy("authenticationFlowsPolicy", "authenticationFlowsPolicy", "policies/authenticationFlowsPolicy",
        "Policy.ReadWrite.AuthenticationFlows", singleton="authenticationFlowsPolicy",
        keeps=("id", "displayName", "description", "selfServiceSignUp"),
        read_only=frozenset({"id", "displayName", "description"}),
        why_read_only=dict.fromkeys(("displayName", "description"),
                                    "named by Microsoft; the policy's update takes selfServiceSignUp alone"))

# Updated by a PUT of every writable property; one left out is reset (graph-behaviour §6), so a restore
# sends them all.
_policy("deviceRegistrationPolicy", "deviceRegistrationPolicy", "policies/deviceRegistrationPolicy",
        "Policy.ReadWrite.DeviceConfiguration", singleton="deviceRegistrationPolicy",
        keeps=("id", "displayName", "description", "azureADJoin", "azureADRegistration", "localAdminPassword",
               "multiFactorAuthConfiguration", "userDeviceQuota"),
        read_only=frozenset({"id", "displayName", "description"}),
        why_read_only=dict.fromkeys(("displayName", "description"), "always the same text, set by Microsoft"),
        hooks=Hooks(update=put_whole))

# featurerolloutpolicy: staged rollout of cloud authentication to a few groups (appliesTo, groups only).
register(ObjectType(
    name="featureRolloutPolicies", singular="featureRolloutPolicy", entity="featureRolloutPolicy",
    collection="policies/featureRolloutPolicies", odata_types=(), select=(), page_size=None,
    # After the groups its appliesTo names.
    restore_order=30, read_permission="Policy.Read.All", write_permission="Policy.ReadWrite.FeatureRollout",
    keeps=("id", "displayName", "description", "feature", "isAppliedToOrganization", "isEnabled"),
    read_only=frozenset({"id"}), create_only=frozenset({"feature"}), create="post", found_again_by=("feature",),
    relationships=(Relationship(name="appliesTo", many=True, write=RefLink(), member_types=("groups",)),),
))

# learn.microsoft.com/graph/api/resources/b2bmanagementpolicy?view=graph-rest-beta, with what it inherits from
# stsPolicy, policyBase and directoryObject: the allowed or blocked domains of invitations, in its definition.
DOCUMENTED["b2bManagementPolicy"] = {
    "id": ("Edm.String", 0, 0),
    "deletedDateTime": ("Edm.DateTimeOffset", 0, 1),
    "description": ("Edm.String", 0, 1),
    "displayName": ("Edm.String", 0, 1),
    "definition": ("Edm.String", 1, 0),
    "isOrganizationDefault": ("Edm.Boolean", 0, 1),
}
_policy("b2bManagementPolicies", "b2bManagementPolicy", "policies/b2bManagementPolicies",
        "Policy.ReadWrite.B2BManagementPolicy", read_permission="Policy.Read.B2BManagementPolicy", api_version=BETA,
        keeps=("id", "displayName", "description", "definition", "isOrganizationDefault"), volatile=COMMON_VOLATILE,
        create="post")
