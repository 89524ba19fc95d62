"""A restore killed (SIGKILL) at a random point resumes when the same command runs again, and no write
Graph completed is made twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from entragit.demo import _bulk_mistake
from entragit.graph import GraphClient
from entragit.restore import Journal, Outcome, plan_restore
from entragit.sim import Simulator
from entragit.selection import Selection
from entragit.sim.throttle import cost_of
from entragit.store import BackupRepo
from tests.conftest import Admin, run


class KillSwitch:
    """Counts what the simulated tenant serves; SIGKILLs the process under test when it receives its
    k-th read or write (before handling it, so the rest of that $batch is still written and its
    answer lost), and counts every write that succeeded, by method, path and body."""

    def __init__(self, sim: Simulator, phase: str, at: int) -> None:
        self.phase, self.at = phase, at
        self.pid: int | None = None
        self.seen: Counter[str] = Counter()
        self.written: Counter[tuple[str, str, bytes]] = Counter()
        self._lock = threading.Lock()
        self._charged = sim.gateway._charged
        sim.gateway._charged = self._charge  # type: ignore[method-assign]

    def _charge(self, request: Any, app_id: str) -> Any:
        kind = "write" if cost_of(request.method, request.segments, request.pairs).writes else "read"
        with self._lock:
            if self.pid is not None:
                self.seen[kind] += 1
                if kind == self.phase and self.seen[kind] == self.at:
                    os.kill(self.pid, signal.SIGKILL)
        response = self._charged(request, app_id)
        if kind == "write" and response.status < 400:
            with self._lock:
                self.written[(request.method, request.raw_path, request.body)] += 1
        return response

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        process = subprocess.Popen([sys.executable, "-m", "entragit", *args], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        with self._lock:
            self.pid = process.pid
        out, err = process.communicate(timeout=300)
        with self._lock:
            self.pid = None
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize("seed", range(6))
def test_killed_restore_resumes_without_repeating_a_completed_write(
        seed: int, sim: Simulator, repo: BackupRepo, client: GraphClient) -> None:
    run("snapshot", "--repo", str(repo.root))
    good = repo.resolve("HEAD")
    sales_ids, _ = _bulk_mistake(client)
    writes = len(plan_restore(repo, client, good, Selection(ids=tuple(sales_ids))).steps)
    rng = random.Random(seed)
    phase = rng.choices(["read", "write"], weights=[1, 3])[0]
    switch = KillSwitch(sim, phase, rng.randint(1, 60) if phase == "read" else rng.randint(1, writes))
    command = ["restore", "--repo", str(repo.root), "--at", good, *[a for i in sales_ids for a in ("--id", i)],
               "--yes"]

    killed = switch.run(*command)
    switch.phase = "none"
    resumed = switch.run(*command)

    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Verified" in resumed.stdout
    assert [key for key, count in switch.written.items() if count > 1] == []
    assert "No differences." in run("diff", good, "--live", "--repo", str(repo.root)).output
    journal = Path(repo.git.git_dir) / "entragit" / "journal"
    assert not journal.exists() or list(journal.iterdir()) == []


def test_journal_keeps_created_ids_and_survives_a_line_cut_short(repo: BackupRepo, client: GraphClient,
                                                                  admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    group = admin.group("Marketing Team")
    admin.call("DELETE", f"groups/{group['id']}")
    admin.call("DELETE", f"directory/deletedItems/{group['id']}")
    plan = plan_restore(repo, client, repo.resolve("HEAD"), Selection(ids=(group["id"],)))
    [step] = [s for s in plan.steps if s.kind == "create"]
    journal = Journal(str(repo.git.git_dir), "test", repo.config.tenant_id)
    journal.start(plan)
    # A re-created object answers with its new id (201 and the object); the journal keeps the mapping.
    journal.outcomes([Outcome(step, 201, {"id": "new-id"}, None)])
    with journal.path.open("a") as handle:
        handle.write('{"record": "outcome", "st')

    progress = journal.read()

    assert progress is not None and progress.plan == plan
    assert progress.succeeded == {step.key} and progress.created == {group["id"]: "new-id"}
    journal.finish()
    assert journal.read() is None


@pytest.mark.parametrize("kill_at", [1, 2], ids=["answer-lost", "answer-heard"])
def test_killed_restore_that_recreated_a_group_resumes_with_its_new_id_and_makes_it_once(
        kill_at: int, sim: Simulator, repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    good = repo.resolve("HEAD")
    group = admin.group("Marketing Team")
    members = admin.members(group["id"])
    admin.call("DELETE", f"groups/{group['id']}")
    admin.call("DELETE", f"directory/deletedItems/{group['id']}")
    # The first write creates the group. A kill as it arrives: Graph makes the group, and the run never
    # hears its new id (found again on resume). A kill as the second (a member link) arrives: the journal
    # has the new id.
    switch = KillSwitch(sim, "write", kill_at)
    command = ["restore", "--repo", str(repo.root), "--at", good, "--id", group["id"], "--yes"]

    killed = switch.run(*command)
    switch.phase = "none"
    resumed = switch.run(*command)

    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    creations = [key for key in switch.written if key[0] == "POST" and key[1].strip("/") == "groups"]
    assert len(creations) == 1 and switch.written[creations[0]] == 1
    [made] = admin.get("groups", **{"$filter": "displayName eq 'Marketing Team'"})["value"]
    assert made["id"] != group["id"]
    assert f"it created {made['id']} in place of {group['id']}" in resumed.stdout
    assert admin.members(made["id"]) == members
