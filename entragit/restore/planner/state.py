"""The state of one planning run: what it read of the commit and of the tenant, and the steps and refusals it
has planned so far. Each concern of the planner (objects, credentials, links, references) builds on it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from entragit.canonical import Obj, canonical
from entragit.diff import Names
from entragit.errors import GraphError
from entragit.graph import BatchItem, GraphClient
from entragit.live import fetch_objects, list_per_scope
from entragit.registry import ObjectType
from entragit.restore.kinds import StepKind
from entragit.restore.model import (
    Blocked,
    HeldAt,
    RestoreOptions,
    Step,
    StepKey,
    rewrite,
)
from entragit.selection import Selection
from entragit.store import BackupRepo


def get_path(obj: Any, parts: list[str]) -> Any:
    for part in parts:
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _rewritten(object_type: ObjectType, obj: Obj, id_map: dict[str, str]) -> Obj:
    """A snapshot object with created objects' new ids put in, canonical again: a set that held the old
    id sorts the new one elsewhere (an app's servicePrincipalNames: its appId and api://<appId>)."""
    if not id_map:
        return obj
    changed = rewrite(obj, id_map)
    return canonical(object_type, changed, {r.name: changed[r.name] for r in object_type.relationships
                                            if r.name in changed})


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def match_key(object_type: ObjectType, obj: Obj) -> tuple[Any, ...]:
    return tuple(obj.get(prop) for prop in object_type.match_on)


def live_listing(client: GraphClient, object_type: ObjectType, whole: bool = False) -> dict[str, Obj]:
    """Every object of a type now, by id, as Graph returns it: whole, or with just enough to name it
    (for --delete-extra)."""
    params = dict(object_type.list_params)
    if object_type.select:
        params["$select"] = ",".join(object_type.select) if whole else f"{object_type.key},{object_type.display_key}"
    if object_type.page_size:
        params["$top"] = str(object_type.page_size)
    listing = (list_per_scope(client, object_type, params) if object_type.listed_per_scope else
               client.iter_collection(object_type.collection, params, version=object_type.api_version))
    return {object_type.object_id(raw): raw for raw in listing}


class PlanState:
    """What one planning run reads (the files at the commit, the live objects) and what it has planned so far;
    the planner's parts, one per concern, share it."""

    def __init__(self, repo: BackupRepo, client: GraphClient, commit: str, selection: Selection,
                 options: RestoreOptions, id_map: dict[str, str], held_at: HeldAt | None = None) -> None:
        self.repo = repo
        self.client = client
        self.commit = commit
        self.selection = selection
        self.attributes = selection.attributes
        """The attribute paths to put back; none: every difference."""
        self.options = options
        self.id_map = id_map
        self._snapshot_ids = {new: old for old, new in id_map.items()}
        self.steps: dict[StepKey, Step] = {}
        self.blocked: list[Blocked] = []
        self._refused: set[Blocked] = set()
        self.created: set[str] = set()
        self.made_along: dict[str, str] = {}
        """Ids of objects a creation of another object makes too (an instantiated app's service principal)."""
        """Ids of the objects this plan makes again; planned before anything that names them (restore order)."""
        self._snapshot_cache: dict[str, dict[str, Obj]] = {}
        self._live_cache: dict[tuple[str, str], Obj | None] = {}
        self._holder_cache: dict[tuple[str, str], Obj | None] = {}
        self._holders: dict[tuple[str, str, str], set[str]] = {}
        self.holdings: dict[str, str] = {}
        self.names = Names(repo, [commit])
        self.held_at = held_at or HeldAt()

    def snapshot_of(self, object_type: ObjectType) -> dict[str, Obj]:
        """The type's objects at the commit, as they read once created objects' new ids are put in."""
        if object_type.name not in self._snapshot_cache:
            found = self.repo.read_objects(self.commit, object_type)
            self.names.add(object_type, dict(found))
            self._snapshot_cache[object_type.name] = {self.id_map.get(i, i): _rewritten(object_type, obj, self.id_map)
                                                      for i, obj in found.items()}
        return self._snapshot_cache[object_type.name]

    def desired_of(self, object_type: ObjectType, ids: list[str]) -> dict[str, Obj]:
        """The named objects' files at the commit, without reading the rest of the type (ids as now)."""
        if object_type.name in self._snapshot_cache:
            return {i: self._snapshot_cache[object_type.name][i] for i in ids}
        found = self.repo.read_objects(self.commit, object_type, [self._snapshot_ids.get(i, i) for i in ids])
        self.names.add(object_type, dict(found))
        return {self.id_map.get(i, i): _rewritten(object_type, obj, self.id_map) for i, obj in found.items()}

    def ids_at_commit(self, object_type: ObjectType) -> set[str]:
        """The type's ids in the commit's tree, as they are now (a recreated object's new id)."""
        return {self.id_map.get(i, i) for i in self.repo.object_ids(self.commit, object_type)}

    def live_of(self, object_type: ObjectType, ids: list[str]) -> dict[str, Obj | None]:
        missing = [i for i in ids if (object_type.name, i) not in self._live_cache]
        if missing:
            for object_id, obj in fetch_objects(self.client, object_type, missing).items():
                self._live_cache[(object_type.name, object_id)] = obj
        return {i: self._live_cache[(object_type.name, i)] for i in ids}

    def binned(self, object_type: ObjectType, ids: list[str]) -> dict[str, Obj]:
        """The objects among ids that wait in the type's recycle bin, as the bin shows them."""
        if object_type.recycle_bin is None or not ids:
            return {}
        # The bin answers with a default set of properties, yet keeps and brings back every one: read them all,
        # or the plan would write again what the restore puts back by itself.
        query = {"$select": ",".join(object_type.read_select)} if object_type.read_select else None
        items = [BatchItem("GET", f"{object_type.recycle_bin}/{quote(i)}", query) for i in ids]
        found: dict[str, Obj] = {}
        for object_id, answer in zip(ids, self.client.get_many(items)):
            if isinstance(answer, GraphError):
                # 400: a Graph that does not know the bin at all (the Conditional Access one is documented
                # in beta only); the object is then treated as gone for good.
                if not (answer.not_found or answer.status == 400):
                    raise answer
                continue
            found[object_id] = canonical(object_type, answer)
        return found

    def add(self, step: Step) -> None:
        self.steps.setdefault(step.key, step)

    def step(self, kind: StepKind, object_type: ObjectType, object_id: str, name: str | None, method: str,
             path: str, body: dict[str, Any] | None, **details: Any) -> None:
        self.add(Step(kind, object_type.name, object_id, name, method, path, body, kind.stage(object_type), **details))

    def block(self, object_type: ObjectType, object_id: str, name: str | None, what: str, reason: str) -> None:
        # A link is planned from both of its ends (a dynamic group and its member): refused once.
        item = Blocked(object_type.name, object_id, name, what, reason)
        if item not in self._refused:
            self._refused.add(item)
            self.blocked.append(item)

    def _name_of(self, object_id: str) -> str | None:
        found = self.names(object_id)
        return found[1] if found else None

