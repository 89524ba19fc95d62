from __future__ import annotations

import io

from entragit.progress import Progress


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
