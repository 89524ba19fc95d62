"""The pipelines `entragit init --ci` writes: linted with the tools each ecosystem uses, and held to the
rules that keep a pull request from reaching the restore app's credential."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from entragit import __version__
from entragit.ci.templates import PIPELINES
from entragit.config import load_config
from entragit.errors import ConfigError
from tests.ci_lint import actionlint, schema_errors
from tests.conftest import run



def _init(tmp_path: Path, platform: str) -> Path:
    backup = tmp_path / "backup"
    run("init", str(backup), "--tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "--client-id", "4a1aa1d5-c567-49d0-ad0b-cd957a47f842", "--ci", platform)
    return backup


def _written(backup: Path, platform: str) -> list[Path]:
    return [backup / target for target in PIPELINES[platform].values()]


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def test_github_pipelines_pass_actionlint_and_the_workflow_schema(tmp_path: Path) -> None:
    files = _written(_init(tmp_path, "github"), "github")
    assert actionlint(*files) == []
    assert schema_errors("github", *files) == ""


def test_actionlint_here_finds_a_pull_request_title_run_as_a_script(tmp_path: Path) -> None:
    # The check above is only worth something if this linter does flag untrusted input.
    workflow = tmp_path / "unsafe.yml"
    workflow.write_text("on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                        "      - run: echo \"${{ github.event.pull_request.title }}\"\n")
    [finding] = actionlint(workflow)
    assert finding.endswith("[expression]") and "potentially untrusted" in finding


def test_azure_pipelines_pass_the_azure_pipelines_schema(tmp_path: Path) -> None:
    files = _written(_init(tmp_path, "azure-devops"), "azure-devops")
    assert schema_errors("azure-devops", *files) == ""
    broken = tmp_path / "broken.yml"
    broken.write_text(files[0].read_text().replace("steps:", "stepz:", 1))
    assert "stepz" in schema_errors("azure-devops", broken)


@pytest.mark.parametrize("platform", sorted(PIPELINES))
def test_the_templates_pin_this_release_of_entragit(tmp_path: Path, platform: str) -> None:
    for path in _written(_init(tmp_path, platform), platform):
        data = _load(path)
        pinned = (data.get("env") or data.get("variables"))["ENTRAGIT_VERSION"]
        assert pinned == __version__, path.name
        assert "client_secret" not in path.read_text().lower() and "AZURE_CLIENT_SECRET" not in path.read_text()


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"])


def test_on_github_only_the_approved_apply_job_signs_in_as_the_restore_app(tmp_path: Path) -> None:
    backup = _init(tmp_path, "github")
    restore = _load(backup / ".github/workflows/entragit-restore.yml")
    text = (backup / ".github/workflows/entragit-restore.yml").read_text()
    assert "pull_request_target" not in text
    jobs = restore["jobs"]
    for name, job in jobs.items():
        mentions = json.dumps(job)
        assert ("ENTRAGIT_WRITER_CLIENT_ID" in mentions) == (name == "apply"), name
    assert jobs["apply"]["environment"] == "entragit-restore"
    assert jobs["plan"]["if"] == "github.event_name == 'pull_request'"
    assert "pull_request" not in jobs["apply"].get("if", "") and jobs["apply"]["needs"] == "check"
    # --accept-risk only where a person asked for it by hand.
    risky = [s for s in _steps(jobs["apply"]) if "--accept-risk" in s.get("run", "")]
    assert [s["if"] for s in risky] == ["${{ inputs.accept_risk }}"]
    # The pull request's plan is rehearsed by the read-only app, granted the writer's permissions by name only.
    rehearsals = [(name, s) for name, job in jobs.items() for s in _steps(job) if "ci rehearse" in s.get("run", "")]
    assert [(name, s["env"]["ENTRAGIT_WRITER_ROLES"]) for name, s in rehearsals] == \
        [("plan", "${{ secrets.ENTRAGIT_WRITER_ROLES }}")]
    snapshot = _load(backup / ".github/workflows/entragit-snapshot.yml")
    assert snapshot["concurrency"]["cancel-in-progress"] is False
    assert snapshot["jobs"]["snapshot"]["permissions"]["id-token"] == "write"


def test_on_azure_devops_only_the_approved_apply_job_uses_the_writer_connection(tmp_path: Path) -> None:
    backup = _init(tmp_path, "azure-devops")
    restore = _load(backup / ".azure-pipelines/entragit-restore.yml")
    plan, apply = restore["jobs"]
    assert {s["inputs"]["azureSubscription"] for s in _steps(plan) if "inputs" in s and "azureSubscription" in
            s["inputs"]} == {"entragit-reader"}
    assert apply["environment"] == "entragit-restore"
    assert "ne(variables['Build.Reason'], 'PullRequest')" in apply["condition"]
    writers = [s for s in _steps(apply) if s.get("task") == "AzureCLI@2"]
    assert {s["inputs"]["azureSubscription"] for s in writers} == {"entragit-writer"}
    assert [("--accept-risk" in s["inputs"]["inlineScript"], "eq(" in s["condition"]) for s in writers] == \
        [(False, False), (True, True)]
    # The rehearsal runs on a pull request only, through the reader's connection.
    [rehearsal] = [s for s in _steps(plan) if "ci rehearse" in s.get("inputs", {}).get("inlineScript", "")]
    assert "eq(variables['Build.Reason'], 'PullRequest')" in rehearsal["condition"]
    assert rehearsal["inputs"]["azureSubscription"] == "entragit-reader"
    snapshot = _load(backup / ".azure-pipelines/entragit-snapshot.yml")
    assert snapshot["lockBehavior"] == "sequential" and snapshot["schedules"][0]["always"] == "true"


def test_init_ci_into_an_existing_repository_keeps_a_changed_file_and_says_so(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    run("init", str(backup), "--tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "--client-id", "4a1aa1d5-c567-49d0-ad0b-cd957a47f842")
    snapshot, restore = _written(backup, "github")
    snapshot.parent.mkdir(parents=True)
    snapshot.write_text("name: ours\n")
    result = run("init", str(backup), "--ci", "github")
    assert snapshot.read_text() == "name: ours\n"
    assert "Kept .github/workflows/entragit-snapshot.yml: it differs" in result.output
    assert "Wrote .github/workflows/entragit-restore.yml." in result.output
    # The repository signs in with a secret: the pipelines would not, and init says what to set.
    assert "auth: federated" in result.output
    again = run("init", str(backup), "--ci", "github")
    assert "Kept .github/workflows/entragit-restore.yml: already the template." in again.output


def test_a_new_repository_made_for_pipelines_signs_in_federated(tmp_path: Path) -> None:
    backup = _init(tmp_path, "azure-devops")
    assert _load(backup / "entragit.yaml")["auth"] == "federated"


def test_the_drift_mode_is_pull_request_or_commit_and_nothing_else(tmp_path: Path) -> None:
    backup = _init(tmp_path, "github")
    assert load_config(backup).drift == "pull-request"
    with (backup / "entragit.yaml").open("a") as handle:
        handle.write("ci:\n  drift: sideways\n")
    with pytest.raises(ConfigError, match="ci takes drift: pull-request or commit, not 'sideways'"):
        load_config(backup)


def test_a_pipeline_step_outside_its_pipeline_says_what_is_missing(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    result = run("ci", "snapshot", "--platform", "github", ok=False)
    assert result.exit_code == 1
    assert result.output.strip() == ("error: GITHUB_REPOSITORY is not set: `entragit ci --platform github` runs "
                                     "inside a github pipeline job")
