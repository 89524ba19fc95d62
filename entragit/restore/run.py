"""Running a restore: what to restore (a selection, the files a commit changed, or a saved plan), the
guardrails, the snapshot before writing, the journal that makes a run resumable, and verification.

A command makes one Request; prepare() reads and decides; nothing is written until execute(). Running the
same command again after an interruption finds the journal of the first run and resumes it: the plan as it
was approved, without the writes Graph already confirmed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from entragit.diff import Names
from entragit.errors import PlanError
from entragit.graph import GraphClient
from entragit.live import fetch_objects
from entragit.permissions import check_tenant, sign_in, write_refusals
from entragit.registry import REGISTRY, ObjectType
from entragit.restore.guardrails import guard_plan, refusals
from entragit.restore.journal import Journal, Progress, run_key
from entragit.restore.model import (
    ApplyResult,
    Blocked,
    Plan,
    RestoreOptions,
    StepKey,
    current_key,
)
from entragit.restore.planfile import moved_objects, read_plan
from entragit.restore.planner import plan_restore
from entragit.restore.risks import assess
from entragit.restore.send import apply_plan
from entragit.restore.verify import found_again, replan
from entragit.risk import risk_text
from entragit.selection import Selection
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo, split_path

BEFORE_RESTORE_PREFIX = "entragit/before-restore/"


@dataclass(frozen=True)
class Request:
    """What a restore or apply command asks for, made once from its command line."""

    command: Literal["restore", "apply"]
    at: str = "HEAD"
    """The revision the plan is made from (apply: the commit whose changes it writes)."""
    selection: Selection = Selection()
    options: RestoreOptions = RestoreOptions()
    plan_file: Path | None = None
    """apply --plan-file: the saved plan to apply as it is, instead of planning."""
    max_writes: int | None = None
    """--max-writes; None: restore.max_writes of entragit.yaml."""


def run_name(request: Request, commit: str) -> dict[str, object]:
    """What names a run in its journal (run_key): the same command of the same commit, selection and
    options resumes the same run. The names are those runs had before the Selection was one value, so an
    interrupted run still resumes; apply names only --paths and the options it is given, since it had no
    options before."""
    options = request.options
    if request.command == "apply":
        named: dict[str, object] = {"command": "apply", "commit": commit,
                                    "paths": request.selection.as_dict()["paths"]}
        named.update({k: v for k, v in dataclasses.asdict(options).items()
                      if v != getattr(RestoreOptions(), k)})
        return named
    named = {"command": "restore", "commit": commit, **request.selection.as_dict(),
             "delete_extra": options.delete_extra, "remove_new_credentials": options.remove_new_credentials}
    if not options.follow_references:
        named["follow_references"] = False
    return named


@dataclass
class Prepared:
    plan: Plan
    """The plan as approved; on a resumed run, the one the interrupted run was approving."""
    journal: Journal
    resumed: Progress | None
    skip: set[StepKey]
    """Keys of the plan's steps that are already done (an interrupted run wrote them)."""
    refusals: list[str]
    notes: list[str] = dataclasses.field(default_factory=list)
    """What could not be checked before writing (the app's permissions, where the token does not say)."""

    @property
    def pending(self) -> Plan:
        """The plan with only the writes still to make."""
        return dataclasses.replace(self.plan, steps=[s for s in self.plan.steps if s.key not in self.skip])


@dataclass(frozen=True)
class RunResult:
    result: ApplyResult
    before: str
    """The commit holding the tenant as it was before writing: restoring from it undoes the run."""
    before_branch: str | None
    resumed: bool


def plan_commit(repo: BackupRepo, client: GraphClient, rev: str, selection: Selection = Selection(),
                options: RestoreOptions = RestoreOptions()) -> Plan:
    """entragit apply: the objects whose files commit `rev` changed (against its first parent) and the
    selection's --paths match, as `rev` has them. A file `rev` deleted says the object should not exist:
    with options.delete_extra a live one is deleted, else it is listed as not restorable."""
    commit = repo.resolve(rev)
    parents = repo.git.commit(commit).parents
    if not parents:
        raise PlanError(f"{rev} is the first commit of the repository: it changed nothing to apply; "
                        f"use entragit restore --at {rev}")
    changed = [c for c in repo.changed_paths(str(parents[0].hexsha), commit, REGISTRY.values())
               if selection.wants_file(c.path)]
    kept: dict[str, list[str]] = {}
    deleted: dict[ObjectType, list[str]] = {}
    for change in changed:
        located = split_path(change.path)
        if located is None:
            continue
        object_type, object_id = located
        if change.status == "D":
            deleted.setdefault(object_type, []).append(object_id)
        else:
            kept.setdefault(object_type.name, []).append(object_id)
    unwanted = {object_type.name: ids for object_type, ids in deleted.items()} if options.delete_extra else None
    if kept or unwanted:
        # The planner's --delete-extra deletes every object of a type that the revision lacks: apply
        # deletes only those whose files `rev` deleted, as `unwanted`.
        plan = plan_restore(repo, client, rev, Selection(tuple(kept), tuple(i for ids in kept.values() for i in ids)),
                            dataclasses.replace(options, delete_extra=False), unwanted=unwanted)
    else:
        plan = Plan(rev, commit, {})
    if unwanted:
        return plan
    for object_type, ids in deleted.items():
        for object_id, live in fetch_objects(client, object_type, ids).items():
            if live is not None:
                plan.blocked.append(Blocked(
                    object_type.name, object_id, live.get(object_type.display_key), "the whole object",
                    f"{rev} deleted its file, so it should not exist; entragit apply deletes it only with "
                    "--delete-extra"))
    return plan


def prepare(repo: BackupRepo, client: GraphClient, request: Request) -> Prepared:
    """The plan to run for a command: the interrupted run's plan when this same command left a journal,
    else a new one (guarded): a saved plan as it is, the files a commit changed, or the selection."""
    if request.plan_file is not None:
        return _prepare_saved(repo, client, request.plan_file, request.max_writes)
    commit = repo.resolve(request.at)
    if request.command == "apply":
        make_plan = functools.partial(plan_commit, repo, client, request.at, request.selection, request.options)
    else:
        make_plan = functools.partial(plan_restore, repo, client, request.at, request.selection, request.options)
    return _prepare(repo, client, run_name(request, commit), make_plan, request.max_writes, commit)


def _prepare(repo: BackupRepo, client: GraphClient, name: Mapping[str, object], make_plan: Callable[[], Plan],
             max_writes: int | None, commit: str | None) -> Prepared:
    """`name` names the run: the same name resumes the same run. `commit`, the revision the plan is made
    from, must be a snapshot of the tenant signed in to."""
    signed = sign_in(client, repo.config.tenant_id)
    if commit is not None:
        check_tenant(repo, signed, commit, "nothing read or written")
    journal = Journal(str(repo.git.git_dir), run_key(name), repo.config.tenant_id)
    limit = repo.config.restore.max_writes if max_writes is None else max_writes
    progress = journal.read()
    if progress is not None:
        plan = _assessed(repo, client, progress.plan)
        progress.created.update(found_again(client, plan, progress.sent - progress.succeeded))
        # A step whose answer the interruption lost may have been written or not: re-reading the tenant
        # tells, so a write Graph already made is not made twice.
        # Objects it created are read under their new ids, so a step is looked for as a plan made through
        # them would have it.
        still = {s.key for s in replan(repo, client, plan, progress.created).steps}
        skip = {s.key for s in plan.steps
                if s.key in progress.succeeded or current_key(s, progress.created) not in still}
    else:
        made = make_plan()
        plan = guard_plan(made, client, repo.config.restore)
        if plan is not made:
            # A write the guardrail trimmed may no longer do what made it risky.
            plan = _assessed(repo, client, plan)
        skip = set()
    prepared = Prepared(plan, journal, progress, skip, [])
    if prepared.pending.steps:
        missing, prepared.notes = write_refusals(prepared.pending.steps, signed)
        prepared.refusals = refusals(prepared.pending, client, limit) + missing
    return prepared


def _prepare_saved(repo: BackupRepo, client: GraphClient, path: Path, max_writes: int | None) -> Prepared:
    """A plan saved with --plan -o: applied exactly as saved, and only while the objects it was computed
    against still look as they did then."""
    plan = read_plan(path, repo.config.tenant_id)
    check_tenant(repo, sign_in(client, repo.config.tenant_id), plan.commit, "nothing read or written")
    name = {"command": "apply --plan-file", "plan": hashlib.sha256(path.read_bytes()).hexdigest()}
    prepared = _prepare(repo, client, name, lambda: _assessed(repo, client, plan), max_writes, None)
    if prepared.resumed is None:
        moved = moved_objects(client, plan)
        if moved:
            shown = ", ".join(moved[:10]) + (f" and {len(moved) - 10} more" if len(moved) > 10 else "")
            raise PlanError(f"{path}: the tenant moved since the plan was made ({len(moved)} object(s) changed: "
                            f"{shown}); nothing written: make a new plan")
    return prepared


def _assessed(repo: BackupRepo, client: GraphClient, plan: Plan) -> Plan:
    """A plan from a file (saved, or a journal's) with its risks judged again against the tenant now: a
    file may have been edited, and what its writes would weaken depends on the objects as they are."""
    return dataclasses.replace(plan, steps=assess(plan.steps, client, Names(repo, [plan.commit])))


def check_risks(prepared: Prepared, accept_risk: bool) -> None:
    """A plan with a high-risk write is written only once the user accepted its risks (--accept-risk):
    --yes alone, in a pipeline, must not weaken the tenant. Medium risks are shown, not asked about."""
    high = [flag for step in prepared.pending.steps for flag in step.risks if flag.severity == "high"]
    if high and not accept_risk:
        raise PlanError(f"nothing written: the plan has {len(high)} high-risk write(s): "
                        + "; ".join(risk_text(f) for f in high)
                        + "; review them, then run again with --accept-risk to write them")


def snapshot_before(repo: BackupRepo, client: GraphClient, plan: Plan) -> tuple[str, str | None]:
    """Commit the tenant as it is now, to a side branch: the branch the restore reads from does not move,
    so the same command resumes the same run. Only the types the restore touches are read."""
    types = tuple(sorted({s.type for s in plan.steps} | set(plan.selected)))
    branch = BEFORE_RESTORE_PREFIX + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    result = take_snapshot(repo, types, client=client, branch=branch)
    if result.commit is None:
        return repo.resolve("HEAD"), None  # the tenant matched the newest snapshot already
    return result.commit, result.branch or branch


def execute(repo: BackupRepo, client: GraphClient, prepared: Prepared,
            progress: Callable[[int, int], None] | None = None,
            sleep: Callable[[float], None] = time.sleep, accept_risk: bool = False) -> RunResult:
    """Write the prepared plan. accept_risk: the user accepted its high-risk writes (--accept-risk)."""
    if prepared.refusals:
        raise PlanError("refusing to write anything: " + "; ".join(prepared.refusals))
    check_risks(prepared, accept_risk)
    journal = prepared.journal
    before = prepared.resumed.snapshot if prepared.resumed else None
    if prepared.resumed is None:
        journal.start(prepared.plan)
    if before is None:
        commit, branch = snapshot_before(repo, client, prepared.plan)
        journal.snapshot(commit, branch)
    else:
        commit, branch = before["commit"] or "", before["branch"]
    created = prepared.resumed.created if prepared.resumed else None
    result = apply_plan(repo, client, prepared.plan, progress, created=created, skip=prepared.skip,
                        on_batch=journal.outcomes, on_send=journal.sending, sleep=sleep)
    result.residue = guard_plan(result.residue, client, repo.config.restore)
    journal.finish()
    return RunResult(result, commit, branch, prepared.resumed is not None)
