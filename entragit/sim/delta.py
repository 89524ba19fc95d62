"""Delta queries (graph-behaviour §2): /users/delta and friends, answered from the tenant's change log.

A round is planned once, when its first page is asked for: the list of items it will serve (objects, their
relationship slices, removals) is frozen and kept here under a round id that the $skiptoken names, so that
writes between two pages neither shift nor hide anything. Properties are read when each page is served,
so every item carries the object's latest state, as Graph merges updates into it. A deltaLink is stateless:
its token holds the collection, the initial request's query options and the change-log number it covers up to.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from entragit.sim.catalog import BY_NAME
from entragit.sim.changes import CREATED, DELETED_KINDS, RESTORED, SOFT_DELETED, UNDER, Change
from entragit.sim.errors import GraphFault, bad_request, unsupported_query
from entragit.sim.model import CollectionSpec
from entragit.sim.query import (
    build_url,
    context_url,
    expired_page_token,
    parse_select,
    target_for,
)
from entragit.sim.settings import Settings
from entragit.sim.tenant import Tenant


@dataclass(frozen=True)
class Tracked:
    """A relationship a delta query reports as '<name>@delta'."""

    name: str
    link: str
    by_default: bool  # reported when the request has no $select (groups' members)
    expandable: bool  # $expand=<name> turns it on


# The collections with a delta function, and the relationships each tracks (graph-behaviour §2).
TRACKED: dict[str, tuple[Tracked, ...]] = {
    "users": (Tracked("manager", "manager", by_default=False, expandable=False),),
    # Ownership is reported too when owners is selected ("any group relationship of type directoryObject
    # collection", group-delta); that $expand=owners does the same is not documented.
    "groups": (Tracked("members", "members", by_default=True, expandable=True),
               Tracked("owners", "owners", by_default=False, expandable=False)),
    "applications": (),
    "servicePrincipals": (),
    # Whether AU delta reports members without asking is [UNCONFIRMED]; it behaves as groups do here.
    "administrativeUnits": (Tracked("members", "members", by_default=True, expandable=True),),
    "oauth2PermissionGrants": (),
    "devices": (),
}
MAX_FILTER_IDS = 50
# Query options delta refuses (graph-behaviour §2: users and groups; the same here for every delta collection).
UNSUPPORTED_OPTIONS = ("$top", "$orderby", "$skip", "$search", "$count")
# Planned rounds kept for their $skiptokens; the oldest go first, and their page links then fail as expired.
MAX_ROUNDS = 256

SYNC_STATE_NOT_FOUND = GraphFault(
    400,
    "syncStateNotFound",
    "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
)


@dataclass(frozen=True)
class DeltaOptions:
    pairs: tuple[tuple[str, str], ...]  # the initial request's query options as sent; tokens carry them
    select: tuple[str, ...] | None
    tracked: tuple[Tracked, ...]
    ids: frozenset[str] | None


@dataclass
class Item:
    object_id: str
    removed: str | None = None  # @removed reason
    # Properties changed in the round's window (for Prefer: return=minimal); None: the object in full.
    changed: frozenset[str] | None = None
    # relationship name -> this item's slice of (target id, target collection, removed)
    relations: dict[str, list[tuple[str, str | None, bool]]] = field(default_factory=dict)
    continuation: bool = False  # a later slice of a split object: id and relationship slices only


@dataclass
class Round:
    spec: CollectionSpec
    options: DeltaOptions
    until: int  # the change-log number this round covers up to: the next deltaLink starts there
    # Items are planned as pages ask for them: planning 20k groups' members at once held every other
    # request back for a second, which Graph's own first delta page does not do.
    planned: Iterator[Item]
    items: list[Item] = field(default_factory=list)

    def first(self, count: int) -> list[Item]:
        """The round's first `count` items (fewer at its end), planning as many as that takes."""
        self.items += islice(self.planned, max(0, count - len(self.items)))
        return self.items


def _encode(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any] | None:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def _option(pairs: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in pairs if k.lower() == name), None)


class DeltaQueries:
    def __init__(self, tenant: Tenant, settings: Settings) -> None:
        self.tenant = tenant
        self.settings = settings
        self._rounds: OrderedDict[str, Round] = OrderedDict()

    # --- entry point ---------------------------------------------------------------------------------------

    def respond(self, spec: CollectionSpec, pairs: list[tuple[str, str]], minimal: bool, base: str) -> dict[str, Any]:
        # Later URLs are used as given: a token stands for the initial request's options (graph-behaviour §2).
        skiptoken, deltatoken = _option(pairs, "$skiptoken"), _option(pairs, "$deltatoken")
        if skiptoken is not None:
            return self._page(spec, skiptoken, minimal, base)
        initial = [(k, v) for k, v in pairs if k.lower() != "$deltatoken"]
        if not deltatoken:
            options = self._parse(spec, initial)
            return self._start(self._initial_round(spec, options), minimal, base)
        if deltatoken.lower() == "latest":
            # "Sync from now": no data, a deltaLink covering everything up to this moment.
            options = self._parse(spec, initial)
            return self._envelope(spec, options, base, [], {"@odata.deltaLink": self._delta_link(spec, options, self.tenant.changes.seq, base)})
        state = _decode(deltatoken)
        if state is None or state.get("k") != "d" or state.get("c") != spec.name:
            raise bad_request("The delta token is malformed or belongs to another resource.")
        options = self._parse(spec, [(k, v) for k, v in state["p"]])
        if self.settings.delta_force_resync:
            # 410 with the initial request's URL and an empty token: start the full sync again (graph-behaviour §2).
            location = build_url(base, f"{spec.path}/delta", [*options.pairs, ("$deltatoken", "")])
            raise GraphFault(
                410,
                "resyncRequired",
                "The delta token is no longer valid; restart the synchronization from the Location URL.",
                headers={"Location": location},
            )
        if self.tenant.clock.now() - float(state["t"]) > self.settings.delta_token_lifetime_days * 86400:
            raise SYNC_STATE_NOT_FOUND
        return self._start(self._changes_round(spec, options, int(state["s"])), minimal, base)

    # --- options -------------------------------------------------------------------------------------------

    def _parse(self, spec: CollectionSpec, pairs: list[tuple[str, str]]) -> DeltaOptions:
        tracked = TRACKED[spec.name]
        by_name = {t.name.lower(): t for t in tracked}
        select: tuple[str, ...] | None = None
        chosen: list[Tracked] = []
        ids: frozenset[str] | None = None
        for raw_key, value in pairs:
            key = raw_key.lower()
            if not key.startswith("$"):
                continue
            if key == "$select":
                names = [n.strip() for n in value.split(",") if n.strip()]
                chosen += [by_name[n.lower()] for n in names if n.lower() in by_name]
                properties = ",".join(n for n in names if n.lower() not in by_name)
                select = parse_select(properties, target_for(spec, with_expand=False))
            elif key == "$expand":
                for item in re.split(r",(?![^()]*\))", value):
                    name = item.split("(", 1)[0].strip().lower()
                    if name in by_name and by_name[name].expandable:
                        chosen.append(by_name[name])
                    else:
                        self._unsupported(f"$expand={item.strip()}")
            elif key == "$filter":
                ids = self._filter_ids(value)
            elif key in UNSUPPORTED_OPTIONS:
                self._unsupported(raw_key)
            else:
                raise bad_request(f"Query option '{raw_key}' is not allowed on delta queries.")
        if select is None:
            chosen += [t for t in tracked if t.by_default]
        unique = tuple(dict.fromkeys(chosen))
        return DeltaOptions(tuple(pairs), select, unique, ids)

    def _unsupported(self, option: str) -> None:
        if self.settings.delta_refuse_unsupported_options:
            raise unsupported_query(f"The query option '{option}' is not supported with delta queries.")

    @staticmethod
    def _filter_ids(value: str) -> frozenset[str]:
        # Only "id eq '…'" clauses joined by "or", at most 50 (graph-behaviour §2).
        clauses = re.split(r"\s+or\s+", value.strip(), flags=re.IGNORECASE)
        ids = [re.fullmatch(r"\(?\s*id\s+eq\s+'([^']+)'\s*\)?", clause.strip(), flags=re.IGNORECASE) for clause in clauses]
        if not all(ids):
            raise unsupported_query("Delta queries support $filter only as \"id eq '{id}'\" clauses joined by 'or'.")
        if len(ids) > MAX_FILTER_IDS:
            raise unsupported_query(f"Delta queries accept at most {MAX_FILTER_IDS} 'id eq' clauses in $filter.")
        return frozenset(match.group(1).lower() for match in ids if match)

    # --- planning ------------------------------------------------------------------------------------------

    def _initial_round(self, spec: CollectionSpec, options: DeltaOptions) -> Round:
        objects = [o for o in self.tenant.sorted_objects(spec) if options.ids is None or o["id"] in options.ids]
        # An object's links are read when its page is served: a change after the round began may show
        # in it already, and shows again in the next round, as with Graph.
        planned = (Item(obj["id"], relations={t.name: self._current_targets(t, obj["id"]) for t in options.tracked})
                   for obj in objects)
        return Round(spec, options, self.tenant.changes.seq, self._split(planned))

    def _changes_round(self, spec: CollectionSpec, options: DeltaOptions, since: int) -> Round:
        log = self.tenant.changes
        until = log.seq
        by_object: dict[str, list[Change]] = {}
        for change in log.since(since, until):
            if change.collection == spec.name and (options.ids is None or change.object_id in options.ids):
                by_object.setdefault(change.object_id, []).append(change)
        watched = set(options.select or spec.default_properties or spec.properties)
        objects = self.tenant.objects[spec.name]
        planned: list[Item] = []
        for object_id in sorted(by_object):
            item = self._changed_item(object_id, by_object[object_id], objects.get(object_id), options, watched)
            if item is not None:
                planned.append(item)
        replayed = self._replay_item(spec, options, since, set(by_object))
        return Round(spec, options, until, self._split(replayed + planned))

    def _changed_item(
        self,
        object_id: str,
        changes: list[Change],
        obj: dict[str, Any] | None,
        options: DeltaOptions,
        watched: set[str],
    ) -> Item | None:
        if obj is None:
            reason = self._removal_reason(changes)
            return Item(object_id, removed=reason) if reason else None
        fresh = any(c.kind in (CREATED, RESTORED) for c in changes)
        changed = frozenset(p for c in changes for p in c.properties)
        relations: dict[str, list[tuple[str, str | None, bool]]] = {}
        for tracked in options.tracked:
            if fresh:
                relations[tracked.name] = self._current_targets(tracked, object_id)
                continue
            touched = {c.target_id: c.target_collection for c in changes if c.link == tracked.link and c.target_id}
            relations[tracked.name] = [
                (target, collection, not self.tenant.is_linked(tracked.link, object_id, target))
                for target, collection in sorted(touched.items())
            ]
        # $select (or the default set) limits which property changes make an object reappear (graph-behaviour §2).
        # A write to a collection under the object (Settings.delta_reports_children).
        under = any(p.startswith(UNDER) for p in changed)
        if not (fresh or under or changed & watched or any(relations.values())):
            return None
        return Item(object_id, changed=None if fresh else changed, relations=relations)

    @staticmethod
    def _removal_reason(changes: list[Change]) -> str | None:
        last = next((c for c in reversed(changes) if c.kind in DELETED_KINDS), None)
        if last is None:
            return None
        # "changed": soft-deleted, restorable; "deleted": gone for good (graph-behaviour §2, §7).
        return "changed" if last.kind == SOFT_DELETED else "deleted"

    def _replay_item(self, spec: CollectionSpec, options: DeltaOptions, since: int, planned: set[str]) -> list[Item]:
        """With delta_replay on, a round resends the object the previous round ended on, unchanged since."""
        if not self.settings.delta_replay:
            return []
        for change in reversed(self.tenant.changes.since(0, since)):
            if change.collection != spec.name:
                continue
            if change.object_id in planned or change.object_id not in self.tenant.objects[spec.name]:
                return []
            if options.ids is not None and change.object_id not in options.ids:
                return []
            relations = {t.name: self._current_targets(t, change.object_id) for t in options.tracked}
            return [Item(change.object_id, relations=relations)]
        return []

    def _current_targets(self, tracked: Tracked, object_id: str) -> list[tuple[str, str | None, bool]]:
        targets = sorted(self.tenant.links[tracked.link].get(object_id, ()))
        return [(target, self.tenant.collection_of(target), False) for target in targets]

    def _split(self, planned: Iterable[Item]) -> Iterator[Item]:
        """Cut long relationship lists into slices: slice k of an object is served after k other objects,
        so the same id repeats later with more members and other objects come between (graph-behaviour §2)."""
        size = max(1, self.settings.delta_members_per_page)
        pending: list[tuple[int, Item]] = []
        for index, item in enumerate(planned):
            slices: dict[int, dict[str, list[tuple[str, str | None, bool]]]] = {}
            for name, targets in item.relations.items():
                for start in range(0, len(targets), size):
                    slices.setdefault(start // size, {})[name] = targets[start : start + size]
            item.relations = slices.get(0, {})
            yield item
            pending += [(index + k, Item(item.object_id, relations=slices[k], continuation=True)) for k in sorted(slices) if k]
            yield from (later for due, later in pending if due <= index)
            pending = [(due, later) for due, later in pending if due > index]
        yield from (later for _, later in pending)

    # --- serving -------------------------------------------------------------------------------------------

    def _start(self, round_: Round, minimal: bool, base: str) -> dict[str, Any]:
        round_id = uuid.uuid4().hex
        self._rounds[round_id] = round_
        while len(self._rounds) > MAX_ROUNDS:
            self._rounds.popitem(last=False)
        return self._serve(round_id, round_, 0, False, minimal, base)

    def _page(self, spec: CollectionSpec, skiptoken: str, minimal: bool, base: str) -> dict[str, Any]:
        state = _decode(skiptoken)
        round_ = self._rounds.get(str(state.get("r"))) if state is not None and state.get("k") == "s" else None
        lifetime = self.settings.skiptoken_lifetime_seconds
        if state is None or round_ is None or round_.spec is not spec:
            raise expired_page_token()
        if lifetime is not None and self.tenant.clock.now() - float(state["t"]) > lifetime:
            raise expired_page_token()
        return self._serve(str(state["r"]), round_, int(state["o"]), bool(state.get("e")), minimal, base)

    def _serve(self, round_id: str, round_: Round, offset: int, empty_served: bool, minimal: bool, base: str) -> dict[str, Any]:
        settings, spec = self.settings, round_.spec
        now = self.tenant.clock.now()
        size = max(1, settings.delta_page_size)
        items = round_.first(offset + size + 1)  # one more: whether another page follows
        more = offset < len(items)
        if settings.empty_pages and offset > 0 and more and not empty_served:
            # A delta page may be empty and still carry a nextLink (graph-behaviour §2).
            link = self._skip_link(spec, round_id, offset, base, now, empty_served=True)
            return self._envelope(spec, round_.options, base, [], {"@odata.nextLink": link})
        chunk = items[offset : offset + size]
        if settings.delta_replay and offset > 0:
            chunk = [items[offset - 1], *chunk]  # a replay: the previous page's last item again
        values = [self._render(spec, round_.options, item, minimal) for item in chunk]
        if offset + size < len(items):
            links = {"@odata.nextLink": self._skip_link(spec, round_id, offset + size, base, now)}
        else:
            links = {"@odata.deltaLink": self._delta_link(spec, round_.options, round_.until, base)}
        return self._envelope(spec, round_.options, base, values, links)

    def _envelope(
        self, spec: CollectionSpec, options: DeltaOptions, base: str, values: list[dict[str, Any]], links: dict[str, str]
    ) -> dict[str, Any]:
        # Never both links on one page (graph-behaviour §2).
        if self.settings.delta_drop_link:
            links = {k: v for k, v in links.items() if k != "@odata.deltaLink"}
        return {"@odata.context": context_url(base, spec.path, options.select), **links, "value": values}

    def _skip_link(self, spec: CollectionSpec, round_id: str, offset: int, base: str, now: float, empty_served: bool = False) -> str:
        token = _encode({"k": "s", "r": round_id, "o": offset, "t": round(now, 3), "e": int(empty_served)})
        return build_url(base, f"{spec.path}/delta", [("$skiptoken", token)])

    def _delta_link(self, spec: CollectionSpec, options: DeltaOptions, seq: int, base: str) -> str:
        state = {"k": "d", "c": spec.name, "p": [list(p) for p in options.pairs], "s": seq, "t": round(self.tenant.clock.now(), 3)}
        return build_url(base, f"{spec.path}/delta", [("$deltatoken", _encode(state))])

    def _render(self, spec: CollectionSpec, options: DeltaOptions, item: Item, minimal: bool) -> dict[str, Any]:
        obj = self.tenant.objects[spec.name].get(item.object_id)
        if item.removed or (obj is None and not item.continuation):
            history = [c for c in self.tenant.changes.entries if c.object_id == item.object_id]
            reason = item.removed or self._removal_reason(history) or "deleted"
            return {"id": item.object_id, "@removed": {"reason": reason}}
        rendered: dict[str, Any] = {"id": item.object_id}
        if not item.continuation and obj is not None:
            names = options.select or spec.default_properties or tuple(spec.properties)
            touched = self.tenant.changes.touched.get(item.object_id, set())
            if minimal and item.changed is not None:
                # Prefer: return=minimal on a deltaLink round: only what changed, null meaning cleared
                # (graph-behaviour §2).
                shown = [n for n in names if n in item.changed]
            else:
                # Every selected property that has ever been set; never-set ones are left out (graph-behaviour §2).
                shown = [n for n in names if obj.get(n) is not None or n in touched]
            rendered.update({name: obj.get(name) for name in shown if name not in spec.write_only})
        for name, targets in item.relations.items():
            if targets:
                rendered[f"{name}@delta"] = [_reference(target, collection, removed) for target, collection, removed in targets]
        return rendered


def _reference(target_id: str, collection: str | None, removed: bool) -> dict[str, Any]:
    odata_type = BY_NAME[collection].odata_type if collection else "#microsoft.graph.directoryObject"
    entry: dict[str, Any] = {"@odata.type": odata_type, "id": target_id}
    if removed:
        # Whether the membership was removed or the member deleted (graph-behaviour §2).
        entry["@removed"] = {"reason": "deleted"}
    return entry
