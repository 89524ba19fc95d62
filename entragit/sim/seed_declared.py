"""Seeded values of the properties Graph returns only on $select, or that few objects set.

Addresses and HR data of users, Microsoft 365 group settings, the token, lock and sign-in settings of
applications and enterprise apps: values as a real tenant has them, most objects plain, some set. They
draw from their own random stream (f"{seed}-declared") and run after everything else is seeded, so every
value an earlier seed produced stays as it was.
"""

from __future__ import annotations

import random
from typing import Any

from entragit.sim.apps import copied_from_application
from entragit.sim.model import APPLICATIONS, GROUPS, SERVICE_PRINCIPALS, USERS, is_dynamic
from entragit.sim.tenant import Tenant

# city -> (street names, postal code pattern: '#' a digit, 'A' a letter, state or province)
ADDRESSES: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    "London": (("Bishopsgate", "Fenchurch Street", "King's Road"), "EC2M #AA", None),
    "Amsterdam": (("Herengracht", "Keizersgracht", "Prinsengracht"), "10## AA", "Noord-Holland"),
    "Berlin": (("Friedrichstraße", "Unter den Linden", "Torstraße"), "101##", "Berlin"),
    "Seattle": (("Pike Street", "Westlake Avenue", "Boren Avenue"), "981##", "WA"),
    "Toronto": (("King Street West", "Bay Street", "Spadina Avenue"), "M5V #A#", "ON"),
    "Singapore": (("Marina Boulevard", "Raffles Place", "Anson Road"), "0189##", None),
    "Sydney": (("George Street", "Pitt Street", "Kent Street"), "2000", "NSW"),
}
# The skuIds of Microsoft 365 E5 and E3, the licenses a workforce tenant assigns most.
LICENSE_SKUS = ("06ebc4ee-1bb5-47dd-8120-11324bc54e06", "05e9a617-0261-4cee-bb44-138d3ef5d965")
DIVISIONS = {"Sales": "Commercial", "Marketing": "Commercial", "Finance": "Corporate", "HR": "Corporate",
             "Legal": "Corporate", "IT": "Operations", "Engineering": "Product", "Support": "Operations"}
GROUP_THEMES = ("Teal", "Purple", "Green", "Blue", "Pink", "Orange", "Red")
# General and Confidential, the labels Microsoft Purview's defaults publish first (each tenant has its own ids).
LABELS = (("d9f23ae3-a239-45ea-bf23-f515f824c57b", "General"), ("87ba5c36-b7cf-4793-bbc2-bd5b3a9f95ca", "Confidential"))


class _DeclaredSeeder:
    def __init__(self, tenant: Tenant, seed: int) -> None:
        self.rng = random.Random(f"{seed}-declared")
        self.tenant = tenant
        self.apps = {app["appId"]: app for app in tenant.objects["applications"].values()}

    def _pattern(self, pattern: str) -> str:
        return "".join(str(self.rng.randrange(10)) if c == "#" else self.rng.choice("ABDEHJLNPRSTUWXYZ") if c == "A"
                       else c for c in pattern)

    def user(self, user: dict[str, Any]) -> None:
        user["deviceEnrollmentLimit"] = 5
        user["identities"] = [{"signInType": "userPrincipalName", "issuer": self.tenant.domain,
                               "issuerAssignedId": user["userPrincipalName"]}]
        if user.get("userType") != "Member" or not user.get("department"):
            return
        streets, postal, state = ADDRESSES[user["city"]]
        user["streetAddress"] = f"{self.rng.randrange(1, 400)} {self.rng.choice(streets)}"
        user["postalCode"] = self._pattern(postal)
        user["state"] = state
        user["employeeHireDate"] = user["createdDateTime"][:10] + "T00:00:00Z"
        user["employeeOrgData"] = {"division": DIVISIONS.get(user["department"], "Corporate"),
                                   "costCenter": (user.get("onPremisesExtensionAttributes") or {}).get("extensionAttribute1")}
        user["assignedLicenses"] = [{"disabledPlans": [], "skuId": self.rng.choice(LICENSE_SKUS)}]
        roll = self.rng.random()
        if roll < 0.03:
            user["faxNumber"] = (user.get("businessPhones") or [""])[0][:-4] + "9999"
        elif roll < 0.05:
            user["otherMails"] = [f"{user['mailNickname'].lower()}@outlook.example"]
        elif roll < 0.06:
            # Service accounts whose password never expires, as audits find them.
            user["passwordPolicies"] = "DisablePasswordExpiration"
        elif roll < 0.07:
            user["employeeLeaveDateTime"] = user["createdDateTime"][:4] + "-12-31T00:00:00Z"
        if user["country"] == "Germany" and self.rng.random() < 0.5:
            user["preferredDataLocation"] = "DEU"

    def group(self, group: dict[str, Any]) -> None:
        if "Unified" not in (group.get("groupTypes") or []):
            return
        group["preferredLanguage"] = self.rng.choice(("en-US", "en-GB", "de-DE", None))
        group["theme"] = self.rng.choice(GROUP_THEMES) if self.rng.random() < 0.3 else None
        group["resourceProvisioningOptions"] = ["Team"] if self.rng.random() < 0.5 else []
        label_id, label = self.rng.choice(LABELS)
        group["assignedLabels"] = [{"labelId": label_id, "displayName": label}]
        if is_dynamic(group):
            group["resourceBehaviorOptions"] = ["WelcomeEmailDisabled"]

    def application(self, app: dict[str, Any]) -> None:
        slug = app["displayName"].lower().replace(" ", "-")
        site = f"https://{slug}.example.com"
        app["info"] = {"marketingUrl": None, "privacyStatementUrl": f"{site}/privacy", "supportUrl": f"{site}/support",
                       "termsOfServiceUrl": f"{site}/terms"}
        app["isFallbackPublicClient"] = False
        app["oauth2RequirePostResponse"] = False
        app["parentalControlSettings"] = {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"}
        app["servicePrincipalLockConfiguration"] = {"isEnabled": True, "allProperties": True,
                                                    "credentialsWithUsageVerify": True, "credentialsWithUsageSign": True,
                                                    "tokenEncryptionKeyId": True}
        app["nativeAuthenticationApisEnabled"] = "none"
        app["isDeviceOnlyAuthSupported"] = None
        if self.rng.random() < 0.3:
            app["groupMembershipClaims"] = self.rng.choice(("SecurityGroup", "ApplicationGroup", "All"))
        if self.rng.random() < 0.25:
            app["optionalClaims"] = {
                "idToken": [{"name": "email", "source": None, "essential": False, "additionalProperties": []}],
                "accessToken": [{"name": "groups", "source": None, "essential": False, "additionalProperties": []}],
                "saml2Token": [],
            }
        if self.rng.random() < 0.2:
            app["serviceManagementReference"] = f"SR-{self.rng.randrange(10000, 99999)}"

    def service_principal(self, sp: dict[str, Any]) -> None:
        app = self.apps.get(sp["appId"])
        if app is None:
            return
        # The applications' own values were seeded after their service principals were made.
        sp.update(copied_from_application(app))
        if self.rng.random() < 0.2:
            # An enterprise app signing users in with SAML: its sign-on URL, relay state and notification contact.
            slug = app["displayName"].lower().replace(" ", "-")
            sp["preferredSingleSignOnMode"] = "saml"
            sp["samlSingleSignOnSettings"] = {"relayState": f"https://{slug}.example.com/home"}
            sp["loginUrl"] = f"https://{slug}.example.com/sso/login"
            sp["notificationEmailAddresses"] = [f"it-apps@{self.tenant.domain}"]
            sp["preferredTokenSigningKeyThumbprint"] = f"{self.rng.getrandbits(160):040X}"


def seed_declared(tenant: Tenant, seed: int) -> None:
    seeder = _DeclaredSeeder(tenant, seed)
    for spec, fill in ((USERS, seeder.user), (GROUPS, seeder.group), (APPLICATIONS, seeder.application),
                       (SERVICE_PRINCIPALS, seeder.service_principal)):
        for obj in tenant.sorted_objects(spec):
            fill(obj)
