"""Microsoft's documented examples, kept as data in corpus/, and how to send one to a simulated tenant.

Each file in corpus/ holds examples for one registry type's endpoints, restated in this project's own data:
the page it comes from (learn.microsoft.com/graph/api/<page>?view=graph-rest-1.0, or graph-rest-beta where the
example says `"version": "beta"`: its request goes to /beta), the request, and what the page's answer fixes:
the status, the keys the answer shows (the shape), and the values it pins down. An id in a URL or body is
written as a placeholder: `{collection}` is an object the seeded tenant has (the first of the simulator's
collection of that name, `{users[1]}` the second), `{given}` the id of what the example's last `given`
request made (`{given.appId}` another of its properties, `{given[0]}` what the first made), `{domain}` the
tenant's domain. An example's `note` says where and why it departs from its page; `"fresh": true` runs it on
a tenant of its own, for one that first removes what the seeded tenant has.
"""

from __future__ import annotations

import json
import re
import weakref
from pathlib import Path
from typing import Any

import requests

from entragit.sim import Simulator
from entragit.sim.catalog import BY_NAME

CORPUS = Path(__file__).parent / "corpus"
# (registry type, example), in file order. A file named <type>.<list>.json holds the examples of a collection
# Graph keeps under each object of the type (applications.federatedIdentityCredentials.json).
EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    (path.stem.split(".")[0], example) for path in sorted(CORPUS.glob("*.json"))
    for example in json.loads(path.read_text(encoding="utf-8"))
]
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9.]+)(?:\[(\d+)\])?\}")


_SEEDED: weakref.WeakKeyDictionary[Simulator, dict[str, list[str]]] = weakref.WeakKeyDictionary()


def _seeded(sim: Simulator) -> dict[str, list[str]]:
    """The ids of every collection as the tenant had them when the first example was filled in: examples
    share a tenant, and an object one of them creates must not become what `{groups}` names for the next."""
    if sim not in _SEEDED:
        _SEEDED[sim] = {name: [str(o["id"]) for o in sim.tenant.sorted_objects(spec)] for name, spec in BY_NAME.items()}
    return _SEEDED[sim]


def fill(value: Any, sim: Simulator, given: list[dict[str, Any]]) -> Any:
    """value with its placeholders replaced (strings, and the strings inside lists and objects)."""
    if isinstance(value, str):
        def one(match: re.Match[str]) -> str:
            name, _, prop = match.group(1).partition(".")
            if name == "given":
                return str(given[int(match.group(2) or -1)][prop or "id"])
            if name == "domain":
                return sim.tenant.domain
            return _seeded(sim)[name][int(match.group(2) or 0)]
        return _PLACEHOLDER.sub(one, value)
    if isinstance(value, list):
        return [fill(item, sim, given) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, sim, given) for key, item in value.items()}
    return value


def send(session: requests.Session, sim: Simulator, request: dict[str, Any], given: list[dict[str, Any]],
         version: str = "v1.0") -> requests.Response:
    """An example's request (or one of its `given` ones), its placeholders filled, through an authorized session."""
    body = fill(request.get("body"), sim, given)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    url = f"{sim.graph_url}/{version}/{fill(request['url'], sim, given)}"
    return session.request(request["method"], url, json=body, headers={**headers, **request.get("headers", {})})


def run_given(session: requests.Session, sim: Simulator, example: dict[str, Any]) -> list[dict[str, Any]]:
    """What the example's `given` requests made, in order, at the example's version; one answered 204 (a
    $ref) sets up the object before it and is not listed, so that {given} stays that object."""
    given: list[dict[str, Any]] = []
    for setup in example.get("given", []):
        response = send(session, sim, setup, given, example.get("version", "v1.0"))
        assert response.status_code in (200, 201, 204), response.text
        if response.content:
            given.append(response.json())
    return given
