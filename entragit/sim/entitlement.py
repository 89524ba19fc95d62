"""A catalog's resources: listed at /identityGovernance/entitlementManagement/catalogs/{id}/resources, and
added or removed only through resource requests (entitlementmanagement-post-resourcerequests): POST
resourceRequests with requestType adminAdd (a resource named by originSystem and originId) or adminRemove
(one named by its id in the catalog). Each catalog keeps its resources in its own object, out of its answers.
"""

from __future__ import annotations

import uuid
from typing import Any

from entragit.sim.errors import bad_request, resource_not_found
from entragit.sim.graph import GraphApi, GraphRequest, GraphResponse
from entragit.sim.model import GROUPS, SERVICE_PRINCIPALS, CollectionSpec
from entragit.sim.model_entitlement import ACCESS_PACKAGE_CATALOGS, ENTITLEMENT, GENERIC_CODES, RESOURCES
from entragit.sim.query import QueryTarget, parse_query, project
from entragit.sim.tenant import utc_now

# The directory objects a resource of each origin names; SharePoint sites are outside the simulated tenant.
ORIGINS: dict[str, CollectionSpec] = {"AadGroup": GROUPS, "AadApplication": SERVICE_PRINCIPALS}
RESOURCE_PROPERTIES = {"id": "str", "displayName": "str", "description": "str", "originId": "str",
                       "originSystem": "str", "attributes": "obj[]", "createdDateTime": "str", "modifiedDateTime": "str"}
TARGET = QueryTarget("microsoft.graph.accessPackageResource", "AccessPackageResource", RESOURCE_PROPERTIES,
                     frozenset({"id", "originId", "originSystem", "displayName"}))


class ResourceRequests:
    def __init__(self, api: GraphApi) -> None:
        self.api = api
        self.tenant = api.tenant
        catalog = (*ACCESS_PACKAGE_CATALOGS.segments, "{id}")
        api._route((*catalog, RESOURCES), GET=self.list_resources)
        api._route((*ENTITLEMENT.split("/"), "resourceRequests"), POST=self.request)

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
