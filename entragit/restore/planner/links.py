"""Planning links: an object's own relationships (members, owners, a manager), and the links to it that
other objects' files record (a user's group memberships), read from who holds it now.
"""

from __future__ import annotations

from entragit.canonical import Obj, canonical
from entragit.errors import GraphError
from entragit.graph import BatchItem
from entragit.live import holders
from entragit.registry import REGISTRY, ObjectType, Relationship
from entragit.registry.writes import AtCreation
from entragit.restore.kinds import StepKind, link_request
from entragit.restore.model import holding_fingerprint, holding_key
from entragit.restore.planner.state import PlanState


class Links(PlanState):
    """The links of an object, and to it."""

    def _plan_relationship(self, object_type: ObjectType, object_id: str, name: str | None, rel: Relationship,
                           desired: Obj, live: Obj) -> None:
        if not rel.many:
            want, have = desired.get(rel.name), live.get(rel.name)
            if want == have:
                return
            if isinstance(rel.write, AtCreation):
                # A created object has it from its body; a live one keeps what it was made with.
                if live:
                    self.block(object_type, object_id, name, rel.name,
                               f"set only when the {object_type.singular} is made; Graph takes no change of it "
                               f"({have!r} now, {want!r} in the snapshot)")
                return
            if want:
                self._link_step(StepKind.SET_REF, object_type, object_id, name, rel, want)
            else:
                self._link_step(StepKind.DELETE_REF, object_type, object_id, name, rel, str(have))
            return
        want_set, have_set = set(desired.get(rel.name, [])), set(live.get(rel.name, []))
        for member_id in sorted(want_set - have_set):
            self._link(object_type, object_id, name, rel, member_id, StepKind.ADD_REF, desired, live)
        for member_id in sorted(have_set - want_set):
            self._link(object_type, object_id, name, rel, member_id, StepKind.REMOVE_REF, desired, live)

    def _link(self, holder_type: ObjectType, holder_id: str, holder_name: str | None, rel: Relationship,
              member_id: str, kind: StepKind, desired: Obj | None, live: Obj) -> None:
        if rel.computed_for(live) or rel.computed_for(desired):
            self.block(holder_type, holder_id, holder_name,
                       f"{rel.name}: {kind.verb()} {self._name_of(member_id) or member_id}",
                       f"{holder_type.singular} {rel.name} are computed by the directory from its "
                       "membershipRule; they follow the restored attributes")
            return
        self._link_step(kind, holder_type, holder_id, holder_name, rel, member_id)

    def _link_step(self, kind: StepKind, holder_type: ObjectType, holder_id: str, holder_name: str | None,
                   rel: Relationship, member_id: str) -> None:
        method, path, body = link_request(kind, self.client, holder_type, holder_id, rel, member_id)
        self.step(kind, holder_type, holder_id, holder_name, method, path, body,
                  member=(rel.name, member_id, self._name_of(member_id)))

    def _reverse_links(self, member_type: ObjectType) -> list[tuple[ObjectType, Relationship]]:
        return [(holder_type, rel) for holder_type in REGISTRY.values() for rel in holder_type.relationships
                if rel.many and rel.reverse_path is not None and member_type.name in rel.member_types
                and self.selection.writes_attribute(rel.name)]

    def read_holders(self, member_type: ObjectType, member_ids: list[str]) -> None:
        """Who holds each of these objects now, read in batches before the per-object planning."""
        links = self._reverse_links(member_type)
        for path in sorted({rel.reverse_path for _, rel in links if rel.reverse_path}):
            sharing = [(holder_type, rel) for holder_type, rel in links if rel.reverse_path == path]
            found = holders(self.client, member_type, member_ids, path, [holder_type for holder_type, _ in sharing])
            for holder_type, rel in sharing:
                for member_id, held_by in found[holder_type.name].items():
                    self._holders[(holder_type.name, rel.name, member_id)] = held_by
                    key = holding_key(member_type.name, member_id, holder_type.name, rel.name)
                    self.holdings[key] = holding_fingerprint(held_by)

    def read_changed_holders(self, member_type: ObjectType, member_ids: list[str]) -> None:
        """Read, in batches, every holder whose links to these members differ from the snapshot, before
        planning the members one by one."""
        for holder_type, rel in self._reverse_links(member_type):
            changed: set[str] = set()
            for member_id in member_ids:
                changed |= (self._held_in_snapshot(holder_type, rel, member_id)
                            ^ self._holders[(holder_type.name, rel.name, member_id)])
            self.holders_now(holder_type, sorted(changed))

    def _held_in_snapshot(self, holder_type: ObjectType, rel: Relationship, member_id: str) -> set[str]:
        """The holders whose files at the commit list the member under rel (ids as they are now)."""
        held = self.held_at(self.repo, self.commit, holder_type, rel).get(self._snapshot_ids.get(member_id, member_id), ())
        return {self.id_map.get(i, i) for i in held}

    def _plan_reverse(self, member_type: ObjectType, member_id: str, member_name: str | None) -> None:
        """Restoring X also restores the links to X recorded in other objects' files (X's memberships)."""
        for holder_type, rel in self._reverse_links(member_type):
            in_snapshot = self._held_in_snapshot(holder_type, rel, member_id)
            # Nothing holds an object that is not in the tenant (deleted, about to come back).
            now = self._holders.get((holder_type.name, rel.name, member_id), set())
            changed = sorted(in_snapshot ^ now)
            live = self.holders_now(holder_type, changed)
            # The holder's file is consulted only when it has been read anyway: whether the directory
            # computes its links is judged on the holder as it is now, not by parsing every holder file.
            read = self._snapshot_cache.get(holder_type.name, {})
            for holder_id in changed:
                holder_live = live[holder_id]
                if holder_live is None:
                    continue  # the holder itself is gone; restoring it is its own selection
                kind = StepKind.ADD_REF if holder_id in in_snapshot else StepKind.REMOVE_REF
                self._link(holder_type, holder_id, holder_live.get(holder_type.display_key), rel, member_id,
                           kind, read.get(holder_id), holder_live)

    def holders_now(self, holder_type: ObjectType, ids: list[str]) -> dict[str, Obj | None]:
        """Objects that hold a restored one (its groups), as they are now but without their own links: a
        group of 50,000 members is not read whole to add one back."""
        missing = [i for i in ids if (holder_type.name, i) not in self._live_cache
                   and (holder_type.name, i) not in self._holder_cache]
        if missing:
            params = {"$select": ",".join(holder_type.select)} if holder_type.select else None
            answers = self.client.get_many([BatchItem("GET", holder_type.item_path(i), params,
                                                      version=holder_type.api_version) for i in missing])
            for holder_id, answer in zip(missing, answers):
                if isinstance(answer, GraphError):
                    if not answer.not_found:
                        raise answer
                    self._holder_cache[(holder_type.name, holder_id)] = None
                else:
                    self._holder_cache[(holder_type.name, holder_id)] = canonical(holder_type, answer)
        return {i: self._live_cache.get((holder_type.name, i), self._holder_cache.get((holder_type.name, i)))
                for i in ids}

