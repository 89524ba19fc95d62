"""Reading directory objects from Graph, in canonical form: what snapshot, diff --live and restore share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from entragit.canonical import Obj, canonical
from entragit.errors import GraphError
from entragit.graph import BatchItem, GraphClient
from entragit.registry import ObjectType, Relationship

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


def _related(client: GraphClient, object_type: ObjectType, ids: list[str], rel: Relationship) -> list[list[str]]:
    """The ids at the far end of a relationship, for many objects: one $batch per 20 objects."""
    items = [BatchItem("GET", f"{object_type.collection}/{quote(i)}/{rel.name}", {"$select": "id", "$top": "999"})
             for i in ids]
    return [[entry["id"] for entry in values] for values in client.collect_many(items)]


def _canonical_all(client: GraphClient, object_type: ObjectType, raws: list[Obj]) -> dict[str, Obj]:
    relations: list[dict[str, Any]] = [{} for _ in raws]
    for rel in object_type.relationships:
        if rel.fetch == "expand":
            for raw, found in zip(raws, relations):
                expanded = raw.get(rel.name)
                found[rel.name] = expanded.get("id") if isinstance(expanded, dict) else None
        else:
            for found, ids in zip(relations, _related(client, object_type, [r["id"] for r in raws], rel)):
                found[rel.name] = ids
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
    ids = list(ids)
    query = _query(object_type, listing=False)
    answers = client.get_many([BatchItem("GET", f"{object_type.collection}/{quote(i)}", query) for i in ids])
    found: list[Obj] = []
    for answer in answers:
        if isinstance(answer, GraphError):
            if not answer.not_found:
                raise answer
            continue
        found.append(answer)
    objects: dict[str, Obj | None] = dict.fromkeys(ids)
    objects.update(_canonical_all(client, object_type, found))
    return objects


def holders(client: GraphClient, member_type: ObjectType, member_ids: list[str], rel: Relationship,
            holder_type: ObjectType) -> dict[str, set[str]]:
    """For each member, the holder_type objects that hold it through rel now (e.g. the groups a user is in)."""
    assert rel.reverse_path is not None
    items = [BatchItem("GET", f"{member_type.collection}/{quote(i)}/{rel.reverse_path}", {"$select": "id", "$top": "999"})
             for i in member_ids]
    return {
        member_id: {entry["id"] for entry in values if holder_type.owns_odata_type(entry.get("@odata.type"))}
        for member_id, values in zip(member_ids, client.collect_many(items))
    }
