"""The simulated tenant's clock: real time plus an offset that tests advance instead of sleeping.

Anything that expires in simulated time (delta tokens after 7 days, page tokens) reads SimClock.now(), so a
test can move a week ahead in a microsecond and see exactly what a client would see after that week.
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
        """Seconds since the epoch, as the tenant sees it."""
        with self._lock:
            return time.time() + self._offset

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), timezone.utc)

    def advance(self, seconds: float) -> None:
        """Move the tenant's time forward; time never goes back, as tokens issued earlier would then be from the future."""
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._offset += seconds
