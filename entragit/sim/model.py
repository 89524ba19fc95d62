"""The simulator's own description of Graph's directory resources, written from the behaviour reference.

Everything the HTTP layer needs to know about a collection (path, properties and their kinds, which are
returned by default, which refuse writes, which error codes its backend uses, its relationships) is data in
its CollectionSpecs, gathered in catalog.py. A new object type is a new entry plus its seed data; handlers stay
generic.
This module deliberately shares nothing with entragit's registry: the two must be able to disagree.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from entragit.sim.apps import (
    TenantView,
    complete_application,
    complete_service_principal,
    validate_application,
    validate_service_principal,
)
from entragit.sim.errors import GraphFault, bad_request

# Property kinds: enough to refuse obviously wrong values the way Graph's deserializer does.
# Declared first because model_policies imports them while this module is still loading (mypy's cycle).
STR: str
BOOL: str
INT: str
STRS: str
OBJ: str
OBJS: str
STR, BOOL, INT, STRS, OBJ, OBJS = "str", "bool", "int", "str[]", "obj", "obj[]"

_KIND_CHECKS: dict[str, Callable[[Any], bool]] = {
    STR: lambda v: isinstance(v, str),
    BOOL: lambda v: isinstance(v, bool),
    INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
    STRS: lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    OBJ: lambda v: isinstance(v, dict),
    OBJS: lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
}

EXTENSION_ATTRIBUTES = tuple(f"extensionAttribute{i}" for i in range(1, 16))


@dataclass(frozen=True)
class ErrorCodes:
    """Directory endpoints use Request_* codes; the Conditional Access backend uses generic ones
    (graph-behaviour §5)."""

    not_found: str
    bad_request: str


DIRECTORY_CODES = ErrorCodes(not_found="Request_ResourceNotFound", bad_request="Request_BadRequest")
# Not verified against a live tenant: the CA backend is reported to answer with the generic codes of the
# Graph errors page, so 404 uses 'itemNotFound' and 400 'BadRequest' (graph-behaviour §5, [UNCONFIRMED]).
CONDITIONAL_ACCESS_CODES: ErrorCodes = ErrorCodes(not_found="itemNotFound", bad_request="BadRequest")


@dataclass(frozen=True)
class Relationship:
    """A navigation property backed by one of the tenant's link tables.

    `reverse` relationships (memberOf, ownedObjects, directReports) read a link table from the other end,
    so each link is stored once and can never disagree with its inverse.
    """

    name: str
    link: str
    reverse: bool = False
    single: bool = False
    writable: bool = False
    target_collections: tuple[str, ...] = ("users",)
    # Once set, the last link cannot be removed (a group's last owner, graph-behaviour §6).
    keeps_last: bool = False
    # Read from this property of the object instead of a link table (a role assignment's principal is the
    # directory object its principalId names); served through $expand only.
    via: str | None = None
    # A collection contained in the object (an application's federatedIdentityCredentials): the items of the
    # collection target_collections names whose this property holds the object's id. Its own routes are
    # those of its Nested entry (model_identity.py); here it is served through $expand only.
    contained_by: str | None = None


@dataclass(frozen=True)
class CollectionSpec:
    name: str
    path: str
    odata_type: str
    properties: Mapping[str, str]
    # None: every property is returned by default (groups, CA); otherwise the rest are "returned only on $select".
    default_properties: tuple[str, ...] | None = None
    read_only: frozenset[str] = frozenset()
    # Settable on create only; PATCH may repeat the current value (idempotent restores) but not change it.
    create_only: frozenset[str] = frozenset()
    required_on_create: tuple[str, ...] = ()
    # Computed by the service: accepted in a body and ignored, where Graph's own answers show them and Graph takes
    # them back (an authentication strength's requirementsSatisfied).
    computed: frozenset[str] = frozenset()
    # Read-only properties a create may still carry, each added through an action once the object exists:
    # property -> (action name, the action's body parameter). An application's passwordCredentials become
    # addPassword calls, whose generated secretTexts the create's answer shows (application-post-applications).
    added_on_create: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # Accepted on write, never returned (passwordProfile).
    write_only: frozenset[str] = frozenset()
    # Complex properties that PATCH merges key by key instead of replacing.
    merged: frozenset[str] = frozenset()
    # Complex properties whose PATCH the docs show partial (one condition of a CA policy) without saying what
    # becomes of the keys left out: merged at every depth or replaced whole, as the nested_patch switch says.
    nested_patch: frozenset[str] = frozenset()
    # Properties $filter accepts (Graph only filters on indexed ones).
    filterable: frozenset[str] = frozenset()
    # Directory collections page at 100 by default; CA lists return everything without $top (graph-behaviour §1).
    paged_by_default: bool = True
    # Polymorphic collections (named locations): @odata.type -> extra properties of that type.
    subtypes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Stamped with the current time on every PATCH.
    modified_stamp: str | None = None
    relationships: tuple[Relationship, ...] = ()
    # Navigation properties $expand accepts, mapped to the relationship serving them.
    expandable: tuple[str, ...] = ()
    codes: ErrorCodes = DIRECTORY_CODES
    # Collection-specific rules beyond the table (value ranges, type changes); called with (changes, existing or None).
    validate: Callable[[dict[str, Any], dict[str, Any] | None], None] | None = None
    # Soft delete (graph-behaviour §7, §7a): the segment naming this type in its recycle bin (for directory objects the
    # OData cast of /directory/deletedItems/<cast>), or None when DELETE is permanent. recycle.py owns the bins.
    recycle: str | None = None
    recycle_bin: str = "directory"
    # Attributes a synced object (onPremisesSyncEnabled true) refuses to change, as documented and as assumed.
    mastered_on_premises: frozenset[str] = frozenset()
    mastered_on_premises_unconfirmed: frozenset[str] = frozenset()
    # Values the service computes when the object is created (appId, an SP's names), after the body is applied.
    complete: Callable[[TenantView, dict[str, Any]], None] | None = None

    # Served under /beta only: under /v1.0 its path is a segment Graph does not know (400).
    beta_only: bool = False

    # --- tenant policies (model_policies.py) ---
    # One object at `path` (authorizationPolicy): GET and PATCH only, any other method 405 (graph-behaviour §5, §9).
    singleton: bool = False
    # A singleton Graph updates by PUT instead of PATCH (adminConsentRequestPolicy): the body replaces the
    # object, and every property of required_on_create must be in it.
    # Methods the collection and its items accept; any other is 405 (organization: no POST, no DELETE).
    collection_methods: frozenset[str] = frozenset({"GET", "POST"})
    item_methods: frozenset[str] = frozenset({"GET", "PATCH", "DELETE"})
    # The property naming an object in its URL when it is not 'id' (partners: tenantId); set on create.
    # 'id' is returned only when it is one of the properties: otherwise it is the simulator's own filing key.
    key: str = "id"
    # PATCH of an unknown key creates the object under it, once this accepts the key (authentication contexts).
    upsert: Callable[[str], None] | None = None
    # PATCH answers 200 with the object instead of 204, where the docs say so (groupLifecyclePolicy).
    patch_returns_object: bool = False
    # The status of that answer where it is not 200 (connectedorganization-update: 202 Accepted).
    patch_status: int = 200
    # Contained collections a singleton's GET returns expanded: property name -> collection name.
    inline: Mapping[str, str] = field(default_factory=dict)
    # The @odata.context fragment of one object when Graph's is not '<path>/$entity'.
    entity_context: str | None = None
    # Server-computed values refreshed after every create and update (isServiceDefault turns false).
    after_write: Callable[[dict[str, Any]], None] | None = None
    # Refuses a DELETE the table cannot express (built-in authentication strengths).
    check_delete: Callable[[dict[str, Any]], None] | None = None
    # A singleton updated by PUT of the whole object instead of PATCH (deviceRegistrationPolicy): the values
    # a PUT gives the writable properties it leaves out; any other it leaves out is required.
    replaced_by_put: Mapping[str, Any] | None = None
    # What a PUT answers: 200 with the object (deviceregistrationpolicy-update), or 204 (adminconsentrequestpolicy-update).
    put_status: int = 200
    # Where an item is addressed when it is not '<path>/{id}' (an agent identity: servicePrincipals/{id}/<cast>).
    item_path: str | None = None

    @property
    def type_name(self) -> str:
        return self.odata_type.removeprefix("#")

    @property
    def resource_name(self) -> str:
        """The capitalised entity name Graph uses in some messages ('User', 'Group')."""
        short = self.type_name.rsplit(".", 1)[-1]
        return short[:1].upper() + short[1:]

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.split("/"))

    @property
    def item_segments(self) -> tuple[str, ...]:
        return tuple(self.item_path.split("/")) if self.item_path else (*self.segments, "{id}")

    def all_properties(self) -> dict[str, str]:
        merged = dict(self.properties)
        for extra in self.subtypes.values():
            merged.update(extra)
        return merged

    def properties_of(self, obj: Mapping[str, Any]) -> Mapping[str, str]:
        if not self.subtypes:
            return self.properties
        return {**self.properties, **self.subtypes.get(obj.get("@odata.type", ""), {})}

    def relationship(self, name: str) -> Relationship | None:
        return next((r for r in self.relationships if r.name.lower() == name.lower()), None)


# What OData's JSON reader turns into Edm.Boolean when a string is sent for it (it converts a string to the
# declared type as .NET's Boolean.Parse does: true or false in any case): Microsoft's own
# fido2AuthenticationMethodConfiguration-update example sends "isAttestationEnforced": "true".
_BOOLEAN_STRINGS = {"true": True, "false": False}


def _as_declared(kind: str, value: Any) -> Any:
    """value as Graph stores it for a property of this kind: a boolean sent as a string is converted."""
    if kind == BOOL and isinstance(value, str) and value.strip().lower() in _BOOLEAN_STRINGS:
        return _BOOLEAN_STRINGS[value.strip().lower()]
    return value


# Derived complex types, which Graph names in its answers. Any other @odata.type in a nested value names the
# declared type itself: Microsoft's generated SDKs write one into every complex value they send (their
# PasswordProfile model sets "#microsoft.graph.passwordProfile" and serializes it), and Graph answers without it.
_ANSWERED_TYPES = frozenset({
    "#microsoft.graph.ipv4cidrrange", "#microsoft.graph.ipv6cidrrange",
    # An attribute set's type, as user-update and serviceprincipal-update spell it.
    "#microsoft.graph.customsecurityattributevalue", "#microsoft.directoryservices.customsecurityattributevalue",
    # An access review's scope and a PIM approval stage's approvers (accessreviewscope, subjectset).
    "#microsoft.graph.accessreviewqueryscope", "#microsoft.graph.accessreviewinactiveusersqueryscope",
    "#microsoft.graph.principalresourcemembershipsscope", "#microsoft.graph.singleuser", "#microsoft.graph.groupmembers",
    # How a custom authentication extension reaches its endpoint (identitycontainer-post-customauthenticationextensions).
    "#microsoft.graph.httprequestendpoint", "#microsoft.graph.azureadtokenauthentication",
    # Identity governance: sources of a connected organization, approvers and requestors (subjectSet), a
    # workflow's conditions, a custom extension's endpoint, authentication and callback.
    "#microsoft.graph.azureactivedirectorytenant", "#microsoft.graph.domainidentitysource",
    "#microsoft.graph.externaldomainfederation", "#microsoft.graph.singleuser", "#microsoft.graph.groupmembers",
    "#microsoft.graph.requestormanager", "#microsoft.graph.internalsponsors", "#microsoft.graph.externalsponsors",
    "#microsoft.graph.connectedorganizationmembers", "#microsoft.graph.attributerulemembers",
    "#microsoft.graph.targetusersponsors", "#microsoft.graph.logicapptriggerendpointconfiguration",
    "#microsoft.graph.azureadtokenauthentication",
    "#microsoft.graph.identitygovernance.triggerandscopebasedconditions",
    "#microsoft.graph.identitygovernance.rulebasedsubjectset",
    "#microsoft.graph.identitygovernance.timebasedattributetrigger",
    "#microsoft.graph.identitygovernance.customtaskextensioncallbackconfiguration",
})
# Who may register or join devices, and be their local admins (deviceregistrationpolicy.md's examples).
_ANSWERED_TYPES |= {f"#microsoft.graph.{kind}deviceregistrationmembership" for kind in ("all", "enumerated", "no")}


def _without_declared_types(value: Any) -> Any:
    """value with the @odata.type of every nested value dropped, except those of derived types."""
    if isinstance(value, list):
        return [_without_declared_types(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_declared_types(item) for key, item in value.items()
                if key != "@odata.type" or str(item).lower() in _ANSWERED_TYPES}
    return value


def check_kind(spec: CollectionSpec, name: str, kind: str, value: Any) -> None:
    if value is not None and not _KIND_CHECKS[kind](value):
        raise GraphFault(
            400,
            spec.codes.bad_request,
            f"Invalid value specified for property '{name}' of resource '{spec.resource_name}'.",
        )


# --- users -------------------------------------------------------------------------------------------------

USER_PROPERTIES: dict[str, str] = {
    "id": STR,
    "deletedDateTime": STR,
    "accountEnabled": BOOL,
    "ageGroup": STR,
    "assignedLicenses": OBJS,
    "authorizationInfo": OBJ,
    "businessPhones": STRS,
    "city": STR,
    "companyName": STR,
    "consentProvidedForMinor": STR,
    "country": STR,
    "createdDateTime": STR,
    "creationType": STR,
    "department": STR,
    "deviceEnrollmentLimit": INT,
    "displayName": STR,
    "employeeHireDate": STR,
    "employeeId": STR,
    "employeeLeaveDateTime": STR,
    "employeeOrgData": OBJ,
    "employeeType": STR,
    "externalUserState": STR,
    "externalUserStateChangeDateTime": STR,
    "faxNumber": STR,
    "givenName": STR,
    "identities": OBJS,
    "customSecurityAttributes": OBJ,
    "identityParentId": STR,
    "imAddresses": STRS,
    "isManagementRestricted": BOOL,
    "isResourceAccount": BOOL,
    "jobTitle": STR,
    "lastPasswordChangeDateTime": STR,
    "legalAgeGroupClassification": STR,
    "mail": STR,
    "mailNickname": STR,
    "mobilePhone": STR,
    "officeLocation": STR,
    "onPremisesDistinguishedName": STR,
    "onPremisesDomainName": STR,
    "onPremisesExtensionAttributes": OBJ,
    "onPremisesImmutableId": STR,
    "onPremisesLastSyncDateTime": STR,
    "onPremisesProvisioningErrors": OBJS,
    "onPremisesSamAccountName": STR,
    "onPremisesSecurityIdentifier": STR,
    "onPremisesSyncEnabled": BOOL,
    "onPremisesUserPrincipalName": STR,
    "otherMails": STRS,
    "passwordPolicies": STR,
    "postalCode": STR,
    "preferredDataLocation": STR,
    "preferredLanguage": STR,
    "proxyAddresses": STRS,
    "securityIdentifier": STR,
    "serviceProvisioningErrors": OBJS,
    "showInAddressList": BOOL,
    "signInActivity": OBJ,
    "signInSessionsValidFromDateTime": STR,
    "state": STR,
    "streetAddress": STR,
    "surname": STR,
    "usageLocation": STR,
    "userPrincipalName": STR,
    "userType": STR,
    "assignedPlans": OBJS,
    "provisionedPlans": OBJS,
    "licenseAssignmentStates": OBJS,
    "passwordProfile": OBJ,
}

USER_DEFAULT_PROPERTIES = (
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
)

# graph-behaviour §6, "User, read-only or not writable".
USER_READ_ONLY = frozenset(
    {
        "id",
        "createdDateTime",
        "creationType",
        "deletedDateTime",
        "imAddresses",
        "proxyAddresses",
        "assignedPlans",
        "provisionedPlans",
        "licenseAssignmentStates",
        "legalAgeGroupClassification",
        "lastPasswordChangeDateTime",
        "signInSessionsValidFromDateTime",
        "externalUserStateChangeDateTime",
        # Changed through the assignLicense action, not PATCH (user-assignlicense).
        "assignedLicenses",
        "identityParentId",
        "isManagementRestricted",
        "isResourceAccount",
        "onPremisesProvisioningErrors",
        "serviceProvisioningErrors",
        "signInActivity",
        "onPremisesDistinguishedName",
        "onPremisesDomainName",
        "onPremisesLastSyncDateTime",
        "onPremisesSamAccountName",
        "onPremisesSecurityIdentifier",
        "onPremisesSyncEnabled",
        "onPremisesUserPrincipalName",
        "securityIdentifier",
    }
)


# graph-behaviour §6: documented as mastered on-premises for synced users.
USER_MASTERED_ON_PREMISES = frozenset({"businessPhones", "mobilePhone", "onPremisesExtensionAttributes"})
# The rest of the list is not published [UNCONFIRMED]: the attributes Entra Connect syncs by default.
USER_MASTERED_ON_PREMISES_UNCONFIRMED = frozenset(
    {
        "givenName",
        "surname",
        "displayName",
        "department",
        "jobTitle",
        "officeLocation",
        "employeeId",
        "companyName",
        "city",
        "country",
        "state",
        "streetAddress",
        "postalCode",
        "mail",
        "mailNickname",
        "userPrincipalName",
    }
)


def _check_extension_attributes(changes: dict[str, Any], resource: str) -> None:
    attrs = changes.get("onPremisesExtensionAttributes")
    if attrs is not None:
        unknown = sorted(set(attrs) - set(EXTENSION_ATTRIBUTES))
        if unknown:
            raise bad_request(f"Invalid property '{unknown[0]}' of type 'microsoft.graph.onPremisesExtensionAttributes'.")
        for key, value in attrs.items():
            if value is not None and not isinstance(value, str):
                raise bad_request(f"Invalid value specified for property '{key}' of resource '{resource}'.")


def check_keys(changes: Mapping[str, Any], prop: str, allowed: Mapping[str, str], resource: str) -> None:
    """A complex value's keys, each of its kind (Graph's deserializer refuses an unknown one)."""
    values = changes.get(prop)
    for value in values if isinstance(values, list) else [values] if values is not None else []:
        if not isinstance(value, dict) or any(k not in allowed or not _KIND_CHECKS[allowed[k]](v)
                                              for k, v in value.items() if v is not None):
            raise bad_request(f"Invalid value specified for property '{prop}' of resource '{resource}'.")


def check_choice(
    changes: dict[str, Any], prop: str, allowed: tuple[str, ...], resource: str, code: str = "Request_BadRequest"
) -> None:
    """One of a property's documented values, matched as Graph matches them: in any case, then stored and
    answered in Graph's own casing ("on" becomes "On", group-update; "ENABLED" becomes "enabled")."""
    value = changes.get(prop)
    if value is None:
        return
    match = next((choice for choice in allowed if isinstance(value, str) and choice.lower() == value.lower()), None)
    if match is None:
        raise bad_request(f"Invalid value specified for property '{prop}' of resource '{resource}'.", code)
    changes[prop] = match


# Values the user resource documents for its enumerated strings (user resource, v1.0).
PASSWORD_POLICIES = ("None", "DisablePasswordExpiration", "DisableStrongPassword",
                     "DisablePasswordExpiration, DisableStrongPassword")
AGE_GROUPS = ("Minor", "NotAdult", "Adult")
CONSENT_FOR_MINOR = ("Granted", "Denied", "NotRequired")


def _validate_user(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    _check_extension_attributes(changes, "User")
    if changes.get("userPrincipalName") is not None and "@" not in changes["userPrincipalName"]:
        raise bad_request("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
    check_choice(changes, "passwordPolicies", PASSWORD_POLICIES, "User")
    check_choice(changes, "ageGroup", AGE_GROUPS, "User")
    check_choice(changes, "consentProvidedForMinor", CONSENT_FOR_MINOR, "User")
    check_keys(changes, "employeeOrgData", {"division": STR, "costCenter": STR}, "User")
    check_keys(changes, "authorizationInfo", {"certificateUserIds": STRS}, "User")
    # user-post-users, "Create a user with social and local account identities"; the userPrincipalName
    # identity follows the user's UPN whatever the body says (tenant.py).
    check_keys(changes, "identities", {"signInType": STR, "issuer": STR, "issuerAssignedId": STR}, "User")
    _check_attribute_sets(changes, "User")


def _check_attribute_sets(changes: dict[str, Any], resource: str) -> None:
    """customSecurityAttributes: attribute sets by name, each an object of attributes (or null to remove)."""
    attribute_sets = changes.get("customSecurityAttributes")
    if attribute_sets is not None and not all(isinstance(v, dict) or v is None for v in attribute_sets.values()):
        raise bad_request(f"Invalid value specified for property 'customSecurityAttributes' of resource '{resource}'.")


def merge_attribute_sets(current: Mapping[str, Any] | None, change: Mapping[str, Any]) -> dict[str, Any]:
    """customSecurityAttributes after a write (user-update's examples): the sets and attributes named are
    set, a null removes one, the rest stay; a set left with no attribute is gone."""
    merged = {name: dict(values) for name, values in (current or {}).items()}
    for name, values in change.items():
        attributes = merged.pop(name, {})
        for key, value in (values or {}).items():
            if value is None:
                attributes.pop(key, None)
                attributes.pop(f"{key}@odata.type", None)
            else:
                attributes[key] = value
        if values is not None and set(attributes) - {"@odata.type"}:
            merged[name] = attributes
    return merged


USERS = CollectionSpec(
    name="users",
    path="users",
    odata_type="#microsoft.graph.user",
    properties=USER_PROPERTIES,
    default_properties=USER_DEFAULT_PROPERTIES,
    read_only=USER_READ_ONLY,
    required_on_create=("accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"),
    write_only=frozenset({"passwordProfile"}),
    merged=frozenset({"onPremisesExtensionAttributes"}),
    filterable=frozenset(
        {
            "id",
            "displayName",
            "department",
            "userPrincipalName",
            "mail",
            "mailNickname",
            "givenName",
            "surname",
            "jobTitle",
            "accountEnabled",
            "userType",
            "employeeId",
            "companyName",
            "city",
            "country",
            "officeLocation",
            "usageLocation",
        }
    ),
    relationships=(
        Relationship("manager", link="manager", single=True, writable=True),
        Relationship("directReports", link="manager", reverse=True),
        Relationship("memberOf", link="members", reverse=True, target_collections=("groups", "administrativeUnits")),
        Relationship(
            "ownedObjects", link="owners", reverse=True, target_collections=("groups", "applications", "servicePrincipals")
        ),
    ),
    expandable=("manager",),
    validate=_validate_user,
    recycle="microsoft.graph.user",
    mastered_on_premises=USER_MASTERED_ON_PREMISES,
    mastered_on_premises_unconfirmed=USER_MASTERED_ON_PREMISES_UNCONFIRMED,
)

# --- groups ------------------------------------------------------------------------------------------------

GROUP_PROPERTIES: dict[str, str] = {
    "id": STR,
    "deletedDateTime": STR,
    "assignedLabels": OBJS,
    "assignedLicenses": OBJS,
    "classification": STR,
    "createdDateTime": STR,
    "description": STR,
    "displayName": STR,
    "expirationDateTime": STR,
    "groupTypes": STRS,
    "infoCatalogs": STRS,
    "isAssignableToRole": BOOL,
    "isManagementRestricted": BOOL,
    "licenseProcessingState": OBJ,
    "mail": STR,
    "mailEnabled": BOOL,
    "mailNickname": STR,
    "membershipRule": STR,
    "membershipRuleProcessingState": STR,
    "onPremisesDomainName": STR,
    "onPremisesExtensionAttributes": OBJ,
    "onPremisesLastSyncDateTime": STR,
    "onPremisesNetBiosName": STR,
    "onPremisesProvisioningErrors": OBJS,
    "onPremisesSamAccountName": STR,
    "onPremisesSecurityIdentifier": STR,
    "onPremisesSyncEnabled": BOOL,
    "preferredDataLocation": STR,
    "preferredLanguage": STR,
    "proxyAddresses": STRS,
    "renewedDateTime": STR,
    "resourceBehaviorOptions": STRS,
    "resourceProvisioningOptions": STRS,
    "securityEnabled": BOOL,
    "securityIdentifier": STR,
    "serviceProvisioningErrors": OBJS,
    "theme": STR,
    "uniqueName": STR,
    "visibility": STR,
}
# "Returned only on $select" in the group resource's table; the rest come by default.
GROUP_SELECT_ONLY = frozenset({"assignedLabels", "assignedLicenses", "infoCatalogs", "isManagementRestricted",
                               "licenseProcessingState", "onPremisesExtensionAttributes", "serviceProvisioningErrors",
                               "uniqueName"})

GROUP_READ_ONLY = frozenset(
    {
        "id",
        "createdDateTime",
        "mail",
        "proxyAddresses",
        "renewedDateTime",
        "expirationDateTime",
        "onPremisesLastSyncDateTime",
        "onPremisesSecurityIdentifier",
        "onPremisesSyncEnabled",
        "securityIdentifier",
        "deletedDateTime",
        # Sensitivity labels are written only with delegated permission (group resource); an app reads them.
        "assignedLabels",
        "assignedLicenses",
        "infoCatalogs",
        "isManagementRestricted",
        "licenseProcessingState",
        "onPremisesDomainName",
        "onPremisesNetBiosName",
        "onPremisesProvisioningErrors",
        "onPremisesSamAccountName",
        "resourceProvisioningOptions",
        "serviceProvisioningErrors",
    }
)
GROUP_THEMES = ("Teal", "Purple", "Green", "Blue", "Pink", "Orange", "Red")

DYNAMIC = "DynamicMembership"
UNIFIED = "Unified"


def is_dynamic(group: Mapping[str, Any]) -> bool:
    return DYNAMIC in (group.get("groupTypes") or [])


def _validate_group(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    merged = {**(existing or {}), **changes}
    if existing is not None and "groupTypes" in changes:
        # Converting to or from dynamic membership is allowed; changing the group's kind (Unified) is not.
        if (UNIFIED in (changes["groupTypes"] or [])) != (UNIFIED in (existing.get("groupTypes") or [])):
            raise bad_request("Property 'groupTypes' cannot be changed from or to 'Unified' after the group is created.")
    check_choice(changes, "visibility", ("Public", "Private", "HiddenMembership"), "Group")
    if existing is not None and "visibility" in changes:
        # graph-behaviour §6: HiddenMembership is create-only; Public/Private may change on Microsoft 365 groups.
        values = {changes["visibility"], existing.get("visibility")}
        if "HiddenMembership" in values and changes["visibility"] != existing.get("visibility"):
            raise bad_request("Property 'visibility' with value 'HiddenMembership' can be set only when the group is created.")
    if is_dynamic(merged):
        if not merged.get("membershipRule"):
            raise bad_request("Invalid value specified for property 'membershipRule' of resource 'Group'.")
        if merged.get("isAssignableToRole"):
            raise bad_request("A role-assignable group cannot have dynamic membership.")
    check_choice(changes, "membershipRuleProcessingState", ("On", "Paused"), "Group")
    check_choice(changes, "theme", GROUP_THEMES, "Group")
    _check_extension_attributes(changes, "Group")


GROUPS = CollectionSpec(
    name="groups",
    path="groups",
    odata_type="#microsoft.graph.group",
    properties=GROUP_PROPERTIES,
    default_properties=tuple(p for p in GROUP_PROPERTIES if p not in GROUP_SELECT_ONLY),
    read_only=GROUP_READ_ONLY,
    create_only=frozenset({"isAssignableToRole", "mailEnabled", "securityEnabled", "resourceBehaviorOptions", "uniqueName"}),
    merged=frozenset({"onPremisesExtensionAttributes"}),
    required_on_create=("displayName", "mailEnabled", "mailNickname", "securityEnabled"),
    filterable=frozenset({"id", "displayName", "mailNickname", "mail", "mailEnabled", "securityEnabled", "isAssignableToRole"}),
    relationships=(
        Relationship("members", link="members", writable=True, target_collections=("users", "groups")),
        Relationship("owners", link="owners", writable=True, keeps_last=True),
        Relationship("memberOf", link="members", reverse=True, target_collections=("groups", "administrativeUnits")),
    ),
    expandable=("members", "owners"),
    validate=_validate_group,
    recycle="microsoft.graph.group",
    # A synced group is managed in Active Directory; which of its attributes the cloud refuses is [UNCONFIRMED].
    mastered_on_premises_unconfirmed=frozenset(
        {"displayName", "description", "mailNickname", "groupTypes", "membershipRule", "membershipRuleProcessingState"}
    ),
)

# --- Conditional Access ------------------------------------------------------------------------------------

CA_STATES = ("enabled", "disabled", "enabledForReportingButNotEnforced")


def _validate_ca_policy(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "state", CA_STATES, "ConditionalAccessPolicy", "BadRequest")
    controls = {**(existing or {}), **changes}
    if existing is None and not (controls.get("grantControls") or controls.get("sessionControls")):
        raise GraphFault(400, "BadRequest", "Policy must have grantControls or sessionControls.")


def _lists(*names: str) -> dict[str, list[str]]:
    return {name: [] for name in names}


# What conditionalaccessroot-post-policies answers (untruncated) for the parts of a policy its requests leave
# out: empty lists, and null for a condition set not given.
_CA_DEFAULTS: dict[str, dict[str, Any]] = {
    "conditions": {
        **_lists("signInRiskLevels", "clientAppTypes"),
        "platforms": None,
        "locations": None,
        "applications": _lists("includeApplications", "excludeApplications", "includeUserActions"),
        "users": _lists("includeUsers", "excludeUsers", "includeGroups", "excludeGroups", "includeRoles", "excludeRoles"),
    },
    "grantControls": _lists("builtInControls", "customAuthenticationFactors", "termsOfUse"),
}
# A condition set given has both its lists.
_CA_GIVEN_SETS = {"platforms": _lists("includePlatforms", "excludePlatforms"),
                  "locations": _lists("includeLocations", "excludeLocations")}


def _with_defaults(value: dict[str, Any], defaults: Mapping[str, Any]) -> None:
    for key, default in defaults.items():
        if key not in value:
            value[key] = copy.deepcopy(default)
        elif isinstance(value[key], dict) and isinstance(default, dict):
            _with_defaults(value[key], default)


def _fill_ca_defaults(policy: dict[str, Any]) -> None:
    for name, defaults in _CA_DEFAULTS.items():
        if isinstance(policy.get(name), dict):
            _with_defaults(policy[name], defaults)
    conditions = policy.get("conditions") or {}
    for name, defaults in _CA_GIVEN_SETS.items():
        if isinstance(conditions.get(name), dict):
            _with_defaults(conditions[name], defaults)


CA_POLICIES = CollectionSpec(
    name="conditionalAccessPolicies",
    path="identity/conditionalAccess/policies",
    odata_type="#microsoft.graph.conditionalAccessPolicy",
    properties={
        "id": STR,
        "templateId": STR,
        "displayName": STR,
        "createdDateTime": STR,
        "modifiedDateTime": STR,
        "state": STR,
        "sessionControls": OBJ,
        "conditions": OBJ,
        "grantControls": OBJ,
    },
    read_only=frozenset({"id", "createdDateTime", "modifiedDateTime", "templateId"}),
    required_on_create=("displayName", "state", "conditions"),
    nested_patch=frozenset({"conditions", "grantControls", "sessionControls"}),
    filterable=frozenset({"id", "displayName", "state"}),
    paged_by_default=False,
    modified_stamp="modifiedDateTime",
    codes=CONDITIONAL_ACCESS_CODES,
    validate=_validate_ca_policy,
    after_write=_fill_ca_defaults,
    recycle="policies",
    recycle_bin="conditionalAccess",
)

IP_NAMED_LOCATION = "#microsoft.graph.ipNamedLocation"
COUNTRY_NAMED_LOCATION = "#microsoft.graph.countryNamedLocation"


def _validate_named_location(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    for ip_range in changes.get("ipRanges") or []:
        if ip_range.get("@odata.type") not in ("#microsoft.graph.iPv4CidrRange", "#microsoft.graph.iPv6CidrRange"):
            raise GraphFault(400, "BadRequest", "Each ipRange must carry '@odata.type' iPv4CidrRange or iPv6CidrRange.")
        if not isinstance(ip_range.get("cidrAddress"), str) or "/" not in ip_range["cidrAddress"]:
            raise GraphFault(400, "BadRequest", "Invalid value specified for property 'cidrAddress'.")
    check_choice(changes, "countryLookupMethod", ("clientIpAddress", "authenticatorAppGps"), "CountryNamedLocation", "BadRequest")


NAMED_LOCATIONS = CollectionSpec(
    name="namedLocations",
    path="identity/conditionalAccess/namedLocations",
    odata_type="#microsoft.graph.namedLocation",
    properties={"id": STR, "displayName": STR, "modifiedDateTime": STR, "createdDateTime": STR},
    subtypes={
        IP_NAMED_LOCATION: {"isTrusted": BOOL, "ipRanges": OBJS},
        COUNTRY_NAMED_LOCATION: {
            "countriesAndRegions": STRS,
            "includeUnknownCountriesAndRegions": BOOL,
            "countryLookupMethod": STR,
        },
    },
    read_only=frozenset({"id", "createdDateTime", "modifiedDateTime"}),
    required_on_create=("displayName",),
    filterable=frozenset({"id", "displayName"}),
    paged_by_default=False,
    modified_stamp="modifiedDateTime",
    codes=CONDITIONAL_ACCESS_CODES,
    validate=_validate_named_location,
    recycle="namedLocations",
    recycle_bin="conditionalAccess",
)

# --- applications, service principals, administrative units (graph-behaviour §6, §9) ------------------------

APP_OWNERS = Relationship("owners", link="owners", writable=True, target_collections=("users", "servicePrincipals"))
# The app management policy an app or service principal has, at most one (appmanagementpolicy-post-appliesto).
APP_MANAGEMENT_POLICY = Relationship("appManagementPolicies", link="appManagementPolicies", writable=True,
                                     target_collections=("appManagementPolicies",))
# The id of the object a nested item (an extension property, a federated credential) belongs to. Not a Graph
# property: no $select names it and, as each spec's default set leaves it out, no response carries it.
PARENT = "@sim.parent"
# "Supports $expand" (application resource page, federatedIdentityCredentials; servicePrincipal resource page,
# appRoleAssignedTo): at most 20 items each, as for any expansion.
FEDERATED_CREDENTIALS_EXPANDED = Relationship("federatedIdentityCredentials", link="", contained_by=PARENT,
                                              target_collections=("federatedIdentityCredentials",))
APP_ROLES_ASSIGNED_EXPANDED = Relationship("appRoleAssignedTo", link="", contained_by="resourceId",
                                           target_collections=("appRoleAssignments",))

APPLICATIONS = CollectionSpec(
    name="applications",
    path="applications",
    odata_type="#microsoft.graph.application",
    properties={
        "id": STR,
        "deletedDateTime": STR,
        "appId": STR,
        "displayName": STR,
        "description": STR,
        "notes": STR,
        "signInAudience": STR,
        "identifierUris": STRS,
        "tags": STRS,
        "api": OBJ,
        "appRoles": OBJS,
        "requiredResourceAccess": OBJS,
        "web": OBJ,
        "spa": OBJ,
        "publicClient": OBJ,
        "keyCredentials": OBJS,
        "passwordCredentials": OBJS,
        "publisherDomain": STR,
        "createdDateTime": STR,
        "addIns": OBJS,
        "applicationTemplateId": STR,
        "authenticationBehaviors": OBJ,
        "certification": OBJ,
        "createdByAppId": STR,
        "defaultRedirectUri": STR,
        "disabledByMicrosoftStatus": STR,
        "groupMembershipClaims": STR,
        "info": OBJ,
        "isDeviceOnlyAuthSupported": BOOL,
        "isDisabled": BOOL,
        "isFallbackPublicClient": BOOL,
        "managerApplications": STRS,
        "nativeAuthenticationApisEnabled": STR,
        "oauth2RequirePostResponse": BOOL,
        "optionalClaims": OBJ,
        "parentalControlSettings": OBJ,
        "requestSignatureVerification": OBJ,
        "samlMetadataUrl": STR,
        "serviceManagementReference": STR,
        "servicePrincipalLockConfiguration": OBJ,
        "tokenEncryptionKeyId": STR,
        "uniqueName": STR,
        "verifiedPublisher": OBJ,
    },
    # authenticationBehaviors is "returned only on $select" (application resource); the rest by default.
    default_properties=(
        "id", "deletedDateTime", "appId", "displayName", "description", "notes", "signInAudience", "identifierUris",
        "tags", "api", "appRoles", "requiredResourceAccess", "web", "spa", "publicClient", "keyCredentials",
        "passwordCredentials", "publisherDomain", "createdDateTime", "addIns", "applicationTemplateId", "certification",
        "createdByAppId", "defaultRedirectUri", "disabledByMicrosoftStatus", "groupMembershipClaims", "info",
        "isDeviceOnlyAuthSupported", "isDisabled", "isFallbackPublicClient", "managerApplications",
        "nativeAuthenticationApisEnabled", "oauth2RequirePostResponse", "optionalClaims", "parentalControlSettings",
        "requestSignatureVerification", "samlMetadataUrl", "serviceManagementReference",
        "servicePrincipalLockConfiguration", "tokenEncryptionKeyId", "uniqueName", "verifiedPublisher",
    ),
    # passwordCredentials change only through addPassword/removePassword; verifiedPublisher through
    # setVerifiedPublisher; the rest are set by the service.
    read_only=frozenset({"id", "appId", "publisherDomain", "createdDateTime", "deletedDateTime", "passwordCredentials",
                         "applicationTemplateId", "certification", "createdByAppId", "disabledByMicrosoftStatus",
                         "managerApplications", "verifiedPublisher"}),
    create_only=frozenset({"uniqueName"}),
    added_on_create={"passwordCredentials": ("addPassword", "passwordCredential")},
    required_on_create=("displayName",),
    filterable=frozenset({"id", "appId", "displayName", "publisherDomain", "signInAudience"}),
    relationships=(APP_OWNERS, APP_MANAGEMENT_POLICY, FEDERATED_CREDENTIALS_EXPANDED),
    expandable=("owners", "federatedIdentityCredentials"),
    validate=validate_application,
    complete=complete_application,
    recycle="microsoft.graph.application",
)

def _validate_service_principal(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    validate_service_principal(changes, existing)
    _check_attribute_sets(changes, "ServicePrincipal")


SERVICE_PRINCIPAL_PROPERTIES: dict[str, str] = {
    "id": STR,
    "deletedDateTime": STR,
    "appId": STR,
    "displayName": STR,
    "description": STR,
    "notes": STR,
    "appDisplayName": STR,
    "appOwnerOrganizationId": STR,
    "servicePrincipalType": STR,
    "servicePrincipalNames": STRS,
    "accountEnabled": BOOL,
    "appRoleAssignmentRequired": BOOL,
    "tags": STRS,
    "appRoles": OBJS,
    "oauth2PermissionScopes": OBJS,
    "keyCredentials": OBJS,
    "passwordCredentials": OBJS,
    "addIns": OBJS,
    "alternativeNames": STRS,
    "appDescription": STR,
    "applicationTemplateId": STR,
    "createdByAppId": STR,
    "disabledByMicrosoftStatus": STR,
    "homepage": STR,
    "info": OBJ,
    "isDisabled": BOOL,
    "loginUrl": STR,
    "logoutUrl": STR,
    "notificationEmailAddresses": STRS,
    "preferredSingleSignOnMode": STR,
    "preferredTokenSigningKeyThumbprint": STR,
    "replyUrls": STRS,
    "resourceSpecificApplicationPermissions": OBJS,
    "samlSingleSignOnSettings": OBJ,
    "signInAudience": STR,
    "tokenEncryptionKeyId": STR,
    "verifiedPublisher": OBJ,
    # serviceprincipal-update, "Assign a custom security attribute with a string value to a service principal".
    "customSecurityAttributes": OBJ,
}


SERVICE_PRINCIPALS = CollectionSpec(
    name="servicePrincipals",
    path="servicePrincipals",
    odata_type="#microsoft.graph.servicePrincipal",
    properties=SERVICE_PRINCIPAL_PROPERTIES,
    # Custom security attributes are returned only on $select, as for users (serviceprincipal-get).
    default_properties=tuple(name for name in SERVICE_PRINCIPAL_PROPERTIES if name != "customSecurityAttributes"),
    # What the service principal update does not take (serviceprincipal-update lists what it does); the exact
    # read-only list is [UNCONFIRMED].
    read_only=frozenset(
        {"id", "deletedDateTime", "appDisplayName", "appOwnerOrganizationId", "servicePrincipalType", "passwordCredentials",
         "appDescription", "applicationTemplateId", "createdByAppId", "disabledByMicrosoftStatus", "info", "isDisabled",
         "resourceSpecificApplicationPermissions", "signInAudience", "verifiedPublisher"}
    ),
    create_only=frozenset({"appId"}),
    required_on_create=("appId",),
    filterable=frozenset({"id", "appId", "displayName", "servicePrincipalType", "accountEnabled", "appOwnerOrganizationId"}),
    relationships=(
        APP_OWNERS,
        # A service principal can own groups, applications and other service principals (serviceprincipal-list-ownedobjects).
        Relationship("ownedObjects", link="owners", reverse=True, target_collections=("groups", "applications", "servicePrincipals")),
        APP_MANAGEMENT_POLICY,
        APP_ROLES_ASSIGNED_EXPANDED,
    ),
    expandable=("owners", "appRoleAssignedTo"),
    validate=_validate_service_principal,
    complete=complete_service_principal,
    recycle="microsoft.graph.servicePrincipal",
)


def _validate_administrative_unit(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "visibility", ("HiddenMembership", "Public"), "AdministrativeUnit")
    check_choice(changes, "membershipType", ("Assigned", "Dynamic"), "AdministrativeUnit")
    check_choice(changes, "membershipRuleProcessingState", ("On", "Paused"), "AdministrativeUnit")


ADMINISTRATIVE_UNITS = CollectionSpec(
    name="administrativeUnits",
    # Graph's metadata declares the units under the directory singleton only; /administrativeUnits is no path.
    path="directory/administrativeUnits",
    odata_type="#microsoft.graph.administrativeUnit",
    # The dynamic-membership fields are [UNCONFIRMED] in v1.0 (graph-behaviour §9).
    properties={
        "id": STR,
        "deletedDateTime": STR,
        "displayName": STR,
        "description": STR,
        "visibility": STR,
        "membershipType": STR,
        "membershipRule": STR,
        "membershipRuleProcessingState": STR,
        "isMemberManagementRestricted": BOOL,
    },
    read_only=frozenset({"id", "deletedDateTime"}),
    # A restricted-management unit is so from its creation on (administrativeunit resource).
    create_only=frozenset({"isMemberManagementRestricted"}),
    required_on_create=("displayName",),
    filterable=frozenset({"id", "displayName"}),
    relationships=(Relationship("members", link="members", writable=True, target_collections=("users", "groups")),),
    expandable=("members",),
    validate=_validate_administrative_unit,
    recycle="microsoft.graph.administrativeUnit",
)



def blank_object(spec: CollectionSpec, odata_type: str | None = None) -> dict[str, Any]:
    """Every property of the (sub)type, unset: lists empty, the rest null, as Graph returns a fresh object."""
    obj: dict[str, Any] = {"@odata.type": odata_type} if spec.subtypes else {}
    for name, kind in spec.properties_of({"@odata.type": odata_type or ""}).items():
        if name not in spec.write_only:
            obj[name] = [] if kind in (STRS, OBJS) else None
    return obj


BIND_SUFFIX = "@odata.bind"


def check_write(
    spec: CollectionSpec, body: dict[str, Any], existing: dict[str, Any] | None, extra: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Validate a POST (existing is None) or PATCH body against the table.

    Returns the property changes and the '<relationship>@odata.bind' lists, both checked before anything is
    written so that a refused request leaves the object untouched, as Graph does. `extra`: this tenant's
    properties beyond the table (directory extensions), with their kinds.
    """
    codes = spec.codes
    if isinstance(body.get("@odata.type"), str) and not body["@odata.type"].startswith("#"):
        # OData takes a type named without its '#', as some of Microsoft's examples send it.
        body["@odata.type"] = "#" + body["@odata.type"]
    odata_type = body.get("@odata.type")
    if spec.subtypes:
        current = existing.get("@odata.type") if existing else None
        if odata_type is None:
            raise GraphFault(400, codes.bad_request, f"The '@odata.type' property is required for '{spec.type_name}'.")
        if odata_type not in spec.subtypes or (current is not None and odata_type != current):
            expected = current or " or ".join(spec.subtypes)
            raise GraphFault(400, codes.bad_request, f"Invalid '@odata.type' '{odata_type}'; expected {expected}.")
    elif odata_type is not None and odata_type != spec.odata_type:
        raise GraphFault(400, codes.bad_request, f"Invalid '@odata.type' '{odata_type}'; expected {spec.odata_type}.")

    properties = {**spec.properties_of({"@odata.type": odata_type or ""}), **(extra or {})}
    changes: dict[str, Any] = {}
    binds: dict[str, list[Any]] = {}
    for key, value in body.items():
        if key == "@odata.type":
            continue
        if key.endswith(BIND_SUFFIX):
            relationship = spec.relationship(key.removesuffix(BIND_SUFFIX))
            if relationship is None or not relationship.writable or relationship.single:
                raise GraphFault(400, codes.bad_request, f"Property '{key}' does not exist as a declared property or extension property.")
            if not isinstance(value, list):
                raise GraphFault(400, codes.bad_request, f"Invalid value specified for property '{key}'.")
            binds[relationship.name] = value
            continue
        if key not in properties:
            raise GraphFault(400, codes.bad_request, f"Property '{key}' does not exist as a declared property or extension property.")
        if key in spec.read_only and existing is not None and key == "id" and str(value).lower() == str(existing["id"]).lower():
            # An update body may repeat the object's own id, as Graph's documented update examples do.
            continue
        if key in spec.computed:
            continue
        if key in spec.read_only:
            raise GraphFault(400, codes.bad_request, f"Property '{key}' is read-only and cannot be set.")
        if existing is not None and key in spec.create_only and value != existing.get(key):
            raise GraphFault(400, codes.bad_request, f"Property '{key}' can be set only when the object is created.")
        value = _as_declared(properties[key], _without_declared_types(value))
        check_kind(spec, key, properties[key], value)
        changes[key] = value
    if existing is None:
        for name in spec.required_on_create:
            if changes.get(name) is None:
                raise GraphFault(400, codes.bad_request, f"Invalid value specified for property '{name}' of resource '{spec.resource_name}'.")
    if spec.validate is not None:
        spec.validate(changes, existing)
    return changes, binds


def merge_nested(current: Any, change: Any) -> Any:
    """A partial object laid over the stored one: objects merge key by key at every depth, anything else
    (lists, values, null) replaces what was there."""
    if not isinstance(current, dict) or not isinstance(change, dict):
        return change
    return {**current, **{key: merge_nested(current.get(key), value) for key, value in change.items()}}


ON_PREMISES_MASTERED_MESSAGE = (
    "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently "
    "undergoing migration."
)


def is_synced(obj: Mapping[str, Any]) -> bool:
    return obj.get("onPremisesSyncEnabled") is True


def check_on_premises_mastered(
    spec: CollectionSpec, existing: Mapping[str, Any], changes: Mapping[str, Any], include_unconfirmed: bool
) -> None:
    """Refuse changes a synced object's source of authority (Active Directory) owns (graph-behaviour §5, §6).

    Any mention of a mastered attribute is refused, even with its current value: the directory checks which
    attributes a request touches, not whether they change [UNCONFIRMED; the strict reading].
    """
    if not is_synced(existing):
        return
    mastered = spec.mastered_on_premises | (spec.mastered_on_premises_unconfirmed if include_unconfirmed else frozenset())
    if mastered & set(changes):
        raise bad_request(ON_PREMISES_MASTERED_MESSAGE)
