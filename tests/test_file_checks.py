"""Every file read from git is checked against its type before anything is planned or compared from it.

The backup repository is changed through pull requests, so a file in it may hold anything: a value of the
wrong type, an attribute entragit never stores (a password), an id that is not one, a secret, or YAML
built to exhaust the reader. Each is one error naming the file, its line and the commit, and nothing is
written to the tenant.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from entragit import canonical
from entragit.config import Config
from entragit.errors import StoreError
from entragit.registry import REGISTRY
from entragit.registry.beta import DOCUMENTED
from entragit.sim import Simulator
from entragit.store import BackupRepo, init_repo
from tests.conftest import Admin, run, write_sim_info

_GIT_IDENTITY = {"GIT_AUTHOR_NAME": "Admin", "GIT_AUTHOR_EMAIL": "admin@example.com",
                 "GIT_COMMITTER_NAME": "Admin", "GIT_COMMITTER_EMAIL": "admin@example.com"}
_ID = "3fa5cd0b-2c1e-4c8e-9a55-5f7d1c3b9e01"
_MIB = 2**20


def _commit_edit(repo: BackupRepo, relative: str, edit: Callable[[str], str]) -> str:
    """A hand edit of one file, committed as a reviewer would merge it; returns the commit's short sha."""
    path = repo.root / relative
    path.write_text(edit(path.read_text()))
    env = {**os.environ, **_GIT_IDENTITY}
    subprocess.run(["git", "-C", str(repo.root), "commit", "-qam", "a hand edit"], check=True, env=env)
    return repo.resolve("HEAD")[:12]


def _one_error(*args: str) -> str:
    result = run(*args, ok=False)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]


def _line_of(repo: BackupRepo, relative: str, text: str) -> int:
    lines = (repo.root / relative).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def test_members_that_are_not_a_list_are_refused_before_apply_writes(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    team = admin.group("Sales Team")
    members = admin.members(team["id"])
    assert len(members) >= 5
    relative = f"groups/{team['id']}.yaml"
    commit = _commit_edit(repo, relative, lambda text: re.sub(r"members:\n(- .*\n)+", "members: notalist\n", text))

    error = _one_error("apply", "--repo", str(repo.root), "--yes")

    line = _line_of(repo, relative, "members: notalist")
    assert f"{relative}:{line} in commit {commit}" in error
    assert "members must be a list of object ids (GUIDs), not the text 'notalist'" in error
    assert admin.members(team["id"]) == members


def test_a_display_name_that_is_a_number_is_one_error_in_diff_and_restore(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    team = admin.group("Sales Team")
    admin.call("PATCH", f"groups/{team['id']}", json={"description": "Drifted"})
    relative = f"groups/{team['id']}.yaml"
    commit = _commit_edit(repo, relative, lambda text: text.replace("displayName: Sales Team", "displayName: 123"))
    where = f"{relative}:{_line_of(repo, relative, 'displayName: 123')} in commit {commit}"

    error = _one_error("diff", "HEAD~1", "HEAD", "--repo", str(repo.root))
    assert where in error and "displayName must be text, not the number 123" in error
    assert where in _one_error("restore", "--repo", str(repo.root), "--at", "HEAD", "--id", team["id"], "--yes")
    assert admin.group("Sales Team")["description"] == "Drifted"


def _first(repo: BackupRepo, type_name: str, wanted: Callable[[str], bool] = lambda text: True) -> str:
    found = sorted(p for p in (repo.root / type_name).glob("*.yaml") if wanted(p.read_text()))
    return f"{type_name}/{found[0].name}"


# (type, which of its files, the hand edit, the text the edit leaves on the line named, what the error says)
_BAD_EDITS = [
    pytest.param("users", lambda text: True,
                 lambda text: text + "passwordProfile:\n  password: Chosen-by-the-author-1\n",
                 "passwordProfile:", "'passwordProfile' is not an attribute entragit stores for a user", id="unknown key"),
    pytest.param("users", lambda text: True,
                 lambda text: re.sub(r"accountEnabled: true", "accountEnabled: 'no'", text),
                 "accountEnabled:", "accountEnabled must be true or false, not the text 'no'", id="boolean as text"),
    pytest.param("conditionalAccessPolicies", lambda text: "excludeGroups:" in text,
                 lambda text: re.sub(r"(excludeGroups:\n)", r"\1    - everyone\n", text),
                 "- everyone", "conditions.users.excludeGroups must hold object ids (GUIDs), not the text 'everyone'",
                 id="bad reference"),
    pytest.param("conditionalAccessPolicies", lambda text: "includeUsers:\n    - All" in text,
                 lambda text: text.replace("includeUsers:\n    - All", "includeUsers: All"),
                 "includeUsers: All", "conditions.users.includeUsers must be a list", id="scalar for a list"),
    pytest.param("namedLocations", lambda text: "ipRanges:" in text,
                 lambda text: text + "countriesAndRegions:\n- FR\n",
                 "countriesAndRegions:", "'countriesAndRegions' is not an attribute entragit stores for a named location",
                 id="attribute of another kind"),
    pytest.param("applications", lambda text: "passwordCredentials:" in text,
                 lambda text: text.replace("passwordCredentials:\n- ", "passwordCredentials:\n- secretText: s3cret\n  "),
                 "secretText:", "passwordCredentials holds a secret (secretText)", id="secret"),
    pytest.param("roleAssignments", lambda text: True,
                 lambda text: re.sub(r"principalId: .*", "principalId: someone", text),
                 "principalId:", "principalId must be an object id (a GUID), not the text 'someone'", id="bad id"),
    pytest.param("groups", lambda text: "owners:" in text,
                 lambda text: re.sub(r"mailEnabled: false", "mailEnabled:\n  nested: true", text),
                 "mailEnabled:", "mailEnabled must be true or false, not a mapping", id="mapping for a scalar"),
]


@pytest.mark.parametrize(("type_name", "which", "edit", "line_text", "message"), _BAD_EDITS)
def test_a_bad_hand_edit_is_one_error_naming_file_line_and_commit(
        repo: BackupRepo, type_name: str, which: Callable[[str], bool], edit: Callable[[str], str], line_text: str,
        message: str) -> None:
    run("snapshot", "--repo", str(repo.root))
    relative = _first(repo, type_name, which)
    commit = _commit_edit(repo, relative, edit)

    error = _one_error("diff", "HEAD~1", "HEAD", "--repo", str(repo.root))

    assert f"{relative}:{_line_of(repo, relative, line_text)} in commit {commit}: " in error, error
    assert message in error, error
    object_id = relative.split("/")[1].removesuffix(".yaml")
    assert relative in _one_error("restore", "--repo", str(repo.root), "--at", "HEAD", "--type", type_name,
                                  "--id", object_id, "--plan")


@pytest.mark.parametrize("size", ["small", "medium"])
def test_every_file_of_a_snapshot_passes_the_checks(tmp_path: Path, size: str) -> None:
    with Simulator(seed=7, size=size, state_dir=str(tmp_path / "sim")) as sim:
        info = write_sim_info(sim, tmp_path / "sim.json")
        repo = init_repo(tmp_path / "backup", Config(tenant_id=sim.tenant_id, client_id=sim.client_id,
                                                     simulator=str(info)))
        run("snapshot", "--repo", str(repo.root))
    read = {t.name: len(repo.read_objects("HEAD", t)) for t in REGISTRY.values()}
    assert all(read.values()), read


def test_every_property_the_registry_selects_is_declared_by_graph() -> None:
    from entragit.registry.schema import undeclared

    # A property Graph's metadata does not declare is taken as any value; none is, and a new one is reviewed.
    assert {t.name: undeclared(t) for t in REGISTRY.values() if undeclared(t)} == {}


def test_the_schema_data_names_its_source_and_covers_every_type() -> None:
    data = json.loads((Path(canonical.__file__).parent / "registry" / "graph_schema.json").read_text())
    assert data["source"]["repository"] == "https://github.com/microsoftgraph/msgraph-metadata"
    assert data["source"]["licence"] == "MIT" and data["source"]["commit"]
    # The v1.0 metadata covers every v1.0 type; a type read through beta is either declared there too
    # (protected actions) or, Graph serving it in beta only, documented by its entry: one or the other.
    assert all(name in data["types"] for t in REGISTRY.values() if t.api_version == "v1.0" for name in t.entity_types)
    assert all((name in DOCUMENTED) != (name in data["types"])
               for t in REGISTRY.values() if t.api_version == "beta" for name in t.entity_types)
    assert all(t.entity_types for t in REGISTRY.values())


def _bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return f"id: {_ID}\ndisplayName: bomb\n" + "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(StoreError) as refused:
            canonical.load(_bomb(6), "groups/bomb.yaml", "0123456789abcdef")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(refused.value).startswith("groups/bomb.yaml:3 in commit 0123456789ab: YAML anchors and aliases")
    assert peak < 5 * 2**20


def test_an_alias_bomb_committed_to_the_repository_is_one_error_in_diff(repo: BackupRepo) -> None:
    run("snapshot", "--repo", str(repo.root))
    relative = _first(repo, "groups")
    commit = _commit_edit(repo, relative, lambda text: _bomb(8))

    error = _one_error("diff", "HEAD~1", "HEAD", "--repo", str(repo.root))

    assert f"{relative}:3 in commit {commit}: YAML anchors and aliases are refused (&a0)" in error


@pytest.mark.parametrize(("text", "message"), [
    pytest.param(f"id: {_ID}\ndescription: &d text\ndisplayName: *d\n", ":2: YAML anchors and aliases are refused (&d)",
                 id="anchor"),
    pytest.param(f"id: {_ID}\ndescription: " + "x" * (_MIB + 1) + "\n", ":2: a line over 1 MiB",
                 id="long line"),
    pytest.param(f"id: {_ID}\ndescription: |\n" + "  x\n" * (_MIB // 2 + 1), ":2: a value of",
                 id="long value"),
    pytest.param(f"id: {_ID}\ndescription: " + "[" * 100_000 + "]" * 100_000 + "\n", ":2: nested more than 64 levels",
                 id="deep flow"),
    pytest.param(f"id: {_ID}\ndescription:\n" + "- " * 1000 + "x\n", ":3: nested more than 64 levels", id="deep list"),
    pytest.param(f"id: {_ID}\n" + "".join(" " * 2 * i + f"k{i}:\n" for i in range(200)) + " " * 400 + "v: 1\n",
                 ": nested more than 64 levels", id="deep mapping"),
])
def test_yaml_past_the_limits_is_refused_with_its_line(text: str, message: str) -> None:
    with pytest.raises(StoreError) as refused:
        canonical.load(text, "groups/x.yaml")
    assert str(refused.value).startswith("groups/x.yaml") and message in str(refused.value)


def test_a_value_of_the_wrong_type_in_a_part_of_a_changed_file_is_caught(repo: BackupRepo) -> None:
    # diff parses only the entries that changed: they are checked too, and the error names the whole file's line.
    run("snapshot", "--repo", str(repo.root))
    relative = _first(repo, "namedLocations", lambda text: "countriesAndRegions" in text)
    commit = _commit_edit(repo, relative, lambda text: text + "isTrusted: true\n")
    line = _line_of(repo, relative, "isTrusted: true")
    error = _one_error("diff", "HEAD~1", "HEAD", "--repo", str(repo.root))
    assert f"{relative}:{line} in commit {commit}: 'isTrusted' is not an attribute" in error
