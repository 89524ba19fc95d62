"""Benchmark: a full and an incremental snapshot of a simulated tenant under Graph's throttling and latency.

    python tests/bench/bench_snapshot.py --size medium --time-scale 0.1

Prints, for each run: wall time, Graph requests, resource units charged, peak memory of this process,
local work (wall time minus time spent waiting on HTTP), and the ratio to the throttling floor. The floor
is computed from the simulator's own model, in simulated seconds scaled back to real ones: the larger of
(resource units charged / the RU rate) and (the longest chain of pages that must be read one after
another x the per-page latency). Charged units stand in for the minimal request set's, so the floor is
generous to us by whatever we waste.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from entragit.config import Config  # noqa: E402
from entragit.connect import graph_client  # noqa: E402
from entragit.sim import Settings, Simulator  # noqa: E402
from entragit.sim.model import USERS as SIM_USERS  # noqa: E402  (the simulator's spec, to change users in place)
from entragit.snapshot import take_snapshot  # noqa: E402
from entragit.store import init_repo  # noqa: E402

RU_PER_10S = {"small": 3500, "medium": 5000, "large": 8000}


def _measure(label: str, sim: Simulator, run: callable, chain: int, size_class: str) -> dict:  # type: ignore[valid-type]
    sim.stats.reset()
    started = time.monotonic()
    result = run()
    wall = time.monotonic() - started
    stats = sim.stats.snapshot()
    scale = sim.settings.time_scale
    ru_floor = stats["resource_units"] / (RU_PER_10S[size_class] / 10.0) * scale
    chain_floor = chain * sim.settings.latency_base * scale
    floor = max(ru_floor, chain_floor)
    return {
        "run": label, "wall_s": round(wall, 2), "http_requests": stats["http_requests"],
        "graph_requests": stats["requests"], "resource_units": stats["resource_units"],
        "throttled": stats["throttled"], "files_changed": result.changed_files,
        "floor_s": round(floor, 2), "ratio_to_floor": round(wall / floor, 2) if floor else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--changed", type=float, default=0.01, help="share of users changed before the incremental run")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="entragit-bench-"))
    built = time.monotonic()
    with Simulator(seed=7, size=args.size, state_dir=str(work), settings=Settings.realistic(args.time_scale)) as sim:
        print(f"tenant {args.size}: {sum(len(v) for v in sim.tenant.objects.values())} objects, "
              f"built in {time.monotonic() - built:.1f} s", flush=True)
        users = len(sim.tenant.objects["users"])
        size_class = "small" if users < 50 else "medium" if users <= 500 else "large"
        (work / "sim.json").write_text(json.dumps(sim.info()))
        repo = init_repo(work / "backup", Config(tenant_id=sim.tenant_id, client_id=sim.client_id,
                                                 simulator=str(work / "sim.json")))
        client = graph_client(repo.config.connection())
        # The longest chain of pages read one after another: the user list with $expand (100 a page).
        chain = -(-users // 100)
        rows = [_measure("full", sim, lambda: take_snapshot(repo, client=client, full=True), chain, size_class)]
        with sim.tenant.lock:
            for user in list(sim.tenant.objects["users"].values())[: int(users * args.changed)]:
                sim.tenant.update(SIM_USERS, user, {"jobTitle": "Changed for the benchmark"})
        rows.append(_measure("incremental", sim, lambda: take_snapshot(repo, client=client), 1, size_class))
    for row in rows:
        print(json.dumps(row))
    print(json.dumps({"incremental_over_full": round(rows[1]["wall_s"] / rows[0]["wall_s"], 3)}))


if __name__ == "__main__":
    main()
