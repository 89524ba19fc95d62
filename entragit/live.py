"""Reading directory objects from Graph, in canonical form: what snapshot, diff --live and restore share."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
    items = [BatchItem("GET", f"{object_type.item_path(i)}/{rel.name}", {"$select": "id", "$top": "999"})
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
            ids_of = [object_type.object_id(r) for r in raws]
            for found, ids in zip(relations, _related(client, object_type, ids_of, rel)):
                found[rel.name] = ids
    return {object_type.object_id(raw): canonical(object_type, raw, rel) for raw, rel in zip(raws, relations)}


def fetch_type(client: GraphClient, object_type: ObjectType, progress: ProgressFn | None = None) -> dict[str, Obj]:
    """Every object of a type, by id."""
    if object_type.singleton:
        return _canonical_all(client, object_type, [client.get(object_type.collection)])
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
    answers = client.get_many([BatchItem("GET", object_type.item_path(i), query) for i in ids])
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


def holders(client: GraphClient, member_type: ObjectType, member_ids: list[str], reverse_path: str,
            holder_types: list[ObjectType]) -> dict[str, dict[str, set[str]]]:
    """Holder type name -> member id -> the objects of that type that hold the member now, from one read
    of reverse_path per member (memberOf names groups and administrative units alike)."""
    items = [BatchItem("GET", f"{member_type.collection}/{quote(i)}/{reverse_path}", {"$select": "id", "$top": "999"})
             for i in member_ids]
    answers = client.collect_many(items)
    return {
        holder_type.name: {
            member_id: {entry["id"] for entry in values if holder_type.owns_odata_type(entry.get("@odata.type"))}
            for member_id, values in zip(member_ids, answers)
        }
        for holder_type in holder_types
    }


class DeltaUnusable(Exception):
    """An incremental read cannot be trusted (Graph will not continue the deltaLink, or what it named
    cannot be read yet): read the type in full."""


@dataclass(frozen=True)
class DeltaRound:
    changed: set[str]
    removed: set[str]
    link: str


def _delta_query(object_type: ObjectType) -> dict[str, str]:
    select = list(object_type.select)
    # Selecting a single-valued relationship makes its changes reappear (manager@delta); many-valued
    # ones are asked for with $expand (members@delta), reference §2.
    select += [r.name for r in object_type.relationships if r.delta_tracked and not r.many]
    params = {"$select": ",".join(select)} if object_type.select else {}
    expands = [r.name for r in object_type.relationships if r.delta_tracked and r.many]
    if expands:
        params["$expand"] = ",".join(expands)
    return params


def delta_signature(object_type: ObjectType) -> str:
    """What a deltaLink was asked for: a link made for other properties cannot serve this registry."""
    return json.dumps(_delta_query(object_type), sort_keys=True)


def start_delta(client: GraphClient, object_type: ObjectType) -> str:
    """A deltaLink from now on (`$deltatoken=latest`), taken before a full read so nothing slips between."""
    body = client.get(f"{object_type.collection}/delta", {**_delta_query(object_type), "$deltatoken": "latest"})
    return str(body["@odata.deltaLink"])


def read_delta(client: GraphClient, link: str) -> DeltaRound:
    """The ids that changed or went away since the link was made; the same id may come several times
    (replays, a large group split across pages): the last word on it counts."""
    changed: set[str] = set()
    removed: set[str] = set()
    url: str | None = link
    new_link: str | None = None
    try:
        while url:
            body = client.get(url)
            for item in body.get("value", []):
                if "@removed" in item:
                    removed.add(item["id"])
                    changed.discard(item["id"])
                else:
                    changed.add(item["id"])
                    removed.discard(item["id"])
            url = body.get("@odata.nextLink")
            new_link = body.get("@odata.deltaLink")
    except GraphError as error:
        if error.status == 410 or error.code in ("syncStateNotFound", "resyncRequired"):
            raise DeltaUnusable(f"{error.code or error.status}: {error.graph_message}") from None
        raise
    if new_link is None:
        raise DeltaUnusable("the delta round ended without a deltaLink")
    return DeltaRound(changed, removed, new_link)


def related_many(client: GraphClient, object_type: ObjectType, ids: list[str], rel: Relationship) -> dict[str, list[str]]:
    return dict(zip(ids, (sorted(set(found)) for found in _related(client, object_type, ids, rel))))
