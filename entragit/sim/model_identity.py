"""The identity configuration around users and apps that a complete backup needs, as table entries.

Directory schema extensions, federated identity credentials, app role assignments, delegated permission
grants and directory roles (definitions, assignments, PIM eligibility). model.py appends IDENTITY_COLLECTIONS
to COLLECTIONS, so the tenant stores these like any other object; identity.py routes them, since most live
under a parent (/applications/{id}/extensionProperties) or allow fewer methods than the generic five.

The rules Graph applies on create (names it computes, references it checks, the ids it makes up) are the
`complete` functions below; shapes follow the v1.0 documentation's examples.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from entragit.sim.apps import TenantView
from entragit.sim.errors import GraphFault, bad_request, resource_not_found
from entragit.sim.model import PARENT as PARENT  # model.py's, where the expansions of nested items use it
from entragit.sim.model import CollectionSpec, Relationship
from entragit.sim.model_tenant_signin import DOMAIN_FEDERATION, EXTERNAL_DOMAINS, EXTERNAL_FEDERATIONS
from entragit.sim.model_tenant_config import ALLOWED_VALUES, BRANDING_LOCALIZATIONS, CERTIFICATE_BASED_AUTH

# model.py's property kinds, spelled out here: model.py imports this module, and across that cycle mypy cannot
# type the constants it unpacks from a tuple. tests/sim/test_conformance_identity.py checks they agree.
STR, BOOL, INT, STRS, OBJ, OBJS = "str", "bool", "int", "str[]", "obj", "obj[]"

# The role every app has implicitly: assigning it to a user or group means "may sign in", no role claim.
DEFAULT_APP_ROLE = "00000000-0000-0000-0000-000000000000"
EXTENSION_PREFIX = "extension_"


def _guid_bytes(value: str) -> bytes:
    try:
        return uuid.UUID(value).bytes_le
    except ValueError:
        raise bad_request(f"Invalid object identifier '{value}'.") from None


def opaque_id(*guids: str, suffix: str = "") -> str:
    """Graph's non-GUID ids: the little-endian bytes of the GUIDs they join, base64url without padding.

    Observed in the documentation's examples: a role assignment is role definition + principal (+ scope
    object) followed by '-1' (graph-behaviour §9); an app role assignment starts with its principal; a delegated
    grant is client + resource (+ user). The format itself is undocumented [UNCONFIRMED].
    """
    raw = b"".join(_guid_bytes(g) for g in guids)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + suffix


def _conflict(message: str) -> GraphFault:
    # Duplicates of keyed directory objects: the code of duplicate service principals (apps.py) [UNCONFIRMED here].
    return GraphFault(409, "Request_MultipleObjectsWithSameKeyValue", message)


def _find(tenant: TenantView, collections: tuple[str, ...], object_id: str) -> tuple[str, dict[str, Any]] | None:
    for name in collections:
        found = tenant.objects[name].get(str(object_id).lower())
        if found is not None:
            return name, found
    return None


def _require_reference(tenant: TenantView, collections: tuple[str, ...], object_id: Any, prop: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(object_id, str):
        raise bad_request(f"Invalid value specified for property '{prop}'.")
    found = _find(tenant, collections, object_id)
    if found is None:
        # A reference to an object that does not exist is a 404 naming it, as for $ref targets (graph-behaviour §5).
        raise resource_not_found(object_id)
    return found


# --- directory schema extensions --------------------------------------------------------------------------

EXTENSION_DATA_TYPES: dict[str, str] = {
    "Binary": STR,
    "Boolean": BOOL,
    "DateTime": STR,
    "Integer": INT,
    "LargeInteger": INT,
    "String": STR,
}
EXTENSION_TARGETS = ("User", "Group", "AdministrativeUnit", "Application", "Device", "Organization")
# Collections whose objects carry extension values, with their targetObjects entry. Only users so far: other
# targets can be registered, but their objects refuse the values as unknown properties.
EXTENSION_TARGETS_SIMULATED = {"users": "User"}

EXTENSION_PROPERTY_PROPERTIES: dict[str, str] = {
    "id": STR,
    "deletedDateTime": STR,
    "appDisplayName": STR,
    "dataType": STR,
    "isMultiValued": BOOL,
    "isSyncedFromOnPremises": BOOL,
    "name": STR,
    "targetObjects": STRS,
}


def is_directory_extension(name: str) -> bool:
    return name.startswith(EXTENSION_PREFIX)


def extension_kind(prop: Mapping[str, Any]) -> str:
    return STRS if prop.get("isMultiValued") else EXTENSION_DATA_TYPES[prop["dataType"]]


def _validate_extension_property(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    if changes.get("dataType") not in (None, *EXTENSION_DATA_TYPES):
        raise bad_request("Invalid value specified for property 'dataType' of resource 'ExtensionProperty'.")
    if changes.get("isMultiValued") and changes.get("dataType") not in ("String", "DateTime", "Binary"):
        # Graph allows multi-valued numbers and booleans; the simulator keeps no list kinds for them and says so
        # rather than store values it cannot check.
        raise bad_request("The simulated tenant supports multi-valued extensions of String, DateTime and Binary only.")
    targets = changes.get("targetObjects")
    if targets is not None and (not targets or any(t not in EXTENSION_TARGETS for t in targets)):
        raise bad_request("Invalid value specified for property 'targetObjects' of resource 'ExtensionProperty'.")
    name = changes.get("name")
    if name is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,119}", name):
        raise bad_request("Invalid value specified for property 'name' of resource 'ExtensionProperty'.")


def _complete_extension_property(tenant: TenantView, prop: dict[str, Any]) -> None:
    app = tenant.objects["applications"][prop[PARENT]]
    prop["name"] = f"{EXTENSION_PREFIX}{app['appId'].replace('-', '')}_{prop['name']}"
    prop["appDisplayName"] = app["displayName"]
    prop["isSyncedFromOnPremises"] = False
    prop["isMultiValued"] = bool(prop["isMultiValued"])
    taken = {p["name"].lower() for p in tenant.objects["extensionProperties"].values()}
    if prop["name"].lower() in taken:
        raise _conflict(f"An extension property named '{prop['name']}' already exists.")


EXTENSION_PROPERTIES = CollectionSpec(
    name="extensionProperties",
    path="applications/{id}/extensionProperties",
    odata_type="#microsoft.graph.extensionProperty",
    properties=EXTENSION_PROPERTY_PROPERTIES,
    default_properties=tuple(EXTENSION_PROPERTY_PROPERTIES),  # every property, and never PARENT
    read_only=frozenset({"id", "deletedDateTime", "appDisplayName", "isSyncedFromOnPremises"}),
    required_on_create=("name", "dataType", "targetObjects"),
    filterable=frozenset({"id", "name"}),
    validate=_validate_extension_property,
    complete=_complete_extension_property,
)

# --- federated identity credentials -----------------------------------------------------------------------

FEDERATED_CREDENTIAL_PROPERTIES: dict[str, str] = {
    "id": STR,
    "name": STR,
    "issuer": STR,
    "subject": STR,
    "audiences": STRS,
    "description": STR,
}
MAX_FEDERATED_CREDENTIALS = 20  # per application (application-post-federatedidentitycredentials)


def _validate_federated_credential(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    name = changes.get("name")
    # Up to 120 URL-friendly characters, immutable once created.
    if name is not None and not re.fullmatch(r"[A-Za-z0-9_\-.~]{1,120}", name):
        raise bad_request("Invalid value specified for property 'name' of resource 'FederatedIdentityCredential'.")
    audiences = changes.get("audiences")
    # "This field can only accept a single value" (federatedIdentityCredential resource).
    if audiences is not None and len(audiences) != 1:
        raise bad_request("Invalid value specified for property 'audiences' of resource 'FederatedIdentityCredential'.")
    for prop, limit in (("issuer", 600), ("subject", 600)):
        if changes.get(prop) is not None and not 0 < len(changes[prop]) <= limit:
            raise bad_request(f"Invalid value specified for property '{prop}' of resource 'FederatedIdentityCredential'.")


def check_federated_credential_unique(tenant: TenantView, credential: Mapping[str, Any]) -> None:
    """Names are unique per app, and so is each issuer and subject pair; an app holds at most 20."""
    siblings = [
        c for c in tenant.objects["federatedIdentityCredentials"].values()
        if c[PARENT] == credential[PARENT] and c["id"] != credential["id"]
    ]  # fmt: skip
    if len(siblings) >= MAX_FEDERATED_CREDENTIALS:
        raise bad_request(f"An application can have at most {MAX_FEDERATED_CREDENTIALS} federated identity credentials.")
    if any(c["name"].lower() == credential["name"].lower() for c in siblings):
        raise _conflict(f"A federated identity credential named '{credential['name']}' already exists on this application.")
    if any((c["issuer"], c["subject"]) == (credential["issuer"], credential["subject"]) for c in siblings):
        raise _conflict("A federated identity credential with this issuer and subject already exists on this application.")


FEDERATED_CREDENTIALS = CollectionSpec(
    name="federatedIdentityCredentials",
    path="applications/{id}/federatedIdentityCredentials",
    odata_type="#microsoft.graph.federatedIdentityCredential",
    properties=FEDERATED_CREDENTIAL_PROPERTIES,
    default_properties=tuple(FEDERATED_CREDENTIAL_PROPERTIES),  # every property, and never PARENT
    read_only=frozenset({"id"}),
    create_only=frozenset({"name"}),
    required_on_create=("name", "issuer", "subject", "audiences"),
    filterable=frozenset({"id", "name", "issuer", "subject"}),
    validate=_validate_federated_credential,
    complete=check_federated_credential_unique,
)

# --- app role assignments ---------------------------------------------------------------------------------

PRINCIPAL_TYPES = {"users": "User", "groups": "Group", "servicePrincipals": "ServicePrincipal"}


def _complete_app_role_assignment(tenant: TenantView, assignment: dict[str, Any]) -> None:
    principal_collection, principal = _require_reference(tenant, tuple(PRINCIPAL_TYPES), assignment["principalId"], "principalId")
    _, resource = _require_reference(tenant, ("servicePrincipals",), assignment["resourceId"], "resourceId")
    member_type = "Application" if principal_collection == "servicePrincipals" else "User"
    role_id = str(assignment["appRoleId"]).lower()
    offered = any(
        r["id"] == role_id and r.get("isEnabled", True) and member_type in r.get("allowedMemberTypes", [])
        for r in resource.get("appRoles") or []
    )
    if not (offered or (role_id == DEFAULT_APP_ROLE and member_type == "User")):
        # The text real tenants give for an unknown or unassignable role [UNCONFIRMED].
        raise bad_request(f"Permission being assigned was not found on application '{resource['appId']}'.")
    for other in tenant.objects["appRoleAssignments"].values():
        if (other["principalId"], other["resourceId"], other["appRoleId"]) == (principal["id"], resource["id"], role_id):
            raise bad_request("Permission being assigned already exists on the object.")
    assignment.update(
        {
            "id": opaque_id(principal["id"], str(uuid.uuid4())),
            "appRoleId": role_id,
            "principalId": principal["id"],
            "principalType": PRINCIPAL_TYPES[principal_collection],
            "principalDisplayName": principal.get("displayName"),
            "resourceId": resource["id"],
            "resourceDisplayName": resource.get("displayName"),
        }
    )


APP_ROLE_ASSIGNMENTS = CollectionSpec(
    name="appRoleAssignments",
    path="servicePrincipals/{id}/appRoleAssignedTo",
    odata_type="#microsoft.graph.appRoleAssignment",
    properties={
        "id": STR,
        "deletedDateTime": STR,
        "appRoleId": STR,
        "createdDateTime": STR,
        "principalDisplayName": STR,
        "principalId": STR,
        "principalType": STR,
        "resourceDisplayName": STR,
        "resourceId": STR,
    },
    read_only=frozenset({"id", "deletedDateTime", "createdDateTime", "principalDisplayName", "principalType", "resourceDisplayName"}),
    required_on_create=("principalId", "resourceId", "appRoleId"),
    filterable=frozenset({"id", "appRoleId", "principalId", "principalType", "resourceId"}),
    complete=_complete_app_role_assignment,
)

# --- delegated permission grants --------------------------------------------------------------------------

CONSENT_TYPES = ("AllPrincipals", "Principal")


def _validate_grant(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    if changes.get("consentType") not in (None, *CONSENT_TYPES):
        raise bad_request("Invalid value specified for property 'consentType' of resource 'OAuth2PermissionGrant'.")


def _complete_grant(tenant: TenantView, grant: dict[str, Any]) -> None:
    _, client = _require_reference(tenant, ("servicePrincipals",), grant["clientId"], "clientId")
    _, resource = _require_reference(tenant, ("servicePrincipals",), grant["resourceId"], "resourceId")
    guids = [client["id"], resource["id"]]
    if grant["consentType"] == "Principal":
        _, user = _require_reference(tenant, ("users",), grant.get("principalId"), "principalId")
        guids.append(user["id"])
        grant["principalId"] = user["id"]
    elif grant.get("principalId") is not None:
        raise bad_request("Property 'principalId' must be null when 'consentType' is 'AllPrincipals'.")
    grant.update({"id": opaque_id(*guids), "clientId": client["id"], "resourceId": resource["id"]})
    if grant["id"] in tenant.objects["oauth2PermissionGrants"]:
        raise _conflict("Permission entry already exists.")


OAUTH2_PERMISSION_GRANTS = CollectionSpec(
    name="oauth2PermissionGrants",
    path="oauth2PermissionGrants",
    odata_type="#microsoft.graph.oAuth2PermissionGrant",
    properties={"id": STR, "clientId": STR, "consentType": STR, "principalId": STR, "resourceId": STR, "scope": STR},
    read_only=frozenset({"id"}),
    # Only scope changes after creation (oauth2permissiongrant-update).
    create_only=frozenset({"clientId", "consentType", "principalId", "resourceId"}),
    required_on_create=("clientId", "consentType", "resourceId", "scope"),
    filterable=frozenset({"id", "clientId", "consentType", "principalId", "resourceId"}),
    validate=_validate_grant,
    complete=_complete_grant,
)

# --- directory roles: definitions, assignments, PIM eligibility -------------------------------------------


@dataclass(frozen=True)
class BuiltInRole:
    template_id: str
    display_name: str
    description: str
    actions: tuple[str, ...]


# Well-known template ids, the same in every tenant; a built-in definition's id is its template id.
BUILT_IN_ROLES: tuple[BuiltInRole, ...] = (
    BuiltInRole("62e90394-69f5-4237-9190-012177145e10", "Global Administrator",
                "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
                ("microsoft.directory/users/allProperties/allTasks", "microsoft.directory/groups/allProperties/allTasks",
                 "microsoft.directory/roleAssignments/allProperties/allTasks", "microsoft.directory/policies/allProperties/allTasks")),
    BuiltInRole("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator",
                "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
                ("microsoft.directory/roleAssignments/allProperties/allTasks", "microsoft.directory/roleDefinitions/allProperties/allTasks",
                 "microsoft.directory/privilegedIdentityManagement/allProperties/allTasks")),
    BuiltInRole("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator",
                "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
                ("microsoft.directory/users/create", "microsoft.directory/users/delete", "microsoft.directory/users/basic/update",
                 "microsoft.directory/users/password/update", "microsoft.directory/groups/members/update")),
    BuiltInRole("fdd7a751-b60b-444a-984c-02652fe8fa1c", "Groups Administrator",
                "Members of this role can create/manage groups, create/manage groups settings like naming and expiration "
                "policies, and view groups activity and audit reports.",
                ("microsoft.directory/groups/create", "microsoft.directory/groups/delete", "microsoft.directory/groups/members/update",
                 "microsoft.directory/groupSettings/allProperties/allTasks")),
    BuiltInRole("b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator",
                "Can manage Conditional Access capabilities.",
                ("microsoft.directory/conditionalAccessPolicies/create", "microsoft.directory/conditionalAccessPolicies/basic/update",
                 "microsoft.directory/namedLocations/create", "microsoft.directory/namedLocations/basic/update")),
    BuiltInRole("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator",
                "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.",
                ("microsoft.directory/policies/basic/update", "microsoft.directory/conditionalAccessPolicies/basic/update",
                 "microsoft.directory/identityProtection/allProperties/allTasks")),
    BuiltInRole("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator",
                "Can create and manage all aspects of app registrations and enterprise apps.",
                ("microsoft.directory/applications/create", "microsoft.directory/applications/credentials/update",
                 "microsoft.directory/servicePrincipals/appRoleAssignedTo/update")),
    BuiltInRole("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader",
                "Can read everything that a Global Administrator can, but not update anything.",
                ("microsoft.directory/users/allProperties/read", "microsoft.directory/groups/allProperties/read",
                 "microsoft.directory/roleAssignments/allProperties/read", "microsoft.directory/policies/allProperties/read")),
    BuiltInRole("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator",
                "Can reset passwords for non-administrators and Helpdesk Administrators.",
                ("microsoft.directory/users/password/update", "microsoft.directory/users/invalidateAllRefreshTokens",
                 "microsoft.directory/bitlockerKeys/key/read")),
    BuiltInRole("158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator",
                "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
                ("microsoft.directory/applications/create", "microsoft.directory/servicePrincipals/appRoleAssignedTo/update")),
    BuiltInRole("c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator",
                "Can access to view, set and reset authentication method information for any non-admin user.",
                ("microsoft.directory/users/authenticationMethods/create", "microsoft.directory/users/authenticationMethods/delete")),
    BuiltInRole("7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator",
                "Can access to view, set and reset authentication method information for any user (admin or non-admin).",
                ("microsoft.directory/users/authenticationMethods/allProperties/allTasks",)),
    BuiltInRole("29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator",
                "Can manage all aspects of the Exchange product.",
                ("microsoft.office365.exchange/allEntities/basic/allTasks",)),
    BuiltInRole("f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator",
                "Can manage all aspects of the SharePoint service.",
                ("microsoft.office365.sharePoint/allEntities/allTasks",)),
    BuiltInRole("69091246-20e8-4a56-aa4d-066075b2a7a8", "Teams Administrator",
                "Can manage the Microsoft Teams service.",
                ("microsoft.teams/allEntities/allProperties/allTasks",)),
    BuiltInRole("3a2c62db-5318-420d-8d74-23affee5d9d5", "Intune Administrator",
                "Can manage all aspects of the Intune product.",
                ("microsoft.intune/allEntities/allTasks",)),
    BuiltInRole("5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader",
                "Can read security information and reports in Microsoft Entra ID and Office 365.",
                ("microsoft.directory/policies/standard/read", "microsoft.directory/identityProtection/allProperties/read")),
    BuiltInRole("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers",
                "Can read basic directory information. Commonly used to grant directory read access to applications and guests.",
                ("microsoft.directory/users/standard/read", "microsoft.directory/groups/standard/read")),
    BuiltInRole("b0f54661-2d74-4c50-afa3-1ec803f12efe", "Billing Administrator",
                "Can perform common billing related tasks like updating payment information.",
                ("microsoft.commerce.billing/allEntities/allProperties/allTasks",)),
    # The ids Microsoft's role examples use besides the ones above (rbacapplication-list-roledefinitions,
    # rbacapplication-post-roleassignments, rbacapplication-post-roleeligibilityschedulerequests), and other
    # built-in roles a tenant's assignments commonly name.
    BuiltInRole("f023fd81-a637-4b56-95fd-791ac0226033", "Service Support Administrator",
                "Can read service health information and manage support tickets.",
                ("microsoft.azure.serviceHealth/allEntities/allTasks", "microsoft.azure.supportTickets/allEntities/allTasks")),
    BuiltInRole("8424c6f0-a189-499e-bbd0-26c1753c96d4", "Attribute Definition Administrator",
                "Define and manage the definition of custom security attributes.",
                ("microsoft.directory/attributeSets/allProperties/allTasks",
                 "microsoft.directory/customSecurityAttributeDefinitions/allProperties/allTasks")),
    BuiltInRole("58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d", "Attribute Assignment Administrator",
                "Assign custom security attribute keys and values to supported Microsoft Entra objects.",
                ("microsoft.directory/users/customSecurityAttributes/update",
                 "microsoft.directory/servicePrincipals/customSecurityAttributes/update")),
    # The role-assignment examples assign this id tenant-wide; the pages give it no stable name of its own.
    BuiltInRole("c2cf284d-6c41-4e6b-afac-4b80928c9034", "Documented Example Role",
                "The role Microsoft's role-assignment examples assign (rbacapplication-post-roleassignments).",
                ("microsoft.directory/users/standard/read",)),
    BuiltInRole("7698a772-787b-4ac8-901f-60d6b08affd2", "Cloud Device Administrator",
                "Limited access to manage devices in Microsoft Entra ID.",
                ("microsoft.directory/devices/delete", "microsoft.directory/devices/disable", "microsoft.directory/devices/enable")),
    BuiltInRole("966707d0-3269-4727-9be2-8c3a10f19b9d", "Password Administrator",
                "Can reset passwords for non-administrators and Password Administrators.",
                ("microsoft.directory/users/password/update",)),
    BuiltInRole("95e79109-95c0-4d8e-aee3-d01accf2d47b", "Guest Inviter",
                "Can invite guest users independent of the 'members can invite guests' setting.",
                ("microsoft.directory/users/inviteGuest",)),
    BuiltInRole("4a5d8f65-41da-4de4-8968-e035b65339cf", "Reports Reader",
                "Can read sign-in and audit reports.",
                ("microsoft.directory/auditLogs/allProperties/read", "microsoft.directory/signInReports/allProperties/read")),
    BuiltInRole("0526716b-113d-4c15-b2c8-68e3c22b9f80", "Authentication Policy Administrator",
                "Can create and manage the authentication methods policy, tenant-wide MFA settings, password protection "
                "policy, and verifiable credentials.",
                ("microsoft.directory/organization/strongAuthentication/allTasks",)),
    BuiltInRole("8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2", "Hybrid Identity Administrator",
                "Can manage Active Directory to Microsoft Entra cloud provisioning, Microsoft Entra Connect, and federation settings.",
                ("microsoft.directory/cloudProvisioning/allProperties/allTasks",)),
    BuiltInRole("4d6ac14f-3453-41d0-bef9-a3e0c569773a", "License Administrator",
                "Can manage product licenses on users and groups.",
                ("microsoft.directory/users/assignLicense", "microsoft.directory/groups/assignLicense")),
    BuiltInRole("9360feb5-f418-4baa-8175-e2a00bac4301", "Directory Writers",
                "Can read and write basic directory information. For granting access to applications, not intended for users.",
                ("microsoft.directory/users/basic/update", "microsoft.directory/groups/basic/update")),
    BuiltInRole("cf1c38e5-3621-4004-a7cb-879624dced7c", "Application Developer",
                "Can create application registrations independent of the 'Users can register applications' setting.",
                ("microsoft.directory/applications/createAsOwner",)),
)  # fmt: skip
BUILT_IN_BY_NAME = {role.display_name: role for role in BUILT_IN_ROLES}

ROLE_DEFINITION_PROPERTIES: dict[str, str] = {
    "id": STR,
    "description": STR,
    "displayName": STR,
    "isBuiltIn": BOOL,
    "isEnabled": BOOL,
    "resourceScopes": STRS,
    "rolePermissions": OBJS,
    "templateId": STR,
    "version": STR,
}


def built_in_definition(role: BuiltInRole) -> dict[str, Any]:
    return {
        "id": role.template_id,
        "description": role.description,
        "displayName": role.display_name,
        "isBuiltIn": True,
        "isEnabled": True,
        "resourceScopes": ["/"],
        "rolePermissions": [{"allowedResourceActions": list(role.actions), "condition": None}],
        "templateId": role.template_id,
        "version": "1",
    }


def built_in_refused() -> GraphFault:
    # Built-in roles are read-only; the exact status and text for writing one are [UNCONFIRMED].
    return bad_request("Built-in role definitions cannot be modified or deleted.")


def _validate_role_definition(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    if existing is not None and existing.get("isBuiltIn"):
        raise built_in_refused()
    for permission in changes.get("rolePermissions") or []:
        actions = permission.get("allowedResourceActions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, str) for a in actions):
            raise bad_request("Invalid value specified for property 'rolePermissions' of resource 'UnifiedRoleDefinition'.")
    if changes.get("displayName") is not None and changes["displayName"] in BUILT_IN_BY_NAME:
        raise bad_request(f"A role definition named '{changes['displayName']}' already exists.")


def _complete_role_definition(tenant: TenantView, definition: dict[str, Any]) -> None:
    definition["isBuiltIn"] = False
    definition["templateId"] = definition["id"]
    definition["resourceScopes"] = definition["resourceScopes"] or ["/"]
    definition["rolePermissions"] = [{"condition": None, **p} for p in definition["rolePermissions"]]
    if any(d["displayName"].lower() == definition["displayName"].lower() for d in tenant.objects["roleDefinitions"].values()):
        raise bad_request(f"A role definition named '{definition['displayName']}' already exists.")


ROLE_DEFINITIONS = CollectionSpec(
    name="roleDefinitions",
    path="roleManagement/directory/roleDefinitions",
    odata_type="#microsoft.graph.unifiedRoleDefinition",
    properties=ROLE_DEFINITION_PROPERTIES,
    read_only=frozenset({"id", "isBuiltIn", "templateId", "version"}),
    required_on_create=("displayName", "rolePermissions", "isEnabled"),
    filterable=frozenset({"id", "displayName", "isBuiltIn", "templateId"}),
    validate=_validate_role_definition,
    complete=_complete_role_definition,
)

# A role is assigned to a user, a role-assignable group or a service principal.
ROLE_PRINCIPALS = ("users", "groups", "servicePrincipals")


@dataclass(frozen=True)
class RoleTarget:
    principal: dict[str, Any]
    definition: dict[str, Any]
    scope_object: str | None  # the administrative unit or application a scoped assignment names


def check_role_target(tenant: TenantView, request: Mapping[str, Any]) -> RoleTarget:
    """The references of a role assignment, eligibility or request: principal, definition, scope."""
    collection, principal = _require_reference(tenant, ROLE_PRINCIPALS, request.get("principalId"), "principalId")
    if collection == "groups" and not principal.get("isAssignableToRole"):
        # Only groups created role-assignable can hold directory roles [message UNCONFIRMED].
        raise bad_request(f"The group '{principal['id']}' is not role-assignable: isAssignableToRole must be true.")
    _, definition = _require_reference(tenant, ("roleDefinitions",), request.get("roleDefinitionId"), "roleDefinitionId")
    if not definition.get("isEnabled"):
        raise bad_request(f"The role definition '{definition['id']}' is disabled.")
    scope, app_scope = request.get("directoryScopeId"), request.get("appScopeId")
    if scope is None and app_scope is None:
        raise bad_request("Either 'directoryScopeId' or 'appScopeId' must be specified.")
    scope_object = None
    if scope not in (None, "/"):
        match = re.fullmatch(r"/(?:administrativeUnits/)?([0-9a-fA-F-]{36})", str(scope))
        kind = ("administrativeUnits",) if str(scope).startswith("/administrativeUnits/") else ("applications", "servicePrincipals")
        if match is None or _find(tenant, kind, match.group(1)) is None:
            raise bad_request(f"Invalid value specified for property 'directoryScopeId': '{scope}'.")
        scope_object = match.group(1).lower()
    return RoleTarget(principal, definition, scope_object)


def _complete_role_assignment(tenant: TenantView, assignment: dict[str, Any]) -> None:
    target = check_role_target(tenant, assignment)
    assignment["principalId"] = target.principal["id"]
    assignment["roleDefinitionId"] = target.definition["id"]
    scope_ids = (target.scope_object,) if target.scope_object else ()
    assignment["id"] = opaque_id(target.definition["id"], target.principal["id"], *scope_ids, suffix="-1")
    if assignment["id"] in tenant.objects["roleAssignments"]:
        # The directory's generic conflict text (ObjectConflict) [UNCONFIRMED for role assignments].
        raise bad_request("A conflicting object with one or more of the specified property values is present in the directory.")


ROLE_ASSIGNMENTS = CollectionSpec(
    name="roleAssignments",
    path="roleManagement/directory/roleAssignments",
    odata_type="#microsoft.graph.unifiedRoleAssignment",
    properties={
        "id": STR,
        "condition": STR,
        "principalId": STR,
        "roleDefinitionId": STR,
        "directoryScopeId": STR,
        "appScopeId": STR,
    },
    read_only=frozenset({"id"}),
    required_on_create=("principalId", "roleDefinitionId"),
    filterable=frozenset({"id", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId"}),
    # rbacapplication-list-roleassignments expands the principal each assignment names.
    relationships=(Relationship("principal", link="", single=True, via="principalId",
                                target_collections=("users", "groups", "servicePrincipals")),),
    expandable=("principal",),
    complete=_complete_role_assignment,
)

SCHEDULE_PROPERTIES: dict[str, str] = {
    "id": STR,
    "principalId": STR,
    "roleDefinitionId": STR,
    "directoryScopeId": STR,
    "appScopeId": STR,
    "createdUsing": STR,
    "createdDateTime": STR,
    "modifiedDateTime": STR,
    "status": STR,
    "memberType": STR,
    "scheduleInfo": OBJ,
}

ROLE_ELIGIBILITY_SCHEDULES = CollectionSpec(
    name="roleEligibilitySchedules",
    path="roleManagement/directory/roleEligibilitySchedules",
    odata_type="#microsoft.graph.unifiedRoleEligibilitySchedule",
    properties=SCHEDULE_PROPERTIES,
    # Written only through roleEligibilityScheduleRequests (identity.py routes no writes here).
    read_only=frozenset(SCHEDULE_PROPERTIES),
    filterable=frozenset({"id", "principalId", "roleDefinitionId", "directoryScopeId"}),
)

# Actions a request may take; only the administrator's assign and remove are simulated (others answer 400).
ELIGIBILITY_ACTIONS = ("adminAssign", "adminRemove")
ALL_ELIGIBILITY_ACTIONS = (*ELIGIBILITY_ACTIONS, "adminUpdate", "adminExtend", "adminRenew", "selfActivate", "selfDeactivate", "selfExtend", "selfRenew")


def _validate_eligibility_request(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    action = changes.get("action")
    if action not in ALL_ELIGIBILITY_ACTIONS:
        raise bad_request("Invalid value specified for property 'action' of resource 'UnifiedRoleEligibilityScheduleRequest'.")
    if action not in ELIGIBILITY_ACTIONS:
        raise bad_request(f"The simulated tenant supports the actions {', '.join(ELIGIBILITY_ACTIONS)} only, not '{action}'.")
    expiration = (changes.get("scheduleInfo") or {}).get("expiration") or {}
    if expiration.get("type") not in (None, "noExpiration", "afterDateTime", "afterDuration"):
        raise bad_request("Invalid value specified for property 'scheduleInfo.expiration.type'.")
    if expiration.get("type") == "afterDateTime" and not isinstance(expiration.get("endDateTime"), str):
        raise bad_request("Invalid value specified for property 'scheduleInfo.expiration.endDateTime'.")


ROLE_ELIGIBILITY_REQUESTS = CollectionSpec(
    name="roleEligibilityScheduleRequests",
    path="roleManagement/directory/roleEligibilityScheduleRequests",
    odata_type="#microsoft.graph.unifiedRoleEligibilityScheduleRequest",
    properties={
        "id": STR,
        "status": STR,
        "createdDateTime": STR,
        "completedDateTime": STR,
        "approvalId": STR,
        "customData": STR,
        "action": STR,
        "principalId": STR,
        "roleDefinitionId": STR,
        "directoryScopeId": STR,
        "appScopeId": STR,
        "isValidationOnly": BOOL,
        "targetScheduleId": STR,
        "justification": STR,
        "createdBy": OBJ,
        "scheduleInfo": OBJ,
        "ticketInfo": OBJ,
    },
    read_only=frozenset({"id", "status", "createdDateTime", "completedDateTime", "approvalId", "targetScheduleId", "createdBy"}),
    required_on_create=("action", "principalId", "roleDefinitionId"),
    filterable=frozenset({"id", "principalId", "roleDefinitionId", "action", "status"}),
    validate=_validate_eligibility_request,
)

# --- devices (device.md, device-post-devices.md, device-delta.md) --------------------------------------------

DEVICES = CollectionSpec(
    name="devices",
    path="devices",
    odata_type="#microsoft.graph.device",
    properties={
        "id": STR,
        "deletedDateTime": STR,
        "accountEnabled": BOOL,
        "alternativeSecurityIds": OBJS,
        "approximateLastSignInDateTime": STR,
        "complianceExpirationDateTime": STR,
        "deviceCategory": STR,
        "deviceId": STR,
        "deviceMetadata": STR,
        "deviceOwnership": STR,
        "deviceVersion": INT,
        "displayName": STR,
        "enrollmentProfileName": STR,
        "enrollmentType": STR,
        "isCompliant": BOOL,
        "isManaged": BOOL,
        "isRooted": BOOL,
        "managementType": STR,
        "manufacturer": STR,
        "mdmAppId": STR,
        "model": STR,
        "onPremisesLastSyncDateTime": STR,
        "onPremisesSecurityIdentifier": STR,
        "onPremisesSyncEnabled": BOOL,
        "operatingSystem": STR,
        "operatingSystemVersion": STR,
        "physicalIds": STRS,
        "profileType": STR,
        "registrationDateTime": STR,
        "systemLabels": STRS,
        "trustType": STR,
    },
    read_only=frozenset({"id", "deletedDateTime", "approximateLastSignInDateTime", "complianceExpirationDateTime",
                         "onPremisesLastSyncDateTime", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
                         "registrationDateTime", "systemLabels", "isRooted", "managementType", "enrollmentType"}),
    # device-post-devices: the properties a create must carry.
    required_on_create=("accountEnabled", "alternativeSecurityIds", "deviceId", "displayName", "operatingSystem",
                        "operatingSystemVersion"),
    filterable=frozenset({"id", "accountEnabled", "deviceId", "displayName", "operatingSystem", "trustType"}),
)

IDENTITY_COLLECTIONS: tuple[CollectionSpec, ...] = (
    DEVICES,
    EXTENSION_PROPERTIES,
    FEDERATED_CREDENTIALS,
    APP_ROLE_ASSIGNMENTS,
    OAUTH2_PERMISSION_GRANTS,
    ROLE_DEFINITIONS,
    ROLE_ASSIGNMENTS,
    ROLE_ELIGIBILITY_SCHEDULES,
    ROLE_ELIGIBILITY_REQUESTS,
)


@dataclass(frozen=True)
class Nested:
    """A collection served under a parent object: /{parent}/{id}/{segment}, its items those whose `key` is the parent's id."""

    spec: CollectionSpec
    parent: str
    segment: str
    key: str
    item_methods: frozenset[str]
    # A second key an item can be addressed by (federated credentials by name).
    alternate_key: str | None = None
    # Rules across siblings that a PATCH must keep, called with the object as it would become.
    check_update: Callable[[TenantView, dict[str, Any]], None] | None = None


NESTED: tuple[Nested, ...] = (
    Nested(EXTENSION_PROPERTIES, "applications", "extensionProperties", PARENT, frozenset({"GET", "DELETE"})),
    Nested(
        FEDERATED_CREDENTIALS,
        "applications",
        "federatedIdentityCredentials",
        PARENT,
        frozenset({"GET", "PATCH", "DELETE"}),
        alternate_key="name",
        check_update=check_federated_credential_unique,
    ),
    # One store, four views: who holds a resource's roles, and what roles a principal holds.
    Nested(APP_ROLE_ASSIGNMENTS, "servicePrincipals", "appRoleAssignedTo", "resourceId", frozenset({"GET", "DELETE"})),
    Nested(APP_ROLE_ASSIGNMENTS, "servicePrincipals", "appRoleAssignments", "principalId", frozenset({"GET", "DELETE"})),
    Nested(APP_ROLE_ASSIGNMENTS, "users", "appRoleAssignments", "principalId", frozenset({"GET", "DELETE"})),
    Nested(APP_ROLE_ASSIGNMENTS, "groups", "appRoleAssignments", "principalId", frozenset({"GET", "DELETE"})),
    Nested(ALLOWED_VALUES, "customSecurityAttributeDefinitions", "allowedValues", PARENT, frozenset({"GET", "PATCH"})),
    Nested(CERTIFICATE_BASED_AUTH, "organization", "certificateBasedAuthConfiguration", PARENT,
           frozenset({"GET", "DELETE"})),
    Nested(BRANDING_LOCALIZATIONS, "organization", "branding/localizations", PARENT, frozenset({"GET", "PATCH", "DELETE"})),
)
NESTED += (Nested(DOMAIN_FEDERATION, "domains", "federationConfiguration", PARENT, frozenset({"GET", "PATCH", "DELETE"})),)
# A SAML/WS-Fed federation's domains: listed and added, no page offers a get, an update or a delete of one.
NESTED += (Nested(EXTERNAL_DOMAINS, EXTERNAL_FEDERATIONS.name, "domains", PARENT, frozenset()),)

# Top-level collections and the methods Graph offers on them: (on the collection, on an item).
TOP_LEVEL_METHODS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "oauth2PermissionGrants": (frozenset({"GET", "POST"}), frozenset({"GET", "PATCH", "DELETE"})),
    "roleDefinitions": (frozenset({"GET", "POST"}), frozenset({"GET", "PATCH", "DELETE"})),
    "roleAssignments": (frozenset({"GET", "POST"}), frozenset({"GET", "DELETE"})),
    "roleEligibilitySchedules": (frozenset({"GET"}), frozenset({"GET"})),
    "roleEligibilityScheduleRequests": (frozenset({"GET", "POST"}), frozenset({"GET"})),
}
