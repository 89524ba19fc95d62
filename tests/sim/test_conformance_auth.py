"""Conformance: certificate and federated client assertions, token expiry and national clouds (graph-behaviour §8)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from simclient import Graph, error_of, msal_app, sim_session

from entragit.sim import Simulator
from entragit.sim.credentials import ClientCertificate

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GITHUB = "https://token.actions.githubusercontent.com"




def _acquire(sim: Simulator, credential: Any) -> dict[str, Any]:
    return dict(msal_app(sim, credential).acquire_token_for_client(scopes=[f"{sim.graph_url}/.default"]))


def _graph_accepts(sim: Simulator, token: str) -> bool:
    response = sim_session(sim).get(f"{sim.graph_url}/v1.0/users", params={"$top": "1"}, headers={"Authorization": f"Bearer {token}"})
    return response.status_code == 200


def _token_request(sim: Simulator, assertion: str, scope: str | None = None) -> requests.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": sim.client_id,
        "scope": scope or f"{sim.graph_url}/.default",
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
    }
    return sim_session(sim).post(f"{sim.authority}/oauth2/v2.0/token", data=form)


def _assertion(
    sim: Simulator, key: Any = None, thumbprint: str | None = None, aud: str | None = None, lifetime: int = 600, start: float | None = None
) -> str:
    """A client assertion as msal builds one; each argument spoils one part of it."""
    now = int(start if start is not None else time.time())
    claims = {
        "aud": aud or f"{sim.authority}/oauth2/v2.0/token",
        "iss": sim.client_id,
        "sub": sim.client_id,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
    }
    header = {"x5t": jwt.utils.base64url_encode(bytes.fromhex(thumbprint or sim.certificate_thumbprint)).decode()}
    return jwt.encode(claims, key or sim.client_certificate.private_key, algorithm="RS256", headers=header)


def _aadsts(response: requests.Response, status: int, code: int, error: str = "invalid_client") -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and body["error_codes"] == [code]
    assert {"timestamp", "trace_id", "correlation_id"} <= set(body)
    description = str(body["error_description"])
    assert description.startswith(f"AADSTS{code}: ")
    return description


# --- certificate credential -------------------------------------------------------------------------------------


def test_the_certificate_is_exposed_and_written_next_to_the_ca(sim: Simulator) -> None:
    assert sim.certificate_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert sim.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert len(sim.certificate_thumbprint) == 40 and int(sim.certificate_thumbprint, 16) >= 0
    with open(sim.certificate_path, encoding="ascii") as cert, open(sim.private_key_path, encoding="ascii") as key:
        assert (cert.read(), key.read()) == (sim.certificate_pem, sim.private_key_pem)
    assert {sim.certificate_path.rsplit("/", 1)[0], sim.private_key_path.rsplit("/", 1)[0]} == {sim.ca_bundle.rsplit("/", 1)[0]}


def test_msal_signs_in_with_the_certificate_thumbprint(sim: Simulator) -> None:
    result = _acquire(sim, {"private_key": sim.private_key_pem, "thumbprint": sim.certificate_thumbprint})
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer" and result["expires_in"] == 3599
    assert _graph_accepts(sim, result["access_token"])


def test_msal_signs_in_with_the_public_certificate(sim: Simulator) -> None:
    # Without a thumbprint msal signs PS256 and sends x5t#S256 (msal >= 1.35).
    result = _acquire(sim, {"private_key": sim.private_key_pem, "public_certificate": sim.certificate_pem})
    assert "access_token" in result, result
    assert _graph_accepts(sim, result["access_token"])


def test_an_unregistered_certificate_is_aadsts700027_key_not_found(sim: Simulator) -> None:
    stranger = ClientCertificate.generate("not registered")
    result = _acquire(sim, {"private_key": stranger.private_key_pem, "thumbprint": stranger.thumbprint})
    assert result["error"] == "invalid_client" and result["error_codes"] == [700027]
    assert result["error_description"].startswith(
        f"AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found., "
        f"Thumbprint of key used by client: '{stranger.thumbprint}'"
    )


def test_a_bad_signature_is_aadsts700027(sim: Simulator) -> None:
    forged = _assertion(sim, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    description = _aadsts(_token_request(sim, forged), 401, 700027)
    assert "The provided signature value did not match the expected signature value." in description


def test_an_expired_assertion_is_aadsts700024(sim: Simulator) -> None:
    stale = _assertion(sim, start=time.time() - 3600)
    description = _aadsts(_token_request(sim, stale), 401, 700024)
    assert description.startswith("AADSTS700024: Client assertion is not within its valid time range. Current time: ")
    assert ", assertion valid from " in description and ", expiry time of assertion " in description


def test_assertions_expire_in_simulated_time(fresh_sim: Simulator) -> None:
    assertion = _assertion(fresh_sim)
    assert _token_request(fresh_sim, assertion).status_code == 200
    fresh_sim.clock.advance(601)
    _aadsts(_token_request(fresh_sim, assertion), 401, 700024)


def test_a_wrong_audience_is_aadsts700023(sim: Simulator) -> None:
    elsewhere = _assertion(sim, aud="https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
    description = _aadsts(_token_request(sim, elsewhere), 401, 700023)
    assert "Client assertion audience claim does not match Realm issuer." in description


def test_a_malformed_assertion_is_aadsts50027(sim: Simulator) -> None:
    _aadsts(_token_request(sim, "not-a-jwt"), 400, 50027, error="invalid_request")


# --- workload identity federation ---------------------------------------------------------------------------


def test_the_seed_holds_a_github_federated_credential(sim: Simulator) -> None:
    (credential,) = sim.federation.credentials
    assert credential.issuer == GITHUB
    assert credential.subject.startswith("repo:") and credential.subject.endswith("/entra-backup:ref:refs/heads/main")
    assert credential.audiences == ("api://AzureADTokenExchange",)


def test_msal_exchanges_a_github_token(sim: Simulator) -> None:
    # A callable, as msal recommends: it asks for a fresh GitHub token whenever it needs one.
    result = _acquire(sim, {"client_assertion": lambda: sim.federation.issue(sim.federation.credentials[0].subject)})
    assert "access_token" in result, result
    assert _graph_accepts(sim, result["access_token"])


def test_a_new_federated_credential_is_accepted(fresh_sim: Simulator) -> None:
    subject = "repo:contoso/entra-backup:environment:production"
    assert _token_request(fresh_sim, fresh_sim.federation.issue(subject)).status_code == 401
    fresh_sim.federation.add_credential(subject)
    assert _token_request(fresh_sim, fresh_sim.federation.issue(subject)).status_code == 200


def test_an_unknown_issuer_is_aadsts70021_naming_issuer_subject_and_audience(sim: Simulator) -> None:
    token = sim.federation.issue("system:serviceaccount:backup:entragit", issuer="https://oidc.example.org/cluster")
    description = _aadsts(_token_request(sim, token), 401, 70021)
    assert description.startswith("AADSTS70021: No matching federated identity record found for presented assertion.")
    for part in (
        "Assertion Issuer: 'https://oidc.example.org/cluster'.",
        "Assertion Subject: 'system:serviceaccount:backup:entragit'.",
        "Assertion Audience: 'api://AzureADTokenExchange'.",
    ):
        assert part in description


def test_a_wrong_audience_matches_no_record(sim: Simulator) -> None:
    token = sim.federation.issue(sim.federation.credentials[0].subject, audience="api://SomethingElse")
    assert "Assertion Audience: 'api://SomethingElse'." in _aadsts(_token_request(sim, token), 401, 70021)


def test_another_subject_is_aadsts700213(sim: Simulator) -> None:
    subject = sim.federation.credentials[0].subject.replace("refs/heads/main", "refs/heads/feature")
    description = _aadsts(_token_request(sim, sim.federation.issue(subject)), 401, 700213)
    assert f"No matching federated identity record found for presented assertion subject '{subject}'." in description


def test_subjects_match_case_sensitively_aadsts7002138(sim: Simulator) -> None:
    subject = sim.federation.credentials[0].subject.upper().replace("REPO:", "repo:")
    description = _aadsts(_token_request(sim, sim.federation.issue(subject)), 401, 7002138)
    assert "The subject matches with case-insensitive comparison, but not with case-sensitive comparison." in description


def test_the_federated_error_status_is_a_switch(fresh_sim: Simulator) -> None:
    fresh_sim.settings.federated_error_status = 400
    token = fresh_sim.federation.issue("repo:someone/else:ref:refs/heads/main")
    _aadsts(_token_request(fresh_sim, token), 400, 700213)


def test_a_token_not_signed_by_the_issuer_is_refused(sim: Simulator) -> None:
    claims = {"iss": GITHUB, "sub": sim.federation.credentials[0].subject, "aud": "api://AzureADTokenExchange",
              "iat": int(time.time()), "exp": int(time.time()) + 600}
    forged = jwt.encode(claims, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256")
    sim.federation.issue("warm-up")  # the simulator now holds GitHub's real key
    _aadsts(_token_request(sim, forged), 401, 700027)


def test_an_expired_github_token_is_aadsts700024(fresh_sim: Simulator) -> None:
    token = fresh_sim.federation.issue(fresh_sim.federation.credentials[0].subject, expires_in=300)
    fresh_sim.clock.advance(301)
    _aadsts(_token_request(fresh_sim, token), 401, 700024)


# --- access tokens in simulated time ------------------------------------------------------------------------


def test_tokens_expire_after_their_lifetime_in_simulated_time(fresh_sim: Simulator) -> None:
    fresh_sim.settings.token_lifetime_seconds = 600
    graph = Graph(fresh_sim)
    fresh_sim.clock.advance(590)
    assert graph.get("users", {"$top": "1"}).status_code == 200
    fresh_sim.clock.advance(10)
    expired = graph.get("users", {"$top": "1"})
    assert expired.status_code == 401
    error = error_of(expired)
    assert (error["code"], error["message"]) == ("InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
    assert "WWW-Authenticate" in expired.headers
    assert Graph(fresh_sim).get("users", {"$top": "1"}).status_code == 200  # a new token works again


# --- national clouds ----------------------------------------------------------------------------------------


def test_a_global_tenant_refuses_national_graph_resources(sim: Simulator) -> None:
    for host in ("https://graph.microsoft.us", "https://dod-graph.microsoft.us", "https://microsoftgraph.chinacloudapi.cn"):
        description = _aadsts(_token_request(sim, _assertion(sim), scope=f"{host}/.default"), 400, 500011, error="invalid_resource")
        assert f"The resource principal named {host} was not found" in description
    assert _token_request(sim, _assertion(sim), scope="https://graph.microsoft.com/.default").status_code == 200


@pytest.mark.parametrize(
    ("cloud", "graph_host", "instance"),
    [
        ("usgov", "https://graph.microsoft.us", "microsoftonline.us"),
        ("usgovdod", "https://dod-graph.microsoft.us", "microsoftonline.us"),
        ("china", "https://microsoftgraph.chinacloudapi.cn", "partner.microsoftonline.cn"),
    ],
)
def test_a_national_cloud_tenant_serves_its_own_graph_only(fresh_sim: Simulator, cloud: str, graph_host: str, instance: str) -> None:
    fresh_sim.settings.cloud = cloud
    granted = _token_request(fresh_sim, _assertion(fresh_sim), scope=f"{graph_host}/.default")
    assert granted.status_code == 200, granted.text
    token = granted.json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == graph_host
    assert _graph_accepts(fresh_sim, token)
    _aadsts(_token_request(fresh_sim, _assertion(fresh_sim), scope="https://graph.microsoft.com/.default"), 400, 500011, error="invalid_resource")
    config = sim_session(fresh_sim).get(f"{fresh_sim.authority}/v2.0/.well-known/openid-configuration").json()
    assert config["cloud_instance_name"] == instance
