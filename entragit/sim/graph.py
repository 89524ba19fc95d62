"""Graph endpoints: a route table built from the collection table, and generic handlers behind it.

Routes are templates of path segments ('{id}' matches one segment). Every collection gets list, create,
get, update and delete; every relationship in its spec gets its list or single-valued endpoint and, when
writable, its $ref endpoints. A new collection or relationship in model.py is routed without edits here.
Every route is served under /beta as under /v1.0, except a beta-only collection's, which v1.0 does not know.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote

from entragit.sim.auth import Authority
from entragit.sim.catalog import BY_NAME, COLLECTIONS, DIRECTORY_OBJECT_COLLECTIONS
from entragit.sim.delta import TRACKED, DeltaQueries
from entragit.sim.errors import (
    GraphFault,
    bad_request,
    method_not_allowed,
    resource_not_found,
    segment_not_found,
    unauthenticated,
)
from entragit.sim.licenses import LICENSE_ACTIONS
from entragit.sim.model import (
    OBJS,
    ON_PREMISES_MASTERED_MESSAGE,
    STRS,
    UNIFIED,
    CollectionSpec,
    Relationship,
    check_kind,
    check_on_premises_mastered,
    check_write,
    is_dynamic,
    is_synced,
    merge_nested,
)
from entragit.sim.model_entitlement import check_licence
from entragit.sim.model_policies import conflict
from entragit.sim.apps_access_actions import APPS_ACCESS_ACTIONS
from entragit.sim.passwords import ACTIONS, Action
from entragit.sim.policy_actions import POLICY_ACTIONS
from entragit.sim.query import (
    IdFilter,
    PageRules,
    Query,
    QueryTarget,
    context_url,
    next_link,
    page_size_for,
    paginate,
    parse_query,
    project,
    target_for,
)
from entragit.sim.settings import Settings
from entragit.sim.tenant import Tenant

# A segment naming an object by another key: collection(key='value'), quotes optional for GUIDs.
_ALTERNATE_KEY = re.compile(r"(\w+)\((\w+)=(?:'([^']*)'|([^)']*))\)")
# graph-behaviour §6: at most 20 '@odata.bind' references in one request.
MAX_BINDS = 20
DIRECTORY_OBJECT_TYPE = "microsoft.graph.directoryObject"


class Headers(Protocol):
    """Case-insensitive header lookup, as http.server's message object offers."""

    def get(self, name: str, /) -> str | None: ...


@dataclass
class GraphRequest:
    method: str
    segments: list[str]  # percent-decoded path segments after the version (/v1.0/, /beta/)
    raw_path: str  # the path after the version as sent, for nextLinks
    pairs: list[tuple[str, str]]
    headers: Headers
    body: bytes = b""
    # Set by the gateway when an injected fault should drop the connection part-way through the answer.
    cut: str = ""
    version: str = "v1.0"  # a $batch item's is its batch's

    def json(self, codes_bad_request: str = "BadRequest") -> dict[str, Any]:
        try:
            payload = json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError):
            payload = None
        if not isinstance(payload, dict):
            raise bad_request(
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of "
                "valid JSON format.",
                code=codes_bad_request,
            )
        return payload

    @property
    def eventual(self) -> bool:
        return (self.headers.get("ConsistencyLevel") or "").lower() == "eventual"


def build_request(method: str, raw_path: str, raw_query: str, headers: Headers, body: bytes,
                  version: str = "v1.0") -> GraphRequest:
    """A request from its path and query after the version, as the server and $batch items both receive them."""
    segments = [unquote(segment) for segment in raw_path.split("/")] if raw_path else []
    return GraphRequest(
        method=method,
        segments=[s for s in segments if s != ""],
        raw_path=raw_path.rstrip("/"),
        pairs=parse_qsl(raw_query, keep_blank_values=True),
        headers=headers,
        body=body,
        version=version,
    )


@dataclass
class GraphResponse:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # A plain-text body instead of JSON (/users/$count).
    text: str | None = None
    # The time.monotonic() value before which the answer is not sent: Graph's latency (gateway.py).
    due: float = 0.0
    # Sent gzip-compressed: the request accepted it and the gzip_responses switch is on.
    gzip: bool = False


Handler = Callable[[GraphRequest, list[str]], GraphResponse]
NO_CONTENT = 204


def _no_extra_properties(spec: CollectionSpec) -> Mapping[str, str]:
    return {}


# An expanded collection holds at most 20 objects and never a nextLink (graph-behaviour §1): the rest are
# silently left out, and a client must read the relationship itself to see them.
EXPAND_LIMIT = 20

# The version of the request being answered: its answer's links (@odata.context, nextLink, deltaLink) name
# it. Set for the length of one dispatch (one thread each), so that handlers read it through `base`.
_VERSION: ContextVar[str] = ContextVar("graph_version", default="v1.0")


class GraphApi:
    def __init__(self, tenant: Tenant, settings: Settings, authority: Authority) -> None:
        self.tenant = tenant
        self.settings = settings
        self.authority = authority
        self.root = ""  # https://host:port, known once the server listens
        self.routes: list[tuple[tuple[str, ...], dict[str, Handler]]] = []
        # What DELETE /{collection}/{id} does; recycle.RecycleBins replaces it with soft delete.
        self.remove: Callable[[CollectionSpec, dict[str, Any]], None] = tenant.delete
        self.delta_queries = DeltaQueries(tenant, settings)
        # This tenant's properties beyond the table, per collection (directory extensions; identity.py sets it).
        self.extra_properties: Callable[[CollectionSpec], Mapping[str, str]] = _no_extra_properties
        # Called with every routed request before its handler; raising GraphFault refuses it (identity.py's denials).
        self.checks: list[Callable[[GraphRequest], None]] = []
        self.checks.append(lambda request: check_licence(self.settings.governance_licensed, request.segments))
        self._beta_only = tuple(spec.segments for spec in COLLECTIONS if spec.beta_only)
        # (collection segment, key property), both lower case -> the id of the object the key names, or None.
        self.alternate_keys: dict[tuple[str, str], Callable[[str], str | None]] = {
            (spec.path.lower(), "appid"): partial(self._id_by, spec, "appId") for spec in (BY_NAME["applications"], BY_NAME["servicePrincipals"])
        }
        self._build_routes()

    # --- routing -----------------------------------------------------------------------------------------

    def _id_by(self, spec: CollectionSpec, prop: str, value: str) -> str | None:
        return next((str(obj["id"]) for obj in self.tenant.objects[spec.name].values()
                     if str(obj.get(prop)).lower() == value.lower()), None)

    def _route(self, template: tuple[str, ...], **methods: Handler) -> None:
        self.routes.append((template, methods))

    def _build_routes(self) -> None:
        for spec in COLLECTIONS:
            if spec.singleton:
                # One object at the collection's own path: GET and PATCH (PUT where Graph replaces it whole,
                # graph-behaviour §6), anything else 405 (graph-behaviour §5).
                write = {"PUT": self.replace_object} if spec.replaced_by_put is not None else {"PATCH": self.update_object}
                self._route(spec.segments, **self._at_singleton(spec, GET=self.get_object, **write))
                continue
            item = spec.item_segments
            lists = {"GET": partial(self.list_objects, spec), "POST": partial(self.create_object, spec)}
            self._route(spec.segments, **{m: h for m, h in lists.items() if m in spec.collection_methods})
            items = {
                "GET": partial(self.get_object, spec),
                "PATCH": partial(self.update_object, spec),
                "DELETE": partial(self.delete_object, spec),
                "PUT": partial(self.replace_object, spec),
            }
            self._route(item, **{m: h for m, h in items.items() if m in spec.item_methods})
            for rel in spec.relationships:
                if rel.via is not None or rel.contained_by is not None:
                    continue
                if rel.single:
                    self._route((*item, rel.name), GET=partial(self.get_single, spec, rel))
                    self._route(
                        (*item, rel.name, "$ref"),
                        PUT=partial(self.put_single_ref, spec, rel),
                        DELETE=partial(self.delete_single_ref, spec, rel),
                    )
                    continue
                self._route((*item, rel.name), GET=partial(self.list_related, spec, rel))
                if rel.writable:
                    self._route((*item, rel.name, "$ref"), POST=partial(self.add_ref, spec, rel))
                    self._route((*item, rel.name, "{ref}", "$ref"), DELETE=partial(self.remove_ref, spec, rel))
        self._route(("directoryObjects", "{id}"), GET=self.get_directory_object)
        self._build_paging_routes()

    def _build_paging_routes(self) -> None:
        """$count, delta and the actions (credentials, policies, licenses): each driven by its own table."""
        for spec in COLLECTIONS:
            if spec.paged_by_default and "GET" in spec.collection_methods and not spec.singleton:
                self._route((*spec.segments, "$count"), GET=partial(self.count_objects, spec))
            for name, (action, result_type) in {**ACTIONS, **POLICY_ACTIONS, **LICENSE_ACTIONS,
                                                **APPS_ACCESS_ACTIONS}.get(spec.name, {}).items():
                handler = partial(self.run_action, spec, action, result_type)
                if spec.singleton:
                    # A singleton's action sits right under its path (…/default/resetToSystemDefault).
                    self._route((*spec.segments, name), **self._at_singleton(spec, POST=lambda _spec, request, params, run=handler: run(request, params)))
                else:
                    self._route((*spec.segments, "{id}", name), POST=handler)
        for name in TRACKED:
            spec = BY_NAME[name]
            # /delta is short for /microsoft.graph.delta (graph-behaviour §2); OData's function-call form with empty
            # parentheses, which Microsoft's generated SDKs always send, names the same function.
            for function in ("delta", "microsoft.graph.delta", "delta()", "microsoft.graph.delta()"):
                self._route((*spec.segments, function), GET=partial(self.delta, spec))

    def _at_singleton(self, spec: CollectionSpec, **handlers: Callable[..., GraphResponse]) -> dict[str, Handler]:
        """Item handlers served at a singleton's path, given the one object's id as their parameter."""

        def bind(handler: Callable[..., GraphResponse]) -> Handler:
            return lambda request, params: handler(spec, request, [self.tenant.sorted_objects(spec)[0]["id"]])

        return {method: bind(handler) for method, handler in handlers.items()}

    @property
    def base(self) -> str:
        """https://host:port/<version> of the request being answered."""
        return f"{self.root}/{_VERSION.get()}"

    def _served(self, template: tuple[str, ...], version: str) -> bool:
        """Whether a route is served under the version: all are under beta, all but beta-only ones under v1.0."""
        return version == "beta" or not any(template[: len(path)] == path for path in self._beta_only)

    def _match(self, segments: list[str], version: str) -> tuple[dict[str, Handler], list[str]]:
        best: tuple[list[int], dict[str, Handler], list[str]] | None = None
        for template, methods in self.routes:
            if len(template) != len(segments):
                continue
            params: list[str] = []
            score: list[int] = []
            for expected, actual in zip(template, segments):
                if expected.startswith("{") and actual and actual.lower() != "$ref":
                    params.append(actual)
                    score.append(0)
                elif expected.lower() == actual.lower():
                    score.append(1)
                else:
                    break
            else:
                # Literal segments beat placeholders: /users/{id}/manager is not /users/{id}/{something}.
                if (best is None or score > best[0]) and self._served(template, version):
                    best = (score, methods, params)
        if best is None:
            raise segment_not_found(self._first_unknown_segment(segments, version))
        return best[1], best[2]

    def _first_unknown_segment(self, segments: list[str], version: str) -> str:
        for depth in range(1, len(segments) + 1):
            if not any(
                len(template) >= depth
                and all(t.startswith("{") or t.lower() == s.lower() for t, s in zip(template, segments[:depth]))
                for template, _ in self.routes if self._served(template, version)
            ):
                return segments[depth - 1]
        return segments[-1] if segments else ""

    def authenticate(self, request: GraphRequest) -> None:
        problem = self.authority.check_bearer(request.headers.get("Authorization"))
        if problem is not None:
            raise unauthenticated(problem, f"{self.authority.base_url}/{self.tenant.tenant_id}/oauth2/authorize")

    def dispatch(self, request: GraphRequest) -> GraphResponse:
        """Answer an authenticated request (gateway.py adds throttling, faults and $batch around this)."""
        with self.tenant.lock:
            request = replace(request, segments=self._by_alternate_key(request.segments))
        methods, params = self._match(request.segments, request.version)
        for check in self.checks:
            check(request)
        handler = methods.get(request.method)
        if handler is None:
            raise method_not_allowed()
        version = _VERSION.set(request.version)
        try:
            with self.tenant.lock:
                return handler(request, params)
        finally:
            _VERSION.reset(version)

    def _by_alternate_key(self, segments: list[str]) -> list[str]:
        """/applications(appId='…') and its kind, as /applications/{id}: OData's alternate keys, which
        application-get, serviceprincipal-get and directoryrole-get document and generated SDKs send."""
        rewritten: list[str] = []
        for segment in segments:
            match = _ALTERNATE_KEY.fullmatch(segment)
            find = self.alternate_keys.get((match.group(1).lower(), match.group(2).lower())) if match else None
            if match is None or find is None:
                rewritten.append(segment)
                continue
            key = match.group(3) if match.group(3) is not None else match.group(4)
            object_id = find(key)
            if object_id is None:
                raise resource_not_found(key)
            rewritten += [match.group(1), object_id]
        return rewritten

    # --- shared helpers ----------------------------------------------------------------------------------

    def _entity(self, entity_set: str, select: tuple[str, ...] | None, body: dict[str, Any], status: int = 200) -> GraphResponse:
        return GraphResponse(status, {"@odata.context": context_url(self.base, entity_set, select, entity=True), **body})

    def _collection(
        self, request: GraphRequest, entity_set: str, query: Query, values: list[dict[str, Any]], token: str | None, total: int
    ) -> GraphResponse:
        body: dict[str, Any] = {"@odata.context": context_url(self.base, entity_set, query.select)}
        if query.count and query.skiptoken is None:
            body["@odata.count"] = total  # first page only (graph-behaviour §1)
        link = {} if token is None else {"@odata.nextLink": next_link(self.base, request.raw_path, query.pairs, token)}
        if self.settings.next_link_last:
            return GraphResponse(200, {**body, "value": values, **link})
        return GraphResponse(200, {**body, **link, "value": values})

    def _entity_of(self, spec: CollectionSpec, select: tuple[str, ...] | None, body: dict[str, Any], status: int = 200) -> GraphResponse:
        if spec.entity_context is None:
            return self._entity(spec.path, select, body, status)
        return GraphResponse(status, {"@odata.context": f"{self.base}/$metadata#{spec.entity_context}", **body})

    def _render(self, spec: CollectionSpec, obj: Mapping[str, Any], query: Query, typed: bool = False) -> dict[str, Any]:
        # 'id' is returned only when the type has one; partners are named by tenantId, which $select keeps.
        hidden = spec.write_only if "id" in spec.properties else spec.write_only | {"id"}
        select = query.select if query.select is None or spec.key == "id" else (spec.key, *query.select)
        rendered = project(obj, select, spec.default_properties, hidden)
        if spec.inline and query.select is None:
            for name, collection in spec.inline.items():
                contained = BY_NAME[collection]
                rendered[f"{name}@odata.context"] = context_url(self.base, contained.path, None)
                rendered[name] = [self._render(contained, item, Query(pairs=[])) for item in self.tenant.sorted_objects(contained)]
        if typed and "@odata.type" not in rendered:
            rendered = {"@odata.type": spec.odata_type, **rendered}
        for name, nested_select in query.expand.items():
            rel = spec.relationship(name)
            assert rel is not None
            expanded = [
                {"@odata.type": target_spec.odata_type,
                 **project(target, nested_select, target_spec.default_properties, target_spec.write_only)}
                for target_spec, target in self._related(rel, obj)[:EXPAND_LIMIT]
            ]
            if rel.single:
                if expanded:
                    rendered[name] = expanded[0]
            else:
                rendered[name] = expanded
        return rendered

    def _related(self, rel: Relationship, obj: Mapping[str, Any]) -> list[tuple[CollectionSpec, dict[str, Any]]]:
        if rel.contained_by is not None:
            contained = BY_NAME[rel.target_collections[0]]
            return [(contained, item) for item in self.tenant.sorted_objects(contained)
                    if item.get(rel.contained_by) == obj["id"]]
        if rel.via is None:
            return self.tenant.related(rel, obj["id"])
        named = obj.get(rel.via)
        # A link given as {"id": ...} in the body that made the object (an access package's catalog).
        ref = str((named.get("id") if isinstance(named, dict) else named) or "")
        if set(rel.target_collections) <= set(DIRECTORY_OBJECT_COLLECTIONS):
            found = self.tenant.directory_object(ref)
        else:
            found = next(((BY_NAME[name], target) for name in rel.target_collections
                          if (target := self.tenant.find(BY_NAME[name], ref)) is not None), None)
        return [] if found is None else [found]

    def _target(self, spec: CollectionSpec) -> QueryTarget:
        """What $select and $filter accept on a collection: the table's properties and this tenant's extra ones."""
        target = target_for(spec)
        extra = self.extra_properties(spec)
        if not extra:
            return target
        return replace(target, properties={**target.properties, **extra}, filterable=target.filterable | frozenset(extra))

    def _union_target(self, rel: Relationship) -> QueryTarget:
        """$select and $filter on a directoryObject list accept the properties of any type it can hold."""
        specs = [BY_NAME[name] for name in rel.target_collections]
        properties: dict[str, str] = {}
        filterable: set[str] = set()
        for spec in specs:
            properties.update(spec.all_properties())
            filterable |= spec.filterable
        if len(specs) == 1:
            return target_for(specs[0], with_expand=False)
        return QueryTarget(DIRECTORY_OBJECT_TYPE, "DirectoryObject", properties, frozenset(filterable))

    def _referenced_id(self, reference: Any, prop: str = "@odata.id") -> str:
        if not isinstance(reference, str) or not reference.strip("/"):
            raise bad_request(f"Invalid value specified for property '{prop}'.")
        # Graph accepts any host here (…/v1.0/directoryObjects/{id}, …/users/{id}); only the id matters.
        last = reference.rstrip("/").rsplit("/", 1)[-1]
        if last.endswith("')") and "('" in last:
            last = last[last.index("('") + 2 : -2]
        return last

    def _resolve_target(self, rel: Relationship, target_id: str, source_id: str) -> tuple[CollectionSpec, dict[str, Any]]:
        found = self.tenant.directory_object(target_id) or self.tenant.linked_object(rel, target_id)
        if found is None:
            raise resource_not_found(target_id)
        target_spec, target = found
        if target_spec.name not in rel.target_collections or target["id"] == source_id:
            raise bad_request(
                f"Invalid object '{target['id']}' of type '{target_spec.type_name}' for reference property '{rel.name}'."
            )
        return target_spec, target

    def _check_member_write(self, group: Mapping[str, Any], rel: Relationship, target_spec: CollectionSpec | None) -> None:
        if rel.link != "members":
            return
        if is_synced(group):
            # Members of a group synced from Active Directory are managed there (graph-behaviour §5).
            raise bad_request(ON_PREMISES_MASTERED_MESSAGE)
        if is_dynamic(group):
            status = self.settings.dynamic_member_write_status
            if status == 403:
                raise GraphFault(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
            # The 400 variant some tenants return is not documented; this message is the simulator's own.
            raise GraphFault(status, "Request_BadRequest", "Members of a group with dynamic membership cannot be changed.")
        if target_spec is not None and UNIFIED in (group.get("groupTypes") or []) and target_spec.name != "users":
            raise bad_request("Microsoft 365 groups accept only users as members.")

    def _already_there(self, rel: Relationship) -> GraphFault:
        return bad_request(
            f"One or more added object references already exist for the following modified properties: '{rel.name}'."
        )

    # --- collections -------------------------------------------------------------------------------------

    def list_objects(self, spec: CollectionSpec, request: GraphRequest, params: list[str]) -> GraphResponse:
        query = parse_query(request.pairs, self._target(spec), eventual=request.eventual)
        if isinstance(query.where, IdFilter):
            table = self.tenant.objects[spec.name]
            found = {id(obj): obj for i in query.where.ids if isinstance(i, str)
                     if (obj := table.get(i) or table.get(i.lower())) is not None and query.where(obj)}
            items = sorted(found.values(), key=lambda obj: str(obj["id"]))
        else:
            items = self.tenant.sorted_objects(spec)
            if query.where is not None:
                items = [obj for obj in items if query.where(obj)]
        size = page_size_for(query, self.settings.default_page_size, spec.paged_by_default)
        page, token = paginate(items, query, size, rules=self._page_rules())
        values = [self._render(spec, obj, query) for obj in page]
        return self._collection(request, spec.path, query, values, token, len(items))

    def get_object(self, spec: CollectionSpec, request: GraphRequest, params: list[str]) -> GraphResponse:
        query = parse_query(request.pairs, self._target(spec), eventual=request.eventual)
        obj = self.tenant.require(spec, params[0])
        return self._entity_of(spec, query.select, self._render(spec, obj, query))

    def create_object(self, spec: CollectionSpec, request: GraphRequest, params: list[str]) -> GraphResponse:
        body = request.json(spec.codes.bad_request)
        added = {name: body.pop(name) for name in spec.added_on_create if name in body}
        for name, value in added.items():
            check_kind(spec, name, spec.properties[name], value)
        changes, binds = check_write(spec, body, None, self.extra_properties(spec))
        resolved = self._resolve_binds(spec, changes, binds)
        # Objects named by another property (partners by tenantId) are filed under it.
        key = str(changes[spec.key]) if spec.key != "id" else None
        if key is not None and self.tenant.find(spec, key) is not None:
            raise conflict(f"An object with {spec.key} '{key}' already exists.")
        obj = self.tenant.create(spec, changes, body.get("@odata.type"), object_id=key)
        self._apply_binds(obj, resolved)
        rendered = self._render(spec, obj, Query(pairs=[]))
        for name, items in added.items():
            action_name, parameter = spec.added_on_create[name]
            action = ACTIONS[spec.name][action_name][0]
            # Each result carries what only this answer shows (a secret's text); the object keeps the rest.
            rendered[name] = [action(self.tenant, spec, obj, {parameter: item}) for item in items or []]
        return self._entity_of(spec, None, rendered, status=201)

    def update_object(self, spec: CollectionSpec, request: GraphRequest, params: list[str]) -> GraphResponse:
        if spec.upsert is not None and self.tenant.find(spec, params[0]) is None:
            # PATCH creates an object under an unused key (authenticationContextClassReference-update): 204 too.
            spec.upsert(params[0])
            self.tenant.create(spec, check_write(spec, request.json(spec.codes.bad_request), None)[0], object_id=params[0])
            return GraphResponse(NO_CONTENT)
        obj = self.tenant.require(spec, params[0])
        changes, binds = check_write(spec, request.json(spec.codes.bad_request), obj, self.extra_properties(spec))
        if self.settings.nested_patch == "merge":
            changes.update({key: merge_nested(obj.get(key), changes[key]) for key in spec.nested_patch & set(changes)})
        check_on_premises_mastered(spec, obj, changes, self.settings.synced_refuses_unconfirmed)
        resolved = self._resolve_binds(spec, obj, binds)
        self.tenant.update(spec, obj, changes)
        self._apply_binds(obj, resolved)
        if spec.patch_returns_object:
            return self._entity_of(spec, None, self._render(spec, obj, Query(pairs=[])), status=spec.patch_status)
        return GraphResponse(NO_CONTENT)

    def replace_object(self, spec: CollectionSpec, request: GraphRequest, params: list[str]) -> GraphResponse:
        """PUT of a whole object: what the body leaves out is reset to the spec's value for it (a singleton,
        replaced_by_put), else unset, and one with no value to reset it to is refused where the spec names
        such values; 200 with the object (deviceregistrationpolicy-update, accesspackageassignmentpolicy-update)."""
        obj = self.tenant.require(spec, params[0])
        body = {**(spec.replaced_by_put or {}), **request.json(spec.codes.bad_request)}
        if spec.replaced_by_put is not None:
            missing = sorted(set(spec.properties) - spec.read_only - set(body))
            if missing:
                raise bad_request(f"The property '{missing[0]}' is required when updating '{spec.resource_name}'.")
        changes, _ = check_write(spec, body, obj, self.extra_properties(spec))
        kept = spec.read_only | spec.create_only | spec.computed | spec.write_only
        cleared: dict[str, Any] = {name: [] if kind in (STRS, OBJS) else None for name, kind in spec.properties.items()
                                   if name not in body and name not in kept}
        self.tenant.update(spec, obj, {**cleared, **changes})
        if spec.put_status == NO_CONTENT:
            return GraphResponse(NO_CONTENT)
        return self._entity_of(spec, None, self._render(spec, obj, Query(pairs=[])))

    def delete_object(self, spec: CollectionSpec, request: GraphRequest, params: list[str]) -> GraphResponse:
        obj = self.tenant.require(spec, params[0])
        if spec.check_delete is not None:
            spec.check_delete(obj)
        self.remove(spec, obj)
        return GraphResponse(NO_CONTENT)

    def get_directory_object(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        found = self.tenant.directory_object(params[0])
        if found is None:
            raise resource_not_found(params[0])
        spec, obj = found
        query = parse_query(request.pairs, target_for(spec, with_expand=False), eventual=request.eventual)
        return self._entity("directoryObjects", query.select, self._render(spec, obj, query, typed=True))

    def _resolve_binds(
        self, spec: CollectionSpec, obj: Mapping[str, Any], binds: dict[str, list[Any]]
    ) -> list[tuple[Relationship, str]]:
        """Check every '<rel>@odata.bind' reference before any write: Graph applies them all or none.

        `obj` is the existing object, or on create the new object's properties (its id is not known yet).
        """
        if sum(len(urls) for urls in binds.values()) > MAX_BINDS:
            raise bad_request(f"A single request can add at most {MAX_BINDS} references through '@odata.bind'.")
        resolved: list[tuple[Relationship, str]] = []
        for name, urls in binds.items():
            rel = spec.relationship(name)
            assert rel is not None
            for url in urls:
                target_id = self._referenced_id(url, f"{name}@odata.bind")
                target_spec, target = self._resolve_target(rel, target_id, str(obj.get("id")))
                self._check_member_write(obj, rel, target_spec)
                if "id" in obj and self.tenant.is_linked(rel.link, obj["id"], target["id"]):
                    raise self._already_there(rel)
                resolved.append((rel, target["id"]))
        return resolved

    def _apply_binds(self, obj: Mapping[str, Any], resolved: list[tuple[Relationship, str]]) -> None:
        for rel, target_id in resolved:
            self.tenant.link(rel.link, obj["id"], target_id)

    # --- relationships -----------------------------------------------------------------------------------

    def list_related(self, spec: CollectionSpec, rel: Relationship, request: GraphRequest, params: list[str]) -> GraphResponse:
        source = self.tenant.require(spec, params[0])
        query = parse_query(request.pairs, self._union_target(rel), eventual=request.eventual)
        items = self.tenant.related(rel, source["id"])
        if query.where is not None:
            items = [(s, obj) for s, obj in items if query.where(obj)]
        size = page_size_for(query, self.settings.default_page_size, True)
        page, token = paginate(items, query, size, key=lambda item: str(item[1]["id"]), rules=self._page_rules())
        values = [self._render(s, obj, query, typed=True) for s, obj in page]
        return self._collection(request, "directoryObjects", query, values, token, len(items))

    def get_single(self, spec: CollectionSpec, rel: Relationship, request: GraphRequest, params: list[str]) -> GraphResponse:
        source = self.tenant.require(spec, params[0])
        related = self.tenant.related(rel, source["id"])
        if not related:
            raise resource_not_found(rel.name)
        target_spec, target = related[0]
        query = parse_query(request.pairs, target_for(target_spec, with_expand=False), eventual=request.eventual)
        return self._entity("directoryObjects", query.select, self._render(target_spec, target, query, typed=True))

    def put_single_ref(self, spec: CollectionSpec, rel: Relationship, request: GraphRequest, params: list[str]) -> GraphResponse:
        source = self.tenant.require(spec, params[0])
        _, target = self._resolve_target(rel, self._referenced_id(request.json().get("@odata.id")), source["id"])
        self.tenant.set_single(rel.link, source["id"], target["id"])
        return GraphResponse(NO_CONTENT)

    def delete_single_ref(self, spec: CollectionSpec, rel: Relationship, request: GraphRequest, params: list[str]) -> GraphResponse:
        source = self.tenant.require(spec, params[0])
        if not self.tenant.links[rel.link].get(source["id"]):
            raise resource_not_found(rel.name)
        self.tenant.set_single(rel.link, source["id"], None)
        return GraphResponse(NO_CONTENT)

    def add_ref(self, spec: CollectionSpec, rel: Relationship, request: GraphRequest, params: list[str]) -> GraphResponse:
        source = self.tenant.require(spec, params[0])
        # A dynamic group refuses before the reference is even looked at; the type check needs the target.
        self._check_member_write(source, rel, None)
        target_spec, target = self._resolve_target(rel, self._referenced_id(request.json().get("@odata.id")), source["id"])
        self._check_member_write(source, rel, target_spec)
        if self.tenant.is_linked(rel.link, source["id"], target["id"]):
            raise self._already_there(rel)
        if rel.link == "appManagementPolicies" and self.tenant.links[rel.link].get(source["id"]):
            # "Only one policy object can be assigned to an application or service principal" [message UNCONFIRMED].
            raise bad_request("An app management policy is already assigned to this object.")
        self.tenant.link(rel.link, source["id"], target["id"])
        return GraphResponse(NO_CONTENT)

    def remove_ref(self, spec: CollectionSpec, rel: Relationship, request: GraphRequest, params: list[str]) -> GraphResponse:
        source = self.tenant.require(spec, params[0])
        self._check_member_write(source, rel, None)
        target_id = params[1].lower()
        if not self.tenant.is_linked(rel.link, source["id"], target_id):
            raise resource_not_found(params[1])
        if rel.keeps_last and len(self.tenant.links[rel.link].get(source["id"], ())) == 1:
            # Once a group has owners, its last owner cannot be removed (graph-behaviour §6).
            raise bad_request("The group must have at least one owner, hence this owner cannot be removed.")
        self.tenant.unlink(rel.link, source["id"], target_id)
        return GraphResponse(NO_CONTENT)

    # --- paging, $count, delta, actions ------------------------------------------------------------------

    def _page_rules(self) -> PageRules:
        settings = self.settings
        return PageRules(self.tenant.clock.now(), settings.skiptoken_lifetime_seconds, settings.empty_pages)

    def count_objects(self, spec: CollectionSpec, request: GraphRequest, params: list[str]) -> GraphResponse:
        if not request.eventual:
            # graph-behaviour §1: /users/$count needs ConsistencyLevel: eventual.
            raise bad_request("$count is not currently supported.")
        query = parse_query(request.pairs, self._target(spec), eventual=True)
        items = self.tenant.sorted_objects(spec)
        total = len(items) if query.where is None else sum(1 for obj in items if query.where(obj))
        return GraphResponse(200, text=str(total))

    def delta(self, spec: CollectionSpec, request: GraphRequest, params: list[str]) -> GraphResponse:
        minimal = "return=minimal" in (request.headers.get("Prefer") or "").replace(" ", "").lower()
        return GraphResponse(200, self.delta_queries.respond(spec, request.pairs, minimal, self.base))

    def run_action(self, spec: CollectionSpec, action: Action, result_type: str, request: GraphRequest, params: list[str]) -> GraphResponse:
        obj = self.tenant.require(spec, params[0])
        # Some actions take no body at all (resetToSystemDefault).
        body = request.json(spec.codes.bad_request) if request.body.strip() else {}
        result = action(self.tenant, spec, obj, body)
        if result is None:
            return GraphResponse(NO_CONTENT)
        return GraphResponse(200, {"@odata.context": f"{self.base}/$metadata#{result_type}", **result})
