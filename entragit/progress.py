"""Progress on long work: a line that updates itself on a terminal, nothing at all in CI or a pipe."""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

from entragit.printable import printable


class Progress:
    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        if enabled is None:
            enabled = self._stream.isatty() and not os.environ.get("CI")
        self.enabled = enabled
        self._width = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, what: str, count: int) -> None:
        """How far the read of one type has got; types are read side by side, so all are shown."""
        with self._lock:
            self._counts[what] = count
            text = "reading " + ", ".join(f"{name} {n}" for name, n in self._counts.items())
        self.update(text)

    def update(self, text: str) -> None:
        if not self.enabled:
            return
        text = printable(text)  # a newline or an escape sequence would break the line that rewrites itself
        with self._lock:
            self._stream.write("\r" + text[-200:].ljust(self._width))
            self._stream.flush()
            self._width = min(len(text), 200)

    def done(self) -> None:
        if self.enabled and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0
