"""Policies on applications and consent: who may consent to what, how apps may hold credentials, what their
tokens carry, and the extensions sign-in calls out to."""

from __future__ import annotations

from entragit.registry import ObjectType, Relationship, register
from entragit.registry.policies import _policy
from entragit.registry.writes import Hooks, RefFromMember, SubCollection, put_whole

_APP_CONFIGURATION = "Policy.ReadWrite.ApplicationConfiguration"
# Graph's own permission grant policies carry ids starting "microsoft-" (permissiongrantpolicy resource page):
# no one changes or deletes them, so a difference in one is Microsoft's, and a restore that tried to put it
# back would be refused.
BUILT_IN_GRANT_POLICY_PREFIX = "microsoft-"

# A condition set is all of its conditions: Graph adds and removes one, never changes it, and gives one made
# again a new id; so a set is known by its conditions, and its id is kept only to remove it by.
_CONDITIONS = ("permissionType", "permissionClassification", "permissions", "resourceApplication",
               "clientApplicationIds", "clientApplicationTenantIds", "clientApplicationPublisherIds",
               "clientApplicationsFromVerifiedPublisherOnly")
_CONDITION_SETS = tuple(
    SubCollection(property=name, entity="permissionGrantConditionSet", key=_CONDITIONS, keeps=("id", *_CONDITIONS),
                  update=False, why_not="a condition set is added or removed whole, never changed")
    for name in ("includes", "excludes"))

_policy("permissionGrantPolicies", "permissionGrantPolicy", "policies/permissionGrantPolicies",
        # Policy.Read.PermissionGrant would do, but Policy.Read.All, which reads every other policy, does too.
        "Policy.ReadWrite.PermissionGrant", keeps=("id", "displayName", "description"), sub_collections=_CONDITION_SETS,
        # The id is the creator's choice (letters, digits, - and _), so a recreated policy keeps it.
        create="post", create_with=frozenset({"id"}))
# One object at a fixed path, replaced whole by PUT: its update page has no PATCH and requires every property.
_policy("adminConsentRequestPolicy", "adminConsentRequestPolicy", "policies/adminConsentRequestPolicy",
        "Policy.ReadWrite.ConsentRequest", singleton="adminConsentRequestPolicy",
        keeps=("id", "isEnabled", "notifyReviewers", "remindersEnabled", "requestDurationInDays", "reviewers"),
        volatile=frozenset({"version"}), hooks=Hooks(update=put_whole))
# Which applications and service principals a policy applies to: read at the policy, written at each app.
_APPLIES_TO = Relationship(
    name="appliesTo", many=True, ref_collection="policies/appManagementPolicies",
    write=RefFromMember(segment="appManagementPolicies", members=("applications", "servicePrincipals")),
    member_types=("applications", "servicePrincipals"))
_policy("appManagementPolicies", "appManagementPolicy", "policies/appManagementPolicies", _APP_CONFIGURATION,
        keeps=("id", "displayName", "description", "isEnabled", "restrictions"), create="post",
        found_again_by=("displayName",), relationships=(_APPLIES_TO,))
_policy("defaultAppManagementPolicy", "tenantAppManagementPolicy", "policies/defaultAppManagementPolicy",
        _APP_CONFIGURATION, singleton="defaultAppManagementPolicy",
        keeps=("id", "displayName", "description", "isEnabled", "applicationRestrictions",
               "servicePrincipalRestrictions"))
# Like tokenLifetimePolicies: a definition of JSON strings, made by POST under a new id.
for _name, _entity in (("claimsMappingPolicies", "claimsMappingPolicy"),
                       ("homeRealmDiscoveryPolicies", "homeRealmDiscoveryPolicy"),
                       ("tokenIssuancePolicies", "tokenIssuancePolicy"),
                       ("activityBasedTimeoutPolicies", "activityBasedTimeoutPolicy")):
    _policy(_name, _entity, f"policies/{_name}", _APP_CONFIGURATION,
            keeps=("id", "displayName", "definition", "description", "isOrganizationDefault"), create="post",
            found_again_by=("displayName",))

# Each kind is its own @odata.type in one collection; Graph refuses a change of kind.
CUSTOM_AUTHENTICATION_EXTENSION_TYPES = (
    "#microsoft.graph.onTokenIssuanceStartCustomExtension",
    "#microsoft.graph.onAttributeCollectionStartCustomExtension",
    "#microsoft.graph.onAttributeCollectionSubmitCustomExtension",
    "#microsoft.graph.onOtpSendCustomExtension",
)
register(ObjectType(
    name="customAuthenticationExtensions", singular="custom authentication extension",
    collection="identity/customAuthenticationExtensions", odata_types=CUSTOM_AUTHENTICATION_EXTENSION_TYPES,
    # The kinds differ in their properties, which a $select would have to name all of.
    select=(), page_size=None,
    # In v1.0 an extension authenticates to its endpoint with an Entra token for a resource (no secret): the
    # configuration holds the resource's id only, so there is nothing secret to leave out.
    keeps=("id", "displayName", "description", "authenticationConfiguration", "behaviorOnError",
           "clientConfiguration", "endpointConfiguration", "claimsForTokenConfiguration"),
    read_only=frozenset({"id", "@odata.type"}), always_send=("@odata.type",),
    # CustomAuthenticationExtension.Read.All would do; Application.Read.All, which the snapshot holds anyway, does too.
    read_permission="Application.Read.All",
    write_permission="CustomAuthenticationExtension.ReadWrite.All",
    restore_order=5, create="post", found_again_by=("displayName",),
))
