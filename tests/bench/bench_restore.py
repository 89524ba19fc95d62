"""Benchmark: restore 5,000 users' attributes and memberships under the simulator's throttling and latency.

    python tests/bench/bench_restore.py --size large --time-scale 0.1

A full snapshot is taken, then 5,000 users get two attributes changed and lose one static group
membership each (changed inside the simulator, so the change spends none of the app's write quota).
The restore of those users is then planned and applied (journal on, as `entragit restore` runs it).

Prints: plan build time, the snapshot taken before writing, apply wall time (writes, and writes plus the
verifying re-read), Graph requests, and the ratio to the floor. The floor comes from the simulator's own
write-throttling model, scaled back to real seconds: a bucket of `write_quota` writes refilling over 150
simulated seconds admits the first `write_quota` writes at once and the rest at quota/150 per second; and
$batch carries 20 writes, so the writes need at least writes/20 batches, BATCH_WORKERS at a time, each
taking at least the simulator's latency. The floor is the larger of the two.

The runs so far, with the code each ran on, are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from entragit.config import Config  # noqa: E402
from entragit.connect import graph_client  # noqa: E402
from entragit.graph import BATCH_LIMIT, BATCH_WORKERS  # noqa: E402
from entragit.restore import Journal, apply_plan, plan_restore, snapshot_before  # noqa: E402
from entragit.selection import Selection  # noqa: E402
from entragit.sim import Settings, Simulator  # noqa: E402
from entragit.sim.model import USERS as SIM_USERS  # noqa: E402  (the simulator's spec, to change users in place)
from entragit.sim.model import is_dynamic, is_synced  # noqa: E402
from entragit.sim.throttle import WRITE_QUOTA, WRITE_WINDOW_SECONDS  # noqa: E402
from entragit.snapshot import take_snapshot  # noqa: E402
from entragit.store import init_repo  # noqa: E402


HOLDING_USERS = ("users", "groups", "administrativeUnits", "applications", "servicePrincipals")


def _break(sim: Simulator, count: int) -> list[str]:
    """count users lose jobTitle and officeLocation (no dynamic rule reads them) and one static membership."""
    tenant = sim.tenant
    with tenant.lock:
        # Synced objects refuse these writes (on-premises mastered), so they are left out.
        static_groups = {gid for gid, g in tenant.objects["groups"].items() if not is_dynamic(g) and not is_synced(g)}
        membership: dict[str, str] = {}
        for group_id in sorted(static_groups):
            for member in sorted(tenant.links["members"].get(group_id, ())):
                if member in tenant.objects["users"] and not is_synced(tenant.objects["users"][member]):
                    membership.setdefault(member, group_id)
        chosen = sorted(random.Random(7).sample(sorted(membership), min(count, len(membership))))
        for user_id in chosen:
            tenant.update(SIM_USERS, tenant.objects["users"][user_id],
                          {"jobTitle": "Overwritten by a bad script", "officeLocation": None})
            tenant.unlink("members", membership[user_id], user_id)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--users", type=int, default=5000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="entragit-bench-"))
    started = time.monotonic()
    settings = Settings.realistic(args.time_scale)
    with Simulator(seed=7, size=args.size, state_dir=str(work), settings=settings) as sim:
        print(f"tenant {args.size}: {sum(len(v) for v in sim.tenant.objects.values())} objects, "
              f"built in {time.monotonic() - started:.1f} s", flush=True)
        (work / "sim.json").write_text(json.dumps(sim.info()))
        repo = init_repo(work / "backup", Config(tenant_id=sim.tenant_id, client_id=sim.client_id,
                                                 simulator=str(work / "sim.json")))
        client = graph_client(repo.config.connection())
        # The client keeps to Graph's documented write quota; the simulator runs its windows time_scale
        # times faster, so the client is told the scaled window.
        quota = settings.write_quota or WRITE_QUOTA
        client.limit_writes(quota, WRITE_WINDOW_SECONDS * args.time_scale)
        began = time.monotonic()
        # The types whose files hold users or links to them; the rest play no part in this restore.
        good = take_snapshot(repo, HOLDING_USERS, client=client, full=True).commit
        assert good is not None
        print(f"full snapshot: {time.monotonic() - began:.1f} s", flush=True)
        users = _break(sim, args.users)

        sim.stats.reset()
        began = time.monotonic()
        plan = plan_restore(repo, client, good, Selection(("users",), tuple(users)))
        plan_s = time.monotonic() - began
        plan_stats = sim.stats.snapshot()
        writes = len(plan.steps)

        began = time.monotonic()
        before, _ = snapshot_before(repo, client, plan)
        snapshot_s = time.monotonic() - began

        journal = Journal(str(repo.git.git_dir), "bench", repo.config.tenant_id)
        journal.start(plan)
        sim.stats.reset()
        answered: list[float] = []

        def record(outcomes: list) -> None:  # type: ignore[type-arg]
            journal.outcomes(outcomes)
            answered.append(time.monotonic())

        began = time.monotonic()
        result = apply_plan(repo, client, plan, on_batch=record)
        apply_s = time.monotonic() - began
        writes_s = answered[-1] - began
        journal.finish()
        stats = sim.stats.snapshot()

    scale = args.time_scale
    quota_floor = max(0, writes - quota) / (quota / WRITE_WINDOW_SECONDS) * scale
    batches = -(-writes // BATCH_LIMIT)
    batch_floor = -(-batches // BATCH_WORKERS) * (settings.latency_base + settings.latency_per_item * BATCH_LIMIT) * scale
    floor = max(quota_floor, batch_floor)
    row = {
        "size": args.size, "time_scale": scale, "users_changed": len(users), "writes": writes,
        "failed": len(result.failed), "residue": len(result.residue.steps),
        "plan_s": round(plan_s, 2), "plan_graph_requests": plan_stats["requests"],
        "snapshot_before_s": round(snapshot_s, 2), "snapshot_before": before[:10],
        "apply_writes_s": round(writes_s, 2), "apply_with_verify_s": round(apply_s, 2),
        "http_requests": stats["http_requests"], "graph_requests": stats["requests"],
        "writes_charged": stats["writes"], "throttled": stats["throttled"],
        "floor_s": round(floor, 2), "quota_floor_s": round(quota_floor, 2), "batch_floor_s": round(batch_floor, 2),
        "writes_over_floor": round(writes_s / floor, 3) if floor else None,
        "apply_over_floor": round(apply_s / floor, 3) if floor else None,
        "plan_over_apply": round(plan_s / apply_s, 3),
    }
    print(json.dumps(row))
    for step, error in result.failed[:5]:
        print(f"failed: {step.describe()}: {error}")


if __name__ == "__main__":
    main()
