"""Counters of what the simulated tenant served, for benchmarks: `sim.stats.snapshot()`, `sim.stats.reset()`."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def path_key(method: str, segments: Sequence[str], version: str = "v1.0") -> str:
    """'GET groups/{id}/members': object ids (GUIDs, or UPNs in users/{upn}) folded so paths aggregate; a
    beta request's path begins 'beta/' ('GET beta/policies/...')."""
    shape = ["beta", *segments] if version == "beta" else segments
    return " ".join([method, "/".join("{id}" if _GUID.match(s) or "@" in s else s for s in shape)])


class Stats:
    FIELDS = ("http_requests", "requests", "batches", "resource_units", "writes", "throttled", "faults")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._paths: Counter[str] = Counter()

    def add(self, path: str | None = None, **counts: int) -> None:
        with self._lock:
            self._counts.update(counts)
            if path is not None:
                self._paths[path] += 1

    def __getattr__(self, name: str) -> int:
        if name in Stats.FIELDS:
            with self._lock:
                return self._counts[name]
        raise AttributeError(name)

    def snapshot(self) -> dict[str, Any]:
        """http_requests: HTTP requests to Graph (a $batch is one); requests: Graph requests, batch items
        included; resource_units and writes: what they were charged, throttled ones too; throttled: 429s of
        the throttling model; faults: injected faults; per_path: requests by method and path shape."""
        with self._lock:
            counts: dict[str, Any] = {name: self._counts[name] for name in Stats.FIELDS}
            counts["per_path"] = dict(self._paths)
            return counts

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._paths.clear()
