"""Progress on long work: a line that updates itself on a terminal; in CI, a line every half minute, so a
job's log shows it is alive; nothing at all in a pipe or with --quiet."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping
from typing import TextIO

from entragit import output
from entragit.printable import printable

HEARTBEAT_SECONDS = 30.0


def in_ci(environ: Mapping[str, str] = os.environ) -> bool:
    """CI is what most platforms set; Azure Pipelines sets TF_BUILD instead."""
    return bool(environ.get("CI") or environ.get("TF_BUILD") or environ.get("GITHUB_ACTIONS"))


class Progress:
    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None,
                 heartbeat: float | None = None) -> None:
        self._stream = stream or sys.stderr
        quiet = output.current.quiet
        if enabled is None:
            enabled = self._stream.isatty() and not in_ci() and not quiet
        self.enabled = enabled
        if heartbeat is None and in_ci() and not enabled and not quiet:
            heartbeat = HEARTBEAT_SECONDS
        self.heartbeat = heartbeat
        self._width = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._latest = ""
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._beating: threading.Thread | None = None

    def __call__(self, what: str, count: int) -> None:
        """How far the read of one type has got; types are read side by side, so all are shown."""
        with self._lock:
            self._counts[what] = count
            text = "reading " + ", ".join(f"{name} {n}" for name, n in self._counts.items())
        self.update(text)

    def update(self, text: str) -> None:
        text = printable(text)  # a newline or an escape sequence would break the line that rewrites itself
        self._latest = text
        if self.heartbeat is not None and self._beating is None:
            self._beating = threading.Thread(target=self._beat, args=(self.heartbeat,), daemon=True,
                                             name="entragit-heartbeat")
            self._beating.start()
        if not self.enabled:
            return
        with self._lock:
            self._stream.write("\r" + text[-200:].ljust(self._width))
            self._stream.flush()
            self._width = min(len(text), 200)

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self._stream.write(f"still working, {time.monotonic() - self._started:.0f} s: {self._latest}\n")
                self._stream.flush()
            except (ValueError, OSError):  # the stream closed under a run that ended by an error
                return

    def done(self) -> None:
        self._stop.set()
        if self._beating is not None:
            self._beating.join()
        if self.enabled and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0
