"""Seeds the tenant and sign-in configuration of model_tenant_config.py: a few attribute sets, custom security
attribute definitions and allowed values, a certificate authority trusted for certificate-based sign-in, and
the default branding with one localization; the same in every tenant size (they are per tenant, not per user)."""

from __future__ import annotations

from typing import Any

from entragit.sim.branding import image_url, stored_image
from entragit.sim.model import blank_object
from entragit.sim.model_identity import PARENT
from entragit.sim.model_policies import ORGANIZATION
from entragit.sim.model_tenant_config import (
    ALLOWED_VALUES,
    ATTRIBUTE_SETS,
    BRANDING_LOCALIZATIONS,
    CERTIFICATE_BASED_AUTH,
    CUSTOM_SECURITY_ATTRIBUTE_DEFINITIONS,
    DEFAULT_BRANDING,
)
from entragit.sim.tenant import Tenant

# The sets and attributes of the attributeset and customsecurityattributedefinition pages' examples.
_SETS = (
    ("Engineering", "Attributes for engineering team", 25),
    ("Marketing", "Attributes for marketing team", 25),
)
_DEFINITIONS: tuple[dict[str, Any], ...] = (
    {"attributeSet": "Engineering", "name": "Project", "description": "Active projects for user", "type": "String",
     "isCollection": True, "isSearchable": True, "status": "Available", "usePreDefinedValuesOnly": True},
    {"attributeSet": "Engineering", "name": "CostCenter", "description": "Cost center of the team", "type": "Integer",
     "isCollection": False, "isSearchable": True, "status": "Available", "usePreDefinedValuesOnly": False},
    {"attributeSet": "Marketing", "name": "Campaign", "description": "Retired campaign codes", "type": "String",
     "isCollection": False, "isSearchable": False, "status": "Deprecated", "usePreDefinedValuesOnly": False},
)


_ALLOWED = {"Engineering_Project": (("Alpine", True), ("Baker", True), ("Cascade", False))}
# A made-up certificate (base64 of a few bytes): nothing reads it but the diff.
_ROOT_CA = {"certificate": "TUlJQ2FrQ0NBZE9nQXdJQkFnSVFSb290", "isRootAuthority": True,
            "certificateRevocationListUrl": "http://crl.example.com/root.crl",
            "deltaCertificateRevocationListUrl": None, "issuer": "CN=Example Root CA", "issuerSki": "A1B2C3D4E5F6"}
_BRANDINGS = (
    {"id": DEFAULT_BRANDING, "backgroundColor": "#0078D4", "signInPageText": "Authorised use only.",
     "usernameHintText": "name@company", **stored_image("bannerLogo", "Contoso banner logo"),
     "bannerLogoRelativeUrl": image_url("c1c6b6c8", DEFAULT_BRANDING, "bannerLogo", 637635061773126717)},
    {"id": "fr-FR", "backgroundColor": "#0078D4", "signInPageText": "Usage autorisé uniquement.",
     "usernameHintText": "nom@entreprise"},
)


def seed_tenant_config(tenant: Tenant) -> None:
    for set_id, description, most in _SETS:
        tenant.add(ATTRIBUTE_SETS, {**blank_object(ATTRIBUTE_SETS), "id": set_id, "description": description,
                                    "maxAttributesPerSet": most})
    for definition in _DEFINITIONS:
        definition_id = f"{definition['attributeSet']}_{definition['name']}"
        tenant.add(CUSTOM_SECURITY_ATTRIBUTE_DEFINITIONS,
                   {**blank_object(CUSTOM_SECURITY_ATTRIBUTE_DEFINITIONS), **definition, "id": definition_id})
    for definition_id, values in _ALLOWED.items():
        for value, active in values:
            tenant.add(ALLOWED_VALUES, {**blank_object(ALLOWED_VALUES), "id": value, "isActive": active,
                                        PARENT: definition_id})
    # Held by the organization, which the policy seed makes (a tenant seeded without policies has none).
    for organization in tenant.sorted_objects(ORGANIZATION)[:1]:
        tenant.add(CERTIFICATE_BASED_AUTH, {**blank_object(CERTIFICATE_BASED_AUTH), "id": "29f270bb-4d23-4f68-8a57-dc73dc0d37fd",
                                            "certificateAuthorities": [_ROOT_CA], PARENT: organization["id"]})
        for branding in _BRANDINGS:
            tenant.add(BRANDING_LOCALIZATIONS, {**blank_object(BRANDING_LOCALIZATIONS), **branding,
                                                PARENT: organization["id"]})
