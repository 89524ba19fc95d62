"""Command-line conventions: colour (NO_COLOR, --color/--no-color), --quiet, --verbose and tables that fit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from entragit.cli import cli
from entragit.registry import resolve_types
from entragit.sim import Simulator
from tests.conftest import run

ESC = "\x1b["


def _invoke(*args: str, env: dict[str, str] | None = None, color: bool = False) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, color=color, catch_exceptions=False)


def test_colour_on_a_terminal_is_off_with_no_color_and_the_flags_win(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere")
    on_a_terminal = _invoke("snapshot", "--repo", missing, color=True)
    assert on_a_terminal.exit_code == 1 and ESC in on_a_terminal.output
    plain = _invoke("snapshot", "--repo", missing, env={"NO_COLOR": "1"}, color=True)
    assert plain.output.startswith("error: ") and ESC not in plain.output
    assert ESC in _invoke("--color", "snapshot", "--repo", missing, env={"NO_COLOR": "1"}, color=True).output
    assert ESC not in _invoke("--no-color", "snapshot", "--repo", missing, color=True).output
    # An empty NO_COLOR is no request (no-color.org).
    assert ESC in _invoke("snapshot", "--repo", missing, env={"NO_COLOR": ""}, color=True).output


def test_quiet_keeps_the_result_and_drops_the_hints(sim_info: Path, tmp_path: Path) -> None:
    said = run("init", str(tmp_path / "a"), "--sim", str(sim_info)).output
    assert "Next: entragit snapshot" in said
    quiet = run("--quiet", "init", str(tmp_path / "b"), "--sim", str(sim_info)).output
    assert quiet.startswith("Created backup repository") and "Next:" not in quiet
    assert _invoke("-q", "-v", "types").exit_code == 1


@pytest.mark.parametrize("auth", ["secret", "federated"])
def test_verbose_logs_each_request_and_no_credential(sim: Simulator, sim_info: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch, auth: str) -> None:
    assertion = sim.federation.issue(sim.federation.credentials[0].subject)
    token_file = tmp_path / "assertion"
    token_file.write_text(assertion)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    backup = tmp_path / "backup"
    run("init", str(backup), "--sim", str(sim_info), "--auth", auth)
    said = run("--verbose", "snapshot", "--repo", str(backup)).output
    assert re.search(r"^POST https://\S+/oauth2/v2\.0/token -> 200 in \d+\.\d+ s$", said, re.M)
    assert re.search(r"^GET https://\S+/v1\.0/users\S* -> 200 in \d+\.\d+ s$", said, re.M)
    assert "Snapshot " in said
    # No secret, no assertion, no token: the access tokens and assertions are JWTs, which start "eyJ".
    assert sim.client_secret not in said and assertion not in said and "eyJ" not in said
    # The next run in the same process is not verbose.
    assert "-> 200" not in run("snapshot", "--repo", str(backup)).output


def test_types_fits_the_terminal_and_says_which_columns_it_left_out() -> None:
    names = [t.name for t in resolve_types(())]
    narrow = _invoke("types", env={"COLUMNS": "80"})
    table = narrow.stdout.split("\n\n")[0].splitlines()
    assert all(len(line) <= 80 for line in table)
    # A beta type's mark may wrap under its name.
    assert [line.split()[0] for line in table[1:] if not line.startswith((" ", "(beta)"))] == names
    assert "left out to fit 80 columns: VERSION, GRAPH PATH, IF CHANGED, IF DELETED" in narrow.stderr
    wide = _invoke("types", env={"COLUMNS": "400"})
    assert wide.stdout.splitlines()[0].split()[:4] == ["TYPE", "VERSION", "GRAPH", "PATH"] and not wide.stderr
    assert len(wide.stdout.split("\n\n")[0].splitlines()) == len(names) + 1  # one line a type


def test_types_permissions_lists_each_permission_once_read_and_restore_apart() -> None:
    said = run("types", "--permissions").output
    read, restore = said.split("\n\n")
    reads = {t.read_permission for t in resolve_types(())}
    writes = {p for t in resolve_types(()) for p in t.write_permissions}
    read_lines = [line.split()[0] for line in read.splitlines()[1:]]
    assert sorted(read_lines) == sorted(reads | {"AuditLog.Read.All"})
    restore_lines = [line.split()[0] for line in restore.splitlines()[1:] if not line.startswith("  for some")]
    assert sorted(restore_lines) == sorted(writes)
    assert "Privileged Authentication Administrator" in restore


def test_a_logged_url_shows_no_credential() -> None:
    from entragit.session import shown_url

    shown = shown_url("https://user:pw@host.example/path?client_secret=abc&sig=xyz&$top=5&code=c0de")
    assert shown == "https://host.example/path?client_secret=REDACTED&sig=REDACTED&$top=5&code=REDACTED"
