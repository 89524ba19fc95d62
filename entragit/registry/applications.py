"""Applications, their service principals, and administrative units."""

from __future__ import annotations

from entragit.registry import DIRECTORY_RECYCLE_BIN, ObjectType, Relationship, register
from entragit.registry.directory import COMMON_VOLATILE

# Graph never returns secret values; what it does return in their place (a hint, a key blob only on
# $select) must not reach a file either (reference §9).
_CREDENTIAL_SECRETS = {
    "passwordCredentials": frozenset({"hint", "secretText"}),
    "keyCredentials": frozenset({"key"}),
}

# A password is removed by its keyId; removeKey also wants a token signed by another of the app's keys
# (proof of possession), which a restore does not hold.
_CREDENTIAL_REMOVAL: dict[str, str | None] = {"passwordCredentials": "removePassword", "keyCredentials": None}

_OWNERS = Relationship(name="owners", many=True, fetch="collection", expandable=True, write="ref",
                       reverse_path="ownedObjects", member_types=("users", "servicePrincipals"))

APPLICATIONS = register(
    ObjectType(
        name="applications",
        singular="application",
        collection="applications",
        filter_by_ids=True,
        odata_types=("#microsoft.graph.application",),
        select=(
            "id", "displayName", "api", "appId", "appRoles", "description", "identifierUris", "keyCredentials",
            "notes", "passwordCredentials", "publicClient", "publisherDomain", "requiredResourceAccess",
            "signInAudience", "spa", "tags", "web",
        ),
        volatile=COMMON_VOLATILE | {"publisherDomain"},
        # Credentials change only through addPassword/removePassword and addKey/removeKey (reference §6),
        # and their secrets are never stored, so a restore cannot write them back.
        read_only=frozenset({"id", "appId", "passwordCredentials", "keyCredentials"}),
        secret_fields=_CREDENTIAL_SECRETS,
        ordered_lists=frozenset({"web.redirectUris", "spa.redirectUris", "publicClient.redirectUris"}),
        relationships=(_OWNERS,),
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
            "id", "displayName", "accountEnabled", "appDisplayName", "appId", "appOwnerOrganizationId",
            "appRoleAssignmentRequired", "appRoles", "description", "keyCredentials", "notes",
            "oauth2PermissionScopes", "passwordCredentials", "servicePrincipalNames", "servicePrincipalType",
            "tags",
        ),
        volatile=COMMON_VOLATILE,
        read_only=frozenset({"id", "appDisplayName", "appOwnerOrganizationId", "servicePrincipalType",
                             "passwordCredentials", "keyCredentials"}),
        create_only=frozenset({"appId"}),
        secret_fields=_CREDENTIAL_SECRETS,
        relationships=(_OWNERS,),
        delta=True,
        read_permission="Application.Read.All",
        write_permission="Application.ReadWrite.All",
        # After the application it belongs to (restoring an application does not restore its SP, §7).
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
        collection="administrativeUnits",
        odata_types=("#microsoft.graph.administrativeUnit",),
        select=("id", "displayName", "description", "membershipRule", "membershipRuleProcessingState",
                "membershipType", "visibility"),
        volatile=COMMON_VOLATILE,
        read_only=frozenset({"id"}),
        create_only=frozenset({"visibility"}),
        relationships=(
            Relationship(name="members", many=True, fetch="collection", expandable=True, write="ref", reverse_path="memberOf",
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
