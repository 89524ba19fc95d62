"""Applications and service principals: Microsoft's first-party apps and the values Graph computes on create.

Kept apart from model.py's table so the table stays a table: these are the server-side rules behind
POST /applications and POST /servicePrincipals (graph-behaviour §6, §9).
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from entragit.sim.errors import GraphFault, bad_request

if TYPE_CHECKING:
    from entragit.sim.model import CollectionSpec

# Microsoft's own tenant: the appOwnerOrganizationId of every first-party service principal.
MICROSOFT_TENANT_ID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


class TenantView(Protocol):
    """What the create rules read from the tenant (model.py cannot import tenant.py, which imports it)."""

    tenant_id: str
    domain: str
    objects: dict[str, dict[str, dict[str, Any]]]

    def add(self, spec: CollectionSpec, obj: dict[str, Any]) -> None:
        """Insert an object another's create makes with it (a federation's domains)."""


@dataclass(frozen=True)
class FirstPartyApp:
    app_id: str
    display_name: str
    service_principal_names: tuple[str, ...]
    app_roles: tuple[tuple[str, str], ...] = ()  # (id, value): application permissions the API offers
    scopes: tuple[tuple[str, str], ...] = ()  # (id, value): delegated permissions


FIRST_PARTY: dict[str, FirstPartyApp] = {
    app.app_id: app
    for app in (
        FirstPartyApp(
            MICROSOFT_GRAPH_APP_ID,
            "Microsoft Graph",
            ("https://graph.microsoft.com", "https://canary.graph.microsoft.com", MICROSOFT_GRAPH_APP_ID),
            app_roles=(
                ("df021288-bdef-4463-88db-98f22de89214", "User.Read.All"),
                ("741f803b-c850-494e-b5df-cde7c675a1ca", "User.ReadWrite.All"),
                ("5b567255-7703-4780-807c-7be8301ae99b", "Group.Read.All"),
                ("62a82d76-70ea-41e2-9197-370581804d09", "Group.ReadWrite.All"),
                ("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All"),
                ("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Application.Read.All"),
                ("246dd0d5-5bd0-4def-940b-0421030a5b68", "Policy.Read.All"),
            ),
            scopes=(("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read"),),
        ),
        FirstPartyApp(
            "00000002-0000-0ff1-ce00-000000000000",
            "Office 365 Exchange Online",
            ("https://outlook.office365.com", "00000002-0000-0ff1-ce00-000000000000"),
        ),
        FirstPartyApp(
            "00000003-0000-0ff1-ce00-000000000000",
            "Office 365 SharePoint Online",
            ("https://microsoft.sharepoint-df.com", "00000003-0000-0ff1-ce00-000000000000"),
        ),
        FirstPartyApp(
            "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
            "Microsoft Teams Services",
            ("https://api.spaces.skype.com", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe"),
        ),
        FirstPartyApp(
            "797f4846-ba00-4fd7-ba43-dac1f8f63013",
            "Windows Azure Service Management API",
            ("https://management.core.windows.net/", "797f4846-ba00-4fd7-ba43-dac1f8f63013"),
        ),
        FirstPartyApp(
            "0000000a-0000-0000-c000-000000000000",
            "Microsoft Intune",
            ("https://api.manage.microsoft.com/", "0000000a-0000-0000-c000-000000000000"),
        ),
    )
}

# What Graph fills in for an application created with none of these (graph-behaviour §9 shapes).
APPLICATION_DEFAULTS: dict[str, Any] = {
    "signInAudience": "AzureADMyOrg",
    "api": {
        "acceptMappedClaims": None,
        "knownClientApplications": [],
        "oauth2PermissionScopes": [],
        "preAuthorizedApplications": [],
        "requestedAccessTokenVersion": None,
    },
    "web": {
        "homePageUrl": None,
        "logoutUrl": None,
        "redirectUris": [],
        "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False},
        "redirectUriSettings": [],
    },
    "spa": {"redirectUris": []},
    "publicClient": {"redirectUris": []},
}


# Lists of permissions an application publishes, by where they sit in the object.
PERMISSION_LISTS = (("appRoles",), ("api", "oauth2PermissionScopes"))


def _permissions(obj: dict[str, Any] | None, path: tuple[str, ...]) -> list[dict[str, Any]]:
    found: Any = obj or {}
    for part in path:
        found = found.get(part) if isinstance(found, dict) else None
    return list(found or [])


def check_permission_removal(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    """An app role or delegated scope can be deleted only once disabled (isEnabled false): Graph answers
    CannotDeleteOrUpdateEnabledEntitlement otherwise [OBS: Microsoft's and PnP's scripts disable, then remove]."""
    if existing is None:
        return
    for path in PERMISSION_LISTS:
        if path[0] not in changes:
            continue
        kept = {p.get("id") for p in _permissions(changes, path)}
        if any(p.get("isEnabled") and p.get("id") not in kept for p in _permissions(existing, path)):
            raise bad_request("Permission (scope or role) cannot be deleted or updated unless disabled first.",
                              code="CannotDeleteOrUpdateEnabledEntitlement")


# Values the application and servicePrincipal resources document (v1.0).
GROUP_MEMBERSHIP_CLAIMS = ("None", "SecurityGroup", "All", "DirectoryRole", "ApplicationGroup")
OPTIONAL_CLAIM_TOKENS = ("idToken", "accessToken", "saml2Token")
OPTIONAL_CLAIM_KEYS = frozenset({"name", "source", "essential", "additionalProperties"})
LOCK_KEYS = frozenset({"isEnabled", "allProperties", "credentialsWithUsageVerify", "credentialsWithUsageSign",
                       "tokenEncryptionKeyId"})
NATIVE_AUTHENTICATION = ("none", "all")
SINGLE_SIGN_ON_MODES = ("password", "saml", "notSupported", "oidc")


def _invalid(prop: str, resource: str) -> GraphFault:
    return bad_request(f"Invalid value specified for property '{prop}' of resource '{resource}'.")


def validate_application(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_permission_removal(changes, existing)
    claims = changes.get("groupMembershipClaims")
    if claims is not None and not all(part.strip() in GROUP_MEMBERSHIP_CLAIMS for part in str(claims).split(",")):
        raise _invalid("groupMembershipClaims", "Application")
    # optionalClaims is replaced whole by a PATCH: each token type's list, each claim a name at least.
    optional = changes.get("optionalClaims")
    if optional is not None:
        for token, claims_of in optional.items():
            if token not in OPTIONAL_CLAIM_TOKENS or not isinstance(claims_of, list) or not all(
                    isinstance(c, dict) and set(c) <= OPTIONAL_CLAIM_KEYS and isinstance(c.get("name"), str)
                    for c in claims_of):
                raise _invalid("optionalClaims", "Application")
    lock = changes.get("servicePrincipalLockConfiguration")
    if lock is not None and (set(lock) - LOCK_KEYS or any(v is not None and not isinstance(v, bool) for v in lock.values())):
        raise _invalid("servicePrincipalLockConfiguration", "Application")
    if changes.get("nativeAuthenticationApisEnabled") not in (None, *NATIVE_AUTHENTICATION):
        raise _invalid("nativeAuthenticationApisEnabled", "Application")


def validate_service_principal(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    mode = changes.get("preferredSingleSignOnMode", (existing or {}).get("preferredSingleSignOnMode"))
    if mode not in (None, *SINGLE_SIGN_ON_MODES):
        raise _invalid("preferredSingleSignOnMode", "ServicePrincipal")
    saml = changes.get("samlSingleSignOnSettings")
    if saml is not None and (set(saml) - {"relayState"} or not isinstance(saml.get("relayState"), (str, type(None)))):
        raise _invalid("samlSingleSignOnSettings", "ServicePrincipal")
    if saml and saml.get("relayState") and mode != "saml":
        # SAML settings belong to a SAML app: set with its preferredSingleSignOnMode, or after it (the
        # enterprise-app SAML guide sets the mode first) [UNCONFIRMED: Graph's exact refusal].
        raise bad_request("samlSingleSignOnSettings can be set only when preferredSingleSignOnMode is 'saml'.")
    for url in changes.get("replyUrls") or []:
        if not (url.startswith("https://") or url.startswith("http://localhost")):
            raise _invalid("replyUrls", "ServicePrincipal")


def _guid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def check_identifier_uris(tenant: TenantView, app: dict[str, Any]) -> None:
    """An api:// URI naming a GUID must name the app's own appId or the tenant (Entra's "identifier URI
    restrictions": "If you add a GUID value, it must match either the app ID or the tenant ID"), so an
    application cannot be created with a URI of an appId it does not have yet. The code and text of the
    refusal are the ones users report [UNCONFIRMED]; the verified-domain rules for other forms are not modelled."""
    for uri in app.get("identifierUris") or []:
        if not uri.lower().startswith("api://"):
            continue
        first = _guid(uri[len("api://"):].split("/", 1)[0])
        if first is not None and first not in (app["appId"], tenant.tenant_id):
            raise GraphFault(400, "HostNameNotOnVerifiedDomain",
                             f"Values of identifierUris property must use a verified domain of the organization or its subdomain: '{uri}'")


def complete_application(tenant: TenantView, app: dict[str, Any]) -> None:
    app["appId"] = str(uuid.uuid4())
    check_identifier_uris(tenant, app)
    app["publisherDomain"] = tenant.domain
    for name, value in APPLICATION_DEFAULTS.items():
        if app.get(name) is None:
            app[name] = copy.deepcopy(value)


def complete_service_principal(tenant: TenantView, sp: dict[str, Any]) -> None:
    """An SP is an app's instance in this tenant: its names, roles and scopes come from the app (graph-behaviour §9)."""
    app_id = sp["appId"]
    if any(other["appId"] == app_id for other in tenant.objects["servicePrincipals"].values()):
        raise GraphFault(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            f"The service principal cannot be created, updated, or restored because the service principal name "
            f"{app_id} is already in use.",
        )
    app = next((a for a in tenant.objects["applications"].values() if a["appId"] == app_id), None)
    if app is not None:
        fields = service_principal_fields(app, tenant.tenant_id)
    elif app_id in FIRST_PARTY:
        fields = first_party_fields(FIRST_PARTY[app_id])
    else:
        raise bad_request(f"The appId '{app_id}' of the service principal does not reference a valid application object.")
    for name, value in fields.items():
        if name in ("appDisplayName", "appOwnerOrganizationId", "servicePrincipalType") or sp.get(name) in (None, []):
            sp[name] = value


def copied_from_application(app: dict[str, Any]) -> dict[str, Any]:
    """What a service principal repeats of its application, and where Entra sends its tokens at first."""
    return {
        "appDescription": app.get("description"),
        "info": copy.deepcopy(app.get("info")),
        "signInAudience": app.get("signInAudience"),
        "replyUrls": list((app.get("web") or {}).get("redirectUris") or []),
    }


def service_principal_fields(app: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    return {
        **copied_from_application(app),
        "appId": app["appId"],
        "displayName": app["displayName"],
        "appDisplayName": app["displayName"],
        "appOwnerOrganizationId": tenant_id,
        "servicePrincipalType": "Application",
        "servicePrincipalNames": [app["appId"], *app["identifierUris"]],
        "accountEnabled": True,
        "appRoleAssignmentRequired": False,
        "appRoles": copy.deepcopy(app["appRoles"]),
        "oauth2PermissionScopes": copy.deepcopy((app.get("api") or {}).get("oauth2PermissionScopes") or []),
    }


# The tag the Entra admin center gives the service principal of an app registered there; one created through
# Graph has none (serviceprincipal-post-serviceprincipals answers "tags": []).
PORTAL_TAG = "WindowsAzureActiveDirectoryIntegratedApp"


def first_party_fields(app: FirstPartyApp) -> dict[str, Any]:
    return {
        "appId": app.app_id,
        "displayName": app.display_name,
        "appDisplayName": app.display_name,
        "appOwnerOrganizationId": MICROSOFT_TENANT_ID,
        "servicePrincipalType": "Application",
        "servicePrincipalNames": list(app.service_principal_names),
        "accountEnabled": True,
        "appRoleAssignmentRequired": False,
        "appRoles": [app_role(role_id, value, ["Application"]) for role_id, value in app.app_roles],
        "oauth2PermissionScopes": [permission_scope(scope_id, value) for scope_id, value in app.scopes],
        "tags": [],
    }


def app_role(role_id: str, value: str, member_types: list[str]) -> dict[str, Any]:
    return {
        "allowedMemberTypes": member_types,
        "description": f"Allows the app to {value}.",
        "displayName": value,
        "id": role_id,
        "isEnabled": True,
        "origin": "Application",
        "value": value,
    }


def permission_scope(scope_id: str, value: str) -> dict[str, Any]:
    return {
        "adminConsentDescription": f"Allows the app to {value} on behalf of the signed-in user.",
        "adminConsentDisplayName": value,
        "id": scope_id,
        "isEnabled": True,
        "type": "User",
        "userConsentDescription": f"Allows the app to {value} on your behalf.",
        "userConsentDisplayName": value,
        "value": value,
    }
