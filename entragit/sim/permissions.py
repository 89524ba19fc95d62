"""Application permissions: the roles the simulated app was granted, and which of them each Graph path takes.

Graph checks the `roles` claim of an app-only token against the application permissions the "Permissions"
table of each endpoint's page lists (https://learn.microsoft.com/graph/permissions-reference and, e.g.,
https://learn.microsoft.com/graph/api/user-update?view=graph-rest-1.0): any one of them lets the call
through; an app holding none gets 403 Authorization_RequestDenied, "Insufficient privileges to complete the
operation." The table below is written from those pages (least privileged first, then the higher privileged
ones the pages name), by path prefix, and knows nothing of entragit's own idea of what a type needs.

What it leaves out: *.OwnedBy permissions (they reach only objects the app owns), and the recycle bin, whose
items are read and restored with the permission of any directory family rather than their own.
Delegated tokens (a simulated user's) are not checked: a user acts with Directory.AccessAsUser.All and
the roles the tenant gave them, which the simulator does not model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from entragit.sim.errors import GraphFault
from entragit.sim.settings import Settings
from entragit.sim.throttle import is_conditional_access

INSUFFICIENT_PRIVILEGES = "Insufficient privileges to complete the operation."

# What the simulated app holds unless Settings.app_roles says otherwise: every permission entragit and the
# tests use, so that only a test that restricts the app meets a refusal.
DEFAULT_APP_ROLES: tuple[str, ...] = (
    "Directory.ReadWrite.All", "User.ReadWrite.All", "Group.ReadWrite.All", "Application.ReadWrite.All",
    "AdministrativeUnit.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Organization.ReadWrite.All",
    "Policy.Read.All", "Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.Authorization",
    "Policy.ReadWrite.AuthenticationMethod", "Policy.ReadWrite.SecurityDefaults", "Policy.ReadWrite.CrossTenantAccess",
    "Policy.ReadWrite.ApplicationConfiguration", "Policy.ReadWrite.ExternalIdentities",
    "RoleManagement.ReadWrite.Directory",
    "RoleEligibilitySchedule.ReadWrite.Directory", "DelegatedPermissionGrant.ReadWrite.All", "AuditLog.Read.All",
    "RoleManagementPolicy.ReadWrite.Directory", "AccessReview.ReadWrite.All", "Agreement.ReadWrite.All",
    "Policy.ReadWrite.PermissionGrant", "Policy.ReadWrite.ConsentRequest", "CustomAuthenticationExtension.ReadWrite.All",
    "CustomSecAttributeDefinition.ReadWrite.All",
    "AgentIdentity.ReadWrite.All", "AgentIdentity.Create.All",
    "EntitlementManagement.ReadWrite.All", "LifecycleWorkflows.ReadWrite.All",
)
DEFAULT_APP_ROLES += ("Domain.ReadWrite.All", "IdentityProvider.ReadWrite.All", "Policy.ReadWrite.AuthenticationFlows",
                      "Policy.ReadWrite.DeviceConfiguration", "Policy.ReadWrite.FeatureRollout",
                      "Policy.ReadWrite.B2BManagementPolicy")
DEFAULT_APP_ROLES += ("PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",
                      "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup", "RoleManagementPolicy.ReadWrite.AzureADGroup")


@dataclass(frozen=True)
class Needs:
    """Permissions any one of which allows reading (GET), and writing (every other method)."""

    read: tuple[str, ...]
    write: tuple[str, ...]


_DIRECTORY_READ = ("Directory.Read.All", "Directory.ReadWrite.All")


def _directory(family: str, *, directory_writes: bool = True) -> Needs:
    """A directory object family: its own Read/ReadWrite, with Directory.* as the higher privileged ones.
    Applications are the exception the update pages make: Directory.ReadWrite.All does not write them."""
    write = (f"{family}.ReadWrite.All", *(("Directory.ReadWrite.All",) if directory_writes else ()))
    return Needs((f"{family}.Read.All", f"{family}.ReadWrite.All", *_DIRECTORY_READ), write)


def _policy(write: str) -> Needs:
    return Needs(("Policy.Read.All", write), (write,))


_USERS = _directory("User")
_GROUPS = _directory("Group")
_APPS = _directory("Application", directory_writes=False)
_UNITS = _directory("AdministrativeUnit")
_APP_ROLE_ASSIGNMENTS = Needs(_APPS.read, ("AppRoleAssignment.ReadWrite.All", "Directory.ReadWrite.All"))
_GROUP_LINKS = Needs(("GroupMember.Read.All", *_GROUPS.read),
                     ("GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"))
_ROLES = Needs(("RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory",
                *_DIRECTORY_READ), ("RoleManagement.ReadWrite.Directory",))
_ELIGIBILITY = Needs(("RoleEligibilitySchedule.Read.Directory", "RoleEligibilitySchedule.ReadWrite.Directory",
                      "RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory"),
                     ("RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"))
# policyroot-list-rolemanagementpolicies and unifiedrolemanagementpolicyrule-update.
_ROLE_POLICIES = Needs(("RoleManagementPolicy.Read.Directory", "RoleManagement.Read.Directory", "RoleManagement.Read.All",
                        "RoleManagementPolicy.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"),
                       ("RoleManagementPolicy.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"))
_CONDITIONAL_ACCESS = Needs(("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"),
                            ("Policy.ReadWrite.ConditionalAccess",))
_ANY_DIRECTORY = Needs(tuple(dict.fromkeys(p for n in (_USERS, _GROUPS, _APPS, _UNITS) for p in n.read)),
                       tuple(dict.fromkeys(p for n in (_USERS, _GROUPS, _APPS, _UNITS) for p in n.write)))
_DIRECTORY_SETTINGS = Needs(_DIRECTORY_READ, ("Directory.ReadWrite.All",))
# Not Directory.*: custom security attributes have permissions of their own (directory-list-attributesets).
_CUSTOM_SECURITY_ATTRIBUTES = Needs(("CustomSecAttributeDefinition.Read.All", "CustomSecAttributeDefinition.ReadWrite.All"),
                                    ("CustomSecAttributeDefinition.ReadWrite.All",))

# Path prefix (segments after the version, "*" for any one) -> what it takes; the longest matching prefix wins.
RULES: dict[tuple[str, ...], Needs] = {
    ("users",): _USERS,
    ("users", "*", "appRoleAssignments"): _APP_ROLE_ASSIGNMENTS,
    ("groups",): _GROUPS,
    ("groups", "*", "members"): _GROUP_LINKS,
    ("groups", "*", "owners"): _GROUP_LINKS,
    ("groups", "*", "appRoleAssignments"): _APP_ROLE_ASSIGNMENTS,
    ("applications",): _APPS,
    ("servicePrincipals",): _APPS,
    ("servicePrincipals", "*", "appRoleAssignedTo"): _APP_ROLE_ASSIGNMENTS,
    ("servicePrincipals", "*", "appRoleAssignments"): _APP_ROLE_ASSIGNMENTS,
    ("directory", "administrativeUnits"): _UNITS,
    ("directory", "deletedItems"): _ANY_DIRECTORY,
    ("directory", "deletedItems", "microsoft.graph.user"): _USERS,
    ("directory", "deletedItems", "microsoft.graph.group"): _GROUPS,
    ("directory", "deletedItems", "microsoft.graph.application"): _APPS,
    ("directory", "deletedItems", "microsoft.graph.servicePrincipal"): _APPS,
    ("directory", "deletedItems", "microsoft.graph.administrativeUnit"): _UNITS,
    ("directoryObjects",): _DIRECTORY_SETTINGS,
    # A POST that only reads (extension properties available to the tenant).
    ("directoryObjects", "getAvailableExtensionProperties"): Needs(_DIRECTORY_READ, _DIRECTORY_READ),
    ("identity", "conditionalAccess"): _CONDITIONAL_ACCESS,
    ("identity", "conditionalAccess", "authenticationContextClassReferences"): Needs(
        ("Policy.Read.ConditionalAccess", *_CONDITIONAL_ACCESS.read), _CONDITIONAL_ACCESS.write),
    ("policies", "authorizationPolicy"): _policy("Policy.ReadWrite.Authorization"),
    ("policies", "authenticationMethodsPolicy"): _policy("Policy.ReadWrite.AuthenticationMethod"),
    ("policies", "identitySecurityDefaultsEnforcementPolicy"): _policy("Policy.ReadWrite.SecurityDefaults"),
    ("policies", "externalIdentitiesPolicy"): _policy("Policy.ReadWrite.ExternalIdentities"),
    ("policies", "crossTenantAccessPolicy"): _policy("Policy.ReadWrite.CrossTenantAccess"),
    ("policies", "tokenLifetimePolicies"): _policy("Policy.ReadWrite.ApplicationConfiguration"),
    ("policies", "authenticationStrengthPolicies"): _policy("Policy.ReadWrite.ConditionalAccess"),
    ("groupLifecyclePolicies",): _DIRECTORY_SETTINGS,
    ("groupSettings",): _DIRECTORY_SETTINGS,
    ("groupSettingTemplates",): _DIRECTORY_SETTINGS,
    ("organization",): Needs(("Organization.Read.All", "Organization.ReadWrite.All", *_DIRECTORY_READ),
                             ("Organization.ReadWrite.All",)),
    ("roleManagement", "directory"): _ROLES,
    ("directoryRoles",): _ROLES,
    ("devices",): _directory("Device"),
    ("roleManagement", "directory", "roleEligibilitySchedules"): _ELIGIBILITY,
    ("roleManagement", "directory", "roleEligibilityScheduleRequests"): _ELIGIBILITY,
    ("oauth2PermissionGrants",): Needs(("DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All",
                                        *_DIRECTORY_READ),
                                       ("DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All")),
    ("auditLogs",): Needs(("AuditLog.Read.All",), ("AuditLog.Read.All",)),
    ("policies", "roleManagementPolicies"): _ROLE_POLICIES,
    ("policies", "roleManagementPolicyAssignments"): _ROLE_POLICIES,
    ("identityGovernance", "accessReviews"): Needs(("AccessReview.Read.All", "AccessReview.ReadWrite.All"),
                                                   ("AccessReview.ReadWrite.All",)),
    ("identityGovernance", "termsOfUse"): Needs(("Agreement.Read.All", "Agreement.ReadWrite.All"),
                                                ("Agreement.ReadWrite.All",)),
    ("policies", "permissionGrantPolicies"): Needs(("Policy.Read.PermissionGrant", "Policy.Read.All",
                                                    "Policy.ReadWrite.PermissionGrant"),
                                                   ("Policy.ReadWrite.PermissionGrant",)),
    ("policies", "adminConsentRequestPolicy"): _policy("Policy.ReadWrite.ConsentRequest"),
    ("policies", "appManagementPolicies"): _policy("Policy.ReadWrite.ApplicationConfiguration"),
    ("policies", "defaultAppManagementPolicy"): _policy("Policy.ReadWrite.ApplicationConfiguration"),
    ("policies", "claimsMappingPolicies"): _policy("Policy.ReadWrite.ApplicationConfiguration"),
    ("policies", "homeRealmDiscoveryPolicies"): _policy("Policy.ReadWrite.ApplicationConfiguration"),
    ("policies", "tokenIssuancePolicies"): _policy("Policy.ReadWrite.ApplicationConfiguration"),
    ("policies", "activityBasedTimeoutPolicies"): _policy("Policy.ReadWrite.ApplicationConfiguration"),
    # Assigning a policy takes Application.Read.All and Policy.ReadWrite.ApplicationConfiguration, both
    # (appmanagementpolicy-post-appliesto); the table holds one, the policy permission.
    ("applications", "*", "appManagementPolicies"): Needs(_APPS.read, ("Policy.ReadWrite.ApplicationConfiguration",)),
    ("servicePrincipals", "*", "appManagementPolicies"): Needs(_APPS.read, ("Policy.ReadWrite.ApplicationConfiguration",)),
    ("identity", "customAuthenticationExtensions"): Needs(("CustomAuthenticationExtension.Read.All", "Application.Read.All",
                                                           "CustomAuthenticationExtension.ReadWrite.All",
                                                           "Application.ReadWrite.All"),
                                                          ("CustomAuthenticationExtension.ReadWrite.All",)),
    ("directory", "attributeSets"): _CUSTOM_SECURITY_ATTRIBUTES,
    ("directory", "customSecurityAttributeDefinitions"): _CUSTOM_SECURITY_ATTRIBUTES,
    # agentidentity-list, -get, -update, -delete: AgentIdentity.Read.All to read, AgentIdentity.ReadWrite.All to
    # write; agentidentity-post: AgentIdentity.CreateAsManager or AgentIdentity.Create.All.
    # applicationtemplate-instantiate: Application.ReadWrite.All or Directory.ReadWrite.All (OwnedBy left out).
    ("applicationTemplates",): Needs(_APPS.read, ("Application.ReadWrite.All", "Directory.ReadWrite.All")),
    ("servicePrincipals", "microsoft.graph.agentIdentity"): Needs(
        ("AgentIdentity.Read.All", "AgentIdentity.ReadWrite.All"), ("AgentIdentity.CreateAsManager", "AgentIdentity.Create.All")),
    ("servicePrincipals", "*", "microsoft.graph.agentIdentity"): Needs(
        ("AgentIdentity.Read.All", "AgentIdentity.ReadWrite.All"), ("AgentIdentity.ReadWrite.All",)),
    ("directory", "deletedItems", "microsoft.graph.agentIdentity"): Needs(
        ("AgentIdentity.Read.All", "AgentIdentity.ReadWrite.All"), ("AgentIdentity.ReadWrite.All",)),
    ("identityGovernance", "entitlementManagement"): Needs(
        ("EntitlementManagement.Read.All", "EntitlementManagement.ReadWrite.All"), ("EntitlementManagement.ReadWrite.All",)),
    ("identityGovernance", "lifecycleWorkflows"): Needs(
        ("LifecycleWorkflows.Read.All", "LifecycleWorkflows.ReadWrite.All"), ("LifecycleWorkflows.ReadWrite.All",)),
    # Its create and update pages list no application permission: a signed-in user only.
    ("identityGovernance", "lifecycleWorkflows", "customTaskExtensions"): Needs(
        ("LifecycleWorkflows.Read.All", "LifecycleWorkflows.ReadWrite.All"), ()),
    # Entra Backup and Recovery: apps read with EntraBackup.Read.All and start no job (native.py checks people).
    ("directory", "recovery"): Needs(("EntraBackup.Read.All",), ()),
}
# The tenant and its sign-in (domain-get and -update, identitycontainer-list-identityproviders,
# authenticationflowspolicy-get, deviceregistrationpolicy-get and -update, featurerolloutpolicies-list).
RULES.update({
    ("domains",): Needs(("Domain.Read.All", "Domain.ReadWrite.All", *_DIRECTORY_READ), ("Domain.ReadWrite.All",)),
    # domain-list-federationconfiguration; its writes take Domain-InternalFederation.ReadWrite.All or the above.
    ("domains", "*", "federationConfiguration"): Needs(("Domain.Read.All", "Domain.ReadWrite.All"),
                                                       ("Domain-InternalFederation.ReadWrite.All", "Domain.ReadWrite.All")),
    ("identity", "identityProviders"): Needs(("IdentityProvider.Read.All", "IdentityProvider.ReadWrite.All"),
                                             ("IdentityProvider.ReadWrite.All",)),
    # samlorwsfedexternaldomainfederation-list, -post, -update, -delete, -list-domains, -post-domains.
    ("directory", "federationConfigurations"): Needs(("IdentityProvider.Read.All", "IdentityProvider.ReadWrite.All"),
                                                     ("IdentityProvider.ReadWrite.All",)),
    ("policies", "authenticationFlowsPolicy"): _policy("Policy.ReadWrite.AuthenticationFlows"),
    ("policies", "deviceRegistrationPolicy"): _policy("Policy.ReadWrite.DeviceConfiguration"),
    ("policies", "featureRolloutPolicies"): Needs(("Policy.Read.All", "Policy.ReadWrite.FeatureRollout", *_DIRECTORY_READ),
                                                  ("Policy.ReadWrite.FeatureRollout", "Directory.ReadWrite.All")),
    ("policies", "b2bManagementPolicies"): Needs(("Policy.Read.B2BManagementPolicy", "Policy.ReadWrite.B2BManagementPolicy"),
                                                 ("Policy.ReadWrite.B2BManagementPolicy",)),
})


def _in_groups(family: str) -> Needs:
    """PIM for groups (privilegedaccessgroup-list-eligibilityschedules, -post-eligibilityschedulerequests, and
    the assignment pages): permissions of their own; RoleManagement.*.Directory reaches no group."""
    return Needs((f"{family}.Read.AzureADGroup", f"{family}.ReadWrite.AzureADGroup"), (f"{family}.ReadWrite.AzureADGroup",))


RULES.update({
    ("identityGovernance", "privilegedAccess", "group", f"{kind}{what}"): _in_groups(family)
    for kind, family in (("eligibility", "PrivilegedEligibilitySchedule"), ("assignment", "PrivilegedAssignmentSchedule"))
    for what in ("Schedules", "ScheduleRequests")
})
# A group's PIM settings are role management policies too, read and written with permissions of groups
# (policyroot-list-rolemanagementpolicies, scopeType Group); which of the two a call takes, its scope says:
# pim_groups.py checks that, and the path takes either.
GROUP_POLICIES = _in_groups("RoleManagementPolicy")
DIRECTORY_POLICIES = _ROLE_POLICIES
RULES.update({
    path: Needs(_ROLE_POLICIES.read + GROUP_POLICIES.read, _ROLE_POLICIES.write + GROUP_POLICIES.write)
    for path in (("policies", "roleManagementPolicies"), ("policies", "roleManagementPolicyAssignments"))
})
# A path no rule names: what Graph asks for most of the directory.
FALLBACK = _DIRECTORY_SETTINGS


def granted_roles(settings: Settings) -> list[str]:
    """The application permissions an admin consented to for the simulated app: what its tokens carry."""
    if settings.app_roles is None:
        return list(DEFAULT_APP_ROLES)
    return [role.strip() for role in settings.app_roles.split(",") if role.strip()]


def held(roles: Iterable[str]) -> set[str]:
    """The roles, plus the Read permission each ReadWrite one includes (Group.ReadWrite.All reads groups)."""
    found = set(roles)
    return found | {role.replace(".ReadWrite.", ".Read.", 1) for role in found if ".ReadWrite." in role}


def needs(segments: Sequence[str]) -> Needs:
    path = [s.lower() for s in segments]
    best: tuple[int, Needs] = (0, FALLBACK)
    for prefix, need in RULES.items():
        if len(prefix) > best[0] and len(prefix) <= len(path) and all(
                p == "*" or p.lower() == s for p, s in zip(prefix, path)):
            best = (len(prefix), need)
    return best[1]


def refused(segments: Sequence[str]) -> GraphFault:
    """Graph's answer to a call the app has no permission for."""
    if is_conditional_access(segments):
        # The Conditional Access backend answers with a generic code of its own.
        return GraphFault(403, "AccessDenied", INSUFFICIENT_PRIVILEGES)
    return GraphFault(403, "Authorization_RequestDenied", INSUFFICIENT_PRIVILEGES)


def permits(need: Needs, method: str, claims: Mapping[str, Any]) -> bool:
    """Whether the token allows the call: a user's (delegated) always, an app's if it holds one of need's."""
    if claims.get("idtyp") == "user":
        return True
    roles = claims.get("roles")
    return bool(held(roles if isinstance(roles, list) else []) & set(need.read if method == "GET" else need.write))


def check_permission(method: str, segments: Sequence[str], claims: Mapping[str, Any]) -> None:
    """Refuse an app-only call whose token carries none of the permissions its path takes."""
    if not permits(needs(segments), method, claims):
        raise refused(segments)
