"""Identity governance of access: entitlement management and lifecycle workflows, as Graph v1.0 serves them.

Shapes from the resource pages (learn.microsoft.com/graph/api/resources/accesspackagecatalog, accesspackage,
accesspackageassignmentpolicy, connectedorganization, entitlementmanagementsettings,
identitygovernance-workflow, identitygovernance-customtaskextension); where a page is silent the choice is
marked [UNCONFIRMED]. Entitlement management answers with the generic error codes (BadRequest,
itemNotFound) [UNCONFIRMED]; its lists page by themselves and take no $top [UNCONFIRMED: the list pages
name $select, $filter and $expand only].
"""

from __future__ import annotations

import uuid
from typing import Any

from entragit.sim.apps import TenantView
from entragit.sim.errors import GraphFault, bad_request
from entragit.sim.model import (
    BOOL,
    CONDITIONAL_ACCESS_CODES,
    INT,
    OBJ,
    OBJS,
    STR,
    CollectionSpec,
    Relationship,
    check_choice,
)

GENERIC_CODES = CONDITIONAL_ACCESS_CODES
ENTITLEMENT = "identityGovernance/entitlementManagement"
LIFECYCLE = "identityGovernance/lifecycleWorkflows"
STAMPS = {"createdDateTime": STR, "modifiedDateTime": STR}
_WITH_PUT = frozenset({"GET", "PUT", "DELETE"})


def _governed(name: str, path: str, odata_type: str, properties: dict[str, str], **details: Any) -> CollectionSpec:
    """What the entitlement management and lifecycle workflow collections share: generic error codes, lists
    that page by themselves, filters on id and displayName, the id and the stamps read-only."""
    stamps = {p for p in properties if p.endswith("DateTime") and p != "deletedDateTime"}
    details.setdefault("read_only", frozenset({"id", *stamps}))
    details.setdefault("modified_stamp", next((p for p in ("modifiedDateTime", "lastModifiedDateTime") if p in properties), None))
    return CollectionSpec(name=name, path=path, odata_type=odata_type, properties=properties, codes=GENERIC_CODES,
                          paged_by_default=False, filterable=frozenset({"id", "displayName"}), **details)


def _made_in(prop: str, parent: str) -> dict[str, Any]:
    """An object made inside another (a package in its catalog, a policy in its package): the parent given as
    {prop: {"id": ...}} in the creating body, never changed, left out of the default answer and read through
    $expand (a $select of it is the simulator's liberty)."""
    return {"create_only": frozenset({prop}),
            "relationships": (Relationship(prop, link="", single=True, via=prop, target_collections=(parent,)),),
            "expandable": (prop,)}


def _check_parent(tenant: TenantView, obj: dict[str, Any], prop: str, collection: str) -> None:
    """The creating body's {prop: {"id": ...}} must name an object of the collection; it is kept lower case."""
    named = obj[prop].get("id") if isinstance(obj.get(prop), dict) else None
    if not isinstance(named, str) or named.lower() not in {i.lower() for i in tenant.objects[collection]}:
        raise GraphFault(400, GENERIC_CODES.bad_request, f"Invalid value specified for property '{prop}'.")
    obj[prop] = {"id": named.lower()}


# --- catalogs (accesspackagecatalog.md) ------------------------------------------------------------------

CATALOG_STATES = ("unpublished", "published")


def _validate_catalog(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "state", CATALOG_STATES, "AccessPackageCatalog")
    check_choice(changes, "catalogType", ("userManaged", "serviceDefault", "serviceManaged"), "AccessPackageCatalog")


def _complete_catalog(tenant: TenantView, catalog: dict[str, Any]) -> None:
    # A catalog an admin makes is userManaged unless it says otherwise; the General catalog is serviceDefault.
    catalog["catalogType"] = catalog.get("catalogType") or "userManaged"
    catalog["state"] = catalog.get("state") or "published"
    catalog["isExternallyVisible"] = bool(catalog.get("isExternallyVisible"))


def _refuse_service_catalog(catalog: dict[str, Any]) -> None:
    if catalog.get("catalogType") != "userManaged":
        # The service's own catalog cannot be deleted; the exact answer is [UNCONFIRMED].
        raise bad_request("The catalog is managed by the service and cannot be deleted.")


# A catalog's resources, kept in the catalog: listed at catalogs/{id}/resources, changed only by resource
# requests (entitlement.py).
RESOURCES = "resources"
_CATALOG = {"id": STR, "displayName": STR, "description": STR, "catalogType": STR, "state": STR,
            "isExternallyVisible": BOOL, **STAMPS}
ACCESS_PACKAGE_CATALOGS = _governed(
    "accessPackageCatalogs", f"{ENTITLEMENT}/catalogs", "#microsoft.graph.accessPackageCatalog",
    {**_CATALOG, RESOURCES: OBJS}, default_properties=tuple(_CATALOG),
    read_only=frozenset({"id", RESOURCES, *STAMPS}),
    required_on_create=("displayName",),
    validate=_validate_catalog,
    complete=_complete_catalog,
    check_delete=_refuse_service_catalog,
)

# --- access packages (accesspackage.md; entitlementmanagement-post-accesspackages.md) ----------------------


def _complete_package(tenant: TenantView, package: dict[str, Any]) -> None:
    _check_parent(tenant, package, "catalog", ACCESS_PACKAGE_CATALOGS.name)
    package["isHidden"] = bool(package.get("isHidden"))
    package[ROLE_SCOPES] = []


# What a package grants: a role of one of its catalog's resources, at a scope of it (accesspackageresourcerolescope,
# accesspackage-post-resourcerolescopes). Kept in the package, out of its answers: listed at
# accessPackages/{id}/resourceRoleScopes, added there and deleted one by one (entitlement.py).
ROLE_SCOPES = "resourceRoleScopes"
# A group offers its membership and its ownership (accesspackagecatalog-list-resourceroles: "Member_<id>").
GROUP_ROLES = ("Member", "Owner")
# Ids the simulator gives a resource's roles and scopes: the same for the same resource of a catalog, as
# Graph lists one resource's roles with fixed ids [UNCONFIRMED: that a resource added again keeps none].
_ROLE_IDS = uuid.UUID("6d1c3a52-0f2e-4bb8-9a43-51e6b5b7f2a1")


def role_scope(catalog: dict[str, Any], body: Any, created: str) -> dict[str, Any]:
    """A role scope as Graph keeps it, from the body that adds one: its role (originSystem, originId, and the
    catalog's resource by id or, as the simulator also takes it, its scope's origin) and its scope; a resource
    not in the package's catalog, or a role the resource does not offer, is refused [UNCONFIRMED: the text]."""
    role = body.get("role") if isinstance(body, dict) else None
    scope = body.get("scope") if isinstance(body, dict) else None
    if not isinstance(role, dict) or not isinstance(scope, dict):
        raise bad_request("A resource role scope needs its role and its scope.")
    named: dict[str, Any] = role["resource"] if isinstance(role.get("resource"), dict) else {}
    system = role.get("originSystem")
    resource = next((r for r in catalog[RESOURCES] if r["originSystem"] == system
                     and (r["id"] == str(named.get("id") or "").lower()
                          or r["originId"] == str(named.get("originId") or scope.get("originId") or "").lower())), None)
    if resource is None or scope.get("originSystem") != system:
        raise bad_request("The resource of the role is not in the access package's catalog.")
    origin = resource["originId"]
    if system == "AadGroup" and role.get("originId") not in [f"{kind}_{origin}" for kind in GROUP_ROLES]:
        raise bad_request(f"The role '{role.get('originId')}' is not a role of the resource.")
    role_id = str(uuid.uuid5(_ROLE_IDS, f"{resource['id']}/role/{role.get('originId')}"))
    scope_id = str(uuid.uuid5(_ROLE_IDS, f"{resource['id']}/scope/{origin}"))
    kind = str(role.get("originId")).split("_")[0]
    return {
        "id": f"{role_id}_{scope_id}", "createdDateTime": created,
        "role": {"id": role_id, "displayName": role.get("displayName") or kind, "description": None,
                 "originSystem": system, "originId": role.get("originId")},
        "scope": {"id": scope_id, "displayName": "Root", "description": "Root Scope", "originSystem": system,
                  "originId": origin, "isRootScope": True},
    }


ACCESS_PACKAGES = _governed(
    "accessPackages", f"{ENTITLEMENT}/accessPackages", "#microsoft.graph.accessPackage",
    {"id": STR, "displayName": STR, "description": STR, "isHidden": BOOL, "catalog": OBJ, ROLE_SCOPES: OBJS, **STAMPS},
    read_only=frozenset({"id", ROLE_SCOPES, *STAMPS}),
    default_properties=("id", "displayName", "description", "isHidden", *STAMPS),
    required_on_create=("displayName", "catalog"),
    complete=_complete_package,
    **_made_in("catalog", ACCESS_PACKAGE_CATALOGS.name),
)

# --- assignment policies (accesspackageassignmentpolicy.md; update is a PUT of the whole policy) ----------

ALLOWED_TARGET_SCOPES = ("notSpecified", "specificDirectoryUsers", "specificConnectedOrganizationUsers",
                         "specificDirectoryServicePrincipals", "allMemberUsers", "allDirectoryUsers",
                         "allDirectoryServicePrincipals", "allConfiguredConnectedOrganizationUsers", "allExternalUsers")


def _validate_policy(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "allowedTargetScope", ALLOWED_TARGET_SCOPES, "AccessPackageAssignmentPolicy")
    expiration = changes.get("expiration") or {}
    check_choice(expiration, "type", ("notSpecified", "noExpiration", "afterDateTime", "afterDuration"),
                 "ExpirationPattern")


def _complete_policy(tenant: TenantView, policy: dict[str, Any]) -> None:
    _check_parent(tenant, policy, "accessPackage", ACCESS_PACKAGES.name)


_POLICY_SETTINGS = ("allowedTargetScope", "automaticRequestSettings", "expiration", "notificationSettings",
                    "requestApprovalSettings", "requestorSettings", "reviewSettings", "specificAllowedTargets")
ASSIGNMENT_POLICIES = _governed(
    "accessPackageAssignmentPolicies", f"{ENTITLEMENT}/assignmentPolicies",
    "#microsoft.graph.accessPackageAssignmentPolicy",
    {"id": STR, "displayName": STR, "description": STR, **dict.fromkeys(_POLICY_SETTINGS, OBJ),
     "allowedTargetScope": STR, "specificAllowedTargets": OBJS, "accessPackage": OBJ, **STAMPS},
    default_properties=("id", "displayName", "description", *_POLICY_SETTINGS, *STAMPS),
    required_on_create=("displayName", "accessPackage"),
    validate=_validate_policy,
    complete=_complete_policy,
    # accesspackageassignmentpolicy-update: PUT, 200 with the policy; no PATCH.
    item_methods=_WITH_PUT,
    **_made_in("accessPackage", ACCESS_PACKAGES.name),
)

# --- connected organizations (connectedorganization.md) ---------------------------------------------------

IDENTITY_SOURCE_TYPES = ("#microsoft.graph.azureActiveDirectoryTenant", "#microsoft.graph.domainIdentitySource",
                         "#microsoft.graph.externalDomainFederation", "#microsoft.graph.socialIdentitySource")


def _validate_connected_organization(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "state", ("configured", "proposed"), "ConnectedOrganization")
    for source in changes.get("identitySources") or []:
        if source.get("@odata.type") not in IDENTITY_SOURCE_TYPES:
            raise bad_request("Invalid value specified for property 'identitySources'.")


def _sponsors(name: str) -> Relationship:
    return Relationship(name, link=name, writable=True, target_collections=("users", "groups"))


CONNECTED_ORGANIZATIONS = _governed(
    "connectedOrganizations", f"{ENTITLEMENT}/connectedOrganizations", "#microsoft.graph.connectedOrganization",
    {"id": STR, "displayName": STR, "description": STR, "identitySources": OBJS, "state": STR, **STAMPS},
    required_on_create=("displayName", "identitySources"),
    relationships=(_sponsors("internalSponsors"), _sponsors("externalSponsors")),
    validate=_validate_connected_organization,
    # connectedorganization-update: 202 Accepted, the organization in the body.
    patch_returns_object=True,
    patch_status=202,
)

# --- settings (entitlementmanagementsettings.md; update answers 204) ---------------------------------------

EXTERNAL_USER_ACTIONS = ("none", "blockSignIn", "blockSignInAndDelete")


def _validate_settings(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "externalUserLifecycleAction", EXTERNAL_USER_ACTIONS, "EntitlementManagementSettings")


ENTITLEMENT_SETTINGS = CollectionSpec(
    name="entitlementManagementSettings",
    path=f"{ENTITLEMENT}/settings",
    odata_type="#microsoft.graph.entitlementManagementSettings",
    properties={"id": STR, "durationUntilExternalUserDeletedAfterBlocked": STR, "externalUserLifecycleAction": STR},
    read_only=frozenset({"id"}),
    paged_by_default=False,
    codes=GENERIC_CODES,
    validate=_validate_settings,
    singleton=True,
)

# --- lifecycle workflows (identitygovernance-workflow.md, identitygovernance-customtaskextension.md) -------

CUSTOM_TASK_EXTENSIONS = _governed(
    "customTaskExtensions", f"{LIFECYCLE}/customTaskExtensions",
    "#microsoft.graph.identityGovernance.customTaskExtension",
    {"id": STR, "displayName": STR, "description": STR, "authenticationConfiguration": OBJ,
     "callbackConfiguration": OBJ, "clientConfiguration": OBJ, "endpointConfiguration": OBJ,
     "createdDateTime": STR, "lastModifiedDateTime": STR},
    required_on_create=("displayName", "endpointConfiguration", "authenticationConfiguration"),
)

WORKFLOW_CATEGORIES = ("joiner", "leaver", "mover")
# Only these change through PATCH (identitygovernance-workflow-update); the rest through createNewVersion.
WORKFLOW_PATCHED = frozenset({"displayName", "description", "isEnabled", "isSchedulingEnabled"})


def _validate_workflow(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "category", WORKFLOW_CATEGORIES, "Workflow")
    if existing is not None and set(changes) - WORKFLOW_PATCHED:
        # The answer to a PATCH of another property is [UNCONFIRMED]; the page says to use createNewVersion.
        raise bad_request(f"Property '{sorted(set(changes) - WORKFLOW_PATCHED)[0]}' can be changed only by "
                          "creating a new version of the workflow.")
    if existing is None and not isinstance(changes.get("tasks"), list):
        raise bad_request("A workflow needs its tasks.")


def number_tasks(workflow: dict[str, Any]) -> None:
    """A workflow's tasks as Graph keeps them: each with an id, its place (1, 2, ...) and the workflow's category."""
    for place, task in enumerate(workflow.get("tasks") or [], start=1):
        task.setdefault("id", str(uuid.uuid4()))
        task.update(executionSequence=place, category=workflow.get("category"))


def _complete_workflow(tenant: TenantView, workflow: dict[str, Any]) -> None:
    number_tasks(workflow)
    workflow["version"] = 1
    workflow["isEnabled"] = bool(workflow.get("isEnabled"))
    workflow["isSchedulingEnabled"] = bool(workflow.get("isSchedulingEnabled"))


LIFECYCLE_WORKFLOWS = _governed(
    "lifecycleWorkflows", f"{LIFECYCLE}/workflows", "#microsoft.graph.identityGovernance.workflow",
    {"id": STR, "displayName": STR, "description": STR, "category": STR, "executionConditions": OBJ,
     "isEnabled": BOOL, "isSchedulingEnabled": BOOL, "settings": OBJ, "quarantineDetails": OBJ,
     "nextScheduleRunDateTime": STR, "version": INT, "deletedDateTime": STR, "tasks": OBJS,
     "createdDateTime": STR, "lastModifiedDateTime": STR},
    # Tasks are a navigation property: given on create, listed at workflows/{id}/tasks (entitlement.py).
    default_properties=("id", "displayName", "description", "category", "executionConditions", "isEnabled",
                        "isSchedulingEnabled", "settings", "quarantineDetails", "nextScheduleRunDateTime", "version",
                        "deletedDateTime", "createdDateTime", "lastModifiedDateTime"),
    read_only=frozenset({"id", "version", "quarantineDetails", "nextScheduleRunDateTime", "deletedDateTime",
                         "createdDateTime", "lastModifiedDateTime"}),
    create_only=frozenset({"category"}),
    required_on_create=("displayName", "category", "executionConditions"),
    validate=_validate_workflow,
    complete=_complete_workflow,
    # A deleted workflow waits 30 days in identityGovernance/lifecycleWorkflows/deletedItems/workflows.
    recycle="workflows",
    recycle_bin="lifecycleWorkflows",
)

# Lifecycle workflows need Microsoft Entra ID Governance; a tenant without it is refused, as entitlement
# management refuses one (403 NoLicense) [UNCONFIRMED for lifecycle workflows].
_LICENSED = tuple(LIFECYCLE.lower().split("/"))


def check_licence(licensed: bool, segments: list[str]) -> None:
    """Settings.governance_licensed false: the tenant lacks Microsoft Entra ID Governance."""
    if not licensed and tuple(s.lower() for s in segments[:len(_LICENSED)]) == _LICENSED:
        raise GraphFault(403, "NoLicense", "User is not authorized to perform the operation. "
                                           "Reason: Tenant does not meet license requirement!")


ENTITLEMENT_COLLECTIONS: tuple[CollectionSpec, ...] = (
    ACCESS_PACKAGE_CATALOGS, ACCESS_PACKAGES, ASSIGNMENT_POLICIES, CONNECTED_ORGANIZATIONS, ENTITLEMENT_SETTINGS,
    CUSTOM_TASK_EXTENSIONS, LIFECYCLE_WORKFLOWS,
)
