"""Routes for the identity configuration of model_identity.py, on top of the generic ones of graph.py.

The generic routes serve every collection at its path with all five methods. Here the route table is
adjusted from model_identity's tables: nested collections move under their parents, top-level ones keep
only the methods Graph offers, and the few operations that are more than a write of one object get their
handlers: directory extensions (and the values users carry), PIM eligibility requests, the refusal to
touch built-in roles, and the `denied_paths` switch. An app's federated identity credentials double as
what the token endpoint checks a federated assertion against (FederatedCredentials below).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableSequence
from functools import partial
from typing import Any, overload

from entragit.sim.auth import FederatedCredential
from entragit.sim.branding import BrandingImages
from entragit.sim.catalog import BY_NAME
from entragit.sim.changes import UNDER, UPDATED
from entragit.sim.directory_roles import DirectoryRoles
from entragit.sim.errors import GraphFault, bad_request, resource_not_found
from entragit.sim.gateway import app_id_of
from entragit.sim.graph import (
    NO_CONTENT,
    GraphApi,
    GraphRequest,
    GraphResponse,
    Handler,
)
from entragit.sim.model import CollectionSpec, blank_object, check_write
from entragit.sim.model_app_policies import APP_POLICY_NESTED
from entragit.sim.model_identity import (
    EXTENSION_PROPERTIES,
    EXTENSION_TARGETS_SIMULATED,
    FEDERATED_CREDENTIALS,
    NESTED,
    PARENT,
    ROLE_DEFINITIONS,
    ROLE_ELIGIBILITY_REQUESTS,
    ROLE_ELIGIBILITY_SCHEDULES,
    TOP_LEVEL_METHODS,
    Nested,
    built_in_refused,
    check_role_target,
    extension_kind,
)
from entragit.sim.permissions import refused
from entragit.sim.query import page_size_for, paginate, parse_query, project, target_for
from entragit.sim.tenant import Tenant


# The collections served under a parent, of every model module.
ALL_NESTED: tuple[Nested, ...] = (*NESTED, *APP_POLICY_NESTED)


class IdentityApi:
    def __init__(self, api: GraphApi) -> None:
        self.api = api
        self.tenant = api.tenant
        self.settings = api.settings
        api.extra_properties = self.extension_properties
        api.checks.append(self.check_denied)
        self._restrict_top_level()
        self._route_nested()
        api._route(("directoryObjects", "getAvailableExtensionProperties"), POST=self.available_extension_properties)
        self._methods(ROLE_ELIGIBILITY_REQUESTS.segments)["POST"] = self.request_eligibility
        self._methods((*ROLE_DEFINITIONS.segments, "{id}"))["DELETE"] = self.delete_role_definition
        DirectoryRoles(api)
        BrandingImages(api)

    # --- the route table -----------------------------------------------------------------------------------

    def _methods(self, template: tuple[str, ...]) -> dict[str, Handler]:
        return next(methods for route, methods in self.api.routes if route == template)

    def _restrict_top_level(self) -> None:
        for name, (on_collection, on_item) in TOP_LEVEL_METHODS.items():
            spec = BY_NAME[name]
            for template, allowed in ((spec.segments, on_collection), ((*spec.segments, "{id}"), on_item)):
                methods = self._methods(template)
                for method in set(methods) - allowed:
                    del methods[method]
        # Graph answers /$count only for directory objects; these would otherwise inherit it from the table.
        counts = {(*BY_NAME[name].segments, "$count") for name in TOP_LEVEL_METHODS}
        self.api.routes = [(t, m) for t, m in self.api.routes if t not in counts]

    def _route_nested(self) -> None:
        # The generic routes of a nested spec sit at its template path, which is where its parent's view goes.
        templates = {n.spec.segments for n in ALL_NESTED}
        self.api.routes = [(t, m) for t, m in self.api.routes if not any(t[: len(s)] == s for s in templates)]
        for nested in ALL_NESTED:
            base = (*BY_NAME[nested.parent].segments, "{id}", *nested.segment.split("/"))
            self.api._route(base, GET=partial(self.list_nested, nested), POST=partial(self.create_nested, nested))
            handlers = {"GET": self.get_nested, "PATCH": self.update_nested, "DELETE": self.delete_nested}
            self.api._route((*base, "{item}"), **{m: partial(handlers[m], nested) for m in nested.item_methods})
        for parent in {n.parent for n in ALL_NESTED if n.key == PARENT and BY_NAME[n.parent].recycle is None}:
            # A container deleted for good takes what it contains with it (a policy's condition sets).
            methods = self._methods((*BY_NAME[parent].segments, "{id}"))
            if "DELETE" in methods:  # the organization holds some, and is never deleted
                methods["DELETE"] = partial(self.delete_container, BY_NAME[parent], methods["DELETE"])

    def delete_container(self, spec: CollectionSpec, delete: Handler, request: GraphRequest, params: list[str]) -> GraphResponse:
        parent = self.tenant.require(spec, params[0])
        response = delete(request, params)
        for nested in ALL_NESTED:
            if nested.parent == spec.name:
                for child in self._children(nested, parent):
                    self.tenant.delete(nested.spec, child)
        return response

    # --- permissions ---------------------------------------------------------------------------------------

    def check_denied(self, request: GraphRequest) -> None:
        """Settings.denied_paths: the app was not granted the permission these paths need (graph-behaviour §5)."""
        prefixes = [p.strip().strip("/").lower().split("/") for p in self.settings.denied_paths.split(",") if p.strip()]
        segments = [s.lower() for s in request.segments]
        if any(segments[: len(prefix)] == prefix for prefix in prefixes):
            raise refused(request.segments)

    # --- nested collections --------------------------------------------------------------------------------

    def _parent(self, nested: Nested, key: str) -> dict[str, Any]:
        return self.tenant.require(BY_NAME[nested.parent], key)

    def _entity_set(self, nested: Nested, parent: Mapping[str, Any]) -> str:
        return f"{BY_NAME[nested.parent].path}('{parent['id']}')/{nested.segment}"

    def _children(self, nested: Nested, parent: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [obj for obj in self.tenant.sorted_objects(nested.spec) if obj[nested.key] == parent["id"]]

    def _child(self, nested: Nested, parent: Mapping[str, Any], key: str) -> dict[str, Any]:
        found = self.tenant.objects[nested.spec.name].get(key) or self.tenant.objects[nested.spec.name].get(key.lower())
        if found is None and nested.alternate_key is not None:
            found = next((c for c in self._children(nested, parent) if c[nested.alternate_key] == key), None)
        if found is None or found[nested.key] != parent["id"]:
            raise resource_not_found(key)
        return found

    def _render(self, spec: CollectionSpec, obj: Mapping[str, Any], select: tuple[str, ...] | None) -> dict[str, Any]:
        return project(obj, select, spec.default_properties, spec.write_only)

    def list_nested(self, nested: Nested, request: GraphRequest, params: list[str]) -> GraphResponse:
        parent = self._parent(nested, params[0])
        query = parse_query(request.pairs, target_for(nested.spec, with_expand=False), eventual=request.eventual)
        items = self._children(nested, parent)
        if query.where is not None:
            items = [obj for obj in items if query.where(obj)]
        size = page_size_for(query, self.settings.default_page_size, nested.spec.paged_by_default)
        page, token = paginate(items, query, size, rules=self.api._page_rules())
        values = [self._render(nested.spec, obj, query.select) for obj in page]
        return self.api._collection(request, self._entity_set(nested, parent), query, values, token, len(items))

    def create_nested(self, nested: Nested, request: GraphRequest, params: list[str]) -> GraphResponse:
        parent = self._parent(nested, params[0])
        spec = nested.spec
        changes, _ = check_write(spec, request.json(spec.codes.bad_request), None)
        if nested.key != PARENT and str(changes[nested.key]).lower() != parent["id"]:
            # POST /users/{id}/appRoleAssignments names that user as principalId, and so on [message UNCONFIRMED].
            raise bad_request(f"Property '{nested.key}' must be the id of the {BY_NAME[nested.parent].resource_name} in the request URL.")
        changes[nested.key] = parent["id"]
        obj = self.tenant.create(spec, changes)
        self._touch_holders(spec, obj)
        return self.api._entity(self._entity_set(nested, parent), None, self._render(spec, obj, None), status=201)

    def get_nested(self, nested: Nested, request: GraphRequest, params: list[str]) -> GraphResponse:
        parent = self._parent(nested, params[0])
        obj = self._child(nested, parent, params[1])
        query = parse_query(request.pairs, target_for(nested.spec, with_expand=False), eventual=request.eventual)
        return self.api._entity(self._entity_set(nested, parent), query.select, self._render(nested.spec, obj, query.select))

    def update_nested(self, nested: Nested, request: GraphRequest, params: list[str]) -> GraphResponse:
        obj = self._child(nested, self._parent(nested, params[0]), params[1])
        changes, _ = check_write(nested.spec, request.json(nested.spec.codes.bad_request), obj)
        if nested.check_update is not None:
            nested.check_update(self.tenant, {**obj, **changes})
        self.tenant.update(nested.spec, obj, changes)
        self._touch_holders(nested.spec, obj)
        if nested.spec.patch_returns_object:
            parent = self._parent(nested, params[0])
            return self.api._entity(self._entity_set(nested, parent), None, self._render(nested.spec, obj, None))
        return GraphResponse(NO_CONTENT)

    def delete_nested(self, nested: Nested, request: GraphRequest, params: list[str]) -> GraphResponse:
        obj = self._child(nested, self._parent(nested, params[0]), params[1])
        if nested.spec is EXTENSION_PROPERTIES:
            self._drop_extension_values(obj)
        self.api.remove(nested.spec, obj)
        self._touch_holders(nested.spec, obj)
        return GraphResponse(NO_CONTENT)

    def _touch_holders(self, spec: CollectionSpec, obj: Mapping[str, Any]) -> None:
        """With delta_reports_children, the objects an item is listed under (an assignment: its resource and its
        principal) show in their types' next delta round as changed."""
        if not self.settings.delta_reports_children:
            return
        for nested in NESTED:
            holder = obj.get(nested.key)
            if nested.spec is spec and isinstance(holder, str) and holder in self.tenant.objects[nested.parent]:
                self.tenant.changes.record(UPDATED, nested.parent, holder, (f"{UNDER}{nested.segment}",))

    # --- directory extensions ------------------------------------------------------------------------------

    def extension_properties(self, spec: CollectionSpec) -> Mapping[str, str]:
        """The extension properties registered for a collection's type, as $select, $filter and writes accept them."""
        target = EXTENSION_TARGETS_SIMULATED.get(spec.name)
        if target is None:
            return {}
        registered = self.tenant.objects[EXTENSION_PROPERTIES.name].values()
        return {prop["name"]: extension_kind(prop) for prop in registered if target in prop["targetObjects"]}

    def _drop_extension_values(self, prop: Mapping[str, Any]) -> None:
        # Values of a deleted extension are gone with it: re-registering the name starts empty.
        for name, target in EXTENSION_TARGETS_SIMULATED.items():
            if target in prop["targetObjects"]:
                for obj in self.tenant.objects[name].values():
                    obj.pop(prop["name"], None)

    def available_extension_properties(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        body = request.json() if request.body.strip() else {}
        synced = body.get("isSyncedFromOnPremises")
        if synced is not None and not isinstance(synced, bool):
            raise bad_request("Invalid value specified for parameter 'isSyncedFromOnPremises'.")
        props = self.tenant.sorted_objects(EXTENSION_PROPERTIES)
        values = [
            {"@odata.type": EXTENSION_PROPERTIES.odata_type, **self._render(EXTENSION_PROPERTIES, p, None)}
            for p in props
            if synced is None or p["isSyncedFromOnPremises"] == synced
        ]
        # The documented context names a collection of the type, not an entity set.
        return GraphResponse(200, {"@odata.context": f"{self.api.base}/$metadata#Collection(extensionProperty)", "value": values})

    # --- directory roles -----------------------------------------------------------------------------------

    def delete_role_definition(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        definition = self.tenant.require(ROLE_DEFINITIONS, params[0])
        if definition["isBuiltIn"]:
            raise built_in_refused()
        users = ("roleAssignments", ROLE_ELIGIBILITY_SCHEDULES.name)
        if any(a["roleDefinitionId"] == definition["id"] for name in users for a in self.tenant.objects[name].values()):
            # A role still assigned cannot go; the status and text are [UNCONFIRMED].
            raise bad_request("The role definition is in use by role assignments; remove them before deleting it.")
        return self.api.delete_object(ROLE_DEFINITIONS, request, params)

    def request_eligibility(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        """POST roleEligibilityScheduleRequests: adminAssign creates an eligibility schedule, adminRemove ends one."""
        spec = ROLE_ELIGIBILITY_REQUESTS
        changes, _ = check_write(spec, request.json(spec.codes.bad_request), None)
        target = check_role_target(self.tenant, changes)
        scope = (changes.get("directoryScopeId"), changes.get("appScopeId"))
        current = next(
            (
                s for s in self.tenant.objects[ROLE_ELIGIBILITY_SCHEDULES.name].values()
                if (s["principalId"], s["roleDefinitionId"]) == (target.principal["id"], target.definition["id"])
                and (s["directoryScopeId"], s["appScopeId"]) == scope
            ),
            None,
        )  # fmt: skip
        assign = changes["action"] == "adminAssign"
        # The PIM service's codes for an eligibility that already exists, or does not [UNCONFIRMED].
        if assign and current is not None:
            raise GraphFault(400, "RoleAssignmentExists", "The Role assignment already exists.")
        if not assign and current is None:
            raise GraphFault(400, "RoleAssignmentDoesNotExist", "The Role assignment does not exist.")
        changes.update({"principalId": target.principal["id"], "roleDefinitionId": target.definition["id"]})
        now = self.tenant.clock.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
        made = self.tenant.create(spec, changes)
        made.update({"createdDateTime": now, "approvalId": None, "createdBy": self._created_by(request)})
        if assign:
            info = schedule_info(changes.get("scheduleInfo"), now)
            made.update({"status": "Provisioned", "completedDateTime": now, "targetScheduleId": made["id"], "scheduleInfo": info})
            made["ticketInfo"] = made["ticketInfo"] or {"ticketNumber": None, "ticketSystem": None}
            if not made.get("isValidationOnly"):
                self.tenant.add(ROLE_ELIGIBILITY_SCHEDULES, eligibility_schedule(made, info, now))
        else:
            made.update({"status": "Revoked", "completedDateTime": None, "targetScheduleId": None, "scheduleInfo": None})
            if current is not None and not made.get("isValidationOnly"):
                self.tenant.delete(ROLE_ELIGIBILITY_SCHEDULES, current)
        made["isValidationOnly"] = bool(made.get("isValidationOnly"))
        return self.api._entity(spec.path, None, self._render(spec, made, None), status=201)

    def _created_by(self, request: GraphRequest) -> dict[str, Any]:
        # App-only callers: the identity set names the application (the docs' example shows a user instead).
        return {"application": {"displayName": None, "id": app_id_of(request)}, "device": None, "user": None}


def schedule_info(requested: Mapping[str, Any] | None, now: str) -> dict[str, Any]:
    """A requestSchedule as Graph stores it: every field present, no expiration meaning none."""
    requested = requested or {}
    expiration = requested.get("expiration") or {}
    return {
        "startDateTime": requested.get("startDateTime") or now,
        "recurrence": None,
        "expiration": {
            "type": expiration.get("type") or "noExpiration",
            "endDateTime": expiration.get("endDateTime"),
            "duration": expiration.get("duration"),
        },
    }


def eligibility_schedule(request: Mapping[str, Any], info: dict[str, Any], created: str) -> dict[str, Any]:
    """The schedule an adminAssign request leaves behind; it takes the request's id (createdUsing names it too)."""
    schedule = blank_object(ROLE_ELIGIBILITY_SCHEDULES)
    schedule.update(
        {
            "id": request["id"],
            "principalId": request["principalId"],
            "roleDefinitionId": request["roleDefinitionId"],
            "directoryScopeId": request.get("directoryScopeId"),
            "appScopeId": request.get("appScopeId"),
            "createdUsing": request["id"],
            "createdDateTime": created,
            "status": "Provisioned",
            "memberType": "Direct",
            "scheduleInfo": info,
        }
    )
    return schedule


# --- the token endpoint's view of federated credentials ------------------------------------------------------


def credential_of(obj: Mapping[str, Any]) -> FederatedCredential:
    return FederatedCredential(obj["name"], obj["issuer"], obj["subject"], tuple(obj["audiences"]))


class FederatedCredentials(MutableSequence[FederatedCredential]):
    """One app's federatedIdentityCredentials as the token endpoint checks assertions against them.

    The tenant's objects are the only copy: a credential added, changed or deleted through Graph counts
    for the next sign-in, and one added here (Federation.add_credential) is listed by Graph. When the app
    is deleted, its credentials go with it and federated sign-in fails, as in Entra. Order is creation order.
    """

    def __init__(self, tenant: Tenant, app_id: str) -> None:
        self.tenant = tenant
        self.app_id = app_id

    def _app(self) -> dict[str, Any] | None:
        return next((a for a in self.tenant.objects["applications"].values() if a["appId"] == self.app_id), None)

    def _objects(self) -> list[dict[str, Any]]:
        with self.tenant.lock:
            app = self._app()
            if app is None:
                return []
            return [c for c in self.tenant.objects[FEDERATED_CREDENTIALS.name].values() if c[PARENT] == app["id"]]

    def __len__(self) -> int:
        return len(self._objects())

    @overload
    def __getitem__(self, index: int) -> FederatedCredential: ...
    @overload
    def __getitem__(self, index: slice) -> MutableSequence[FederatedCredential]: ...
    def __getitem__(self, index: int | slice) -> FederatedCredential | MutableSequence[FederatedCredential]:
        if isinstance(index, slice):
            return [credential_of(obj) for obj in self._objects()[index]]
        return credential_of(self._objects()[index])

    @overload
    def __setitem__(self, index: int, value: FederatedCredential) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[FederatedCredential]) -> None: ...
    def __setitem__(self, index: int | slice, value: FederatedCredential | Iterable[FederatedCredential]) -> None:
        if isinstance(index, slice) or not isinstance(value, FederatedCredential):
            raise TypeError("replace federated credentials one at a time")
        with self.tenant.lock:
            obj = self._objects()[index]
            self.tenant.update(FEDERATED_CREDENTIALS, obj, self._fields(value))

    @overload
    def __delitem__(self, index: int) -> None: ...
    @overload
    def __delitem__(self, index: slice) -> None: ...
    def __delitem__(self, index: int | slice) -> None:
        with self.tenant.lock:
            chosen = self._objects()[index]
            for obj in chosen if isinstance(chosen, list) else [chosen]:
                self.tenant.delete(FEDERATED_CREDENTIALS, obj)

    def insert(self, index: int, value: FederatedCredential) -> None:
        """Adds the credential as POST .../federatedIdentityCredentials would; credentials have no order, so `index` is moot."""
        with self.tenant.lock:
            app = self._app()
            if app is None:
                raise LookupError(f"no application with appId {self.app_id}")
            self.tenant.create(FEDERATED_CREDENTIALS, {**self._fields(value), "description": None, PARENT: app["id"]})

    @staticmethod
    def _fields(value: FederatedCredential) -> dict[str, Any]:
        return {"name": value.name, "issuer": value.issuer, "subject": value.subject, "audiences": list(value.audiences)}
