"""Applications, their service principals, and administrative units."""

from __future__ import annotations

from urllib.parse import quote

from entragit.registry import DIRECTORY_RECYCLE_BIN, ObjectType, Relationship, register
from entragit.registry.directory import COMMON_VOLATILE
from entragit.registry.writes import Hooks, RefLink, Request, SubCollection

# Graph never returns secret values; what it does return in their place (a hint, a key blob only on
# $select) must not reach a file either.
_CREDENTIAL_SECRETS = {
    "passwordCredentials": frozenset({"hint", "secretText"}),
    "keyCredentials": frozenset({"key"}),
}

# A password is removed by its keyId; removeKey also wants a token signed by another of the app's keys
# (proof of possession), which a restore does not hold.
_CREDENTIAL_REMOVAL: dict[str, str | None] = {"passwordCredentials": "removePassword", "keyCredentials": None}

# An application's instance in the tenant repeats some of the application's own properties.
_FROM_APPLICATION = "copied from the application (in this tenant or the publisher's); changed there"

# A federated identity credential lets tokens of an outside issuer (a CI pipeline, another cloud) act as the
# app: the persistence attackers favour, as it holds no secret to find. Graph keeps the name unique per app
# and takes it only on creation (learn.microsoft.com/graph/api/resources/federatedidentitycredential,
# federatedidentitycredential-update); application delta does not say a credential changed. The
# application's resource page says its federatedIdentityCredentials support $expand.
FEDERATED_IDENTITY_CREDENTIALS = SubCollection(
    property="federatedIdentityCredentials", entity="federatedIdentityCredential", key="name",
    keeps=("id", "name", "issuer", "subject", "audiences", "description"), create_only=frozenset({"name"}),
    expandable=True,
)

# Who holds which app role of a service principal: users, groups and other service principals (an app
# granted an application permission of Microsoft Graph is one), read once per resource. Graph gives an
# assignment made again a new id and has no update for one (serviceprincipal-post-approleassignedto,
# serviceprincipal-delete-approleassignedto): who holds which role is its key, and a change is a removal
# and an addition. The principal's name is kept beside its id, so that files and plans name it. The
# servicePrincipal resource page says appRoleAssignedTo supports $expand; its list takes OData's query
# parameters, $top among them (serviceprincipal-list-approleassignedto).
APP_ROLE_ASSIGNED_TO = SubCollection(
    property="appRoleAssignedTo", entity="appRoleAssignment", key=("principalId", "appRoleId"),
    keeps=("id", "appRoleId", "principalId", "principalDisplayName", "principalType", "resourceId"),
    read_only=frozenset({"principalDisplayName", "principalType"}),
    why_read_only={"principalDisplayName": "the principal's own displayName, as Graph repeats it; changed there",
                   "principalType": "User, Group or ServicePrincipal: what principalId names, set by Graph"},
    volatile=frozenset({"createdDateTime", "deletedDateTime"}),
    not_kept={"resourceDisplayName": "the service principal's own displayName, which its file holds"},
    update=False, why_not="an app role assignment is only made and deleted, never updated",
    write_permission="AppRoleAssignment.ReadWrite.All", expandable=True, page_size=999,
)

def _instantiated(app: dict[str, object]) -> Request | None:
    """An application made from an application template (the gallery's, or the portal's own for apps it
    makes, 8adf8e6e-67b2-4cf2-a259-e3dc5476c621) records the template, which only instantiating it sets: one
    gone for good is made again that way, with its service principal (applicationtemplate-instantiate)."""
    template = app.get("applicationTemplateId")
    if not isinstance(template, str):
        return None
    return Request("POST", f"applicationTemplates/{quote(template)}/instantiate", {"displayName": app.get("displayName")})


_OWNERS = Relationship(name="owners", many=True, expandable=True, write=RefLink(),
                       reverse_path="ownedObjects", member_types=("users", "servicePrincipals"))

APPLICATIONS = register(
    ObjectType(
        name="applications",
        singular="application",
        collection="applications",
        filter_by_ids=True,
        odata_types=("#microsoft.graph.application",),
        select=(
            "id", "displayName", "addIns", "api", "appId", "applicationTemplateId", "appRoles",
            "authenticationBehaviors", "createdByAppId", "defaultRedirectUri", "description",
            "disabledByMicrosoftStatus", "groupMembershipClaims", "identifierUris", "info",
            "isDeviceOnlyAuthSupported", "isDisabled", "isFallbackPublicClient", "keyCredentials",
            "managerApplications", "nativeAuthenticationApisEnabled", "notes", "oauth2RequirePostResponse",
            "optionalClaims", "parentalControlSettings", "passwordCredentials", "publicClient", "publisherDomain",
            "requestSignatureVerification", "requiredResourceAccess", "samlMetadataUrl",
            "serviceManagementReference", "servicePrincipalLockConfiguration", "signInAudience", "spa", "tags",
            "tokenEncryptionKeyId", "uniqueName", "verifiedPublisher", "web",
        ),
        volatile=COMMON_VOLATILE,
        # Credentials change only through addPassword/removePassword and addKey/removeKey, and their secrets
        # are never stored, so a restore cannot write them back.
        read_only=frozenset({"id", "appId", "passwordCredentials", "keyCredentials", "applicationTemplateId",
                             "createdByAppId", "disabledByMicrosoftStatus", "managerApplications",
                             "publisherDomain", "verifiedPublisher"}),
        why_read_only={
            "publisherDomain": "set by Graph from the tenant's verified domains when the app is registered",
            "verifiedPublisher": "changed through setVerifiedPublisher, which checks a Microsoft Partner "
                                 "Network id; a restore lists the difference",
            "managerApplications": "set by Microsoft (agent identity blueprints); no request writes it",
        },
        create_only=frozenset({"uniqueName"}),
        not_kept={
            "logo": "a stream (the image), read and written at /applications/{id}/logo, never in the object",
            "certification": "Microsoft's record of the publisher's attestation, not a setting of the tenant",
        },
        secret_fields=_CREDENTIAL_SECRETS,
        ordered_lists=frozenset({"web.redirectUris", "spa.redirectUris", "publicClient.redirectUris"}),
        relationships=(_OWNERS,),
        sub_collections=(FEDERATED_IDENTITY_CREDENTIALS,),
        delta=True,
        read_permission="Application.Read.All",
        write_permission="Application.ReadWrite.All",
        restore_order=30,
        create="post",
        assigned_on_create=("appId",),
        # Graph accepts an application ID URI only of the app's own appId or a verified domain.
        written_after_create=frozenset({"identifierUris"}),
        disable_before_removal={"appRoles": "isEnabled", "api.oauth2PermissionScopes": "isEnabled"},
        recycle_bin=DIRECTORY_RECYCLE_BIN,
        credentials=_CREDENTIAL_REMOVAL,
        hooks=Hooks(made_by=_instantiated, answer_at="application",
                    makes_too=(("servicePrincipal", "servicePrincipals", "appId"),)),
    )
)

SERVICE_PRINCIPALS = register(
    ObjectType(
        name="servicePrincipals",
        singular="service principal",
        collection="servicePrincipals",
        filter_by_ids=True,
        odata_types=("#microsoft.graph.servicePrincipal",),
        select=(
            "id", "displayName", "accountEnabled", "addIns", "alternativeNames", "appDescription", "appDisplayName",
            "appId", "applicationTemplateId", "appOwnerOrganizationId", "appRoleAssignmentRequired", "appRoles",
            "createdByAppId", "description", "disabledByMicrosoftStatus", "homepage", "info", "isDisabled",
            "keyCredentials", "loginUrl", "logoutUrl", "notes", "notificationEmailAddresses",
            "oauth2PermissionScopes", "passwordCredentials", "preferredSingleSignOnMode",
            "preferredTokenSigningKeyThumbprint", "replyUrls", "resourceSpecificApplicationPermissions",
            "samlSingleSignOnSettings", "servicePrincipalNames", "servicePrincipalType", "signInAudience", "tags",
            "tokenEncryptionKeyId", "verifiedPublisher",
        ),
        volatile=COMMON_VOLATILE,
        read_only=frozenset({"id", "appDisplayName", "appOwnerOrganizationId", "servicePrincipalType",
                             "passwordCredentials", "keyCredentials", "appDescription", "applicationTemplateId",
                             "createdByAppId", "disabledByMicrosoftStatus", "info", "isDisabled",
                             "resourceSpecificApplicationPermissions", "signInAudience", "verifiedPublisher"}),
        why_read_only={
            "appDisplayName": _FROM_APPLICATION, "appDescription": _FROM_APPLICATION, "info": _FROM_APPLICATION,
            "signInAudience": _FROM_APPLICATION, "verifiedPublisher": _FROM_APPLICATION,
            "resourceSpecificApplicationPermissions": _FROM_APPLICATION,
            "appOwnerOrganizationId": "the tenant the application is registered in, set by Graph",
            "servicePrincipalType": "set by Graph when the service principal is made (Application, "
                                    "ManagedIdentity, SocialIdp)",
            "isDisabled": "not among the properties Graph's service principal update takes",
        },
        not_kept={"customSecurityAttributes": "readable only with its own permission "
                                              "(CustomSecAttributeAssignment.Read.All) that directory readers do "
                                              "not hold; asking for it without that permission fails the read"},
        create_only=frozenset({"appId"}),
        written_together=(("preferredSingleSignOnMode", "samlSingleSignOnSettings"),),
        secret_fields=_CREDENTIAL_SECRETS,
        relationships=(_OWNERS,),
        sub_collections=(APP_ROLE_ASSIGNED_TO,),
        delta=True,
        read_permission="Application.Read.All",
        write_permission="Application.ReadWrite.All",
        # After the application it belongs to (restoring an application does not restore its SP).
        restore_order=40,
        create="post",
        recycle_bin=DIRECTORY_RECYCLE_BIN,
        credentials=_CREDENTIAL_REMOVAL,
    )
)

ADMINISTRATIVE_UNITS = register(
    ObjectType(
        name="administrativeUnits",
        singular="administrative unit",
        # Graph's metadata declares the units only under the directory singleton.
        collection="directory/administrativeUnits",
        odata_types=("#microsoft.graph.administrativeUnit",),
        select=("id", "displayName", "description", "isMemberManagementRestricted", "membershipRule",
                "membershipRuleProcessingState", "membershipType", "visibility"),
        volatile=COMMON_VOLATILE,
        read_only=frozenset({"id"}),
        # A restricted-management unit and a hidden-membership one are so from their creation on.
        create_only=frozenset({"visibility", "isMemberManagementRestricted"}),
        relationships=(
            Relationship(name="members", many=True, expandable=True, write=RefLink(), reverse_path="memberOf",
                         member_types=("users", "groups"), computed_when=("membershipType", "Dynamic"),
                         delta_tracked=True),
        ),
        delta=True,
        read_permission="AdministrativeUnit.Read.All",
        write_permission="AdministrativeUnit.ReadWrite.All",
        restore_order=20,
        create="post",
        found_again_by=("displayName",),
        recycle_bin=DIRECTORY_RECYCLE_BIN,
    )
)
