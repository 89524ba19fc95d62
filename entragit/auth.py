"""Tokens from Microsoft Entra ID through msal (client credentials)."""

from __future__ import annotations

import msal

from entragit.config import SECRET_ENV, Connection
from entragit.errors import AuthError
from entragit.session import new_session


class TokenProvider:
    """App-only tokens for Graph; msal caches them and asks for a new one shortly before expiry."""

    def __init__(self, connection: Connection) -> None:
        if not connection.client_secret:
            raise AuthError(f"no client secret for app {connection.client_id}: set {SECRET_ENV}")
        self._connection = connection
        self._app = msal.ConfidentialClientApplication(
            connection.client_id,
            client_credential=connection.client_secret,
            authority=connection.authority,
            http_client=new_session(connection.ca_bundle),
            # Instance discovery asks login.microsoftonline.com about the authority host; it is
            # configuration here (national clouds, the simulator), so trust it as given.
            instance_discovery=False,
        )

    def token(self) -> str:
        try:
            result = self._app.acquire_token_for_client(scopes=[self._connection.scope])
        except (ValueError, OSError) as exc:  # msal raises ValueError for an unusable authority
            raise AuthError(f"signing in at {self._connection.authority} failed: {exc}") from None
        if "access_token" not in result:
            description = (result.get("error_description") or "").split("\r\n")[0].split(" Trace ID:")[0]
            raise AuthError(
                f"signing in as app {self._connection.client_id} at {self._connection.authority} failed: "
                f"{result.get('error')}: {description}"
            )
        return str(result["access_token"])

    def invalidate(self) -> None:
        """Forget cached tokens, after Graph said the one we sent is no longer good."""
        self._app.remove_tokens_for_client()
