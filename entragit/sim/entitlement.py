"""Identity governance objects kept inside others, which the table cannot serve.

A catalog's resources: listed at /identityGovernance/entitlementManagement/catalogs/{id}/resources, and
added or removed only through resource requests (entitlementmanagement-post-resourcerequests): POST
resourceRequests with requestType adminAdd (a resource named by originSystem and originId) or adminRemove
(one named by its id in the catalog). Each catalog keeps its resources in its own object, out of its answers.

An access package's resource role scopes: what it grants, listed at accessPackages/{id}/resourceRoleScopes
(their role and scope only where $expand names them), added there and deleted one by one
(accesspackage-post-resourcerolescopes, accesspackage-delete-resourcerolescopes).

A lifecycle workflow's tasks: made with the workflow, listed at workflows/{id}/tasks, and changed one by one
only in name and description (identitygovernance-task-update); the rest only by a new version.
"""

from __future__ import annotations

import uuid
from typing import Any

from entragit.sim.errors import bad_request, resource_not_found
from entragit.sim.graph import NO_CONTENT, GraphApi, GraphRequest, GraphResponse
from entragit.sim.model import GROUPS, SERVICE_PRINCIPALS, CollectionSpec
from entragit.sim.model_entitlement import (
    ACCESS_PACKAGE_CATALOGS,
    ACCESS_PACKAGES,
    ENTITLEMENT,
    GENERIC_CODES,
    LIFECYCLE_WORKFLOWS,
    RESOURCES,
    ROLE_SCOPES,
    role_scope,
)
from entragit.sim.query import QueryTarget, parse_query, project
from entragit.sim.tenant import utc_now

# The directory objects a resource of each origin names; SharePoint sites are outside the simulated tenant.
ORIGINS: dict[str, CollectionSpec] = {"AadGroup": GROUPS, "AadApplication": SERVICE_PRINCIPALS}
RESOURCE_PROPERTIES = {"id": "str", "displayName": "str", "description": "str", "originId": "str",
                       "originSystem": "str", "attributes": "obj[]", "createdDateTime": "str", "modifiedDateTime": "str"}
TARGET = QueryTarget("microsoft.graph.accessPackageResource", "AccessPackageResource", RESOURCE_PROPERTIES,
                     frozenset({"id", "originId", "originSystem", "displayName"}))
TASK_PROPERTIES = {"id": "str", "displayName": "str", "description": "str", "category": "str", "continueOnError": "bool",
                   "executionSequence": "int", "isEnabled": "bool", "taskDefinitionId": "str", "arguments": "obj[]"}
TASK_TARGET = QueryTarget("microsoft.graph.identityGovernance.task", "Task", TASK_PROPERTIES,
                          frozenset({"id", "displayName", "category"}))
TASK_PATCHED = frozenset({"displayName", "description"})
_ROLE = QueryTarget("microsoft.graph.accessPackageResourceRole", "AccessPackageResourceRole",
                    {"id": "str", "displayName": "str", "description": "str", "originSystem": "str", "originId": "str"},
                    frozenset())
_SCOPE = QueryTarget("microsoft.graph.accessPackageResourceScope", "AccessPackageResourceScope",
                     {"id": "str", "displayName": "str", "description": "str", "originSystem": "str", "originId": "str",
                      "isRootScope": "bool"}, frozenset())
ROLE_SCOPE_TARGET = QueryTarget("microsoft.graph.accessPackageResourceRoleScope", "AccessPackageResourceRoleScope",
                                {"id": "str", "createdDateTime": "str"}, frozenset({"id"}),
                                {"role": _ROLE, "scope": _SCOPE})


class Governance:
    def __init__(self, api: GraphApi) -> None:
        self.api = api
        self.tenant = api.tenant
        catalog = (*ACCESS_PACKAGE_CATALOGS.segments, "{id}")
        api._route((*catalog, RESOURCES), GET=self.list_resources)
        api._route((*ENTITLEMENT.split("/"), "resourceRequests"), POST=self.request)
        tasks = (*LIFECYCLE_WORKFLOWS.segments, "{id}", "tasks")
        api._route(tasks, GET=self.list_tasks)
        api._route((*tasks, "{task}"), GET=self.get_task, PATCH=self.update_task)
        scopes = (*ACCESS_PACKAGES.segments, "{id}", ROLE_SCOPES)
        api._route(scopes, GET=self.list_role_scopes, POST=self.add_role_scope)
        api._route((*scopes, "{scope}"), DELETE=self.remove_role_scope)

    # --- an access package's resource role scopes ------------------------------------------------------

    def _package(self, key: str) -> tuple[str, dict[str, Any]]:
        package = self.tenant.require(ACCESS_PACKAGES, key)
        return f"{ACCESS_PACKAGES.path}('{package['id']}')/{ROLE_SCOPES}", package

    def list_role_scopes(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        path, package = self._package(params[0])
        query = parse_query(request.pairs, ROLE_SCOPE_TARGET, eventual=request.eventual)
        values = []
        for item in package[ROLE_SCOPES]:
            if query.where is None or query.where(item):
                shown = project(item, query.select, ("id", "createdDateTime"), frozenset())
                for name, select in query.expand.items():
                    shown[name] = project(item[name], select, None, frozenset())
                values.append(shown)
        return self.api._collection(request, path, query, values, None, len(values))

    def add_role_scope(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        path, package = self._package(params[0])
        catalog = self.tenant.require(ACCESS_PACKAGE_CATALOGS, package["catalog"]["id"])
        item = role_scope(catalog, request.json(GENERIC_CODES.bad_request), utc_now())
        if any(s["id"] == item["id"] for s in package[ROLE_SCOPES]):
            # The text of this refusal is [UNCONFIRMED].
            raise bad_request("The access package already grants this role at this scope.")
        package[ROLE_SCOPES] = [*package[ROLE_SCOPES], item]
        return self.api._entity(path, None, {"id": item["id"], "createdDateTime": item["createdDateTime"]}, status=201)

    def remove_role_scope(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        _, package = self._package(params[0])
        kept = [s for s in package[ROLE_SCOPES] if s["id"] != params[1].lower()]
        if len(kept) == len(package[ROLE_SCOPES]):
            raise resource_not_found(params[1], GENERIC_CODES.not_found)
        package[ROLE_SCOPES] = kept
        return GraphResponse(NO_CONTENT)

    # --- a workflow's tasks ----------------------------------------------------------------------------

    def _tasks(self, workflow_id: str) -> tuple[str, list[dict[str, Any]]]:
        workflow = self.tenant.require(LIFECYCLE_WORKFLOWS, workflow_id)
        return f"{LIFECYCLE_WORKFLOWS.path}('{workflow['id']}')/tasks", workflow["tasks"]

    def _task(self, params: list[str]) -> tuple[str, dict[str, Any]]:
        path, tasks = self._tasks(params[0])
        found = next((t for t in tasks if t["id"] == params[1].lower()), None)
        if found is None:
            raise resource_not_found(params[1], GENERIC_CODES.not_found)
        return path, found

    def list_tasks(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        path, tasks = self._tasks(params[0])
        query = parse_query(request.pairs, TASK_TARGET, eventual=request.eventual)
        values = [project(t, query.select, None, frozenset()) for t in tasks if query.where is None or query.where(t)]
        return self.api._collection(request, path, query, values, None, len(values))

    def get_task(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        path, task = self._task(params)
        query = parse_query(request.pairs, TASK_TARGET, eventual=request.eventual)
        return self.api._entity(path, query.select, project(task, query.select, None, frozenset()))

    def update_task(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        _, task = self._task(params)
        body = request.json(GENERIC_CODES.bad_request)
        other = sorted(set(body) - TASK_PATCHED)
        if other:
            # The answer to a PATCH of another property is [UNCONFIRMED]; the page sends it to createNewVersion.
            raise bad_request(f"Property '{other[0]}' of a task can be changed only by a new version of the workflow.")
        if any(not isinstance(value, str) for value in body.values()):
            raise bad_request("Invalid value specified for property 'displayName' or 'description'.")
        task.update(body)
        return GraphResponse(NO_CONTENT)

    # --- a catalog's resources -------------------------------------------------------------------------

    def _catalog(self, key: Any) -> dict[str, Any]:
        if not isinstance(key, str):
            raise bad_request("Invalid value specified for property 'catalog'.")
        found = self.tenant.find(ACCESS_PACKAGE_CATALOGS, key)
        if found is None:
            raise resource_not_found(key, GENERIC_CODES.not_found)
        return found

    def list_resources(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        catalog = self._catalog(params[0])
        query = parse_query(request.pairs, TARGET, eventual=request.eventual)
        found = [r for r in catalog[RESOURCES] if query.where is None or query.where(r)]
        values = [project(r, query.select, None, frozenset()) for r in found]
        path = f"{ACCESS_PACKAGE_CATALOGS.path}('{catalog['id']}')/{RESOURCES}"
        return self.api._collection(request, path, query, values, None, len(values))

    def request(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        body = request.json(GENERIC_CODES.bad_request)
        catalog = self._catalog((body.get("catalog") or {}).get("id"))
        named = body.get("resource")
        resource: dict[str, Any] = named if isinstance(named, dict) else {}
        kind = body.get("requestType")
        if kind == "adminAdd":
            self._add(catalog, resource)
        elif kind == "adminRemove":
            self._remove(catalog, resource)
        else:
            # Other request types (adminUpdate) are not modelled.
            raise bad_request("Invalid value specified for property 'requestType'.")
        answer = {"id": str(uuid.uuid4()), "requestType": kind, "state": "delivered"}
        return self.api._entity(f"{ENTITLEMENT}/resourceRequests", None, answer, status=201)

    def _add(self, catalog: dict[str, Any], resource: dict[str, Any]) -> None:
        system, origin = resource.get("originSystem"), str(resource.get("originId") or "").lower()
        spec = ORIGINS.get(str(system))
        named = self.tenant.find(spec, origin) if spec is not None else None
        if named is None:
            raise bad_request(f"The resource '{origin}' of origin system '{system}' was not found.")
        if any(r["originId"] == origin and r["originSystem"] == system for r in catalog[RESOURCES]):
            # The text of this refusal is [UNCONFIRMED].
            raise bad_request("The resource is already in the catalog.")
        now = utc_now()
        catalog[RESOURCES].append({
            "id": str(uuid.uuid4()), "displayName": named.get("displayName"), "description": named.get("description"),
            "originId": origin, "originSystem": system, "attributes": [], "createdDateTime": now,
            "modifiedDateTime": now})

    def _remove(self, catalog: dict[str, Any], resource: dict[str, Any]) -> None:
        kept = [r for r in catalog[RESOURCES] if r["id"] != str(resource.get("id") or "").lower()]
        if len(kept) == len(catalog[RESOURCES]):
            raise resource_not_found(str(resource.get("id")), GENERIC_CODES.not_found)
        catalog[RESOURCES] = kept
