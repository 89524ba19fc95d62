"""Running a restore: what to restore (a selection, the files a commit changed, or a saved plan), the
guardrails, the snapshot before writing, the journal that makes a run resumable, and verification.

prepare_*() read and decide; nothing is written until execute(). Running the same command again after an
interruption finds the journal of the first run and resumes it: the plan as it was approved, without
the writes Graph already confirmed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from fnmatch import fnmatch
from pathlib import Path

from entragit.diff import Names
from entragit.errors import PlanError
from entragit.graph import GraphClient
from entragit.guardrails import guard_plan, refusals
from entragit.journal import Journal, Progress, run_key
from entragit.live import fetch_objects
from entragit.permissions import check_tenant, sign_in, write_refusals
from entragit.planfile import moved_objects, read_plan
from entragit.registry import REGISTRY, ObjectType, resolve_types
from entragit.report.values import risk_text
from entragit.restore import (ApplyResult, Blocked, Plan, RestoreOptions, StepKey, apply_plan, current_key,
                              found_again, plan_restore, replan)
from entragit.plan_risk import assess
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo, split_path

BEFORE_RESTORE_PREFIX = "entragit/before-restore/"
_GLOB = set("*?[")


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


def check_paths(paths: tuple[str, ...]) -> None:
    for spec in paths:
        folder = spec.strip("/").split("/")[0]
        if folder not in REGISTRY and not _GLOB & set(folder):
            raise PlanError(f"--paths {spec}: no object type keeps its files in {folder}/; "
                            f"the folders are {', '.join(sorted(REGISTRY))}")


def path_matches(path: str, paths: tuple[str, ...]) -> bool:
    return not paths or any(path == spec or path.startswith(spec.rstrip("/") + "/") or fnmatch(path, spec)
                            for spec in paths)


def _types_of(paths: tuple[str, ...], type_names: tuple[str, ...]) -> list[ObjectType]:
    types = resolve_types(type_names)
    folders = {spec.strip("/").split("/")[0] for spec in paths}
    if any(_GLOB & set(f) for f in folders):
        return types
    return [t for t in types if t.name in folders]


def plan_selection(repo: BackupRepo, client: GraphClient, at: str, type_names: tuple[str, ...],
                   ids: tuple[str, ...], attributes: tuple[str, ...], paths: tuple[str, ...],
                   options: RestoreOptions = RestoreOptions()) -> Plan:
    """entragit restore: the selected objects as the files at `at` have them, narrowed by --paths."""
    if not paths:
        return plan_restore(repo, client, at, type_names, ids, attributes, options)
    check_paths(paths)
    commit = repo.resolve(at)
    chosen: dict[str, list[str]] = {}
    for object_type in _types_of(paths, type_names):
        hits = sorted(i for i in repo.object_ids(commit, object_type)
                      if path_matches(f"{object_type.name}/{i}.yaml", paths) and (not ids or i in ids))
        if hits:
            chosen[object_type.name] = hits
    if not chosen:
        raise PlanError(f"no object file at {at} matches --paths {' '.join(paths)}"
                        + (" and the --type/--id given" if type_names or ids else ""))
    return plan_restore(repo, client, at, tuple(chosen), tuple(i for hits in chosen.values() for i in hits),
                        attributes, options)


def plan_commit(repo: BackupRepo, client: GraphClient, rev: str, paths: tuple[str, ...]) -> Plan:
    """entragit apply: the objects whose files commit `rev` changed (against its first parent), as `rev`
    has them. A file `rev` deleted says the object should not exist; apply never deletes, so a live one
    is listed as not restorable."""
    check_paths(paths)
    commit = repo.resolve(rev)
    parents = repo.git.commit(commit).parents
    if not parents:
        raise PlanError(f"{rev} is the first commit of the repository: it changed nothing to apply; "
                        f"use entragit restore --at {rev}")
    changed = [c for c in repo.changed_paths(str(parents[0].hexsha), commit, REGISTRY.values())
               if path_matches(c.path, paths)]
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
    if kept:
        plan = plan_restore(repo, client, rev, tuple(kept), tuple(i for ids in kept.values() for i in ids))
    else:
        plan = Plan(rev, commit, {}, ())
    for object_type, ids in deleted.items():
        for object_id, live in fetch_objects(client, object_type, ids).items():
            if live is not None:
                plan.blocked.append(Blocked(
                    object_type.name, object_id, live.get(object_type.display_key), "the whole object",
                    f"{rev} deleted its file, so it should not exist; entragit apply does not delete objects "
                    "(delete it in the tenant, or with entragit restore --delete-extra)"))
    return plan


def _journal(repo: BackupRepo, request: Mapping[str, object]) -> Journal:
    return Journal(str(repo.git.git_dir), run_key(request), repo.config.tenant_id)


def prepare(repo: BackupRepo, client: GraphClient, request: Mapping[str, object], make_plan: Callable[[], Plan],
            max_writes: int | None = None, saved: bool = False) -> Prepared:
    """The plan to run for a command: the interrupted run's plan when this same command left a journal,
    else a new one (guarded). `request` names the command: the same request resumes the same run. Its
    "commit", the revision the plan is made from, must be a snapshot of the tenant signed in to."""
    signed = sign_in(client, repo.config.tenant_id)
    if "commit" in request:
        check_tenant(repo, signed, str(request["commit"]), "nothing read or written")
    journal = _journal(repo, request)
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


def prepare_saved(repo: BackupRepo, client: GraphClient, path: Path, max_writes: int | None = None) -> Prepared:
    """A plan saved with --plan -o: applied exactly as saved, and only while the objects it was computed
    against still look as they did then."""
    plan = read_plan(path, repo.config.tenant_id)
    check_tenant(repo, sign_in(client, repo.config.tenant_id), plan.commit, "nothing read or written")
    request = {"command": "apply --plan-file", "plan": hashlib.sha256(path.read_bytes()).hexdigest()}
    prepared = prepare(repo, client, request, lambda: _assessed(repo, client, plan), max_writes)
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
