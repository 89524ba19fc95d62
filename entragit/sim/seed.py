"""Seeded, reproducible tenants: the same seed and size give byte-identical objects.

Everything random comes from one random.Random(seed), ids included, and every timestamp is an offset from a
fixed base, so a snapshot taken of two simulators with one seed is the same snapshot. Objects added in later
releases draw from streams of their own (random.Random(f"{seed}-<name>")) and come last, so that what a seed
produced before stays byte-identical.
"""

from __future__ import annotations

import base64
import random
import re
import string
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from entragit.sim.auth import FederatedCredential
from entragit.sim.model import (
    CA_POLICIES,
    COUNTRY_NAMED_LOCATION,
    EXTENSION_ATTRIBUTES,
    GROUPS,
    IP_NAMED_LOCATION,
    NAMED_LOCATIONS,
    USERS,
    blank_object,
)
from entragit.sim.seed_app_policies import seed_app_policies
from entragit.sim.seed_apps import seed_applications
from entragit.sim.seed_apps_access import seed_apps_access
from entragit.sim.seed_declared import seed_declared
from entragit.sim.seed_entitlement import seed_entitlement
from entragit.sim.seed_identity import seed_identity
from entragit.sim.seed_pim import seed_pim
from entragit.sim.seed_pim_groups import seed_pim_groups
from entragit.sim.seed_policies import seed_policies
from entragit.sim.seed_protected_actions import seed_protected_actions
from entragit.sim.seed_tenant_signin import seed_tenant_signin
from entragit.sim.seed_tenant_config import seed_tenant_config
from entragit.sim.tenant import Tenant, security_identifier

BASE_TIME = datetime(2021, 3, 1, 8, 0, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class SizePlan:
    users: int
    guests: int
    project_groups: int


SIZES: dict[str, SizePlan] = {
    "small": SizePlan(users=200, guests=2, project_groups=0),
    "medium": SizePlan(users=5000, guests=25, project_groups=80),
    "large": SizePlan(users=100_000, guests=400, project_groups=19_900),
}
EMPTY = "empty"


@dataclass(frozen=True)
class Department:
    name: str
    weight: int
    head_title: str
    titles: tuple[str, ...]
    app_groups: tuple[str, ...]
    dynamic: bool


DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "Sales",
        18,
        "VP Sales",
        ("Account Executive", "Sales Development Representative", "Sales Engineer", "Regional Sales Manager"),
        ("CRM Users", "Contract Approvers"),
        True,
    ),
    Department(
        "Engineering",
        24,
        "VP Engineering",
        ("Software Engineer", "Senior Software Engineer", "Site Reliability Engineer", "Engineering Manager", "QA Engineer"),
        ("GitHub Enterprise Users", "Production Access"),
        True,
    ),
    Department("Finance", 10, "Chief Financial Officer", ("Financial Analyst", "Accountant", "Controller"), ("SAP Users", "Payment Approvers"), False),
    Department("HR", 7, "HR Director", ("HR Business Partner", "Recruiter", "Payroll Specialist"), ("Workday Admins",), False),
    Department("Marketing", 11, "CMO", ("Marketing Manager", "Content Strategist", "Product Marketing Manager", "Designer"), ("Adobe Creative Cloud",), False),
    Department("Support", 19, "Head of Support", ("Support Engineer", "Customer Success Manager", "Support Team Lead"), ("Zendesk Agents",), True),
    Department("Operations", 11, "COO", ("Operations Analyst", "Facilities Coordinator", "IT Administrator", "Procurement Specialist"), ("ServiceNow Users",), False),
)

# region -> (city, country, usageLocation, phone prefix, preferredLanguage)
OFFICES: dict[str, tuple[tuple[str, str, str, str, str], ...]] = {
    "EMEA": (
        ("London", "United Kingdom", "GB", "+44 20 7946 ", "en-GB"),
        ("Amsterdam", "Netherlands", "NL", "+31 20 555 ", "nl-NL"),
        ("Berlin", "Germany", "DE", "+49 30 5555 ", "de-DE"),
    ),
    "AMER": (
        ("Seattle", "United States", "US", "+1 206 555 ", "en-US"),
        ("Toronto", "Canada", "CA", "+1 416 555 ", "en-CA"),
    ),
    "APAC": (
        ("Singapore", "Singapore", "SG", "+65 6555 ", "en-SG"),
        ("Sydney", "Australia", "AU", "+61 2 5550 ", "en-AU"),
    ),
}
REGION_WEIGHTS = (("EMEA", 40), ("AMER", 42), ("APAC", 18))

ORGANIZATIONS = ("Contoso", "Fabrikam", "Northwind Traders", "Tailspin Toys", "Wingtip Toys", "Adatum", "Litware", "Proseware")

GIVEN_NAMES = (
    "Adele Alex Allan Amara Ana Anil Ben Bianca Carlos Chen Chloe Dana Daniel Diego Elena Emma Farah Felix Grace "
    "Hannah Hiro Ines Isaac Ivan Jade James Jasmine Johan Julia Kai Karin Kenji Lara Leo Lidia Lina Lucas Maya Megan "
    "Mei Miguel Mira Nadia Nestor Noah Olga Omar Patti Pradeep Priya Rafael Raul Rosa Sam Sara Sven Tara Tomas Uma "
    "Victor Wei Yara Yusuf Zoe"
).split()
SURNAMES = (
    "Adams Ahmed Andersen Bauer Becker Brooks Campbell Chen Costa Dubois Eriksson Fernandez Fischer Garcia Gupta Hansen "
    "Haddad Ito Jensen Johnson Kaur Khan Kim Kowalski Larsen Lopez Martin Meyer Moreau Murphy Nakamura Nguyen Novak "
    "Okafor Olsen Patel Peralta Petrov Quinn Rossi Sato Schmidt Silva Singh Smith Sousa Tanaka Taylor Thomas Varga "
    "Vega Wagner Walsh Weber Wilson Wong Yamamoto Young Zhang"
).split()
GUEST_DOMAINS = ("fabrikam.com", "adatum.com", "litwareinc.com", "partner.example.org")
PROJECT_CODENAMES = (
    "Atlas Borealis Cascade Delta Ember Falcon Granite Harbor Iris Juniper Kestrel Lumen Meridian Nimbus Onyx "
    "Polaris Quartz Rainier Sierra Tundra Umbra Vertex Willow Xenon Yukon Zephyr"
).split()
SECRET_ALPHABET = string.ascii_letters + string.digits + "_-.~"


@dataclass(frozen=True)
class SeededTenant:
    tenant: Tenant
    client_id: str
    client_secret: str
    federated_credentials: tuple[FederatedCredential, ...] = ()


class _Seeder:
    def __init__(self, seed: int, plan: SizePlan, size: str = "small") -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.size = size
        self.plan = plan
        self.nicknames: dict[str, int] = {}
        self.people = 0

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def moment(self, after: datetime, max_days: int) -> datetime:
        return after + timedelta(seconds=self.rng.randrange(max_days * 86400))

    def timestamp(self, after: datetime, max_days: int, fraction: bool = False) -> str:
        # isoformat, not strftime: a large tenant formats over half a million timestamps.
        text = self.moment(after, max_days).replace(tzinfo=None).isoformat(timespec="seconds")
        if fraction:
            # The Conditional Access backend returns 7-digit fractions; directory objects whole seconds.
            return f"{text}.{self.rng.randrange(10**7):07d}Z"
        return f"{text}Z"

    def build_empty(self) -> SeededTenant:
        """A tenant holding no object at all, not even its policies: what loading.py fills."""
        organization = self.rng.choice(ORGANIZATIONS)
        domain = re.sub(r"[^a-z]", "", organization.lower()) + ".onmicrosoft.com"
        tenant = Tenant(self.uuid(), domain, organization)
        client_id = self.uuid()
        secret = "".join(self.rng.choice(SECRET_ALPHABET) for _ in range(3)) + "8Q~"
        secret += "".join(self.rng.choice(SECRET_ALPHABET) for _ in range(34))
        self.tenant = tenant
        tenant.changes.recording = True
        return SeededTenant(tenant, client_id, secret)

    def build(self) -> SeededTenant:
        empty = self.build_empty()
        tenant, client_id, secret = empty.tenant, empty.client_id, empty.client_secret
        tenant.changes.recording = False
        people = self._people()
        groups = self._groups(people)
        self._conditional_access(groups)
        self.rng = random.Random(f"{self.seed}-synced")
        self._synced(people)
        seed_applications(tenant, self.seed, self.size, BASE_TIME, client_id, secret)
        seed_policies(tenant, self.seed, BASE_TIME)
        slug = re.sub(r"[^a-z]", "", tenant.organization.lower())
        # The workflow of graph-behaviour §8: GitHub Actions on the main branch of the backup repository.
        github = FederatedCredential(
            "entra-backup-main", "https://token.actions.githubusercontent.com", f"repo:{slug}/entra-backup:ref:refs/heads/main"
        )
        seed_identity(tenant, self.seed, self.size, BASE_TIME, client_id, (github,))
        seed_declared(tenant, self.seed)
        seed_protected_actions(tenant, self.timestamp(BASE_TIME, 300, fraction=True))
        seed_pim(tenant, self.seed)
        seed_app_policies(tenant, self.seed)
        seed_tenant_signin(tenant)
        seed_tenant_config(tenant)
        seed_apps_access(tenant)
        seed_entitlement(tenant, self.seed, BASE_TIME)
        seed_pim_groups(tenant, self.seed)
        tenant.changes.recording = True  # from here on, writes are changes that delta queries report
        return SeededTenant(tenant, client_id, secret, (github,))

    # --- users -----------------------------------------------------------------------------------------------

    def _user(self, given: str, surname: str, department: str | None, title: str, region: str, level: str) -> dict[str, Any]:
        user = blank_object(USERS)
        user_id = self.uuid()
        city, country, usage, phone, language = self.rng.choice(OFFICES[region])
        nickname = self._free_nickname(f"{given}.{surname}")
        self.people += 1
        upn = f"{nickname}@{self.tenant.domain}"
        created = self.moment(BASE_TIME, 900)
        cost_centre = f"CC-{(department or 'EXEC').upper()}-{region}"
        user.update(
            {
                "id": user_id,
                "accountEnabled": self.rng.random() >= 0.02,
                "businessPhones": [f"{phone}{self.rng.randrange(1000, 9999)}"],
                "city": city,
                "companyName": self.tenant.organization,
                "country": country,
                "createdDateTime": created.replace(tzinfo=None).isoformat(timespec="seconds") + "Z",
                "department": department,
                "displayName": f"{given} {surname}",
                "employeeId": f"{100000 + self.people}",
                "employeeType": "Employee",
                "givenName": given,
                "imAddresses": [f"sip:{upn}"],
                "jobTitle": title,
                "lastPasswordChangeDateTime": self.timestamp(created, 365),
                "mail": upn,
                "mailNickname": nickname,
                "mobilePhone": f"{phone}{self.rng.randrange(1000, 9999)}" if self.rng.random() < 0.6 else None,
                "officeLocation": f"{city} - Floor {self.rng.randrange(1, 8)}",
                "onPremisesExtensionAttributes": {
                    **dict.fromkeys(EXTENSION_ATTRIBUTES),
                    "extensionAttribute1": cost_centre,
                    "extensionAttribute2": region,
                    "extensionAttribute3": level,
                },
                "preferredLanguage": language,
                "proxyAddresses": [f"SMTP:{upn}"],
                "securityIdentifier": security_identifier(user_id),
                "signInActivity": self._sign_in_activity(),
                "surname": surname,
                "usageLocation": usage,
                "userPrincipalName": upn,
                "userType": "Member",
            }
        )
        return user

    def _sign_in_activity(self) -> dict[str, Any]:
        recent = BASE_TIME + timedelta(days=1200)
        return {
            "lastSignInDateTime": self.timestamp(recent, 60),
            "lastSignInRequestId": self.uuid(),
            "lastNonInteractiveSignInDateTime": self.timestamp(recent, 60),
            "lastNonInteractiveSignInRequestId": self.uuid(),
            "lastSuccessfulSignInDateTime": self.timestamp(recent, 60),
            "lastSuccessfulSignInRequestId": self.uuid(),
        }

    def _free_nickname(self, base: str) -> str:
        # Names hold no digits, so "<name><n>" never collides with another base name.
        base = re.sub(r"[^a-z.]", "", base.lower())
        taken = self.nicknames.get(base, 0)
        self.nicknames[base] = taken + 1
        return base if taken == 0 else f"{base}{taken + 1}"

    def _name(self) -> tuple[str, str]:
        return self.rng.choice(GIVEN_NAMES), self.rng.choice(SURNAMES)

    def _region(self) -> str:
        return self.rng.choices([r for r, _ in REGION_WEIGHTS], weights=[w for _, w in REGION_WEIGHTS])[0]

    def _people(self) -> dict[str, Any]:
        tenant = self.tenant
        ceo = self._user(*self._name(), "Executive", "Chief Executive Officer", "AMER", "L7")
        tenant.add(USERS, ceo)
        heads: dict[str, dict[str, Any]] = {}
        staff: dict[str, list[dict[str, Any]]] = {}
        total_weight = sum(d.weight for d in DEPARTMENTS)
        for dept in DEPARTMENTS:
            head = self._user(*self._name(), dept.name, dept.head_title, self._region(), "L6")
            tenant.add(USERS, head)
            tenant.link("manager", head["id"], ceo["id"])
            heads[dept.name] = head
            staff[dept.name] = [head]
            for _ in range(max(1, round(self.plan.users * dept.weight / total_weight)) - 1):
                user = self._user(
                    *self._name(), dept.name, self.rng.choice(dept.titles), self._region(), f"L{self.rng.randrange(1, 6)}"
                )
                tenant.add(USERS, user)
                tenant.link("manager", user["id"], head["id"])
                staff[dept.name].append(user)
        guests = [self._guest() for _ in range(self.plan.guests)]
        break_glass = [self._break_glass(n) for n in (1, 2)]
        return {"ceo": ceo, "heads": heads, "staff": staff, "guests": guests, "break_glass": break_glass}

    def _guest(self) -> dict[str, Any]:
        given, surname = self._name()
        user = self._user(given, surname, None, "", self._region(), "")
        # The local part reuses the unique nickname so that guest UPNs never collide in large tenants.
        external = f"{user['mailNickname']}@{self.rng.choice(GUEST_DOMAINS)}"
        upn = f"{external.replace('@', '_')}#EXT#@{self.tenant.domain}"
        user.update(
            {
                "userPrincipalName": upn,
                "mail": external,
                "mailNickname": external.replace("@", "_"),
                "otherMails": [external],
                "proxyAddresses": [f"SMTP:{external}"],
                "imAddresses": [],
                "jobTitle": None,
                "employeeId": None,
                "employeeType": None,
                "companyName": None,
                "businessPhones": [],
                "mobilePhone": None,
                "officeLocation": None,
                "onPremisesExtensionAttributes": dict.fromkeys(EXTENSION_ATTRIBUTES),
                "userType": "Guest",
                "creationType": "Invitation",
                "externalUserState": "Accepted",
                "displayName": f"{given} {surname} (Guest)",
            }
        )
        self.tenant.add(USERS, user)
        return user

    def _break_glass(self, number: int) -> dict[str, Any]:
        user = self._user("Break", "Glass", None, "", "AMER", "")
        upn = f"breakglass{number}@{self.tenant.domain}"
        user.update(
            {
                "displayName": f"Break Glass {number}",
                "givenName": None,
                "surname": None,
                "userPrincipalName": upn,
                "mail": None,
                "mailNickname": f"breakglass{number}",
                "proxyAddresses": [],
                "imAddresses": [],
                "jobTitle": None,
                "employeeId": None,
                "employeeType": None,
                "businessPhones": [],
                "mobilePhone": None,
                "officeLocation": None,
                "accountEnabled": True,
                "passwordPolicies": "DisablePasswordExpiration",
                "onPremisesExtensionAttributes": dict.fromkeys(EXTENSION_ATTRIBUTES),
            }
        )
        self.tenant.add(USERS, user)
        return user

    # --- groups ----------------------------------------------------------------------------------------------

    def _group(
        self,
        name: str,
        description: str,
        members: list[dict[str, Any]],
        owners: list[dict[str, Any]],
        rule: str | None = None,
        unified: bool = False,
    ) -> dict[str, Any]:
        group = blank_object(GROUPS)
        group_id = self.uuid()
        created = self.timestamp(BASE_TIME, 700)
        nickname = re.sub(r"[^A-Za-z0-9]", "", name.replace("&", "and"))
        group_types = (["Unified"] if unified else []) + (["DynamicMembership"] if rule else [])
        group.update(
            {
                "id": group_id,
                "createdDateTime": created,
                "description": description,
                "displayName": name,
                "groupTypes": group_types,
                "mailEnabled": unified,
                "mailNickname": nickname,
                "membershipRule": rule,
                "membershipRuleProcessingState": "On" if rule else None,
                "renewedDateTime": created,
                "securityEnabled": not unified,
                "securityIdentifier": security_identifier(group_id),
                "visibility": "Private" if unified else None,
            }
        )
        if unified:
            group["mail"] = f"{nickname}@{self.tenant.domain}"
            group["proxyAddresses"] = [f"SMTP:{group['mail']}"]
        self.tenant.add(GROUPS, group)
        if not rule:
            for member in members:
                self.tenant.link("members", group_id, member["id"])
        for owner in owners:
            self.tenant.link("owners", group_id, owner["id"])
        return group

    def _sample(self, people: list[dict[str, Any]], share: float) -> list[dict[str, Any]]:
        return [p for p in people if self.rng.random() < share] or people[:1]

    def _groups(self, people: dict[str, Any]) -> dict[str, dict[str, Any]]:
        ceo, heads, staff = people["ceo"], people["heads"], people["staff"]
        ops_head = heads["Operations"]
        named: dict[str, dict[str, Any]] = {}
        for dept in DEPARTMENTS:
            head, members = heads[dept.name], staff[dept.name]
            named[f"{dept.name} Team"] = self._group(
                f"{dept.name} Team", f"Everyone in {dept.name}", members, [head]
            )
            for app in dept.app_groups:
                name = f"{dept.name} - {app}"
                named[name] = self._group(name, f"Access to {app.split(' ')[0]} for {dept.name}", self._sample(members, 0.4), [head])
            if dept.dynamic:
                name = f"All {dept.name} (dynamic)"
                named[name] = self._group(name, f"Computed from department = {dept.name}", [], [head], rule=f'(user.department -eq "{dept.name}")')
        named["Sales EMEA (dynamic)"] = self._group(
            "Sales EMEA (dynamic)",
            "Sales staff on the EMEA cost centre",
            [],
            [heads["Sales"]],
            rule='(user.extensionAttribute1 -eq "CC-SALES-EMEA")',
        )
        named["Engineering APAC (dynamic)"] = self._group(
            "Engineering APAC (dynamic)",
            "Engineers in the APAC region",
            [],
            [heads["Engineering"]],
            rule='(user.department -eq "Engineering") -and (user.extensionAttribute2 -eq "APAC")',
        )
        named["Leadership"] = self._group(
            "Leadership", "Executive team workspace", [ceo, *heads.values()], [ceo], unified=True
        )
        named["CA Exclusion - Break Glass"] = self._group(
            "CA Exclusion - Break Glass",
            "Emergency access accounts excluded from Conditional Access",
            people["break_glass"],
            [ops_head],
        )
        # One nested membership, as tenants have: the whole Sales team gets CRM access through its team group.
        self.tenant.link("members", named["Sales - CRM Users"]["id"], named["Sales Team"]["id"])
        everyone = [user for members in staff.values() for user in members]
        for number in range(self.plan.project_groups):
            codename = PROJECT_CODENAMES[number % len(PROJECT_CODENAMES)]
            members = self.rng.sample(everyone, self.rng.randrange(5, 41))
            self._group(f"Project {codename} {number + 1:03d}", f"Project team {codename}", members, [members[0]])
        return named

    # --- synced from on-premises Active Directory --------------------------------------------------------------

    def _synced(self, people: dict[str, Any]) -> None:
        """A few users and a group synced by Entra Connect: their AD-mastered attributes refuse cloud writes.

        They sit in departments without dynamic groups and join no existing group, so every older object
        (memberships included) stays as it was.
        """
        slug = re.sub(r"[^a-z]", "", self.tenant.organization.lower())
        ad_domain = f"corp.{slug}.com"
        dc = ",".join(f"DC={part}" for part in ad_domain.split("."))
        domain_sid = "S-1-5-21-" + "-".join(str(self.rng.randrange(10**9, 4 * 10**9)) for _ in range(3))
        synced_users = []
        for number, department in enumerate(("Finance", "HR", "Operations", "Marketing")):
            dept = next(d for d in DEPARTMENTS if d.name == department)
            user = self._user(*self._name(), department, self.rng.choice(dept.titles), self._region(), f"L{self.rng.randrange(1, 6)}")
            sam = user["mailNickname"][:20]
            user.update(
                {
                    "onPremisesSyncEnabled": True,
                    "onPremisesImmutableId": base64.b64encode(self.rng.randbytes(16)).decode(),
                    "onPremisesSamAccountName": sam,
                    "onPremisesDistinguishedName": f"CN={user['displayName']},OU={department},OU=Staff,{dc}",
                    "onPremisesDomainName": ad_domain,
                    "onPremisesUserPrincipalName": f"{user['mailNickname']}@{ad_domain}",
                    "onPremisesSecurityIdentifier": f"{domain_sid}-{1105 + number}",
                    "onPremisesLastSyncDateTime": self.timestamp(BASE_TIME + timedelta(days=1200), 60),
                }
            )
            self.tenant.add(USERS, user)
            self.tenant.link("manager", user["id"], people["heads"][department]["id"])
            synced_users.append(user)
        group = self._group("SG-FileShare-Finance", "Finance file share (managed in Active Directory)", synced_users, [])
        group.update(
            {
                "onPremisesSyncEnabled": True,
                "onPremisesSecurityIdentifier": f"{domain_sid}-1201",
                "onPremisesLastSyncDateTime": self.timestamp(BASE_TIME + timedelta(days=1200), 60),
            }
        )

    # --- Conditional Access ----------------------------------------------------------------------------------

    def _named_location(self, odata_type: str, values: dict[str, Any]) -> dict[str, Any]:
        location = blank_object(NAMED_LOCATIONS, odata_type)
        created = self.timestamp(BASE_TIME, 300, fraction=True)
        location.update({"id": self.uuid(), "createdDateTime": created, "modifiedDateTime": created, **values})
        self.tenant.add(NAMED_LOCATIONS, location)
        return location

    def _policy(self, name: str, state: str, users: dict[str, Any], grant: list[str], **conditions: Any) -> None:
        policy = blank_object(CA_POLICIES)
        user_conditions = {
            "includeUsers": [],
            "excludeUsers": [],
            "includeGroups": [],
            "excludeGroups": [],
            "includeRoles": [],
            "excludeRoles": [],
            **users,
        }
        policy.update(
            {
                "id": self.uuid(),
                "displayName": name,
                "createdDateTime": self.timestamp(BASE_TIME, 300, fraction=True),
                "modifiedDateTime": self.timestamp(BASE_TIME + timedelta(days=300), 300, fraction=True),
                "state": state,
                "conditions": {
                    "users": user_conditions,
                    "applications": {"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": []},
                    "clientAppTypes": conditions.get("clientAppTypes", ["all"]),
                    "platforms": None,
                    "locations": conditions.get("locations"),
                    "signInRiskLevels": [],
                },
                "grantControls": {"operator": "OR", "builtInControls": grant, "customAuthenticationFactors": [], "termsOfUse": []},
            }
        )
        self.tenant.add(CA_POLICIES, policy)

    def _conditional_access(self, groups: dict[str, dict[str, Any]]) -> None:
        head_office = self._named_location(
            IP_NAMED_LOCATION,
            {
                "displayName": "Head office",
                "isTrusted": True,
                "ipRanges": [
                    {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"},
                    {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8:4a00::/48"},
                ],
            },
        )
        blocked = self._named_location(
            COUNTRY_NAMED_LOCATION,
            {
                "displayName": "Blocked countries",
                "countriesAndRegions": ["KP", "IR", "SY", "CU"],
                "includeUnknownCountriesAndRegions": True,
                "countryLookupMethod": "clientIpAddress",
            },
        )
        break_glass = groups["CA Exclusion - Break Glass"]["id"]
        everyone = {"includeUsers": ["All"], "excludeGroups": [break_glass]}
        self._policy("Require MFA for all users", "enabled", everyone, ["mfa"])
        self._policy("Block legacy authentication", "enabled", everyone, ["block"], clientAppTypes=["exchangeActiveSync", "other"])
        self._policy(
            "Block access from blocked countries",
            "enabled",
            everyone,
            ["block"],
            locations={"includeLocations": [blocked["id"]], "excludeLocations": [head_office["id"]]},
        )
        self._policy(
            "Require compliant device for Sales",
            "enabledForReportingButNotEnforced",
            {"includeGroups": [groups["Sales Team"]["id"]]},
            ["compliantDevice"],
        )


def build_tenant(seed: int, size: str) -> SeededTenant:
    """size: one of SIZES, or "empty": no object at all (a tenant to load, see loading.py)."""
    if size == EMPTY:
        return _Seeder(seed, SIZES["small"], size).build_empty()
    if size not in SIZES:
        raise ValueError(f"unknown tenant size {size!r}; expected one of {EMPTY}, {', '.join(SIZES)}")
    return _Seeder(seed, SIZES[size], size).build()

