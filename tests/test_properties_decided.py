"""Every property Graph's metadata declares for a backed-up type is decided in the registry, and what
Microsoft's own backup recovers is kept.

The declared properties come from graph_schema.json, generated from Microsoft's published Graph v1.0
metadata: regenerating it from a release that adds a property makes that property undecided here. A type
Graph serves in beta only is not in that metadata: it is decided from the properties Graph's beta
documentation lists, which its entry module writes down.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from entragit.registry import REGISTRY, get_type, graph_schema_gen, resolve_types, schema
from entragit.registry.beta import DOCUMENTED
from entragit.registry.decisions import GENERATED_MARK, NOT_KEPT, READ_ONLY, decide, declared, markdown, undecided
from tests.conftest import run

ROOT = Path(__file__).parent.parent

# What Microsoft Entra Backup and Recovery lists as recoverable, in Graph's names
# (learn.microsoft.com/entra/backup/scope-supported-objects-limitations; the page uses the directory's
# internal names: Mobile is mobilePhone, TelephoneNumber businessPhones, PhysicalDeliveryOfficeName
# officeLocation, OtherMail otherMails, EmployeeLeaveDate employeeLeaveDateTime, IsPublic visibility,
# GroupType groupTypes, ApplicationTag and ServicePrincipalTag tags, AppIdentifierUri identifierUris,
# AppCreatedDateTime createdDateTime, AppInformationalUrl info, ExplicitAccessGrantRequired
# appRoleAssignmentRequired, PublisherName the verifiedPublisher's displayName).
NATIVE_RECOVERABLE: dict[str, tuple[str, ...]] = {
    "users": (
        "accountEnabled", "ageGroup", "city", "companyName", "consentProvidedForMinor", "country", "department",
        "displayName", "employeeHireDate", "employeeId", "employeeLeaveDateTime", "employeeOrgData", "employeeType",
        "faxNumber", "givenName", "jobTitle", "mail", "mailNickname", "mobilePhone", "otherMails", "passwordPolicies",
        "officeLocation", "postalCode", "preferredDataLocation", "preferredLanguage", "state", "streetAddress",
        "surname", "businessPhones", "usageLocation", "userPrincipalName", "userType",
    ),
    "groups": (
        "classification", "description", "displayName", "groupTypes", "visibility", "mail", "mailEnabled",
        "mailNickname", "preferredDataLocation", "preferredLanguage", "securityEnabled", "theme",
    ),
    "applications": (
        "displayName", "description", "notes", "tags", "identifierUris", "publicClient",
        "publisherDomain", "isDeviceOnlyAuthSupported", "serviceManagementReference", "requiredResourceAccess",
        "nativeAuthenticationApisEnabled", "signInAudience", "groupMembershipClaims", "optionalClaims", "isDisabled",
        "addIns", "servicePrincipalLockConfiguration", "info",
    ),
    "servicePrincipals": (
        "accountEnabled", "alternativeNames", "appRoleAssignmentRequired", "description", "loginUrl", "notes",
        "notificationEmailAddresses", "preferredTokenSigningKeyThumbprint", "tags", "servicePrincipalType",
        "preferredSingleSignOnMode", "verifiedPublisher", "samlSingleSignOnSettings", "servicePrincipalNames",
    ),
}
# The one the native service recovers and entragit does not: no property of the v1.0 user (beta serves it
# one user at a time, at /beta/users/{id}/authentication/requirements).
NATIVE_NOT_IN_V1 = {"users": "perUserMfaState"}
# Listed by the native service, but no request can write it: a recreated application gets a new creation
# time, so entragit drops it as it drops every type's (a difference there would be residue of every restore).
NATIVE_UNWRITABLE = {"applications": "createdDateTime"}
# Of those, entragit keeps everything: Conditional Access policies and named locations ("all properties").
NATIVE_WHOLE = ("conditionalAccessPolicies", "namedLocations")


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_every_declared_property_is_decided(type_name: str) -> None:
    object_type = get_type(type_name)
    assert declared(object_type)
    assert undecided(object_type) == []


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_a_kept_property_is_one_graph_declares(type_name: str) -> None:
    object_type = get_type(type_name)
    names = set(declared(object_type))
    assert sorted(set(object_type.select or object_type.keeps) - names) == []
    assert sorted(set(object_type.not_kept) - names) == []


@pytest.mark.parametrize("type_name", sorted(NATIVE_RECOVERABLE))
def test_what_the_native_backup_recovers_is_kept(type_name: str) -> None:
    object_type = get_type(type_name)
    decisions = {name: decide(object_type, name) for name in NATIVE_RECOVERABLE[type_name]}
    assert {name: d.kind for name, d in decisions.items() if d is None or d.kind == NOT_KEPT or
            d.kind.startswith("volatile")} == {}
    assert all(name in object_type.stored for name in NATIVE_RECOVERABLE[type_name])


def test_the_native_properties_left_out_are_not_in_graph_v1_or_not_writable() -> None:
    docs = (ROOT / "docs" / "properties.md").read_text(encoding="utf-8")
    for type_name, name in NATIVE_NOT_IN_V1.items():
        assert name not in declared(get_type(type_name)) and name in docs
    for type_name, name in NATIVE_UNWRITABLE.items():
        assert decide(get_type(type_name), name).kind == "volatile"  # type: ignore[union-attr]
        assert f"`{name}`" in docs


@pytest.mark.parametrize("type_name", NATIVE_WHOLE)
def test_types_the_native_backup_keeps_whole_are_kept_whole(type_name: str) -> None:
    object_type = get_type(type_name)
    assert [name for name in declared(object_type) if name not in object_type.stored
            and decide(object_type, name).kind != "volatile"] == []  # type: ignore[union-attr]


def test_read_only_and_left_out_properties_say_why() -> None:
    for object_type in REGISTRY.values():
        for name in declared(object_type):
            decision = decide(object_type, name)
            assert decision is not None
            if decision.kind in (READ_ONLY, NOT_KEPT):
                assert len(decision.why) > 20, (object_type.name, name)


def _metadata(user_properties: list[str]) -> str:
    """A CSDL document declaring only the user type, as Microsoft's metadata writes it."""
    props = "".join(f'<Property Name="{name}" Type="Edm.String"/>' for name in user_properties)
    return (
        '<?xml version="1.0"?><edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">'
        '<edmx:DataServices><Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="microsoft.graph" '
        'Alias="graph"><EntityType Name="entity" Abstract="true"><Key><PropertyRef Name="id"/></Key>'
        '<Property Name="id" Type="Edm.String" Nullable="false"/></EntityType>'
        '<EntityType Name="directoryObject" BaseType="graph.entity" OpenType="true">'
        '<Property Name="deletedDateTime" Type="Edm.DateTimeOffset"/></EntityType>'
        f'<EntityType Name="user" BaseType="graph.directoryObject" OpenType="true">{props}</EntityType>'
        '</Schema></edmx:DataServices></edmx:Edmx>'
    )


def test_a_property_a_new_metadata_release_adds_is_undecided(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    users = get_type("users")
    today = [n for n in declared(users) if n not in ("id", "deletedDateTime")]
    source = tmp_path / "cleanMetadata.xml"
    source.write_text(_metadata([*today, "loginPreferences"]))
    monkeypatch.setattr(graph_schema_gen, "REGISTRY", {"users": users})
    regenerated: dict[str, Any] = graph_schema_gen.generate(source, "0" * 40)["types"]
    assert "loginPreferences" in regenerated["user"]["properties"]
    monkeypatch.setattr(schema, "_types", lambda: regenerated)
    assert undecided(users) == ["loginPreferences"]


def test_the_generated_schema_holds_every_declared_property() -> None:
    data = json.loads((ROOT / "entragit" / "registry" / "graph_schema.json").read_text(encoding="utf-8"))
    # Microsoft's v1.0 metadata declares 81 properties of a user, 53 of a group, 44 of an application and
    # 38 of a service principal (with those of directoryObject and entity).
    counts = {name: len(data["types"][name]["properties"]) for name in ("user", "group", "application", "servicePrincipal")}
    assert counts == {"user": 81, "group": 53, "application": 44, "servicePrincipal": 38}


def test_a_beta_only_type_is_decided_from_its_documented_beta_properties_not_the_v1_metadata() -> None:
    v1 = json.loads((ROOT / "entragit" / "registry" / "graph_schema.json").read_text(encoding="utf-8"))["types"]
    beta = [t for t in REGISTRY.values() if t.api_version == "beta"]
    # A type read from beta whose entity v1.0's metadata declares (protected actions) is decided against that.
    in_v1 = [t for t in beta if any(entity in v1 for entity in t.entity_types)]
    assert [entity for t in in_v1 for entity in t.entity_types if entity in DOCUMENTED] == []
    beta = [t for t in beta if t not in in_v1]
    assert sorted(t.name for t in beta) == ["b2bManagementPolicies", "externalIdentitiesPolicy"]
    for object_type in beta:
        assert declared(object_type) == [name for entity in object_type.entity_types for name in DOCUMENTED[entity]]
        assert undecided(object_type) == []
    documented = {entity for t in beta for entity in t.entity_types}
    assert sorted(DOCUMENTED) == sorted(documented), "document only the entities of beta types"


def test_the_docs_table_is_the_registrys() -> None:
    text = (ROOT / "docs" / "properties.md").read_text(encoding="utf-8")
    assert text[text.index(GENERATED_MARK):] == markdown(resolve_types(()))


def test_types_prints_the_decisions_of_a_type() -> None:
    lines = run("types", "--properties", "users").output.splitlines()
    assert lines[0].split() == ["PROPERTY", "DECISION", "WHY"]
    assert len(lines) == 1 + len(declared(get_type("users")))
    found = {line.split()[0]: line for line in lines[1:]}
    assert found["passwordPolicies"].split()[1] == "kept"
    assert "SharePoint profile" in found["aboutMe"] and found["signInActivity"].split()[1] == "volatile"
    refused = run("types", "--properties", "nope", ok=False)
    assert refused.exit_code == 1 and "unknown object type 'nope'" in refused.output
