"""`entragit ci plan` and `entragit ci apply`: the restore pipeline's steps.

On a pull request the checkout is the merge commit the platform made of it (GitHub's refs/pull/N/merge,
Azure Repos' likewise), whose first parent is the target branch: `entragit apply` of that commit plans
exactly the pull request's change, whatever its commits. The plan is posted as one comment, found again by
a hidden marker and replaced on each later push. After the merge the same plan, of the merged commit, goes
to the run's summary and tells the apply job whether there is anything to approve. The guardrails are read
from the target branch as fetched (ENTRAGIT_TRUSTED_REF), never from the pull request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path

from entragit.canonical import parse_yaml
from entragit.ci.drift import fit
from entragit.ci.job import Job
from entragit.ci.platforms import CiError
from entragit.config import CONFIG_FILE, OUTSIDE
from entragit.connect import graph_client
from entragit.printable import printable
from entragit.report.markdown import _cell
from entragit.graph import GraphClient
from entragit.report.plan import render_plan, render_plan_markdown, render_rehearsal, render_rehearsal_markdown
from entragit.restore import BEFORE_RESTORE_PREFIX, Prepared, Request, prepare
from entragit.restore.rehearse import EVERY_PERMISSION, rehearse
from entragit.store import BackupRepo

PLAN_MARKER = "<!-- entragit-plan -->"
REHEARSAL_MARKER = "<!-- entragit-rehearsal -->"
WRITER_ROLES = "ENTRAGIT_WRITER_ROLES"
"""The restore app's application permissions, comma-separated: a pipeline variable the rehearsal grants."""
RESTORE_ENVIRONMENT = "entragit-restore"


def _prepare_checkout(job: Job, echo: Callable[[str], None]) -> tuple[int | None, BackupRepo, GraphClient, Prepared]:
    """(the pull request's number or None, the repository, a client, the plan of the checked-out commit)."""
    number = job.platform.pull_request()
    target = job.platform.target_branch() if number is not None else None
    job.trust(target or job.platform.branch())
    repo = BackupRepo(job.root)
    for note in repo.config.notes:
        echo(f"note: {note}")
    client = graph_client(repo.config.connection())
    return number, repo, client, prepare(repo, client, Request("apply", repo.resolve("HEAD")))


def run_plan(job: Job, echo: Callable[[str], None]) -> None:
    number, repo, client, prepared = _prepare_checkout(job, echo)
    commit = prepared.plan.commit
    plan = prepared.pending
    echo(render_plan(plan))
    high = sum(1 for step in plan.steps for flag in step.risks if flag.severity == "high")
    lines = [PLAN_MARKER, render_plan_markdown(plan), ""]
    lines += [f"- **Refused:** {_cell(refusal)}" for refusal in prepared.refusals]
    lines += [f"- _note: {_cell(note)}_" for note in prepared.notes]
    if number is not None:
        lines += ["", "---", _on_merge(len(plan.steps), high, bool(prepared.refusals)) + f" (plan of `{commit[:10]}`)"]
        verb = job.platform.upsert_comment(number, PLAN_MARKER, fit("\n".join(lines), job.platform.comment_limit))
        echo(f"Plan {verb} on pull request #{number}: {len(plan.steps)} write(s), {high} high-risk.")
    else:
        job.platform.summary("\n".join(lines))
    job.platform.output("writes", str(len(plan.steps)))
    for refusal in prepared.refusals:
        echo(printable(f"Refused: {refusal}"))
    if prepared.refusals:
        raise CiError("the plan is refused (see above): nothing would be written on merge")


def writer_roles(env: Mapping[str, str]) -> tuple[frozenset[str], str | None]:
    """The restore app's application permissions, which a rehearsal grants (the plan job signs in as the
    read-only app, whose token carries none that writes), and a note when the pipeline does not name them."""
    named = frozenset(r.strip() for r in env.get(WRITER_ROLES, "").split(",") if r.strip())
    if named:
        return named, None
    return EVERY_PERMISSION, (f"{WRITER_ROLES} is not set: the rehearsal granted every permission entragit uses, "
                              "not only the restore app's")


def run_rehearsal(job: Job, echo: Callable[[str], None]) -> None:
    """Rehearse the checked-out change (entragit apply --rehearse) with the restore app's permissions: on a
    pull request, as one comment of its own that later runs replace; the step fails when the rehearsal does."""
    number, repo, client, prepared = _prepare_checkout(job, echo)
    roles, note = writer_roles(job.env)
    rehearsal = rehearse(repo, client, prepared, roles)
    if note:
        rehearsal.notes.append(note)
    tenant = repo.config.tenant_id
    echo(render_rehearsal(rehearsal, tenant))
    text = "\n".join([REHEARSAL_MARKER, render_rehearsal_markdown(rehearsal, tenant),
                      "", f"(rehearsal of `{prepared.plan.commit[:10]}`)"])
    if number is not None:
        verb = job.platform.upsert_comment(number, REHEARSAL_MARKER, fit(text, job.platform.comment_limit))
        echo(f"Rehearsal {verb} on pull request #{number}.")
    else:
        job.platform.summary(text)
    if not rehearsal.clean:
        raise CiError("the rehearsal found what a real run would meet (see above): nothing was written")


def _on_merge(writes: int, high: int, refused: bool) -> str:
    if refused:
        return "**Merging this would write nothing**: the plan is refused, see above."
    if not writes:
        return "Merging this writes nothing to the tenant."
    said = (f"Once merged, the restore pipeline writes these {writes} change(s) to the tenant as the restore app, "
            f"after approval in the environment `{RESTORE_ENVIRONMENT}`.")
    if high:
        said += (f" **{high} of them are high-risk**: the restore stops before writing, until someone who accepts "
                 "them runs the restore pipeline by hand with its accept-risk input.")
    return said


def apply_job(platform_name: str, env: MutableMapping[str, str], repo_dir: Path) -> Job:
    """The apply step's job, once it is known to sign in as another app than the snapshots' reader."""
    job = Job(platform_name, env, repo_dir)
    job.trust(job.platform.branch())
    variable = OUTSIDE["client_id"].env
    writer = env.get(variable, "")
    try:
        reader = str(parse_yaml((Path(repo_dir) / CONFIG_FILE).read_bytes(), CONFIG_FILE).get("client_id", ""))
    except (OSError, AttributeError):
        reader = ""
    if not writer or writer.lower() == reader.lower():
        raise CiError(f"{variable} must name the restore app, which alone may write to the tenant; entragit.yaml's "
                      "client_id is the read-only app of the snapshots (set the pipeline variable "
                      "ENTRAGIT_WRITER_CLIENT_ID, or use the writer's service connection)")
    return job


def keep_before_restore(job: Job) -> list[str]:
    """Push the snapshots the apply took before writing: restoring from one undoes the run, and the
    pipeline's clone is gone once the job ends."""
    kept = []
    for branch in job.run_git("for-each-ref", "--format=%(refname:short)", f"refs/heads/{BEFORE_RESTORE_PREFIX}").split():
        if job.commit_of(f"refs/remotes/origin/{branch}") is None:
            job.push(f"refs/heads/{branch}", branch, lease="")
            kept.append(f"Pushed {branch}: `entragit restore --at {branch}` undoes this restore.")
    return kept

