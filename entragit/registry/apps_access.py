"""Apps and access beyond applications and service principals themselves: agent identities.

(An application's federated identity credentials and who holds which app role of a service principal are
sub-collections of those types: registry/applications.py.)
"""

from __future__ import annotations

from entragit.registry import DIRECTORY_RECYCLE_BIN, ObjectType, register
from entragit.registry.directory import COMMON_VOLATILE

_AGENT = "microsoft.graph.agentIdentity"
# An agent identity is a service principal, and Graph's metadata declares every servicePrincipal property
# for it; its resource page lists the few that apply (learn.microsoft.com/graph/api/resources/agentidentity).
_NOT_AN_AGENTS = "a service principal property that does not apply to an agent identity (its resource page " \
                 "lists those that do); its blueprint holds the app's configuration"
_SERVICE_PRINCIPAL_ONLY = (
    "addIns", "alternativeNames", "appDescription", "appDisplayName", "appId", "appOwnerOrganizationId",
    "appRoleAssignmentRequired", "appRoles", "applicationTemplateId", "description", "homepage", "info",
    "isDisabled", "keyCredentials", "loginUrl", "logoutUrl", "notes", "notificationEmailAddresses",
    "oauth2PermissionScopes", "passwordCredentials", "preferredSingleSignOnMode", "preferredTokenSigningKeyThumbprint",
    "replyUrls", "resourceSpecificApplicationPermissions", "samlSingleSignOnSettings", "servicePrincipalNames",
    "signInAudience", "tokenEncryptionKeyId", "verifiedPublisher",
)

AGENT_IDENTITIES = register(
    ObjectType(
        name="agentIdentities",
        singular="agent identity",
        # agentidentity-list returns agent identities only; one is addressed through a cast of its service
        # principal (agentidentity-get, agentidentity-update, agentidentity-delete).
        collection=f"servicePrincipals/{_AGENT}",
        item_at=f"servicePrincipals/{{id}}/{_AGENT}",
        odata_types=("#microsoft.graph.agentIdentity",),
        select=("id", "displayName", "accountEnabled", "agentIdentityBlueprintId", "createdByAppId",
                "disabledByMicrosoftStatus", "servicePrincipalType", "tags"),
        volatile=COMMON_VOLATILE,
        read_only=frozenset({"id", "createdByAppId", "disabledByMicrosoftStatus", "servicePrincipalType"}),
        why_read_only={"servicePrincipalType": "ServiceIdentity for every agent identity, set by Graph"},
        create_only=frozenset({"agentIdentityBlueprintId"}),
        not_kept={
            **dict.fromkeys(_SERVICE_PRINCIPAL_ONLY, _NOT_AN_AGENTS),
            "customSecurityAttributes": "readable only with its own permission (CustomSecAttributeAssignment.Read.All)",
        },
        # "The default and maximum page size is 100 agent identity objects" (agentidentity-list).
        page_size=100,
        read_permission="AgentIdentity.Read.All",
        write_permission="AgentIdentity.ReadWrite.All",
        restore_order=40,
        recycle_bin=DIRECTORY_RECYCLE_BIN,
        cannot_create=("an agent signs in as its identity by the id its blueprint was given for it: one made "
                       "again from the blueprint (AgentIdentity.CreateAsManager, with a sponsor) is another "
                       "identity, which the agent's own deployment must be pointed at"),
    )
)
