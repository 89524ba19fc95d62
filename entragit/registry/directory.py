"""Users and groups."""

from __future__ import annotations

from typing import Any

from entragit.registry import DIRECTORY_RECYCLE_BIN, ObjectType, Relationship, register
from entragit.registry.writes import RefLink, RefPut

# Returned by Graph, changing without anyone changing the object, or derived from other properties:
# storing them would make every snapshot differ.
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
            "id", "displayName", "accountEnabled", "ageGroup", "assignedLicenses", "authorizationInfo",
            "businessPhones", "city", "companyName", "consentProvidedForMinor", "country", "creationType",
            "department", "deviceEnrollmentLimit", "employeeHireDate", "employeeId", "employeeLeaveDateTime",
            "employeeOrgData", "employeeType", "faxNumber", "givenName", "identities", "identityParentId",
            "jobTitle", "mail", "mailNickname", "mobilePhone", "officeLocation", "onPremisesDistinguishedName",
            "onPremisesDomainName", "onPremisesExtensionAttributes", "onPremisesImmutableId",
            "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
            "onPremisesUserPrincipalName", "otherMails", "passwordPolicies", "postalCode", "preferredDataLocation",
            "preferredLanguage", "state", "streetAddress", "surname", "usageLocation", "userPrincipalName",
            "userType",
        ),
        volatile=COMMON_VOLATILE | {
            "signInActivity", "lastPasswordChangeDateTime", "refreshTokensValidFromDateTime",
            "signInSessionsValidFromDateTime", "externalUserStateChangeDateTime", "externalUserState",
            "onPremisesLastSyncDateTime", "onPremisesProvisioningErrors", "serviceProvisioningErrors",
            "assignedPlans", "provisionedPlans", "licenseAssignmentStates", "proxyAddresses", "imAddresses",
            "legalAgeGroupClassification", "securityIdentifier",
        },
        read_only=frozenset(
            {"id", "creationType", "onPremisesSyncEnabled", "onPremisesDistinguishedName",
             "onPremisesDomainName", "onPremisesSamAccountName", "onPremisesSecurityIdentifier",
             "onPremisesUserPrincipalName", "assignedLicenses", "identities", "identityParentId"}
        ),
        why_read_only={
            "creationType": "set by Graph when the account is made (an invitation, a self-service sign-up)",
            "assignedLicenses": "changed through the assignLicense action, which also checks the tenant's "
                                "available licenses; a restore lists the difference",
            "identities": "writing it needs User.ManageIdentities.All and replaces every sign-in identity, "
                          "the user principal name's included; a restore lists the difference",
            "identityParentId": "set by Microsoft when an agent's user account is made",
        },
        not_kept={
            **dict.fromkeys(("aboutMe", "birthday", "hireDate", "interests", "mySite", "pastProjects",
                             "preferredName", "responsibilities", "schools", "skills"),
                            "the user's SharePoint profile, which Graph returns for one user at a time only, "
                            "never in a list or delta; not directory configuration"),
            "mailboxSettings": "the Exchange mailbox's own settings (time zone, automatic replies): another "
                               "service, another permission (MailboxSettings.Read), one user at a time",
            "print": "Universal Print settings of the user, served by the print service, not the directory",
            "customSecurityAttributes": "readable only with its own permission "
                                        "(CustomSecAttributeAssignment.Read.All) that directory readers do "
                                        "not hold; asking for it without that permission fails the read",
            "passwordProfile": "holds the password, which Graph never returns, and whether it must change at "
                               "the next sign-in, which that sign-in clears: state, not configuration",
            "isManagementRestricted": "derived: true while the user is in a restricted-management "
                                      "administrative unit, which the unit's members record",
            "isResourceAccount": "reserved by Microsoft, never set",
            "showInAddressList": "Microsoft says not to use it in Graph: the Microsoft 365 admin center "
                                 "manages the address list",
        },
        merge_properties=frozenset({"onPremisesExtensionAttributes"}),
        ordered_lists=frozenset({"businessPhones"}),
        relationships=(
            Relationship(name="manager", many=False, fetch="expand", write=RefPut(), ref_collection="users",
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
    mail-enabled security groups and groups synced from on-premises are deleted at once
    (learn.microsoft.com/entra/identity/users/groups-restore-deleted)."""
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
            "id", "displayName", "assignedLabels", "assignedLicenses", "classification", "description",
            "groupTypes", "infoCatalogs", "isAssignableToRole", "mail", "mailEnabled", "mailNickname",
            "membershipRule", "membershipRuleProcessingState", "onPremisesDomainName",
            "onPremisesExtensionAttributes", "onPremisesNetBiosName", "onPremisesSamAccountName",
            "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "preferredDataLocation", "preferredLanguage",
            "resourceBehaviorOptions", "resourceProvisioningOptions", "securityEnabled", "theme", "uniqueName",
            "visibility",
        ),
        volatile=COMMON_VOLATILE | {
            "onPremisesLastSyncDateTime", "licenseProcessingState", "membershipRuleProcessingStatus",
            "proxyAddresses", "securityIdentifier", "onPremisesProvisioningErrors", "serviceProvisioningErrors",
            "hasMembersWithLicenseErrors",
        },
        read_only=frozenset({"id", "mail", "onPremisesSyncEnabled", "onPremisesDomainName", "onPremisesNetBiosName",
                             "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "assignedLabels",
                             "assignedLicenses", "infoCatalogs", "resourceProvisioningOptions"}),
        why_read_only={
            "mail": "made by Exchange from mailNickname and the tenant's domains",
            "assignedLabels": "sensitivity labels are written only by a signed-in administrator (delegated "
                              "permission), never by an app; a restore lists the difference",
            "assignedLicenses": "changed through the assignLicense action, which also checks the tenant's "
                                "available licenses; a restore lists the difference",
            "infoCatalogs": "information barrier segments, assigned by Microsoft Purview, not through Graph",
            "resourceProvisioningOptions": "set when a team is made from the group (Team)",
        },
        merge_properties=frozenset({"onPremisesExtensionAttributes"}),
        not_kept={
            **dict.fromkeys(("allowExternalSenders", "autoSubscribeNewMembers", "hideFromAddressLists",
                             "hideFromOutlookClients", "welcomeMessageEnabled", "accessType"),
                            "an Exchange setting of a Microsoft 365 group: Graph returns it for one group at a "
                            "time only (GET /groups/{id}) and writes it only for a signed-in user"),
            **dict.fromkeys(("isFavorite", "isSubscribedByMail", "unseenCount", "unseenConversationsCount",
                             "unseenMessagesCount"),
                            "the signed-in user's own view of the group (favourite, subscription, unread "
                            "count): not the group's configuration, and not readable by an app"),
            "isArchived": "whether the group's team is archived, which the Teams API sets (archive, unarchive)",
            "isManagementRestricted": "derived: true while the group is in a restricted-management "
                                      "administrative unit, which the unit's members record",
            "organizationId": "the tenant's own id, the same in every group",
        },
        # Graph fixes these when the group is made: the group type cannot change, isAssignableToRole,
        # hidden membership, behaviour options and the unique name are set on creation only (group resource).
        create_only=frozenset({"isAssignableToRole", "mailEnabled", "securityEnabled", "groupTypes", "visibility",
                               "resourceBehaviorOptions", "uniqueName"}),
        relationships=(
            Relationship(
                name="members", many=True, expandable=True, write=RefLink(), reverse_path="memberOf",
                member_types=("users", "groups"),
                computed_when=("groupTypes", "DynamicMembership"), delta_tracked=True,
            ),
            # Group delta reports ownership changes too, when owners is selected (group-delta).
            Relationship(name="owners", many=True, expandable=True, write=RefLink(), reverse_path="ownedObjects",
                         member_types=("users",), delta_tracked=True, delta_selected=True),
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
