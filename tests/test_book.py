"""`entragit docs`: the book of a snapshot, on the demo's tenant, in markdown, HTML and a real browser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin, run
from tests.test_report_html_browser import _visible, browser  # noqa: F401  (browser is a fixture)

POLICY = "Require compliant device for Sales"
HOSTILE = 'Sales <script>alert(1)</script> [x](javascript:alert(1)) | \x1b[2J\u202e'


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's backup repository: the simulated small tenant's snapshots."""
    folder = tmp_path_factory.mktemp("demo")
    run("demo", "--dir", str(folder))
    return folder / "backup"


@pytest.fixture(scope="module")
def book(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("book")
    result = run("docs", "--repo", str(demo), "-o", str(folder))
    assert "start at" in result.output and "index.html" in result.output
    return folder


def _page_of(book: Path, title: str, suffix: str) -> str:
    found = [p.read_text() for p in sorted(book.glob(f"policy-*{suffix}")) if f"Conditional Access: {title}" in p.read_text()]
    assert len(found) == 1, title
    return found[0]


def _section(markdown: str, heading: str) -> str:
    return markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_the_demo_snapshot_renders_a_page_per_policy_and_the_roles_credentials_and_assignments(
        demo: Path, book: Path) -> None:
    policies = sorted(p.stem for p in (demo / "conditionalAccessPolicies").glob("*.yaml"))
    assert sorted(p.stem.removeprefix("policy-") for p in book.glob("policy-*.md")) == policies
    assert sorted(p.stem.removeprefix("policy-") for p in book.glob("policy-*.html")) == policies
    index = (book / "index.md").read_text()
    for page in ("roles", "credentials", "assignments"):
        assert f"]({page}.md)" in index and (book / f"{page}.html").is_file()
    roles = (book / "roles.md").read_text()
    assert "| Global Administrator | Break Glass 1 (user) | active |" in roles
    assert any(line.split(" | ")[2] == "eligible" for line in roles.splitlines() if line.startswith("| Global"))


def test_a_policy_page_names_its_included_group_and_says_whom_it_excludes(demo: Path, book: Path) -> None:
    page = _page_of(book, POLICY, ".md")
    who = _section(page, "Who")
    assert "- include groups: Sales Team" in who
    assert "58e0058f" not in who  # the group's id is not what a reader gets
    assert "State: report-only" in page
    assert "- built in controls: compliantDevice" in _section(page, "Grant controls")


def test_credentials_are_sorted_by_expiry_and_judged_at_the_snapshot(book: Path) -> None:
    rows = [line.split(" | ") for line in (book / "credentials.md").read_text().splitlines()
            if line.startswith("| 2")]
    expiries = [row[0].removeprefix("| ") for row in rows]
    assert rows and expiries == sorted(expiries)
    assert {row[-1].removesuffix(" |") for row in rows} <= {"expired", "valid"}
    assert "expired" in {row[-1].removesuffix(" |") for row in rows}


def test_the_assignments_view_lists_what_targets_a_group_with_a_link_to_the_policy(book: Path) -> None:
    lines = [line for line in (book / "assignments.md").read_text().splitlines() if line.startswith("| Sales Team (group)")]
    assert any(f"[{POLICY}](policy-" in line and line.endswith("| included |") for line in lines), lines


def test_the_book_is_the_same_on_every_run(demo: Path, book: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    run("docs", "HEAD", "--repo", str(demo), "-o", str(again))
    files = sorted(p.name for p in book.iterdir())
    assert sorted(p.name for p in again.iterdir()) == files
    assert all((book / name).read_bytes() == (again / name).read_bytes() for name in files)


@pytest.fixture
def hostile_book(demo: Path, tmp_path: Path) -> Path:
    """The book of a backup repository in which the Sales group's name was made to attack its readers."""
    backup = tmp_path / "backup"
    shutil.copytree(demo, backup, symlinks=True)
    group = next(p for p in (backup / "groups").glob("*.yaml") if "displayName: Sales Team\n" in p.read_text())
    escaped = HOSTILE.replace("\x1b", "\\x1b").replace("\u202e", "\\u202e")
    group.write_text(group.read_text().replace("displayName: Sales Team\n", f'displayName: "{escaped}"\n'))
    subprocess.run(["git", "-C", str(backup), "-c", "user.name=Someone", "-c", "user.email=someone@example.com",
                    "commit", "-qam", "a hostile name"], check=True)
    folder = tmp_path / "book"
    run("docs", "HEAD", "--repo", str(backup), "-o", str(folder))
    return folder


def test_a_hostile_display_name_is_shown_as_text_in_markdown_and_html(hostile_book: Path) -> None:
    markdown = _page_of(hostile_book, POLICY, ".md")
    page = _page_of(hostile_book, POLICY, ".html")
    for text in (markdown, page):
        assert "<script>" not in text and "\x1b" not in text and "\u202e" not in text
        assert "include groups: Sales &lt;script&gt;alert(1)&lt;/script&gt;" in text
    # In markdown the brackets and the column bar are escaped too, and the backslashes printable() shows.
    assert "[x](javascript" not in markdown
    assert "\\[x\\](javascript:alert(1)) \\| \\\\x1b\\[2J\\\\u202e" in markdown
    assert "[x](javascript:alert(1)) | \\x1b[2J\\u202e</li>" in page and 'href="javascript' not in page


def test_the_book_reads_in_a_real_browser(browser: object, book: Path, hostile_book: Path) -> None:  # noqa: F811
    driver = browser
    driver.get((book / "index.html").as_uri())  # type: ignore[attr-defined]
    driver.find_element("link text", POLICY).click()  # type: ignore[attr-defined]
    assert driver.find_element("tag name", "h1").text == f"Conditional Access: {POLICY}"  # type: ignore[attr-defined]
    assert "include groups: Sales Team" in [li.text for li in _visible(driver, "li")]  # type: ignore[attr-defined]
    driver.find_element("link text", "Contents").click()  # type: ignore[attr-defined]
    driver.find_element("link text", "App credentials by expiry").click()  # type: ignore[attr-defined]
    assert len(_visible(driver, "tbody tr")) > 1

    driver.get((hostile_book / "assignments.html").as_uri())  # type: ignore[attr-defined]
    cells = [td.text for td in _visible(driver, "td")]  # type: ignore[attr-defined]
    assert any(cell.startswith("Sales <script>alert(1)</script> [x](javascript:alert(1)) | \\x1b") for cell in cells)
    assert driver.execute_script("return document.scripts.length") == 0  # type: ignore[attr-defined]
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]  # type: ignore[attr-defined]
    assert errors == []


def test_a_revision_that_does_not_exist_is_one_line_and_writes_nothing(demo: Path, tmp_path: Path) -> None:
    result = run("docs", "no-such-rev", "--repo", str(demo), "-o", str(tmp_path / "book"), ok=False)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"error: revision 'no-such-rev' does not exist in {demo}"]
    assert not (tmp_path / "book").exists()


def test_the_assignments_view_follows_nested_groups_and_roles_separate_the_privileged(
        repo: BackupRepo, admin: Admin, sim: Simulator, tmp_path: Path) -> None:
    """A user in a group nested in the break-glass exclusion group is excluded from the policies too: the
    view says so, naming the groups between; the roles page puts privileged roles first, apart."""
    outer = admin.group("CA Exclusion - Break Glass")
    inner = admin.call("POST", "groups", json={"displayName": "Emergency Operators", "mailEnabled": False,
                                               "mailNickname": "emergency-ops", "securityEnabled": True}).json()
    user = admin.users("Finance")[0]
    for holder, member in ((outer["id"], inner["id"]), (inner["id"], user["id"])):
        admin.call("POST", f"groups/{holder}/members/$ref",
                   json={"@odata.id": f"{sim.graph_url}/v1.0/directoryObjects/{member}"})
    run("snapshot", "--repo", str(repo.root))

    run("docs", "--repo", str(repo.root), "-o", str(tmp_path / "book"))

    rows = [line for line in (tmp_path / "book" / "assignments.md").read_text().splitlines()
            if line.startswith(f"| {user['displayName']} (user) | Conditional Access |")]
    assert rows and all(line.endswith("| excluded through group Emergency Operators → CA Exclusion - Break Glass |")
                        for line in rows), rows
    assert any(line.startswith("| Emergency Operators (group) |") and line.endswith(
        "| excluded through group CA Exclusion - Break Glass |")
        for line in (tmp_path / "book" / "assignments.md").read_text().splitlines())
    roles = (tmp_path / "book" / "roles.md").read_text()
    privileged, others = roles.split("## Privileged roles", 1)[1].split("## Other roles", 1)
    assert "| Global Administrator |" in privileged and "| Global Administrator |" not in others
