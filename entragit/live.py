"""Reading directory objects from Graph, in canonical form: what snapshot, diff --live and restore share."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from entragit.canonical import Obj, canonical
from entragit.errors import GraphError
from entragit.graph import BATCH_WORKERS, BatchItem, GraphClient
from entragit.registry import ObjectType, Relationship
from entragit.registry.writes import SubCollection

ProgressFn = Callable[[str, int], None]


def _query(object_type: ObjectType, *, listing: bool) -> dict[str, str]:
    params: dict[str, str] = {}
    if object_type.read_select:
        params["$select"] = ",".join(object_type.read_select)
    expands = [f"{r.name}($select=id)" for r in object_type.relationships if r.fetch == "expand" and not r.within]
    expands += object_type.expand
    if expands:
        params["$expand"] = ",".join(expands)
    if listing and object_type.page_size:
        params["$top"] = str(object_type.page_size)
    if listing:
        params.update(object_type.list_params)
    return params


# Graph's expansions stop at 20 objects with no link to the rest (graph-behaviour §1); `in` takes 15 values.
EXPAND_LIMIT = 20
_IDS_PER_FILTER = 15


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _related_one_by_one(client: GraphClient, object_type: ObjectType, ids: list[str], rel: Relationship
                        ) -> list[list[str]]:
    path, key = rel.read_at
    items = [BatchItem("GET", f"{object_type.item_path(i)}/{path}", {"$select": key, "$top": "999"},
                       version=object_type.api_version) for i in ids]
    return [[entry[key] for entry in values] for values in client.collect_many(items)]


def _related(client: GraphClient, object_type: ObjectType, ids: list[str], rel: Relationship) -> list[list[str]]:
    """The ids at the far end of a relationship, for many objects: 15 objects a request where Graph
    expands the relationship, else one request per object (both in $batch requests of 20)."""
    if not rel.expandable:
        return _related_one_by_one(client, object_type, ids, rel)
    found = _expanded(client, object_type, ids, rel.name, f"{rel.name}($select=id)", object_type.api_version,
                      lambda rest: [[{"id": i} for i in linked]
                                    for linked in _related_one_by_one(client, object_type, rest, rel)])
    return [[linked["id"] for linked in entries] for entries in found]


def _expanded(client: GraphClient, object_type: ObjectType, ids: list[str], name: str, expand: str,
              version: str | None, one_by_one: Callable[[list[str]], list[Any]]) -> list[list[Any]]:
    """What a navigation property holds for many objects, 15 objects a request ($expand on the list call,
    `$filter=id in (...)`); the objects whose expansion is cut short at 20 are read with one_by_one."""
    items = _filtered_by_ids(object_type, ids, {"$select": "id", "$expand": expand}, version)
    found: dict[str, list[Any]] = {}
    for values in client.collect_many(items):
        found.update((entry["id"], entry.get(name) or []) for entry in values)
    # An object gone since it was listed has nothing left to read.
    cut_short = [i for i in ids if len(found.get(i, ())) >= EXPAND_LIMIT]
    found.update(zip(cut_short, one_by_one(cut_short)))
    return [found.get(i, []) for i in ids]


def _filtered_by_ids(object_type: ObjectType, ids: list[str], query: dict[str, str],
                     version: str | None = None) -> list[BatchItem]:
    """List calls that read the named objects 15 to a request (`$filter=id in (...)`)."""
    return [BatchItem("GET", object_type.collection,
                      {**query, "$filter": f"id in ({','.join(_quoted(i) for i in ids[at:at + _IDS_PER_FILTER])})"},
                      version=version or object_type.api_version)
            for at in range(0, len(ids), _IDS_PER_FILTER)]


def _canonical_all(client: GraphClient, object_type: ObjectType, raws: list[Obj],
                   known: dict[str, dict[str, set[str]]] | None = None) -> dict[str, Obj]:
    """Canonical objects with their relationships; known: links already read (relationship -> id ->
    linked ids, from a delta round), so only the objects it does not cover are asked about."""
    relations: list[dict[str, Any]] = [{} for _ in raws]
    for rel in object_type.relationships:
        if rel.within:
            continue  # canonical() takes them from the object's own body
        if rel.fetch == "expand":
            for raw, found in zip(raws, relations):
                expanded = raw.get(rel.name)
                found[rel.name] = expanded.get("id") if isinstance(expanded, dict) else None
            continue
        already = (known or {}).get(rel.name, {})
        ids_of = [object_type.object_id(r) for r in raws]
        unknown = [i for i in ids_of if i not in already]
        read = dict(zip(unknown, _related(client, object_type, unknown, rel)))
        for object_id, found in zip(ids_of, relations):
            found[rel.name] = sorted(already[object_id]) if object_id in already else read[object_id]
    raws = with_sub_collections(client, object_type, raws)
    return {object_type.object_id(raw): canonical(object_type, raw, rel) for raw, rel in zip(raws, relations)}


def with_sub_collections(client: GraphClient, object_type: ObjectType, raws: list[Obj],
                          subs: tuple[SubCollection, ...] | None = None) -> list[Obj]:
    """The objects with the items of their sub-collections (all, or subs) put in: 15 objects a request
    where Graph expands the sub-collection, else one request per object and sub-collection (both in $batch
    requests of 20)."""
    subs = object_type.sub_collections if subs is None else subs
    if not subs or not raws:
        return raws
    raws = [dict(raw) for raw in raws]
    ids = [object_type.object_id(raw) for raw in raws]
    for sub in subs:
        version = sub.api_version or object_type.api_version
        if sub.expandable:
            found = _expanded(client, object_type, ids, sub.path, sub.path, version,
                              lambda rest: _items_one_by_one(client, object_type, rest, sub))
        else:
            found = _items_one_by_one(client, object_type, ids, sub)
        for raw, items in zip(raws, found):
            raw[sub.property] = _with_streams(client, object_type, raw, sub, items)
    return raws


def _items_one_by_one(client: GraphClient, object_type: ObjectType, ids: list[str], sub: SubCollection
                      ) -> list[list[Obj]]:
    params = {}
    if sub.expand:
        params["$expand"] = sub.expand
    if sub.page_size:
        params["$top"] = str(sub.page_size)
    return client.collect_many([BatchItem("GET", f"{object_type.item_path(i)}/{sub.path}", params or None,
                                          version=sub.api_version or object_type.api_version) for i in ids])


def _with_streams(client: GraphClient, object_type: ObjectType, raw: Obj, sub: SubCollection, items: list[Obj]
                  ) -> list[Obj]:
    """The items with the hash of each of their streams that Graph has: a request each, since Graph serves
    the bytes of one stream at a time, sent side by side (a branding's localizations have seven images each)."""
    if not sub.streams or not items:
        return items
    holder = f"{object_type.item_path(object_type.object_id(raw))}/{sub.path}"
    version = sub.api_version or object_type.api_version
    wanted = [(at, stream) for at, item in enumerate(items) for stream in sub.streams]
    with ThreadPoolExecutor(BATCH_WORKERS) as pool:
        found = pool.map(lambda w: client.content(f"{holder}/{quote(str(items[w[0]].get('id')))}/{w[1]}", version),
                         wanted)
        hashes: list[dict[str, str]] = [{} for _ in items]
        for (at, stream), data in zip(wanted, found):
            if data:
                hashes[at][stream] = f"sha256:{hashlib.sha256(data).hexdigest()}"
    return [{**item, **hashed} for item, hashed in zip(items, hashes)]


def read_sub_collections(client: GraphClient, object_type: ObjectType, ids: list[str],
                         subs: tuple[SubCollection, ...]) -> dict[str, dict[str, list[Obj]]]:
    """Object id -> sub-collection -> its items as kept, for the objects named (an incremental snapshot's
    unchanged ones, whose sub-collections delta does not report on)."""
    read = with_sub_collections(client, object_type, [{object_type.key: i} for i in ids], subs)
    return {i: {s.property: canonical(object_type, raw).get(s.property, []) for s in subs} for i, raw in zip(ids, read)}


def scope_ids(client: GraphClient, object_type: ObjectType) -> list[str]:
    """The scopes a type listed per scope is read for: those its scopes_filter picks (one request, or a few
    pages), then those the setting given outside the repository names."""
    per = object_type.listed_per_scope
    assert per is not None
    found = [raw["id"] for raw in client.iter_collection(per.scopes, {"$filter": per.scopes_filter, "$select": "id",
                                                                      "$top": "999"})]
    return list(dict.fromkeys([*found, *client.named_scopes.get(per.named_by, ())]))


def list_per_scope(client: GraphClient, object_type: ObjectType, params: dict[str, str]) -> list[Obj]:
    """Every object of a type Graph lists one scope at a time: a list call per scope, in $batch requests of 20."""
    items = [BatchItem("GET", object_type.collection, {**params, **object_type.scope_filter(i)},
                       version=object_type.api_version) for i in scope_ids(client, object_type)]
    return [raw for found in client.collect_many(items) for raw in found]


def _pages(client: GraphClient, object_type: ObjectType, progress: ProgressFn | None, ahead: bool = False
           ) -> Iterator[list[Obj]]:
    if object_type.listed_per_scope:
        found = _kept(object_type, list_per_scope(client, object_type, _query(object_type, listing=True)))
        if progress:
            progress(object_type.name, len(found))
        yield found
        return
    read = 0
    pages = client.iter_pages_ahead if ahead else client.iter_pages
    for page in pages(object_type.collection, _query(object_type, listing=True), version=object_type.api_version):
        read += len(page)
        if progress:
            progress(object_type.name, read)
        yield _kept(object_type, page)


def _kept(object_type: ObjectType, raws: list[Obj]) -> list[Obj]:
    """The objects of a listing that the type keeps (kept_when), in order."""
    keep = object_type.kept_when
    return raws if keep is None else [raw for raw in raws if keep(raw)]


def _list(client: GraphClient, object_type: ObjectType, progress: ProgressFn | None) -> list[Obj]:
    return [raw for page in _pages(client, object_type, progress) for raw in page]


PageFn = Callable[[dict[str, Obj]], None]


def fetch_type(client: GraphClient, object_type: ObjectType, progress: ProgressFn | None = None,
               on_page: PageFn | None = None) -> dict[str, Obj]:
    """Every object of a type, by id. on_page is handed the canonical objects of each page as it comes,
    where a page holds all of its objects' relationships (expanded), so that what is done with them
    overlaps the reading of the next pages; else it is not called."""
    if object_type.singleton:
        return _canonical_all(client, object_type, [client.get(object_type.collection, version=object_type.api_version)])
    if any(r.read_apart for r in object_type.relationships):
        return _canonical_all(client, object_type, _list(client, object_type, progress))
    objects: dict[str, Obj] = {}
    for page in _pages(client, object_type, progress, ahead=True):
        found = _canonical_all(client, object_type, page)
        objects.update(found)
        if on_page:
            on_page(found)
    return objects


def fetch_type_from_now(client: GraphClient, object_type: ObjectType, progress: ProgressFn | None = None,
                        on_page: PageFn | None = None) -> tuple[dict[str, Obj], str]:
    """Every object of a delta type, and a deltaLink to read what changes from here on.

    Where delta tracks a many-valued relationship (group members), one initial delta round, read
    beside the list, gives every object's links in a few hundred pages instead of a request per object;
    its deltaLink is kept. Otherwise the link is taken first (`$deltatoken=latest`). Either way a change
    made during the read shows up again next time, which is harmless, where missing it would not be."""
    if not any(r.many and r.delta_tracked for r in object_type.relationships):
        link = start_delta(client, object_type)
        return fetch_type(client, object_type, progress, on_page), link
    with ThreadPoolExecutor(2) as pool:
        listing = pool.submit(_list, client, object_type, progress)
        initial = pool.submit(read_delta, client, client.url(f"{object_type.collection}/delta", object_type.api_version),
                              _delta_query(object_type))
        raws, round_ = listing.result(), initial.result()
    # An initial round names every link an object it reports has: one with no `<relationship>@delta` has
    # none. An object the round does not report (made after it began) has its links read the usual way.
    known = {r.name: {i: round_.links.get(r.name, {}).get(i, set()) for i in round_.changed}
             for r in object_type.relationships if r.many and r.delta_tracked}
    return _canonical_all(client, object_type, raws, known), round_.link


def fetch_objects(client: GraphClient, object_type: ObjectType, ids: Iterable[str],
                  known: dict[str, dict[str, set[str]]] | None = None) -> dict[str, Obj | None]:
    """The named objects, by id; None for an id that does not exist in the tenant. known: links already
    known (relationship -> id -> linked ids), not read again."""
    ids = list(ids)
    objects: dict[str, Obj | None] = dict.fromkeys(ids)
    objects.update(_canonical_all(client, object_type, _kept(object_type, read_raw(client, object_type, ids)), known))
    return objects


def read_raw(client: GraphClient, object_type: ObjectType, ids: list[str]) -> list[Obj]:
    """The named objects that exist, as Graph answers them (the type's $select and expansions), without
    the relationships read apart."""
    query = _query(object_type, listing=False)
    if object_type.filter_by_ids:
        # A list call costs a resource unit or two, as one read of a single object does (graph-behaviour §4).
        return [raw for values in client.collect_many(_filtered_by_ids(object_type, ids, query)) for raw in values]
    return _read_each(client, object_type, ids, query)


def _read_each(client: GraphClient, object_type: ObjectType, ids: list[str], query: dict[str, str]) -> list[Obj]:
    found: list[Obj] = []
    for answer in client.get_many([BatchItem("GET", object_type.item_path(i), query, version=object_type.api_version)
                                   for i in ids]):
        if isinstance(answer, GraphError):
            if not answer.not_found:
                raise answer
            continue
        found.append(answer)
    return found


def holders(client: GraphClient, member_type: ObjectType, member_ids: list[str], reverse_path: str,
            holder_types: list[ObjectType]) -> dict[str, dict[str, set[str]]]:
    """Holder type name -> member id -> the objects of that type that hold the member now, from one read
    of reverse_path per member (memberOf names groups and administrative units alike)."""
    items = [BatchItem("GET", f"{member_type.collection}/{quote(i)}/{reverse_path}", {"$select": "id", "$top": "999"},
                       version=member_type.api_version) for i in member_ids]
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
    links: dict[str, dict[str, set[str]]]
    """Relationship -> object id -> linked ids, as the round's `<relationship>@delta` entries left them:
    whole sets in an initial round, only what changed in a later one."""


def _delta_query(object_type: ObjectType) -> dict[str, str]:
    select = list(object_type.read_select)
    # Selecting a single-valued relationship makes its changes reappear (manager@delta); many-valued
    # ones are asked for with $expand (members@delta), or in $select where that is what Graph documents
    # (a group's owners@delta), graph-behaviour §2.
    tracked = [r for r in object_type.relationships if r.delta_tracked and not r.within]
    select += [r.name for r in tracked if not r.many or r.delta_selected]
    params = {"$select": ",".join(select)} if object_type.select else {}
    expands = [r.name for r in tracked if r.many and not r.delta_selected]
    if expands:
        params["$expand"] = ",".join(expands)
    return params


def delta_signature(object_type: ObjectType) -> str:
    """What a deltaLink was asked for: a link made for other properties cannot serve this registry."""
    return json.dumps(_delta_query(object_type), sort_keys=True)


def start_delta(client: GraphClient, object_type: ObjectType) -> str:
    """A deltaLink from now on (`$deltatoken=latest`), taken before a full read so nothing slips between."""
    body = client.get(f"{object_type.collection}/delta", {**_delta_query(object_type), "$deltatoken": "latest"},
                      object_type.api_version)
    if "@odata.deltaLink" not in body:
        raise DeltaUnusable("the delta round ended without a deltaLink")
    return str(body["@odata.deltaLink"])


def _merge_links(links: dict[str, dict[str, set[str]]], item: Obj) -> None:
    for key, entries in item.items():
        if not key.endswith("@delta") or not isinstance(entries, list):
            continue
        linked = links.setdefault(key[: -len("@delta")], {}).setdefault(item["id"], set())
        for entry in entries:
            if "@removed" in entry:
                linked.discard(entry["id"])
            else:
                linked.add(entry["id"])


def read_delta(client: GraphClient, link: str, params: dict[str, str] | None = None) -> DeltaRound:
    """The ids that changed or went away since the link was made (or, from `{collection}/delta` and
    params, every object: an initial round); the same id may come several times (replays, a large group
    split across pages): the last word on it counts."""
    changed: set[str] = set()
    removed: set[str] = set()
    links: dict[str, dict[str, set[str]]] = {}
    url: str | None = link
    new_link: str | None = None
    try:
        while url:
            body = client.get(url, params)
            params = None  # the nextLinks carry the query
            for item in body.get("value", []):
                if "@removed" in item:
                    removed.add(item["id"])
                    changed.discard(item["id"])
                else:
                    changed.add(item["id"])
                    removed.discard(item["id"])
                    _merge_links(links, item)
            url = body.get("@odata.nextLink")
            new_link = body.get("@odata.deltaLink")
    except GraphError as error:
        if error.status == 410 or error.code in ("syncStateNotFound", "resyncRequired"):
            raise DeltaUnusable(f"{error.code or error.status}: {error.graph_message}") from None
        raise
    if new_link is None:
        raise DeltaUnusable("the delta round ended without a deltaLink")
    return DeltaRound(changed, removed, new_link, links)


def related_many(client: GraphClient, object_type: ObjectType, ids: list[str], rel: Relationship) -> dict[str, list[str]]:
    return dict(zip(ids, (sorted(set(found)) for found in _related(client, object_type, ids, rel))))
