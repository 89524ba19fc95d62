"""Requests as Microsoft's documentation pages and generated SDKs send them, answered as those pages show.

Each test restates a documented request and the answer its page shows, in this project's own data, and names
the page (learn.microsoft.com/graph/api/<page>?view=graph-rest-1.0). Covers the five ways the simulator once
answered differently from Graph: function-call URLs, nested objects on PATCH, case, over-strict checks and
missing routes and properties.
"""

from __future__ import annotations

from typing import Any

import pytest
from simclient import Graph
from tuned import batch_of, by_id

# --- function-call URLs: Microsoft's generated SDKs send delta() ----------------------------------------------

# Every collection with a delta function (user-delta, group-delta, application-delta, serviceprincipal-delta,
# administrativeunit-delta, oauth2permissiongrant-delta) and a property of it to $select.
DELTA_COLLECTIONS = {
    "users": "displayName",
    "groups": "displayName",
    "applications": "displayName",
    "servicePrincipals": "displayName",
    "directory/administrativeUnits": "displayName",
    "oauth2PermissionGrants": "scope",
}


def _round(graph: Graph, url: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A delta round's items and its last page."""
    items: list[dict[str, Any]] = []
    while True:
        response = graph.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["value"]
        if "@odata.nextLink" not in page:
            return items, page
        url = page["@odata.nextLink"]


@pytest.mark.parametrize("collection", DELTA_COLLECTIONS)
@pytest.mark.parametrize("function", ["delta()", "microsoft.graph.delta()"])
def test_delta_as_a_function_call_answers_as_delta(graph: Graph, collection: str, function: str) -> None:
    select = DELTA_COLLECTIONS[collection]
    plain, plain_last = _round(graph, f"{collection}/delta?$select={select}")
    called, called_last = _round(graph, f"{collection}/{function}?$select={select}")
    assert called == plain and called
    assert all(set(item) <= {"id", select, "@odata.type"} for item in called)
    # The context names the collection and the selection, and the round ends with a deltaLink (user-delta).
    assert called_last["@odata.context"] == plain_last["@odata.context"]
    assert called_last["@odata.context"].endswith(f"({select})")
    assert "@odata.deltaLink" in called_last
    follow_up, _ = _round(graph, called_last["@odata.deltaLink"])
    assert follow_up == []


def test_delta_function_calls_inside_a_batch(graph: Graph) -> None:
    response = graph.post("$batch", batch_of(
        {"method": "GET", "url": "/users/delta()?$select=displayName,givenName,surname"},
        {"method": "GET", "url": "groups/delta()?$select=displayName,description&$expand=members"},
        {"method": "GET", "url": "/directory/administrativeUnits/microsoft.graph.delta()"},
    ))
    answers = by_id(response)
    assert [answers[n]["status"] for n in "123"] == [200, 200, 200], answers
    users = answers["1"]["body"]
    assert users["@odata.context"].endswith("$metadata#users(displayName,givenName,surname)")
    assert users["value"] and all(set(u) <= {"id", "displayName", "givenName", "surname"} for u in users["value"])
    assert any("members@delta" in g for g in answers["2"]["body"]["value"])
    assert answers["3"]["body"]["value"]
