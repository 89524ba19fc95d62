"""Tenant and sign-in configuration the simulated tenant serves: attribute sets, custom security attribute
definitions and their allowed values (learn.microsoft.com/graph/api/resources/attributeset,
.../customsecurityattributedefinition, .../allowedvalue), and under the organization its certificate-based
authentication configuration (.../certificatebasedauthconfiguration) and its branding's localizations
(.../organizationalbrandinglocalization). The collections under another object are served under it
(model_identity.NESTED).

Sets, definitions and allowed values cannot be deleted: a set is kept for good, a definition or a value is
deactivated. Where a page is silent the choice is marked [UNCONFIRMED].
"""

from __future__ import annotations

from typing import Any

from entragit.sim.apps import TenantView
from entragit.sim.errors import GraphFault, bad_request
from entragit.sim.model import BOOL, INT, OBJ, OBJS, STR, STRS, CollectionSpec, check_choice

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

# An allowed value is its own id ("Alpine"), deactivated by isActive, never deleted (allowedvalue resource page).
ALLOWED_VALUES = CollectionSpec(
    name="allowedValues",
    path="directory/customSecurityAttributeDefinitions/{id}/allowedValues",
    odata_type="#microsoft.graph.allowedValue",
    properties={"id": STR, "isActive": BOOL},
    default_properties=("id", "isActive"),
    create_only=frozenset({"id"}),
    required_on_create=("id", "isActive"),
)


def _validate_certificate_authorities(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    for authority in changes.get("certificateAuthorities") or []:
        # "Required" on the certificateAuthority page: the certificate and whether it is a root.
        if not isinstance(authority.get("certificate"), str) or not isinstance(authority.get("isRootAuthority"), bool):
            raise bad_request("Each certificate authority needs its certificate and isRootAuthority.")


# Created and deleted, never updated: "to change one, first delete and then create a new one" (resource page).
CERTIFICATE_BASED_AUTH = CollectionSpec(
    name="certificateBasedAuthConfiguration",
    path="organization/{id}/certificateBasedAuthConfiguration",
    odata_type="#microsoft.graph.certificateBasedAuthConfiguration",
    properties={"id": STR, "certificateAuthorities": OBJS},
    default_properties=("id", "certificateAuthorities"),
    read_only=frozenset({"id"}),
    required_on_create=("certificateAuthorities",),
    validate=_validate_certificate_authorities,
)

# The text settings of a branding (organizationalbrandingproperties); the images are streams of their own
# (branding.py), and their CDN addresses (…RelativeUrl) are set when one is uploaded.
BRANDING_TEXTS = ("backgroundColor", "customAccountResetCredentialsUrl", "customCannotAccessYourAccountText",
                  "customCannotAccessYourAccountUrl", "customForgotMyPasswordText", "customPrivacyAndCookiesText",
                  "customPrivacyAndCookiesUrl", "customResetItNowText", "customTermsOfUseText", "customTermsOfUseUrl",
                  "headerBackgroundColor", "signInPageText", "usernameHintText")
BRANDING_IMAGES = ("backgroundImage", "bannerLogo", "customCSS", "favicon", "headerLogo", "squareLogo", "squareLogoDark")
BRANDING_IMAGE_URLS = tuple(f"{image}RelativeUrl" for image in BRANDING_IMAGES)
# The default branding is listed among the localizations as id "0" (organizationalbranding-list-localizations).
DEFAULT_BRANDING = "0"


def _validate_branding(changes: dict[str, Any], existing: dict[str, Any] | None) -> None:
    text = changes.get("signInPageText")
    if isinstance(text, str) and len(text) > 1024:
        raise bad_request("signInPageText must not exceed 1024 characters.")
    hint = changes.get("usernameHintText")
    if isinstance(hint, str) and len(hint) > 64:
        raise bad_request("usernameHintText must not exceed 64 characters.")


BRANDING_LOCALIZATIONS = CollectionSpec(
    name="brandingLocalizations",
    path="organization/{id}/branding/localizations",
    odata_type="#microsoft.graph.organizationalBrandingLocalization",
    properties={"id": STR, **dict.fromkeys(BRANDING_TEXTS, STR), **dict.fromkeys(BRANDING_IMAGE_URLS, STR),
                "cdnList": STRS, "contentCustomization": OBJ, "loginPageLayoutConfiguration": OBJ,
                "loginPageTextVisibilitySettings": OBJ},
    default_properties=("id", *BRANDING_TEXTS, *BRANDING_IMAGE_URLS, "cdnList", "contentCustomization",
                        "loginPageLayoutConfiguration", "loginPageTextVisibilitySettings"),
    read_only=frozenset({*BRANDING_IMAGE_URLS, "cdnList"}),
    # A localization is named by its locale ("fr-FR") when it is made.
    create_only=frozenset({"id"}),
    required_on_create=("id",),
    validate=_validate_branding,
    # One localization per locale ("multiple branding for a single locale are currently not supported").
    complete=lambda tenant, obj: _refuse_second(tenant, obj, "brandingLocalizations"),
)

TENANT_CONFIG_COLLECTIONS: tuple[CollectionSpec, ...] = (ATTRIBUTE_SETS, CUSTOM_SECURITY_ATTRIBUTE_DEFINITIONS,
                                                         ALLOWED_VALUES, CERTIFICATE_BASED_AUTH, BRANDING_LOCALIZATIONS)
