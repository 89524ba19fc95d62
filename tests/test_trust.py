"""The backup repository is changed through pull requests: nothing in its files may choose where the
credential goes, nor loosen a guardrail that the trusted branch does not loosen."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from entragit.config import CONFIG_FILE, Config
from entragit.sim import Simulator
from entragit.store import BackupRepo, init_repo
from tests.conftest import Admin, run


@pytest.fixture(autouse=True)
def reviewer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Who commits changes to entragit.yaml here."""
    for kind in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{kind}_NAME", "Reviewer")
        monkeypatch.setenv(f"GIT_{kind}_EMAIL", "reviewer@example.com")


class Listener:
    """A TCP port that records every connection made to it: the host a hostile file names."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)  # a blocked accept() would outlive close() and keep the port
        self.url = f"https://127.0.0.1:{self._socket.getsockname()[1]}"
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                try:
                    self.received.append(connection.recv(65536))
                except OSError:
                    self.received.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    host = Listener()
    try:
        yield host
    finally:
        host.close()


def _settings(repo: BackupRepo, commit: str | None = None, **sections: Any) -> None:
    """Change entragit.yaml in the working tree, and commit it on the current branch when asked."""
    path = repo.root / CONFIG_FILE
    yaml = YAML()
    data = yaml.load(path.read_text())
    data.update(sections)
    with path.open("w") as handle:
        yaml.dump(data, handle)
    if commit:
        repo.git.git.add("--", CONFIG_FILE)
        repo.git.git.commit("-q", "-m", commit)


def _pull_request(repo: BackupRepo, **sections: Any) -> None:
    """A branch that is not the trusted one, with a commit changing entragit.yaml: a pull request."""
    repo.git.git.checkout("-q", "-b", "pull-request")
    _settings(repo, "Loosen the guardrails", **sections)


def _local_config(root: Path, key: str) -> str:
    return str(BackupRepo(root).git.git.config("--local", "--get", key))


def _snapshot(repo: BackupRepo) -> str:
    run("snapshot", "--repo", str(repo.root))
    return repo.resolve("HEAD")


def _job_titles(admin: Admin, users: list[dict[str, Any]]) -> list[str | None]:
    return [admin.get(f"users/{u['id']}", **{"$select": "jobTitle"}).get("jobTitle") for u in users]


# -- where the credential goes ---------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["secret", "federated"])
def test_hosts_in_entragit_yaml_are_refused_and_nothing_reaches_them(
        tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch, auth: str) -> None:
    repo = init_repo(tmp_path / "backup", Config(tenant_id="72f988bf-0000-0000-0000-000000000001",
                                                 client_id="4a1aa1d5-0000-0000-0000-000000000002", auth=auth))
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "the-client-secret")
    assertion = tmp_path / "assertion"
    assertion.write_text("the-federated-assertion")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(assertion))
    with (repo.root / CONFIG_FILE).open("a") as handle:
        handle.write(f"authority_host: {listener.url}\ngraph_url: {listener.url}\n")
    repo.git.git.commit("-q", "-am", "Use our regional endpoint")
    head = repo.resolve("HEAD")

    result = run("snapshot", "--repo", str(repo.root), ok=False)

    assert listener.received == []
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: ") and CONFIG_FILE in line
    assert "graph_url, authority_host are no longer read from the repository" in line
    assert "ENTRAGIT_GRAPH_URL" in line and "entragit.authorityHost" in line
    assert repo.resolve("HEAD") == head


def test_a_simulator_file_named_in_entragit_yaml_is_refused(repo: BackupRepo, sim: Simulator,
                                                            listener: Listener) -> None:
    planted = repo.root / "regional.json"
    planted.write_text(json.dumps({**sim.info(), "graph_url": listener.url,
                                   "authority": f"{listener.url}/{sim.tenant_id}"}))
    _settings(repo, simulator=str(planted))

    result = run("snapshot", "--repo", str(repo.root), ok=False)

    assert listener.received == []
    assert result.exit_code == 1
    assert "simulator is no longer read from the repository" in result.output
    assert "ENTRAGIT_SIMULATOR" in result.output


def test_init_keeps_the_simulator_in_the_clones_git_config_and_the_environment_overrides_it(
        sim: Simulator, sim_info: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backup = tmp_path / "backup"
    run("init", str(backup), "--sim", str(sim_info))

    assert "simulator:" not in (backup / CONFIG_FILE).read_text()
    assert _local_config(backup, "entragit.simulator") == str(sim_info.resolve())
    # main, where the pipelines `init --ci` writes run, unless the machine's git names another default.
    assert _local_config(backup, "entragit.trustedRef") == "refs/heads/main"
    run("snapshot", "--repo", str(backup))

    BackupRepo(backup).git.git.config("--local", "entragit.simulator", str(tmp_path / "gone.json"))
    assert "gone.json not found" in run("snapshot", "--repo", str(backup), ok=False).output
    monkeypatch.setenv("ENTRAGIT_SIMULATOR", str(sim_info))
    assert "No changes since the last snapshot" in run("snapshot", "--repo", str(backup)).output


@pytest.mark.parametrize("where", ["environment", "git config"])
def test_hosts_and_the_app_given_outside_the_repository_are_used(
        sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    # entragit.yaml names the read-only app; the run signs in as another one, given outside the repository.
    repo = init_repo(tmp_path / "backup", Config(tenant_id=sim.tenant_id, client_id="the-read-only-app"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_bundle)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", sim.client_secret)
    settings = {"ENTRAGIT_GRAPH_URL": ("entragit.graphUrl", sim.graph_url),
                "ENTRAGIT_AUTHORITY_HOST": ("entragit.authorityHost", sim.graph_url),
                "ENTRAGIT_CLIENT_ID": ("entragit.clientId", sim.client_id)}
    for env, (git_key, value) in settings.items():
        if where == "environment":
            monkeypatch.setenv(env, value)
        else:
            repo.git.git.config("--local", git_key, value)

    assert "Snapshot " in run("snapshot", "--repo", str(repo.root)).output
    assert len(list((repo.root / "users").glob("*.yaml"))) > 100


@pytest.mark.parametrize(("env", "git_key", "value"), [
    ("ENTRAGIT_AUTHORITY_HOST", None, "http://login.example"),
    (None, "entragit.graphUrl", "https://graph.example:port"),
])
def test_a_host_that_is_not_https_is_one_line(repo: BackupRepo, monkeypatch: pytest.MonkeyPatch,
                                               env: str | None, git_key: str | None, value: str) -> None:
    if env:
        monkeypatch.setenv(env, value)
    else:
        repo.git.git.config("--local", str(git_key), value)
    head = repo.resolve("HEAD")

    result = run("snapshot", "--repo", str(repo.root), ok=False)

    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: ") and (env or git_key or "") in line and "https URL" in line
    assert repo.resolve("HEAD") == head


# -- guardrails: strictest of the working tree and the trusted branch --------------------------------------


def test_a_pull_request_cannot_raise_max_writes(repo: BackupRepo, admin: Admin,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _settings(repo, "Two writes a run at most", restore={"max_writes": 2})
    good = _snapshot(repo)
    users = admin.users("Support")[:3]
    for user in users:
        admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})
    trusted = repo.git.git.symbolic_ref("HEAD")  # the branch init made
    _pull_request(repo, restore={"max_writes": 5000})
    args = ["restore", "--repo", str(repo.root), "--at", good, *[a for u in users for a in ("--id", u["id"])], "--yes"]

    refused = run(*args, ok=False)

    assert refused.exit_code == 1 and "more than the 2 allowed" in refused.output
    assert (f"note: {CONFIG_FILE} in the working tree raises restore.max_writes to 5000; 2 applies, as committed "
            f"on {trusted}") in refused.output
    assert _job_titles(admin, users) == ["Changed"] * 3
    # The person running may raise it for a run, from outside the repository.
    monkeypatch.setenv("ENTRAGIT_MAX_WRITES", "3")
    assert "Verified" in run(*args).output
    assert _job_titles(admin, users) == [u["jobTitle"] for u in users]


def test_a_pull_request_that_empties_never_write_still_leaves_the_break_glass_account_alone(
        repo: BackupRepo, admin: Admin) -> None:
    break_glass = admin.get("users", **{"$filter": "department eq 'Support'",
                                        "$select": "id,jobTitle,userPrincipalName"})["value"][0]
    _settings(repo, "Protect the break-glass account",
              restore={"never_write": {"objects": [break_glass["userPrincipalName"]]}})
    good = _snapshot(repo)
    admin.call("PATCH", f"users/{break_glass['id']}", json={"jobTitle": "Changed"})
    _pull_request(repo, restore={"never_write": {"objects": []}})

    output = run("restore", "--repo", str(repo.root), "--at", good, "--id", break_glass["id"], "--yes").output

    assert "guardrail" in output and break_glass["id"] in output
    assert f"drops {break_glass['userPrincipalName']} from restore.never_write.objects; it stays" in output
    assert _job_titles(admin, [break_glass]) == ["Changed"]


def test_a_commit_on_the_trusted_branch_loosens_a_guardrail(repo: BackupRepo, admin: Admin) -> None:
    _settings(repo, "Two writes a run at most", restore={"max_writes": 2})
    good = _snapshot(repo)
    users = admin.users("Support")[:3]
    for user in users:
        admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Changed"})
    _settings(repo, "Three writes a run", restore={"max_writes": 3})

    result = run("restore", "--repo", str(repo.root), "--at", good,
                 *[a for u in users for a in ("--id", u["id"])], "--yes")

    assert "Verified" in result.output and "note:" not in result.output
    assert _job_titles(admin, users) == [u["jobTitle"] for u in users]


def test_the_working_tree_cannot_let_a_mass_deletion_through_the_guard(repo: BackupRepo, admin: Admin) -> None:
    head = _snapshot(repo)
    for department in ("Engineering", "Support", "Operations"):
        for user in admin.users(department)[:30]:
            admin.call("DELETE", f"users/{user['id']}")
    _settings(repo, guard={"vanished_share": 1.0})

    held = run("snapshot", "--repo", str(repo.root), ok=False)

    assert held.exit_code == 1 and "held back as suspect" in held.output
    assert "raises guard.vanished_share to 1.0; 0.2 applies" in held.output
    assert repo.resolve("HEAD") == head


def test_a_clone_trusts_its_remote_default_branch(repo: BackupRepo, tmp_path: Path) -> None:
    _settings(repo, "Two writes a run at most", restore={"max_writes": 2})
    clone = tmp_path / "clone"
    repo.git.git.clone("-q", str(repo.root), str(clone))
    (clone / CONFIG_FILE).write_text((clone / CONFIG_FILE).read_text().replace("max_writes: 2", "max_writes: 5000"))

    config = BackupRepo(clone).config
    assert config.restore.max_writes == 2
    assert config.notes == (f"{CONFIG_FILE} in the working tree raises restore.max_writes to 5000; 2 applies, as "
                            "committed on refs/remotes/origin/HEAD (guardrails are loosened only by a commit on "
                            "the trusted branch)",)
    assert config.simulator is None

    run("init", "--refresh", str(clone))

    remote_default = BackupRepo(clone).git.git.symbolic_ref("refs/remotes/origin/HEAD")
    assert _local_config(clone, "entragit.trustedRef") == remote_default
    assert BackupRepo(clone).config.simulator is None


def test_without_a_trusted_branch_the_defaults_are_the_baseline(repo: BackupRepo) -> None:
    repo.git.git.config("--local", "--unset-all", "entragit.trustedRef", with_exceptions=False)
    _settings(repo, restore={"max_writes": 5000}, guard={"vanished_share": 0.1, "minimum_objects": 50})

    config = BackupRepo(repo.root).config

    assert (config.restore.max_writes, config.guard.vanished_share, config.guard.minimum_objects) == (500, 0.1, 20)
    assert [note.split(";")[0] for note in config.notes] == [
        f"{CONFIG_FILE} in the working tree raises guard.minimum_objects to 50",
        f"{CONFIG_FILE} in the working tree raises restore.max_writes to 5000",
    ]
    assert all("entragit's defaults" in note for note in config.notes)


def test_a_trusted_ref_that_names_no_commit_is_an_error(repo: BackupRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRAGIT_TRUSTED_REF", "refs/heads/reviewed")
    head = repo.resolve("HEAD")

    result = run("snapshot", "--repo", str(repo.root), ok=False)

    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert "the trusted ref refs/heads/reviewed (ENTRAGIT_TRUSTED_REF) names no commit" in line
    assert repo.resolve("HEAD") == head
