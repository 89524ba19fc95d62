"""Authentication strengths' combination configurations, and the strengths' second documented path.

A custom strength can narrow one of its combinations: which FIDO2 keys (by AAGUID) or which certificates
(by issuer and policy) satisfy it (authenticationcombinationconfiguration.md). Graph serves them under
the strength, /…/{id}/combinationConfigurations, and returns them inline with the strength; the simulator
keeps them in the strength's own combinationConfigurations list, so both answers always agree, and every
write is a write of the strength (its modifiedDateTime, its change in the log).

The strengths are documented at /policies/authenticationStrengthPolicies and, in the newer pages
(authenticationstrengthpolicy-post-combinationconfigurations), at
/identity/conditionalAccess/authenticationStrength/policies; both paths serve the one collection.
"""

from __future__ import annotations

import uuid
from typing import Any

from entragit.sim.errors import GraphFault, bad_request, resource_not_found
from entragit.sim.graph import NO_CONTENT, GraphApi, GraphRequest, GraphResponse
from entragit.sim.model import CONDITIONAL_ACCESS_CODES, STRS, check_keys
from entragit.sim.model_policies import AUTHENTICATION_STRENGTHS, refuse_built_in

SEGMENT = "combinationConfigurations"
ALTERNATE_PATH = ("identity", "conditionalAccess", "authenticationStrength", "policies")
# Each configuration type: its own properties, and the combinations it may apply to (the type's pages).
CONFIGURATION_TYPES: dict[str, tuple[dict[str, str], frozenset[str]]] = {
    "#microsoft.graph.fido2CombinationConfiguration": ({"allowedAAGUIDs": STRS}, frozenset({"fido2"})),
    "#microsoft.graph.x509CertificateCombinationConfiguration": (
        {"allowedIssuerSkis": STRS, "allowedPolicyOIDs": STRS},
        frozenset({"x509CertificateSingleFactor", "x509CertificateMultiFactor"}),
    ),
}
RESOURCE = "AuthenticationCombinationConfiguration"


def _invalid(prop: str) -> GraphFault:
    return bad_request(f"Invalid value specified for property '{prop}' of resource '{RESOURCE}'.", CONDITIONAL_ACCESS_CODES.bad_request)


class CombinationConfigurations:
    def __init__(self, api: GraphApi) -> None:
        self.api = api
        self.tenant = api.tenant
        spec = AUTHENTICATION_STRENGTHS
        for template in (spec.segments, (*spec.segments, "{id}")):
            methods = next(m for t, m in api.routes if t == template)
            api._route((*ALTERNATE_PATH, *template[len(spec.segments):]), **methods)
        for base in (spec.segments, ALTERNATE_PATH):
            api._route((*base, "{id}", SEGMENT), GET=self.list_configurations, POST=self.create_configuration)
            api._route((*base, "{id}", SEGMENT, "{item}"),
                       GET=self.get_configuration, PATCH=self.update_configuration, DELETE=self.delete_configuration)

    def _strength(self, key: str) -> dict[str, Any]:
        return self.tenant.require(AUTHENTICATION_STRENGTHS, key)

    def _entity_set(self, strength: dict[str, Any]) -> str:
        return f"{AUTHENTICATION_STRENGTHS.path}('{strength['id']}')/{SEGMENT}"

    def _find(self, strength: dict[str, Any], key: str) -> dict[str, Any]:
        found: dict[str, Any] | None = next(
            (c for c in strength["combinationConfigurations"] if c["id"] == key.lower()), None)
        if found is None:
            raise resource_not_found(key, CONDITIONAL_ACCESS_CODES.not_found)
        return found

    def _checked(self, strength: dict[str, Any], body: dict[str, Any], odata_type: str) -> dict[str, Any]:
        """The body's configuration properties, checked against its type and the strength's combinations."""
        refuse_built_in(strength)
        if odata_type not in CONFIGURATION_TYPES:
            raise _invalid("@odata.type")
        own, applicable = CONFIGURATION_TYPES[odata_type]
        allowed = {**own, "appliesToCombinations": STRS}
        changes = {key: value for key, value in body.items() if key not in ("@odata.type", "id")}
        check_keys({"configuration": changes}, "configuration", allowed, RESOURCE)
        combinations = changes.get("appliesToCombinations")
        if combinations is not None and (not combinations or not set(combinations) <= applicable):
            raise _invalid("appliesToCombinations")
        return changes

    def _write(self, strength: dict[str, Any], configurations: list[dict[str, Any]]) -> None:
        self.tenant.update(AUTHENTICATION_STRENGTHS, strength, {"combinationConfigurations": configurations})

    def list_configurations(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        strength = self._strength(params[0])
        values = [dict(c) for c in strength["combinationConfigurations"]]
        return GraphResponse(200, {"@odata.context": f"{self.api.base}/$metadata#{self._entity_set(strength)}", "value": values})

    def create_configuration(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        strength = self._strength(params[0])
        body = request.json(CONDITIONAL_ACCESS_CODES.bad_request)
        odata_type = str(body.get("@odata.type"))
        changes = self._checked(strength, body, odata_type)
        if not changes.get("appliesToCombinations"):
            raise _invalid("appliesToCombinations")
        own, _ = CONFIGURATION_TYPES[odata_type]
        created = {"@odata.type": odata_type, "id": str(uuid.uuid4()), **{k: [] for k in own}, **changes}
        self._write(strength, [*strength["combinationConfigurations"], created])
        return self.api._entity(self._entity_set(strength), None, dict(created), status=201)

    def get_configuration(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        strength = self._strength(params[0])
        return self.api._entity(self._entity_set(strength), None, dict(self._find(strength, params[1])))

    def update_configuration(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        strength = self._strength(params[0])
        current = self._find(strength, params[1])
        body = request.json(CONDITIONAL_ACCESS_CODES.bad_request)
        if body.get("@odata.type", current["@odata.type"]) != current["@odata.type"]:
            raise _invalid("@odata.type")
        changes = self._checked(strength, body, current["@odata.type"])
        self._write(strength, [{**c, **changes} if c is current else c for c in strength["combinationConfigurations"]])
        return GraphResponse(NO_CONTENT)

    def delete_configuration(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        strength = self._strength(params[0])
        current = self._find(strength, params[1])
        refuse_built_in(strength)
        self._write(strength, [c for c in strength["combinationConfigurations"] if c is not current])
        return GraphResponse(NO_CONTENT)
