"""/directoryRoles: the built-in roles activated in the tenant, read-only, derived from its role assignments.

Graph keeps a directoryRole object for every built-in role that has ever been assigned (directoryrole.md);
its members are the principals assigned the role tenant-wide. The simulator derives both from the
roleAssignments store on every request, so they can never disagree with /roleManagement/directory: a role
is activated when a tenant-wide assignment names it, and Global Administrator always is (a tenant is born
with one). A role's object id is its own, not the template id (directoryrole-get shows both).
"""

from __future__ import annotations

import uuid
from typing import Any

from entragit.sim.errors import resource_not_found
from entragit.sim.graph import GraphApi, GraphRequest, GraphResponse
from entragit.sim.model import Relationship
from entragit.sim.model_identity import BUILT_IN_BY_NAME, ROLE_ASSIGNMENTS, ROLE_DEFINITIONS
from entragit.sim.query import QueryTarget, page_size_for, paginate, parse_query, project
from entragit.sim.tenant import Tenant

PATH = "directoryRoles"
ODATA_TYPE = "#microsoft.graph.directoryRole"
PROPERTIES = {"id": "str", "deletedDateTime": "str", "description": "str", "displayName": "str", "roleTemplateId": "str"}
TARGET = QueryTarget(ODATA_TYPE.removeprefix("#"), "DirectoryRole", PROPERTIES, frozenset({"id", "roleTemplateId", "displayName"}))
ALWAYS_ACTIVE = BUILT_IN_BY_NAME["Global Administrator"].template_id
TENANT_WIDE = "/"
# What $select and $filter on a role's members accept: the properties of any principal a role is assigned to.
# Served from the assignments, never from a link table of its own.
MEMBERS = Relationship("members", link="", target_collections=("users", "groups", "servicePrincipals"))


def role_id(tenant: Tenant, template_id: str) -> str:
    """A stable object id of the role in this tenant, other than its template id."""
    return str(uuid.uuid5(uuid.UUID(tenant.tenant_id), template_id))


class DirectoryRoles:
    def __init__(self, api: GraphApi) -> None:
        self.api = api
        self.tenant = api.tenant
        api._route((PATH,), GET=self.list_roles)
        api._route((PATH, "{id}"), GET=self.get_role)
        api._route((PATH, "{id}", "members"), GET=self.list_members)
        # /directoryRoles(roleTemplateId='…'), as directoryrole-get documents it.
        api.alternate_keys[(PATH.lower(), "roletemplateid")] = self._by_template

    def _by_template(self, template_id: str) -> str | None:
        return next((role["id"] for role in self._roles() if role["roleTemplateId"] == template_id.lower()), None)

    def _holders(self) -> dict[str, list[str]]:
        """Template id -> principal ids assigned it tenant-wide, for every activated built-in role."""
        holders: dict[str, list[str]] = {ALWAYS_ACTIVE: []}
        for assignment in self.tenant.sorted_objects(ROLE_ASSIGNMENTS):
            definition = self.tenant.objects[ROLE_DEFINITIONS.name].get(assignment["roleDefinitionId"])
            if definition and definition["isBuiltIn"] and assignment["directoryScopeId"] == TENANT_WIDE:
                holders.setdefault(definition["templateId"], []).append(assignment["principalId"])
        return holders

    def _roles(self) -> list[dict[str, Any]]:
        definitions = self.tenant.objects[ROLE_DEFINITIONS.name]
        roles = [{"id": role_id(self.tenant, template), "deletedDateTime": None,
                  "description": definitions[template]["description"], "displayName": definitions[template]["displayName"],
                  "roleTemplateId": template} for template in self._holders() if template in definitions]
        return sorted(roles, key=lambda role: role["id"])

    def _role(self, key: str) -> dict[str, Any]:
        found = next((role for role in self._roles() if role["id"] == key.lower()), None)
        if found is None:
            raise resource_not_found(key)
        return found

    def list_roles(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        query = parse_query(request.pairs, TARGET, eventual=request.eventual)
        roles = [role for role in self._roles() if query.where is None or query.where(role)]
        values = [project(role, query.select, None, frozenset()) for role in roles]
        return self.api._collection(request, PATH, query, values, None, len(values))

    def get_role(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        query = parse_query(request.pairs, TARGET, eventual=request.eventual)
        return self.api._entity(PATH, query.select, project(self._role(params[0]), query.select, None, frozenset()))

    def list_members(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        role = self._role(params[0])
        principals = [found for principal in dict.fromkeys(self._holders()[role["roleTemplateId"]])
                      if (found := self.tenant.directory_object(principal)) is not None]
        query = parse_query(request.pairs, self.api._union_target(MEMBERS), eventual=request.eventual)
        size = page_size_for(query, self.api.settings.default_page_size, True)
        page, token = paginate(principals, query, size, key=lambda item: str(item[1]["id"]), rules=self.api._page_rules())
        values = [self.api._render(spec, obj, query, typed=True) for spec, obj in page]
        return self.api._collection(request, "directoryObjects", query, values, token, len(principals))
