"""The simulator's one clock: every window, quota, delay and expiry reads time from here.

Simulated seconds run `1 / time_scale` times faster than real ones: with time_scale 0.01 the 150 s write
window passes in 1.5 real seconds, so quota-bound work can be benchmarked in minutes while its ratio to the
quota floor stays what it would be against a real tenant. Everything inside the simulator counts in
simulated seconds; only what crosses to the real world (a sleep, a Retry-After header a client obeys) is
scaled back to real seconds. Tests can also push time forward (advance), so token lifetimes, the recycle
bin's 30 days and other expiries can be proved without waiting for them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone


def _unscaled() -> float:
    return 1.0


class SimClock:
    def __init__(self, time_scale: Callable[[], float] = _unscaled) -> None:
        # A callable, so that flipping Settings.time_scale while the server runs takes effect at once.
        self._time_scale = time_scale
        self._lock = threading.Lock()
        self._scale = time_scale()
        self._real_anchor = time.monotonic()
        # Anchored on the wall clock so that simulated time can stamp objects (utc_now), and advanced
        # by the monotonic clock so that it never runs backwards.
        self._sim_anchor = time.time()

    def now(self) -> float:
        """Simulated seconds since the epoch (plus whatever advance() added); never decreases."""
        real = time.monotonic()
        scale = self._time_scale()
        with self._lock:
            now = self._sim_anchor + (real - self._real_anchor) / self._scale
            if scale != self._scale:
                # Re-anchor on a change of scale: time already passed keeps the scale it passed under.
                self._sim_anchor, self._real_anchor, self._scale = now, real, scale
            return now

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of simulated time, i.e. seconds * time_scale of real time."""
        if seconds > 0:
            time.sleep(seconds * self._time_scale())

    def after(self, started: float, seconds: float) -> float:
        """The time.monotonic() value `seconds` of simulated time after `started` (another such value)."""
        return started + seconds * self._time_scale()

    def advance(self, seconds: float) -> None:
        """Jump forward without waiting, so tests can let windows refill or tokens expire instantly.

        Never back: tokens issued earlier would then be from the future."""
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._sim_anchor += seconds

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), timezone.utc)

    def utc_now(self) -> str:
        """Simulated now as directory objects stamp it: whole seconds, 'Z' suffix."""
        return datetime.fromtimestamp(self.now(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
