"""PIM for groups: who is eligible for, or assigned, membership or ownership of a group through PIM, and each
group's PIM settings (approval, MFA on activation, durations).

Graph lists these one group at a time only (a $filter on one group, or on one principal), and no request
lists the groups PIM governs (learn.microsoft.com/graph/api/privilegedaccessgroup-list-eligibilityschedules,
privilegedaccessgroup-list-assignmentschedules, policyroot-list-rolemanagementpolicies). Reading every
group would cost a request per group (20,000 in a 100,000-user tenant), so a snapshot reads the groups that
matter most and few tenants have many of: the role-assignable ones (at most 500 a tenant, found with one
request), and the groups a setting given outside the repository names (ENTRAGIT_PIM_GROUPS).
"""

from __future__ import annotations

from dataclasses import replace

from entragit.registry import REGISTRY, ListedPerScope, ObjectType, register
from entragit.registry.directory import COMMON_VOLATILE
from entragit.registry import governance_pim  # noqa: F401  (registers roleManagementPolicies first)
from entragit.registry.writes import schedule_requests


_MADE_BY_MICROSOFT = ("Microsoft makes two for every group PIM governs (membership, ownership) and never lets one be "
                      "made or deleted")


def _per_group(filter_: str) -> ListedPerScope:
    return ListedPerScope(filter=filter_, scopes="groups", scopes_filter="isAssignableToRole eq true",
                          named_by="pim_groups")


# A group's PIM settings are a role management policy like a directory role's, of scope type Group, with the
# permissions of groups (policyroot-list-rolemanagementpolicies, unifiedrolemanagementpolicyrule-update).
register(replace(
    REGISTRY["roleManagementPolicies"], name="groupRoleManagementPolicies", singular="PIM group setting",
    list_filter=None, listed_per_scope=_per_group("scopeId eq {id} and scopeType eq 'Group'"),
    read_permission="RoleManagementPolicy.Read.AzureADGroup",
    write_permission="RoleManagementPolicy.ReadWrite.AzureADGroup",
    never_delete=_MADE_BY_MICROSOFT, cannot_create=_MADE_BY_MICROSOFT,
))

# Which of a group's two policies governs its membership and which its ownership (roleDefinitionId member, owner).
register(replace(
    REGISTRY["roleManagementPolicyAssignments"], name="groupRoleManagementPolicyAssignments",
    singular="PIM group setting assignment", list_filter=None,
    listed_per_scope=_per_group("scopeId eq {id} and scopeType eq 'Group'"),
    read_permission="RoleManagementPolicy.Read.AzureADGroup",
    write_permission="RoleManagementPolicy.ReadWrite.AzureADGroup",
    never_delete=_MADE_BY_MICROSOFT, cannot_create=_MADE_BY_MICROSOFT,
))

# Who holds which access to which group: the identity of an eligibility or assignment, whatever id Graph gave it.
_GROUP_MATCH = ("principalId", "groupId", "accessId")
_SCHEDULED = ("accessId", "groupId", "memberType", "principalId", "scheduleInfo", "status")
_THROUGH_REQUESTS = "written through schedule requests (adminAssign, adminRemove), which a restore sends"
_REFERENCES = {"principalId": ("users", "groups", "servicePrincipals"), "groupId": ("groups",)}
# The request that made the schedule: a restore makes a new one, and it tells nothing that principal, group
# and access do not.
_VOLATILE = COMMON_VOLATILE | {"createdUsing"}

register(ObjectType(
    name="groupEligibilitySchedules", entity="privilegedAccessGroupEligibilitySchedule", singular="group eligibility",
    collection="identityGovernance/privilegedAccess/group/eligibilitySchedules", odata_types=(), select=(),
    page_size=None, listed_per_scope=_per_group("groupId eq {id}"), volatile=_VOLATILE,
    keeps=("id", *_SCHEDULED), read_only=frozenset({"id", *_SCHEDULED}),
    why_read_only=dict.fromkeys(_SCHEDULED, _THROUGH_REQUESTS), references=_REFERENCES,
    read_permission="PrivilegedEligibilitySchedule.Read.AzureADGroup",
    write_permission="PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",
    restore_order=50, match_on=_GROUP_MATCH, create_with=frozenset({"scheduleInfo"}),
    hooks=schedule_requests("identityGovernance/privilegedAccess/group/eligibilityScheduleRequests"),
))


def _assigned(raw: dict[str, object]) -> bool:
    # An activation (assignmentType Activated) is an eligible member's hours of access, gone by itself: the
    # eligibility that allows it is the configuration.
    return raw.get("assignmentType") != "Activated"


register(ObjectType(
    name="groupAssignmentSchedules", entity="privilegedAccessGroupAssignmentSchedule", singular="group assignment",
    collection="identityGovernance/privilegedAccess/group/assignmentSchedules", odata_types=(), select=(),
    page_size=None, listed_per_scope=_per_group("groupId eq {id}"), volatile=_VOLATILE, kept_when=_assigned,
    keeps=("id", "assignmentType", *_SCHEDULED), read_only=frozenset({"id", "assignmentType", *_SCHEDULED}),
    why_read_only=dict.fromkeys(("assignmentType", *_SCHEDULED), _THROUGH_REQUESTS), references=_REFERENCES,
    read_permission="PrivilegedAssignmentSchedule.Read.AzureADGroup",
    write_permission="PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",
    restore_order=50, match_on=_GROUP_MATCH, create_with=frozenset({"scheduleInfo"}),
    hooks=schedule_requests("identityGovernance/privilegedAccess/group/assignmentScheduleRequests"),
))
