"""Benchmark: `entragit log ID` on a large tenant's history, with the diff driver `entragit init` configures.

    python tests/bench/bench_log.py                  # 30 daily snapshots of 100,000 users, 1% changed a day
    python tests/bench/bench_log.py --users 20000    # a quicker run

Builds the history without Graph, with fast-import as bench_diff.py does (its Tenant makes the canonical
files): a first snapshot of every user and 2,000 groups, then one snapshot a day, each rewriting 1% of the
users. One user changes in every snapshot (30 changes) and is added to a group in two of them, which `log`
finds with git's pickaxe over every changed file. The textconv is installed as `entragit init` does it: git
would start it once per file the pickaxe reads unless entragit's own git calls turn it off. Prints the time
of `entragit log` run as a user runs it (a new process; the median of 3 runs). Target (issue 17): under 2 s.

The runs so far, with the code each ran on, are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from entragit.config import Config  # noqa: E402
from entragit.store import init_repo  # noqa: E402
from entragit.textconv import install  # noqa: E402
from tests.bench.bench_diff import Tenant, _check_canonical  # noqa: E402

DAYS = 30
TARGET = 0  # the user who changes every day
JOINS = {10: 3, 20: 7}  # day -> the group the target joins that day


def _history(root: Path, tenant: Tenant, share: float) -> None:
    """DAYS snapshot commits on the current branch: everything on day 0, then share of the users a day."""
    branch = subprocess.run(["git", "symbolic-ref", "HEAD"], cwd=root, capture_output=True, text=True,
                            check=True).stdout.strip()
    process = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=root, stdin=subprocess.PIPE)
    assert process.stdin is not None
    out = process.stdin
    rng = random.Random(5)
    users = len(tenant.user_ids)
    start = int(time.time()) - DAYS * 86400
    for day in range(DAYS):
        if day == 0:
            files = {f"users/{uid}.yaml": tenant.user(n) for n, uid in enumerate(tenant.user_ids)}
            files.update({f"groups/{gid}.yaml": tenant.group(n) for n, gid in enumerate(tenant.group_ids)})
        else:
            changed = {TARGET, *rng.sample(range(1, users), int(users * share) - 1)}
            files = {f"users/{tenant.user_ids[n]}.yaml": tenant.user(n, title=f"Day {day} title") for n in changed}
        if day in JOINS:
            group = JOINS[day]
            tenant.members[group] = sorted({*tenant.members[group], tenant.user_ids[TARGET]})
            files[f"groups/{tenant.group_ids[group]}.yaml"] = tenant.group(group)
        message = f"Snapshot: day {day}\n\nEntragit-Snapshot: bench\n".encode()
        out.write(b"commit %s\ncommitter bench <bench@localhost> %d +0000\ndata %d\n%s"
                  % (branch.encode(), start + day * 86400, len(message), message))
        if day == 0:
            out.write(b"from %s^0\n" % branch.encode())
        for path, data in files.items():
            out.write(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))
        out.write(b"\n")
    out.close()
    if process.wait() != 0:
        raise SystemExit("git fast-import failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--share", type=float, default=0.01, help="Share of the users changed a day.")
    parser.add_argument("--dir", type=Path, help="Where to build the repository (default: a temporary folder).")
    args = parser.parse_args()

    root = (args.dir or Path(tempfile.mkdtemp(prefix="entragit-bench-log-"))) / "backup"
    started = time.perf_counter()
    tenant = Tenant(args.users, 2_000)
    if not (root / ".git").exists():  # built by an earlier run: measure again
        init_repo(root, Config(tenant_id="00000000-0000-0000-0000-000000000001", client_id="bench"))
        _check_canonical(tenant)
        _history(root, tenant, args.share)
    install(root)
    print(f"{root}: {DAYS} snapshots of {args.users} users, {args.share:.0%} changed a day, ready in "
          f"{time.perf_counter() - started:.1f} s", flush=True)

    target = tenant.user_ids[TARGET]
    command = [sys.executable, "-m", "entragit", "log", target, "--repo", str(root)]
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    times = []
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
        times.append(time.perf_counter() - started)
    entries = done.stdout.count("Snapshot: day")
    assert entries == DAYS, done.stdout[-2000:]
    print(f"entragit log {target}: {entries} snapshots listed, {statistics.median(times):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
