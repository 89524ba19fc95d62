"""Tenant and sign-in configuration the simulated tenant serves: attribute sets and custom security attribute
definitions (learn.microsoft.com/graph/api/resources/attributeset, .../customsecurityattributedefinition).

Neither can be deleted: a set is kept for good, a definition is deactivated by its status. Where a page is
silent the choice is marked [UNCONFIRMED].
"""

from __future__ import annotations

from typing import Any

from entragit.sim.apps import TenantView
from entragit.sim.errors import GraphFault, bad_request
from entragit.sim.model import BOOL, INT, STR, CollectionSpec, check_choice

# Created and updated, never deleted (attributeset resource page: "can't be renamed or deleted").
NO_DELETE = frozenset({"GET", "PATCH"})


def _validate_attribute_set(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    if existing is None and not isinstance(changes.get("id"), str):
        raise bad_request("Property 'id' is required for an attribute set.")
    description = changes.get("description")
    if isinstance(description, str) and len(description) > 128:
        raise bad_request("Invalid value specified for property 'description' of resource 'AttributeSet'.")


def _refuse_second(tenant: TenantView, obj: dict[str, Any], collection: str) -> None:
    # Ids compare without case (both resource pages); the code for a second one is [UNCONFIRMED].
    if obj["id"].lower() in {key.lower() for key in tenant.objects.get(collection, {})}:
        raise GraphFault(409, "Request_MultipleObjectsWithSameKeyValue", f"'{obj['id']}' already exists.")


def _new_set(tenant: TenantView, obj: dict[str, Any]) -> None:
    _refuse_second(tenant, obj, "attributeSets")


ATTRIBUTE_SETS = CollectionSpec(
    name="attributeSets",
    path="directory/attributeSets",
    odata_type="#microsoft.graph.attributeSet",
    properties={"id": STR, "description": STR, "maxAttributesPerSet": INT},
    # The set's name is its id, given on creation and never changed.
    create_only=frozenset({"id"}),
    required_on_create=("id",),
    validate=_validate_attribute_set,
    complete=_new_set,
    item_methods=NO_DELETE,
)

DEFINITION_TYPES = ("Boolean", "Integer", "String")
DEFINITION_STATUSES = ("Available", "Deprecated")


def _validate_definition(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    check_choice(changes, "type", DEFINITION_TYPES, "CustomSecurityAttributeDefinition")
    check_choice(changes, "status", DEFINITION_STATUSES, "CustomSecurityAttributeDefinition")
    merged = {**(existing or {}), **changes}
    if merged.get("type") == "Boolean" and (merged.get("isCollection") or merged.get("usePreDefinedValuesOnly")):
        raise bad_request("A Boolean attribute can be neither a collection nor limited to predefined values.")
    # "Can later be changed from true to false, but cannot be changed from false to true."
    if existing is not None and existing.get("usePreDefinedValuesOnly") is False and changes.get("usePreDefinedValuesOnly"):
        raise bad_request("usePreDefinedValuesOnly cannot be changed from false to true.")


def _name_definition(tenant: TenantView, obj: dict[str, Any]) -> None:
    """Graph makes the id of the set's name and the attribute's, joined by an underscore."""
    attribute_set = str(obj.get("attributeSet"))
    if attribute_set.lower() not in {key.lower() for key in tenant.objects.get(ATTRIBUTE_SETS.name, {})}:
        raise bad_request(f"Attribute set '{attribute_set}' does not exist.")
    obj["id"] = f"{attribute_set}_{obj.get('name')}"
    _refuse_second(tenant, obj, "customSecurityAttributeDefinitions")


CUSTOM_SECURITY_ATTRIBUTE_DEFINITIONS = CollectionSpec(
    name="customSecurityAttributeDefinitions",
    path="directory/customSecurityAttributeDefinitions",
    odata_type="#microsoft.graph.customSecurityAttributeDefinition",
    properties={
        "id": STR,
        "attributeSet": STR,
        "description": STR,
        "isCollection": BOOL,
        "isSearchable": BOOL,
        "name": STR,
        "status": STR,
        "type": STR,
        "usePreDefinedValuesOnly": BOOL,
    },
    read_only=frozenset({"id"}),
    create_only=frozenset({"attributeSet", "isCollection", "isSearchable", "name", "type"}),
    required_on_create=("attributeSet", "isCollection", "isSearchable", "name", "status", "type",
                        "usePreDefinedValuesOnly"),
    filterable=frozenset({"attributeSet", "status"}),
    validate=_validate_definition,
    complete=_name_definition,
    # Deactivated through its status, never deleted (customsecurityattributedefinition resource page).
    item_methods=NO_DELETE,
)

TENANT_CONFIG_COLLECTIONS: tuple[CollectionSpec, ...] = (ATTRIBUTE_SETS, CUSTOM_SECURITY_ATTRIBUTE_DEFINITIONS)
