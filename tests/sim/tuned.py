"""A simulator of its own with switches set, for tests of throttling, faults and batches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from simclient import Graph

from entragit.sim import Settings, Simulator


@contextmanager
def tuned(seed: int = 7, **switches: Any) -> Iterator[tuple[Simulator, Graph]]:
    with Simulator(seed=seed, size="small", settings=Settings(**switches)) as sim:
        yield sim, Graph(sim)


def batch_of(*items: dict[str, Any]) -> dict[str, Any]:
    """A $batch body whose items get ids "1", "2", ... unless they carry one."""
    return {"requests": [{"id": str(n), **item} for n, item in enumerate(items, 1)]}


def by_id(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {entry["id"]: entry for entry in response.json()["responses"]}
