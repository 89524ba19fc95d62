"""Agent identities (learn.microsoft.com/graph/api/resources/agentidentity): kept, restored in place and from
the recycle bin, and, once gone for good, refused with why rather than made again as another identity.
Applications made from an application template, made again from it once gone for good."""

from __future__ import annotations

from entragit.graph import GraphClient
from entragit.registry import get_type
from entragit.restore import apply_plan, plan_restore
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


def test_an_app_made_from_a_template_and_gone_for_good_is_instantiated_again_with_its_service_principal(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    take_snapshot(repo, ("applications", "servicePrincipals"))
    good = repo.resolve("HEAD")
    [app] = [a for a in repo.read_objects(good, get_type("applications")).values() if a.get("applicationTemplateId")]
    [sp] = [s for s in repo.read_objects(good, get_type("servicePrincipals")).values() if s["appId"] == app["appId"]]
    template = app["applicationTemplateId"]
    for kind, obj in (("servicePrincipals", sp), ("applications", app)):
        admin.call("PATCH", f"{kind}/{obj['id']}", json={"notes": "set before the deletion"})
    take_snapshot(repo, ("applications", "servicePrincipals"))
    good = repo.resolve("HEAD")
    for kind, obj in (("servicePrincipals", sp), ("applications", app)):
        admin.call("DELETE", f"{kind}/{obj['id']}")
        admin.call("DELETE", f"directory/deletedItems/{obj['id']}")

    plan = plan_restore(repo, client, good, Selection(("applications", "servicePrincipals"), (app["id"], sp["id"])))
    [create] = [s for s in plan.steps if s.kind == "create"]
    # One request makes both, as the portal's gallery does; the rest of each is written once they exist.
    assert (create.method, create.path, create.body) == (
        "POST", f"applicationTemplates/{template}/instantiate", {"displayName": app["displayName"]})
    assert {s.type for s in plan.steps if s.kind == "patch"} == {"applications", "servicePrincipals"}
    result = apply_plan(repo, client, plan)
    assert result.failed == [] and result.residue.steps == []
    # Left: the app's keys, which no restore brings back, and its service principal's copy of the app's
    # info, which Graph took from the app as the template made it, before the app's own was written back.
    assert {(b.type, b.what.split(":")[0].split(".")[0]) for b in result.residue.blocked} == {
        ("applications", "keyCredentials"), ("servicePrincipals", "info")}, result.residue.blocked
    new_app = admin.get(f"applications/{result.created[app['id']]}")
    new_sp = admin.get(f"servicePrincipals/{result.created[sp['id']]}")
    assert new_app["applicationTemplateId"] == new_sp["applicationTemplateId"] == template
    assert new_app["notes"] == new_sp["notes"] == "set before the deletion"
    assert new_sp["appId"] == new_app["appId"] == result.created[app["appId"]]
