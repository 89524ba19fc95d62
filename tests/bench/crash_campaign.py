"""Crash campaign: SIGKILL `entragit snapshot` and `entragit apply` at many random moments, inside each git
step of the snapshot's commit among them, and check after every kill that the repository needs no hand.

    python tests/bench/crash_campaign.py --kills 60 --seed 1

What it measures: whether any kill leaves a repository that the next run cannot take back by itself. The
simulated tenant runs in this process; each entragit run is a real process, killed with SIGKILL by:
- a `git` stand-in first on PATH (tests/crashkit.py) that, at a chosen call of a chosen git subcommand
  (status, ls-tree, fast-import, mktree, commit-tree, update-index, update-ref, checkout-index), kills
  entragit while git runs, once git has finished, or (update-ref) kills git too while it holds its locks;
- a timer, at a random moment of the run;
- the tenant, as it receives the k-th write of an apply (the rest of that $batch is still written).
Some kills land in a first snapshot (a fresh repository each time), the rest in incremental ones after the
tenant changed (files written, rewritten and deleted), or in an apply undoing a bad change.

After each kill: `git fsck` is clean; HEAD is the old commit or a snapshot on top of it; the next run
succeeds with no manual step and says what it recovered; nothing is left over or lagging (`git status`
clean, no lock, no prepared file); the branch's tree equals the one a clean snapshot of the tenant makes
(taken beside, in a second repository); and a resumed apply repeats no write the killed run completed
(writes counted in the tenant) and verifies.

Prints: kills per phase, recoveries by kind, failures (must be 0), wall time. Seeded: the same seed
makes the same choices (where a timed kill lands still depends on the machine's speed).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from entragit.config import Config  # noqa: E402
from entragit.sim import Simulator  # noqa: E402
from entragit.snapshot import take_snapshot  # noqa: E402
from entragit.store import BackupRepo, init_repo  # noqa: E402
from tests.conftest import Admin  # noqa: E402
from tests.crashkit import Kill, entragit, fsck_clean, git  # noqa: E402
from tests.test_resume import KillSwitch  # noqa: E402

GIT_STEPS = ["status", "ls-tree", "fast-import", "mktree", "commit-tree", "update-index", "update-ref",
             "checkout-index"]
# What each kind of recovery line says, for the tally.
KINDS = [("index brought in line", "brought the index and working tree"), ("index.lock", ".git/index.lock "),
         ("HEAD.lock", ".git/HEAD.lock "), ("branch lock", ".git/refs/heads/"),
         ("prepared folder", ".git/entragit/worktree-"), ("prepared index", "entragit-prepared-index-"),
         ("next index", "entragit-next-index-"), ("fast-import's folder", ".git/entragit/importer-")]


class Campaign:
    def __init__(self, sim: Simulator, scratch: Path, seed: int) -> None:
        self.sim, self.scratch, self.rng = sim, scratch, random.Random(seed)
        self.admin = Admin(sim)
        self.info = scratch / "sim.json"
        self.info.write_text(json.dumps(sim.info()))
        self.config = Config(tenant_id=sim.tenant_id, client_id=sim.client_id, simulator=str(self.info))
        self.reference = init_repo(scratch / "reference", self.config)
        self.kills: Counter[str] = Counter()
        self.recoveries: Counter[str] = Counter()
        self.failures: list[str] = []
        self.missed = 0
        self.switch = KillSwitch(sim, "none", 0)
        self.rounds = 0
        self.repo = self._fresh()
        self.snapshot_seconds = 0.0

    def _fresh(self) -> BackupRepo:
        self.rounds += 1
        return init_repo(self.scratch / f"backup-{self.rounds}", self.config)

    def _run(self, args: list[str], kill: Kill | None = None) -> subprocess.CompletedProcess[str]:
        def started(pid: int) -> None:
            with self.switch._lock:
                self.switch.pid = pid

        try:
            return entragit([*args, "--repo", str(self.repo.root)], kill, self.scratch / "crash", started=started)
        finally:
            with self.switch._lock:
                self.switch.pid = None

    def _timed(self, args: list[str], after: float) -> subprocess.CompletedProcess[str]:
        process = subprocess.Popen([sys.executable, "-m", "entragit", *args, "--repo", str(self.repo.root)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = process.communicate(timeout=after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            out, err = process.communicate()
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def _cloud_users(self) -> list[dict[str, str]]:
        """Users Graph lets an app change (not those synced from on-premises)."""
        users = self.admin.get("users", **{"$select": "id,onPremisesSyncEnabled", "$top": "999"})["value"]
        return [user for user in users if not user.get("onPremisesSyncEnabled")]

    def _change_tenant(self) -> None:
        for user in self.rng.sample(self._cloud_users(), 3):
            self.admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": f"Title {self.rng.randrange(10**6)}"})
        name = f"Crash {self.rng.randrange(10**6)}"
        self.admin.call("POST", "groups", json={"displayName": name, "mailEnabled": False, "securityEnabled": True,
                                                "mailNickname": name.replace(" ", "")})
        made = self.admin.get("groups", **{"$filter": "startswith(displayName,'Crash ')"})["value"]
        if len(made) > 2:
            self.admin.call("DELETE", f"groups/{self.rng.choice(made)['id']}")

    def _fail(self, phase: str, what: str, result: subprocess.CompletedProcess[str] | None = None) -> None:
        said = (result.stderr.strip().splitlines() or [""])[-1] if result is not None else ""
        self.failures.append(f"{phase}: {what} {said}".strip())

    def _check_recovery(self, phase: str, old: str | None) -> None:
        root = self.repo.root
        if not fsck_clean(root):
            self._fail(phase, "git fsck is not clean after the kill")
        head = git(root, "rev-parse", "HEAD")
        if old is not None and head != old and git(root, "rev-parse", "HEAD^") != old:
            self._fail(phase, f"HEAD {head[:10]} is neither the old commit nor one on top of it")
        result = self._run(["snapshot"])
        for line in result.stderr.splitlines():
            if line.startswith("recovered: "):
                self.recoveries[next((kind for kind, text in KINDS if text in line), line)] += 1
        if result.returncode != 0:
            self._fail(phase, "the next snapshot failed:", result)
            return
        git_dir = Path(self.repo.git.git_dir)
        leftovers = [p.name for p in [*git_dir.glob("*.lock"), *git_dir.glob("entragit-*-index-*"),
                                      *(git_dir / "entragit").glob("worktree-*"),
                                      *(git_dir / "entragit").glob("importer-*"),
                                      *(git_dir / "entragit" / "running").glob("*"),
                                      *(git_dir / "objects" / "pack").glob("tmp_*"),
                                      *git_dir.glob("fast_import_crash_*")]]
        if leftovers or git(root, "status", "--porcelain", "--untracked-files=all"):
            self._fail(phase, f"left over after the next run: {leftovers or 'changes in the working tree'}")
        take_snapshot(self.reference)
        if git(root, "rev-parse", "HEAD^{tree}") != git(self.reference.root, "rev-parse", "HEAD^{tree}"):
            self._fail(phase, "the tree differs from a clean snapshot's")

    def _git_kill(self) -> Kill:
        step = self.rng.choice(GIT_STEPS)
        mode = self.rng.choice(["before", "after", "hold"] if step == "update-ref" else ["before", "after"])
        nth = self.rng.randint(1, 3) if step in ("mktree", "ls-tree") else 1
        return Kill(step, nth, mode, self.rng.uniform(0, 0.01))

    def snapshot_round(self, first: bool) -> None:
        if first:
            self.repo = self._fresh()
        old = self.repo.resolve("HEAD")
        self._change_tenant()
        timed = self.rng.random() < 0.3
        phase = ("first snapshot" if first else "snapshot") + (", timed" if timed else "")
        if timed:
            result = self._timed(["snapshot"], self.rng.uniform(0.2, max(self.snapshot_seconds, 0.5)))
        else:
            kill = self._git_kill()
            phase += f", in git {kill.step} ({kill.mode})"
            result = self._run(["snapshot"], kill)
        if result.returncode != -signal.SIGKILL:
            self.missed += 1  # the run ended before the kill: no kill to count
            if result.returncode != 0:
                self._fail(phase, "an unkilled snapshot failed:", result)
            take_snapshot(self.reference)
            return
        self.kills[phase] += 1
        self._check_recovery(phase, old)

    def apply_round(self) -> None:
        """A bad change (jobTitles) recorded by a snapshot and reverted; the apply undoing it is killed."""
        root = self.repo.root
        for user in self.rng.sample(self._cloud_users(), 25):
            self.admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": f"Oops {self.rng.randrange(10**6)}"})
        if self._run(["snapshot"]).returncode != 0:
            self._fail("apply", "the snapshot of the bad change failed")
            return
        take_snapshot(self.reference)
        subprocess.run(["git", "-c", "user.name=campaign", "-c", "user.email=campaign@localhost", "revert",
                        "--no-edit", "HEAD"], cwd=root, check=True, capture_output=True)
        self.switch.written.clear()
        self.switch.seen.clear()
        if self.rng.random() < 0.3:
            kill: Kill | None = self._git_kill()
            assert kill is not None
            phase = f"apply, in git {kill.step} ({kill.mode})"
            self.switch.phase = "none"
        else:
            kill = None
            phase = "apply, at a write"
            self.switch.phase, self.switch.at = "write", self.rng.randint(1, 25)
        killed = self._run(["apply", "--yes"], kill)
        self.switch.phase = "none"
        if killed.returncode != -signal.SIGKILL:
            self.missed += 1
            if killed.returncode != 0:
                self._fail(phase, "an unkilled apply failed:", killed)
        else:
            self.kills[phase] += 1
            if not fsck_clean(root):
                self._fail(phase, "git fsck is not clean after the kill")
            resumed = self._run(["apply", "--yes"])
            if resumed.returncode != 0 or "Verified" not in resumed.stdout:
                self._fail(phase, "the resumed apply failed:", resumed)
            repeated = [key for key, count in self.switch.written.items() if count > 1]
            if repeated:
                self._fail(phase, f"{len(repeated)} completed write(s) made again, e.g. {repeated[0][:2]}")
            if list((Path(self.repo.git.git_dir) / "entragit" / "journal").glob("*")):
                self._fail(phase, "the journal was left behind")
        # The tenant is as the revert says: the next snapshot records it.
        self._check_recovery(phase, None)

    def measure(self) -> None:
        """How long a snapshot takes here, so timed kills land inside one; also the first snapshot."""
        began = time.monotonic()
        if self._run(["snapshot"]).returncode != 0:
            raise SystemExit("the first snapshot failed: nothing to measure against")
        self.snapshot_seconds = time.monotonic() - began
        take_snapshot(self.reference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=60, help="how many kills that landed to make")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", default="small", choices=["small", "medium"])
    options = parser.parse_args()
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch, \
            Simulator(seed=options.seed, size=options.size, state_dir=f"{scratch}/sim") as sim:
        campaign = Campaign(sim, Path(scratch), options.seed)
        campaign.measure()
        while sum(campaign.kills.values()) < options.kills:
            roll = campaign.rng.random()
            if roll < 0.12:
                campaign.snapshot_round(first=True)
            elif roll < 0.3:
                campaign.apply_round()
            else:
                campaign.snapshot_round(first=False)
            done = sum(campaign.kills.values())
            print(f"\r{done}/{options.kills} kills, {len(campaign.failures)} failure(s)", end="", file=sys.stderr)
        print(file=sys.stderr)
    phases: Counter[str] = Counter()
    for phase, n in campaign.kills.items():
        phases[re.sub(r" \((before|after|hold)\)", "", phase)] += n
    print(f"Crash campaign: seed {options.seed}, {options.size} tenant, {time.monotonic() - began:.0f} s, "
          f"{sum(campaign.kills.values())} kills that landed ({campaign.missed} runs ended before their kill)")
    print("\nKills per phase:")
    for phase, n in sorted(campaign.kills.items()):
        print(f"  {n:4d}  {phase}")
    print("\nRecoveries by kind (lines the next run printed):")
    for kind, n in sorted(campaign.recoveries.items()):
        print(f"  {n:4d}  {kind}")
    print(f"\nFailures: {len(campaign.failures)}")
    for failure in campaign.failures:
        print(f"  - {failure}")
    sys.exit(1 if campaign.failures else 0)


if __name__ == "__main__":
    main()
