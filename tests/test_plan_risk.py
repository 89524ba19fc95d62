"""Risky writes in a plan: the risk table of difference reports judges every plan's writes too, marks each
risky step (table, markdown, JSON), and a plan with a high-risk step is written only with --accept-risk."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from entragit.store import BackupRepo
from tests.conftest import Admin, run
from tests.test_apply import _git, _snapshot

GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
CA = "identity/conditionalAccess/policies"
ASSIGNMENTS = "roleManagement/directory/roleAssignments"


def _enabled_policy(admin: Admin) -> dict[str, Any]:
    return next(p for p in admin.get(CA)["value"] if p["displayName"] == "Require MFA for all users")


def _global_admins(admin: Admin) -> set[str]:
    return {a["principalId"] for a in admin.get(ASSIGNMENTS)["value"] if a["roleDefinitionId"] == GLOBAL_ADMINISTRATOR}


def _state(admin: Admin, policy_id: str) -> str:
    return str(admin.get(f"{CA}/{policy_id}")["state"])


def _hand_edit(repo: BackupRepo, admin: Admin) -> tuple[str, str]:
    """The pull request of the issue: a Global Administrator assignment added by hand, and the MFA policy
    switched off, committed. Returns (policy id, the user made Global Administrator)."""
    policy = _enabled_policy(admin)
    user = next(u for u in admin.users("Sales") if u["id"] not in _global_admins(admin))
    folder = Path(repo.root)
    path = folder / "conditionalAccessPolicies" / f"{policy['id']}.yaml"
    text = path.read_text()
    assert "state: enabled\n" in text
    path.write_text(text.replace("state: enabled\n", "state: disabled\n"))
    (folder / "roleAssignments" / f"{uuid.uuid4()}.yaml").write_text(
        f"directoryScopeId: /\nprincipalId: {user['id']}\nroleDefinitionId: {GLOBAL_ADMINISTRATOR}\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "Looks harmless")
    return policy["id"], user["id"]


def test_apply_marks_both_writes_high_and_yes_alone_writes_nothing(repo: BackupRepo, admin: Admin) -> None:
    _snapshot(repo)
    policy_id, user_id = _hand_edit(repo, admin)

    table = run("apply", "--repo", str(repo.root), "--plan").output
    assert "RISK HIGH: conditional-access-policy-weakened" in table
    assert "RISK HIGH: privileged-role-assigned: Privileged role Global Administrator" in table
    assert "2 high-risk write(s), marked above: writing the plan needs --accept-risk" in table

    markdown = run("apply", "--repo", str(repo.root), "--plan", "--format", "markdown").output
    assert "**2 risky write(s):**" in markdown
    assert "**high** `conditional-access-policy-weakened`: PATCH conditionalAccessPolicies/" in markdown
    assert "**high** `privileged-role-assigned`: CREATE roleAssignments/" in markdown

    document = json.loads(run("apply", "--repo", str(repo.root), "--plan", "--format", "json").output)
    flagged = {(s["kind"], r["rule"], r["severity"]) for s in document["plan"]["steps"] for r in s["risks"]}
    assert flagged == {("patch", "conditional-access-policy-weakened", "high"),
                       ("create", "privileged-role-assigned", "high")}

    refused = run("apply", "--repo", str(repo.root), "--yes", ok=False)
    assert refused.exit_code == 1
    error = refused.output.splitlines()[-1]
    assert error.startswith("error: nothing written: the plan has 2 high-risk write(s)")
    assert "conditional-access-policy-weakened" in error and "privileged-role-assigned" in error
    assert "--accept-risk" in error
    assert _state(admin, policy_id) == "enabled" and user_id not in _global_admins(admin)

    written = run("apply", "--repo", str(repo.root), "--yes", "--accept-risk").output
    assert "Verified" in written
    assert _state(admin, policy_id) == "disabled" and user_id in _global_admins(admin)


def test_restore_of_a_weakened_state_needs_accept_risk_and_a_safe_restore_does_not(
        repo: BackupRepo, admin: Admin) -> None:
    policy = _enabled_policy(admin)
    admin.call("PATCH", f"{CA}/{policy['id']}", json={"state": "disabled"})
    weak = _snapshot(repo)
    admin.call("PATCH", f"{CA}/{policy['id']}", json={"state": "enabled"})
    user = admin.users("Support")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})
    restore = ("restore", "--repo", str(repo.root), "--at", weak)

    refused = run(*restore, "--type", "conditionalAccessPolicies", "--yes", ok=False)
    assert refused.exit_code == 1 and "RISK HIGH: conditional-access-policy-weakened" in refused.output
    assert "--accept-risk" in refused.output.splitlines()[-1]
    assert _state(admin, policy["id"]) == "enabled"

    # Putting back a job title weakens nothing: --yes is enough.
    safe = run(*restore, "--id", user["id"], "--yes").output
    assert "RISK" not in safe and "Verified" in safe

    run(*restore, "--type", "conditionalAccessPolicies", "--yes", "--accept-risk")
    assert _state(admin, policy["id"]) == "disabled"


def test_a_saved_plan_is_judged_again_when_applied(repo: BackupRepo, admin: Admin, tmp_path: Path) -> None:
    _snapshot(repo)
    policy_id, user_id = _hand_edit(repo, admin)
    saved = tmp_path / "plan.json"
    run("apply", "--repo", str(repo.root), "--plan", "-o", str(saved))
    # Whoever can edit the file can drop the marks: they are worked out again from the writes.
    document = json.loads(saved.read_text())
    for step in document["plan"]["steps"]:
        step["risks"] = []
    saved.write_text(json.dumps(document))

    refused = run("apply", "--repo", str(repo.root), "--plan-file", str(saved), "--yes", ok=False)
    assert refused.exit_code == 1 and "2 high-risk write(s)" in refused.output.splitlines()[-1]
    assert _state(admin, policy_id) == "enabled" and user_id not in _global_admins(admin)

    run("apply", "--repo", str(repo.root), "--plan-file", str(saved), "--yes", "--accept-risk")
    assert _state(admin, policy_id) == "disabled" and user_id in _global_admins(admin)


def test_a_medium_risk_is_marked_but_needs_no_acceptance(repo: BackupRepo, admin: Admin) -> None:
    _snapshot(repo)
    app = admin.get("applications", **{"$select": "id,displayName"})["value"][0]
    owners = {o["id"] for o in admin.get(f"applications/{app['id']}/owners")["value"]}
    newcomer = next(u for u in admin.users("Engineering") if u["id"] not in owners)
    path = Path(repo.root) / "applications" / f"{app['id']}.yaml"
    text = path.read_text()
    listed = "".join(f"- {o}\n" for o in sorted(owners | {newcomer["id"]}))
    if "owners:\n" in text:
        head, _, rest = text.partition("owners:\n")
        tail = "".join(line for line in rest.splitlines(keepends=True) if not line.startswith("- "))
        text = f"{head}owners:\n{listed}{tail}"
    else:
        text += f"owners:\n{listed}"
    path.write_text(text)
    _git(repo, "commit", "-qam", "Another owner")

    output = run("apply", "--repo", str(repo.root), "--yes").output

    assert "RISK MEDIUM: owner-added" in output and "1 medium-risk write(s)" in output and "Verified" in output
    assert newcomer["id"] in {o["id"] for o in admin.get(f"applications/{app['id']}/owners")["value"]}


def test_a_risky_change_the_guardrail_keeps_back_needs_no_acceptance(repo: BackupRepo, admin: Admin) -> None:
    policy = _enabled_policy(admin)
    admin.call("PATCH", f"{CA}/{policy['id']}", json={"state": "disabled", "displayName": "Old name"})
    weak = _snapshot(repo)
    admin.call("PATCH", f"{CA}/{policy['id']}", json={"state": "enabled", "displayName": policy["displayName"]})
    config = repo.root / "entragit.yaml"
    config.write_text(config.read_text() + "restore:\n  never_write:\n    attributes:\n"
                      "      conditionalAccessPolicies: [state]\n")

    output = run("restore", "--repo", str(repo.root), "--at", weak, "--id", policy["id"], "--yes").output

    assert "RISK" not in output and "guardrail" in output
    now = admin.get(f"{CA}/{policy['id']}")
    assert (now["state"], now["displayName"]) == ("enabled", "Old name")
