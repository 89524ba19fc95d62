"""Seeded policies on applications and consent: Microsoft's built-in permission grant policies and the
tenant's own settings, a few of each kind.

They draw from their own random stream (f"{seed}-app-policies") and come after everything else, so every
object an earlier seed produced stays byte-identical.
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from entragit.sim.model import APPLICATIONS, SERVICE_PRINCIPALS, USERS, CollectionSpec, blank_object
from entragit.sim.model_identity import PARENT
from entragit.sim.model_app_policies import (
    ACTIVITY_BASED_TIMEOUT_POLICIES,
    ADMIN_CONSENT_REQUEST_POLICY,
    APP_MANAGEMENT_POLICIES,
    CLAIMS_MAPPING_POLICIES,
    CUSTOM_AUTHENTICATION_EXTENSIONS,
    DEFAULT_APP_MANAGEMENT_POLICY,
    EXTENSION_TYPES,
    HOME_REALM_DISCOVERY_POLICIES,
    CONDITION_SET_DEFAULTS,
    PERMISSION_GRANT_EXCLUDES,
    PERMISSION_GRANT_INCLUDES,
    PERMISSION_GRANT_POLICIES,
    TOKEN_ISSUANCE_POLICIES,
)
from entragit.sim.tenant import Tenant

# A few of the built-in policies every tenant has (permissiongrantpolicy-list shows these ids and names), each
# with the condition set it includes.
BUILT_IN_GRANT_POLICIES = (
    ("microsoft-all-application-permissions", "All application permissions, for any client app",
     "Includes all application permissions (app roles), for all APIs, for any client application.",
     {"permissionType": "application"}),
    ("microsoft-user-default-low", "Default policy for user consent to apps",
     "Includes delegated permissions classified as low, for client apps registered in your organization or from "
     "verified publishers.",
     {"permissionType": "delegatedUserConsentable", "permissionClassification": "low",
      "clientApplicationsFromVerifiedPublisherOnly": True}),
    ("microsoft-user-default-legacy", "Legacy default policy for user consent to apps",
     "Includes all delegated permissions for all client apps except those requiring admin consent.",
     {"permissionType": "delegatedUserConsentable"}),
)
# Microsoft Graph's appId, and the id of its delegated Mail.Read permission, which the tenant keeps from users' consent.
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
MAIL_READ = "570282fd-fa5c-430d-a7fd-fc8dc98a9dca"


class _AppPolicySeeder:
    def __init__(self, tenant: Tenant, seed: int) -> None:
        self.tenant = tenant
        self.rng = random.Random(f"{seed}-app-policies")

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, spec: CollectionSpec, values: dict[str, Any], odata_type: str | None = None) -> None:
        obj = blank_object(spec, odata_type)
        obj.update(values)
        self.tenant.add(spec, obj)

    def build(self) -> None:
        for policy_id, name, description, included in BUILT_IN_GRANT_POLICIES:
            self.add(PERMISSION_GRANT_POLICIES, {"id": policy_id, "displayName": name, "description": description})
            self._condition_set(PERMISSION_GRANT_INCLUDES, policy_id, included)
        custom = "verified-publishers-low-risk"
        self.add(PERMISSION_GRANT_POLICIES, {"id": custom, "displayName": "Verified publishers, low risk",
                                             "description": "What users may consent to themselves."})
        self._condition_set(PERMISSION_GRANT_INCLUDES, custom, {
            "permissionType": "delegated", "permissionClassification": "low", "clientApplicationsFromVerifiedPublisherOnly": True})
        self._condition_set(PERMISSION_GRANT_EXCLUDES, custom, {
            "permissionType": "delegated", "resourceApplication": GRAPH_APP_ID, "permissions": [MAIL_READ]})
        # One the tenant made and never filled: it grants nothing until a condition set is added.
        self.add(PERMISSION_GRANT_POLICIES, {"id": "partner-apps-pilot", "displayName": "Partner apps (pilot)",
                                             "description": "Consent for the partner pilot, not in use yet."})
        reviewers = [u["id"] for u in self.tenant.sorted_objects(USERS)[:2]]
        self.add(ADMIN_CONSENT_REQUEST_POLICY, {
            "id": "adminConsentRequestPolicy", "isEnabled": True, "notifyReviewers": True, "remindersEnabled": False,
            "requestDurationInDays": 30, "version": 3,
            "reviewers": [{"query": f"/users/{user_id}", "queryType": "MicrosoftGraph", "queryRoot": None}
                          for user_id in reviewers],
        })
        self._app_management()
        self._token_policies()
        self._extensions()

    def _condition_set(self, spec: CollectionSpec, policy_id: str, values: dict[str, Any]) -> None:
        self.add(spec, {**CONDITION_SET_DEFAULTS, "id": self.uuid(), PARENT: policy_id, **values})

    def _app_management(self) -> None:
        # Graph's own example (tenantappmanagementpolicy-update): no new passwords on apps made after 2021.
        self.add(DEFAULT_APP_MANAGEMENT_POLICY, {
            "id": "00000000-0000-0000-0000-000000000000", "displayName": "Default app management tenant policy",
            "description": "Default tenant policy that enforces app management restrictions on applications and "
                           "service principals.",
            "isEnabled": True,
            "applicationRestrictions": {
                "passwordCredentials": [
                    {"restrictionType": "passwordAddition", "state": "enabled", "maxLifetime": None,
                     "restrictForAppsCreatedAfterDateTime": "2021-01-01T10:37:00Z"},
                    {"restrictionType": "passwordLifetime", "state": "enabled", "maxLifetime": "P90D",
                     "restrictForAppsCreatedAfterDateTime": "2017-01-01T10:37:00Z"},
                ],
                "keyCredentials": [
                    {"restrictionType": "asymmetricKeyLifetime", "state": "enabled", "maxLifetime": "P365D",
                     "restrictForAppsCreatedAfterDateTime": "2015-01-01T10:37:00Z"},
                ],
            },
            "servicePrincipalRestrictions": {"passwordCredentials": [], "keyCredentials": []},
        })
        legacy = self.uuid()
        self.add(APP_MANAGEMENT_POLICIES, {
            "id": legacy, "displayName": "Legacy integrations: passwords allowed for a year",
            "description": "For the apps that cannot use certificates yet.", "isEnabled": True,
            "restrictions": {"passwordCredentials": [
                {"restrictionType": "passwordLifetime", "state": "enabled", "maxLifetime": "P365D",
                 "restrictForAppsCreatedAfterDateTime": "2019-01-01T00:00:00Z"}], "keyCredentials": []},
        })
        # Applied to the backup agent's registration and to the monitoring collector's enterprise app.
        for spec, name in ((APPLICATIONS, "Backup Agent"), (SERVICE_PRINCIPALS, "Monitoring Collector")):
            holder = next(o for o in self.tenant.sorted_objects(spec) if o.get("displayName") == name)
            self.tenant.link("appManagementPolicies", holder["id"], legacy)

    def _token_policies(self) -> None:
        claims = {"ClaimsMappingPolicy": {"Version": 1, "IncludeBasicClaimSet": "true", "ClaimsSchema": [
            {"Source": "user", "ID": "employeeid", "SamlClaimType": "http://schemas.contoso.com/employeeid"}]}}
        realm = {"HomeRealmDiscoveryPolicy": {"AccelerateToFederatedDomain": True, "PreferredDomain": "contoso.com"}}
        issuance = {"TokenIssuancePolicy": {"Version": 1, "SigningAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                                            "TokenResponseSigningPolicy": "TokenOnly", "SamlTokenVersion": "2.0"}}
        timeout = {"ActivityBasedTimeoutPolicy": {"Version": 1, "ApplicationPolicies": [
            {"ApplicationId": "default", "WebSessionIdleTimeout": "01:00:00"}]}}
        for spec, name, definition, default in (
            (CLAIMS_MAPPING_POLICIES, "Employee id in SAML tokens", claims, False),
            (HOME_REALM_DISCOVERY_POLICIES, "Send partners to their federation server", realm, False),
            (TOKEN_ISSUANCE_POLICIES, "SAML 2.0 tokens signed with SHA-256", issuance, False),
            (ACTIVITY_BASED_TIMEOUT_POLICIES, "Sign out idle web sessions after an hour", timeout, True),
        ):
            self.add(spec, {"id": self.uuid(), "displayName": name, "definition": [json.dumps(definition, separators=(",", ":"))],
                            "isOrganizationDefault": default})

    def _extensions(self) -> None:
        apis = [sp for sp in self.tenant.sorted_objects(SERVICE_PRINCIPALS) if sp.get("appId")][:1]
        resource = f"api://claims.{self.tenant.domain}/{apis[0]['appId'] if apis else self.uuid()}"
        self.add(CUSTOM_AUTHENTICATION_EXTENSIONS, {
            "id": self.uuid(), "displayName": "Claims from the HR system",
            "description": "Adds cost centre and employee grade to tokens",
            "endpointConfiguration": {"@odata.type": "#microsoft.graph.httpRequestEndpoint",
                                      "targetUrl": f"https://claims.{self.tenant.domain.split('.')[0]}.example.com/api/token"},
            "authenticationConfiguration": {"@odata.type": "#microsoft.graph.azureAdTokenAuthentication", "resourceId": resource},
            "clientConfiguration": {"timeoutInMilliseconds": 2000, "maximumRetries": 1},
            "claimsForTokenConfiguration": [{"claimIdInApiResponse": "CostCentre"}, {"claimIdInApiResponse": "Grade"}],
        }, EXTENSION_TYPES["onTokenIssuanceStart"])


def seed_app_policies(tenant: Tenant, seed: int) -> None:
    _AppPolicySeeder(tenant, seed).build()
