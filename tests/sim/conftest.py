"""Fixtures for the simulator's conformance tests: real simulators on loopback, real HTTPS, no mocks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simclient import Graph

from entragit.sim import Simulator
from entragit.sim.credentials import ClientCertificate


@pytest.fixture(scope="module")
def sim(client_certificate: ClientCertificate) -> Iterator[Simulator]:
    """A shared tenant for tests that only read."""
    with Simulator(seed=42, size="small", client_certificate=client_certificate) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def graph(sim: Simulator) -> Graph:
    return Graph(sim)


@pytest.fixture
def fresh_sim(client_certificate: ClientCertificate) -> Iterator[Simulator]:
    """A tenant of its own for a test that writes."""
    with Simulator(seed=7, size="small", client_certificate=client_certificate) as simulator:
        yield simulator


@pytest.fixture
def fresh(fresh_sim: Simulator) -> Graph:
    return Graph(fresh_sim)
