"""A Graph client signed in as the backup repository's app."""

from __future__ import annotations

from typing import Any

from entragit.auth import TokenProvider
from entragit.config import Connection
from entragit.graph import GraphClient
from entragit.registry import REGISTRY


def graph_client(connection: Connection, **options: Any) -> GraphClient:
    tokens = TokenProvider(connection)
    client = GraphClient(connection.graph_url, tokens.token, invalidate_token=tokens.invalidate,
                         ca_bundle=connection.ca_bundle, **options)
    client.named_scopes = dict(connection.named_scopes)
    for prefix, per_second in {t.rate_limit for t in REGISTRY.values() if t.rate_limit}:
        client.pace(prefix, per_second / connection.pace_scale)
    return client
