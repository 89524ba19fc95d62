"""Each renderer on one fixed report, built by hand: what a reader sees (rows, names, counts, notes)."""

from __future__ import annotations

import json
import re

from entragit.report.model import AttributeChange, Attribution, DiffReport, MemberChange, ObjectChange
from entragit.report.model import RecycleState, RiskFlag, Side
from entragit.report import html_report, markdown, table
from entragit.report.formats import render


def _report() -> DiffReport:
    adele = ObjectChange("users", "u-adele", "Adele Vance", "modified", [
        AttributeChange("jobTitle", "Account Executive", None),
        AttributeChange("manager", "u-alex", "u-megan"),
    ], changed_by=[Attribution("admin@contoso.com", "user", "a-1", "Update user", "2099-01-02T10:00:00Z")])
    lee = ObjectChange("users", "u-lee", "Lee Gu", "restored", [AttributeChange("accountEnabled", True, False)],
                       deleted_at="2099-01-01T02:00:00+00:00")
    sales = ObjectChange("groups", "g-sales", "Sales Team", "modified",
                         members=[MemberChange("members", "removed", "u-adele", "Adele Vance", "users")])
    project = ObjectChange("groups", "g-project", "Old Project", "removed",
                           [AttributeChange("description", "Q3 launch", None)],
                           recycle=RecycleState(True, "2099-01-31", False,
                                                "deletion recorded by the snapshot of 2099-01-01"))
    archive = ObjectChange("groups", "g-archive", "Archive 2019", "removed",
                           recycle=RecycleState(True, "2020-02-01", False,
                                                "deletion recorded by the snapshot of 2020-01-02"))
    mfa = ObjectChange("conditionalAccessPolicies", "p-mfa", "Require MFA", "modified", [
        AttributeChange("conditions.users.excludeGroups", None, ["g-glass", "g-unknown"]),
    ])
    return DiffReport(
        Side("HEAD~1", "a" * 40, "2099-01-01T02:00:00+00:00", snapshot=True),
        Side("HEAD", "b" * 40, "2099-01-02T02:00:00+00:00", snapshot=False, reverts="c" * 40),
        [adele, lee, sales, project, archive, mfa],
        risks=[RiskFlag("ca-exclusion-added", "high", "conditionalAccessPolicies", "p-mfa", "Require MFA",
                        "excludeGroups gained Break Glass")],
        attribution="unavailable: no AuditLog.Read.All permission",
        names={"u-alex": ("users", "Alex Wilber"), "u-megan": ("users", "Megan Bowen"),
               "g-glass": ("groups", "Break Glass")},
    )


def _missing(text: str, expected: list[str]) -> list[str]:
    return [line for line in expected if line not in text]


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_table_puts_risks_first_and_shows_names_beside_ids_and_where_removed_objects_are() -> None:
    lines = _plain(table.render(_report())).splitlines()

    assert lines[0] == ("Differences from HEAD~1 (aaaaaaaaaa), 2099-01-01T02:00:00+00:00, snapshot to HEAD (bbbbbbbbbb), "
                        "2099-01-02T02:00:00+00:00, not a snapshot: reverts cccccccccc")
    assert lines[2] == "Risk highlights (1):"
    assert lines[3] == "  ! [high] ca-exclusion-added: Require MFA (conditionalAccessPolicies/p-mfa): excludeGroups gained Break Glass"
    assert "attribution unavailable: no AuditLog.Read.All permission" in lines
    assert "    manager   Alex Wilber (u-alex)  ->  Megan Bowen (u-megan)" in lines
    assert "    jobTitle  Account Executive  ->  (not set)" in lines
    assert "    changed by admin@contoso.com (Update user) at 2099-01-02T10:00:00Z" in lines
    assert "^ users/u-lee  Lee Gu  (restored)" in lines
    assert "    accountEnabled  true  ->  false" in lines
    assert ("    removed: in the recycle bin until ~2099-01-31 (30 days after the deletion recorded by the "
            "snapshot of 2099-01-01), unless purged earlier") in lines
    assert ("    removed: was restorable from the recycle bin until ~2020-02-01 (deletion recorded by the "
            "snapshot of 2020-01-02): purged by now") in lines
    assert "    members - Adele Vance (users/u-adele)" in lines
    assert '    conditions.users.excludeGroups  (not set)  ->  ["Break Glass (g-glass)", "g-unknown"]' in lines
    # Grouped by type: each type's heading comes once, before its objects.
    assert [line for line in lines if line in ("users", "groups", "conditionalAccessPolicies")] == [
        "users", "groups", "conditionalAccessPolicies"]
    assert lines[-1] == ("6 object(s) differ: 1 conditionalAccessPolicies modified, 1 groups modified, 2 groups removed, "
                         "1 users modified, 1 users restored; 4 attribute change(s), 1 membership change(s).")


def test_table_summary_counts_per_type_and_kind() -> None:
    text = _plain(render(_report(), "table", summary=True))

    assert _missing(text, [
        "  TYPE                       ADDED  REMOVED  MODIFIED  RESTORED",
        "  users                          0        0         1         1",
        "  groups                         0        2         1         0",
        "  conditionalAccessPolicies      0        0         1         0",
    ]) == []
    assert "Adele Vance" not in text


def test_markdown_opens_with_counts_then_one_collapsed_block_per_object() -> None:
    text = markdown.render(_report())

    assert text.startswith("### entragit: differences from `aaaaaaaaaa` (2099-01-01T02:00:00+00:00, snapshot) to "
                           "`bbbbbbbbbb` (2099-01-02T02:00:00+00:00, not a snapshot: reverts cccccccccc)\n")
    assert "> - [high] ca-exclusion-added: Require MFA (conditionalAccessPolicies/p-mfa): excludeGroups gained Break Glass" in text
    assert _missing(text, [
        "_attribution unavailable: no AuditLog.Read.All permission_",
        "| Type | Added | Removed | Modified | Restored |",
        "| users | 0 | 0 | 1 | 1 |",
        "| groups | 0 | 2 | 1 | 0 |",
        "| **Total** | **0** | **2** | **3** | **1** |",
        "<summary>✏️ users / <b>Adele Vance</b> <code>u-adele</code>: modified, 2 change(s)</summary>",
        "| <code>manager</code> | <code>Alex Wilber (u-alex)</code> | <code>Megan Bowen (u-megan)</code> |",
        "- changed by admin@contoso.com (Update user) at 2099-01-02T10:00:00Z",
        "- members ➖ removed: Adele Vance (<code>users/u-adele</code>)",
        "removed: in the recycle bin until ~2099-01-31",
    ]) == []
    assert text.count("<details>") == 6 and text.count("</details>") == 6
    assert "more object(s) not shown" not in text


def test_markdown_escapes_what_would_break_a_table_or_inject_html() -> None:
    change = ObjectChange("users", "u-x", "<img src=x>", "modified", [AttributeChange("jobTitle", "a|b", "line\nbreak")])
    text = markdown.render(DiffReport(Side("A", "a" * 40), Side("B", "b" * 40), [change]))

    assert "<img" not in text and "&lt;img src=x&gt;" in text
    assert "| <code>jobTitle</code> | <code>a\\|b</code> | <code>line<br>break</code> |" in text


def test_markdown_stays_within_a_github_comment_and_says_how_many_objects_it_left_out() -> None:
    many = [ObjectChange("users", f"u-{n:05}", f"User {n}", "modified",
                         [AttributeChange("jobTitle", "Engineer " * 5, "Manager " * 5),
                          AttributeChange("department", "Sales", None)]) for n in range(2000)]
    text = markdown.render(DiffReport(Side("A", "a" * 40), Side("B", "b" * 40), many))

    shown = text.count("<details>")
    assert len(text) <= 65_536
    assert 50 < shown < 2000
    assert text.rstrip().endswith(f"**{2000 - shown} more object(s) not shown** (a comment holds at most 65,536 "
                                  "characters): see the JSON report (`entragit diff --format json`).")
    assert "| users | 0 | 0 | 2000 | 0 |" in text  # the counts still cover every object


def test_markdown_of_a_report_that_just_fits_has_no_cut_line() -> None:
    few = [ObjectChange("users", f"u-{n}", f"User {n}", "modified", [AttributeChange("city", "A", "B")])
           for n in range(3)]
    report = DiffReport(Side("A", "a" * 40), Side("B", "b" * 40), few)
    full = markdown.render(report)

    assert markdown.render(report, limit=len(full)) == full
    assert "1 more object(s) not shown" in markdown.render(report, limit=len(full) - 1)


def test_json_is_the_documented_schema_2() -> None:
    data = json.loads(render(_report(), "json"))

    assert data["schema"] == "entragit/diff/2"
    assert data["from"] == {"label": "HEAD~1", "commit": "a" * 40, "time": "2099-01-01T02:00:00+00:00",
                            "snapshot": True, "reverts": None}
    assert (data["to"]["snapshot"], data["to"]["reverts"]) == (False, "c" * 40)
    assert data["summary"] == {
        # A removed object's attributes are its state, not changes: no format shows or counts them.
        "objects": 6, "added": 0, "removed": 2, "modified": 3, "restored": 1, "attributeChanges": 4,
        "memberChanges": 1,
        "byType": {"users": {"added": 0, "removed": 0, "modified": 1, "restored": 1},
                   "groups": {"added": 0, "removed": 2, "modified": 1, "restored": 0},
                   "conditionalAccessPolicies": {"added": 0, "removed": 0, "modified": 1, "restored": 0}}}
    assert data["attribution"] == "unavailable: no AuditLog.Read.All permission"
    assert data["risks"] == [{"rule": "ca-exclusion-added", "severity": "high", "type": "conditionalAccessPolicies",
                              "id": "p-mfa", "displayName": "Require MFA", "detail": "excludeGroups gained Break Glass"}]
    project = next(c for c in data["changes"] if c["id"] == "g-project")
    assert project["recycleBin"] == {"inRecycleBin": True, "restorableUntil": "2099-01-31", "observed": False,
                                     "note": "deletion recorded by the snapshot of 2099-01-01"}
    lee = next(c for c in data["changes"] if c["id"] == "u-lee")
    assert (lee["change"], lee["deletedAt"]) == ("restored", "2099-01-01T02:00:00+00:00")
    assert data["changes"][0]["changedBy"] == [{"actor": "admin@contoso.com", "actorKind": "user", "actorId": "a-1",
                                                "activity": "Update user", "time": "2099-01-02T10:00:00Z"}]
    assert data["names"]["g-glass"] == {"type": "groups", "displayName": "Break Glass"}

    summary = json.loads(render(_report(), "json", summary=True))
    assert "changes" not in summary and summary["summary"]["objects"] == 6


def test_html_is_one_self_contained_page_with_filters_and_side_by_side_values() -> None:
    page = html_report.render(_report())

    assert page.startswith("<!DOCTYPE html>")
    assert ("differences from <code>aaaaaaaaaa</code> (2099-01-01T02:00:00+00:00, snapshot) to <code>bbbbbbbbbb</code> "
            "(2099-01-02T02:00:00+00:00, not a snapshot: reverts cccccccccc)</h1>") in page
    assert "src=" not in page and "href=" not in page and "@import" not in page and "url(" not in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<input type="checkbox" name="type" value="users" checked> users (2)' in page
    assert '<input type="checkbox" name="type" value="groups" checked> groups (3)' in page
    assert '<input type="checkbox" name="change" value="removed" checked> removed (2)' in page
    assert ('<td class="old" data-label="Old"><pre class="value">Alex Wilber (u-alex)</pre></td>'
            '<td class="new" data-label="New"><pre class="value">Megan Bowen (u-megan)</pre></td>') in page
    assert "[high] ca-exclusion-added: Require MFA" in page
    assert "attribution unavailable: no AuditLog.Read.All permission" in page
    assert page.count('<section class="object') == 6


def test_html_escapes_values() -> None:
    change = ObjectChange("users", "u-x", "<script>alert(1)</script>", "modified",
                          [AttributeChange("jobTitle", "<b>", None)])
    page = html_report.render(DiffReport(Side("A", "a" * 40), Side("B", "b" * 40), [change]))

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;" in page


def test_an_empty_report_says_so_in_every_format() -> None:
    empty = DiffReport(Side("A", "a" * 40), Side("live", None, "2099-01-01T00:00:00+00:00"), [])

    assert _plain(table.render(empty)).endswith("No differences.")
    assert "No differences." in markdown.render(empty)
    assert "<p>No differences.</p>" in html_report.render(empty)
    assert json.loads(render(empty, "json"))["summary"]["objects"] == 0


def test_every_format_gives_the_same_numbers_for_one_report() -> None:
    report = _report()
    numbers = json.loads(render(report, "json"))["summary"]
    sentence = (f"{numbers['objects']} object(s) differ: 1 conditionalAccessPolicies modified, 1 groups modified, "
                f"2 groups removed, 1 users modified, 1 users restored; {numbers['attributeChanges']} attribute "
                f"change(s), {numbers['memberChanges']} membership change(s).")
    page, text = html_report.render(report), markdown.render(report)

    assert (numbers["attributeChanges"], numbers["memberChanges"]) == (4, 1)
    assert _plain(table.render(report)).splitlines()[-1] == sentence
    assert sentence in text and sentence in page
    # Per object too: a block's "N change(s)" counts the rows it shows, and a removed group shows none.
    titles = re.findall(r": (?:modified|restored|removed)(?:, (\d+) change\(s\))?</summary>", text)
    assert sum(int(n) for n in titles if n) == numbers["attributeChanges"] + numbers["memberChanges"]
    assert "Old Project</b> <code>g-project</code>: removed</summary>" in text
    assert page.count('<tr><td data-label="Attribute">') == numbers["attributeChanges"]


def _elements(lines: list[str]) -> list[tuple[str, str]]:
    """(sign, text) of each element a table row lists, its wrapped lines joined."""
    found: list[tuple[str, str]] = []
    for line in lines:
        if line[:8] in ("      - ", "      + "):
            found.append((line[6], line[8:]))
        elif line.startswith("        ") and found:
            found[-1] = (found[-1][0], found[-1][1] + line[8:])
        else:
            break
    return found


def _credential(key: str, hint: str) -> dict[str, object]:
    return {"keyId": key, "displayName": hint, "hint": key[:3], "endDateTime": "2099-01-01T00:00:00Z"}


def _credential_report() -> tuple[DiffReport, str]:
    """An app whose secret k-2 is replaced by k-3, a credential with a long name; k-1 stays as it was."""
    from entragit.diff.compare import compare
    from entragit.registry import REGISTRY

    long_name = "rotated by the release pipeline of " + " ".join(f"stage-{n:02}" for n in range(30))
    old = {"displayName": "Payroll", "passwordCredentials": [_credential("k-1", "first"), _credential("k-2", "old")]}
    new = {"displayName": "Payroll", "passwordCredentials": [_credential("k-1", "first"), _credential("k-3", long_name)]}
    change = compare(REGISTRY["applications"], "app-1", old, new, None)
    assert change is not None
    return DiffReport(Side("A", "a" * 40), Side("B", "b" * 40), [change]), long_name


def test_a_credential_change_shows_the_element_removed_and_added_never_cut() -> None:
    report, long_name = _credential_report()
    lines = _plain(table.render(report)).splitlines()

    start = lines.index("    passwordCredentials")
    # Wrapped, not cut: continuation lines carry the rest of each element, and nothing reads "…".
    assert _elements(lines[start + 1:]) == [
        ("-", json.dumps(_credential("k-2", "old"), sort_keys=True)),
        ("+", json.dumps(_credential("k-3", long_name), sort_keys=True))]
    assert max(len(line) for line in lines[start:]) <= table.WIDTH
    assert "…" not in "".join(lines)
    assert lines[-1].endswith("1 attribute change(s), 0 membership change(s).")

    text = markdown.render(report)
    assert "| <code>passwordCredentials</code> | ➖ <code>{&quot;" not in text  # quotes stay quotes in code
    assert '| <code>passwordCredentials</code> | ➖ <code>{"displayName": "old", ' in text
    assert long_name in text and "…" not in text and text.count('"keyId": "k-1"') == 0

    data = json.loads(render(report, "json"))["changes"][0]["attributes"][0]
    assert [c["keyId"] for c in data["removed"]] == ["k-2"] and [c["keyId"] for c in data["added"]] == ["k-3"]
    assert data["added"][0]["displayName"] == long_name  # JSON never cuts
    assert [c["keyId"] for c in data["old"]] == ["k-1", "k-2"]  # the whole lists stay, for existing readers

    page = html_report.render(report)
    assert '<td class="old" data-label="Removed elements"><ul class="elements"><li class="removed">' in page
    assert long_name in page and "…" not in page and "k-1" not in page


def test_a_list_without_keys_is_compared_by_value() -> None:
    from entragit.diff.compare import attribute_changes

    (row,) = attribute_changes({"identifierUris": ["api://a", "api://b"]}, {"identifierUris": ["api://b", "api://c"]})
    assert (row.removed, row.added) == (("api://a",), ("api://c",))
    text = _plain(table.render(DiffReport(Side("A", "a" * 40), Side("B", "b" * 40),
                                          [ObjectChange("applications", "app-1", "Payroll", "modified", [row])])))
    assert "    identifierUris\n      - api://a\n      + api://c\n" in text


def test_a_long_scalar_value_is_wrapped_in_the_table_and_whole_in_markdown() -> None:
    note = "x" * 250
    change = ObjectChange("users", "u-1", "Adele", "modified", [AttributeChange("aboutMe", "short", note)])
    report = DiffReport(Side("A", "a" * 40), Side("B", "b" * 40), [change])
    lines = _plain(table.render(report)).splitlines()

    assert _elements(lines[lines.index("    aboutMe") + 1:]) == [("-", "short"), ("+", note)]
    assert note in markdown.render(report) and note in html_report.render(report)


def test_the_cache_keeps_a_list_change_as_elements() -> None:
    from entragit.report import json_report

    report, _ = _credential_report()
    again = json_report.from_dict(json.loads(render(report, "json")))

    assert again.changes[0].attributes == report.changes[0].attributes
    assert table.render(again) == table.render(report)
