"""The tenant's change log: every write, numbered, so that delta queries can answer "what changed since".

The tenant records one Change per created, updated or deleted object and per added or removed link. A delta
token remembers the sequence number it was issued at; the next round reads the entries after it. Recording
starts only once the seed is built: the seed is the state an initial round returns, not a change to replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CREATED = "created"
UPDATED = "updated"
LINKED = "linked"
UNLINKED = "unlinked"
RESTORED = "restored"
# Delta reports a soft-deleted object with @removed reason "changed" (restorable) and a hard-deleted one with
# "deleted" (graph-behaviour §2, §7). Soft delete records SOFT_DELETED; a purge or a type without a recycle bin
# records HARD_DELETED.
SOFT_DELETED = "soft_deleted"
HARD_DELETED = "hard_deleted"
DELETED_KINDS = (SOFT_DELETED, HARD_DELETED)
# The "property" an UPDATED change names when a collection under the object changed (Settings.delta_reports_children).
UNDER = "@sim.under/"


@dataclass(frozen=True)
class Change:
    seq: int
    kind: str
    collection: str | None  # the changed object's collection; None when the object was unknown (never for seeded data)
    object_id: str
    properties: tuple[str, ...] = ()
    # For LINKED/UNLINKED: the link table (members, owners, manager) and the object at its far end.
    link: str | None = None
    target_id: str | None = None
    target_collection: str | None = None
    # For UPDATED: (property, value before the write) for each changed property, for the audit log's oldValue.
    before: tuple[tuple[str, Any], ...] = ()


class ChangeLog:
    def __init__(self) -> None:
        self.entries: list[Change] = []
        self.recording = False
        # object id -> properties ever written through the API: delta returns these even when now null
        # (graph-behaviour §2).
        self.touched: dict[str, set[str]] = {}

    @property
    def seq(self) -> int:
        """The number of the newest entry; entry n sits at entries[n - 1]."""
        return len(self.entries)

    def record(
        self,
        kind: str,
        collection: str | None,
        object_id: str,
        properties: tuple[str, ...] = (),
        link: str | None = None,
        target_id: str | None = None,
        target_collection: str | None = None,
        before: Mapping[str, Any] | None = None,
    ) -> None:
        if not self.recording:
            return
        self.entries.append(
            Change(self.seq + 1, kind, collection, object_id, properties, link, target_id, target_collection,
                   tuple((before or {}).items()))
        )
        if properties:
            self.touched.setdefault(object_id, set()).update(properties)

    def since(self, seq: int, until: int | None = None) -> list[Change]:
        return self.entries[max(seq, 0) : until]
