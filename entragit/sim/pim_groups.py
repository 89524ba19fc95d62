"""Routes for PIM for groups (model_pim_groups.py) beyond the generic ones of graph.py.

Schedules are listed only with a $filter on a group or a principal; a request (adminAssign, adminRemove)
makes or ends the schedule of one principal's membership or ownership of one group
(privilegedaccessgroup-post-eligibilityschedulerequests, -assignmentschedulerequests).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from entragit.sim.errors import GraphFault, bad_request
from entragit.sim.gateway import app_id_of, token_claims
from entragit.sim.graph import GraphApi, GraphRequest, GraphResponse, Handler
from entragit.sim.identity import schedule_info
from entragit.sim.model import GROUPS, CollectionSpec, blank_object, check_write
from entragit.sim.model_pim import ROLE_MANAGEMENT_POLICIES, ROLE_MANAGEMENT_POLICY_ASSIGNMENTS
from entragit.sim.model_pim_groups import (
    GROUP_ASSIGNMENT_REQUESTS,
    GROUP_ASSIGNMENT_SCHEDULES,
    GROUP_ELIGIBILITY_REQUESTS,
    GROUP_ELIGIBILITY_SCHEDULES,
)
from entragit.sim.permissions import DIRECTORY_POLICIES, GROUP_POLICIES, permits, refused
from entragit.sim.query import page_size_for, paginate, parse_query, project, target_for

_PRINCIPALS = ("users", "groups", "servicePrincipals")


class PimGroupsApi:
    def __init__(self, api: GraphApi) -> None:
        self.api = api
        self.tenant = api.tenant
        for schedules, requests in ((GROUP_ELIGIBILITY_SCHEDULES, GROUP_ELIGIBILITY_REQUESTS),
                                    (GROUP_ASSIGNMENT_SCHEDULES, GROUP_ASSIGNMENT_REQUESTS)):
            self._methods(schedules.segments)["GET"] = partial(self.list_schedules, schedules)
            self._methods(requests.segments)["POST"] = partial(self.request, requests, schedules)

        policies = ROLE_MANAGEMENT_POLICIES.segments
        for template in (policies, ROLE_MANAGEMENT_POLICY_ASSIGNMENTS.segments, (*policies, "{id}"),
                         (*policies, "{id}", "rules"), (*policies, "{id}", "rules", "{rule}")):
            methods = self._methods(template)
            for method, handler in methods.items():
                methods[method] = partial(self._scoped, handler)

    def _scoped(self, handler: Handler, request: GraphRequest, params: list[str]) -> GraphResponse:
        """A role management policy's call, allowed by the permissions of its scope: groups' for a group's
        policies, the directory's for a role's (the path lets either through)."""
        if params:
            policy = self.tenant.objects[ROLE_MANAGEMENT_POLICIES.name].get(params[0])
            group = policy is not None and policy["scopeType"] == "Group"
        else:
            text = next((v for k, v in request.pairs if k.lower() == "$filter"), "").lower().replace(" ", "")
            group = "scopetypeeq'group'" in text
        if not permits(GROUP_POLICIES if group else DIRECTORY_POLICIES, request.method, token_claims(request)):
            raise refused(request.segments)
        return handler(request, params)

    def _methods(self, template: tuple[str, ...]) -> dict[str, Handler]:
        return next(methods for route, methods in self.api.routes if route == template)

    def list_schedules(self, spec: CollectionSpec, request: GraphRequest, params: list[str]) -> GraphResponse:
        query = parse_query(request.pairs, target_for(spec, with_expand=False), eventual=request.eventual)
        text = next((v for k, v in request.pairs if k.lower() == "$filter"), "").lower()
        if query.where is None or not ("groupid" in text or "principalid" in text):
            # "This method requires the $filter (eq) query parameter to scope the request to a principalId or a
            # groupId" (privilegedaccessgroup-list-eligibilityschedules); Graph's wording is [UNCONFIRMED].
            raise bad_request("The $filter query parameter must name a groupId or a principalId.")
        items = [obj for obj in self.tenant.sorted_objects(spec) if query.where(obj)]
        page, token = paginate(items, query, page_size_for(query, 0, False), rules=self.api._page_rules())
        values = [project(obj, query.select, spec.default_properties) for obj in page]
        return self.api._collection(request, spec.path, query, values, token, len(items))

    def request(self, spec: CollectionSpec, schedules: CollectionSpec, request: GraphRequest,
                params: list[str]) -> GraphResponse:
        changes, _ = check_write(spec, request.json(spec.codes.bad_request), None)
        group = self.tenant.objects[GROUPS.name].get(changes["groupId"])
        if group is None:
            raise bad_request(f"The group '{changes['groupId']}' does not exist.")
        if not any(changes["principalId"] in self.tenant.objects[name] for name in _PRINCIPALS):
            raise bad_request(f"The principal '{changes['principalId']}' does not exist.")
        key = (changes["principalId"], changes["groupId"], changes["accessId"])
        current = next((s for s in self.tenant.objects[schedules.name].values()
                        if (s["principalId"], s["groupId"], s["accessId"]) == key), None)
        assign = changes["action"] == "adminAssign"
        # The PIM service's codes for a schedule that already exists, or does not [UNCONFIRMED].
        if assign and current is not None:
            raise GraphFault(400, "RoleAssignmentExists", "The Role assignment already exists.")
        if not assign and current is None:
            raise GraphFault(400, "RoleAssignmentDoesNotExist", "The Role assignment does not exist.")
        now = self.tenant.clock.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
        made = self.tenant.create(spec, changes)
        made.update({"createdDateTime": now, "approvalId": None, "isValidationOnly": bool(made.get("isValidationOnly")),
                     "createdBy": {"application": {"displayName": None, "id": app_id_of(request)}, "device": None,
                                   "user": None}})
        if assign:
            info = schedule_info(changes.get("scheduleInfo"), now)
            # The schedule's id is the group's, the access and the request's (the create page's example).
            target = f"{changes['groupId']}_{changes['accessId']}_{made['id']}"
            made.update({"status": "Provisioned", "completedDateTime": now, "targetScheduleId": target,
                         "scheduleInfo": info})
            if not made["isValidationOnly"]:
                self.tenant.add(schedules, _schedule(schedules, made, target, info, now))
        else:
            made.update({"status": "Revoked", "completedDateTime": None, "targetScheduleId": None,
                         "scheduleInfo": None})
            if current is not None and not made["isValidationOnly"]:
                self.tenant.delete(schedules, current)
        return self.api._entity(spec.path, None, project(made, None, spec.default_properties), status=201)


def _schedule(spec: CollectionSpec, request: dict[str, Any], schedule_id: str, info: dict[str, Any],
              created: str) -> dict[str, Any]:
    schedule = blank_object(spec)
    schedule.update({"id": schedule_id, "accessId": request["accessId"], "groupId": request["groupId"],
                     "principalId": request["principalId"], "memberType": "Direct", "status": "Provisioned",
                     "scheduleInfo": info, "createdUsing": request["id"], "createdDateTime": created})
    if "assignmentType" in spec.properties:
        schedule["assignmentType"] = "Assigned"
    return schedule
