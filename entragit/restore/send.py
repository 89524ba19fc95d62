"""Sending a plan: its steps stage by stage in $batch requests, each with the writes that ride with it, the
ids Graph gives recreated objects put into every later write, then verification (restore/verify.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection

from entragit.errors import GraphError
from entragit.graph import BATCH_LIMIT, BATCH_WORKERS, BatchItem, GraphClient
from entragit.restore.kinds import StepKind, version_of
from entragit.restore.model import (
    GUID,
    ApplyResult,
    Outcome,
    Plan,
    Step,
    StepKey,
    current_key,
    rewrite,
)
from entragit.restore.verify import verify
from entragit.store import BackupRepo

# Steps handed to client.batch at once: one $batch per worker. Small enough that an interruption loses
# little (the journal records each slice's outcomes), large enough to keep every worker busy.
WRITE_SLICE = BATCH_LIMIT * BATCH_WORKERS


def _depends_on_failure(step: Step, failed_ids: set[str]) -> str | None:
    text = f"{step.path} {step.body or ''}"
    return next((old for old in failed_ids if old in text), None)


def riders(steps: list[Step]) -> dict[StepKey, list[Step]]:
    """Steps that go out with an earlier step on the same object, tied to it by dependsOn, instead of
    waiting for their own stage: a write on an object restored from a recycle bin (it keeps its id, so
    no answer is needed to name it) that names no other object coming back, and the PATCH that removes
    what a disable step just disabled. leader's key -> its riders, at most a $batch's worth."""
    restored = {s.id: s for s in steps if s.kind is StepKind.RESTORE}
    coming = {s.id for s in steps if s.kind.brings_back}
    disabled = {(s.type, s.id): s for s in steps if s.kind is StepKind.DISABLE}
    found: dict[StepKey, list[Step]] = {}
    if not restored and not disabled:
        return found
    for step in steps:
        leader = disabled.get((step.type, step.id)) if step.kind is StepKind.PATCH else None
        if leader is None and step.kind.rides:
            named = set(GUID.findall(f"{step.path} {json.dumps(step.body)}")) & coming
            leader = restored.get(next(iter(named))) if len(named) == 1 else None
        if leader is None or leader.stage >= step.stage:
            continue
        riding = found.setdefault(leader.key, [])
        if len(riding) < BATCH_LIMIT - 1:
            riding.append(step)
    return found


def _send(client: GraphClient, steps: list[Step], created: dict[str, str],
          riding: dict[StepKey, list[Step]]) -> list[Outcome]:
    """Each step in $batch requests, its riders in the same request after it (dependsOn)."""
    sent: list[Step] = []
    items: list[BatchItem] = []
    for step in steps:
        leader = len(items)
        for index, each in enumerate([step, *riding.get(step.key, [])]):
            sent.append(each)
            items.append(BatchItem(each.method, rewrite(each.path, created), body=rewrite(each.body, created),
                                   after=leader if index else None, version=version_of(each)))
    outcomes = []
    for step, item, answer in zip(sent, items, client.batch(items)):
        error = answer.error(item) if answer.status >= 400 else None
        if error is not None and step.kind.already_done(error):
            error = None
        outcomes.append(Outcome(step, answer.status, answer.body, error))
    return outcomes


def apply_plan(repo: BackupRepo, client: GraphClient, plan: Plan,
               progress: Callable[[int, int], None] | None = None, *,
               created: dict[str, str] | None = None, skip: Collection[StepKey] = (),
               on_batch: Callable[[list[Outcome]], None] | None = None,
               on_send: Callable[[list[Step]], None] | None = None,
               sleep: Callable[[float], None] = time.sleep) -> ApplyResult:
    """Write every step of a plan, stage by stage, then verify: plan again against the same snapshot;
    what remains is residue.

    The steps of a stage are independent of each other and go out in $batch requests, WRITE_SLICE at a
    time, each with its riders (see riders()); on_send hears each slice just before it goes out, on_batch
    its outcomes as soon as Graph answered them, before anything else is sent. Before a slice is sent,
    the ids Graph gave the objects created so far replace the old ids in its paths and bodies; a step
    that names an object whose creation failed is not sent.
    A resumed run passes what the interrupted one did: skip, the keys of the steps it wrote, and
    created, the ids it learned (old -> new), so that it rewrites as the first run would have."""
    done: list[Step] = []
    failed: list[tuple[Step, GraphError]] = []
    created = dict(created or {})
    not_created: set[str] = set()
    todo = [s for s in plan.steps if s.key not in skip]
    riding = riders(todo)
    leader_of = {r.key: leader for leader, rs in riding.items() for r in rs}
    requeued: set[StepKey] = set()
    done_keys: set[StepKey] = set()
    for stage in sorted({s.stage for s in todo}):
        steps: list[Step] = []
        for step in (s for s in todo if s.stage == stage and (s.key not in leader_of or s.key in requeued)):
            blocker = _depends_on_failure(step, not_created)
            if blocker is None:
                steps.append(step)
                continue
            for each in [step, *riding.get(step.key, [])]:
                failed.append((each, GraphError(each.method, each.path, 0, "DependencyFailed",
                                                f"not sent: {blocker} could not be brought back")))
        for start in range(0, len(steps), WRITE_SLICE):
            if on_send:
                on_send(steps[start:start + WRITE_SLICE])
            outcomes = _send(client, steps[start:start + WRITE_SLICE], created, riding)
            if on_batch:
                on_batch(outcomes)
            for outcome in outcomes:
                if outcome.error is None:
                    done.append(outcome.step)
                    done_keys.add(outcome.step.key)
                    created.update(outcome.created)
                elif outcome.status == 424 and leader_of.get(outcome.step.key) in done_keys:
                    # A rider before it in the sequential batch failed, not its object: it goes in its own stage.
                    requeued.add(outcome.step.key)
                else:
                    failed.append((outcome.step, outcome.error))
                    if outcome.step.kind.brings_back:
                        not_created.add(outcome.step.id)
            if progress:
                progress(len(done) + len(failed), len(todo))
    written = {current_key(s, created) for s in done}
    return ApplyResult(done, failed, verify(repo, client, plan, written, created, sleep), created)


