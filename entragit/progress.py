"""Progress on long work: a line that updates itself on a terminal, nothing at all in CI or a pipe."""

from __future__ import annotations

import os
import sys
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        if enabled is None:
            enabled = self._stream.isatty() and not os.environ.get("CI")
        self.enabled = enabled
        self._width = 0

    def __call__(self, what: str, count: int) -> None:
        self.update(f"reading {what}: {count}")

    def update(self, text: str) -> None:
        if not self.enabled:
            return
        self._stream.write("\r" + text.ljust(self._width))
        self._stream.flush()
        self._width = len(text)

    def done(self) -> None:
        if self.enabled and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0
