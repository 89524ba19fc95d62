"""`entragit demo`: the story of Microsoft's Entra Backup and Recovery, told on a simulated tenant.

A snapshot, a bulk script that goes wrong for the Sales department, the difference report that finds
it, a restore of just those users, and a check that nothing is left over. Real HTTPS, real msal and
real git underneath; only the tenant is simulated.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import click

from entragit.config import Config
from entragit.connect import graph_client
from entragit.diff.build import diff_live, diff_revisions
from entragit.graph import BatchItem, GraphClient
from entragit.registry import get_type
from entragit.report import table
from entragit.report.model import DiffReport
from entragit.report.plan import render_plan, render_result
from entragit.restore import apply_plan, plan_restore
from entragit.selection import Selection
from entragit.sim import Settings, Simulator
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo, init_repo

Echo = Callable[[str], None]

DEPARTMENT = "Sales"
_EXTENSION_ATTRIBUTES = {f"extensionAttribute{i}": None for i in range(1, 16)}


def _bulk_mistake(client: GraphClient) -> tuple[list[str], int]:
    """What the seed's bad CSV did: blank jobTitle and extension attributes, drop static memberships."""
    sales = [u["id"] for u in client.iter_collection(
        "users", {"$filter": f"department eq '{DEPARTMENT}'", "$select": "id", "$top": "999"})]
    blank = {"jobTitle": None, "onPremisesExtensionAttributes": _EXTENSION_ATTRIBUTES}
    writes = [BatchItem("PATCH", f"users/{quote(u)}", body=blank) for u in sales]
    groups = client.collect_many([BatchItem("GET", f"users/{quote(u)}/memberOf", {"$select": "id,groupTypes"})
                                  for u in sales])
    removals = [
        BatchItem("DELETE", f"groups/{quote(group['id'])}/members/{quote(user)}/$ref")
        for user, memberships in zip(sales, groups) for group in memberships
        if group.get("@odata.type") == "#microsoft.graph.group" and "DynamicMembership" not in group.get("groupTypes", [])
    ]
    for answer, item in zip(client.batch(writes + removals), writes + removals):
        if answer.status >= 400:
            raise answer.error(item)
    return sales, len(removals)


def _groups_holding(repo: BackupRepo, commit: str, member_ids: set[str]) -> list[str]:
    groups = repo.read_objects(commit, get_type("groups"))
    return sorted(gid for gid, group in groups.items() if member_ids & set(group.get("members", [])))


def _step(echo: Echo, number: int, title: str) -> None:
    echo("")
    echo(click.style(f"{number}. {title}", bold=True))


def run_demo(directory: Path | None, seed: int, echo: Echo, realistic: bool = False) -> None:
    started = time.monotonic()
    workdir = directory or Path(tempfile.mkdtemp(prefix="entragit-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    repo_dir = workdir / "backup"
    info_path = workdir / "simulator.json"

    echo(click.style("entragit demo", bold=True) + ": recovering from a bulk script that went wrong, on a simulated tenant.")
    settings = Settings.realistic() if realistic else Settings()
    with Simulator(seed=seed, size="small", state_dir=str(workdir), settings=settings) as sim:
        # The secret stays in this file, outside the backup repository, as it would in a real setup.
        info_path.write_text(json.dumps(sim.info(), indent=2))
        echo(f"   Simulated tenant {sim.tenant_id} at {sim.graph_url} (HTTPS, msal client credentials"
             + (", Graph's throttling and latency)." if realistic else ")."))

        _step(echo, 1, "Monday: the daily snapshot")
        repo = init_repo(repo_dir, Config(tenant_id=sim.tenant_id, client_id=sim.client_id,
                                          simulator=str(info_path.resolve())))
        client = graph_client(repo.config.connection())
        first = take_snapshot(repo, client=client)
        first_commit = repo.resolve("HEAD")
        main = ", ".join(f"{first.counts[name]} {name}" for name in ("users", "groups", "applications",
                                                                    "conditionalAccessPolicies"))
        echo(f"   Committed {first.changed_files} files, one per object of {len(first.counts)} types "
             f"({main}, ...) as {first_commit[:10]}.")
        again = take_snapshot(repo, client=client)
        echo(f"   A second run finds the tenant unchanged: {'no new commit' if again.commit is None else 'new commit?!'}.")

        _step(echo, 2, f"Tuesday: a bulk script meant to fix job titles in {DEPARTMENT} goes wrong")
        sales_ids, removed = _bulk_mistake(graph_client(repo.config.connection()))
        echo(f"   It blanked jobTitle and the extension attributes of {len(sales_ids)} {DEPARTMENT} users")
        echo(f"   and removed {removed} static group memberships. Users whose extension attributes fed a")
        echo("   dynamic group's rule dropped out of that group as well.")

        _step(echo, 3, "Wednesday: the next snapshot, and the difference report")
        take_snapshot(repo, client=client)
        report = diff_revisions(repo, first_commit, "HEAD")
        # One object of each kind is enough to see the damage; the summary line counts the rest.
        excerpt = [next(c for c in report.changes if c.type == "users"),
                   max((c for c in report.changes if c.type == "groups"), key=lambda c: len(c.members))]
        echo("   $ entragit diff        (an excerpt: one user, one group)")
        text = table.render(DiffReport(report.old, report.new, excerpt), limit_per_object=4)
        echo("\n".join("   " + line for line in text.splitlines()[2:-1]))
        echo("   " + table.summary(report))

        _step(echo, 4, f"Restore the {len(sales_ids)} {DEPARTMENT} users from Monday's snapshot")
        echo(f"   $ entragit restore --at {first_commit[:10]} --id <{len(sales_ids)} ids> --yes")
        plan = plan_restore(repo, client, first_commit, Selection(ids=tuple(sales_ids)))
        echo("\n".join("   " + line for line in render_plan(plan, limit=3).splitlines()))
        result = apply_plan(repo, client, plan)
        echo("\n".join("   " + line for line in render_result(result).splitlines()))

        _step(echo, 5, "Check: the live tenant against Monday's snapshot, for those users and their groups")
        their_groups = _groups_holding(repo, first_commit, set(sales_ids))
        check = diff_live(repo, client, first_commit, Selection(ids=tuple(sales_ids) + tuple(their_groups)))
        echo("   " + table.summary(check))
        echo("   The dynamic groups refilled by themselves once the attributes their rules read were back.")

    echo("")
    echo(f"Done in {time.monotonic() - started:.1f} s. The backup repository is {repo_dir}")
    echo(f"   cd {repo_dir} && git log --stat -3")
    echo(f"   entragit diff --repo {repo_dir}")
    echo("The simulator stopped with the demo; restart it with "
         f"`entragit sim serve --seed {seed} --info {info_path}` to run snapshots and live diffs again.")
