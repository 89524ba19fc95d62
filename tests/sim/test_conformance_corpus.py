"""The conformance corpus: requests of Microsoft's documentation pages, replayed against the simulator.

documented.py says how the examples in corpus/ are written. A new registry type adds a file there;
test_every_registry_type_has_examples holds the corpus to that.
"""

from __future__ import annotations

from typing import Any

import pytest
from documented import EXAMPLES, fill, run_given, send
from simclient import Graph

from entragit.registry import REGISTRY


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


@pytest.mark.parametrize("example", [e for _, e in EXAMPLES], ids=[f"{t}:{e['page']}:{e['name']}" for t, e in EXAMPLES])
def test_documented_example(request: pytest.FixtureRequest, example: dict[str, Any]) -> None:
    # Most examples share one tenant; one that removes what the seeded tenant has (`"fresh": true`) gets its own.
    graph: Graph = request.getfixturevalue("fresh" if example.get("fresh") else "graph")
    given = run_given(graph.session, graph.sim, example)
    response = send(graph.session, graph.sim, example["request"], given, example.get("version", "v1.0"))
    assert response.status_code == example["status"], response.text
    if example["status"] == 204:
        assert not response.content
        return
    answer = response.json()
    context = fill(example.get("context"), graph.sim, given)
    if context is not None:
        assert answer["@odata.context"].endswith(f"$metadata#{context}"), answer["@odata.context"]
    shaped = answer["value"][0] if "value" in answer and example.get("collection", False) else answer
    for key, kind in example.get("shape", {}).items():
        assert key in shaped, f"{key} missing from {sorted(shaped)}"
        # The documented answer's JSON kind; a documented null only says the key is there.
        assert kind == "null" or _kind(shaped[key]) in (kind, "null"), (key, shaped[key])
    for key, value in fill(example.get("values", {}), graph.sim, given).items():
        assert shaped[key] == value, (key, shaped[key])


def test_every_registry_type_has_examples() -> None:
    assert sorted(REGISTRY) == sorted({t for t, _ in EXAMPLES})
