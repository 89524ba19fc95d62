"""Agent identities (learn.microsoft.com/graph/api/resources/agentidentity): kept, restored in place and from
the recycle bin, and, once gone for good, refused with why rather than made again as another identity."""

from __future__ import annotations

from entragit.graph import GraphClient
from entragit.registry import get_type
from entragit.restore import plan_restore
from entragit.selection import Selection
from entragit.snapshot import take_snapshot
from entragit.store import BackupRepo
from tests.conftest import Admin, run


def test_an_agent_identity_gone_for_good_is_refused_with_why(repo: BackupRepo, client: GraphClient,
                                                              admin: Admin) -> None:
    agents = get_type("agentIdentities")
    take_snapshot(repo, ("agentIdentities",))
    good = repo.resolve("HEAD")
    [agent] = [a for a in repo.read_objects(good, agents).values() if a["displayName"] == "Invoice Triage Agent"]
    assert agent["servicePrincipalType"] == "ServiceIdentity" and agent["agentIdentityBlueprintId"]
    admin.call("DELETE", f"servicePrincipals/{agent['id']}/microsoft.graph.agentIdentity")
    admin.call("DELETE", f"directory/deletedItems/{agent['id']}")

    plan = plan_restore(repo, client, good, Selection(("agentIdentities",), (agent["id"],)))
    assert plan.steps == []
    [blocked] = plan.blocked
    assert "nor in its recycle bin" in blocked.reason and "blueprint" in blocked.reason


def test_types_lists_agent_identities_with_their_permissions() -> None:
    table = run("types").output
    [row] = [line for line in table.splitlines() if line.startswith("agentIdentities ")]
    assert "AgentIdentity.Read.All" in row and "AgentIdentity.ReadWrite.All" in row
    assert row.endswith("recycle bin, else cannot be made again")


def test_an_app_made_from_a_template_and_gone_for_good_is_refused_with_why(repo: BackupRepo, client: GraphClient,
                                                                          admin: Admin) -> None:
    take_snapshot(repo, ("applications",))
    good = repo.resolve("HEAD")
    apps = repo.read_objects(good, get_type("applications")).values()
    [made] = [a for a in apps if a.get("applicationTemplateId")]
    plain = next(a for a in apps if a["displayName"] == "Expense Portal")
    for app in (made, plain):
        admin.call("DELETE", f"applications/{app['id']}")
        admin.call("DELETE", f"directory/deletedItems/{app['id']}")

    plan = plan_restore(repo, client, good, Selection(("applications",), (made["id"], plain["id"])))
    # The plain app is made again; the templated one is refused, naming the request that would make it.
    assert [(s.kind, s.name) for s in plan.steps if s.kind == "create"] == [("create", "Expense Portal")]
    [blocked] = plan.blocked
    assert blocked.id == made["id"]
    assert f"POST applicationTemplates/{made['applicationTemplateId']}/instantiate" in blocked.reason
