"""The journal of a restore run, so that running the same command again after an interruption (kill -9
included) resumes it without repeating a write Graph already confirmed.

One file per run in the backup repository's git directory, .git/entragit/journal/<key>.jsonl, named by
a hash of what the command asked for. Each line is one JSON record, flushed to disk (fsync) before the
run goes on: the plan as approved, the snapshot taken before writing, the creations about to be sent, and
each step's outcome as soon as its $batch answered, with the id Graph gave whatever it created. The file
is removed when the run completes. A line cut short by a kill is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entragit.restore.kinds import StepKind
from entragit.restore.model import Outcome, Plan, Step, StepKey
from entragit.restore.planfile import dump_plan, load_plan

SCHEMA = "entragit/journal/1"


def run_key(request: Mapping[str, object]) -> str:
    """The journal's name for a command: the same commit and options give the same key."""
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:24]


def _step_key(value: list[str]) -> StepKey:
    method, path, member = value
    return (method, path, member)


@dataclass
class Progress:
    """What an interrupted run got done."""

    plan: Plan
    snapshot: dict[str, str | None] | None = None
    succeeded: set[StepKey] = field(default_factory=set)
    created: dict[str, str] = field(default_factory=dict)
    """Old id (and appId) -> what Graph called the object a step created."""
    sent: set[StepKey] = field(default_factory=set)
    """Creations that went out; those without an outcome may exist with an id the run never heard."""


class Journal:
    def __init__(self, git_dir: str, key: str, tenant_id: str) -> None:
        self.path = Path(git_dir) / "entragit" / "journal" / f"{key}.jsonl"
        self.tenant_id = tenant_id

    def read(self) -> Progress | None:
        """What an interrupted run with this key recorded, or None when there is none to resume."""
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return None
        records = []
        for line in lines:
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # the last line, cut short by the interruption
        if not records or records[0].get("record") != "start" or records[0].get("schema") != SCHEMA:
            return None
        progress = Progress(load_plan(records[0]["plan"], str(self.path), self.tenant_id))
        for record in records[1:]:
            if record.get("record") == "snapshot":
                progress.snapshot = {"commit": record.get("commit"), "branch": record.get("branch")}
            elif record.get("record") == "sending":
                progress.sent.update(_step_key(key) for key in record.get("steps", []))
            elif record.get("record") == "outcome" and record.get("ok"):
                progress.succeeded.add(_step_key(record["step"]))
                progress.created.update(record.get("created") or {})
        return progress

    def _append(self, records: list[dict[str, Any]], path: Path | None = None) -> None:
        with (path or self.path).open("a") as handle:
            handle.write("".join(json.dumps(record) + "\n" for record in records))
            handle.flush()
            os.fsync(handle.fileno())

    def start(self, plan: Plan) -> None:
        """Begin the journal with the plan; written whole or not at all, so a journal always has its plan."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.unlink(missing_ok=True)
        self._append([{"record": "start", "schema": SCHEMA, "plan": dump_plan(plan, self.tenant_id)}], temporary)
        temporary.replace(self.path)

    def snapshot(self, commit: str | None, branch: str | None) -> None:
        self._append([{"record": "snapshot", "commit": commit, "branch": branch}])

    def sending(self, steps: list[Step]) -> None:
        """Before a slice goes out, the creations in it: an answer lost to a kill leaves an object whose
        id only a search can tell (verify.found_again)."""
        creations = [list(step.key) for step in steps if step.kind is StepKind.CREATE]
        if creations:
            self._append([{"record": "sending", "steps": creations}])

    def outcomes(self, outcomes: list[Outcome]) -> None:
        records = []
        for outcome in outcomes:
            record: dict[str, Any] = {"record": "outcome", "step": list(outcome.step.key),
                                      "ok": outcome.error is None, "status": outcome.status}
            if outcome.created:
                record["created"] = outcome.created
            if outcome.error is not None:
                record["error"] = str(outcome.error)
            records.append(record)
        self._append(records)

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)
