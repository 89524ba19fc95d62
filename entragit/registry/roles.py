"""Who may do what: directory roles, their assignments and eligibilities, and delegated permission grants."""

from __future__ import annotations

from entragit.registry import ObjectType, register
from entragit.registry.directory import COMMON_VOLATILE
from entragit.registry.writes import schedule_requests

# Who holds which role where: the identity of an assignment or eligibility, whatever id Graph gave it.
_ROLE_MATCH = ("principalId", "roleDefinitionId", "directoryScopeId", "appScopeId")

register(ObjectType(
    name="roleDefinitions", entity="unifiedRoleDefinition", singular="role definition", collection="roleManagement/directory/roleDefinitions",
    odata_types=(), select=(), page_size=None, volatile=COMMON_VOLATILE,
    keeps=("id", "displayName", "description", "isBuiltIn", "isEnabled", "resourceScopes", "rolePermissions",
           "templateId", "version"),
    read_only=frozenset({"id", "isBuiltIn", "templateId", "version"}),
    why_read_only=dict.fromkeys(("isBuiltIn", "templateId", "version"), "set by Graph: built-in roles are "
                                "Microsoft's, and a custom role's template id is its id"),
    read_permission="RoleManagement.Read.Directory", write_permission="RoleManagement.ReadWrite.Directory",
    restore_order=45, create="post",
))

register(ObjectType(
    name="roleAssignments", entity="unifiedRoleAssignment", singular="role assignment", collection="roleManagement/directory/roleAssignments",
    odata_types=(), select=(), page_size=None, volatile=COMMON_VOLATILE, read_only=frozenset({"id"}),
    keeps=("id", "appScopeId", "condition", "directoryScopeId", "principalId", "principalOrganizationId",
           "roleDefinitionId"),
    # An assignment is created and deleted, never changed (matched by principal, role and scope).
    create_only=frozenset({"principalId", "roleDefinitionId", "directoryScopeId", "appScopeId", "condition"}),
    references={"principalId": ("users", "groups", "servicePrincipals"), "roleDefinitionId": ("roleDefinitions",)},
    read_permission="RoleManagement.Read.Directory", write_permission="RoleManagement.ReadWrite.Directory",
    restore_order=50, create="post", match_on=_ROLE_MATCH,
))

register(ObjectType(
    name="roleEligibilitySchedules", entity="unifiedRoleEligibilitySchedule", singular="role eligibility",
    collection="roleManagement/directory/roleEligibilitySchedules", odata_types=(), select=(), page_size=None,
    # createdUsing names the request that made the eligibility: a restore makes a new one, and it tells
    # nothing that principal, role and scope do not.
    volatile=COMMON_VOLATILE | {"createdUsing"},
    # Written through roleEligibilityScheduleRequests, not here.
    keeps=("id", "appScopeId", "directoryScopeId", "memberType", "principalId", "roleDefinitionId", "scheduleInfo",
           "status"),
    read_only=frozenset({"id", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId", "memberType",
                         "status", "scheduleInfo", "createdUsing"}),
    why_read_only=dict.fromkeys(("principalId", "roleDefinitionId", "directoryScopeId", "appScopeId", "memberType",
                                 "status", "scheduleInfo"),
                                "written through eligibility schedule requests (adminAssign, adminRemove), "
                                "which a restore sends"),
    references={"principalId": ("users", "groups", "servicePrincipals"), "roleDefinitionId": ("roleDefinitions",)},
    read_permission="RoleEligibilitySchedule.Read.Directory",
    write_permission="RoleEligibilitySchedule.ReadWrite.Directory",
    restore_order=50, match_on=_ROLE_MATCH,
    # An eligibility is made by an adminAssign request and ended by an adminRemove one.
    hooks=schedule_requests("roleManagement/directory/roleEligibilityScheduleRequests"),
    create_with=frozenset({"scheduleInfo"}),
))

register(ObjectType(
    name="oauth2PermissionGrants", entity="oAuth2PermissionGrant", singular="delegated permission grant", collection="oauth2PermissionGrants",
    odata_types=(), select=(), volatile=COMMON_VOLATILE, read_only=frozenset({"id"}),
    keeps=("id", "clientId", "consentType", "principalId", "resourceId", "scope"),
    create_only=frozenset({"clientId", "consentType", "principalId", "resourceId"}),
    references={"clientId": ("servicePrincipals",), "resourceId": ("servicePrincipals",), "principalId": ("users",)},
    read_permission="Directory.Read.All", write_permission="DelegatedPermissionGrant.ReadWrite.All",
    restore_order=50, create="post", match_on=("clientId", "consentType", "principalId", "resourceId"),
))
