"""Tenant and sign-in configuration (issue 19, part 2): the authentication methods' own configurations,
attribute sets and custom security attribute definitions with their allowed values, and what the organization
holds of sign-in: its certificate-based authentication configuration and its branding's text settings.
"""

from __future__ import annotations

from entragit.registry import ObjectType, register
from entragit.registry.writes import SubCollection

# The subtypes of authenticationMethodConfiguration Graph v1.0 declares: one configuration per method.
_METHODS = ("email", "external", "fido2", "microsoftAuthenticator", "qrCodePin", "sms",
            "softwareOath", "temporaryAccessPass", "verifiableCredentials", "voice", "x509Certificate")

register(ObjectType(
    name="authenticationMethodConfigurations", singular="authentication method configuration",
    # Graph expands these in the authentication methods policy and serves each at its own path
    # (learn.microsoft.com/graph/api/resources/authenticationmethodspolicy); a file each, so that the diff,
    # the --id of a restore and the risk rules speak of one method, and each is PATCHed where it lives.
    collection="policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
    odata_types=tuple(f"#microsoft.graph.{m}AuthenticationMethodConfiguration" for m in _METHODS),
    select=(), page_size=None, restore_order=25,  # after the groups its targets name
    read_permission="Policy.Read.All", write_permission="Policy.ReadWrite.AuthenticationMethod",
    keeps=("id", "state", "includeTargets", "excludeTargets",
           # email, external, fido2, microsoftAuthenticator, qrCodePin
           "allowExternalIdToUseEmailOtp", "appId", "displayName", "openIdConnectSetting", "defaultPasskeyProfile",
           "isAttestationEnforced", "isSelfServiceRegistrationAllowed", "keyRestrictions", "featureSettings",
           "isSoftwareOathEnabled", "pinLength", "standardQRCodeLifetimeInDays",
           # temporaryAccessPass, voice, x509Certificate
           "defaultLength", "defaultLifetimeInMinutes", "isUsableOnce", "maximumLifetimeInMinutes",
           "minimumLifetimeInMinutes", "isOfficePhoneAllowed", "authenticationModeConfiguration",
           "certificateAuthorityScopes", "certificateUserBindings", "crlValidationConfiguration",
           "issuerHintsConfiguration"),
    read_only=frozenset({"id", "@odata.type"}),
    create_only=frozenset({"appId"}),
    # Each method's update page sends its @odata.type with the properties it changes.
    always_send=("@odata.type",),
    cannot_create=("Graph keeps one configuration per built-in method, which cannot go; an external method "
                   "is added again with its provider's app and sign-in settings, in the portal"),
    never_delete=("Graph keeps one configuration per built-in method: a method is turned off by its state, "
                  "not deleted"),
))

# Custom security attributes have permissions of their own, which Directory.* do not include
# (learn.microsoft.com/graph/api/directory-list-attributesets); neither object can be deleted.
_ATTRIBUTES_READ, _ATTRIBUTES_WRITE = "CustomSecAttributeDefinition.Read.All", "CustomSecAttributeDefinition.ReadWrite.All"
_NEVER_GONE = "Graph cannot delete one, so it is never missing from the tenant it was read from"

register(ObjectType(
    name="attributeSets", singular="attribute set", entity="attributeSet", collection="directory/attributeSets",
    odata_types=(), select=(), page_size=None, restore_order=15,
    read_permission=_ATTRIBUTES_READ, write_permission=_ATTRIBUTES_WRITE,
    keeps=("id", "description", "maxAttributesPerSet"), read_only=frozenset({"id"}),
    display_key="id",
    cannot_create=_NEVER_GONE,
    never_delete="Graph offers no delete of an attribute set (attributeset resource page)",
))
# An allowed value is its own id; Graph deactivates one (isActive false), never deletes it (allowedvalue).
ALLOWED_VALUES = SubCollection(
    property="allowedValues", entity="allowedValue", keeps=("id", "isActive"), id_given=True, remove=False,
    why_not="an allowed value is deactivated (isActive false), never deleted",
)

register(ObjectType(
    name="customSecurityAttributeDefinitions", singular="custom security attribute definition",
    entity="customSecurityAttributeDefinition", collection="directory/customSecurityAttributeDefinitions",
    odata_types=(), select=(), page_size=None, restore_order=16,
    read_permission=_ATTRIBUTES_READ, write_permission=_ATTRIBUTES_WRITE,
    keeps=("id", "attributeSet", "description", "isCollection", "isSearchable", "name", "status", "type",
           "usePreDefinedValuesOnly"),
    display_key="name", read_only=frozenset({"id"}),
    # "Cannot be changed later" (customsecurityattributedefinition resource page); the id is made of the set and
    # the name.
    create_only=frozenset({"attributeSet", "isCollection", "isSearchable", "name", "type"}),
    # Free-form values, once allowed, stay allowed: values assigned since may not be among the predefined ones.
    one_way={"usePreDefinedValuesOnly": False},
    sub_collections=(ALLOWED_VALUES,),
    cannot_create=_NEVER_GONE,
    never_delete=("Graph cannot delete a definition, only deactivate it: a restore sets the status the snapshot "
                  "has, and a definition made since stays (set its status to Deprecated to retire it)"),
))

# Under the organization (registry/policies.py): the certificate authorities trusted for certificate-based
# sign-in, the older half of it beside the X509Certificate method's configuration above. Graph has no update
# of one: "first delete and then create a new one" (certificatebasedauthconfiguration resource page).
CERTIFICATE_BASED_AUTH = SubCollection(
    property="certificateBasedAuthConfiguration", entity="certificateBasedAuthConfiguration",
    keeps=("id", "certificateAuthorities"), update=False,
    why_not="a configuration is changed by deleting it and creating a new one",
)

_IMAGES = ("backgroundImage", "bannerLogo", "customCSS", "favicon", "headerLogo", "squareLogo", "squareLogoDark")
_IMAGE = ("kept as the sha256 of its bytes, which Graph serves apart (PUT to upload one): the backup holds no "
          "image, so a restore cannot upload it again")
# The sign-in page's branding, the default (id "0") and one per locale: its text settings, and its images
# (and style sheet) by hash (organizationalbrandinglocalization, organizationalbranding-list-localizations).
BRANDING_LOCALIZATIONS = SubCollection(
    property="brandingLocalizations", segment="branding/localizations", entity="organizationalBrandingLocalization",
    keeps=("id", "backgroundColor", "contentCustomization", "customAccountResetCredentialsUrl",
           "customCannotAccessYourAccountText", "customCannotAccessYourAccountUrl", "customForgotMyPasswordText",
           "customPrivacyAndCookiesText", "customPrivacyAndCookiesUrl", "customResetItNowText",
           "customTermsOfUseText", "customTermsOfUseUrl", "headerBackgroundColor", "loginPageLayoutConfiguration",
           "loginPageTextVisibilitySettings", "signInPageText", "usernameHintText", *_IMAGES),
    streams=_IMAGES,
    read_only=frozenset(_IMAGES),
    why_read_only=dict.fromkeys(_IMAGES, _IMAGE),
    cannot_restore=dict.fromkeys(_IMAGES, _IMAGE),
    # Where the CDN serves each image and from which hosts: Graph's, changed with each upload, which the
    # image's hash already shows.
    volatile=frozenset({"cdnList", *(f"{image}RelativeUrl" for image in _IMAGES)}),
    id_given=True,
)
