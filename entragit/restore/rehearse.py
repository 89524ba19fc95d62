"""Rehearsing a restore (restore/apply --rehearse): the prepared plan run against a simulated tenant that holds
the objects the plan touches, as the real tenant has them now, before anything is written to the real one.

The rehearsal tenant is `entragit.sim` started empty in this process, on loopback, loaded with what is read
from the real tenant (reads only): the objects the plan was computed against, with their links; who holds
them (a user's groups); the objects its steps write, and those they restore, into the recycle bin; the
objects its writes and the snapshot's name (members, owners, the groups and locations a policy names, a
role's principal and definition). Its app is granted the application
permissions the real token carries. The plan is then sent there by the code a real run uses (send.py), and
verified by planning again (verify.py): what Graph refused, which ids it gave, and what would still differ
are what a real run would meet, as far as the simulator models Graph.
"""

from __future__ import annotations

import tempfile
from urllib.parse import quote
from collections.abc import Collection, Iterable
from typing import Any

from entragit.config import Connection
from entragit.connect import graph_client
from entragit.errors import GraphError
from entragit.graph import BatchItem, GraphClient
from entragit.live import holders, read_raw, related_many, with_sub_collections
from entragit.permissions import sign_in
from entragit.registry import REGISTRY, ObjectType
from entragit.restore.kinds import StepKind
from entragit.restore.model import GUID, Plan, Rehearsal
from entragit.restore.planner.state import get_path, listed
from entragit.restore.run import Prepared
from entragit.restore.send import apply_plan
from entragit.sim import Settings, Simulator
from entragit.sim.loading import collection_at
from entragit.sim.permissions import DEFAULT_APP_ROLES
from entragit.store import BackupRepo

# The rehearsal tenant keeps no rate of its own: the client's pacing of Conditional Access writes (a
# documented rate of the real service) would only slow the rehearsal down.
_PACE_SCALE = 0.001

EVERY_PERMISSION = frozenset(DEFAULT_APP_ROLES)
"""What the simulator grants an app unless told otherwise: every permission entragit uses."""


class _Reading:
    """What to load, by type: objects read whole (with their links), and bare ones (only named by others)."""

    def __init__(self, client: GraphClient) -> None:
        self.client = client
        self.whole: dict[str, set[str]] = {}
        self.bare: dict[str, set[str]] = {}
        self.binned: dict[str, set[str]] = {}
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        """Type name -> id -> the Graph-shaped object to load."""
        self.deleted: dict[str, list[dict[str, Any]]] = {}
        """Type name -> the objects to load into its recycle bin."""

    def want(self, table: dict[str, set[str]], types: Iterable[str], ids: Iterable[str]) -> None:
        for type_name in types:
            if type_name in REGISTRY:
                table.setdefault(type_name, set()).update(ids)

    def want_referenced(self, object_type: ObjectType, obj: Any) -> None:
        """The objects that obj's reference properties name (a policy's groups and locations), bare."""
        for path, types in object_type.references.items():
            # A reference property also holds words ("All", "None") beside ids.
            named = listed(get_path(obj, path.split(".")))
            self.want(self.bare, types, [i for i in named if isinstance(i, str) and GUID.fullmatch(i)])

    def link(self, holder: ObjectType, holder_id: str, relationship: str, member_id: str) -> None:
        obj = self.objects.get(holder.name, {}).get(holder_id)
        if obj is not None:
            entries = obj.setdefault(relationship, [])
            if {"id": member_id} not in entries:
                entries.append({"id": member_id})

    def read(self, table: dict[str, set[str]], items: bool = False) -> None:
        """items: with the items of their sub-collections, under each one's path, as the loader takes them."""
        for type_name, ids in sorted(table.items()):
            object_type = REGISTRY[type_name]
            have = self.objects.setdefault(type_name, {})
            todo = sorted(ids - set(have))
            if not todo:
                continue
            raws = read_raw(self.client, object_type, todo)
            if items:
                raws = [{**raw, **{sub.path: raw[sub.property] for sub in object_type.sub_collections}}
                        for raw in with_sub_collections(self.client, object_type, raws)]
            have.update((object_type.object_id(raw), dict(raw)) for raw in raws)

    def read_binned(self) -> None:
        """The objects waiting in a recycle bin, read as the planner reads them (every kept property)."""
        for type_name, ids in sorted(self.binned.items()):
            object_type = REGISTRY[type_name]
            query = {"$select": ",".join(object_type.read_select)} if object_type.read_select else None
            found = self.client.get_many([BatchItem("GET", f"{object_type.recycle_bin}/{quote(i)}", query)
                                          for i in sorted(ids)])
            self.deleted[type_name] = [dict(answer) for answer in found if not isinstance(answer, GraphError)]

    def read_links(self) -> None:
        """The links of the objects read whole, and the objects at their far ends (bare)."""
        for type_name, ids in sorted(self.whole.items()):
            object_type = REGISTRY[type_name]
            present = sorted(i for i in ids if i in self.objects.get(type_name, {}))
            for rel in object_type.relationships:
                if rel.within or not present:
                    continue
                if not rel.many:
                    # Expanded on the object itself ({"id": ...}), as the loader takes it.
                    linked = [entry["id"] for i in present
                              if isinstance(entry := self.objects[type_name][i].get(rel.name), dict)]
                    self.want(self.bare, rel.member_types or (type_name,), linked)
                    continue
                for holder_id, members in related_many(self.client, object_type, present, rel).items():
                    self.objects[type_name][holder_id][rel.name] = [{"id": m} for m in members]
                    self.want(self.bare, rel.member_types, members)

    def read_holders(self) -> list[tuple[ObjectType, str, str, str]]:
        """Who holds the objects read whole now (a user's groups): (holder type, holder id, relationship,
        member id); the holders are read bare."""
        found: list[tuple[ObjectType, str, str, str]] = []
        for type_name, ids in sorted(self.whole.items()):
            member_type = REGISTRY[type_name]
            present = sorted(i for i in ids if i in self.objects.get(type_name, {}))
            links = [(holder, rel) for holder in REGISTRY.values() for rel in holder.relationships
                     if rel.many and rel.reverse_path and type_name in rel.member_types]
            for path in sorted({rel.reverse_path for _, rel in links if rel.reverse_path}):
                sharing = [(holder, rel) for holder, rel in links if rel.reverse_path == path]
                if not present:
                    continue
                held = holders(self.client, member_type, present, path, [holder for holder, _ in sharing])
                for holder, rel in sharing:
                    for member_id, holder_ids in held[holder.name].items():
                        self.want(self.bare, (holder.name,), holder_ids)
                        found.extend((holder, h, rel.name, member_id) for h in holder_ids)
        return found


def _touched(repo: BackupRepo, client: GraphClient, plan: Plan
             ) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """Type name -> id -> Graph-shaped object, for every object of the real tenant the plan touches; and
    type name -> the objects its steps restore from a recycle bin, as the bin serves them."""
    reading = _Reading(client)
    for key, print_ in plan.fingerprints.items():
        type_name, _, object_id = key.partition("/")
        if print_ != "absent":
            reading.want(reading.whole, (type_name,), (object_id,))
    for type_name, ids in plan.selected.items():
        reading.want(reading.whole, (type_name,), ids)
    for step in plan.steps:
        object_type = REGISTRY[step.type]
        # Only the object a link step writes to: a group of 50,000 members is not read whole to add one.
        reading.want(reading.bare, (step.type,), (step.id,))
        if step.kind is StepKind.RESTORE:
            reading.want(reading.binned, (step.type,), (step.id,))
        if step.member is not None:
            rel = next((r for r in object_type.relationships if r.name == step.member[0]), None)
            reading.want(reading.bare, (rel.member_types if rel and rel.member_types else (step.type,)),
                         (step.member[1],))
        reading.want_referenced(object_type, step.body)
    for object_id, (type_name, _) in plan.names.items():
        reading.want(reading.bare, (type_name,), (object_id,))
    for type_name, ids in plan.selected.items():
        # What the snapshot's objects name: verification plans them again, and holds back a write naming
        # an object the rehearsal tenant lacks.
        for obj in repo.read_objects(plan.commit, REGISTRY[type_name], ids).values():
            reading.want_referenced(REGISTRY[type_name], obj)
    reading.read(reading.whole, items=True)
    for type_name, objects in list(reading.objects.items()):
        for obj in objects.values():
            reading.want_referenced(REGISTRY[type_name], obj)
    reading.read_links()
    held = reading.read_holders()
    reading.read(reading.bare)
    for holder, holder_id, relationship, member_id in held:
        reading.link(holder, holder_id, relationship, member_id)
    reading.read_binned()
    return reading.objects, reading.deleted


def _served(object_type: ObjectType) -> bool:
    try:
        collection_at(object_type.collection)
    except KeyError:
        return False
    return True


def rehearse(repo: BackupRepo, client: GraphClient, prepared: Prepared,
             roles: Collection[str] | None = None) -> Rehearsal:
    """Run the prepared plan's pending writes in a rehearsal tenant loaded from the real one (read only).
    roles: the application permissions its app is granted; by default those the token carries."""
    plan = prepared.pending
    notes = list(prepared.notes)
    if roles is None:
        roles = sign_in(client, repo.config.tenant_id).roles
    if roles is None:
        notes.append("the rehearsal tenant grants its app every permission entragit uses: the token names none")
    high = sum(1 for step in plan.steps for flag in step.risks if flag.severity == "high")
    if high:
        notes.append(f"rehearsed with its {high} high-risk write(s); a real run writes them only with --accept-risk")
    touched, deleted = _touched(repo, client, plan)
    unserved = sorted(name for name in {*touched, *deleted} if not _served(REGISTRY[name]))
    if unserved:
        notes.append(f"the simulator does not model {', '.join(unserved)}: the rehearsal tenant holds none, "
                     "so their writes are refused there")
    touched = {name: objects for name, objects in touched.items() if name not in unserved}
    deleted = {name: objects for name, objects in deleted.items() if name not in unserved}
    settings = Settings(app_roles=",".join(sorted(roles)) if roles is not None else None)
    with tempfile.TemporaryDirectory(prefix="entragit-rehearsal-") as state, \
            Simulator(size="empty", settings=settings, state_dir=state) as sim:
        sim.load({REGISTRY[name].collection: list(objects.values()) for name, objects in touched.items() if objects},
                 {REGISTRY[name].collection: objects for name, objects in deleted.items()})
        rehearsal = graph_client(Connection(sim.graph_url, sim.authority, sim.tenant_id, sim.client_id,
                                            sim.client_secret, sim.ca_bundle, pace_scale=_PACE_SCALE))
        # The rehearsal tenant shows each write at once: nothing to wait for before verifying.
        result = apply_plan(repo, rehearsal, plan, sleep=lambda _seconds: None)
    if result.created:
        notes.append("the new ids shown are the rehearsal tenant's; Graph gives a real run its own")
    loaded = {name: len(objects) for name, objects in sorted(touched.items()) if objects}
    loaded.update((f"{name} in the recycle bin", len(objects)) for name, objects in sorted(deleted.items()) if objects)
    return Rehearsal(plan, result, loaded, list(prepared.refusals), notes)
