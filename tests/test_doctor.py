"""`entragit doctor` against the simulated tenant: one line per check, and for each missing thing the exact
Graph permission, setting or command that fixes it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from entragit.ci.templates import template_text
from entragit.registry import REGISTRY
from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import run
from tests.test_permissions import READ_ONLY
from tests.test_tenant import point_at


def lines(output: str) -> dict[str, tuple[str, str]]:
    """check -> (status, detail), from doctor's `status   check: detail` lines."""
    found = {}
    for line in output.splitlines():
        status, _, rest = line.partition(" ")
        if status in ("ok", "missing", "note"):
            check, _, detail = rest.strip().partition(": ")
            found[check] = (status, detail)
    return found


def with_remote(repo: BackupRepo, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    repo.git.git.remote("add", "origin", str(remote))
    repo.git.git.push("-q", "origin", "HEAD:main")
    return remote


def test_a_type_the_app_may_not_read_is_named_with_the_permission_that_fixes_it(repo: BackupRepo, sim: Simulator,
                                                                               tmp_path: Path) -> None:
    with_remote(repo, tmp_path)
    sim.settings.app_roles = ",".join(READ_ONLY)

    result = run("doctor", "--repo", str(repo.root), ok=False)

    found = lines(result.output)
    unreadable = sorted(t.name for t in REGISTRY.values() if t.read_permission not in READ_ONLY)
    assert "conditionalAccessPolicies" in unreadable and "users" not in unreadable
    for name, object_type in REGISTRY.items():
        status, detail = found[f"read {name}"]
        if name in unreadable:
            assert status == "missing", (name, detail)
            assert detail.startswith("Graph refused (")
            assert f"grant the app the application permission {object_type.read_permission} " in detail
        else:
            assert (status, detail) == ("ok", object_type.read_permission)
    assert found["sign-in"][0] == "ok" and found["tenant"][0] == "ok"
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == f"error: {len(unreadable)} check(s) found something missing (see above)"
    assert not any(name.startswith("write ") for name in found)  # only with --write


def test_write_names_each_restore_permission_the_app_lacks(repo: BackupRepo, sim: Simulator, tmp_path: Path) -> None:
    with_remote(repo, tmp_path)
    # Directory.ReadWrite.All writes groups and users (their own permissions are included in it), not policies.
    sim.settings.app_roles = "Directory.ReadWrite.All,Policy.Read.All"

    found = lines(run("doctor", "--write", "--repo", str(repo.root), ok=False).output)

    assert found["write groups"][0] == "ok"
    assert "RoleManagement.ReadWrite.Directory, to change the members of a role-assignable group" in found["write groups"][1]
    assert found["write conditionalAccessPolicies"] == (
        "missing", "grant the restore app the application permission Policy.ReadWrite.ConditionalAccess")
    assert found["write users"][0] == "ok" and "Privileged Authentication Administrator" in found["write users"][1]
    assert found["read conditionalAccessPolicies"] == ("ok", "Policy.Read.All")


def test_a_ready_repository_passes_every_check(repo: BackupRepo, tmp_path: Path) -> None:
    with_remote(repo, tmp_path)
    run("snapshot", "--repo", str(repo.root))
    run("init", "--refresh", str(repo.root))

    result = run("doctor", "--write", "--repo", str(repo.root))

    found = lines(result.output)
    assert {check: status for check, (status, _) in found.items() if status != "ok"} == {"pipelines": "note"}
    assert found["git remote"][1].endswith("answers; its default branch is main")
    assert found["tenant"][1].startswith("the newest snapshot ")
    assert found["connection"][1].startswith("a simulated tenant described by ")
    assert found["connection"][1].endswith("(from git config entragit.simulator)")


def test_a_remote_that_does_not_answer_is_named_without_its_password(repo: BackupRepo, tmp_path: Path) -> None:
    repo.git.git.remote("add", "origin", "https://backup:s3cret-token@127.0.0.1:9/tenant.git")

    result = run("doctor", "--repo", str(repo.root), ok=False)

    status, detail = lines(result.output)["git remote"]
    assert status == "missing"
    assert detail.startswith("origin (https://127.0.0.1:9/tenant.git) did not answer `git ls-remote`: ")
    assert "s3cret" not in result.output


def test_a_repository_without_a_remote_says_how_to_add_one(repo: BackupRepo) -> None:
    found = lines(run("doctor", "--repo", str(repo.root), ok=False).output)

    assert found["git remote"] == ("missing", "none: a pipeline clones and pushes the backup through one; add it "
                                              "with `git remote add origin URL` and `git push -u origin HEAD`")


def test_a_sign_in_to_another_tenant_is_named_with_both(repo: BackupRepo, sim: Simulator, sim_info: Path,
                                                        tmp_path: Path) -> None:
    run("snapshot", "--repo", str(repo.root))
    with Simulator(seed=43, size="small", state_dir=str(tmp_path / "sim-b")) as other:
        point_at(sim_info, other)
        found = lines(run("doctor", "--repo", str(repo.root), ok=False).output)

    status, detail = found["tenant"]
    assert status == "missing"
    assert f"is of tenant {sim.tenant_id}; the sign-in is to tenant {other.tenant_id}" in detail


def test_a_refused_sign_in_stops_the_graph_checks_and_not_the_others(repo: BackupRepo, sim_info: Path,
                                                                     tmp_path: Path) -> None:
    with_remote(repo, tmp_path)
    info = json.loads(sim_info.read_text())
    sim_info.write_text(json.dumps({**info, "client_secret": "not the secret"}))

    found = lines(run("doctor", "--repo", str(repo.root), ok=False).output)

    assert found["sign-in"][0] == "missing"
    assert found["sign-in"][1].endswith("(the permission checks need a sign-in)")
    assert not any(check.startswith("read ") for check in found)
    assert found["git remote"][0] == "ok"


@pytest.mark.parametrize("setting, expected", [
    ("colour: blue\n", "unknown setting(s) colour"),
    ("graph_url: https://graph.example.com\n", "graph_url is no longer read from the repository"),
])
def test_a_bad_entragit_yaml_is_the_one_finding(repo: BackupRepo, setting: str, expected: str) -> None:
    config = repo.root / "entragit.yaml"
    config.write_text(config.read_text() + setting)

    result = run("doctor", "--repo", str(repo.root), ok=False)

    assert result.output.splitlines()[0].startswith("missing  entragit.yaml: ")
    assert expected in result.output.splitlines()[0]
    assert result.output.splitlines()[0].endswith("(the other checks need it)")
    assert result.exit_code == 1 and len(result.output.splitlines()) == 2


def test_pipeline_files_are_compared_with_entragits_templates(repo: BackupRepo) -> None:
    workflows = repo.root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    template = template_text("github", "entragit-matrix.yml")
    (workflows / "entragit-matrix.yml").write_text(template)
    (workflows / "entragit-extra.yml").write_text("name: ours\n")

    before = lines(run("doctor", "--repo", str(repo.root), ok=False).output)
    (workflows / "entragit-matrix.yml").write_text(template.replace('"17 3 * * *"', '"0 1 * * *"'))
    after = lines(run("doctor", "--repo", str(repo.root), ok=False).output)

    assert before["pipeline .github/workflows/entragit-matrix.yml"] == ("ok", "the same as entragit's template")
    assert before["pipeline .github/workflows/entragit-extra.yml"] == ("note", "not one of entragit's templates: not compared")
    assert "pipelines" not in before
    assert after["pipeline .github/workflows/entragit-matrix.yml"] == (
        "note", "changed from entragit's template github/entragit-matrix.yml: keep the change if it is meant, or "
                "take the template's again")
