"""What happens to a Graph request between the socket and its handler.

In order: injected faults (the front door fails before anything else), authentication, `$batch` fan-out,
and for every Graph request, batch items included, a throttling charge, replication lag and the handler;
then latency: the answer is due that long after the request was taken up, and the server holds it until then,
after the tenant's lock is released so that waiting requests do not queue behind it.
"""

from __future__ import annotations

import base64
import json
import time
from functools import partial
from typing import Any

from entragit.sim.audit import AuditLog
from entragit.sim.batch import Batch
from entragit.sim.clock import SimClock
from entragit.sim.errors import GraphFault, method_not_allowed
from entragit.sim.faults import Faults, injected_error
from entragit.sim.graph import GraphApi, GraphRequest, GraphResponse
from entragit.sim.permissions import check_permission
from entragit.sim.settings import Settings
from entragit.sim.stats import Stats, path_key
from entragit.sim.throttle import Throttle, Throttled

BATCH_SEGMENT = "$batch"


def items_in(body: dict[str, Any] | None) -> int:
    """How many items an answer returns, for the per-item latency: list entries, else one entity."""
    if body is None:
        return 0
    if isinstance(body.get("value"), list):
        return len(body["value"])
    if isinstance(body.get("responses"), list):
        return sum(items_in(entry.get("body")) for entry in body["responses"])
    return 1


def token_claims(request: GraphRequest) -> dict[str, Any]:
    """The claims of the request's bearer token, which the simulator issued and has just accepted."""
    token = (request.headers.get("Authorization") or "").partition(" ")[2].strip()
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, TypeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def app_id_of(request: GraphRequest) -> str:
    """The calling app, from the appid claim."""
    return str(token_claims(request).get("appid", ""))


class Gateway:
    def __init__(self, graph: GraphApi, settings: Settings, clock: SimClock, stats: Stats, seed: int, audit: AuditLog) -> None:
        self.graph = graph
        self.audit = audit
        self.settings = settings
        self.clock = clock
        self.stats = stats
        self.faults = Faults(settings, clock, seed)
        self.throttle = Throttle(settings, clock, graph.tenant.tenant_id)
        self.batch = Batch(settings, seed)

    def handle(self, request: GraphRequest) -> GraphResponse:
        """One HTTP request to Graph, /v1.0 or /beta (the server's entry point)."""
        self.stats.add(http_requests=1)
        effects = self.faults.select(request.raw_path, outer=True)
        if effects is not None:
            self.stats.add(faults=1)
            request.cut = effects.cut
            self.clock.sleep(effects.delay)
        # Latency counts from here, as a client would see Graph's: the time the simulator takes to answer
        # (Python, far slower than Graph's own work) is part of it, not added to it. The server holds
        # the answer until it is due, so that writing it out is part of it too.
        arrived = time.monotonic()
        try:
            if effects is not None and effects.status:
                raise injected_error(effects.status, self.settings.fault_retry_after, self.settings)
            self.graph.authenticate(request)
            response = self._route(request, token_claims(request))
        except GraphFault:
            self.clock.sleep(self.settings.latency_base)
            raise
        response.due = self.clock.after(arrived, self.settings.latency_base
                                        + self.settings.latency_per_item * items_in(response.body))
        accepted = (request.headers.get("Accept-Encoding") or "").lower()
        response.gzip = self.settings.gzip_responses and "gzip" in accepted
        return response

    def _route(self, request: GraphRequest, claims: dict[str, Any]) -> GraphResponse:
        if [s.lower() for s in request.segments] != [BATCH_SEGMENT]:
            return self._charged(request, claims)
        if request.method != "POST":
            raise method_not_allowed()
        self.stats.add(path_key(request.method, request.segments, request.version), batches=1)
        return self.batch.run(request, partial(self._item, claims=claims))

    def _item(self, request: GraphRequest, claims: dict[str, Any]) -> GraphResponse:
        """A $batch item: a request of its own for injected statuses and throttling (graph-behaviour §3)."""
        effects = self.faults.select(request.raw_path, outer=False)
        if effects is not None:
            self.stats.add(faults=1)
            raise injected_error(effects.status, self.settings.fault_retry_after, self.settings)
        return self._charged(request, claims)

    def _charged(self, request: GraphRequest, claims: dict[str, Any]) -> GraphResponse:
        app_id = str(claims.get("appid", ""))
        self.stats.add(path_key(request.method, request.segments, request.version), requests=1)
        # Checked per request, $batch items included: a batch carries its caller's token for every item.
        check_permission(request.method, request.segments, claims)
        users = len(self.graph.tenant.objects["users"])
        try:
            charge = self.throttle.charge(request.method, request.segments, request.pairs, app_id, users)
        except Throttled as refused:
            self.stats.add(throttled=1, resource_units=refused.units, writes=refused.writes)
            raise
        self.stats.add(resource_units=charge.units, writes=charge.writes)
        try:
            self.faults.check_lag(request.method, request.segments)
            if request.method == "GET":
                response = self.graph.dispatch(request)
                if any(name.lower() == "$filter" for name, _ in request.pairs):
                    self.faults.leave_out_lagging(response.body)
            else:
                with self.audit.recording(claims):
                    response = self.graph.dispatch(request)
        except GraphFault as fault:
            fault.headers.update(charge.headers)
            raise
        response.headers.update(charge.headers)
        if response.status == 201 and response.body is not None and "id" in response.body:
            self.faults.created(str(response.body["id"]))
        return response
