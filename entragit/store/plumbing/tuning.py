"""The interpreter's settings for a large snapshot's heavy work, applied by the Stager while it runs
and set back after: the threads that wait on Graph get the interpreter back promptly, and no cyclic
garbage collection stops every thread to walk a million objects holding no cycles."""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def tuned_for_bulk_work() -> Iterator[None]:
    with _prompt_readers(), _no_collector_pauses():
        yield


@contextlib.contextmanager
def _prompt_readers() -> Iterator[None]:
    """While a snapshot runs, a thread whose Graph answer has arrived gets the interpreter back within
    1 ms rather than Python's default 5: the thread following the user chain otherwise waits behind
    threads serializing files, on every one of a thousand pages (~3 ms a page in the benchmark)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, 0.001))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@contextlib.contextmanager
def _no_collector_pauses() -> Iterator[None]:
    """No cyclic garbage collection while a snapshot runs. A large tenant's objects are a million small
    dicts and lists, and each of the collector's full passes walks all of them with every thread stopped
    (in the benchmark: 14 passes, up to 0.4 s each, on the user chain) to find nothing: pages, objects
    and files hold no cycles. The few cycles requests leaves are collected later, as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Everything made meanwhile is still the youngest generation, which the first collection walks
        # whole (0.2 s at the end of a large snapshot). Moved to the oldest, it waits for that one's turn.
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()
