"""A name from Graph or from a file cannot drive the reader's terminal or forge a line of output: every
command that prints names shows their control characters, bidi overrides and line breaks escaped."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from entragit.cli import cli
from entragit.report.model import AttributeChange, DiffReport, MemberChange, ObjectChange, Side
from entragit.report import html_report, markdown
from entragit.store import BackupRepo
from tests.conftest import Admin, run

# Clears the screen, sets the window title, rings the bell, returns to the start of the line, starts a row
# that looks like an added file, and reverses what follows it.
EVIL = "Payroll\x1b[2J\x1b]0;pwned\x07\r\n+ users/fake.yaml\u202eevil"
SHOWN = "Payroll\\x1b[2J\\x1b]0;pwned\\x07\\r\\n+ users/fake.yaml\\u202eevil"
# The styling entragit itself adds (colours, bold) is the only escape sequence allowed in its output.
_STYLE = re.compile(r"\x1b\[[0-9;]*m")


def _cli(*args: str) -> str:
    """What a terminal would receive: click keeps styling (and anything else) when the output is a tty."""
    result = CliRunner().invoke(cli, list(args), color=True, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.output


def _assert_safe(output: str) -> None:
    plain = _STYLE.sub("", output)
    assert not set("\x1b\x07\r\u202e") & set(plain), repr(plain)
    assert not [line for line in plain.splitlines() if line.lstrip("- ").startswith("+ users/fake.yaml")]


@dataclass
class Evil:
    repo: BackupRepo
    group: str
    user: str


@pytest.fixture
def evil(repo: BackupRepo, admin: Admin) -> Evil:
    """A snapshot, then a user renamed to EVIL and made the only member of a new group also named EVIL."""
    run("snapshot", "--repo", str(repo.root))
    user = admin.users("Finance")[0]["id"]
    admin.call("PATCH", f"users/{user}", json={"displayName": EVIL})
    group = admin.call("POST", "groups", json={"displayName": EVIL, "mailEnabled": False, "mailNickname": "payroll",
                                               "securityEnabled": True}).json()["id"]
    admin.call("POST", f"groups/{group}/members/$ref",
               json={"@odata.id": f"{admin.base}directoryObjects/{user}"})
    run("snapshot", "--repo", str(repo.root))
    return Evil(repo, group, user)


def test_diff_as_a_table_shows_the_names_escaped(evil: Evil) -> None:
    output = _cli("diff", "--repo", str(evil.repo.root), "--no-attribution")

    _assert_safe(output)
    assert f"groups/{evil.group}  {SHOWN}" in _STYLE.sub("", output)
    assert "displayName  " in output and SHOWN in output


def test_diff_as_markdown_keeps_each_name_inside_its_block(evil: Evil) -> None:
    output = _cli("diff", "--repo", str(evil.repo.root), "--no-attribution", "--format", "markdown")

    _assert_safe(output)
    assert output.count("<details>") == output.count("</details>") == output.count("<summary>") > 0
    summary = next(line for line in output.splitlines() if evil.group in line and "<summary>" in line)
    assert summary.endswith("</summary>") and "Payroll\\x1b[2J" in summary


def test_log_shows_the_names_escaped(evil: Evil) -> None:
    output = _cli("log", evil.user, "--repo", str(evil.repo.root))

    _assert_safe(output)
    assert SHOWN in output


def test_a_restore_plan_shows_the_names_escaped(evil: Evil, admin: Admin) -> None:
    admin.call("PATCH", f"groups/{evil.group}", json={"displayName": "Benign"})

    output = _cli("restore", "--repo", str(evil.repo.root), "--at", "HEAD", "--id", evil.group, "--plan")

    _assert_safe(output)
    assert f"PATCH   groups/{evil.group}  {SHOWN}" in _STYLE.sub("", output)


def test_git_diff_through_the_driver_adds_no_line_for_a_name(evil: Evil) -> None:
    run("init", str(evil.repo.root), "--refresh")  # the driver `entragit init` sets up: `entragit textconv`

    output = subprocess.run(["git", "diff", "HEAD~1", "HEAD"], cwd=evil.repo.root, capture_output=True,
                            text=True, check=True).stdout

    _assert_safe(output)
    assert f"+- {evil.user}  # {SHOWN}" in output.splitlines()


def test_an_error_that_quotes_an_id_is_one_escaped_line(evil: Evil) -> None:
    output = _cli("restore", "--repo", str(evil.repo.root), "--at", "HEAD", "--id", EVIL, "--plan")

    _assert_safe(output)
    assert output.count("\n") == 1 and output.startswith("\x1b[31m\x1b[1merror: \x1b[0m") and SHOWN in output


def test_an_error_about_a_file_with_a_raw_control_character_is_one_line(evil: Evil) -> None:
    path = evil.repo.root / "groups" / f"{evil.group}.yaml"
    path.write_bytes(path.read_bytes().replace(b"mailNickname: payroll", b"mailNickname: pay\x1b[2Jroll"))
    subprocess.run(["git", "-c", "user.name=Admin", "-c", "user.email=admin@example.com", "commit", "-qam",
                    "a hand edit"], cwd=evil.repo.root, check=True)

    output = _cli("diff", "HEAD~1", "HEAD", "--repo", str(evil.repo.root), "--no-attribution")

    _assert_safe(output)
    assert output.count("\n") == 1 and f"groups/{evil.group}.yaml" in output


def test_a_name_that_cannot_be_encoded_is_shown_escaped_and_json_stays_valid(evil: Evil) -> None:
    """YAML and JSON can spell a lone surrogate (\\ud800), which no terminal encoding can write."""
    path = evil.repo.root / "groups" / f"{evil.group}.yaml"
    path.write_text(path.read_text().replace("mailNickname: payroll", 'mailNickname: "pay\\ud800roll"'))
    subprocess.run(["git", "-c", "user.name=Admin", "-c", "user.email=admin@example.com", "commit", "-qam",
                    "a hand edit"], cwd=evil.repo.root, check=True)

    def diff(fmt: str) -> str:
        # A real process writing to a pipe: its stdout encodes strictly, as a terminal's does.
        return subprocess.run([sys.executable, "-m", "entragit", "diff", "HEAD~1", "HEAD", "--repo",
                               str(evil.repo.root), "--no-attribution", "--format", fmt],
                              capture_output=True, text=True, check=True).stdout

    assert "pay\\ud800roll" in diff("table")
    [change] = json.loads(diff("json"))["changes"]
    assert change["attributes"] == [{"path": "mailNickname", "old": "payroll", "new": "pay\ud800roll"}]


def test_markdown_keeps_an_id_or_a_key_from_a_file_inside_its_cell_and_block() -> None:
    """A hand-edited file chooses its keys and the ids it names, not only its display name."""
    change = ObjectChange("groups", "g-1</details>", "Team", "modified",
                          [AttributeChange("notes|x`\n</details>", "a", "b")],
                          members=[MemberChange("members", "added", "u-1|`</details>", "Member", "users")])

    text = markdown.render(DiffReport(Side("A", "a" * 40), Side("B", "b" * 40), [change]))

    assert text.count("<details>") == text.count("</details>") == 1
    [row] = [line for line in text.splitlines() if "notes" in line]
    assert len(re.findall(r"(?<!\\)\|", row)) == 4  # three cells: nothing split one


def test_html_shows_a_bidi_override_instead_of_obeying_it() -> None:
    """A browser ignores most control characters, but it reorders text after U+202E for the reviewer."""
    change = ObjectChange("groups", "g-1", "Admins\u202egnp.exe", "modified",
                          [AttributeChange("description", "a", "multi\nline \x1b[2J")])

    text = html_report.render(DiffReport(Side("A", "a" * 40), Side("B", "b" * 40), [change]))

    assert not set("\x1b\u202e") & set(text)
    assert "Admins\\u202egnp.exe" in text and "multi\nline \\x1b[2J" in text  # a line break is harmless there
