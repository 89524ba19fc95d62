"""Policies on applications and consent, as Graph v1.0 documents them: permission grant policies, the admin
consent request policy, app management policies (custom and the tenant's default), the token policies of
the security token service (claims mapping, home realm discovery, token issuance, activity-based timeout)
and custom authentication extensions.

Shapes follow the resource pages (learn.microsoft.com/graph/api/resources/<type>); where a page is silent
the choice is marked [UNCONFIRMED]. Like model_policies.py this is a table the generic handlers serve.
"""

from __future__ import annotations

import json
import re
from typing import Any

from entragit.sim.apps import TenantView
from entragit.sim.errors import GraphFault, bad_request
from entragit.sim.model import BOOL, INT, OBJ, OBJS, STR, STRS, CollectionSpec, Relationship, check_choice
from entragit.sim.model_identity import PARENT, Nested

# --- permission grant policies (permissiongrantpolicy.md) ----------------------------------------------------

# "The id prefix microsoft- is reserved for built-in permission grant policies ... Only letters, numbers,
# hyphens and underscores are allowed."
BUILT_IN_PREFIX = "microsoft-"
_GRANT_POLICY_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def _refuse_built_in(policy: dict[str, Any]) -> None:
    # That Graph answers 400 with this message is [UNCONFIRMED]; that built-ins cannot change is documented.
    if str(policy.get("id", "")).startswith(BUILT_IN_PREFIX):
        raise bad_request("Built-in permission grant policies cannot be modified or deleted.")


def _validate_grant_policy(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    if existing is not None:
        _refuse_built_in(existing)
        return
    policy_id = str(changes.get("id", ""))
    if not _GRANT_POLICY_ID.match(policy_id) or policy_id.startswith(BUILT_IN_PREFIX):
        raise bad_request(f"Invalid value specified for property 'id' of resource 'PermissionGrantPolicy': '{policy_id}'.")


def _unique_grant_policy(tenant: TenantView, policy: dict[str, Any]) -> None:
    if policy["id"] in tenant.objects[PERMISSION_GRANT_POLICIES.name]:
        raise GraphFault(409, "Request_MultipleObjectsWithSameKeyValue",
                         f"A permission grant policy with id '{policy['id']}' already exists.")


PERMISSION_GRANT_POLICIES = CollectionSpec(
    name="permissionGrantPolicies",
    path="policies/permissionGrantPolicies",
    odata_type="#microsoft.graph.permissionGrantPolicy",
    properties={"id": STR, "deletedDateTime": STR, "displayName": STR, "description": STR},
    read_only=frozenset({"deletedDateTime"}),
    # "Key. Not nullable. Required on create. Immutable."
    create_only=frozenset({"id"}),
    required_on_create=("id",),
    paged_by_default=False,
    validate=_validate_grant_policy,
    complete=_unique_grant_policy,
    check_delete=_refuse_built_in,
)

# A condition set of a policy's includes or excludes (permissiongrantconditionset.md): added and removed, never
# changed (the policy's page lists no update of one). Each default is "all" (or "any"), so a set names
# only what it narrows.
CONDITION_SET_DEFAULTS: dict[str, Any] = {
    "permissionClassification": "all",
    "permissions": ["all"],
    "resourceApplication": "any",
    "clientApplicationIds": ["all"],
    "clientApplicationTenantIds": ["all"],
    "clientApplicationPublisherIds": ["all"],
    "clientApplicationsFromVerifiedPublisherOnly": False,
}
PERMISSION_TYPES = ("application", "delegated", "delegatedUserConsentable")
CLASSIFICATIONS = ("low", "medium", "high", "all")


def _validate_condition_set(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "permissionType", PERMISSION_TYPES, "PermissionGrantConditionSet")
    check_choice(changes, "permissionClassification", CLASSIFICATIONS, "PermissionGrantConditionSet")
    if changes.get("permissionType") == "delegatedUserConsentable":
        # "may be used in built-in permission grant policies, but can't be used in custom" ones.
        raise bad_request("The permission type 'delegatedUserConsentable' can't be used in a custom permission grant policy.")


def _complete_condition_set(tenant: TenantView, condition_set: dict[str, Any]) -> None:
    if str(condition_set[PARENT]).startswith(BUILT_IN_PREFIX):
        raise bad_request("Built-in permission grant policies cannot be modified or deleted.")
    for name, default in CONDITION_SET_DEFAULTS.items():
        if condition_set.get(name) in (None, []):
            condition_set[name] = list(default) if isinstance(default, list) else default


CONDITION_SET_PROPERTIES = {
    "id": STR, "permissionType": STR, "permissionClassification": STR, "permissions": STRS, "resourceApplication": STR,
    "clientApplicationIds": STRS, "clientApplicationTenantIds": STRS, "clientApplicationPublisherIds": STRS,
    "clientApplicationsFromVerifiedPublisherOnly": BOOL,
}


def _condition_sets(segment: str) -> CollectionSpec:
    return CollectionSpec(
        name=f"permissionGrantPolicy{segment.capitalize()}",
        path=f"policies/permissionGrantPolicies/{{id}}/{segment}",
        odata_type="#microsoft.graph.permissionGrantConditionSet",
        properties=CONDITION_SET_PROPERTIES,
        default_properties=tuple(CONDITION_SET_PROPERTIES),  # every property, and never PARENT
        read_only=frozenset({"id"}),
        required_on_create=("permissionType",),
        paged_by_default=False,
        validate=_validate_condition_set,
        complete=_complete_condition_set,
    )


PERMISSION_GRANT_INCLUDES = _condition_sets("includes")
PERMISSION_GRANT_EXCLUDES = _condition_sets("excludes")

# --- admin consent request policy (adminconsentrequestpolicy.md) ---------------------------------------------

REVIEWER_QUERY_TYPES = ("MicrosoftGraph",)


def _validate_consent_request_policy(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    days = changes.get("requestDurationInDays")
    # The portal offers 1 to 365 days; the get example shows 0 for a policy never set [UNCONFIRMED range].
    if days is not None and not 0 <= days <= 365:
        raise bad_request("Invalid value specified for property 'requestDurationInDays' of resource 'AdminConsentRequestPolicy'.")
    for reviewer in changes.get("reviewers") or []:
        if not isinstance(reviewer.get("query"), str):
            raise bad_request("Invalid value specified for property 'reviewers': each reviewer needs a query.")
        check_choice(reviewer, "queryType", REVIEWER_QUERY_TYPES, "AccessReviewReviewerScope")


def _next_version(policy: dict[str, Any]) -> None:
    # version counts the policy's updates (read-only); that each PUT adds one is [UNCONFIRMED].
    policy["version"] = int(policy.get("version") or 0) + 1


ADMIN_CONSENT_REQUEST_POLICY = CollectionSpec(
    name="adminConsentRequestPolicy",
    path="policies/adminConsentRequestPolicy",
    odata_type="#microsoft.graph.adminConsentRequestPolicy",
    properties={"id": STR, "isEnabled": BOOL, "notifyReviewers": BOOL, "remindersEnabled": BOOL,
                "requestDurationInDays": INT, "reviewers": OBJS, "version": INT},
    read_only=frozenset({"id", "version"}),
    # adminconsentrequestpolicy-update: PUT, each of these "required when you update".
    required_on_create=("isEnabled", "notifyReviewers", "remindersEnabled", "requestDurationInDays", "reviewers"),
    paged_by_default=False,
    validate=_validate_consent_request_policy,
    after_write=_next_version,
    singleton=True,
    replaced_by_put={},
    put_status=204,
)

# --- app management policies (appmanagementpolicy.md, tenantappmanagementpolicy.md) --------------------------

PASSWORD_RESTRICTIONS = ("passwordAddition", "passwordLifetime", "symmetricKeyAddition", "symmetricKeyLifetime",
                         "customPasswordAddition")
KEY_RESTRICTIONS = ("asymmetricKeyLifetime", "trustedCertificateAuthority")
_RESTRICTION_STATES = ("enabled", "disabled")


def _check_restrictions(configuration: Any, name: str) -> None:
    """An appManagementConfiguration: passwordCredentials and keyCredentials, each a list of restrictions."""
    if configuration is None:
        return
    if not isinstance(configuration, dict):
        raise bad_request(f"Invalid value specified for property '{name}'.")
    for credentials, kinds in (("passwordCredentials", PASSWORD_RESTRICTIONS), ("keyCredentials", KEY_RESTRICTIONS)):
        for restriction in configuration.get(credentials) or []:
            check_choice(restriction, "restrictionType", kinds, "AppManagementConfiguration")
            check_choice(restriction, "state", _RESTRICTION_STATES, "AppManagementConfiguration")


def _validate_app_management_policy(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    for name in ("restrictions", "applicationRestrictions", "servicePrincipalRestrictions"):
        _check_restrictions(changes.get(name), name)


APP_MANAGEMENT_POLICIES = CollectionSpec(
    name="appManagementPolicies",
    path="policies/appManagementPolicies",
    odata_type="#microsoft.graph.appManagementPolicy",
    properties={"id": STR, "deletedDateTime": STR, "displayName": STR, "description": STR, "isEnabled": BOOL,
                "restrictions": OBJ},
    read_only=frozenset({"id", "deletedDateTime"}),
    # Assigned at each application or service principal (APP_MANAGEMENT_POLICY in model.py), listed here.
    relationships=(Relationship("appliesTo", link="appManagementPolicies", reverse=True,
                                target_collections=("applications", "servicePrincipals")),),
    # appmanagementpolicy-post names displayName, description and restrictions "Required" [isEnabled: optional].
    required_on_create=("displayName", "description"),
    paged_by_default=False,
    validate=_validate_app_management_policy,
)

DEFAULT_APP_MANAGEMENT_POLICY = CollectionSpec(
    name="defaultAppManagementPolicy",
    path="policies/defaultAppManagementPolicy",
    odata_type="#microsoft.graph.tenantAppManagementPolicy",
    properties={"id": STR, "deletedDateTime": STR, "displayName": STR, "description": STR, "isEnabled": BOOL,
                "applicationRestrictions": OBJ, "servicePrincipalRestrictions": OBJ},
    read_only=frozenset({"id", "deletedDateTime"}),
    paged_by_default=False,
    validate=_validate_app_management_policy,
    singleton=True,
)

# --- token policies of the security token service (stspolicy.md and its kinds) -------------------------------


def _definition_of(root: str) -> Any:
    """definition: JSON strings, each one object under the kind's root key ({"ClaimsMappingPolicy": {...}})."""
    def validate(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
        for text in changes.get("definition") or []:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict) or not isinstance(parsed.get(root), dict):
                raise bad_request(f"Invalid value specified for property 'definition' of resource '{root}'.")
    return validate


def _default_unless_said(tenant: TenantView, policy: dict[str, Any]) -> None:
    # claimsmappingpolicy-post: a policy made without isOrganizationDefault is answered with false.
    policy["isOrganizationDefault"] = bool(policy.get("isOrganizationDefault"))


def _sts_policy(name: str, entity: str) -> CollectionSpec:
    return CollectionSpec(
        name=name,
        path=f"policies/{name}",
        odata_type=f"#microsoft.graph.{entity}",
        properties={"id": STR, "deletedDateTime": STR, "displayName": STR, "description": STR, "definition": STRS,
                    "isOrganizationDefault": BOOL},
        read_only=frozenset({"id", "deletedDateTime"}),
        required_on_create=("displayName", "definition"),
        filterable=frozenset({"id", "displayName"}),
        validate=_definition_of(entity[:1].upper() + entity[1:]),
        complete=_default_unless_said,
    )


CLAIMS_MAPPING_POLICIES = _sts_policy("claimsMappingPolicies", "claimsMappingPolicy")
HOME_REALM_DISCOVERY_POLICIES = _sts_policy("homeRealmDiscoveryPolicies", "homeRealmDiscoveryPolicy")
TOKEN_ISSUANCE_POLICIES = _sts_policy("tokenIssuancePolicies", "tokenIssuancePolicy")
ACTIVITY_BASED_TIMEOUT_POLICIES = _sts_policy("activityBasedTimeoutPolicies", "activityBasedTimeoutPolicy")

# --- custom authentication extensions (customauthenticationextension.md) -------------------------------------

EXTENSION_TYPES = {
    "onTokenIssuanceStart": "#microsoft.graph.onTokenIssuanceStartCustomExtension",
    "onAttributeCollectionStart": "#microsoft.graph.onAttributeCollectionStartCustomExtension",
    "onAttributeCollectionSubmit": "#microsoft.graph.onAttributeCollectionSubmitCustomExtension",
    "onOtpSend": "#microsoft.graph.onOtpSendCustomExtension",
}


def _validate_extension(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    endpoint = changes.get("endpointConfiguration")
    if endpoint is not None and not str(endpoint.get("targetUrl", "")).startswith("https://"):
        raise bad_request("Invalid value specified for property 'endpointConfiguration': targetUrl must be an https URL.")
    client = changes.get("clientConfiguration") or {}
    if any(isinstance(value, int) and value < 0 for value in client.values()):
        raise bad_request("Invalid value specified for property 'clientConfiguration'.")


CUSTOM_AUTHENTICATION_EXTENSIONS = CollectionSpec(
    name="customAuthenticationExtensions",
    path="identity/customAuthenticationExtensions",
    odata_type="#microsoft.graph.customAuthenticationExtension",
    properties={"id": STR, "displayName": STR, "description": STR, "authenticationConfiguration": OBJ,
                "clientConfiguration": OBJ, "endpointConfiguration": OBJ, "behaviorOnError": OBJ},
    subtypes={
        EXTENSION_TYPES["onTokenIssuanceStart"]: {"claimsForTokenConfiguration": OBJS},
        EXTENSION_TYPES["onAttributeCollectionStart"]: {},
        EXTENSION_TYPES["onAttributeCollectionSubmit"]: {},
        EXTENSION_TYPES["onOtpSend"]: {},
    },
    read_only=frozenset({"id"}),
    # identitycontainer-post-customauthenticationextensions: authenticationConfiguration "Required".
    required_on_create=("authenticationConfiguration",),
    # Whether the list pages is [UNCONFIRMED]; a tenant has at most 100 of them.
    paged_by_default=False,
    validate=_validate_extension,
)

APP_POLICY_COLLECTIONS: tuple[CollectionSpec, ...] = (
    PERMISSION_GRANT_POLICIES,
    PERMISSION_GRANT_INCLUDES,
    PERMISSION_GRANT_EXCLUDES,
    ADMIN_CONSENT_REQUEST_POLICY,
    APP_MANAGEMENT_POLICIES,
    DEFAULT_APP_MANAGEMENT_POLICY,
    CLAIMS_MAPPING_POLICIES,
    HOME_REALM_DISCOVERY_POLICIES,
    TOKEN_ISSUANCE_POLICIES,
    ACTIVITY_BASED_TIMEOUT_POLICIES,
    CUSTOM_AUTHENTICATION_EXTENSIONS,
)

# Served under their policy (identity.py routes them): list, add, get and remove; no update.
APP_POLICY_NESTED: tuple[Nested, ...] = (
    Nested(PERMISSION_GRANT_INCLUDES, PERMISSION_GRANT_POLICIES.name, "includes", PARENT, frozenset({"GET", "DELETE"})),
    Nested(PERMISSION_GRANT_EXCLUDES, PERMISSION_GRANT_POLICIES.name, "excludes", PARENT, frozenset({"GET", "DELETE"})),
)
