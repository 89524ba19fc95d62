"""The pipelines `entragit init --ci` writes, run step by step as their platform would (tests/ci_harness.py)
against the simulated tenant, a bare git remote and recording stand-ins of `gh` and `az`."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from ruamel.yaml import YAML
from tests.ci_harness import REPOSITORY, AzurePipelines, Federation, Forge, GitHubActions, git
from tests.conftest import Admin, run

from entragit.ci.alerts import send_alerts
from entragit.ci.drift import DRIFT_MARKER
from entragit.ci.platforms import CiError
from entragit.report.model import DiffReport, RiskFlag, Side
from entragit.ci.restore import PLAN_MARKER, REHEARSAL_MARKER
from entragit.sim import Simulator

CA = "identity/conditionalAccess/policies"
WRITER = "7d3c1f0e-5b2a-4c8d-9e6f-1a2b3c4d5e6f"  # the restore app: the simulated tenant signs in any app id
MAIN_SUBJECT = f"repo:{REPOSITORY}:ref:refs/heads/main"


@dataclass
class Setup:
    forge: Forge
    federation: Federation
    backup: Path
    sim_info: Path
    endpoint: str

    def github(self, name: str, **runner_env: str) -> GitHubActions:
        runner = GitHubActions(self.backup / ".github/workflows" / name, self.forge, self.sim_info, self.federation,
                               runner_env)
        runner.endpoint = self.endpoint
        return runner

    def azure(self, name: str, **runner_env: str) -> AzurePipelines:
        runner = AzurePipelines(self.backup / ".azure-pipelines" / name, self.forge, self.sim_info, self.federation,
                                runner_env)
        runner.connections = {"entragit-reader": self.federation.sim.client_id, "entragit-writer": WRITER}
        return runner

    def remote_branches(self) -> dict[str, str]:
        listing = git(self.forge.remote, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads/")
        return dict(line.split() for line in listing.splitlines())


@pytest.fixture
def pipelines(sim: Simulator, sim_info: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
              ) -> Iterator[Callable[..., Setup]]:
    """Makes a backup repository for a platform's pipelines, with a first snapshot, pushed to the remote;
    settings go into its entragit.yaml."""
    with ExitStack() as stack:
        def make(platform: str, **settings: Any) -> Setup:
            federation = Federation(sim)
            federation.trust(MAIN_SUBJECT, f"repo:{REPOSITORY}:pull_request",
                             f"repo:{REPOSITORY}:environment:entragit-restore")
            federation.trust(*(f"sc://contoso/identity/entragit-{kind}" for kind in ("reader", "writer")),
                             issuer=AzurePipelines.issuer)
            backup = tmp_path / "backup"
            run("init", str(backup), "--sim", str(sim_info), "--ci", platform)
            if settings:
                yaml = YAML()
                config = yaml.load(backup / "entragit.yaml")
                config.update(settings)
                yaml.dump(config, backup / "entragit.yaml")
            git(backup, "add", "-A")
            git(backup, "-c", "user.name=Owner", "-c", "user.email=owner@example.com", "commit", "-q", "-m",
                "Pipelines")
            token = tmp_path / "oidc-token"
            token.write_text(sim.federation.issue(MAIN_SUBJECT))
            with monkeypatch.context() as patched:
                patched.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token))
                run("snapshot", "--repo", str(backup))
            forge = Forge(tmp_path / "ci")
            forge.publish(backup)
            endpoint = stack.enter_context(federation.github_endpoint())
            return Setup(forge, federation, backup, sim_info, endpoint)

        yield make


@pytest.fixture
def github(pipelines: Callable[..., Setup]) -> Setup:
    return pipelines("github")


@pytest.fixture
def azure(pipelines: Callable[..., Setup]) -> Setup:
    return pipelines("azure-devops")


class Webhook:
    """An incoming webhook of Teams or Slack, over HTTPS on loopback: it keeps what it is sent."""

    def __init__(self, tmp_path: Path) -> None:
        ca = trustme.CA()
        self.ca_bundle = str(tmp_path / "webhook-ca.pem")
        ca.cert_pem.write_to_path(self.ca_bundle)
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/workflows/entragit"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def webhook(tmp_path: Path) -> Iterator[Webhook]:
    hook = Webhook(tmp_path)
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


def _enabled_policy(admin: Admin) -> dict[str, Any]:
    return next(p for p in admin.get(CA)["value"] if p["state"] == "enabled")


def _a_user(admin: Admin, index: int = 0) -> dict[str, Any]:
    return admin.users("Sales")[index]


def test_github_drift_opens_one_pull_request_then_updates_it_and_alerts_teams(github: Setup, admin: Admin,
                                                                              webhook: Webhook) -> None:
    main_before = github.remote_branches()["main"]
    policy = _enabled_policy(admin)
    admin.call("PATCH", f"{CA}/{policy['id']}", json={"state": "disabled"})
    snapshot = github.github("entragit-snapshot.yml", REQUESTS_CA_BUNDLE=webhook.ca_bundle)
    first = snapshot.run("schedule", secrets={"ENTRAGIT_TEAMS_WEBHOOK": webhook.url})
    job = first.jobs["snapshot"]
    assert job.status == "success", job.log
    assert job.subject == MAIN_SUBJECT
    [pr] = github.forge.state["pulls"].values()
    branch = f"drift/{datetime.now(timezone.utc):%Y-%m-%d}"
    assert (pr["head"]["ref"], pr["base"]["ref"], pr["draft"]) == (branch, "main", False)
    assert {label["name"] for label in pr["labels"]} == {"entragit-drift", "entragit-risk-high"}
    body = pr["body"]
    assert body.startswith(DRIFT_MARKER) and pr["title"].startswith("[high risk]")
    # Risk highlights first, then the objects.
    assert body.index("conditional-access-policy-weakened") < body.index("<details>")
    assert policy["displayName"] in body
    assert github.remote_branches()["main"] == main_before
    [card] = webhook.received
    text = json.dumps(card)
    assert card["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert policy["displayName"] in text and "conditional-access-policy-weakened" in text

    user = _a_user(admin)
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Chief Drift Officer"})
    second = snapshot.run("schedule", secrets={"ENTRAGIT_TEAMS_WEBHOOK": webhook.url})
    assert second.jobs["snapshot"].status == "success", second.jobs["snapshot"].log
    [pr] = github.forge.state["pulls"].values()  # the same pull request, not a second one
    assert "Chief Drift Officer" in pr["body"] and policy["displayName"] in pr["body"]
    assert "Updated drift pull request #1" in second.jobs["snapshot"].log
    # The policy was reported already: no second card for it.
    assert len(webhook.received) == 1

    third = snapshot.run("schedule", secrets={"ENTRAGIT_TEAMS_WEBHOOK": webhook.url})
    assert "Drift unchanged" in third.jobs["snapshot"].log
    assert github.remote_branches()[branch] == git(github.forge.remote, "rev-parse", branch)


def test_github_commit_mode_commits_to_main_and_writes_the_job_summary(pipelines: Callable[..., Setup],
                                                                       admin: Admin) -> None:
    setup = pipelines("github", ci={"drift": "commit"})
    main_before = setup.remote_branches()["main"]
    user = _a_user(admin)
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Committed Title"})
    done = setup.github("entragit-snapshot.yml").run("workflow_dispatch")
    job = done.jobs["snapshot"]
    assert job.status == "success", job.log
    assert git(setup.forge.remote, "rev-parse", "main~1") == main_before
    assert git(setup.forge.remote, "log", "-1", "--format=%s", "main").startswith("Snapshot: ")
    assert "Committed Title" in job.summary and user["displayName"] in job.summary
    assert setup.forge.state["pulls"] == {}


def test_github_a_held_back_snapshot_fails_the_job_and_opens_a_draft_marked_suspect(
        pipelines: Callable[..., Setup], admin: Admin) -> None:
    setup = pipelines("github", guard={"vanished_share": 0.05, "minimum_objects": 5})
    main_before = setup.remote_branches()["main"]
    groups = [g for g in admin.get("groups", **{"$top": "999"})["value"]][:4]
    for group in groups:
        admin.call("DELETE", f"groups/{group['id']}")
    done = setup.github("entragit-snapshot.yml").run("schedule")
    job = done.jobs["snapshot"]
    assert job.status == "failure", job.log
    assert "snapshot held back as suspect" in job.log
    [pr] = setup.forge.state["pulls"].values()
    assert pr["draft"] is True and pr["title"].startswith("SUSPECT")
    assert "entragit-suspect" in {label["name"] for label in pr["labels"]}
    assert pr["head"]["ref"].startswith("entragit/suspect/") and pr["head"]["ref"] in setup.remote_branches()
    assert setup.remote_branches()["main"] == main_before


def _restore_branch(setup: Setup, tmp_path: Path, admin: Admin, monkeypatch: pytest.MonkeyPatch
                    ) -> tuple[dict[str, Any], Path]:
    """A bad day recorded on main, and a person's branch that reverts it."""
    user = _a_user(admin)
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Bad Bulk Script"})
    work = tmp_path / "person"
    git(tmp_path, "clone", "-q", str(setup.forge.remote), str(work))
    git(work, "config", "entragit.simulator", str(setup.sim_info))
    token = tmp_path / "oidc-token"
    token.write_text(setup.federation.sim.federation.issue(MAIN_SUBJECT))
    with monkeypatch.context() as patched:
        patched.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token))
        run("snapshot", "--repo", str(work))
    git(work, "push", "-q", "origin", "HEAD:main")
    git(work, "checkout", "-q", "-b", "undo-bad-day")
    git(work, "-c", "user.name=Person", "-c", "user.email=p@example.com", "revert", "--no-edit", "HEAD")
    git(work, "push", "-q", "origin", "undo-bad-day")
    return user, work


def test_github_restore_plans_on_the_pull_request_then_applies_on_merge_as_the_restore_app(
        github: Setup, admin: Admin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user, work = _restore_branch(github, tmp_path, admin, monkeypatch)
    number = github.forge.open_pull_request("undo-bad-day")
    restore = github.github("entragit-restore.yml")
    planned = restore.run("pull_request", pull=number)
    plan = planned.jobs["plan"]
    assert plan.status == "success", plan.log
    assert planned.jobs["check"].status == planned.jobs["apply"].status == "skipped"
    assert plan.subject == f"repo:{REPOSITORY}:pull_request"
    assert all("ENTRAGIT_CLIENT_ID" not in step.env for step in plan.steps)
    [comment, rehearsal] = github.forge.state["comments"][str(number)]
    assert comment["body"].startswith(PLAN_MARKER) and user["displayName"] in comment["body"]
    assert rehearsal["body"].startswith(REHEARSAL_MARKER)
    assert "The rehearsal applied cleanly" in rehearsal["body"] and "ENTRAGIT_WRITER_ROLES is not set" in rehearsal["body"]
    assert admin.get(f"users/{user['id']}")["jobTitle"] != user["jobTitle"]  # rehearsed, not written

    other = _a_user(admin, 1)
    path = work / "users" / f"{other['id']}.yaml"
    path.write_text(path.read_text().replace(f"jobTitle: {other['jobTitle']}", "jobTitle: Edited In Review"))
    git(work, "-c", "user.name=Person", "-c", "user.email=p@example.com", "commit", "-qam", "And this one")
    git(work, "push", "-q", "origin", "undo-bad-day")
    restore.run("pull_request", pull=number)
    [comment, rehearsal] = github.forge.state["comments"][str(number)]  # updated, not more comments
    assert "Edited In Review" in comment["body"] and user["displayName"] in comment["body"]
    assert "Graph accepted 2 of 2 write(s)" in rehearsal["body"]

    before = github.remote_branches()["main"]
    github.forge.merge("undo-bad-day")
    merged = restore.run("push", before=before, secrets={"ENTRAGIT_WRITER_CLIENT_ID": WRITER})
    check, apply = merged.jobs["check"], merged.jobs["apply"]
    assert check.status == "success", check.log
    assert check.outputs == {"writes": "2"} and "Edited In Review" in check.summary
    assert apply.status == "success", apply.log
    assert apply.environment == "entragit-restore"
    assert apply.subject == f"repo:{REPOSITORY}:environment:entragit-restore"
    assert {step.env["ENTRAGIT_CLIENT_ID"] for step in apply.steps} == {WRITER}
    assert admin.get(f"users/{user['id']}")["jobTitle"] == user["jobTitle"]
    assert admin.get(f"users/{other['id']}")["jobTitle"] == "Edited In Review"
    assert any(name.startswith("entragit/before-restore/") for name in github.remote_branches())


def test_github_a_pull_request_the_restore_app_could_not_write_fails_its_rehearsal(
        github: Setup, admin: Admin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user, _ = _restore_branch(github, tmp_path, admin, monkeypatch)
    number = github.forge.open_pull_request("undo-bad-day")

    planned = github.github("entragit-restore.yml").run(
        "pull_request", pull=number, secrets={"ENTRAGIT_WRITER_ROLES": "Group.ReadWrite.All,User.Read.All"})

    plan = planned.jobs["plan"]
    assert plan.status == "failure"
    [_, rehearsal] = github.forge.state["comments"][str(number)]
    assert "**Refused by Graph:**" in rehearsal["body"] and "Insufficient privileges" in rehearsal["body"]
    assert "The rehearsal found" in rehearsal["body"] and "ENTRAGIT_WRITER_ROLES" not in rehearsal["body"]
    assert admin.get(f"users/{user['id']}")["jobTitle"] == "Bad Bulk Script"


def test_github_restore_does_not_run_for_a_change_outside_the_snapshot_files(github: Setup, tmp_path: Path) -> None:
    work = tmp_path / "docs"
    git(tmp_path, "clone", "-q", str(github.forge.remote), str(work))
    (work / "NOTES.md").write_text("notes\n")
    git(work, "add", "NOTES.md")
    git(work, "-c", "user.name=Person", "-c", "user.email=p@example.com", "commit", "-qm", "Notes")
    git(work, "push", "-q", "origin", "HEAD:refs/heads/notes")
    number = github.forge.open_pull_request("notes")
    assert not github.github("entragit-restore.yml").run("pull_request", pull=number).triggered


def test_azure_devops_drift_pull_request_within_its_description_limit(azure: Setup, admin: Admin) -> None:
    policy = _enabled_policy(admin)
    admin.call("PATCH", f"{CA}/{policy['id']}", json={"state": "disabled"})
    snapshot = azure.azure("entragit-snapshot.yml")
    first = snapshot.run("Schedule")
    job = first.jobs["snapshot"]
    assert job.status == "success", job.log
    assert job.subject == "sc://contoso/identity/entragit-reader"
    [pr] = azure.forge.state["pulls"].values()
    assert pr["sourceRefName"].startswith("refs/heads/drift/") and pr["targetRefName"] == "refs/heads/main"
    assert len(pr["description"]) <= 4000 and policy["displayName"] in pr["description"]
    assert {label["name"] for label in pr["labels"]} == {"entragit-drift", "entragit-risk-high"}
    # No webhook variable is defined: the $(ENTRAGIT_TEAMS_WEBHOOK) macro stays as it is, and means "off".
    assert "Alerted" not in job.log

    user = _a_user(admin)
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Second Drift"})
    second = snapshot.run("Schedule")
    assert second.jobs["snapshot"].status == "success", second.jobs["snapshot"].log
    [pr] = azure.forge.state["pulls"].values()
    assert "Second Drift" in pr["description"]


def test_azure_devops_commit_mode_uploads_the_summary(pipelines: Callable[..., Setup], admin: Admin) -> None:
    setup = pipelines("azure-devops", ci={"drift": "commit"})
    main_before = setup.remote_branches()["main"]
    user = _a_user(admin)
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Azure Commit"})
    job = setup.azure("entragit-snapshot.yml").run("Schedule").jobs["snapshot"]
    assert job.status == "success", job.log
    assert git(setup.forge.remote, "rev-parse", "main~1") == main_before
    assert "Azure Commit" in job.summary


def test_azure_devops_restore_plans_in_one_thread_then_applies_after_approval(
        azure: Setup, admin: Admin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user, _ = _restore_branch(azure, tmp_path, admin, monkeypatch)
    number = azure.forge.open_pull_request("undo-bad-day", platform="azure-devops")
    restore = azure.azure("entragit-restore.yml")
    planned = restore.run("PullRequest", pull=number)
    assert planned.jobs["plan"].status == "success", planned.jobs["plan"].log
    assert planned.jobs["apply"].status == "skipped"
    restore.run("PullRequest", pull=number)
    [thread, rehearsal] = azure.forge.state["comments"][str(number)]
    assert thread["comments"][0]["content"].startswith(PLAN_MARKER)
    assert user["displayName"] in thread["comments"][0]["content"]
    assert rehearsal["comments"][0]["content"].startswith(REHEARSAL_MARKER)
    assert "The rehearsal applied cleanly" in rehearsal["comments"][0]["content"]

    azure.forge.merge("undo-bad-day")
    merged = restore.run("IndividualCI")
    plan, apply = merged.jobs["plan"], merged.jobs["apply"]
    assert plan.outputs == {"plan.writes": "1"}, plan.log
    assert apply.status == "success", apply.log
    assert (apply.environment, apply.subject) == ("entragit-restore", "sc://contoso/identity/entragit-writer")
    assert admin.get(f"users/{user['id']}")["jobTitle"] == user["jobTitle"]


def _report_with(risks: list[RiskFlag]) -> DiffReport:
    side = Side("HEAD~1", None, None)
    return DiffReport(side, side, [], risks=risks)


CREDENTIAL = RiskFlag("credential-added", "high", "applications", "0f1e", "Payroll <b>&</b> HR",
                      "a new password credential 'backdoor'")


def test_a_slack_alert_names_the_risk_as_text_and_links_the_run(webhook: Webhook,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", webhook.ca_bundle)
    medium = RiskFlag("owner-added", "medium", "applications", "0f1e", "Payroll", "a new owner")
    sent = send_alerts(_report_with([CREDENTIAL, medium]), {"ENTRAGIT_SLACK_WEBHOOK": webhook.url},
                       "https://github.com/contoso/identity-backup/actions/runs/7")
    assert sent == ["Alerted slack: 1 high-risk change(s)."]
    [message] = webhook.received
    assert "Payroll &lt;b&gt;&amp;&lt;/b&gt; HR" in message["text"] and "owner-added" not in message["text"]
    assert message["text"].endswith("<https://github.com/contoso/identity-backup/actions/runs/7|Open the report>")


def test_alerts_are_off_unless_a_webhook_is_given_and_only_over_https(webhook: Webhook) -> None:
    report = _report_with([CREDENTIAL])
    # Azure Pipelines leaves $(NAME) in place when no such variable is defined.
    assert send_alerts(report, {"ENTRAGIT_TEAMS_WEBHOOK": "$(ENTRAGIT_TEAMS_WEBHOOK)"}, "https://run") == []
    assert send_alerts(_report_with([]), {"ENTRAGIT_TEAMS_WEBHOOK": webhook.url}, "https://run") == []
    with pytest.raises(CiError, match="ENTRAGIT_TEAMS_WEBHOOK must be an https address"):
        send_alerts(report, {"ENTRAGIT_TEAMS_WEBHOOK": webhook.url.replace("https", "http")}, "https://run")
    assert webhook.received == []
