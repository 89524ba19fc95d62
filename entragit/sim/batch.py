"""JSON batching, `POST /v1.0/$batch` and `POST /beta/$batch` (graph-behaviour §3).

A batch parses as a whole or fails as a whole with an outer 400; once it parses, the outer status is 200
whatever happens to the items. Each item goes through the same path as a direct request (same caller,
charged separately by the throttling model, so items can come back 429 with their own Retry-After).
Items run in request order except where `dependsOn` makes them wait; an item whose dependency failed is
not run and gets 424. Answers come back in another order than asked (Settings.batch_shuffle), because Graph
may reorder them and a client must match answers by id.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from entragit.sim.errors import GraphFault, bad_request
from entragit.sim.graph import GraphRequest, GraphResponse, Headers, build_request
from entragit.sim.server import GRAPH_CONTENT_TYPE
from entragit.sim.settings import Settings

MAX_REQUESTS = 20
METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})
# Outer 400s use the generic code; which messages real Graph sends is known for one case only.
BATCH_CODE = "BadRequest"
# [UNCONFIRMED] (graph-behaviour §3, §10): the text reported for a batch over the limit by one public issue
# (microsoftgraph/microsoftgraph-postman-collections#9); real Graph may word it otherwise.
TOO_MANY_REQUESTS = "Number of requests inside batch exceeds the limit."
# Observed wording (msgraph-sdk-dotnet#2628): a write item without Content-Type or without a body fails the
# whole batch, before any item runs, rather than failing that item alone.
MISSING_CONTENT_TYPE = "Write request id : {id} does not contain Content-Type header or body."
# The simulator's own wording for the remaining malformed batches.
INVALID_PAYLOAD = "Invalid batch payload format."
DUPLICATE_ID = "Batch request contains duplicate request id '{id}'."
UNKNOWN_DEPENDENCY = "Request id '{id}' depends on request id '{dependency}', which is not in the batch."
CIRCULAR_DEPENDENCY = "The dependsOn of the batch requests form a cycle."
FAILED_DEPENDENCY = "The request was not executed because a request it depends on failed."

Send = Callable[[GraphRequest], GraphResponse]


@dataclass(frozen=True)
class Item:
    id: str
    method: str
    url: str
    headers: dict[str, str]  # names lower-cased
    body: Any
    has_body: bool
    depends_on: tuple[str, ...]  # ids lower-cased

    @property
    def key(self) -> str:
        return self.id.lower()  # ids compare case-insensitively (graph-behaviour §3)


class ItemHeaders:
    """An item's own headers; the caller's credentials come from the batch request itself."""

    def __init__(self, own: dict[str, str], outer: Headers) -> None:
        self._own = own
        self._outer = outer

    def get(self, name: str, /) -> str | None:
        if name.lower() == "authorization":
            return self._outer.get(name)
        return self._own.get(name.lower())


def _invalid() -> GraphFault:
    return bad_request(INVALID_PAYLOAD, code=BATCH_CODE)


def _item(raw: Any) -> Item:
    if not isinstance(raw, dict):
        raise _invalid()
    item_id, method, url = raw.get("id"), raw.get("method"), raw.get("url")
    headers, depends_on = raw.get("headers") or {}, raw.get("dependsOn") or []
    if not (isinstance(item_id, str) and item_id and isinstance(method, str) and isinstance(url, str)):
        raise _invalid()
    if method.upper() not in METHODS or not isinstance(headers, dict) or not isinstance(depends_on, list):
        raise _invalid()
    if not all(isinstance(v, str) for v in [*headers.values(), *depends_on]):
        raise _invalid()
    return Item(
        id=item_id,
        method=method.upper(),
        url=url,
        headers={str(k).lower(): v for k, v in headers.items()},
        body=raw.get("body"),
        has_body=raw.get("body") is not None,
        depends_on=tuple(d.lower() for d in depends_on),
    )


def parse_batch(request: GraphRequest) -> list[Item]:
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise _invalid() from None
    raw_items = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(raw_items, list):
        raise _invalid()
    if len(raw_items) > MAX_REQUESTS:
        raise bad_request(TOO_MANY_REQUESTS, code=BATCH_CODE)
    items = [_item(raw) for raw in raw_items]
    seen: set[str] = set()
    for item in items:
        if item.key in seen:
            raise bad_request(DUPLICATE_ID.format(id=item.id), code=BATCH_CODE)
        seen.add(item.key)
        if (item.has_body or item.method in BODY_METHODS) and not (item.has_body and "content-type" in item.headers):
            raise bad_request(MISSING_CONTENT_TYPE.format(id=item.id), code=BATCH_CODE)
    for item in items:
        for dependency in item.depends_on:
            if dependency not in seen:
                raise bad_request(UNKNOWN_DEPENDENCY.format(id=item.id, dependency=dependency), code=BATCH_CODE)
    return items


def run_order(items: list[Item]) -> list[Item]:
    """Request order, except that an item waits for everything it depends on."""
    done: set[str] = set()
    order: list[Item] = []
    while len(order) < len(items):
        ready = next((i for i in items if i.key not in done and all(d in done for d in i.depends_on)), None)
        if ready is None:
            raise bad_request(CIRCULAR_DEPENDENCY, code=BATCH_CODE)
        order.append(ready)
        done.add(ready.key)
    return order


def _answer(item_id: str, status: int, headers: dict[str, str], body: dict[str, Any] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": item_id,
        "status": status,
        "headers": {"Cache-Control": "no-cache", "OData-Version": "4.0", **headers},
    }
    if body is not None:  # a 204 item has no body (graph-behaviour §3)
        entry["headers"]["Content-Type"] = GRAPH_CONTENT_TYPE
        entry["body"] = body
    return entry


class Batch:
    def __init__(self, settings: Settings, seed: int) -> None:
        self.settings = settings
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def run(self, request: GraphRequest, send: Send) -> GraphResponse:
        items = parse_batch(request)
        answers: dict[str, dict[str, Any]] = {}
        for item in run_order(items):
            if any(answers[d]["status"] >= 400 for d in item.depends_on):
                fault = GraphFault(424, "FailedDependency", FAILED_DEPENDENCY)
                answers[item.key] = self._fault(item, fault)
            else:
                answers[item.key] = self._run(item, request, send)
        responses = [answers[item.key] for item in items]
        if self.settings.batch_shuffle:
            responses = self._reorder(responses)
        return GraphResponse(200, {"responses": responses})

    def _run(self, item: Item, outer: GraphRequest, send: Send) -> dict[str, Any]:
        # url is relative to the batch's own version: '/users' and 'users' are the same (graph-behaviour §3).
        target = urlsplit(item.url)
        body = json.dumps(item.body).encode("utf-8") if item.has_body else b""
        headers = ItemHeaders(item.headers, outer.headers)
        try:
            response = send(build_request(item.method, target.path.lstrip("/"), target.query, headers, body,
                                          outer.version))
        except GraphFault as fault:
            return self._fault(item, fault)
        return _answer(item.id, response.status, response.headers, response.body)

    def _fault(self, item: Item, fault: GraphFault) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        client_request_id = item.headers.get("client-request-id") or request_id
        return _answer(item.id, fault.status, fault.headers, fault.body(request_id, client_request_id))

    def _reorder(self, responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._lock:
            shuffled = self._rng.sample(responses, len(responses))
        if len(shuffled) > 1 and shuffled == responses:
            # Always differ from the request order, so a client relying on it fails every time, not by chance.
            shuffled = shuffled[1:] + shuffled[:1]
        return shuffled
