"""The identity and access throttling model of graph-behaviour §4: resource units, write quota, Conditional Access.

Every directory request has a cost in resource units (RU), from a table of documented base costs and
modifiers, and is answered with `x-ms-resource-unit`. With `Settings.throttling` on, the costs are drawn from
token buckets per app+tenant (RU per 10 s by tenant size, writes per 150 s); Conditional Access has its own
limit of 1 request per second per tenant for all apps, whose 429s carry no Retry-After (graph-behaviour §4, documented).
A request made while throttled is still charged (graph-behaviour §4), so a client that ignores Retry-After stays
throttled.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from entragit.sim.clock import SimClock
from entragit.sim.errors import GraphFault
from entragit.sim.settings import Settings


@dataclass(frozen=True)
class CostRule:
    method: str
    template: tuple[str, ...]  # '*' matches any one segment
    units: int
    # POST directoryObjects/getByIds costs 2 with $select instead of the usual −1 (graph-behaviour §4).
    units_with_select: int | None = None


def _rule(method: str, path: str, units: int, units_with_select: int | None = None) -> CostRule:
    return CostRule(method, tuple(path.lower().split("/")), units, units_with_select)


# Base costs (graph-behaviour §4); anything not listed costs 1. The POSTs listed are reads and cost no write.
# `users/{id}/...` lists cost what `me/...` lists cost; a user's manager is a single object, not a list.
COSTS: tuple[CostRule, ...] = (
    _rule("GET", "users", 2),
    _rule("GET", "users/*/*", 2),
    _rule("GET", "users/*/manager", 1),
    _rule("GET", "me/*", 2),
    _rule("GET", "applications", 2),
    _rule("GET", "applications/*/extensionProperties", 2),
    _rule("GET", "groups/*/members", 3),
    _rule("GET", "groups/*/transitiveMembers", 5),
    _rule("GET", "oauth2PermissionGrants", 2),
    _rule("GET", "servicePrincipals/*/appRoleAssignments", 2),
    _rule("GET", "subscribedSkus", 3),
    _rule("GET", "contracts", 3),
    _rule("POST", "directoryObjects/getByIds", 5, units_with_select=2),
    _rule("POST", "directoryObjects/getObjectsById", 5, units_with_select=2),
    _rule("POST", "isMemberOf", 4),
    _rule("POST", "*/*/checkMemberGroups", 4),
)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# Conditional Access and named locations live on the identity protection / CA backend (graph-behaviour §4).
CONDITIONAL_ACCESS_PREFIX = ("identity", "conditionalaccess")

RU_WINDOW_SECONDS = 10.0
WRITE_WINDOW_SECONDS = 150.0
CA_WINDOW_SECONDS = 1.0
WRITE_QUOTA = 3000
# Tenant size by user count -> RU per 10 s per app+tenant (graph-behaviour §4).
RU_QUOTAS: tuple[tuple[int, int], ...] = ((50, 3500), (501, 5000))
LARGE_TENANT_RU_QUOTA = 8000


def ru_quota_for(users: int) -> int:
    return next((quota for below, quota in RU_QUOTAS if users < below), LARGE_TENANT_RU_QUOTA)


@dataclass(frozen=True)
class Cost:
    units: int
    writes: int


def _matches(template: tuple[str, ...], segments: Sequence[str]) -> bool:
    return len(template) == len(segments) and all(t in ("*", s.lower()) for t, s in zip(template, segments))


def cost_of(method: str, segments: Sequence[str], pairs: Sequence[tuple[str, str]]) -> Cost:
    candidates = [rule for rule in COSTS if rule.method == method and _matches(rule.template, segments)]
    # Literal segments beat wildcards, as in the router: users/{id}/manager is not users/{id}/{list}.
    rule = max(candidates, key=lambda r: [t != "*" for t in r.template], default=None)
    if rule is None and method in WRITE_METHODS:
        return Cost(1, 1)
    units = rule.units if rule is not None else 1
    options = {key.lower(): value for key, value in pairs}
    if "$select" in options:
        units = rule.units_with_select if rule is not None and rule.units_with_select is not None else units - 1
    if "$expand" in options:
        units += 1
    top = options.get("$top", "")
    if top.isdigit() and int(top) < 20:
        units -= 1
    return Cost(max(units, 1), 0)


def is_conditional_access(segments: Sequence[str]) -> bool:
    return tuple(s.lower() for s in segments[: len(CONDITIONAL_ACCESS_PREFIX)]) == CONDITIONAL_ACCESS_PREFIX


class Bucket:
    """A token bucket refilling `capacity` tokens per `window` simulated seconds."""

    def __init__(self, capacity: int, window: float, now: float) -> None:
        self.window = window
        self.level = float(capacity)
        self.updated = now

    def take(self, amount: int, now: float, capacity: int) -> float:
        """Charge `amount`; 0 when admitted, else the simulated seconds until `amount` is available again.
        `capacity` is passed on every charge because the quota follows the tenant's size as it changes."""
        rate = capacity / self.window
        self.level = min(float(capacity), self.level + (now - self.updated) * rate)
        self.updated = now
        if self.level >= amount:
            self.level -= amount
            return 0.0
        # Throttled requests still count (graph-behaviour §4). The debt is capped at one window's worth, an assumption
        # that keeps a client that hammered once from being locked out for longer than a window.
        self.level = max(self.level - amount, -float(capacity))
        return (amount - self.level) / rate


def retry_after_value(seconds: float) -> str:
    """Retry-After in real seconds; Graph sends fractions such as '2.128' (graph-behaviour §4 doc sample)."""
    return f"{max(seconds, 0.001):.3f}".rstrip("0").rstrip(".")


class Throttled(GraphFault):
    """429 with the innerError fields of the doc sample in graph-behaviour §4 (code, message and status besides the
    ids)."""

    def __init__(self, code: str, headers: dict[str, str], units: int = 0, writes: int = 0) -> None:
        super().__init__(429, code, "Please retry again later.", headers=headers)
        # What the refused request was still charged (graph-behaviour §4), for the statistics.
        self.units = units
        self.writes = writes

    def body(self, request_id: str, client_request_id: str) -> dict[str, Any]:
        body = super().body(request_id, client_request_id)
        inner = body["error"]["innerError"]
        body["error"]["innerError"] = {
            "code": "429",
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
            "message": "Please retry after",
            **inner,
            "status": "429",
        }
        return body


@dataclass(frozen=True)
class Charge:
    units: int
    writes: int
    # Headers for the answer: x-ms-resource-unit on directory responses, nothing on CA ones.
    headers: dict[str, str]


class Throttle:
    def __init__(self, settings: Settings, clock: SimClock, tenant_id: str) -> None:
        self.settings = settings
        self.clock = clock
        self.tenant_id = tenant_id
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def _take(self, key: tuple[str, str], amount: int, capacity: int, window: float) -> float:
        now = self.clock.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(capacity, window, now)
        return bucket.take(amount, now, capacity)

    def charge(self, method: str, segments: Sequence[str], pairs: Sequence[tuple[str, str]], app_id: str, users: int) -> Charge:
        """Charge one request to `app_id`; raises Throttled when throttling is on and a quota is spent."""
        settings = self.settings
        if is_conditional_access(segments):
            if settings.throttling:
                with self._lock:
                    wait = self._take(("ca", self.tenant_id), 1, 1, CA_WINDOW_SECONDS)
                if wait:
                    # No Retry-After here, ever: clients must back off on their own (graph-behaviour §4, documented).
                    raise Throttled(settings.throttle_code, {})
            return Charge(0, 0, {})
        cost = cost_of(method, segments, pairs)
        headers = {"x-ms-resource-unit": str(cost.units)}
        if not settings.throttling:
            return Charge(cost.units, cost.writes, headers)
        ru_quota = settings.ru_quota or ru_quota_for(users)
        with self._lock:
            ru_wait = self._take(("ru", app_id), cost.units, ru_quota, RU_WINDOW_SECONDS)
            write_wait = 0.0
            if cost.writes:
                write_wait = self._take(("write", app_id), cost.writes, settings.write_quota or WRITE_QUOTA, WRITE_WINDOW_SECONDS)
        if not (ru_wait or write_wait):
            return Charge(cost.units, cost.writes, headers)
        scope, information = ("Write", "WriteLimitExceeded") if write_wait else ("ReadWrite", "ResourceUnitLimitExceeded")
        headers["x-ms-throttle-scope"] = f"Tenant_Application/{scope}/{app_id}/{self.tenant_id}"
        headers["x-ms-throttle-information"] = information
        if settings.throttle_retry_after:
            headers["Retry-After"] = retry_after_value(max(ru_wait, write_wait) * settings.time_scale)
        raise Throttled(settings.throttle_code, headers, cost.units, cost.writes)
