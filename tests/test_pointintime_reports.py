"""A report whose older side was rebuilt from the audit log (diff --at-time), in every format: the rows the
log gave are marked, and the unknown list names each object, its paths and why; the summaries say it too."""

from __future__ import annotations

import json

import click
import pytest

from entragit.report.formats import FORMATS, render
from entragit.report.model import (AttributeChange, DiffReport, MemberChange, ObjectChange, Reconstructed, Side,
                                   UnknownValues)


def _report() -> DiffReport:
    adele = ObjectChange("users", "u-adele", "Adele Vance", "modified", [
        AttributeChange("jobTitle", "Auditor", "Account Executive", reconstructed=True),
        AttributeChange("department", "Sales", "Finance"),
    ])
    sales = ObjectChange("groups", "g-sales", "Sales Team", "modified",
                         members=[MemberChange("members", "added", "u-lee", "Lee Gu", "users", reconstructed=True)])
    rebuilt = Reconstructed("The older side is the state at 2099-01-01T14:05:00Z, rebuilt from snapshot aaaaaaaaaa",
                            [UnknownValues("users", "u-adele", "Adele Vance", ("usageLocation",),
                                           "the audit log does not record its changes"),
                             UnknownValues("conditionalAccessPolicies", "p-mfa", "Require MFA", (),
                                           "Update conditional access policy at 2099-01-01T14:00:00Z: its value is "
                                           "cut short or unreadable")],
                            ["2 record(s) 'Add member to role' not replayed"])
    return DiffReport(Side("at 2099-01-01T14:05:00Z", "a" * 40, "2099-01-01T14:05:00+00:00", snapshot=False),
                      Side("HEAD", "b" * 40, "2099-01-02T02:00:00+00:00", snapshot=True), [adele, sales],
                      reconstructed=rebuilt)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "json"])
@pytest.mark.parametrize("summary", [False, True])
def test_every_format_marks_the_log_s_values_and_lists_the_unknown(fmt: str, summary: bool) -> None:
    text = click.unstyle(render(_report(), fmt, summary)).replace("&#x27;", "'")
    assert "rebuilt from snapshot aaaaaaaaaa" in text
    assert "unknown: users/u-adele Adele Vance: usageLocation (the audit log does not record its changes)" in text
    assert "unknown: conditionalAccessPolicies/p-mfa Require MFA: its whole state" in text
    assert "unknown: 2 record(s) 'Add member to role' not replayed" in text
    if not summary:
        assert "jobTitle (from the audit log)" in text and "members (from the audit log)" in text
        assert "department (from the audit log)" not in text


def test_json_marks_rows_and_carries_the_unknown_list() -> None:
    data = json.loads(render(_report(), "json"))
    rows = {a["path"]: a for c in data["changes"] for a in c["attributes"]}
    assert rows["jobTitle"]["reconstructed"] is True and "reconstructed" not in rows["department"]
    assert data["changes"][1]["members"][0]["reconstructed"] is True
    assert data["reconstructed"]["unknown"][1] == {
        "type": "conditionalAccessPolicies", "id": "p-mfa", "displayName": "Require MFA", "paths": [],
        "why": "Update conditional access policy at 2099-01-01T14:00:00Z: its value is cut short or unreadable"}
    assert data["reconstructed"]["notes"] == ["2 record(s) 'Add member to role' not replayed"]
    assert "reconstructed" not in json.loads(render(DiffReport(_report().old, _report().new, []), "json"))


def test_a_long_unknown_list_is_cut_in_human_formats_not_in_json() -> None:
    report = _report()
    assert report.reconstructed is not None
    report.reconstructed.unknown = [UnknownValues("users", f"u-{n}", None, ("usageLocation",), "not recorded")
                                    for n in range(120)]
    text = click.unstyle(render(report, "table"))
    assert "unknown: users/u-49 " in text and "u-50 " not in text and "and 70 more object(s)" in text
    assert len(json.loads(render(report, "json"))["reconstructed"]["unknown"]) == 120
