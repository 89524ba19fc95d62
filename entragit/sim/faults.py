"""Injected faults: error storms (429, 503, 504), slow answers, dropped connections, replication lag.

Which requests suffer is chosen by the `fault_*` selectors in Settings (path prefix, probability drawn from
a seeded generator so runs repeat, and a count of the next N requests that counts down as they fire); what
they suffer is `fault_status`, `fault_delay` and `fault_cut`. Replication lag is separate: a GET naming an
object created less than `replication_lag` seconds ago answers 404, and a filtered list leaves it out, as
Graph can right after a create (graph-behaviour §5).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from entragit.sim.clock import SimClock
from entragit.sim.errors import GraphFault, resource_not_found
from entragit.sim.settings import Settings
from entragit.sim.throttle import Throttled, retry_after_value

CUT_HEADERS = "headers"

# Injected statuses other than 429 use the generic codes of Graph's errors page, with its descriptions.
_INJECTED: dict[int, tuple[str, str]] = {
    503: (
        "serviceNotAvailable",
        "The service is temporarily unavailable for maintenance or is overloaded. You may repeat the request after "
        "a delay, the length of which may be specified in a Retry-After header.",
    ),
    # The code of a 504 is not documented; the errors page only says it may come together with 503.
    504: (
        "gatewayTimeout",
        "The server, while acting as a proxy, did not receive a timely response from the upstream server it needed "
        "to access in attempting to complete the request.",
    ),
}


@dataclass(frozen=True)
class Effects:
    status: int
    delay: float
    cut: str


def injected_error(status: int, retry_after: float | None, settings: Settings) -> GraphFault:
    headers = {} if retry_after is None else {"Retry-After": retry_after_value(retry_after * settings.time_scale)}
    if status == 429:
        return Throttled(settings.throttle_code, headers)
    code, message = _INJECTED.get(status, ("generalException", "An injected fault of the simulated tenant."))
    return GraphFault(status, code, message, headers=headers)


class Faults:
    def __init__(self, settings: Settings, clock: SimClock, seed: int) -> None:
        self.settings = settings
        self.clock = clock
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._created: dict[str, float] = {}

    def select(self, raw_path: str, outer: bool) -> Effects | None:
        """The faults this request suffers, or None. Cut and delay act on HTTP requests only (`outer`);
        a $batch item can only be answered with the injected status."""
        s = self.settings
        effects = Effects(s.fault_status, s.fault_delay if outer else 0.0, s.fault_cut if outer else "")
        if not (effects.status or effects.delay or effects.cut):
            return None
        if not raw_path.lower().startswith(s.fault_path.lower().lstrip("/")):
            return None
        with self._lock:
            if s.fault_count is not None and s.fault_count <= 0:
                return None
            if s.fault_probability < 1.0 and self._rng.random() >= s.fault_probability:
                return None
            if s.fault_count is not None:
                s.fault_count -= 1
        return effects

    # --- replication lag ---------------------------------------------------------------------------------

    def created(self, object_id: str) -> None:
        if self.settings.replication_lag > 0:
            with self._lock:
                self._created[object_id.lower()] = self.clock.now()

    def check_lag(self, method: str, segments: Sequence[str]) -> None:
        """Raise the 404 Graph gives when a GET reaches a replica the new object has not reached yet."""
        if method != "GET" or not self._created:
            return
        lagging = next((s for s in segments if s.lower() in self._lagging()), None)
        if lagging is not None:
            raise resource_not_found(lagging)

    def leave_out_lagging(self, body: dict[str, Any] | None) -> None:
        """A filtered list from such a replica (`id in (...)`) leaves the new object out."""
        if body is None or not isinstance(body.get("value"), list) or not self._created:
            return
        lagging = self._lagging()
        body["value"] = [item for item in body["value"] if str(item.get("id", "")).lower() not in lagging]

    def _lagging(self) -> set[str]:
        now = self.clock.now()
        with self._lock:
            self._created = {i: t for i, t in self._created.items() if now - t < self.settings.replication_lag}
            return set(self._created)


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


class CutWriter:
    """Stands in for a connection's output: lets part of one response through and swallows the rest.

    "headers" passes half the status line, so the client cannot parse a response at all (requests raises
    ConnectionError); "body" passes the head and half the body, so the client sees the connection end
    before Content-Length is reached (requests raises ChunkedEncodingError). The server closes the
    connection afterwards.
    """

    def __init__(self, inner: Writable, where: str) -> None:
        self._inner = inner
        self._where = where
        self._writes = 0
        self._done = False

    def write(self, data: bytes) -> int:
        if not self._done:
            self._writes += 1
            if self._where == CUT_HEADERS:
                self._inner.write(data[: data.find(b"\r\n") // 2])
                self._done = True
            elif self._writes == 1:
                self._inner.write(data)  # the head
            else:
                self._inner.write(data[: len(data) // 2])
                self._done = True
        return len(data)

    def flush(self) -> None:
        self._inner.flush()
