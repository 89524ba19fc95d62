"""The HTML report in a real browser: Debian's Chromium (or the Chrome a CI runner ships, named by
CHROME_BIN, with its driver at CHROMEDRIVER), headless, driven by Selenium through chromedriver.

The browser must be there (.ci/install-browser installs it): a missing browser fails this test rather than
skipping it, since a skipped check looks green.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run

CHROMIUM = os.environ.get("CHROME_BIN") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or "/usr/bin/chromedriver"

@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for program in (CHROMIUM, CHROMEDRIVER):
        assert shutil.which(program), f"{program} is missing: run .ci/install-browser"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1200,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML report of the demo's story: Monday's snapshot against Wednesday's, after the bad script."""
    folder = tmp_path_factory.mktemp("demo")
    run("demo", "--dir", str(folder))
    page = folder / "report.html"
    run("diff", "--repo", str(folder / "backup"), "--format", "html", "-o", str(page))
    return page


def _visible(driver: object, css: str) -> list[object]:
    return [el for el in driver.find_elements("css selector", css) if el.is_displayed()]  # type: ignore[attr-defined]


def test_the_demo_report_renders_without_script_errors_and_the_type_filter_hides_and_shows(
        browser: object, demo_report: Path) -> None:
    driver = browser
    driver.get(demo_report.as_uri())  # type: ignore[attr-defined]

    users = len(_visible(driver, '.object[data-type="users"]'))
    groups = len(_visible(driver, '.object[data-type="groups"]'))
    assert users > 0 and groups > 0
    assert driver.find_element("id", "shown").text == f"{users + groups} of {users + groups} object(s) shown"  # type: ignore[attr-defined]

    driver.find_element("css selector", 'input[name="type"][value="users"]').click()  # type: ignore[attr-defined]
    assert _visible(driver, '.object[data-type="users"]') == []
    assert len(_visible(driver, '.object[data-type="groups"]')) == groups
    assert driver.find_element("id", "shown").text == f"{groups} of {users + groups} object(s) shown"  # type: ignore[attr-defined]

    driver.find_element("css selector", 'input[name="type"][value="users"]').click()  # type: ignore[attr-defined]
    assert len(_visible(driver, '.object[data-type="users"]')) == users

    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]  # type: ignore[attr-defined]
    assert errors == []


def test_on_a_phone_wide_screen_old_and_new_values_stack_inside_the_page(browser: object, demo_report: Path) -> None:
    driver = browser
    driver.set_window_size(390, 844)  # type: ignore[attr-defined]
    driver.get(demo_report.as_uri())  # type: ignore[attr-defined]

    cell = _visible(driver, ".changes td.new")[0]
    width = driver.execute_script("return document.documentElement.clientWidth")  # type: ignore[attr-defined]
    overflow = driver.execute_script(  # type: ignore[attr-defined]
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert cell.rect["width"] > width * 0.8  # type: ignore[attr-defined]  # a stacked card, not a narrow column
    assert overflow <= 0


def test_on_a_phone_a_changed_credential_list_shows_its_elements_whole_inside_the_page(
        browser: object, tmp_path: Path) -> None:
    from entragit.diff.compare import compare
    from entragit.registry import REGISTRY
    from entragit.report import html_report
    from entragit.report.model import DiffReport, Side

    long_name = "rotated-by-the-release-pipeline-" + "-".join(f"stage{n:02}" for n in range(30))
    secret = {"keyId": "k-1", "displayName": "old", "endDateTime": "2099-01-01T00:00:00Z"}
    old = {"displayName": "Payroll", "passwordCredentials": [secret]}
    new = {"displayName": "Payroll", "passwordCredentials": [{**secret, "keyId": "k-2", "displayName": long_name}]}
    change = compare(REGISTRY["applications"], "app-1", old, new, None)
    assert change is not None
    page = tmp_path / "report.html"
    page.write_text(html_report.render(DiffReport(Side("A", "a" * 40), Side("B", "b" * 40), [change])))
    driver = browser
    driver.set_window_size(390, 844)  # type: ignore[attr-defined]
    driver.get(page.as_uri())  # type: ignore[attr-defined]

    removed, added = _visible(driver, ".elements li.removed"), _visible(driver, ".elements li.added")
    assert len(removed) == len(added) == 1
    assert long_name in added[0].text.replace("\n", "")  # type: ignore[attr-defined]
    overflow = driver.execute_script(  # type: ignore[attr-defined]
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
