"""The simulator serves only what Graph's metadata declares, as Graph serves it.

Every value a directory collection returns, asked for every property the simulator knows, has a name and
a type the metadata declares for that entity type (entragit/registry/graph_schema.json, generated from
Microsoft's published v1.0 metadata; read here as data, not through the registry's decisions). Properties
Graph returns only on $select stay out of the default answer, and administrative units live where the
metadata puts them, under the directory singleton.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from simclient import Graph, error_of, path_of

from entragit.sim import Simulator
from entragit.sim.catalog import BY_NAME

TYPES: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "entragit" / "registry" / "graph_schema.json").read_text(encoding="utf-8"))["types"]
COLLECTIONS = ("users", "groups", "applications", "servicePrincipals", "administrativeUnits")
_PRIMITIVE = {
    "Edm.String": lambda v: isinstance(v, str),
    "Edm.Binary": lambda v: isinstance(v, str),
    "Edm.Guid": lambda v: isinstance(v, str) and len(v) == 36,
    "Edm.Boolean": lambda v: isinstance(v, bool),
    "Edm.Int32": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Edm.DateTimeOffset": lambda v: isinstance(v, str) and datetime.fromisoformat(v) is not None,
}


def _problems(type_name: str, value: Any, where: str) -> list[str]:
    """What in value its declared type does not allow: unknown keys, wrong kinds, at any depth."""
    if value is None:
        return []
    if type_name in _PRIMITIVE:
        return [] if _PRIMITIVE[type_name](value) else [f"{where}: {value!r} is no {type_name}"]
    declared = TYPES[type_name]
    if "enum" in declared:
        return [] if isinstance(value, str) else [f"{where}: {value!r} is no {type_name} value"]
    if not isinstance(value, dict):
        return [f"{where}: {value!r} is no {type_name}"]
    found = []
    for key, item in value.items():
        if key == "@odata.type":
            continue
        spec = declared["properties"].get(key)
        if spec is None:
            found.append(f"{where}.{key}: not declared for {type_name}")
            continue
        items = item if spec[1] and isinstance(item, list) else [item]
        if spec[1] and not isinstance(item, list):
            found.append(f"{where}.{key}: {item!r} is not a list")
        for one in items:
            found += _problems(spec[0], one, f"{where}.{key}")
    return found


@pytest.mark.parametrize("name", COLLECTIONS)
def test_every_value_served_has_a_declared_name_and_type(graph: Graph, name: str) -> None:
    spec = BY_NAME[name]
    wanted = sorted(set(spec.all_properties()) - spec.write_only)
    objects = graph.all_pages(path_of(name), {"$select": ",".join(wanted), "$top": "999"})
    entity = spec.odata_type.removeprefix("#microsoft.graph.")
    problems = [p for obj in objects for p in _problems(entity, obj, obj["id"])]
    assert problems == []
    served = {key for obj in objects for key, value in obj.items() if value not in (None, [], {})}
    assert SEEDED[name] <= served


# Some of what each collection serves, filled by the seed where real tenants fill it.
SEEDED = {
    "users": {"postalCode", "streetAddress", "employeeOrgData", "assignedLicenses", "identities", "passwordPolicies"},
    "groups": {"assignedLabels", "preferredLanguage", "resourceProvisioningOptions"},
    "applications": {"optionalClaims", "servicePrincipalLockConfiguration", "info", "groupMembershipClaims"},
    "servicePrincipals": {"samlSingleSignOnSettings", "replyUrls", "loginUrl", "preferredSingleSignOnMode"},
    "administrativeUnits": {"description", "displayName"},
}


SELECT_ONLY = {
    "users": ("passwordPolicies", "streetAddress", "employeeOrgData", "assignedLicenses", "identities"),
    "groups": ("assignedLabels", "assignedLicenses", "onPremisesExtensionAttributes"),
    "applications": ("authenticationBehaviors",),
}
BY_DEFAULT = {
    "users": ("displayName", "userPrincipalName", "jobTitle"),
    "groups": ("theme", "preferredLanguage", "preferredDataLocation", "resourceProvisioningOptions"),
    "applications": ("optionalClaims", "servicePrincipalLockConfiguration", "groupMembershipClaims", "info"),
}


@pytest.mark.parametrize("name", sorted(SELECT_ONLY))
def test_select_only_properties_stay_out_of_the_default_answer(graph: Graph, name: str) -> None:
    [plain] = graph.ok(name, {"$top": "1"})["value"]
    assert not set(SELECT_ONLY[name]) & set(plain)
    assert set(BY_DEFAULT[name]) <= set(plain)
    [chosen] = graph.ok(name, {"$top": "1", "$select": ",".join(SELECT_ONLY[name])})["value"]
    assert set(chosen) == {"id", *SELECT_ONLY[name]}


def test_seeded_enterprise_apps_sign_in_as_their_application_says(graph: Graph) -> None:
    fields = "appId,preferredSingleSignOnMode,samlSingleSignOnSettings,replyUrls,loginUrl"
    sps = graph.all_pages("servicePrincipals", {"$select": fields})
    apps = {a["appId"]: a for a in graph.all_pages("applications", {"$select": "appId,web"})}
    saml = [sp for sp in sps if sp["preferredSingleSignOnMode"] == "saml"]
    assert saml and all(sp["samlSingleSignOnSettings"]["relayState"] and sp["loginUrl"] for sp in saml)
    assert all(sp["replyUrls"] == apps[sp["appId"]]["web"]["redirectUris"] for sp in sps if sp["appId"] in apps)


def test_units_are_served_under_the_directory_only(graph: Graph, sim: Simulator) -> None:
    units = graph.ok("directory/administrativeUnits")
    assert units["@odata.context"] == f"{sim.graph_url}/v1.0/$metadata#directory/administrativeUnits"
    assert {u["id"] for u in units["value"]} == set(sim.tenant.objects["administrativeUnits"])
    refused = graph.get("administrativeUnits")
    assert refused.status_code == 400 and "administrativeUnits" in error_of(refused)["message"]


def test_saml_settings_need_the_saml_mode(fresh: Graph) -> None:
    sp = next(s for s in fresh.all_pages("servicePrincipals", {"$select": "id,preferredSingleSignOnMode"})
              if s["preferredSingleSignOnMode"] is None)
    settings = {"samlSingleSignOnSettings": {"relayState": "https://app.example.com/home"}}
    assert fresh.patch(f"servicePrincipals/{sp['id']}", settings).status_code == 400
    assert fresh.patch(f"servicePrincipals/{sp['id']}", {"preferredSingleSignOnMode": "saml", **settings}).status_code == 204
    mode = fresh.ok(f"servicePrincipals/{sp['id']}", {"$select": "samlSingleSignOnSettings"})
    assert mode["samlSingleSignOnSettings"] == settings["samlSingleSignOnSettings"]


@pytest.mark.parametrize(("path", "body"), [
    ("users", {"passwordPolicies": "NeverExpire"}),
    ("users", {"employeeOrgData": {"department": "x"}}),
    ("groups", {"theme": "Gold"}),
    ("applications", {"optionalClaims": {"idToken": [{"source": "user"}]}}),
    ("applications", {"servicePrincipalLockConfiguration": {"identifierUris": True}}),
    ("applications", {"groupMembershipClaims": "Everything"}),
])
def test_values_graph_does_not_take_are_refused(fresh: Graph, path: str, body: dict[str, Any]) -> None:
    [obj] = fresh.ok(path, {"$top": "1", "$select": "id"})["value"]
    response = fresh.patch(f"{path}/{obj['id']}", body)
    assert response.status_code == 400 and "Invalid value" in error_of(response)["message"]
