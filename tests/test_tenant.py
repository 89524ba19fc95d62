"""A backup repository is of one tenant: pointed at another, restore, apply and snapshot refuse before
reading or writing anything there, in one line naming both tenants."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from entragit.config import Config
from entragit.sim import Simulator
from entragit.store import BackupRepo, init_repo
from tests.conftest import Admin, run

_IDENTITY = {"GIT_AUTHOR_NAME": "Admin", "GIT_AUTHOR_EMAIL": "admin@example.com",
             "GIT_COMMITTER_NAME": "Admin", "GIT_COMMITTER_EMAIL": "admin@example.com"}


@pytest.fixture
def other_tenant(tmp_path: Path) -> Iterator[Simulator]:
    with Simulator(seed=43, size="small", state_dir=str(tmp_path / "sim-b")) as simulator:
        yield simulator


def point_at(sim_info: Path, tenant: Simulator) -> None:
    """The repository's connection now leads to another tenant (another simulator, other credentials)."""
    sim_info.write_text(json.dumps(tenant.info()))


def refusal(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, output
    return lines[0]


def assert_refused(output: str, sim: Simulator, other: Simulator, consequence: str) -> None:
    line = refusal(output)
    assert f"is of tenant {sim.tenant_id}; the sign-in is to tenant {other.tenant_id}: {consequence}" in line
    assert other.stats.http_requests == 0  # not a read, not a write: only the sign-in reached tenant B


def test_restore_into_another_tenant_is_refused_before_reading_it(repo: BackupRepo, sim: Simulator, sim_info: Path,
                                                                    other_tenant: Simulator) -> None:
    run("snapshot", "--repo", str(repo.root))
    locations = set(other_tenant.tenant.objects["namedLocations"])
    point_at(sim_info, other_tenant)

    for extra in (("--yes",), ("--plan",)):
        result = run("restore", "--repo", str(repo.root), "--at", "HEAD", "--type", "namedLocations", *extra, ok=False)

        assert result.exit_code == 1
        assert_refused(result.output, sim, other_tenant, "nothing read or written")
    assert set(other_tenant.tenant.objects["namedLocations"]) == locations


def test_apply_and_a_saved_plan_into_another_tenant_are_refused(repo: BackupRepo, sim: Simulator, sim_info: Path,
                                                                other_tenant: Simulator, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    group = admin.group("Sales Team")
    admin.call("PATCH", f"groups/{group['id']}", json={"description": "changed by hand"})
    run("snapshot", "--repo", str(repo.root))
    snapshot = repo.resolve("HEAD")
    # Undo the change in git: the commit to apply is a revert, with no trailer of its own.
    repo.git.git.revert("--no-edit", "HEAD", env=_IDENTITY)
    plan = repo.root.parent / "plan.json"
    run("apply", "--repo", str(repo.root), "--plan", "-o", str(plan))
    point_at(sim_info, other_tenant)

    applied = run("apply", "--repo", str(repo.root), "--yes", ok=False)
    saved = run("apply", "--repo", str(repo.root), "--plan-file", str(plan), "--yes", ok=False)

    for result in (applied, saved):
        assert result.exit_code == 1
        assert_refused(result.output, sim, other_tenant, "nothing read or written")
    # The revert is no snapshot: the newest one before it is.
    assert f"snapshot {snapshot[:10]} (the newest reachable from {repo.resolve('HEAD')[:10]}) is of" in applied.output


def test_a_live_diff_against_another_tenant_is_refused(repo: BackupRepo, sim: Simulator, sim_info: Path,
                                                      other_tenant: Simulator) -> None:
    run("snapshot", "--repo", str(repo.root))
    point_at(sim_info, other_tenant)

    result = run("diff", "HEAD", "--live", "--repo", str(repo.root), ok=False)

    assert result.exit_code == 1
    assert_refused(result.output, sim, other_tenant, "nothing compared")


def test_a_snapshot_of_another_tenant_is_refused_not_recorded_as_a_mass_deletion(
        repo: BackupRepo, sim: Simulator, sim_info: Path, other_tenant: Simulator) -> None:
    run("snapshot", "--repo", str(repo.root))
    head, branches = repo.resolve("HEAD"), {str(b) for b in repo.git.branches}
    point_at(sim_info, other_tenant)

    result = run("snapshot", "--repo", str(repo.root), ok=False)

    assert result.exit_code == 1
    assert_refused(result.output, sim, other_tenant, "nothing read or committed")
    assert "suspect" not in result.output
    assert repo.resolve("HEAD") == head and {str(b) for b in repo.git.branches} == branches


def test_snapshots_record_the_tenant_id_and_older_ones_naming_the_domain_still_match(
        sim: Simulator, sim_info: Path, tmp_path: Path, admin: Admin) -> None:
    # Configured by its domain name, as Entra allows: the token names the tenant by its id.
    repo = init_repo(tmp_path / "by-domain", Config(tenant_id=sim.tenant.domain, client_id=sim.client_id,
                                                    simulator=str(sim_info)))
    run("snapshot", "--repo", str(repo.root))
    message = str(repo.git.head.commit.message)
    assert f"\nEntragit-Tenant: {sim.tenant_id}\n" in message
    # A snapshot taken before entragit read the tenant from the token recorded the configured name.
    repo.git.git.commit("--amend", "-m", message.replace(sim.tenant_id, sim.tenant.domain), env=_IDENTITY)
    user = admin.users("Finance")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Still the same tenant"})

    assert run("snapshot", "--repo", str(repo.root)).output.startswith("Snapshot ")
