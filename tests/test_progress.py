from __future__ import annotations

import io
import threading

from entragit import output
from entragit.progress import HEARTBEAT_SECONDS, Progress


def test_progress_shows_every_type_being_read_on_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(stream, enabled=True)
    progress("users", 100)
    progress("groups", 20)
    progress("users", 205)
    progress.done()
    assert "reading users 205, groups 20" in stream.getvalue()
    assert stream.getvalue().endswith("\r")


def test_progress_is_silent_in_ci_and_in_pipes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stream = io.StringIO()  # not a terminal
    progress = Progress(stream)
    progress("users", 100)
    progress.done()
    assert stream.getvalue() == ""
    monkeypatch.setenv("CI", "true")
    assert not Progress(stream).enabled


def test_in_ci_a_heartbeat_line_says_the_work_goes_on_until_it_is_done(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CI", "true")
    stream = io.StringIO()
    progress = Progress(stream, heartbeat=0.01)
    assert not progress.enabled  # no line rewriting itself in a job's log
    progress("users", 100)
    for _ in range(500):  # up to 5 s for the first beat, on a busy machine
        if "\n" in stream.getvalue():
            break
        threading.Event().wait(0.01)
    progress("users", 205)
    progress.done()
    lines = stream.getvalue().splitlines()
    assert lines and all(line.startswith("still working, ") for line in lines)
    assert "reading users 100" in lines[0]
    after = stream.getvalue()
    threading.Event().wait(0.05)
    assert stream.getvalue() == after  # done() ends the heartbeat


def test_no_heartbeat_outside_ci_nor_with_quiet(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("CI", "TF_BUILD", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    assert Progress(io.StringIO()).heartbeat is None
    monkeypatch.setenv("TF_BUILD", "True")
    assert Progress(io.StringIO()).heartbeat == HEARTBEAT_SECONDS
    monkeypatch.setattr(output, "current", output.Output(quiet=True))
    assert Progress(io.StringIO()).heartbeat is None
