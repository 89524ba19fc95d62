"""Least privilege: a snapshot by an app that may not read some types names each of them and commits the
rest; a restore checks, from its plan, that the app holds every write permission it needs before writing."""

from __future__ import annotations

import re
from pathlib import Path

from entragit.attribution import AUDIT_PERMISSION
from entragit.graph import GraphClient
from entragit.registry import REGISTRY
from entragit.restore import Request, prepare
from entragit.selection import Selection
from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin, run

# Read permissions only, and not Policy.Read.All nor Directory.Read.All: an app meant to back up the
# directory's objects without its policies.
READ_ONLY = ("User.Read.All", "Group.Read.All", "Application.Read.All", "AdministrativeUnit.Read.All",
             "Organization.Read.All", "RoleManagement.Read.Directory", "RoleEligibilitySchedule.Read.Directory")


def test_a_snapshot_names_every_type_it_could_not_read_and_commits_the_rest(repo: BackupRepo, sim: Simulator,
                                                                            admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    kept = {name: sorted(p.read_text() for p in (repo.root / name).glob("*.yaml")) for name in REGISTRY}
    user = admin.users("Finance")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Read with less"})
    sim.settings.app_roles = ",".join(READ_ONLY)

    result = run("snapshot", "--repo", str(repo.root), ok=False)

    unreadable = sorted(t.name for t in REGISTRY.values() if t.read_permission not in READ_ONLY)
    assert "conditionalAccessPolicies" in unreadable and "users" not in unreadable
    assert result.exit_code == 1
    for name in unreadable:
        permission = REGISTRY[name].read_permission
        assert f"note: {name}: skipped, Graph refused to read it (" in result.output
        assert f"grant {permission} to back it up" in result.output
    assert f"error: {len(unreadable)} type(s) not read, their files kept as they were: " in result.output
    message = str(repo.git.head.commit.message)
    assert "Read with less" in (repo.root / "users" / f"{user['id']}.yaml").read_text()
    for name in unreadable:
        assert f"Entragit-Type: {name} count={len(kept[name])} mode=skipped" in message
        assert sorted(p.read_text() for p in (repo.root / name).glob("*.yaml")) == kept[name]
    assert "Entragit-Type: users count=" in message and "mode=skipped" not in message.split("Entragit-Type: users")[1].split("\n")[0]


def test_a_restore_needing_a_permission_the_app_lacks_is_refused_before_any_write(repo: BackupRepo, sim: Simulator,
                                                                                 admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    group = admin.group("Sales Team")
    admin.call("PATCH", f"groups/{group['id']}", json={"description": "changed by hand"})
    policy = admin.get("identity/conditionalAccess/policies")["value"][0]
    admin.call("PATCH", f"identity/conditionalAccess/policies/{policy['id']}", json={"state": "disabled"})
    # Directory.ReadWrite.All writes groups (Group.ReadWrite.All is included in it), not Conditional Access.
    sim.settings.app_roles = "Directory.ReadWrite.All,Policy.Read.All"
    branches = {str(b) for b in repo.git.branches}
    sim.stats.reset()

    result = run("restore", "--repo", str(repo.root), "--at", "HEAD", "--type", "groups",
                 "--type", "conditionalAccessPolicies", "--yes", ok=False)

    assert result.exit_code == 1
    refused = [line for line in result.output.splitlines() if line.startswith("Refused: ")]
    assert refused == ["Refused: the app lacks the application permission Policy.ReadWrite.ConditionalAccess, "
                       "needed to write conditionalAccessPolicies"]
    assert "error: nothing written" in result.output
    assert sim.stats.writes == 0  # batch items included
    assert {key.split(" ")[0] for key in sim.stats.snapshot()["per_path"] if key != "POST $batch"} == {"GET"}
    assert {str(b) for b in repo.git.branches} == branches  # not even the snapshot before writing
    assert admin.group("Sales Team")["description"] == "changed by hand"
    assert admin.get(f"identity/conditionalAccess/policies/{policy['id']}")["state"] == "disabled"


def test_a_token_that_names_no_roles_is_said_not_to_be_checked(repo: BackupRepo, sim: Simulator, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    group = admin.group("Sales Team")
    admin.call("PATCH", f"groups/{group['id']}", json={"description": "changed by hand"})
    # A delegated token (an admin signed in) carries scopes, not application roles.
    token = sim.user_token(next(iter(sim.tenant.objects["users"].values()))["userPrincipalName"])
    client = GraphClient(sim.graph_url, lambda: token, ca_bundle=sim.ca_bundle)
    request = Request("restore", "HEAD", Selection(("groups",), (group["id"],)))

    prepared = prepare(repo, client, request)

    assert prepared.pending.steps and prepared.refusals == []
    assert [note.split(" (")[0] for note in prepared.notes] == ["the app's permissions could not be checked before writing"]


def test_the_readme_registers_the_apps_with_exactly_the_permissions_the_registry_needs() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")

    def listed(name: str) -> set[str]:
        found = re.search(rf'^{name}="([^"]*)"', readme, re.MULTILINE)
        assert found, f"no {name}= list in the README's registration script"
        return set(found[1].split())

    assert listed("READ") == {t.read_permission for t in REGISTRY.values()} | {AUDIT_PERMISSION}
    assert listed("WRITE") == {p for t in REGISTRY.values() for p in t.write_permissions}
    # The table above the script names the same permissions.
    rows = {line.split("|")[1].strip(): set(re.findall(r"`([A-Za-z]+\.[A-Za-z0-9.]+)`", line))
            for line in readme.splitlines() if line.startswith(("| read-only | `snapshot`", "| restore | `restore`"))}
    assert rows == {"read-only": listed("READ"), "restore": listed("WRITE")}
