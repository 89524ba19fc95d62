"""Identity governance: PIM role settings for directory roles, access review definitions, terms of use.

PIM's role settings are role management policies, one per directory role, each a fixed set of rules
(approval, MFA or an authentication context on activation, maximum durations, notifications): Microsoft
makes the policies and their rules, an admin only changes the rules, one by one
(learn.microsoft.com/graph/identity-governance-pim-rules-overview). A policy assignment says which policy
governs which role; it is Microsoft's too.
"""

from __future__ import annotations

from entragit.registry import ObjectType, register
from entragit.registry.directory import COMMON_VOLATILE
from entragit.registry.writes import Hooks, put_whole

# policyroot-list-rolemanagementpolicies: Graph lists policies of one scope only, and this is the scope of
# the directory's roles (scopeType Directory names the same policies under other ids).
DIRECTORY_ROLE_SCOPE = "scopeId eq '/' and scopeType eq 'DirectoryRole'"
_BY_MICROSOFT = ("made by Microsoft with the role it governs; Graph offers no update of a policy, only of its "
                 "rules")
_MADE_BY_MICROSOFT = "Microsoft makes one for every role and never lets one be made or deleted"
# Graph reads and writes these with RoleManagementPolicy.*.Directory or the wider RoleManagement.*.Directory
# (policyroot-list-rolemanagementpolicies, unifiedrolemanagementpolicyrule-update): the apps hold the wider
# ones for roles anyway, so asking for the narrower ones too would grant nothing and cost a consent.
_READ, _WRITE = "RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory"

register(ObjectType(
    name="roleManagementPolicies", entity="unifiedRoleManagementPolicy", singular="PIM role setting",
    collection="policies/roleManagementPolicies", odata_types=(), select=(), page_size=None,
    list_filter=DIRECTORY_ROLE_SCOPE, expand=("rules",),
    volatile=COMMON_VOLATILE | {"lastModifiedBy"},
    keeps=("id", "description", "displayName", "isOrganizationDefault", "rules", "scopeId", "scopeType"),
    read_only=frozenset({"id", "description", "displayName", "isOrganizationDefault", "scopeId", "scopeType"}),
    why_read_only=dict.fromkeys(("description", "displayName", "isOrganizationDefault", "scopeId", "scopeType"),
                                _BY_MICROSOFT),
    # Each rule is PATCHed at rules/{id} (unifiedrolemanagementpolicyrule-update); none is added or removed.
    written_per_item=frozenset({"rules"}),
    read_permission=_READ, write_permission=_WRITE,
    restore_order=45, never_delete=_MADE_BY_MICROSOFT, cannot_create=_MADE_BY_MICROSOFT,
))

register(ObjectType(
    name="roleManagementPolicyAssignments", entity="unifiedRoleManagementPolicyAssignment",
    singular="PIM role setting assignment", collection="policies/roleManagementPolicyAssignments", odata_types=(),
    select=(), page_size=None, list_filter=DIRECTORY_ROLE_SCOPE, display_key="roleDefinitionId",
    keeps=("id", "policyId", "roleDefinitionId", "scopeId", "scopeType"),
    read_only=frozenset({"id", "policyId", "roleDefinitionId", "scopeId", "scopeType"}),
    why_read_only=dict.fromkeys(("policyId", "roleDefinitionId", "scopeId", "scopeType"),
                                "which policy governs which role is Microsoft's: Graph offers no write of it"),
    # No references: a role made again under a new id gets a policy and an assignment of Microsoft's own, so
    # a restore has nothing of these to rewrite (and policyId is no object id, DirectoryRole_<tenant>_<guid>).
    read_permission=_READ, write_permission=_WRITE,
    restore_order=45, never_delete=_MADE_BY_MICROSOFT, cannot_create=_MADE_BY_MICROSOFT,
))

# accessreviewscheduledefinition-update: a PUT of the whole definition, which takes these; the scope and
# the rest are set when the review series is made.
_REVIEW_WRITABLE = ("displayName", "descriptionForAdmins", "descriptionForReviewers", "fallbackReviewers",
                    "reviewers", "settings")

register(ObjectType(
    name="accessReviewDefinitions", entity="accessReviewScheduleDefinition", singular="access review",
    collection="identityGovernance/accessReviews/definitions", odata_types=(), select=(), page_size=None,
    keeps=("id", *_REVIEW_WRITABLE, "additionalNotificationRecipients", "instanceEnumerationScope", "scope",
           "stageSettings"),
    # status moves from NotStarted to InProgress to Completed as instances run, not by anyone's configuration.
    volatile=COMMON_VOLATILE | {"status"},
    not_kept={"createdBy": "who made the series; a recreated one names the app that restored it"},
    read_only=frozenset({"id"}),
    create_only=frozenset({"additionalNotificationRecipients", "instanceEnumerationScope", "scope", "stageSettings"}),
    read_permission="AccessReview.Read.All", write_permission="AccessReview.ReadWrite.All",
    restore_order=60, create="post", found_again_by=("displayName",),
    hooks=Hooks(update=put_whole),
))

register(ObjectType(
    name="termsOfUse", entity="agreement", singular="terms of use agreement",
    collection="identityGovernance/termsOfUse/agreements", odata_types=(), select=(), page_size=None,
    # agreement-list-files: $expand=files lists the PDFs, each by id, name and language, its fileData empty.
    expand=("files",),
    keeps=("id", "displayName", "files", "isPerDeviceAcceptanceRequired", "isViewingBeforeAcceptanceRequired",
           "termsExpiration", "userReacceptRequiredFrequency"),
    read_only=frozenset({"id", "files"}),
    why_read_only={"files": "the PDFs uploaded when the agreement was made: a new upload is a new file id, so "
                            "a changed document shows, but Graph serves no bytes to keep and takes no file in an "
                            "update"},
    # agreement-update takes displayName and isViewingBeforeAcceptanceRequired alone.
    create_only=frozenset({"isPerDeviceAcceptanceRequired", "termsExpiration", "userReacceptRequiredFrequency"}),
    read_permission="Agreement.Read.All", write_permission="Agreement.ReadWrite.All",
    restore_order=60,
    cannot_create="Graph makes an agreement only with its PDF files, whose bytes a backup does not keep",
))
