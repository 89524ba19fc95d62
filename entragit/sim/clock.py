"""The simulator's one clock: every window, quota, delay and expiry reads time from here.

Simulated seconds run `1 / time_scale` times faster than real ones: with time_scale 0.01 the 150 s write
window passes in 1.5 real seconds, so quota-bound work can be benchmarked in minutes while its ratio to the
quota floor stays what it would be against a real tenant. Everything inside the simulator counts in
simulated seconds; only what crosses to the real world (a sleep, a Retry-After header a client obeys) is
scaled back to real seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def _unscaled() -> float:
    return 1.0


class SimClock:
    def __init__(self, time_scale: Callable[[], float] = _unscaled) -> None:
        # A callable, so that flipping Settings.time_scale while the server runs takes effect at once.
        self._time_scale = time_scale
        self._lock = threading.Lock()
        self._scale = time_scale()
        self._real_anchor = time.monotonic()
        self._sim_anchor = self._real_anchor

    def now(self) -> float:
        """Monotonic simulated seconds (plus whatever advance() added)."""
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

    def advance(self, seconds: float) -> None:
        """Jump forward without waiting, so tests can let windows refill or tokens expire instantly."""
        with self._lock:
            self._sim_anchor += seconds
