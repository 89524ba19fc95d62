"""Graph's error envelope, kept in one place so every endpoint fails the same way Graph does."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


class GraphFault(Exception):
    """A Graph error response. Raised anywhere below a handler; the server turns it into the OData body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self, request_id: str, client_request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        # Graph's innerError date has neither a fraction nor a 'Z' (graph-behaviour §0); clients that parse it strictly
        # break otherwise.
        error["innerError"] = {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": request_id,
            "client-request-id": client_request_id,
        }
        return {"error": error}


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphFault:
    return GraphFault(400, code, message)


def unsupported_query(message: str) -> GraphFault:
    return GraphFault(400, "Request_UnsupportedQuery", message)


def resource_not_found(key: str, code: str = "Request_ResourceNotFound") -> GraphFault:
    return GraphFault(
        404, code, f"Resource '{key}' does not exist or one of its queried reference-property objects are not present."
    )


def segment_not_found(segment: str) -> GraphFault:
    return bad_request(f"Resource not found for the segment '{segment}'.")


def method_not_allowed() -> GraphFault:
    return GraphFault(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")


def unauthenticated(message: str, authorization_uri: str) -> GraphFault:
    # Real Graph points the client at the authority in WWW-Authenticate; some SDKs read it on 401.
    challenge = f'Bearer realm="", authorization_uri="{authorization_uri}", client_id="00000003-0000-0000-c000-000000000000"'
    return GraphFault(401, "InvalidAuthenticationToken", message, headers={"WWW-Authenticate": challenge})
