"""Restore: the writes that make the tenant as a snapshot has it, planned, shown, sent and verified.

- model.py: the plan and its steps, how Graph answered them; kinds.py: the kinds of step and all that
  depends on a step's kind.
- planner/: plan_restore(), which only reads; risks.py: what the risk table says of a plan's writes.
- send.py: apply_plan(), which only writes what a plan says; verify.py: planning again after it.
- run.py: a command's run (Request -> prepare -> execute), with guardrails.py, the journal that makes it
  resumable (journal.py) and saved plans (planfile.py).
- rehearse.py: a prepared plan sent to a simulated tenant loaded from the real one, instead of execute().
"""

from __future__ import annotations

from entragit.restore.journal import Journal
from entragit.restore.kinds import StepKind, effect
from entragit.restore.model import (
    AS_RESTORED,
    ApplyResult,
    Blocked,
    Outcome,
    Plan,
    RestoreOptions,
    Step,
    StepKey,
    current_key,
    fingerprint,
)
from entragit.restore.planfile import dump_plan, save_plan
from entragit.restore.planner import plan_restore
from entragit.restore.run import (
    BEFORE_RESTORE_PREFIX,
    Prepared,
    Request,
    RunResult,
    check_risks,
    execute,
    plan_commit,
    prepare,
    snapshot_before,
)
from entragit.restore.send import apply_plan
from entragit.restore.verify import found_again, replan

__all__ = [
    "AS_RESTORED", "BEFORE_RESTORE_PREFIX", "ApplyResult", "Blocked", "Journal", "Outcome", "Plan", "Prepared", "Request",
    "RestoreOptions", "RunResult", "Step", "StepKey", "StepKind", "apply_plan", "check_risks", "current_key",
    "dump_plan", "effect", "execute", "fingerprint", "found_again", "plan_commit", "plan_restore", "prepare",
    "replan", "save_plan", "snapshot_before",
]
