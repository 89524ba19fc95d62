"""After writing: planning the same request again against the tenant (what remains is residue), and finding
the objects an interrupted run created without hearing Graph's answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from entragit.graph import GraphClient
from entragit.registry import REGISTRY
from entragit.restore.kinds import StepKind
from entragit.restore.model import Plan, StepKey
from entragit.restore.planner import plan_restore
from entragit.store import BackupRepo

# Seconds to wait before re-reading objects whose writes are not visible yet (Graph replicates writes
# asynchronously); after the last, what still differs is residue.
SETTLE_WAITS = (0.5, 1.0, 2.0, 4.0)


def found_again(client: GraphClient, plan: Plan, uncertain: Collection[StepKey]) -> dict[str, str]:
    """Objects an interrupted run asked Graph to create without hearing its answer, found in the tenant
    by what tells them apart (old id -> the id Graph gave): made again, they would exist twice."""
    found: dict[str, str] = {}
    for step in plan.steps:
        object_type = REGISTRY[step.type]
        if step.kind is not StepKind.CREATE or step.key not in uncertain or not object_type.found_again_by:
            continue
        values = [(step.body or {}).get(p) for p in object_type.found_again_by]
        if not all(isinstance(v, str) for v in values):
            continue
        quoted = [str(v).replace("'", "''") for v in values]
        query = " and ".join(f"{p} eq '{q}'" for p, q in zip(object_type.found_again_by, quoted))
        hits = [str(obj[object_type.key]) for obj in
                client.iter_collection(object_type.collection, {"$filter": query, "$select": object_type.key},
                                       version=object_type.api_version)]
        # Two or more: which one is ours cannot be told, and it is made again as if never sent.
        if len(hits) == 1:
            found[step.id] = hits[0]
    return found


def verify(repo: BackupRepo, client: GraphClient, plan: Plan, written: Collection[StepKey],
           created: dict[str, str], sleep: Callable[[float], None] = time.sleep) -> Plan:
    """Plan again against the same snapshot: what remains is residue. A difference that a write just
    made should have removed is read again a few times, since Graph shows writes with a delay."""
    residue = replan(repo, client, plan, created)
    for wait in SETTLE_WAITS:
        if not any(step.key in written for step in residue.steps):
            break
        sleep(wait)
        residue = replan(repo, client, plan, created)
    return residue


def replan(repo: BackupRepo, client: GraphClient, plan: Plan, created: dict[str, str]) -> Plan:
    """The same request planned afresh against the live tenant, through the ids of the objects created
    since the plan was made."""
    fresh = plan_restore(repo, client, plan.commit, plan.selection, plan.options, {**plan.id_map, **created},
                         plan.held_at, plan.unwanted)
    fresh.at = plan.at
    return fresh
