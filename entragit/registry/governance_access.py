"""Identity governance of access: entitlement management (catalogs, access packages, their assignment
policies, connected organizations, settings) and lifecycle workflows with their custom task extensions.

Entitlement management's objects name each other by id: an access package the catalog it was made in, an
assignment policy its access package. Graph takes those only in the body that makes the object
(entitlementmanagement-post-accesspackages, entitlementmanagement-post-assignmentpolicies), so they are
links written at creation (`AtCreation`), restored in order: catalogs, then packages, then policies. An
object made again under a new id is named by its new id in the bodies that follow.

Objects Graph keeps under others are lists in their holder's file (SubCollection): a catalog's resources,
put back and taken away by resource requests, and a workflow's tasks, made with the workflow.
"""

from __future__ import annotations

from entragit.registry import ObjectType, Relationship, register
from entragit.registry.directory import COMMON_VOLATILE
from entragit.registry.writes import AtCreation, Hooks, Obj, RefLink, Request, SubCollection, put_whole

ENTITLEMENT = "identityGovernance/entitlementManagement"
LIFECYCLE = "identityGovernance/lifecycleWorkflows"
_EM_READ, _EM_WRITE = "EntitlementManagement.Read.All", "EntitlementManagement.ReadWrite.All"
_LCW_READ, _LCW_WRITE = "LifecycleWorkflows.Read.All", "LifecycleWorkflows.ReadWrite.All"
_STAMPS = COMMON_VOLATILE | {"modifiedDateTime", "lastModifiedDateTime"}


def _governed(name: str, singular: str, entity: str, collection: str, read: str, write: str,
              **details: object) -> ObjectType:
    """Governance objects share the rest: read whole (no $select), unpaged lists, the id read-only."""
    details.setdefault("volatile", _STAMPS)
    details.setdefault("read_only", frozenset({"id"}))
    return register(ObjectType(
        name=name, singular=singular, entity=entity, collection=collection, odata_types=(), select=(),
        page_size=None, read_permission=read, write_permission=write, **details,  # type: ignore[arg-type]
    ))


def _resource_request(kind: str, catalog_id: str, resource: Obj) -> Request:
    """A resource request: the only way Graph adds a resource to a catalog or removes one
    (entitlementmanagement-post-resourcerequests)."""
    return Request("POST", f"{ENTITLEMENT}/resourceRequests",
                   {"requestType": kind, "resource": resource, "catalog": {"id": catalog_id}})


_FROM_ORIGIN = "copied from the group, application or site the resource is"
_governed(
    "accessPackageCatalogs", "access package catalog", "accessPackageCatalog", f"{ENTITLEMENT}/catalogs",
    _EM_READ, _EM_WRITE,
    keeps=("id", "displayName", "description", "catalogType", "isExternallyVisible", "state"),
    # A resource is known by what it is (a group's id in AadGroup), as one added again gets a new id.
    sub_collections=(SubCollection(
        "resources", "accessPackageResource", key=("originSystem", "originId"),
        keeps=("id", "displayName", "description", "originId", "originSystem", "attributes"),
        read_only=frozenset({"displayName", "description", "attributes"}),
        why_read_only={"displayName": _FROM_ORIGIN, "description": _FROM_ORIGIN,
                       "attributes": "changed only by an adminUpdate resource request, which a restore does not send"},
        volatile=frozenset({"createdDateTime", "modifiedDateTime"}),
        not_kept={"roles": "the roles the resource itself offers (a group's member and owner), not the catalog's",
                  "scopes": "the parts of the resource an access package may grant, as the resource defines them",
                  "uploadSessions": "uploads of a custom resource's data, not configuration"},
        update=False, why_not="Graph changes a catalog's resources only through resource requests",
        added=lambda catalog, resource: _resource_request(
            "adminAdd", catalog, {k: resource[k] for k in ("originSystem", "originId")}),
        removed=lambda catalog, resource: _resource_request("adminRemove", catalog, {"id": resource["id"]}),
    ),),
    also_needs="Group.ReadWrite.All, to add a group to a catalog again as one of its resources",
    create="post", found_again_by=("displayName",), restore_order=60,
)

# What a package grants: a role of a resource of its catalog at a scope of it (accesspackageresourcerolescope).
# Graph names them only in the role scope's navigation properties, read expanded (accesspackage-list-
# resourcerolescopes); a role scope is known by what it grants, as its id is made of the role's and the
# scope's ids in the catalog, which a resource added to the catalog again changes.
_ROLE = ("displayName", "originSystem", "originId")
_SCOPE = ("originSystem", "originId", "isRootScope")
ROLE_SCOPES = SubCollection(
    "resourceRoleScopes", "accessPackageResourceRoleScope",
    key=("role.originSystem", "role.originId", "scope.originId"),
    keeps=("id", "role", "scope"),
    # The role and the scope by what they are; their ids are the catalog's, new when a resource is added to it
    # again. Graph's examples also name the catalog's resource by its id; the add sends the scope's origin,
    # which names the same resource [UNCONFIRMED: that Graph finds it so].
    create_only=frozenset({"role", "scope"}),
    volatile=frozenset({"createdDateTime", "role.id", "scope.id"}),
    update=False, why_not="Graph offers no update of a role scope (accesspackageresourcerolescope): it is removed and added",
    expand=f"role($select={','.join(_ROLE)}),scope($select={','.join(_SCOPE)})",
)

_governed(
    "accessPackages", "access package", "accessPackage", f"{ENTITLEMENT}/accessPackages", _EM_READ, _EM_WRITE,
    keeps=("id", "displayName", "description", "isHidden"),
    # Added by POST resourceRoleScopes, removed by DELETE resourceRoleScopes/{id}
    # (accesspackage-post-resourcerolescopes, accesspackage-delete-resourcerolescopes).
    sub_collections=(ROLE_SCOPES,),
    # The catalog is read expanded; the app cannot move a package to another one (moveToCatalog is
    # delegated only), so it is given when a package is made and kept after.
    relationships=(Relationship(name="catalog", many=False, fetch="expand", write=AtCreation()),),
    create="post", found_again_by=("displayName",), restore_order=61,
)

_governed(
    "accessPackagePolicies", "access package assignment policy", "accessPackageAssignmentPolicy",
    f"{ENTITLEMENT}/assignmentPolicies", _EM_READ, _EM_WRITE,
    keeps=("id", "displayName", "description", "allowedTargetScope", "automaticRequestSettings", "expiration",
           "notificationSettings", "requestApprovalSettings", "requestorSettings", "reviewSettings",
           "specificAllowedTargets"),
    # Its update is a PUT of the whole policy, its access package with it (accesspackageassignmentpolicy-update).
    relationships=(Relationship(name="accessPackage", many=False, fetch="expand", write=AtCreation()),),
    hooks=Hooks(update=put_whole),
    create="post", restore_order=62,
)

_governed(
    "connectedOrganizations", "connected organization", "connectedOrganization",
    f"{ENTITLEMENT}/connectedOrganizations", _EM_READ, _EM_WRITE,
    keeps=("id", "displayName", "description", "identitySources", "state"),
    relationships=(Relationship(name="internalSponsors", many=True, write=RefLink(), member_types=("users", "groups")),
                   Relationship(name="externalSponsors", many=True, write=RefLink(), member_types=("users", "groups"))),
    create="post", found_again_by=("displayName",), restore_order=60,
)

_governed(
    "entitlementSettings", "entitlement management settings", "entitlementManagementSettings",
    f"{ENTITLEMENT}/settings", _EM_READ, _EM_WRITE, singleton="settings",
    keeps=("id", "durationUntilExternalUserDeletedAfterBlocked", "externalUserLifecycleAction"),
    volatile=frozenset(), restore_order=5,
)

# Graph makes and changes a custom task extension only for a signed-in user who also holds a role on its
# Logic App, never for an app (identitygovernance-lifecycleworkflowscontainer-post-customtaskextensions,
# identitygovernance-customtaskextension-update): kept, compared, never written by a restore.
_BY_A_USER = "Graph changes it only for a signed-in user with a role on its Logic App, never for an app"
_TASK_EXTENSION = ("displayName", "description", "authenticationConfiguration", "callbackConfiguration",
                   "clientConfiguration", "endpointConfiguration")
_governed(
    "customTaskExtensions", "custom task extension", "identityGovernance.customTaskExtension",
    f"{LIFECYCLE}/customTaskExtensions", _LCW_READ, _LCW_WRITE,
    keeps=("id", *_TASK_EXTENSION), read_only=frozenset({"id", *_TASK_EXTENSION}),
    why_read_only=dict.fromkeys(_TASK_EXTENSION, _BY_A_USER),
    cannot_create="Graph makes one only for a signed-in user with a role on its Logic App, never for an app",
    never_delete=_BY_A_USER, restore_order=60,
)

# Only these are changed by a workflow's PATCH (identitygovernance-workflow-update), and only a task's name and
# description by the task's (identitygovernance-task-update); the rest only by createNewVersion, which makes
# the workflow's history longer: a restore does not make versions.
_NEW_VERSION_ONLY = "changed only by a new version of the workflow (createNewVersion), which a restore does not make"
_TASK_SET = "set by Graph: the task's place in the workflow, or what its definition is for"
_governed(
    "lifecycleWorkflows", "lifecycle workflow", "identityGovernance.workflow", f"{LIFECYCLE}/workflows",
    _LCW_READ, _LCW_WRITE,
    keeps=("id", "displayName", "description", "category", "executionConditions", "isEnabled",
           "isSchedulingEnabled", "settings"),
    read_only=frozenset({"id", "executionConditions", "settings"}),
    why_read_only=dict.fromkeys(("executionConditions", "settings"), _NEW_VERSION_ONLY),
    # Graph takes them when it makes the workflow, which a workflow made again needs.
    create_with=frozenset({"executionConditions"}),
    create_only=frozenset({"category"}),
    # Tasks are known by their place in the workflow; each is made with it and never added or removed alone.
    sub_collections=(SubCollection(
        "tasks", "identityGovernance.task", key="executionSequence",
        keeps=("id", "displayName", "description", "executionSequence", "taskDefinitionId", "arguments",
               "continueOnError", "isEnabled", "category"),
        read_only=frozenset({"executionSequence", "category"}),
        why_read_only=dict.fromkeys(("executionSequence", "category"), _TASK_SET),
        create_only=frozenset({"taskDefinitionId", "arguments", "continueOnError", "isEnabled"}),
        not_kept={"taskProcessingResults": "the results of the workflow's runs, not configuration"},
        add=False, remove=False, why_not=_NEW_VERSION_ONLY, with_holder=True,
    ),),
    volatile=_STAMPS | {"nextScheduleRunDateTime", "version"},
    not_kept={"quarantineDetails": "the service's record of why it stopped the workflow, not configuration"},
    # A deleted workflow comes back whole, tasks and all, from its own recycle bin for 30 days
    # (identitygovernance-workflow-delete, identitygovernance-workflow-restore).
    recycle_bin=f"{LIFECYCLE}/deletedItems/workflows",
    create="post", found_again_by=("displayName",), restore_order=62,
)
