"""The risk table: changes that weaken a tenant's security, flagged at the top of a difference report.

Each rule names the object types it watches, the kinds of change it looks at (an attribute changed on an
existing object, or an object that appeared), a condition over the report's rows, and the message shown.
Conditions are data (the classes below); entragit/risk.py evaluates them. Attribute paths are the report's
row paths: dotted, cut at the first list (a list is one value), as stored in the snapshot files.

Message templates may use {path}, {old}, {new}, {items} and {values[<path>]} (another attribute of the
object); ids in them are shown with display names.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BecomesOneOf:
    """An attribute whose path matches one of `paths` (fnmatch patterns) takes a value in `after`, having
    held one in `before` (None: any value, or none)."""

    paths: tuple[str, ...]
    after: frozenset[object]
    before: frozenset[object] | None = None


@dataclass(frozen=True)
class ListGains:
    """A list attribute gains items; `key` names the field (or fields) that identifies an item that is an
    object: an item whose key another item of the list held before is no gain."""

    paths: tuple[str, ...]
    key: str | tuple[str, ...] | None = None


@dataclass(frozen=True)
class ListLoses:
    """A list attribute loses items; `key` names the field that identifies an item that is an object (the
    message's {items} are then the lost items' keys)."""

    paths: tuple[str, ...]
    key: str | None = None


@dataclass(frozen=True)
class ItemsUncovered:
    """A list of condition objects matches more: an item it gained (or, with `gained` False, lost) that no item
    on the other side covers. An item covers another where each field is equal, or holds the field's wildcard
    (`wildcards`: the value, or for a list field the element, that matches anything), or, for a list, holds
    every element of the other's; `ignored` fields (an id Graph gives) do not count."""

    path: str
    wildcards: dict[str, object] = field(default_factory=dict, hash=False)
    ignored: frozenset[str] = frozenset({"id"})
    gained: bool = True


@dataclass(frozen=True)
class ItemBecomes:
    """An item of a list of objects (found by `key`) has `field` (dotted: a value inside the item) go from a
    value in `before` to one in `after`."""

    path: str
    key: str
    field: str
    before: frozenset[object]
    after: frozenset[object]


@dataclass(frozen=True)
class ItemLoses:
    """An item of a list of objects (found by `key`) has its list `field` lose one of `words`."""

    path: str
    key: str
    field: str
    words: frozenset[str]


@dataclass(frozen=True)
class ItemLengthens:
    """An item of a list of objects (found by `key`) has `field`, an ISO 8601 duration (PT8H), grow."""

    path: str
    key: str
    field: str


@dataclass(frozen=True)
class Widens:
    """An attribute moves up an ordered scale, from narrowest to widest."""

    path: str
    scale: tuple[object, ...]


@dataclass(frozen=True)
class Changes:
    """An attribute whose path matches one of `paths` (fnmatch patterns) changes in any way."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class GainsWord:
    """A text attribute listing comma-separated words (passwordPolicies) gains one of `words`."""

    path: str
    words: frozenset[str]


@dataclass(frozen=True)
class RelationshipGains:
    """The object gains links of a relationship (owners, members)."""

    relationship: str


@dataclass(frozen=True)
class ListGainsItem:
    """A list of objects gains an item (told from the others by `key`) whose fields hold one of the values
    `where` gives for each."""

    path: str
    key: tuple[str, ...]
    where: tuple[tuple[str, frozenset[object]], ...]


Condition = (BecomesOneOf | ListGains | ListGainsItem | ListLoses | ItemsUncovered | ItemBecomes | ItemLoses
             | ItemLengthens | Widens | Changes | GainsWord | RelationshipGains)


@dataclass(frozen=True)
class RiskRule:
    name: str
    severity: str  # "high" | "medium"
    types: tuple[str, ...]
    condition: Condition
    message: str
    changes: tuple[str, ...] = ("modified",)
    """The report's change kinds the rule looks at: "modified", "added", "removed", "restored"."""


# Built-in roles Microsoft labels privileged, by template id (which is also their roleDefinitionId).
PRIVILEGED_ROLES: dict[str, str] = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "0526716b-113d-4c15-b2c8-68e3c22b9f80": "Authentication Policy Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "966707d0-3269-4727-9be2-8c3a10f19b9d": "Password Administrator",
    "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2": "Hybrid Identity Administrator",
    "8329153b-31d0-4727-b945-745eb3bc5f31": "Domain Name Administrator",
    "be2f45a1-457d-42af-a067-6ec1fa63bc45": "External Identity Provider Administrator",
    "3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
    "9360feb5-f418-4baa-8175-e2a00bac4301": "Directory Writers",
    "4ba39ca4-527c-499a-b93d-d9b492c50246": "Partner Tier1 Support",
    "e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8": "Partner Tier2 Support",
}

# authorizationPolicy.guestUserRoleId, most restricted first (Graph's authorizationPolicy resource).
GUEST_ROLES: dict[str, str] = {
    "2af84b1e-32c8-42b7-82bc-daa82404023b": "Restricted Guest User",
    "10dae51f-b6af-4016-8d66-8c2a99b929b3": "Guest User",
    "a0b1b346-4d3e-4e8b-98f8-753987be4970": "User (same access as members)",
}
# Microsoft Graph's application permissions that let an app take over the tenant (make itself a Global
# Administrator, grant itself any permission, add a credential to any app, write any directory object, turn
# off Conditional Access or add a sign-in method to any user), by
# the app role id Graph's service principal (appId 00000003-0000-0000-c000-000000000000) gives each
# (learn.microsoft.com/graph/permissions-reference).
HIGH_PRIVILEGE_GRAPH_PERMISSIONS: dict[str, str] = {
    "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8": "RoleManagement.ReadWrite.Directory",
    "06b708a9-e830-4db3-a914-8e69da51d44f": "AppRoleAssignment.ReadWrite.All",
    "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9": "Application.ReadWrite.All",
    "19dbc75e-c2e2-444c-a770-ec69d8559fc7": "Directory.ReadWrite.All",
    "01c0a623-fc9b-48e9-b794-0756f8e8f067": "Policy.ReadWrite.ConditionalAccess",
    "50483e42-d915-4231-9639-7fdb7fd190e5": "UserAuthenticationMethod.ReadWrite.All",
}

# Ids the messages name although no snapshot file holds them (guest roles are not role definitions).
KNOWN_NAMES: dict[str, str] = {**PRIVILEGED_ROLES, **GUEST_ROLES, **HIGH_PRIVILEGE_GRAPH_PERMISSIONS}

# None among the "off" values: a partner that inherited the default and now trusts on its own.
_ON, _OFF = frozenset({True}), frozenset({False, None})
_CROSS_TENANT = ("crossTenantAccessDefault", "crossTenantAccessPartners")
# What a permission grant condition set matches when a condition holds its wildcard (permissiongrantconditionset
# resource page): any classification, any API, any client app, verified publisher or not.
_ANY_CONSENT: dict[str, object] = {
    "permissionClassification": "all", "permissions": "all", "resourceApplication": "any",
    "clientApplicationIds": "all", "clientApplicationTenantIds": "all", "clientApplicationPublisherIds": "all",
    "clientApplicationsFromVerifiedPublisherOnly": False,
}
# The restriction lists of the default app management policy (applicationRestrictions.passwordCredentials, ...).
_APP_RESTRICTIONS = "*Restrictions.*Credentials"

RISK_RULES: tuple[RiskRule, ...] = (
    RiskRule(
        "conditional-access-policy-weakened", "high", ("conditionalAccessPolicies",),
        BecomesOneOf(("state",), frozenset({"disabled", "enabledForReportingButNotEnforced"}), frozenset({"enabled"})),
        "Conditional Access policy no longer enforced: state {old} -> {new}",
    ),
    RiskRule(
        "conditional-access-policy-deleted", "high", ("conditionalAccessPolicies",),
        BecomesOneOf(("state",), frozenset({None}), frozenset({"enabled", "enabledForReportingButNotEnforced"})),
        "Conditional Access policy deleted (it was {old})",
        changes=("removed",),
    ),
    RiskRule(
        "conditional-access-exclusion-added", "high", ("conditionalAccessPolicies",),
        ListGains((
            "conditions.users.excludeUsers", "conditions.users.excludeGroups", "conditions.users.excludeRoles",
            "conditions.applications.excludeApplications", "conditions.locations.excludeLocations",
            "conditions.platforms.excludePlatforms", "conditions.clientApplications.excludeServicePrincipals",
        )),
        "Conditional Access policy excludes more: {path} gained {items}",
    ),
    RiskRule(
        "credential-added", "high", ("applications", "servicePrincipals"),
        ListGains(("keyCredentials", "passwordCredentials"), key="keyId"),
        "New credential: {path} gained {items}",
    ),
    RiskRule(
        # Tokens of an outside issuer (a pipeline, another cloud) act as the app, with no secret to find:
        # the persistence attackers favour.
        "federated-credential-added", "high", ("applications",),
        ListGains(("federatedIdentityCredentials",), key="name"),
        "New federated identity credential (an outside issuer's tokens act as the app): {items}",
        changes=("modified", "added"),
    ),
    RiskRule(
        "high-privilege-graph-permission-granted", "high", ("servicePrincipals",),
        ListGainsItem("appRoleAssignedTo", ("principalId", "appRoleId"),
                      (("appRoleId", frozenset(HIGH_PRIVILEGE_GRAPH_PERMISSIONS)),
                       ("principalType", frozenset({"ServicePrincipal"})))),
        "High-privilege Microsoft Graph permission granted to an app: {items}",
        changes=("modified", "added", "restored"),
    ),
    RiskRule(
        # Where Entra sends an enterprise app's tokens: a new reply URL can hand them to someone else.
        "reply-url-added", "high", ("servicePrincipals",),
        ListGains(("replyUrls",)),
        "Enterprise app sends tokens to a new address: replyUrls gained {items}",
    ),
    RiskRule(
        # How an enterprise app signs users in with SAML, and which key signs its tokens.
        "saml-sign-in-changed", "medium", ("servicePrincipals",),
        Changes(("samlSingleSignOnSettings*", "preferredSingleSignOnMode", "preferredTokenSigningKeyThumbprint")),
        "Enterprise app sign-in changed: {path} {old} -> {new}",
    ),
    RiskRule(
        # Claims decide what an app learns of a user, group claims what it lets the user do.
        "token-claims-changed", "medium", ("applications",),
        Changes(("optionalClaims*", "groupMembershipClaims")),
        "Token claims changed: {path} {old} -> {new}",
    ),
    RiskRule(
        "service-principal-lock-loosened", "high", ("applications",),
        BecomesOneOf(("servicePrincipalLockConfiguration.*",), _OFF, _ON),
        "Service principal lock loosened: {path} {old} -> {new}",
    ),
    RiskRule(
        "password-policy-weakened", "high", ("users",),
        GainsWord("passwordPolicies", frozenset({"DisablePasswordExpiration", "DisableStrongPassword"})),
        "Password rule turned off: passwordPolicies {old} -> {new}",
        changes=("modified", "added"),
    ),
    RiskRule(
        "owner-added", "medium", ("applications", "servicePrincipals"),
        RelationshipGains("owners"),
        "New owner: {items}",
    ),
    RiskRule(
        "privileged-role-assigned", "high", ("roleAssignments", "roleEligibilitySchedules"),
        BecomesOneOf(("roleDefinitionId",), frozenset(PRIVILEGED_ROLES)),
        "Privileged role {new} granted to {values[principalId]}",
        changes=("added", "restored"),
    ),
    RiskRule(
        "authentication-method-enabled", "medium", ("authenticationMethodConfigurations",),
        BecomesOneOf(("state",), frozenset({"enabled"}), frozenset({"disabled"})),
        "Authentication method enabled: state {old} -> {new}",
    ),
    RiskRule(
        "guest-invitations-widened", "medium", ("authorizationPolicy",),
        Widens("allowInvitesFrom", ("none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone")),
        "More people may invite guests: allowInvitesFrom {old} -> {new}",
    ),
    RiskRule(
        "guest-role-widened", "medium", ("authorizationPolicy",),
        Widens("guestUserRoleId", tuple(GUEST_ROLES)),
        "Guests get more access: guestUserRoleId {old} -> {new}",
    ),
    RiskRule(
        "cross-tenant-inbound-opened", "medium", _CROSS_TENANT,
        BecomesOneOf(("b2bCollaborationInbound.*.accessType", "b2bDirectConnectInbound.*.accessType"),
                     frozenset({"allowed"}), frozenset({"blocked"})),
        "Inbound cross-tenant access opened: {path} {old} -> {new}",
    ),
    RiskRule(
        "cross-tenant-inbound-trust-added", "medium", _CROSS_TENANT,
        BecomesOneOf(("inboundTrust.*", "automaticUserConsentSettings.inboundAllowed"), _ON, _OFF),
        "Other tenants trusted more: {path} {old} -> {new}",
    ),
    RiskRule(
        # Without its context, Conditional Access no longer stands between a role holder and the action
        # (purging the recycle bin, changing Conditional Access itself).
        "protected-action-unprotected", "high", ("protectedActions",),
        BecomesOneOf(("authenticationContextId",), frozenset({None})),
        "Protected action no longer asks for an authentication context: {old} -> {new}",
    ),
    RiskRule(
        # A context protects only if an enabled Conditional Access policy targets it: `entragit posture` checks.
        "protected-action-context-changed", "medium", ("protectedActions",),
        BecomesOneOf(("authenticationContextId",), frozenset({f"c{n}" for n in range(1, 100)}),
                     frozenset({f"c{n}" for n in range(1, 100)})),
        "Protected action asks for another authentication context: {old} -> {new}; is {new} enforced by an "
        "enabled Conditional Access policy?",
    ),
    RiskRule(
        # A PIM policy's rules (learn.microsoft.com/graph/identity-governance-pim-rules-overview): who activates
        # a role without an approver, without MFA or without the authentication context's Conditional Access.
        "pim-activation-approval-removed", "high", ("roleManagementPolicies", "groupRoleManagementPolicies"),
        ItemBecomes("rules", "id", "setting.isApprovalRequired", _ON, _OFF),
        "PIM role activation no longer needs approval: {items}",
    ),
    RiskRule(
        "pim-activation-mfa-removed", "high", ("roleManagementPolicies", "groupRoleManagementPolicies"),
        ItemLoses("rules", "id", "enabledRules", frozenset({"MultiFactorAuthentication"})),
        "PIM role activation no longer needs MFA: {items}",
    ),
    RiskRule(
        "pim-activation-authentication-context-removed", "high", ("roleManagementPolicies", "groupRoleManagementPolicies"),
        ItemBecomes("rules", "id", "isEnabled", _ON, _OFF),
        "PIM role activation no longer needs its authentication context: {items}",
    ),
    RiskRule(
        "pim-duration-widened", "medium", ("roleManagementPolicies", "groupRoleManagementPolicies"),
        ItemLengthens("rules", "id", "maximumDuration"),
        "PIM allows a role for longer: maximumDuration grew in {items}",
    ),
    RiskRule(
        # A condition set included, or made wider, lets users or admins consent to more for every app.
        "permission-grant-policy-loosened", "high", ("permissionGrantPolicies",),
        ItemsUncovered("includes", _ANY_CONSENT),
        "Permission grant policy allows more consent: includes gained {items}",
    ),
    RiskRule(
        "permission-grant-exclusion-removed", "high", ("permissionGrantPolicies",),
        ItemsUncovered("excludes", _ANY_CONSENT, gained=False),
        "Permission grant policy excludes less: excludes lost {items}",
    ),
    RiskRule(
        # The tenant's default app management policy is what stops apps from getting passwords and long-lived keys.
        "app-management-default-disabled", "high", ("defaultAppManagementPolicy",),
        BecomesOneOf(("isEnabled",), _OFF, _ON),
        "Tenant's app credential restrictions turned off: isEnabled {old} -> {new}",
    ),
    RiskRule(
        "app-management-restriction-removed", "high", ("defaultAppManagementPolicy",),
        ListLoses((_APP_RESTRICTIONS,), key="restrictionType"),
        "App credential restriction removed: {path} lost {items}",
    ),
    RiskRule(
        "app-management-restriction-disabled", "high", ("defaultAppManagementPolicy",),
        ItemBecomes(_APP_RESTRICTIONS, "restrictionType", "state", frozenset({"enabled"}), frozenset({"disabled", None})),
        "App credential restriction turned off: {items}",
    ),
)
RISK_RULES += (
    RiskRule(
        # Tokens signed by the key a federated domain trusts sign in as any of its users, MFA claims included
        # ("golden SAML"): a new issuer or signing certificate, or a domain newly federated, is that door.
        "domain-federation-trust-changed", "high", ("domains",),
        ListGains(("federationConfiguration",), key=("issuerUri", "signingCertificate", "nextSigningCertificate")),
        "Federated sign-in trusts another issuer or signing certificate: {path} gained {items}",
        changes=("modified", "added"),
    ),
)
RISK_RULES += (
    RiskRule(
        # A partner's own SAML or WS-Fed identity provider, accepted for the sign-in of guests from the domains
        # it names: a new one, or a domain added to one, lets an outside issuer's tokens in.
        "external-identity-provider-trusted", "high", ("externalDomainFederations",),
        ListGains(("domains",), key="id"),
        "Guests of {items} now sign in at an outside SAML/WS-Fed identity provider",
        changes=("modified", "added"),
    ),
    RiskRule(
        # Whoever holds the key of a new signing certificate, or runs a new issuer or sign-in address, signs
        # in as the partner's guests.
        "external-identity-provider-trust-changed", "high", ("externalDomainFederations",),
        Changes(("issuerUri", "signingCertificate", "passiveSignInUri", "metadataExchangeUri")),
        "SAML/WS-Fed identity provider trusts another issuer, certificate or address: {path} {old} -> {new}",
    ),
)
