"""Plain git diff and git log -p in a backup repository show display names beside ids, through the diff
driver `entragit init` sets up; names come from HEAD, through an index cached per HEAD tree."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Admin, run

from entragit.sim import Simulator


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def _backup_with_new_member(tmp_path: Path, sim_info: Path, sim: Simulator, admin: Admin) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "backup"
    run("init", str(root), "--sim", str(sim_info))
    run("snapshot", "--repo", str(root))
    group = admin.group("Finance Team")
    member = next(u for u in admin.get("users", **{"$top": "20", "$select": "id,displayName"})["value"]
                  if u["id"] not in admin.members(group["id"]))
    admin.call("POST", f"groups/{group['id']}/members/$ref",
               json={"@odata.id": f"{sim.graph_url}/v1.0/directoryObjects/{member['id']}"})
    run("snapshot", "--repo", str(root))
    return root, member


def test_git_diff_and_log_show_the_member_name_beside_its_id(tmp_path: Path, sim_info: Path, sim: Simulator,
                                                              admin: Admin) -> None:
    root, member = _backup_with_new_member(tmp_path, sim_info, sim, admin)
    named = f"+- {member['id']}  # {member['displayName']}"

    assert named in _git(root / "users", "diff", "HEAD~1", "HEAD").splitlines()  # from a subfolder too
    assert named in _git(root, "log", "-p", "-1", "--format=").splitlines()
    assert f"+- {member['id']}" in _git(root, "diff", "--no-textconv", "HEAD~1", "HEAD").splitlines()
    # The group's own id line carries no name; a CA policy names its excluded group.
    group_file = _git(root, "show", "--textconv", f"HEAD:groups/{admin.group('Finance Team')['id']}.yaml")
    assert group_file.startswith("id: ") and "#" not in group_file.splitlines()[0]
    assert named[1:] in group_file.splitlines()
    policies = _git(root, "log", "-p", "--format=", "--", "conditionalAccessPolicies")
    assert "# CA Exclusion - Break Glass" in policies


def test_names_come_from_an_index_cached_per_head_tree(tmp_path: Path, sim_info: Path, sim: Simulator,
                                                        admin: Admin) -> None:
    root, member = _backup_with_new_member(tmp_path, sim_info, sim, admin)
    _git(root, "diff", "HEAD~1", "HEAD")
    tree = _git(root, "rev-parse", "HEAD^{tree}").strip()
    cache = root / ".git" / "entragit" / "names" / f"{tree}.tsv"
    lines = cache.read_text().splitlines()
    index = {key: json.loads(name) for key, name in (line.split("\t") for line in lines)}
    assert index[member["id"]] == member["displayName"] and lines == sorted(lines)

    cache.write_text(cache.read_text().replace(json.dumps(member["displayName"]), '"Read From The Cache"'))
    assert f"+- {member['id']}  # Read From The Cache" in _git(root, "diff", "HEAD~1", "HEAD").splitlines()

    # A name YAML must quote (a colon, an apostrophe) is read back as the name itself.
    admin.call("PATCH", f"users/{member['id']}", json={"displayName": "O'Brien: Renamed"})
    run("snapshot", "--repo", str(root))
    assert f"+- {member['id']}  # O'Brien: Renamed" in _git(root, "diff", "HEAD~2", "HEAD~1").splitlines()
    assert not cache.exists()  # a new HEAD tree, a new index


def test_a_clone_gets_names_after_init_refresh(tmp_path: Path, sim_info: Path, sim: Simulator, admin: Admin) -> None:
    root, member = _backup_with_new_member(tmp_path, sim_info, sim, admin)
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(root), str(clone))
    assert f"+- {member['id']}" in _git(clone, "diff", "HEAD~1", "HEAD").splitlines()

    run("init", "--refresh", str(clone))

    assert f"+- {member['id']}  # {member['displayName']}" in _git(clone, "diff", "HEAD~1", "HEAD").splitlines()


def test_entragit_never_runs_the_diff_driver_itself(tmp_path: Path, sim_info: Path, sim: Simulator,
                                                    admin: Admin) -> None:
    """git runs the driver once per file it converts: a `git log -S` over a large history through it takes
    minutes. The driver is the one `entragit init` configures, wrapped to record each time git runs it."""
    root, member = _backup_with_new_member(tmp_path, sim_info, sim, admin)
    calls = tmp_path / "driver-calls"
    wrapper = tmp_path / "counting-driver.sh"
    wrapper.write_text(f'printf "%s\\n" "$1" >> "{calls}"\nexec {_git(root, "config", "diff.entragit.textconv").strip()} "$@"\n')
    _git(root, "config", "diff.entragit.textconv", f"sh {wrapper}")
    admin.call("PATCH", f"users/{member['id']}", json={"jobTitle": "Counted"})
    run("snapshot", "--repo", str(root))

    output = run("log", member["id"], "--repo", str(root)).output
    run("diff", "--repo", str(root))
    run("prune", "--keep-daily", "1", "--keep-monthly", "1", "--repo", str(root))

    assert "Counted" in output and "members + " in output  # its own change, and the group that took it in
    assert not calls.exists()
    # The same driver, run by a plain git command, is recorded and shows names: the check above can fail.
    assert f"+- {member['id']}  # {member['displayName']}" in _git(root, "log", "-p", "--format=", "HEAD~2..HEAD~1")
    assert calls.read_text().count("\n") >= 2


def test_init_refresh_mends_a_driver_that_names_a_moved_interpreter(tmp_path: Path, sim_info: Path, sim: Simulator,
                                                                    admin: Admin) -> None:
    root, member = _backup_with_new_member(tmp_path, sim_info, sim, admin)
    _git(root, "config", "diff.entragit.textconv", f"{tmp_path}/moved-venv/bin/python3 -m entragit textconv")
    with pytest.raises(subprocess.CalledProcessError):
        _git(root, "diff", "HEAD~1", "HEAD")  # what a moved venv did to every git diff

    first = run("init", "--refresh", str(root)).output.splitlines()
    second = run("init", "--refresh", str(root)).output.splitlines()

    assert f"git diff in {root} now shows display names beside ids (diff driver updated)." in first
    assert f"git diff in {root} already shows display names beside ids." in second
    assert "moved-venv" not in _git(root, "config", "diff.entragit.textconv")
    assert f"+- {member['id']}  # {member['displayName']}" in _git(root, "diff", "HEAD~1", "HEAD").splitlines()


def test_the_driver_starts_without_the_command_line_once_names_are_cached(tmp_path: Path, sim_info: Path,
                                                                          sim: Simulator, admin: Admin) -> None:
    """Git starts the driver once per file it shows: with HEAD's names cached it loads neither click nor
    the registry and its YAML reader, which were most of a run's start-up."""
    root, member = _backup_with_new_member(tmp_path, sim_info, sim, admin)
    assert _git(root, "config", "diff.entragit.textconv").strip() == "entragit-textconv"
    _git(root, "diff", "HEAD~1", "HEAD")  # builds HEAD's index
    group_file = next((root / "groups").glob("*.yaml"))

    traced = subprocess.run(["python3", "-X", "importtime", "-m", "entragit.textconv", str(group_file)], cwd=root,
                            capture_output=True, text=True, check=True)

    loaded = {line.rsplit("|", 1)[-1].strip() for line in traced.stderr.splitlines() if line.startswith("import time:")}
    assert "entragit.textconv" in loaded
    assert {"click", "entragit.registry", "ruamel.yaml", "entragit.cli"} & loaded == set()
    assert traced.stdout == _git(root, "show", "--textconv", f"HEAD:groups/{group_file.name}")


def test_a_repository_set_up_before_the_driver_had_its_own_script_still_shows_names(
        tmp_path: Path, sim_info: Path, sim: Simulator, admin: Admin) -> None:
    root, member = _backup_with_new_member(tmp_path, sim_info, sim, admin)
    _git(root, "config", "diff.entragit.textconv", "entragit textconv")

    assert f"+- {member['id']}  # {member['displayName']}" in _git(root, "diff", "HEAD~1", "HEAD").splitlines()
    assert "diff driver updated" in run("init", "--refresh", str(root)).output
    assert _git(root, "config", "diff.entragit.textconv").strip() == "entragit-textconv"
