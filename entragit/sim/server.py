"""HTTPS on loopback: TLS, HTTP/1.1 framing, Graph's response envelope, and dispatch to sign-in or Graph."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import logging
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from entragit.sim.auth import APP_SERVICE_IDENTITY_PATH, Authority, TokenError
from entragit.sim.errors import GraphFault
from entragit.sim.faults import CutWriter
from entragit.sim.graph import GraphRequest, GraphResponse, build_request

log = logging.getLogger("entragit.sim")

GRAPH_CONTENT_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
LOGIN_CONTENT_TYPE = "application/json; charset=utf-8"
# /users/$count answers a bare integer; the exact content type is [UNCONFIRMED] (graph-behaviour §1).
TEXT_CONTENT_TYPE = "text/plain;charset=utf-8"
# Graph's API versions, each the first segment of a Graph path: the same tenant under both, and some
# resources under beta only (learn.microsoft.com/graph/versioning-and-support).
GRAPH_VERSIONS = ("v1.0", "beta")
# An idle keep-alive connection is dropped after this long, so abandoned clients do not pin threads.
IDLE_TIMEOUT_SECONDS = 60
# What writing to a client that has gone raises: a reset or closed TCP connection, or TLS cut without its
# closing message.
_HUNG_UP = (ConnectionError, ssl.SSLEOFError)


class GraphHandler(Protocol):
    def handle(self, request: GraphRequest) -> GraphResponse: ...


class SimServer(ThreadingHTTPServer):
    """Accepts plain TCP and wraps each connection in TLS; the handshake runs in the connection's thread,
    so one slow or failing client never blocks the accept loop."""

    daemon_threads = True

    def __init__(self, host: str, port: int, context: ssl.SSLContext, graph: GraphHandler, authority: Authority) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.tls = context
        self.graph = graph
        self.authority = authority
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = self.socket.accept()
        return self.tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False), address

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that reject the certificate or hang up mid-request are normal here, not worth a traceback.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        """Cut keep-alive connections still open, so that stop() really stops serving."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _json_bytes(body: dict[str, Any] | None) -> bytes | None:
    return None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, delayed ACKs add ~40 ms to every response.
    disable_nagle_algorithm = True
    server: SimServer

    def setup(self) -> None:
        self.request.settimeout(IDLE_TIMEOUT_SECONDS)
        self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _dispatch(self) -> None:
        self._cut = ""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request_id = str(uuid.uuid4())
        client_request_id = self.headers.get("client-request-id") or request_id
        envelope = {"request-id": request_id, "client-request-id": client_request_id}
        url = urlsplit(self.path)
        version, _, rest = url.path.lstrip("/").partition("/")
        try:
            if version in GRAPH_VERSIONS:
                self._graph(version, rest, url.query, body, envelope)
            else:
                self._login(url.path, url.query, body, envelope)
        except GraphFault as fault:
            headers = {**envelope, **fault.headers}
            self._send(fault.status, fault.body(request_id, client_request_id), GRAPH_CONTENT_TYPE, headers)
        except TokenError as error:
            self._send(error.status, error.body(), LOGIN_CONTENT_TYPE, envelope)
        except Exception:
            log.exception("simulator failed on %s %s", self.command, self.path)
            crash = GraphFault(500, "generalException", "An unexpected error occurred in the simulated tenant.")
            self._send(500, crash.body(request_id, client_request_id), GRAPH_CONTENT_TYPE, envelope)

    def _graph(self, version: str, raw_path: str, raw_query: str, body: bytes, envelope: dict[str, str]) -> None:
        request = build_request(self.command, raw_path, raw_query, self.headers, body, version)
        try:
            response = self.server.graph.handle(request)
        finally:
            self._cut = request.cut
        headers = {**envelope, "Cache-Control": "no-cache", "OData-Version": "4.0", **response.headers}
        payload: bytes | None
        if response.text is not None:
            payload, content_type = response.text.encode("utf-8"), TEXT_CONTENT_TYPE
        else:
            payload, content_type = _json_bytes(response.body), GRAPH_CONTENT_TYPE
        if response.gzip and payload:
            # Level 1: the simulator's own work counts in its latency, and ratio matters less than speed here.
            payload = gzip.compress(payload, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        time.sleep(max(0.0, response.due - time.monotonic()))
        self._send_raw(response.status, payload, content_type, headers)

    def _login(self, path: str, query: str, body: bytes, envelope: dict[str, str]) -> None:
        authority = self.server.authority
        if path == "/metadata/identity/oauth2/token" and self.command == "GET":
            # Where an Azure VM asks for its managed identity's token: IMDS, on the same host here.
            token = authority.managed_identity_token(dict(parse_qsl(query)), self.headers.get("Metadata"))
            self._send(200, token, "application/json; charset=utf-8", envelope)
            return
        if path == APP_SERVICE_IDENTITY_PATH and self.command == "GET":
            # Where an App Service or Functions app asks for its managed identity's token (IDENTITY_ENDPOINT).
            token = authority.app_service_token(dict(parse_qsl(query)), self.headers.get("X-IDENTITY-HEADER"))
            self._send(200, token, "application/json; charset=utf-8", envelope)
            return
        parts = [unquote(p) for p in path.strip("/").split("/")]
        tenant, route = parts[0], "/".join(parts[1:]).lower()
        if route == "v2.0/.well-known/openid-configuration" and self.command == "GET":
            self._send(200, authority.openid_configuration(tenant), LOGIN_CONTENT_TYPE, envelope)
        elif route == "oauth2/v2.0/token" and self.command == "POST":
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            self._send(200, authority.token(tenant, form, self._basic_credentials()), LOGIN_CONTENT_TYPE, envelope)
        elif route == "oauth2/v2.0/devicecode" and self.command == "POST":
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            self._send(200, authority.device_code(tenant, form), LOGIN_CONTENT_TYPE, envelope)
        elif route == "discovery/v2.0/keys" and self.command == "GET":
            # Tokens are opaque to clients; the simulator publishes no signing keys.
            self._send(200, {"keys": []}, LOGIN_CONTENT_TYPE, envelope)
        else:
            raise GraphFault(404, "NotFound", f"No endpoint at '{path}'.")

    def _basic_credentials(self) -> tuple[str, str] | None:
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        # RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
        return unquote(user.replace("+", " ")), unquote(password.replace("+", " "))

    def _send(self, status: int, body: dict[str, Any] | None, content_type: str, headers: dict[str, str]) -> None:
        self._send_raw(status, _json_bytes(body), content_type, headers)

    def _send_raw(self, status: int, payload: bytes | None, content_type: str, headers: dict[str, str]) -> None:
        if self._cut:
            self.wfile = CutWriter(self.wfile, self._cut)  # type: ignore[assignment]
            self.close_connection = True
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status == 204:
                # 204 carries neither a body nor a Content-Length (RFC 9110 §8.6).
                self.end_headers()
                return
            if payload is not None:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload or b"")))
            self.end_headers()
            self.wfile.write(payload or b"")
        except _HUNG_UP:
            # A client that goes before its answer (a process killed mid-request) is a server's daily lot:
            # the answer is dropped with the connection. Only the writing is covered: a failure in
            # answering itself still reaches _dispatch, which logs it.
            log.debug("%s hung up before the answer to %s %s", self.address_string(), self.command, self.path)
            self.close_connection = True
