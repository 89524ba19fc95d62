"""Reading directory objects from Graph, in canonical form: what snapshot, diff --live and restore share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from entragit.canonical import Obj, canonical
from entragit.errors import GraphError
from entragit.graph import GraphClient
from entragit.registry import ObjectType, Relationship

# Relationship reads are one call per object; a few in flight hide the round trips without leaning
# on the throttling budget (a snapshot of a small tenant is a few hundred calls).
_WORKERS = 4

ProgressFn = Callable[[str, int], None]


def _query(object_type: ObjectType, *, listing: bool) -> dict[str, str]:
    params: dict[str, str] = {}
    if object_type.select:
        params["$select"] = ",".join(object_type.select)
    expands = [f"{r.name}($select=id)" for r in object_type.relationships if r.fetch == "expand"]
    if expands:
        params["$expand"] = ",".join(expands)
    if listing and object_type.page_size:
        params["$top"] = str(object_type.page_size)
    return params


def _related_ids(client: GraphClient, object_type: ObjectType, object_id: str, rel: Relationship) -> list[str]:
    path = f"{object_type.collection}/{quote(object_id)}/{rel.name}"
    return [item["id"] for item in client.iter_collection(path, {"$select": "id", "$top": "999"})]


def _relations(client: GraphClient, object_type: ObjectType, raw: Obj) -> dict[str, Any]:
    relations: dict[str, Any] = {}
    for rel in object_type.relationships:
        if rel.fetch == "expand":
            expanded = raw.get(rel.name)
            relations[rel.name] = expanded.get("id") if isinstance(expanded, dict) else None
        else:
            relations[rel.name] = _related_ids(client, object_type, raw["id"], rel)
    return relations


def _canonical_all(client: GraphClient, object_type: ObjectType, raws: Iterable[Obj]) -> dict[str, Obj]:
    raws = list(raws)
    with ThreadPoolExecutor(_WORKERS) as pool:
        relations = list(pool.map(lambda raw: _relations(client, object_type, raw), raws))
    return {raw["id"]: canonical(object_type, raw, rel) for raw, rel in zip(raws, relations)}


def fetch_type(client: GraphClient, object_type: ObjectType, progress: ProgressFn | None = None) -> dict[str, Obj]:
    """Every object of a type, by id."""
    raws: list[Obj] = []
    for page in client.iter_pages(object_type.collection, _query(object_type, listing=True)):
        raws.extend(page)
        if progress:
            progress(object_type.name, len(raws))
    return _canonical_all(client, object_type, raws)


def fetch_objects(client: GraphClient, object_type: ObjectType, ids: Iterable[str]) -> dict[str, Obj | None]:
    """The named objects, by id; None for an id that does not exist in the tenant."""

    def one(object_id: str) -> Obj | None:
        try:
            raw = client.get(f"{object_type.collection}/{quote(object_id)}", _query(object_type, listing=False))
        except GraphError as exc:
            if exc.not_found:
                return None
            raise
        return canonical(object_type, raw, _relations(client, object_type, raw))

    ids = list(ids)
    with ThreadPoolExecutor(_WORKERS) as pool:
        return dict(zip(ids, pool.map(one, ids)))


def holders(client: GraphClient, member_type: ObjectType, member_id: str, rel: Relationship,
            holder_type: ObjectType) -> set[str]:
    """Ids of the holder_type objects that hold member_id through rel now (e.g. the groups a user is in)."""
    assert rel.reverse_path is not None
    path = f"{member_type.collection}/{quote(member_id)}/{rel.reverse_path}"
    return {
        item["id"] for item in client.iter_collection(path, {"$select": "id", "$top": "999"})
        if holder_type.owns_odata_type(item.get("@odata.type"))
    }
