"""`entragit ci snapshot`: the scheduled snapshot, and what becomes of the drift it finds.

`ci: {drift: pull-request}` (the default) keeps the default branch as the reviewed state: the snapshot is
committed on a branch drift/<date> made afresh from it, and one pull request from that branch shows the
drift since the last review, its body the Markdown report (risk highlights first), its label the highest
risk in it. A later run with more drift moves the same branch and updates the same pull request; merging
it accepts the drift. `ci: {drift: commit}` commits to the default branch and writes the report to the
job summary. A snapshot the mass-change guard holds back is pushed to its own branch and shown as a draft
pull request marked suspect, and the job fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from entragit.ci.alerts import send_alerts
from entragit.ci.job import Job
from entragit.ci.platforms import LABEL_PREFIX, CiError, PullRequest
from entragit.diff.build import make_report
from entragit.report.model import DiffReport
from entragit.report import markdown
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo

DRIFT_PREFIX = "drift/"
DRIFT_LABEL = f"{LABEL_PREFIX}drift"
SUSPECT_LABEL = f"{LABEL_PREFIX}suspect"
# Written first in every body entragit makes, so a later run finds its own pull request's text.
DRIFT_MARKER = "<!-- entragit-drift -->"


@dataclass
class Outcome:
    lines: list[str] = field(default_factory=list)
    """What the run did, one line each, for the job's log."""


def risk_label(report: DiffReport) -> str:
    severities = {risk.severity for risk in report.risks}
    level = "high" if "high" in severities else "medium" if "medium" in severities else "none"
    return f"{LABEL_PREFIX}risk-{level}"


def fit(text: str, limit: int) -> str:
    """text cut to limit characters with a line saying so; the report's own cut (whole objects left out)
    keeps within the limit already, this only catches a head longer than a small limit."""
    if len(text) <= limit:
        return text
    note = "\n\n… cut here: the platform takes no more; see the job's summary or `entragit diff`.\n"
    return text[:max(limit - len(note), 0)] + note


def _body(report: DiffReport, limit: int, preface: str, footer: str) -> str:
    room = max(limit - len(preface) - len(footer), 0)
    return fit(preface + fit(markdown.render(report, limit=room), room) + footer, limit)


def _title(report: DiffReport, base: str) -> str:
    count = len(report.changes)
    high = sum(1 for risk in report.risks if risk.severity == "high")
    return (f"{'[high risk] ' if high else ''}entragit: drift in {count} object(s) since the last review of "
            f"{base}")


_REVIEW = ("\n\n---\nMerging this pull request records the tenant as it is now as the reviewed state of `{base}`. "
           "To undo a change in the tenant instead, revert it (`git revert`) in a pull request of its own: the "
           "restore pipeline plans it there, and applies it after approval once merged.\n")


def run_snapshot(job: Job, echo: Callable[[str], None]) -> None:
    base = job.platform.branch()
    job.trust(base)
    base_commit = job.run_git("rev-parse", "--verify", "HEAD^{commit}")
    # A pipeline checks out a commit (Azure Pipelines: detached); the snapshot commits to a branch.
    job.run_git("checkout", "--quiet", "-B", base, base_commit)
    repo = BackupRepo(job.root)
    for note in repo.config.notes:
        echo(f"note: {note}")
    drift_prs: list[PullRequest] = []
    if repo.config.drift == "pull-request":
        drift_prs = job.platform.drift_pull_requests(base, DRIFT_PREFIX)
        branch = drift_prs[0].head if drift_prs else f"{DRIFT_PREFIX}{datetime.now(timezone.utc):%Y-%m-%d}"
        # Made afresh from the reviewed state each time, so the pull request shows all drift since then.
        job.run_git("checkout", "--quiet", "-B", branch, base_commit)
    result = take_snapshot(repo)
    for note in result.notes:
        echo(f"note: {note}")
    if result.suspicions:
        _held_back(job, repo, base, base_commit, result.commit or base_commit, result.branch or "", result.suspicions,
                   echo)
    elif result.commit is None:
        echo(f"No drift: the tenant matches {base} ({sum(result.counts.values())} objects).")
    elif repo.config.drift == "commit":
        job.push("HEAD", base, lease=base_commit)
        report = make_report(repo, base_commit, result.commit, live=False)
        job.platform.summary(markdown.render(report, limit=1_000_000))
        echo(f"Committed snapshot {result.commit[:10]} to {base}: {len(report.changes)} object(s) changed.")
        _alert(job, report, echo)
    else:
        _drift_pull_request(job, repo, base, base_commit, result.commit, drift_prs, echo)
    if result.skipped:
        raise CiError(f"{len(result.skipped)} type(s) not read, their files kept as they were: "
                      f"{', '.join(result.skipped)} (see the notes above)")


def _drift_pull_request(job: Job, repo: BackupRepo, base: str, base_commit: str, commit: str,
                        open_prs: list[PullRequest], echo: Callable[[str], None]) -> None:
    branch = job.run_git("symbolic-ref", "--short", "HEAD")
    pushed = job.commit_of(f"refs/remotes/origin/{branch}")
    if open_prs and pushed is not None and job.run_git("rev-parse", f"{pushed}^{{tree}}") == job.run_git(
            "rev-parse", f"{commit}^{{tree}}"):
        echo(f"Drift unchanged since the last run: pull request #{open_prs[0].number} shows it already.")
        return
    job.push("HEAD", branch, lease=pushed or "")
    report = make_report(repo, base_commit, commit, live=False)
    title = _title(report, base)
    body = _body(report, job.platform.body_limit, DRIFT_MARKER + "\n", _REVIEW.format(base=base))
    if open_prs:
        pr = open_prs[0]
        job.platform.update_pull_request(pr.number, title, body)
        verb = "Updated"
    else:
        pr = job.platform.create_pull_request(branch, base, title, body, draft=False)
        verb = "Opened"
    job.platform.set_labels(pr, [DRIFT_LABEL, risk_label(report)])
    echo(f"{verb} drift pull request #{pr.number} from {branch}: {len(report.changes)} object(s) changed, "
         f"{len(report.risks)} risk(s).")
    # Alert on what is new since the last run: the drift already reported stays in the pull request.
    _alert(job, report if pushed is None else make_report(repo, pushed, commit, live=False, attribution=False), echo)


def _held_back(job: Job, repo: BackupRepo, base: str, base_commit: str, commit: str, branch: str,
               suspicions: list[str], echo: Callable[[str], None]) -> None:
    job.push(commit, branch, lease="")
    report = make_report(repo, base_commit, commit, live=False, attribution=False)
    reasons = "".join(f"> - {reason}\n" for reason in suspicions)
    preface = (f"{DRIFT_MARKER}\n> [!CAUTION]\n> **Suspect snapshot, held back from `{base}`.** A partial answer "
               "from Graph looks exactly like this mass change:\n" + reasons + ">\n> If the change is real, take "
               "the snapshot with `entragit snapshot --accept-mass-change` and merge that; otherwise close this "
               "pull request.\n\n")
    body = _body(report, job.platform.body_limit, preface, "")
    pr = job.platform.create_pull_request(branch, base, f"SUSPECT: entragit snapshot held back ({len(report.changes)} "
                                          "object(s) changed)", body, draft=True)
    job.platform.set_labels(pr, [SUSPECT_LABEL, risk_label(report)])
    raise CiError(f"snapshot held back as suspect ({'; '.join(suspicions)}): pushed to {branch}, draft pull request "
                  f"#{pr.number} opened; {base} is unchanged")


def _alert(job: Job, report: DiffReport, echo: Callable[[str], None]) -> None:
    for line in send_alerts(report, job.env, job.platform.run_url()):
        echo(line)
