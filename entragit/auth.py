"""Tokens from Microsoft Entra ID through msal, app-only: client secret, certificate, federated assertion or
managed identity.

The federated assertion is what a CI pipeline uses to sign in without any secret (workload identity
federation): a file projected by the platform (AZURE_FEDERATED_TOKEN_FILE), or GitHub Actions' OIDC
token, exchanged for an Entra token whose app trusts that issuer and subject. A managed identity is what an
Azure VM or a self-hosted runner on one uses: the machine's identity endpoint hands out the token, found as msal
finds it (IMDS at 169.254.169.254, its host moved by AZURE_POD_IDENTITY_AUTHORITY_HOST, or App Service's
IDENTITY_ENDPOINT and IDENTITY_HEADER).

One command signs in as a person instead: `import-native` (PersonSignIn, msal's device code flow), because
Microsoft lets only a person start Entra Backup and Recovery's preview jobs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msal
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from entragit.config import (
    CERTIFICATE_ENV,
    CERTIFICATE_PASSWORD_ENV,
    FEDERATED_TOKEN_FILE_ENV,
    MANAGED_IDENTITY_CLIENT_ID_ENV,
    SECRET_ENV,
    Connection,
)
from entragit.errors import AuthError
from entragit.session import new_session

# The audience Entra expects in a federated assertion (graph-behaviour §8).
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"


def _certificate_credential(path: str) -> dict[str, Any]:
    try:
        pem = Path(path).read_text()
    except OSError as exc:
        raise AuthError(f"cannot read the certificate {path} ({CERTIFICATE_ENV}): {exc.strerror}") from None
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise AuthError(f"{path} ({CERTIFICATE_ENV}) holds no PEM certificate; it needs the certificate "
                        "and its private key, both PEM") from None
    if "PRIVATE KEY-----" not in pem:
        raise AuthError(f"{path} ({CERTIFICATE_ENV}) holds no private key; it needs both, PEM")
    credential: dict[str, Any] = {
        "private_key": pem,
        # The thumbprint Entra shows for a registered certificate is its SHA-1 hash.
        "thumbprint": certificate.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303
        "public_certificate": certificate.public_bytes(Encoding.PEM).decode(),
    }
    if os.environ.get(CERTIFICATE_PASSWORD_ENV):
        credential["passphrase"] = os.environ[CERTIFICATE_PASSWORD_ENV]
    return credential


def federated_assertion_source(ca_bundle: str | None = None) -> Callable[[], str]:
    """Where the federated assertion comes from on this machine; called again for every new token,
    because these assertions live minutes, not hours."""
    token_file = os.environ.get(FEDERATED_TOKEN_FILE_ENV)
    if token_file:
        def from_file() -> str:
            try:
                return Path(token_file).read_text().strip()
            except OSError as exc:
                raise AuthError(f"cannot read {token_file} ({FEDERATED_TOKEN_FILE_ENV}): {exc.strerror}") from None
        return from_file
    request_url = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL")
    request_token = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if request_url and request_token:
        def from_github() -> str:
            # GitHub's OIDC provider: the workflow needs `permissions: id-token: write`.
            response = new_session(ca_bundle).get(request_url, params={"audience": FEDERATION_AUDIENCE},
                                                  headers={"Authorization": f"Bearer {request_token}"}, timeout=30)
            if response.status_code != 200:
                raise AuthError(f"GitHub refused an OIDC token: {response.status_code} {response.text[:200]}")
            return str(response.json()["value"])
        return from_github
    raise AuthError(f"auth is 'federated' but no assertion source is set: set {FEDERATED_TOKEN_FILE_ENV}, or run "
                    "in GitHub Actions with `permissions: id-token: write`")


def _client_credential(connection: Connection) -> Any:
    if connection.auth == "certificate":
        path = os.environ.get(CERTIFICATE_ENV)
        if not path:
            raise AuthError(f"auth is 'certificate' but {CERTIFICATE_ENV} is not set")
        return _certificate_credential(path)
    if connection.auth == "federated":
        return {"client_assertion": federated_assertion_source(connection.ca_bundle)}
    if not connection.client_secret:
        raise AuthError(f"no client secret for app {connection.client_id}: set {SECRET_ENV}")
    return connection.client_secret


def _managed_identity_client(ca_bundle: str | None) -> msal.ManagedIdentityClient:
    client_id = os.environ.get(MANAGED_IDENTITY_CLIENT_ID_ENV)
    identity = (msal.UserAssignedManagedIdentity(client_id=client_id) if client_id
                else msal.SystemAssignedManagedIdentity())
    return msal.ManagedIdentityClient(identity, http_client=new_session(ca_bundle))


class TokenProvider:
    """App-only tokens for Graph; msal caches them and asks for a new one shortly before expiry."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._app: msal.ConfidentialClientApplication | msal.ManagedIdentityClient
        if connection.auth == "managed-identity":
            self._app = _managed_identity_client(connection.ca_bundle)
            self._where = "the managed identity endpoint"
            return
        self._where = connection.authority
        try:
            self._app = msal.ConfidentialClientApplication(
                connection.client_id,
                client_credential=_client_credential(connection),
                authority=connection.authority,
                http_client=new_session(connection.ca_bundle),
                # Instance discovery asks login.microsoftonline.com about the authority host; it comes
                # from the cloud's name or from outside the repository here, so trust it as given.
                instance_discovery=False,
            )
        except (ValueError, OSError) as exc:  # msal reads the authority's metadata here, and refuses non-https
            raise AuthError(f"signing in at {connection.authority} failed: {exc}") from None

    def _acquire(self) -> dict[str, Any]:
        if isinstance(self._app, msal.ManagedIdentityClient):
            # A managed identity asks for a resource, not a scope: Graph's root.
            return dict(self._app.acquire_token_for_client(resource=self._connection.graph_url))
        return dict(self._app.acquire_token_for_client(scopes=[self._connection.scope]))

    def token(self) -> str:
        try:
            result = self._acquire()
        except (ValueError, OSError) as exc:  # msal raises ValueError for an unusable authority
            raise AuthError(f"signing in at {self._where} failed: {exc}") from None
        if "access_token" not in result:
            description = (result.get("error_description") or "").split("\r\n")[0].split(" Trace ID:")[0]
            who = "the managed identity" if self._connection.auth == "managed-identity" else \
                f"app {self._connection.client_id}"
            raise AuthError(f"signing in as {who} at {self._where} failed: {result.get('error')}: {description}")
        return str(result["access_token"])

    def invalidate(self) -> None:
        """Forget cached tokens, after Graph said the one we sent is no longer good."""
        if isinstance(self._app, msal.ManagedIdentityClient):
            # Its cache has no call to empty it; a new client starts with none.
            self._app = _managed_identity_client(self._connection.ca_bundle)
            return
        self._app.remove_tokens_for_client()


class PersonSignIn:
    """Tokens for a person, signed in through msal's device code flow: the one sign-in Microsoft lets start
    Entra Backup and Recovery's preview jobs (delegated permissions only). Used by `import-native` alone.

    The person opens the page the code names and signs in there (learn.microsoft.com/entra/identity-platform/
    v2-oauth2-device-code); the app registration must allow public client flows. A preview job runs for
    hours, longer than an access token lives, so the token is renewed with the refresh token the sign-in
    gave, without asking the person again.
    """

    # Renew this long before the token's end, so that a request never leaves with one about to expire.
    MARGIN_SECONDS = 300

    def __init__(self, connection: Connection, permissions: tuple[str, ...], show: Callable[[str], None],
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._connection = connection
        self._scopes = [f"{connection.graph_url.rstrip('/')}/{permission}" for permission in permissions]
        self._show = show
        self._monotonic = monotonic
        self._result: dict[str, Any] | None = None
        self._expires = 0.0
        try:
            self._app = msal.PublicClientApplication(
                connection.client_id, authority=connection.authority,
                http_client=new_session(connection.ca_bundle), instance_discovery=False)
        except (ValueError, OSError) as exc:
            raise AuthError(f"signing in at {connection.authority} failed: {exc}") from None

    def _keep(self, result: dict[str, Any], asking: str) -> None:
        if "access_token" not in result:
            description = (result.get("error_description") or "").split("\r\n")[0].split(" Trace ID:")[0]
            raise AuthError(f"{asking} at {self._connection.authority} failed: {result.get('error')}: {description}")
        self._result = result
        self._expires = self._monotonic() + float(result.get("expires_in") or 0) - self.MARGIN_SECONDS

    def _sign_in(self) -> None:
        try:
            flow = self._app.initiate_device_flow(scopes=self._scopes)
            if "user_code" not in flow:
                self._keep(dict(flow), "asking for a device code")
            self._show(str(flow["message"]))
            self._keep(dict(self._app.acquire_token_by_device_flow(flow)), "signing in with the device code")
        except (ValueError, OSError) as exc:
            raise AuthError(f"signing in at {self._connection.authority} failed: {exc}") from None

    def token(self) -> str:
        if self._result is None:
            self._sign_in()
        elif self._monotonic() >= self._expires:
            self.invalidate()
        assert self._result is not None
        return str(self._result["access_token"])

    def invalidate(self) -> None:
        """A new access token from the refresh token; without one, the person signs in again."""
        refresh = (self._result or {}).get("refresh_token")
        if not refresh:
            self._sign_in()
            return
        try:
            self._keep(dict(self._app.acquire_token_by_refresh_token(refresh, scopes=self._scopes)),
                       "renewing the sign-in")
        except (ValueError, OSError) as exc:
            raise AuthError(f"renewing the sign-in at {self._connection.authority} failed: {exc}") from None
