"""Simulated time: the wall clock plus an offset that tests can push forward.

Token lifetimes, the recycle bin's 30 days and other expiries read this clock, so a test proves what
happens after a month without waiting for one.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


class SimClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Simulated seconds since the epoch."""
        with self._lock:
            return time.time() + self._offset

    def sleep(self, seconds: float) -> None:
        """Wait in real time; simulated time passes along with it."""
        if seconds > 0:
            time.sleep(seconds)

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward without waiting."""
        with self._lock:
            self._offset += seconds

    def utc_now(self) -> str:
        """Simulated now as directory objects stamp it: whole seconds, 'Z' suffix."""
        return datetime.fromtimestamp(self.now(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
