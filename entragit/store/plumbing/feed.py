"""A process fed one stream from the snapshot's threads (git fast-import, tar, git update-index)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from entragit.errors import StoreError
from entragit.recovery import run_env


class Feed:
    """A process fed one stream from the snapshot's threads: it starts with the first bytes and ends with
    a trailer when closed. A failure (a pipe it stopped reading early) is reported by close()."""

    def __init__(self, command: list[str], cwd: Path | None, trailer: bytes, failure: str,
                 env: dict[str, str] | None = None) -> None:
        self._command, self._cwd, self._trailer, self._failure = command, cwd, trailer, failure
        # Marked as this run's, as every git command of it is (see entragit.recovery).
        self._env = {**os.environ, **(env or {}), **run_env()}
        self._process: subprocess.Popen[bytes] | None = None
        self._errors: Any = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        # Its messages go to a file, not a pipe: when entragit is killed, a pipe's reader is gone and the
        # process's first message would kill it (SIGPIPE) before it cleans up (git fast-import then leaves
        # its half-written pack, tens of MB in a first snapshot).
        self._errors = tempfile.TemporaryFile()
        return subprocess.Popen(self._command, cwd=self._cwd, env=self._env, stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=self._errors)

    def feed(self, stream: bytes) -> None:
        if not stream:
            return
        with self._lock:
            if self._process is None:
                self._process = self._start()
            assert self._process.stdin is not None
            try:
                self._process.stdin.write(stream)
            except BrokenPipeError:
                pass  # the process stopped early; close() reports its exit status and message

    def close(self) -> None:
        """Wait until the process has done with everything it was fed."""
        with self._lock:
            process, self._process = self._process, None
            if process is None:
                return
            assert process.stdin is not None
            try:
                process.stdin.write(self._trailer)
                process.stdin.close()
            except BrokenPipeError:
                pass  # it stopped early; its exit status and message say why
            failed = process.wait() != 0
            with self._errors as errors:
                errors.seek(0)
                error = errors.read().decode(errors="replace")
            if failed:
                raise StoreError(f"{self._failure}: {error.strip()}")

