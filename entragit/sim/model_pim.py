"""Identity governance as Graph v1.0 serves it: PIM role settings, access review definitions, terms of use.

Shapes from the resource pages (learn.microsoft.com/graph/api/resources/unifiedrolemanagementpolicy,
unifiedrolemanagementpolicyrule and its five kinds, unifiedrolemanagementpolicyassignment,
accessreviewscheduledefinition, agreement); where a page is silent the choice is marked [UNCONFIRMED].
The routes that are more than the generic table (the $filter PIM requires, rules under a policy, an
access review's PUT) are in pim.py.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from entragit.sim.apps import TenantView
from entragit.sim.errors import bad_request
from entragit.sim.model import BOOL, OBJ, OBJS, STR, STRS, CollectionSpec

READ_ONLY = frozenset({"GET"})
_POLICY_PROPERTIES = {"id": STR, "displayName": STR, "description": STR, "isOrganizationDefault": BOOL,
                      "scopeId": STR, "scopeType": STR, "lastModifiedDateTime": STR, "lastModifiedBy": OBJ}
# Where a policy keeps its rules in the simulator: never returned but through $expand=rules or /rules.
RULES = "@sim.rules"


def _pim_scoped(name: str, entity: str, properties: dict[str, str], **details: Any) -> CollectionSpec:
    """PIM's policies and policy assignments: Microsoft's, never created, updated or deleted through Graph, and
    listed per scope, with a $filter on scopeId and scopeType (policyroot-list-rolemanagementpolicies,
    policyroot-list-rolemanagementpolicyassignments)."""
    return CollectionSpec(name=name, path=f"policies/{name}", odata_type=f"#microsoft.graph.{entity}",
                          properties=properties, read_only=frozenset(properties), paged_by_default=False,
                          collection_methods=READ_ONLY, item_methods=READ_ONLY, **details)


ROLE_MANAGEMENT_POLICIES = _pim_scoped(
    "roleManagementPolicies", "unifiedRoleManagementPolicy", _POLICY_PROPERTIES,
    default_properties=tuple(_POLICY_PROPERTIES), filterable=frozenset({"scopeId", "scopeType"}),
    modified_stamp="lastModifiedDateTime",
)

RULE_TYPE = "#microsoft.graph.unifiedRoleManagementPolicy{}Rule"
# The five kinds of rule and what each adds to id and target (unifiedrolemanagementpolicyrule-update
# lists what each kind takes).
RULE_KINDS = {
    RULE_TYPE.format("Approval"): {"setting": OBJ},
    RULE_TYPE.format("AuthenticationContext"): {"isEnabled": BOOL, "claimValue": STR},
    RULE_TYPE.format("Enablement"): {"enabledRules": STRS},
    RULE_TYPE.format("Expiration"): {"isExpirationRequired": BOOL, "maximumDuration": STR},
    RULE_TYPE.format("Notification"): {"notificationType": STR, "recipientType": STR, "notificationLevel": STR,
                                       "isDefaultRecipientsEnabled": BOOL, "notificationRecipients": STRS},
}
ENABLED_RULES = ("MultiFactorAuthentication", "Justification", "Ticketing")


def _validate_rule(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    unknown = set(changes.get("enabledRules") or []) - set(ENABLED_RULES)
    if unknown:
        raise bad_request(f"Invalid value specified for property 'enabledRules': {', '.join(sorted(unknown))}.")
    if changes.get("notificationLevel") not in (None, "None", "Critical", "All"):
        raise bad_request("Invalid value specified for property 'notificationLevel'.")
    target = changes.get("target")
    if "target" in changes and not (isinstance(target, dict) and {"caller", "level", "operations"} <= set(target)):
        # A target is replaced whole: one sent without its caller, level and operations left a rule that Graph
        # no longer found (microsoftgraph/microsoft-graph-docs issue 16689). The simulator refuses it instead
        # [UNCONFIRMED], so that a client never sends it.
        raise bad_request("Invalid value specified for property 'target': it needs caller, level and operations.")
    merged = {**(existing or {}), **changes}
    if merged.get("isExpirationRequired") and not merged.get("maximumDuration"):
        # "Required when isExpirationRequired is true" (unifiedrolemanagementpolicyrule-update).
        raise bad_request("maximumDuration is required when isExpirationRequired is true.")


# Not a collection of the catalog: rules live in their policy (RULES) and pim.py serves them; this table
# checks what a PATCH of one sends.
ROLE_MANAGEMENT_POLICY_RULES = CollectionSpec(
    name="roleManagementPolicyRules",
    path="policies/roleManagementPolicies/rules",
    odata_type="#microsoft.graph.unifiedRoleManagementPolicyRule",
    properties={"id": STR, "target": OBJ},
    subtypes=RULE_KINDS,
    read_only=frozenset({"id"}),
    paged_by_default=False,
    validate=_validate_rule,
)

_POLICY_ASSIGNMENT_PROPERTIES = {"id": STR, "policyId": STR, "roleDefinitionId": STR, "scopeId": STR, "scopeType": STR}

# The list page also filters on roleDefinitionId.
ROLE_MANAGEMENT_POLICY_ASSIGNMENTS = _pim_scoped(
    "roleManagementPolicyAssignments", "unifiedRoleManagementPolicyAssignment", _POLICY_ASSIGNMENT_PROPERTIES,
    filterable=frozenset({"scopeId", "scopeType", "roleDefinitionId"}),
)

# --- access reviews (accessreviewscheduledefinition.md) --------------------------------------------------------

# What accessreviewscheduledefinition-update takes; the rest is set when the series is made.
REVIEW_UPDATABLE = ("displayName", "descriptionForAdmins", "descriptionForReviewers", "fallbackReviewers", "reviewers",
                    "settings")
REVIEW_STATUSES = ("NotStarted", "InProgress", "Completed", "Applying", "Applied", "Initializing", "Starting",
                   "Auto-Reviewing", "Auto-Reviewed", "Completing")


def _validate_review(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    for name in ("scope", "instanceEnumerationScope"):
        scope = changes.get(name)
        if scope is not None and not (isinstance(scope, dict) and scope.get("@odata.type")):
            # Every example names the scope's kind (accessReviewQueryScope, principalResourceMembershipsScope).
            raise bad_request(f"Invalid value specified for property '{name}': its '@odata.type' is required.")


ACCESS_REVIEW_DEFINITIONS = CollectionSpec(
    name="accessReviewDefinitions",
    path="identityGovernance/accessReviews/definitions",
    odata_type="#microsoft.graph.accessReviewScheduleDefinition",
    properties={
        "id": STR, "displayName": STR, "descriptionForAdmins": STR, "descriptionForReviewers": STR,
        "createdBy": OBJ, "createdDateTime": STR, "lastModifiedDateTime": STR, "status": STR,
        "scope": OBJ, "instanceEnumerationScope": OBJ, "reviewers": OBJS, "fallbackReviewers": OBJS,
        "additionalNotificationRecipients": OBJS, "settings": OBJ, "stageSettings": OBJS,
    },
    read_only=frozenset({"id", "createdBy", "createdDateTime", "lastModifiedDateTime", "status"}),
    create_only=frozenset({"scope", "instanceEnumerationScope", "additionalNotificationRecipients", "stageSettings"}),
    # The create page's examples all carry these two [UNCONFIRMED that Graph refuses a body without them].
    required_on_create=("displayName", "scope"),
    filterable=frozenset({"displayName"}),
    paged_by_default=False,
    modified_stamp="lastModifiedDateTime",
    validate=_validate_review,
    # PATCH is no update of a definition: pim.py serves its PUT.
    item_methods=frozenset({"GET", "DELETE"}),
)

# --- terms of use (agreement.md) ----------------------------------------------------------------------------

# agreementfilelocalization.md; agreement-list-files shows fileData null in what $expand=files returns.
AGREEMENT_FILE_PROPERTIES = {"id": STR, "fileName": STR, "displayName": STR, "language": STR, "isDefault": BOOL,
                             "isMajorVersion": BOOL, "createdDateTime": STR, "fileData": OBJ}


def _complete_agreement(tenant: TenantView, agreement: dict[str, Any]) -> None:
    """Each uploaded file gets an id and a time, and the agreement's name where it has none of its own."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    agreement["files"] = [{"id": str(uuid.uuid4()), "displayName": agreement["displayName"], "isMajorVersion": False,
                           "createdDateTime": stamp, **file} for file in agreement["files"] or []]


def _validate_agreement(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    for file in changes.get("files") or []:
        if not isinstance(file, dict) or not file.get("fileName") or not (file.get("fileData") or {}).get("data"):
            raise bad_request("Each file of an agreement needs a fileName and its fileData.")

_AGREEMENT_PROPERTIES = {"id": STR, "displayName": STR, "isPerDeviceAcceptanceRequired": BOOL,
                         "isViewingBeforeAcceptanceRequired": BOOL, "termsExpiration": OBJ,
                         "userReacceptRequiredFrequency": STR}

TERMS_OF_USE = CollectionSpec(
    name="termsOfUse",
    path="identityGovernance/termsOfUse/agreements",
    odata_type="#microsoft.graph.agreement",
    # The PDFs, written on create (termsofusecontainer-post-agreements), returned on $expand=files only.
    properties={**_AGREEMENT_PROPERTIES, "files": OBJS},
    default_properties=tuple(_AGREEMENT_PROPERTIES),
    read_only=frozenset({"id"}),
    # agreement-update takes displayName and isViewingBeforeAcceptanceRequired alone.
    create_only=frozenset({"isPerDeviceAcceptanceRequired", "termsExpiration", "userReacceptRequiredFrequency", "files"}),
    required_on_create=("displayName", "isViewingBeforeAcceptanceRequired", "files"),
    paged_by_default=False,
    # agreement-update: "200 OK" and the agreement in the body.
    patch_returns_object=True,
    validate=_validate_agreement,
    complete=_complete_agreement,
)

PIM_COLLECTIONS: tuple[CollectionSpec, ...] = (
    ROLE_MANAGEMENT_POLICIES, ROLE_MANAGEMENT_POLICY_ASSIGNMENTS, ACCESS_REVIEW_DEFINITIONS, TERMS_OF_USE,
)
