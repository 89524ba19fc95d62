"""The Entra side of sign-in: openid configuration, the v2.0 token endpoint, an Azure VM's managed identity
endpoint (IMDS), and bearer checks for Graph.

msal runs unmodified against this, so responses follow what msal reads (graph-behaviour §8). Client
authentication is a table keyed by credential kind: certificate and federated assertions are entries
that credentials.py adds to CLIENT_AUTHENTICATORS, not changes to the token flow.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping, MutableSequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cryptography import x509

from entragit.sim.clock import SimClock
from entragit.sim.permissions import granted_roles
from entragit.sim.settings import Settings

GRAPH_RESOURCE = "https://graph.microsoft.com"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class Cloud:
    graph: str
    instance: str  # openid configuration's cloud_instance_name


# graph-behaviour §8, national clouds: each tenant lives in one, and only its Graph is a resource there.
CLOUDS: dict[str, Cloud] = {
    "global": Cloud(GRAPH_RESOURCE, "microsoftonline.com"),
    "usgov": Cloud("https://graph.microsoft.us", "microsoftonline.us"),
    "usgovdod": Cloud("https://dod-graph.microsoft.us", "microsoftonline.us"),
    "china": Cloud("https://microsoftgraph.chinacloudapi.cn", "partner.microsoftonline.cn"),
}


@dataclass(frozen=True)
class FederatedCredential:
    """A federated identity credential of an app registration (graph-behaviour §8, workload identity federation)."""

    name: str
    issuer: str
    subject: str
    audiences: tuple[str, ...] = ("api://AzureADTokenExchange",)


@dataclass
class ClientApp:
    """An app registration that may sign in to the simulated tenant."""

    client_id: str
    display_name: str
    secrets: list[str] = field(default_factory=list)
    certificates: list[x509.Certificate] = field(default_factory=list)
    # The simulator's own app reads these live from its federatedIdentityCredentials (identity.FederatedCredentials).
    federated: MutableSequence[FederatedCredential] = field(default_factory=list)


class TokenError(Exception):
    """An AADSTS error: the token endpoint answers it as Entra's OAuth2 error body."""

    def __init__(self, status: int, error: str, aadsts: int, text: str) -> None:
        super().__init__(f"AADSTS{aadsts}: {text}")
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.text = text

    def body(self) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = now.strftime("%Y-%m-%d %H:%M:%S") + f".{now.microsecond // 1000:03d}Z"
        return {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.aadsts}: {self.text} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {stamp}"
            ),
            "error_codes": [self.aadsts],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
        }


class ManagedIdentityError(TokenError):
    """An error of the instance metadata service's identity endpoint: a plain OAuth2 body, no AADSTS code
    (https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#error-handling)."""

    def __init__(self, status: int, error: str, text: str) -> None:
        super().__init__(status, error, 0, text)

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.text}


class AppServiceIdentityError(ManagedIdentityError):
    """An error of App Service's identity endpoint, in the shape msal reads from it: statusCode and message."""

    def body(self) -> dict[str, Any]:
        return {"statusCode": self.status, "message": f"{self.error}: {self.text}"}


# What App Service gives an app in IDENTITY_HEADER, to send back as X-IDENTITY-HEADER; a constant here.
APP_SERVICE_IDENTITY_HEADER = "entragit-sim-app-service-identity"
APP_SERVICE_IDENTITY_PATH = "/msi/token"


@dataclass(frozen=True)
class IssuedToken:
    client_id: str
    expires_at: float


DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# How long a device code lives, and how often a client may ask whether it was used, as Entra answers them
# (learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code).
DEVICE_CODE_SECONDS = 900
DEVICE_CODE_INTERVAL = 5


@dataclass
class DeviceSignIn:
    """A device code handed out: pending until a person enters its user code and signs in."""

    client_id: str
    user_code: str
    scopes: tuple[str, ...]
    expires_at: float
    user: Mapping[str, Any] | None = None


# Called with the authority (its endpoints, clock and trusted issuers), the app and the token request's form.
ClientAuthenticator = Callable[["Authority", ClientApp, Mapping[str, str]], None]


def _check_secret(authority: Authority, app: ClientApp, form: Mapping[str, str]) -> None:
    presented = form.get("client_secret", "")
    if not any(hmac.compare_digest(presented, known) for known in app.secrets):
        raise TokenError(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
            f"not the client secret ID, for a secret added to app '{app.client_id}'.",
        )


# credential kind -> check. "client_secret" for secrets; "assertion:<client_assertion_type>" for JWT assertions.
CLIENT_AUTHENTICATORS: dict[str, ClientAuthenticator] = {"client_secret": _check_secret}


def _credential_kind(form: Mapping[str, str]) -> str:
    if "client_assertion_type" in form or "client_assertion" in form:
        return f"assertion:{form.get('client_assertion_type', '')}"
    if "client_secret" in form:
        return "client_secret"
    raise TokenError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    )


class Authority:
    """One tenant's sign-in endpoints and the tokens they issued."""

    def __init__(
        self, tenant_id: str, domain: str, apps: list[ClientApp], settings: Settings, clock: SimClock | None = None
    ) -> None:
        self.tenant_id = tenant_id
        self.domain = domain
        self.apps = {app.client_id: app for app in apps}
        self.settings = settings
        self.clock = clock or SimClock()
        # Federation issuers whose signatures the tenant accepts: issuer -> public key (credentials.Federation).
        self.trusted_issuers: dict[str, Any] = {}
        self.base_url = ""
        self._signing_key = secrets.token_bytes(32)
        self._tokens: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()
        # device code -> its sign-in; and who, if anyone, signs in at once wherever a code is shown.
        self.device_sign_ins: dict[str, DeviceSignIn] = {}
        self.device_user: Mapping[str, Any] | None = None
        self._refresh_tokens: dict[str, DeviceSignIn] = {}

    def knows_tenant(self, tenant: str) -> bool:
        return tenant.lower() in (self.tenant_id, self.domain.lower(), "organizations")

    def unknown_tenant(self, tenant: str) -> TokenError:
        return TokenError(
            400,
            "invalid_tenant",
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the "
            "correct cloud. Check with your subscription administrator, this may happen if there are no active "
            "subscriptions for the tenant.",
        )

    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        if not self.knows_tenant(tenant):
            raise self.unknown_tenant(tenant)
        root = f"{self.base_url}/{self.tenant_id}"
        return {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{self.base_url}/{self.tenant_id}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{root}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{self.base_url}/oidc/userinfo",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver", "oid"],
            "kerberos_endpoint": f"{root}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": self.cloud.instance,
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": self.base_url.removeprefix("https://"),
            "rbac_url": "https://pas.windows.net",
        }

    def token(self, tenant: str, form: Mapping[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        if not self.knows_tenant(tenant):
            raise self.unknown_tenant(tenant)
        form = dict(form)
        if basic is not None:
            # client_secret_basic: the same credentials in the Authorization header.
            form.setdefault("client_id", basic[0])
            form.setdefault("client_secret", basic[1])
        grant = form.get("grant_type")
        if grant == DEVICE_CODE_GRANT:
            return self._device_token(form)
        if grant == "refresh_token":
            return self._refreshed(form)
        if grant != "client_credentials":
            raise TokenError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'. The simulator supports client_credentials, "
                "and device_code with refresh_token for a person.",
            )
        app = self._app_of(form.get("client_id", ""))
        self._check_scope(form.get("scope", ""))
        kind = _credential_kind(form)
        authenticate = CLIENT_AUTHENTICATORS.get(kind)
        if authenticate is None:
            raise TokenError(
                400,
                "invalid_request",
                50027,
                f"Client assertion type '{form.get('client_assertion_type', '')}' is not supported by the simulated tenant.",
            )
        authenticate(self, app, form)
        lifetime = self.settings.token_lifetime_seconds
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self._issue(app, lifetime),
        }

    def device_code(self, tenant: str, form: Mapping[str, str]) -> dict[str, Any]:
        """POST /{tenant}/oauth2/v2.0/devicecode: a code for the device, and one for the person to enter at
        the verification page (learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code)."""
        if not self.knows_tenant(tenant):
            raise self.unknown_tenant(tenant)
        app = self._app_of(form.get("client_id", ""))
        scopes = tuple(self._delegated_scopes(form.get("scope", "")))
        device_code = secrets.token_urlsafe(32)
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        sign_in = DeviceSignIn(app.client_id, user_code, scopes, self.clock.now() + DEVICE_CODE_SECONDS, self.device_user)
        with self._lock:
            self.device_sign_ins[device_code] = sign_in
        verification = f"{self.base_url}/devicelogin"
        return {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification,
            "expires_in": DEVICE_CODE_SECONDS,
            "interval": DEVICE_CODE_INTERVAL,
            "message": f"To sign in, use a web browser to open the page {verification} and enter the code "
                       f"{user_code} to authenticate.",
        }

    def sign_in_with_code(self, user_code: str, user: Mapping[str, Any]) -> None:
        """What a person does at the verification page: enter the user code and sign in as `user`."""
        with self._lock:
            found = [s for s in self.device_sign_ins.values() if s.user_code == user_code.upper()]
            if not found:
                raise KeyError(f"no device code shows the user code {user_code!r}")
            found[0].user = user

    def _device_token(self, form: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            sign_in = self.device_sign_ins.get(form.get("device_code", ""))
        if sign_in is None or sign_in.client_id != form.get("client_id", "").lower():
            raise TokenError(400, "bad_verification_code", 70000, "The device_code sent was not recognized.")
        if sign_in.expires_at <= self.clock.now():
            raise TokenError(400, "expired_token", 70019, "Verification code expired.")
        if sign_in.user is None:
            raise TokenError(400, "authorization_pending", 70016,
                             "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
        with self._lock:
            self.device_sign_ins.pop(form.get("device_code", ""), None)
        return self._person_token(sign_in)

    def _person_token(self, sign_in: DeviceSignIn) -> dict[str, Any]:
        """A person's access token, and a refresh token that gets the next one without them: a job of
        Entra Backup and Recovery runs for hours, longer than an access token lives."""
        assert sign_in.user is not None
        lifetime = self.settings.token_lifetime_seconds
        token = self._issue(self.apps[sign_in.client_id], lifetime, sign_in.user, sign_in.scopes)
        refresh = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh_tokens[refresh] = sign_in
        return {"token_type": "Bearer", "scope": " ".join(sign_in.scopes), "expires_in": lifetime,
                "ext_expires_in": lifetime, "access_token": token, "refresh_token": refresh}

    def _refreshed(self, form: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            sign_in = self._refresh_tokens.pop(form.get("refresh_token", ""), None)
        if sign_in is None or sign_in.client_id != form.get("client_id", "").lower():
            raise TokenError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        return self._person_token(sign_in)

    def _app_of(self, client_id: str) -> ClientApp:
        app = self.apps.get(client_id.lower())
        if app is None:
            raise TokenError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{self.domain}'. This can "
                "happen if the application has not been installed by the administrator of the tenant or consented to "
                "by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
            )
        return app

    def _delegated_scopes(self, scope: str) -> list[str]:
        """The Graph permissions a person is asked for, without their resource: what the token's scp holds."""
        scopes = []
        for item in scope.split():
            resource, _, name = item.rpartition("/")
            if resource in (self.base_url, self.cloud.graph) and name and name != ".default":
                scopes.append(name)
            elif item not in ("openid", "profile", "offline_access", "email"):
                raise TokenError(400, "invalid_scope", 70011, f"The provided value for the input parameter 'scope' "
                                 f"is not valid. The scope {item} is not valid.")
        return scopes

    def managed_identity_token(self, query: Mapping[str, str], metadata_header: str | None) -> dict[str, Any]:
        """IMDS's GET /metadata/identity/oauth2/token, as the VM whose identity is the simulator's app sees it.

        The app stands for the VM's system-assigned identity, and for a user-assigned one asked for by its
        client id; any other client id is an identity the VM does not have.
        """
        if (metadata_header or "").lower() != "true":
            raise ManagedIdentityError(400, "invalid_request", "Required metadata header not specified")
        app, lifetime, now = self._identity(query, ManagedIdentityError)
        # IMDS sends its numbers as strings.
        return {
            "access_token": self._issue(app, lifetime),
            "client_id": app.client_id,
            "expires_in": str(lifetime),
            "expires_on": str(now + lifetime),
            "ext_expires_in": str(lifetime),
            "not_before": str(now),
            "resource": query.get("resource", ""),
            "token_type": "Bearer",
        }

    def app_service_token(self, query: Mapping[str, str], identity_header: str | None) -> dict[str, Any]:
        """App Service's (and Azure Functions') identity endpoint, GET {IDENTITY_ENDPOINT}?resource=...
        &api-version=2019-08-01 with the X-IDENTITY-HEADER the platform gives the app in IDENTITY_HEADER
        (learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference): its answer
        has expires_on, epoch seconds as a string, and no expires_in."""
        if identity_header != APP_SERVICE_IDENTITY_HEADER:
            # The status and body of this refusal are not documented [UNCONFIRMED].
            raise AppServiceIdentityError(401, "unauthorized", "The X-IDENTITY-HEADER is missing or wrong.")
        app, lifetime, now = self._identity(query, AppServiceIdentityError)
        return {
            "access_token": self._issue(app, lifetime),
            "client_id": app.client_id,
            "expires_on": str(now + lifetime),
            "resource": query.get("resource", ""),
            "token_type": "Bearer",
        }

    def _identity(self, query: Mapping[str, str], error: type[ManagedIdentityError]) -> tuple[Any, int, int]:
        """The app a managed identity request stands for (system-assigned, or user-assigned by client id),
        the token's lifetime and now, checked as both endpoints check them."""
        client_id = query.get("client_id", "").lower()
        app = self.apps.get(client_id) if client_id else next(iter(self.apps.values()))
        if app is None:
            raise error(400, "invalid_request", "Identity not found")
        resource = query.get("resource", "").rstrip("/")
        if resource not in (self.base_url, self.cloud.graph):
            raise error(400, "invalid_resource", f"AADSTS500011: The resource principal named "
                        f"{resource} was not found in the tenant named {self.domain}.")
        return app, self.settings.token_lifetime_seconds, int(self.clock.now())

    @property
    def cloud(self) -> Cloud:
        return CLOUDS[self.settings.cloud]

    def token_endpoints(self) -> set[str]:
        """URLs a client assertion may name as its audience: this tenant's token endpoints."""
        return {
            f"{self.base_url}/{tenant}/oauth2/{version}token".lower()
            for tenant in (self.tenant_id, self.domain)
            for version in ("v2.0/", "")
        }

    def _check_scope(self, scope: str) -> None:
        scope = scope.strip()
        resource = scope.removesuffix("/.default")
        if resource in (self.base_url, self.cloud.graph) and resource != scope:
            return
        if resource != scope and any(resource == cloud.graph for cloud in CLOUDS.values()):
            # Another cloud's Graph does not exist in this tenant's cloud
            # (graph-behaviour §8: tokens do not cross clouds).
            raise TokenError(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named {self.domain}. This can "
                "happen if the application has not been installed by the administrator of the tenant or consented to "
                "by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
            )
        raise TokenError(
            400,
            "invalid_scope",
            70011,
            f"The provided request must include a 'scope' input parameter. The provided value for the input "
            f"parameter 'scope' is not valid. The scope {scope} is not valid. The .default scope of "
            f"{self.cloud.graph} or {self.base_url} is required for the client credentials flow.",
        )

    def issue_delegated(self, client_id: str, user: Mapping[str, Any]) -> str:
        """An access token for `user` signed in through the app `client_id` (a delegated token).

        The simulator has no sign-in pages, so whoever needs to act as a person (tests, the demo) asks here;
        Graph then treats the token's user as the one who made each change (the audit log's initiatedBy.user).
        """
        return self._issue(self.apps[client_id.lower()], self.settings.token_lifetime_seconds, user)

    def _issue(self, app: ClientApp, lifetime: int, user: Mapping[str, Any] | None = None,
               scopes: tuple[str, ...] = ("Directory.AccessAsUser.All",)) -> str:
        # A JWT-shaped token so clients that peek at claims (tid, appid, exp) see plausible ones; the
        # simulator itself trusts only its table of issued tokens.
        now = int(self.clock.now())
        claims: dict[str, Any] = {
            "aud": self.cloud.graph,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "appid": app.client_id,
            "app_displayname": app.display_name,
            "tid": self.tenant_id,
            "roles": granted_roles(self.settings),
            "uti": secrets.token_urlsafe(16),
            "ver": "1.0",
            "idtyp": "app",
        }
        if user is not None:
            # Delegated tokens name the user and carry scopes instead of application roles.
            del claims["roles"]
            claims.update(idtyp="user", oid=user["id"], upn=user["userPrincipalName"], name=user["displayName"],
                          scp=" ".join(scopes))
        segments = [_b64(json.dumps(part, separators=(",", ":")).encode()) for part in ({"typ": "JWT", "alg": "HS256"}, claims)]
        signing_input = ".".join(segments).encode()
        token = ".".join([*segments, _b64(hmac.new(self._signing_key, signing_input, hashlib.sha256).digest())])
        with self._lock:
            self._prune(now)
            self._tokens[token] = IssuedToken(app.client_id, now + lifetime)
        return token

    def _prune(self, now: float) -> None:
        # Expired tokens stay an hour so that using one still says "expired" rather than "invalid".
        expired = [token for token, issued in self._tokens.items() if issued.expires_at <= now - 3600]
        for token in expired:
            del self._tokens[token]

    def check_bearer(self, authorization: str | None) -> str | None:
        """None when the header carries a live token we issued, else the message Graph would give."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "Access token is empty."
        with self._lock:
            issued = self._tokens.get(token.strip())
        if issued is None:
            # Never issued here, or pruned long after expiry: its own exp claim tells the two apart.
            expired = _expired_claim(token, self.clock.now())
            return "Access token has expired or is not yet valid." if expired else "Invalid JWT token. Token format not valid."
        if issued.expires_at <= self.clock.now():
            return "Access token has expired or is not yet valid."
        return None

    def expire_all_tokens(self) -> None:
        """Make every issued token expire now, so tests can prove a client renews its token."""
        with self._lock:
            now = self.clock.now()
            self._tokens = {token: IssuedToken(t.client_id, min(t.expires_at, now)) for token, t in self._tokens.items()}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _expired_claim(token: str, now: float) -> bool:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) <= now
    except (IndexError, ValueError, KeyError, TypeError):
        return False
