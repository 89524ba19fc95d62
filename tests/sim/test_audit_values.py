"""What the simulated audit log records of values, shaped as Entra's records are (modifiedProperty: names and
old/new values as strings): AD-style names, JSON text of a list, a Conditional Access policy whole, values
cut at a limit, properties and types that carry none, creations with what they set, links with no values."""

from __future__ import annotations

import json
from typing import Any

from simclient import Graph

from entragit.sim import Simulator

AUDITS = "auditLogs/directoryAudits"
POLICIES = "identity/conditionalAccess/policies"


def _values(graph: Graph, object_id: str) -> dict[str, dict[str, Any]]:
    """The newest record about the object: its first target's modified properties by name."""
    record = graph.all_pages(AUDITS, {"$filter": f"targetResources/any(t: t/id eq '{object_id}')"})[0]
    target = next(t for t in record["targetResources"] if t["id"] == object_id)
    return {p["displayName"]: p for p in target["modifiedProperties"]}


def _user(graph: Graph) -> dict[str, Any]:
    return dict(graph.ok("users", {"$top": "1", "$select": "id,jobTitle,businessPhones"})["value"][0])


def test_user_properties_carry_ad_names_and_lists_stay_lists(fresh: Graph) -> None:
    user = _user(fresh)
    assert fresh.patch(f"users/{user['id']}", {"jobTitle": "Auditor", "businessPhones": ["+1 555 0100"],
                                               "usageLocation": "FR"}).status_code == 204
    values = _values(fresh, user["id"])
    assert values["JobTitle"]["newValue"] == '["Auditor"]'
    assert json.loads(values["TelephoneNumber"]["newValue"]) == ["+1 555 0100"]
    # A user's usage location is left out, as admins report (settings.audit_unrecorded).
    assert "UsageLocation" not in values and "usageLocation" not in values
    assert "JobTitle" in json.loads(values["Included Updated Properties"]["newValue"])


def test_graph_names_when_the_switch_is_off(fresh: Graph, fresh_sim: Simulator) -> None:
    fresh_sim.settings.audit_ad_names = False
    user = _user(fresh)
    assert fresh.patch(f"users/{user['id']}", {"jobTitle": "Plain"}).status_code == 204
    assert _values(fresh, user["id"])["jobTitle"]["newValue"] == '["Plain"]'


def test_a_policy_change_is_the_whole_policy_and_long_values_are_cut(fresh: Graph, fresh_sim: Simulator) -> None:
    policy = fresh.ok(POLICIES)["value"][0]
    assert fresh.patch(f"{POLICIES}/{policy['id']}", {"displayName": "Renamed"}).status_code == 204
    whole = _values(fresh, policy["id"])["ConditionalAccessPolicy"]
    assert json.loads(whole["oldValue"])["displayName"] == policy["displayName"]
    new = json.loads(whole["newValue"])
    assert (new["displayName"], new["conditions"]) == ("Renamed", policy["conditions"])

    fresh_sim.settings.audit_value_limit = 40
    assert fresh.patch(f"{POLICIES}/{policy['id']}", {"displayName": "Renamed again"}).status_code == 204
    cut = _values(fresh, policy["id"])["ConditionalAccessPolicy"]["newValue"]
    assert len(cut) == 40 and whole["newValue"].startswith(cut[:10])


def test_creations_carry_what_they_set_and_some_types_carry_nothing(fresh: Graph, fresh_sim: Simulator) -> None:
    group = fresh.post("groups", {"displayName": "Audited", "mailEnabled": False, "mailNickname": "audited",
                                  "securityEnabled": True}).json()
    values = _values(fresh, group["id"])
    assert (values["DisplayName"]["oldValue"], values["DisplayName"]["newValue"]) == ("[]", '["Audited"]')

    fresh_sim.settings.audit_no_values = "groups"
    assert fresh.patch(f"groups/{group['id']}", {"description": "quiet"}).status_code == 204
    assert _values(fresh, group["id"]) == {}
