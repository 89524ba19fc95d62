"""Seeded applications, service principals and administrative units.

They draw from their own random stream (f"{seed}-apps"), so adding them left every user, group and policy
that a seed produced before byte-identical, and the rest of the suite's expectations with them.
"""

from __future__ import annotations

import copy
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from entragit.sim.apps import (
    APPLICATION_DEFAULTS,
    FIRST_PARTY,
    MICROSOFT_GRAPH_APP_ID,
    PORTAL_TAG,
    app_role,
    first_party_fields,
    permission_scope,
    service_principal_fields,
)
from entragit.sim.model import ADMINISTRATIVE_UNITS, APPLICATIONS, SERVICE_PRINCIPALS, USERS, blank_object
from entragit.sim.tenant import Tenant

APP_COUNTS = {"small": 15, "medium": 200, "large": 2000}
AU_COUNTS = {"small": 2, "medium": 4, "large": 4}

APP_NAMES = (
    "Expense Portal", "HR Self Service", "CRM Connector", "Deployment Pipeline", "Payroll Sync", "Support Desk Bot",
    "Marketing Analytics", "Inventory API", "Contract Signing", "Backup Agent", "Monitoring Collector", "Sales Dashboard",
    "Travel Booking", "Learning Portal",
)  # fmt: skip
GRAPH_ROLES = {value: role_id for role_id, value in FIRST_PARTY[MICROSOFT_GRAPH_APP_ID].app_roles}
ENTRAGIT_ROLES = ("User.ReadWrite.All", "Group.ReadWrite.All", "Policy.Read.All", "Application.Read.All")
# (name, description, which users belong)
ADMINISTRATIVE_UNIT_PLAN = (
    ("EMEA", "Users in the EMEA offices", "EMEA"),
    ("Americas", "Users in the Americas offices", "AMER"),
    ("Asia Pacific", "Users in the APAC offices", "APAC"),
    ("External guests", "Guest accounts, managed by the partner team", "Guest"),
)


class _AppSeeder:
    def __init__(self, tenant: Tenant, seed: int, size: str, base_time: datetime) -> None:
        self.rng = random.Random(f"{seed}-apps")
        self.tenant = tenant
        self.size = size
        self.base_time = base_time
        self.users = [u for u in tenant.sorted_objects(USERS) if u["userType"] == "Member" and u["department"]]

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def timestamp(self, after: datetime, max_days: int) -> str:
        moment = after + timedelta(seconds=self.rng.randrange(max_days * 86400))
        return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"

    def build(self, client_id: str, client_secret: str) -> None:
        for first_party in FIRST_PARTY.values():
            self._service_principal(first_party_fields(first_party), [])
        entragit = self._application("entragit backup", client_id, [self.users[0]], api=False)
        entragit["requiredResourceAccess"] = [self._graph_access(ENTRAGIT_ROLES)]
        entragit["passwordCredentials"] = [self._password("entragit", hint=client_secret[:3])]
        for number in range(1, APP_COUNTS[self.size]):
            name = APP_NAMES[(number - 1) % len(APP_NAMES)]
            if number > len(APP_NAMES):
                name = f"{name} {number // len(APP_NAMES) + 1}"
            owners = self.rng.sample(self.users, self.rng.randrange(0, 3))
            self._application(name, self.uuid(), owners, api=self.rng.random() < 0.4)
        units = {
            selector: self._administrative_unit(name, description)
            for name, description, selector in ADMINISTRATIVE_UNIT_PLAN[: AU_COUNTS[self.size]]
        }
        for user in self.tenant.sorted_objects(USERS):
            region = (user.get("onPremisesExtensionAttributes") or {}).get("extensionAttribute2")
            for selector in (region, user["userType"]):
                if selector in units:
                    self.tenant.link("members", units[selector], user["id"])

    def _application(self, name: str, app_id: str, owners: list[dict[str, Any]], api: bool) -> dict[str, Any]:
        app = blank_object(APPLICATIONS)
        app.update(copy.deepcopy(APPLICATION_DEFAULTS))
        slug = name.lower().replace(" ", "-")
        app.update(
            {
                "id": self.uuid(),
                "appId": app_id,
                "displayName": name,
                "createdDateTime": self.timestamp(self.base_time, 900),
                "publisherDomain": self.tenant.domain,
                "signInAudience": "AzureADMultipleOrgs" if self.rng.random() < 0.15 else "AzureADMyOrg",
                "requiredResourceAccess": [self._graph_access(self.rng.sample(sorted(GRAPH_ROLES), 2))],
                "passwordCredentials": [self._password("default") for _ in range(self.rng.randrange(0, 3))],
                "keyCredentials": [self._certificate(name)] if self.rng.random() < 0.3 else [],
            }
        )
        app["web"]["redirectUris"] = [f"https://{slug}.{self.tenant.domain.split('.')[0]}.example.com/signin-oidc"]
        if api:
            app["identifierUris"] = [f"api://{app_id}"]
            app["api"]["oauth2PermissionScopes"] = [permission_scope(self.uuid(), "access_as_user")]
            app["appRoles"] = [app_role(self.uuid(), f"{name.split(' ')[0]}.ReadWrite", ["Application", "User"])]
        self.tenant.add(APPLICATIONS, app)
        for owner in owners:
            self.tenant.link("owners", app["id"], owner["id"])
        # Seeded apps stand for apps registered in the admin center, whose service principals it tags.
        self._service_principal({**service_principal_fields(app, self.tenant.tenant_id), "tags": [PORTAL_TAG]}, owners)
        return app

    def _service_principal(self, fields: dict[str, Any], owners: list[dict[str, Any]]) -> None:
        sp = blank_object(SERVICE_PRINCIPALS)
        sp.update({**fields, "id": self.uuid()})
        self.tenant.add(SERVICE_PRINCIPALS, sp)
        for owner in owners:
            self.tenant.link("owners", sp["id"], owner["id"])

    def _graph_access(self, roles: Any) -> dict[str, Any]:
        return {
            "resourceAppId": MICROSOFT_GRAPH_APP_ID,
            "resourceAccess": [{"id": GRAPH_ROLES[role], "type": "Role"} for role in roles],
        }

    def _password(self, name: str, hint: str | None = None) -> dict[str, Any]:
        start = self.timestamp(self.base_time + timedelta(days=600), 400)
        end = datetime.fromisoformat(start.removesuffix("Z")) + timedelta(days=730)
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        return {
            "customKeyIdentifier": None,
            "displayName": name,
            "endDateTime": end.isoformat(timespec="seconds") + "Z",
            "hint": hint or "".join(self.rng.choice(alphabet) for _ in range(3)),
            "keyId": self.uuid(),
            "secretText": None,  # never readable after addPassword (graph-behaviour §9)
            "startDateTime": start,
        }

    def _certificate(self, name: str) -> dict[str, Any]:
        start = self.timestamp(self.base_time + timedelta(days=500), 300)
        end = datetime.fromisoformat(start.removesuffix("Z")) + timedelta(days=365)
        return {
            "customKeyIdentifier": f"{self.rng.getrandbits(160):040X}",
            "displayName": f"CN={name}",
            "endDateTime": end.isoformat(timespec="seconds") + "Z",
            "key": None,
            "keyId": self.uuid(),
            "startDateTime": start,
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
        }

    def _administrative_unit(self, name: str, description: str) -> str:
        unit = blank_object(ADMINISTRATIVE_UNITS)
        unit.update({"id": self.uuid(), "displayName": name, "description": description})
        self.tenant.add(ADMINISTRATIVE_UNITS, unit)
        return str(unit["id"])

def seed_applications(tenant: Tenant, seed: int, size: str, base_time: datetime, client_id: str, client_secret: str) -> None:
    _AppSeeder(tenant, seed, size, base_time).build(client_id, client_secret)
