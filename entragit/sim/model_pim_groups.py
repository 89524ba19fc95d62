"""PIM for groups as Graph v1.0 serves it: eligibility and assignment schedules of group membership and
ownership, and the schedule requests that make and end them.

Shapes from the resource pages (learn.microsoft.com/graph/api/resources/privilegedaccessgroupeligibilityschedule,
privilegedaccessgroupassignmentschedule, privilegedaccessgroupeligibilityschedulerequest,
privilegedaccessgroupassignmentschedulerequest). The schedules are listed with a $filter on a group or a
principal only (privilegedaccessgroup-list-eligibilityschedules); pim_groups.py serves those lists and the
requests. A group's PIM settings are role management policies of scopeType Group, in model_pim.py's collection.
"""

from __future__ import annotations

from typing import Any

from entragit.sim.errors import bad_request
from entragit.sim.model import BOOL, OBJ, STR, CollectionSpec

READ_ONLY = frozenset({"GET"})
BASE = "identityGovernance/privilegedAccess/group"
ACCESS_IDS = ("member", "owner")

_SCHEDULE_PROPERTIES = {"id": STR, "accessId": STR, "groupId": STR, "principalId": STR, "memberType": STR,
                        "scheduleInfo": OBJ, "status": STR, "createdUsing": STR, "createdDateTime": STR,
                        "modifiedDateTime": STR}


def _named(segment: str) -> str:
    """The collection's name in the simulator: its segment, marked as PIM for groups' (groupEligibilitySchedules)."""
    return "group" + segment[:1].upper() + segment[1:]


def _schedules(segment: str, entity: str, properties: dict[str, str]) -> CollectionSpec:
    """Schedules are written through their requests only, never at their own path."""
    return CollectionSpec(name=_named(segment), path=f"{BASE}/{segment}", odata_type=f"#microsoft.graph.{entity}",
                          properties=properties, read_only=frozenset(properties), paged_by_default=False,
                          filterable=frozenset({"id", "groupId", "principalId", "accessId"}),
                          collection_methods=READ_ONLY, item_methods=READ_ONLY)


GROUP_ELIGIBILITY_SCHEDULES = _schedules("eligibilitySchedules", "privilegedAccessGroupEligibilitySchedule",
                                         _SCHEDULE_PROPERTIES)
# assignmentType: Assigned (by an administrator) or Activated (an eligible principal's activation).
GROUP_ASSIGNMENT_SCHEDULES = _schedules("assignmentSchedules", "privilegedAccessGroupAssignmentSchedule",
                                        {**_SCHEDULE_PROPERTIES, "assignmentType": STR})

# What privilegedaccessgroup-post-eligibilityschedulerequests names; the simulator carries out the
# administrator's assign and remove only (the others answer 400).
ACTIONS = ("adminAssign", "adminRemove")
ALL_ACTIONS = (*ACTIONS, "adminUpdate", "adminExtend", "adminRenew", "selfActivate", "selfDeactivate", "selfExtend",
               "selfRenew")


def _validate_request(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    # The create page's example sends "AdminAssign"; the answer has "adminAssign" [UNCONFIRMED: any case].
    action = next((a for a in ALL_ACTIONS if a.lower() == str(changes.get("action")).lower()), None)
    if action is None:
        raise bad_request("Invalid value specified for property 'action'.")
    if action not in ACTIONS:
        raise bad_request(f"The simulated tenant supports the actions {', '.join(ACTIONS)} only, not '{action}'.")
    changes["action"] = action
    if action == "adminAssign" and not changes.get("scheduleInfo"):
        raise bad_request("Invalid value specified for property 'scheduleInfo'.")
    if changes.get("accessId") not in ACCESS_IDS:
        raise bad_request("Invalid value specified for property 'accessId': one of member, owner.")
    expiration = (changes.get("scheduleInfo") or {}).get("expiration") or {}
    kind = str(expiration.get("type") or "noExpiration")
    kind = kind[:1].lower() + kind[1:]
    if kind not in ("noExpiration", "afterDateTime", "afterDuration"):
        raise bad_request("Invalid value specified for property 'scheduleInfo.expiration.type'.")
    if expiration:
        expiration["type"] = kind


def _requests(segment: str, entity: str) -> CollectionSpec:
    return CollectionSpec(
        name=_named(segment), path=f"{BASE}/{segment}", odata_type=f"#microsoft.graph.{entity}",
        properties={"id": STR, "status": STR, "createdDateTime": STR, "completedDateTime": STR, "approvalId": STR,
                    "customData": STR, "action": STR, "accessId": STR, "groupId": STR, "principalId": STR,
                    "isValidationOnly": BOOL, "targetScheduleId": STR, "justification": STR, "createdBy": OBJ,
                    "scheduleInfo": OBJ, "ticketInfo": OBJ},
        read_only=frozenset({"id", "status", "createdDateTime", "completedDateTime", "approvalId", "targetScheduleId",
                             "createdBy"}),
        # "Required" on the create page: accessId, action, groupId, principalId, and scheduleInfo, which a
        # removal does without (the role eligibility request's adminRemove example sends none) [UNCONFIRMED].
        required_on_create=("accessId", "action", "groupId", "principalId"),
        filterable=frozenset({"id", "groupId", "principalId", "accessId", "action", "status"}),
        paged_by_default=False, validate=_validate_request,
        collection_methods=frozenset({"GET", "POST"}), item_methods=READ_ONLY,
    )


GROUP_ELIGIBILITY_REQUESTS = _requests("eligibilityScheduleRequests", "privilegedAccessGroupEligibilityScheduleRequest")
GROUP_ASSIGNMENT_REQUESTS = _requests("assignmentScheduleRequests", "privilegedAccessGroupAssignmentScheduleRequest")

PIM_GROUP_COLLECTIONS: tuple[CollectionSpec, ...] = (
    GROUP_ELIGIBILITY_SCHEDULES, GROUP_ASSIGNMENT_SCHEDULES, GROUP_ELIGIBILITY_REQUESTS, GROUP_ASSIGNMENT_REQUESTS,
)
