"""Tenant and sign-in configuration (issue 19, part 2): the authentication methods' own configurations,
attribute sets and custom security attribute definitions.
"""

from __future__ import annotations

from entragit.registry import ObjectType, register

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
