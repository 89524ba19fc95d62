"""Seeded PIM for groups: two role-assignable groups governed by PIM, in every size, with their PIM settings
(role management policies of scopeType Group, one for membership and one for ownership), eligible members
and owners, and an assigned owner.

They draw from their own random stream (f"{seed}-pim-groups") and come after everything else, so every object a
seed produced before stays byte-identical. The policies' rules are those of a directory role (seed_pim.py):
the privileged group's activation needs approval, the other's MFA only.
"""

from __future__ import annotations

import random
from typing import Any

from entragit.sim.model import GROUPS, USERS, CollectionSpec
from entragit.sim.model_pim import ROLE_MANAGEMENT_POLICIES, ROLE_MANAGEMENT_POLICY_ASSIGNMENTS, RULES
from entragit.sim.model_pim_groups import ACCESS_IDS, GROUP_ASSIGNMENT_SCHEDULES, GROUP_ELIGIBILITY_SCHEDULES
from entragit.sim.seed_pim import _PimSeeder, role_rules
from entragit.sim.tenant import Tenant, security_identifier

CREATED = "2021-06-01T09:00:00Z"
# The group of Microsoft's examples (privilegedaccessgroup-list-eligibilityschedules), so that the conformance
# corpus sends their URLs as they are; the other group's id comes from the seed.
DOCUMENTED_GROUP = "2b5ed229-4072-478d-9504-a047ebd4b07d"
# (name, nickname, whether activation needs approval)
PIM_GROUPS = (("PIM Tier 0 Admins", "PIMTier0Admins", True), ("PIM Helpdesk Operators", "PIMHelpdeskOperators", False))


class _Seeder(_PimSeeder):
    def __init__(self, tenant: Tenant, seed: int) -> None:
        super().__init__(tenant, seed)
        self.rng = random.Random(f"{seed}-pim-groups")

    def build(self) -> None:
        people = self.tenant.sorted_objects(USERS)
        approver, members = people[0], people[1:4]
        for (name, nickname, strict), group_id in zip(PIM_GROUPS, (DOCUMENTED_GROUP, self.uuid())):
            group = self.add(GROUPS, {
                "id": group_id, "securityIdentifier": security_identifier(group_id), "createdDateTime": CREATED,
                "renewedDateTime": CREATED, "displayName": name,
                "description": "Membership through PIM only", "mailEnabled": False, "mailNickname": nickname,
                "securityEnabled": True, "isAssignableToRole": True, "visibility": "Private",
            })
            # A group in PIM has two policies, one for its membership and one for its ownership, and an
            # assignment of each (policyroot-list-rolemanagementpolicyassignments, scopeType Group).
            for access in ACCESS_IDS:
                policy_id = f"Group_{group['id']}_{self.uuid()}"
                self.add(ROLE_MANAGEMENT_POLICIES, {
                    "id": policy_id, "displayName": "Group", "description": "Group", "isOrganizationDefault": False,
                    "scopeId": group["id"], "scopeType": "Group", "lastModifiedBy": {"displayName": None, "id": None},
                    RULES: role_rules(strict, approver["id"]),
                })
                self.add(ROLE_MANAGEMENT_POLICY_ASSIGNMENTS, {
                    "id": f"{policy_id}_{access}", "policyId": policy_id, "roleDefinitionId": access,
                    "scopeId": group["id"], "scopeType": "Group",
                })
            for person, access in zip(members, ("member", "member", "owner")):
                self._schedule(GROUP_ELIGIBILITY_SCHEDULES, group, person, access)
            self._schedule(GROUP_ASSIGNMENT_SCHEDULES, group, approver, "owner", assignmentType="Assigned")

    def _schedule(self, spec: CollectionSpec, group: dict[str, Any], person: dict[str, Any], access: str,
                  **more: Any) -> None:
        request = self.uuid()
        self.add(spec, {
            "id": f"{group['id']}_{access}_{request}", "accessId": access, "groupId": group["id"],
            "principalId": person["id"], "memberType": "Direct", "status": "Provisioned", "createdUsing": request,
            "createdDateTime": CREATED, "modifiedDateTime": "0001-01-01T08:00:00Z",
            "scheduleInfo": {"startDateTime": CREATED, "recurrence": None,
                             "expiration": {"type": "noExpiration", "endDateTime": None, "duration": None}},
            **more,
        })


def seed_pim_groups(tenant: Tenant, seed: int) -> None:
    _Seeder(tenant, seed).build()
