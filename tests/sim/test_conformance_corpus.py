"""The conformance corpus: requests of Microsoft's documentation pages, replayed against the simulator.

Each file in corpus/ holds examples for one registry type's endpoints, restated in this project's own data:
the page it comes from (learn.microsoft.com/graph/api/<page>?view=graph-rest-1.0, or graph-rest-beta where the
example says `"version": "beta"`: its request goes to /beta), the request, and what the
page's answer fixes: the status, the keys the answer shows (the shape), and the values it pins down. An id
in a URL or body is written as a placeholder: `{collection}` is an object the seeded tenant has (the first
of the simulator's collection of that name), `{given}` the id of what the example's last `given` request
made (`{given.appId}` another of its properties, `{given[0]}` what the first made), `{domain}` the tenant's
domain; `{users[1]}` is the second object of that collection, for an example that names several. An example's `note` says where and why it departs
from its page; `"fresh": true` runs it on a tenant of its own, for one that first removes what the seeded
tenant has.
A new registry type adds a file here; test_every_registry_type_has_examples holds the corpus to that.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from simclient import Graph

from entragit.registry import REGISTRY
from entragit.sim.model import BY_NAME

CORPUS = Path(__file__).parent / "corpus"
EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    (path.stem, example) for path in sorted(CORPUS.glob("*.json"))
    for example in json.loads(path.read_text(encoding="utf-8"))
]
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9.]+)(?:\[(\d+)\])?\}")


def _fill(value: Any, graph: Graph, given: list[dict[str, Any]]) -> Any:
    """value with its placeholders replaced (strings, and the strings inside lists and objects)."""
    if isinstance(value, str):
        def one(match: re.Match[str]) -> str:
            name, _, prop = match.group(1).partition(".")
            if name == "given":
                return str(given[int(match.group(2) or -1)][prop or "id"])
            if name == "domain":
                return graph.sim.tenant.domain
            return str(graph.sim.tenant.sorted_objects(BY_NAME[name])[int(match.group(2) or 0)]["id"])
        return _PLACEHOLDER.sub(one, value)
    if isinstance(value, list):
        return [_fill(item, graph, given) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, graph, given) for key, item in value.items()}
    return value


def _send(graph: Graph, request: dict[str, Any], given: list[dict[str, Any]], version: str = "v1.0") -> Any:
    body = _fill(request.get("body"), graph, given)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    url = _fill(request["url"], graph, given)
    if version != "v1.0":
        url = f"{graph.sim.graph_url}/{version}/{url}"
    return graph.request(request["method"], url, json=body,
                         headers={**headers, **request.get("headers", {})})


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


@pytest.mark.parametrize("example", [e for _, e in EXAMPLES], ids=[f"{t}:{e['page']}:{e['name']}" for t, e in EXAMPLES])
def test_documented_example(request: pytest.FixtureRequest, example: dict[str, Any]) -> None:
    # Most examples share one tenant; one that removes what the seeded tenant has (`"fresh": true`) gets its own.
    graph: Graph = request.getfixturevalue("fresh" if example.get("fresh") else "graph")
    given: list[dict[str, Any]] = []
    for setup in example.get("given", []):
        response = _send(graph, setup, given)
        assert response.status_code in (200, 201, 204), response.text
        if response.content:  # A write answered 204 (a $ref) sets up the object before it; {given} stays that one.
            given.append(response.json())
    response = _send(graph, example["request"], given, example.get("version", "v1.0"))
    assert response.status_code == example["status"], response.text
    if example["status"] == 204:
        assert not response.content
        return
    answer = response.json()
    context = example.get("context")
    if context is not None:
        assert answer["@odata.context"].endswith(f"$metadata#{context}"), answer["@odata.context"]
    shaped = answer["value"][0] if "value" in answer and example.get("collection", False) else answer
    for key, kind in example.get("shape", {}).items():
        assert key in shaped, f"{key} missing from {sorted(shaped)}"
        # The documented answer's JSON kind; a documented null only says the key is there.
        assert kind == "null" or _kind(shaped[key]) in (kind, "null"), (key, shaped[key])
    for key, value in _fill(example.get("values", {}), graph, given).items():
        assert shaped[key] == value, (key, shaped[key])


def test_every_registry_type_has_examples() -> None:
    assert sorted(REGISTRY) == sorted({t for t, _ in EXAMPLES})
