"""Seeds the tenant and sign-in configuration of model_tenant_config.py: a few attribute sets and custom
security attribute definitions, the same in every tenant size (they are per tenant, not per user)."""

from __future__ import annotations

from typing import Any

from entragit.sim.model import blank_object
from entragit.sim.model_tenant_config import ATTRIBUTE_SETS, CUSTOM_SECURITY_ATTRIBUTE_DEFINITIONS
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


def seed_tenant_config(tenant: Tenant) -> None:
    for set_id, description, most in _SETS:
        tenant.add(ATTRIBUTE_SETS, {**blank_object(ATTRIBUTE_SETS), "id": set_id, "description": description,
                                    "maxAttributesPerSet": most})
    for definition in _DEFINITIONS:
        definition_id = f"{definition['attributeSet']}_{definition['name']}"
        tenant.add(CUSTOM_SECURITY_ATTRIBUTE_DEFINITIONS,
                   {**blank_object(CUSTOM_SECURITY_ATTRIBUTE_DEFINITIONS), **definition, "id": definition_id})
