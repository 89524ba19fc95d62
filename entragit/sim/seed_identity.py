"""Seeded identity configuration: directory roles, app role assignments, delegated grants, extensions, federation.

Drawn from its own random stream (f"{seed}-identity") after everything else, so every object an older seed
produced stays byte-identical; it only adds extension values to existing users. Counts follow the tenant's
size: a large tenant (100k users) has ~60 role assignments, ~2k app role assignments and ~500 grants.
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from entragit.sim.apps import MICROSOFT_GRAPH_APP_ID
from entragit.sim.auth import FederatedCredential
from entragit.sim.model import ADMINISTRATIVE_UNITS, APPLICATIONS, GROUPS, SERVICE_PRINCIPALS, USERS, CollectionSpec, blank_object
from entragit.sim.model_identity import (
    APP_ROLE_ASSIGNMENTS,
    BUILT_IN_BY_NAME,
    BUILT_IN_ROLES,
    DEVICES,
    EXTENSION_PROPERTIES,
    FEDERATED_CREDENTIALS,
    OAUTH2_PERMISSION_GRANTS,
    PARENT,
    ROLE_ASSIGNMENTS,
    ROLE_DEFINITIONS,
    ROLE_ELIGIBILITY_SCHEDULES,
    built_in_definition,
    opaque_id,
)
from entragit.sim.tenant import Tenant


@dataclass(frozen=True)
class IdentityPlan:
    helpdesk: int  # Helpdesk Administrators
    tier1: int  # holders of the custom helpdesk role
    service_admins: bool  # Exchange, Teams and Intune administrators
    eligible: int  # PIM eligibility schedules
    consent_share: float  # share of apps whose requested Graph permissions an admin consented to
    grant_share: float  # share of apps with a tenant-wide delegated grant
    user_grants: int  # delegated grants a user gave for themselves
    role_share: float  # share of apps with roles of their own whose roles are given to groups and users
    extension_share: float = 0.3  # users carrying extension values


PLANS = {
    "small": IdentityPlan(helpdesk=3, tier1=2, service_admins=False, eligible=3, consent_share=0.8, grant_share=0.4, user_grants=3, role_share=1.0),
    "medium": IdentityPlan(helpdesk=12, tier1=5, service_admins=True, eligible=6, consent_share=0.5, grant_share=0.3, user_grants=10, role_share=0.8),
    "large": IdentityPlan(helpdesk=30, tier1=10, service_admins=True, eligible=12, consent_share=0.35, grant_share=0.24, user_grants=40, role_share=0.6),
}
DELEGATED_SCOPES = ("openid profile email User.Read", "User.Read offline_access", "openid profile User.Read Mail.Read", "User.Read Calendars.Read")
CUSTOM_HELPDESK = "Helpdesk Tier 1 (custom)"


class _IdentitySeeder:
    def __init__(self, tenant: Tenant, seed: int, size: str, base_time: datetime) -> None:
        self.rng = random.Random(f"{seed}-identity")
        self.tenant = tenant
        self.plan = PLANS[size]
        self.base_time = base_time
        users = tenant.sorted_objects(USERS)
        self.members = [u for u in users if u["userType"] == "Member" and u["department"]]
        self.by_title: dict[str, list[dict[str, Any]]] = {}
        for user in self.members:
            self.by_title.setdefault(user["jobTitle"], []).append(user)
        self.break_glass = [u for u in users if u["userPrincipalName"].startswith("breakglass")]
        self.sps = {sp["appId"]: sp for sp in tenant.sorted_objects(SERVICE_PRINCIPALS)}
        self.apps = tenant.sorted_objects(APPLICATIONS)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def timestamp(self, max_days: int, fraction: bool = False) -> str:
        moment = self.base_time + timedelta(days=600, seconds=self.rng.randrange(max_days * 86400))
        text = moment.replace(tzinfo=None).isoformat(timespec="milliseconds" if fraction else "seconds")
        return f"{text}Z"

    def add(self, spec: CollectionSpec, values: dict[str, Any]) -> dict[str, Any]:
        obj = blank_object(spec)
        obj.update(values)
        self.tenant.add(spec, obj)
        return obj

    def title(self, title: str, count: int) -> list[dict[str, Any]]:
        holders = self.by_title.get(title, [])
        return self.rng.sample(holders, min(count, len(holders)))

    def build(self, client_id: str, federated: tuple[FederatedCredential, ...]) -> None:
        entragit = next(a for a in self.apps if a["appId"] == client_id)
        self._extensions(entragit)
        self._federated(entragit, federated)
        self._app_role_assignments(client_id)
        self._grants()
        self._roles()
        self._devices()

    # --- devices ---------------------------------------------------------------------------------------------

    def _devices(self) -> None:
        """A registered laptop for some members. Seeded last, so that the tenants seeded before devices were
        simulated keep every other value."""
        rng = self.rng
        for user in self.members[: max(2, len(self.members) // 10)]:
            device_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            windows = rng.random() < 0.7
            self.add(DEVICES, {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "accountEnabled": True,
                "alternativeSecurityIds": [{"type": 2, "identityProvider": None, "key": "WDRDNEVGM0ZGMkM="}],
                "deviceId": device_id,
                "deviceVersion": 2,
                "displayName": f"{user['givenName'][:8].upper()}-{'PC' if windows else 'MAC'}{rng.randrange(100, 999)}",
                "isCompliant": rng.random() < 0.8,
                "isManaged": True,
                "operatingSystem": "Windows" if windows else "MacMDM",
                "operatingSystemVersion": "10.0.22631.4317" if windows else "14.6.1",
                "physicalIds": [],
                "profileType": "RegisteredDevice",
                "registrationDateTime": self.timestamp(200),
                "approximateLastSignInDateTime": self.timestamp(230),
                "systemLabels": [],
                "trustType": "AzureAd" if windows else "Workplace",
            })

    # --- directory extensions ----------------------------------------------------------------------------

    def _extensions(self, app: dict[str, Any]) -> None:
        prefix = f"extension_{app['appId'].replace('-', '')}_"
        for name, data_type in (("costCenterCode", "String"), ("clearanceLevel", "Integer")):
            values = {"name": prefix + name, "dataType": data_type, "isMultiValued": False, "targetObjects": ["User"]}
            self.add(EXTENSION_PROPERTIES, {"id": self.uuid(), **values, "appDisplayName": app["displayName"], "isSyncedFromOnPremises": False, PARENT: app["id"]})
        for user in self.members:
            if self.rng.random() < self.plan.extension_share:
                user[prefix + "costCenterCode"] = f"CC-{user['department'][:3].upper()}-{self.rng.randrange(100, 1000)}"
                if self.rng.random() < 0.5:
                    user[prefix + "clearanceLevel"] = self.rng.randrange(1, 5)

    # --- federated identity credentials ------------------------------------------------------------------

    def _federated(self, entragit: dict[str, Any], federated: tuple[FederatedCredential, ...]) -> None:
        for credential in federated:
            self._credential(entragit, credential)
        slug = re.sub(r"[^a-z]", "", self.tenant.organization.lower())
        pipeline = next((a for a in self.apps if a["displayName"] == "Deployment Pipeline"), None)
        if pipeline is not None:
            subject = f"repo:{slug}/deployment-pipeline:environment:production"
            self._credential(pipeline, FederatedCredential("github-production", "https://token.actions.githubusercontent.com", subject))

    def _credential(self, app: dict[str, Any], credential: FederatedCredential) -> None:
        values = {"name": credential.name, "issuer": credential.issuer, "subject": credential.subject, "audiences": list(credential.audiences)}
        self.add(FEDERATED_CREDENTIALS, {"id": self.uuid(), **values, PARENT: app["id"]})

    # --- app role assignments ----------------------------------------------------------------------------

    def _assign_app_role(self, principal: dict[str, Any], principal_type: str, resource: dict[str, Any], role_id: str) -> None:
        self.add(
            APP_ROLE_ASSIGNMENTS,
            {
                "id": opaque_id(principal["id"], self.uuid()),
                "appRoleId": role_id,
                "createdDateTime": self.timestamp(400),
                "principalDisplayName": principal["displayName"],
                "principalId": principal["id"],
                "principalType": principal_type,
                "resourceDisplayName": resource["displayName"],
                "resourceId": resource["id"],
            },
        )

    def _app_role_assignments(self, client_id: str) -> None:
        """Application permissions an admin consented to, and users and groups given the apps' own roles."""
        graph = self.sps[MICROSOFT_GRAPH_APP_ID]
        groups = [g for g in self.tenant.sorted_objects(GROUPS) if not g["groupTypes"]]
        for app in self.apps:
            sp = self.sps[app["appId"]]
            if app["appId"] == client_id or self.rng.random() < self.plan.consent_share:
                for access in app["requiredResourceAccess"]:
                    if access["resourceAppId"] == MICROSOFT_GRAPH_APP_ID:
                        for permission in access["resourceAccess"]:
                            self._assign_app_role(sp, "ServicePrincipal", graph, permission["id"])
            roles = [r for r in sp["appRoles"] if "User" in r["allowedMemberTypes"]]
            if roles and self.rng.random() < self.plan.role_share:
                for group in self.rng.sample(groups, min(len(groups), self.rng.randrange(1, 3))):
                    self._assign_app_role(group, "Group", sp, roles[0]["id"])
                for user in self.rng.sample(self.members, self.rng.randrange(0, 2)):
                    self._assign_app_role(user, "User", sp, roles[0]["id"])

    # --- delegated permission grants ---------------------------------------------------------------------

    def _grants(self) -> None:
        graph = self.sps[MICROSOFT_GRAPH_APP_ID]
        clients = [self.sps[a["appId"]] for a in self.apps]
        for sp in clients:
            if self.rng.random() < self.plan.grant_share:
                self._grant(sp, graph, None)
        for user in self.rng.sample(self.members, self.plan.user_grants):
            self._grant(self.rng.choice(clients), graph, user)

    def _grant(self, client: dict[str, Any], resource: dict[str, Any], user: dict[str, Any] | None) -> None:
        guids = [client["id"], resource["id"], *([user["id"]] if user else [])]
        self.add(
            OAUTH2_PERMISSION_GRANTS,
            {
                "id": opaque_id(*guids),
                "clientId": client["id"],
                "consentType": "Principal" if user else "AllPrincipals",
                "principalId": user["id"] if user else None,
                "resourceId": resource["id"],
                "scope": self.rng.choice(DELEGATED_SCOPES),
            },
        )

    # --- directory roles ---------------------------------------------------------------------------------

    def _roles(self) -> None:
        for role in BUILT_IN_ROLES:
            self.add(ROLE_DEFINITIONS, built_in_definition(role))
        custom = self.add(
            ROLE_DEFINITIONS,
            {
                "id": self.uuid(),
                "description": "Resets passwords and updates contact details of non-admin users.",
                "displayName": CUSTOM_HELPDESK,
                "isBuiltIn": False,
                "isEnabled": True,
                "resourceScopes": ["/"],
                "rolePermissions": [
                    {
                        "allowedResourceActions": ["microsoft.directory/users/password/update", "microsoft.directory/users/basic/update"],
                        "condition": None,
                    }
                ],
                "version": None,
            },
        )
        custom["templateId"] = custom["id"]
        ceo = self.by_title["Chief Executive Officer"][0]
        it_admins = self.title("IT Administrator", 6)
        plan: list[tuple[str, list[dict[str, Any]]]] = [
            ("Global Administrator", [*self.break_glass, ceo]),
            ("Privileged Role Administrator", self.title("COO", 1)),
            ("Security Administrator", it_admins[:1]),
            ("Conditional Access Administrator", it_admins[1:2]),
            ("Groups Administrator", it_admins[2:3]),
            ("User Administrator", self.title("HR Director", 1)),
            ("Application Administrator", self.title("VP Engineering", 1)),
            ("Global Reader", self.title("Chief Financial Officer", 1)),
            ("Helpdesk Administrator", self.title("Support Team Lead", self.plan.helpdesk)),
        ]
        if self.plan.service_admins:
            plan += [(name, it_admins[3:4]) for name in ("Exchange Administrator", "Teams Administrator", "Intune Administrator")]
        for name, principals in plan:
            for principal in principals:
                self._role_assignment(BUILT_IN_BY_NAME[name].template_id, principal, None)
        for principal in self.title("Support Engineer", self.plan.tier1):
            self._role_assignment(custom["id"], principal, None)
        # A regional user administrator per administrative unit: a scoped assignment.
        for unit in self.tenant.sorted_objects(ADMINISTRATIVE_UNITS):
            self._role_assignment(BUILT_IN_BY_NAME["User Administrator"].template_id, self.rng.choice(it_admins or self.members), unit["id"])
        self._eligibility(it_admins)

    def _role_assignment(self, definition_id: str, principal: dict[str, Any], unit_id: str | None) -> None:
        scope = f"/administrativeUnits/{unit_id}" if unit_id else "/"
        assignment_id = opaque_id(definition_id, principal["id"], *([unit_id] if unit_id else []), suffix="-1")
        if assignment_id not in self.tenant.objects[ROLE_ASSIGNMENTS.name]:
            values = {"id": assignment_id, "principalId": principal["id"], "roleDefinitionId": definition_id, "directoryScopeId": scope}
            self.add(ROLE_ASSIGNMENTS, values)

    def _eligibility(self, it_admins: list[dict[str, Any]]) -> None:
        """Standing access replaced by PIM: admins eligible for roles they activate when needed."""
        eligible_roles = ("Global Administrator", "Privileged Role Administrator", "Security Administrator", "Exchange Administrator")
        candidates = it_admins + self.title("Site Reliability Engineer", self.plan.eligible)
        for number in range(self.plan.eligible):
            principal = candidates[number % len(candidates)]
            role = BUILT_IN_BY_NAME[eligible_roles[number % len(eligible_roles)]]
            if any(s["principalId"] == principal["id"] and s["roleDefinitionId"] == role.template_id for s in self.tenant.objects[ROLE_ELIGIBILITY_SCHEDULES.name].values()):
                continue
            schedule_id = self.uuid()
            start = self.timestamp(300, fraction=True)
            end = datetime.fromisoformat(start.removesuffix("Z")) + timedelta(days=365)
            expiration = (
                {"type": "noExpiration", "endDateTime": None, "duration": None}
                if number % 2 == 0
                else {"type": "afterDateTime", "endDateTime": end.isoformat(timespec="seconds") + "Z", "duration": None}
            )
            self.add(
                ROLE_ELIGIBILITY_SCHEDULES,
                {
                    "id": schedule_id,
                    "principalId": principal["id"],
                    "roleDefinitionId": role.template_id,
                    "directoryScopeId": "/",
                    "appScopeId": None,
                    "createdUsing": schedule_id,
                    "createdDateTime": start,
                    "modifiedDateTime": None,
                    "status": "Provisioned",
                    "memberType": "Direct",
                    "scheduleInfo": {"startDateTime": start, "recurrence": None, "expiration": expiration},
                },
            )


def seed_identity(tenant: Tenant, seed: int, size: str, base_time: datetime, client_id: str, federated: tuple[FederatedCredential, ...]) -> None:
    _IdentitySeeder(tenant, seed, size, base_time).build(client_id, federated)
