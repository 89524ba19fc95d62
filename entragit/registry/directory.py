"""Users and groups."""

from __future__ import annotations

from typing import Any

from entragit.registry import DIRECTORY_RECYCLE_BIN, ObjectType, Relationship, register

# Returned by Graph, changing without anyone changing the object, or derived from other properties:
# storing them would make every snapshot differ (reference §9).
COMMON_VOLATILE = frozenset(
    {"createdDateTime", "modifiedDateTime", "lastModifiedDateTime", "deletedDateTime",
     "renewedDateTime", "expirationDateTime"}
)

USERS = register(
    ObjectType(
        name="users",
        singular="user",
        collection="users",
        filter_by_ids=True,
        odata_types=("#microsoft.graph.user",),
        select=(
            "id", "displayName", "accountEnabled", "businessPhones", "city", "companyName", "country",
            "department", "employeeId", "givenName", "jobTitle", "mail", "mailNickname", "mobilePhone",
            "officeLocation", "onPremisesExtensionAttributes", "onPremisesSyncEnabled",
            "onPremisesImmutableId", "preferredLanguage", "surname", "usageLocation",
            "userPrincipalName", "userType", "creationType",
        ),
        volatile=COMMON_VOLATILE | {
            "signInActivity", "lastPasswordChangeDateTime", "refreshTokensValidFromDateTime",
            "signInSessionsValidFromDateTime", "externalUserStateChangeDateTime",
            "onPremisesLastSyncDateTime", "onPremisesProvisioningErrors", "assignedPlans",
            "provisionedPlans", "licenseAssignmentStates", "proxyAddresses", "imAddresses",
            "legalAgeGroupClassification", "securityIdentifier",
        },
        read_only=frozenset(
            {"id", "creationType", "onPremisesSyncEnabled", "onPremisesDistinguishedName",
             "onPremisesDomainName", "onPremisesSamAccountName", "onPremisesSecurityIdentifier",
             "onPremisesUserPrincipalName"}
        ),
        merge_properties=frozenset({"onPremisesExtensionAttributes"}),
        ordered_lists=frozenset({"businessPhones"}),
        relationships=(
            Relationship(name="manager", many=False, fetch="expand", write="ref_put", ref_collection="users",
                         delta_tracked=True),
        ),
        delta=True,
        read_permission="User.Read.All",
        write_permission="User.ReadWrite.All",
        also_needs=("the Entra role Privileged Authentication Administrator, assigned to the app, to restore from "
                    "the recycle bin, enable or disable users who hold an administrator role, or change their "
                    "phones and other mails (https://learn.microsoft.com/graph/api/resources/users"
                    "#who-can-perform-sensitive-actions)"),
        restore_order=20,
        recycle_bin=DIRECTORY_RECYCLE_BIN,
        renamed_in_bin=frozenset({"userPrincipalName"}),
        cannot_create=("a user cannot be recreated faithfully: its password, sign-in methods and licenses went "
                       "with it; create it anew, then restore its memberships by hand"),
        never_delete=("a deleted user loses its password and sign-in methods, and one gone for good cannot be "
                      "recreated faithfully; entragit never deletes users"),
    )
)



def _group_goes_to_recycle_bin(group: dict[str, Any]) -> bool:
    """Microsoft 365 groups and (since 2026) cloud security groups are soft-deleted; distribution groups,
    mail-enabled security groups and groups synced from on-premises are deleted at once (reference §7a)."""
    if group.get("onPremisesSyncEnabled"):
        return False
    return "Unified" in (group.get("groupTypes") or []) or not group.get("mailEnabled")


GROUPS = register(
    ObjectType(
        name="groups",
        singular="group",
        collection="groups",
        filter_by_ids=True,
        odata_types=("#microsoft.graph.group",),
        select=(
            "id", "displayName", "classification", "description", "groupTypes", "isAssignableToRole",
            "mail", "mailEnabled", "mailNickname", "membershipRule", "membershipRuleProcessingState",
            "onPremisesSyncEnabled", "securityEnabled", "visibility",
        ),
        volatile=COMMON_VOLATILE | {
            "onPremisesLastSyncDateTime", "licenseProcessingState", "membershipRuleProcessingStatus",
            "proxyAddresses", "securityIdentifier",
        },
        read_only=frozenset({"id", "mail", "onPremisesSyncEnabled"}),
        # Graph fixes these when the group is made (reference §6: the group type cannot change,
        # isAssignableToRole and hidden membership are create-only).
        create_only=frozenset({"isAssignableToRole", "mailEnabled", "securityEnabled", "groupTypes", "visibility"}),
        relationships=(
            Relationship(
                name="members", many=True, fetch="collection", expandable=True, write="ref", reverse_path="memberOf",
                member_types=("users", "groups"),
                computed_when=("groupTypes", "DynamicMembership"), delta_tracked=True,
            ),
            Relationship(name="owners", many=True, fetch="collection", expandable=True, write="ref", reverse_path="ownedObjects",
                         member_types=("users",)),
        ),
        delta=True,
        read_permission="Group.Read.All",
        write_permission="Group.ReadWrite.All",
        also_needs=("RoleManagement.ReadWrite.Directory, to change the members of a role-assignable group "
                    "(https://learn.microsoft.com/graph/api/group-post-members?view=graph-rest-1.0)"),
        restore_order=20,
        recycle_bin=DIRECTORY_RECYCLE_BIN,
        recycled_when=_group_goes_to_recycle_bin,
        create="post",
        found_again_by=("mailNickname",),
    )
)
