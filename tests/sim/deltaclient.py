"""A client-side delta replica for the conformance tests: follows a round to its deltaLink and merges per id,
the way Graph's docs tell clients to (graph-behaviour §2). Kept out of entragit proper on purpose: the tests use it to
prove the simulator's answers are mergeable, not to test entragit's own delta code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simclient import Graph


@dataclass
class DeltaReplica:
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)  # id -> @removed reason
    link: str | None = None  # the newest deltaLink
    pages: list[dict[str, Any]] = field(default_factory=list)  # the raw pages of the last round

    def sync(self, graph: Graph, url: str | None = None, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Run one round from url (or the stored deltaLink) to its deltaLink; returns the round's items."""
        next_url = url or self.link
        assert next_url is not None, "no deltaLink yet: start with the initial URL"
        self.pages = []
        items: list[dict[str, Any]] = []
        while True:
            response = graph.get(next_url, headers=headers)
            assert response.status_code == 200, response.text
            page = response.json()
            # Exactly one of the two links on every page (graph-behaviour §2).
            assert ("@odata.nextLink" in page) != ("@odata.deltaLink" in page), page.keys()
            self.pages.append(page)
            items += page["value"]
            self.apply(page["value"])
            if "@odata.nextLink" in page:
                next_url = page["@odata.nextLink"]
                continue
            self.link = page["@odata.deltaLink"]
            return items

    def apply(self, values: list[dict[str, Any]]) -> None:
        for item in values:
            object_id = item["id"]
            if "@removed" in item:
                self.objects.pop(object_id, None)
                self.removed[object_id] = item["@removed"]["reason"]
                continue
            self.removed.pop(object_id, None)
            merged = self.objects.setdefault(object_id, {})
            for key, value in item.items():
                if not key.endswith("@delta"):
                    merged[key] = value
                    continue
                # Relationship entries add or remove one target each; slices of a split object accumulate.
                targets = merged.setdefault(key.removesuffix("@delta"), set())
                for entry in value:
                    if "@removed" in entry:
                        targets.discard(entry["id"])
                    else:
                        targets.add(entry["id"])
