"""Sign-in: the openid configuration and token endpoint msal uses, and Graph's bearer checks."""

from __future__ import annotations

import base64


from entragit.sim import Simulator

from simclient import Graph, error_of, msal_app, sim_session




def test_openid_configuration_points_msal_at_the_simulator(sim: Simulator) -> None:
    response = sim_session(sim).get(f"{sim.authority}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 200
    config = response.json()
    assert config["token_endpoint"] == f"{sim.graph_url}/{sim.tenant_id}/oauth2/v2.0/token"
    assert config["issuer"] == f"{sim.graph_url}/{sim.tenant_id}/v2.0"
    assert config["authorization_endpoint"].startswith(sim.authority)
    assert config["jwks_uri"].startswith(sim.graph_url)


def test_openid_configuration_of_an_unknown_tenant_is_aadsts90002(sim: Simulator) -> None:
    response = sim_session(sim).get(f"{sim.graph_url}/no-such-tenant/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]


def test_msal_acquires_a_token_that_graph_accepts(sim: Simulator) -> None:
    result = msal_app(sim, sim.client_secret).acquire_token_for_client(scopes=[f"{sim.graph_url}/.default"])
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    assert result["expires_in"] == 3599
    session = sim_session(sim)
    response = session.get(
        f"{sim.graph_url}/v1.0/users", params={"$top": "1"}, headers={"Authorization": f"Bearer {result['access_token']}"}
    )
    assert response.status_code == 200


def test_msal_with_a_wrong_secret_gets_aadsts7000215(sim: Simulator) -> None:
    result = msal_app(sim, "not-the-secret").acquire_token_for_client(scopes=[f"{sim.graph_url}/.default"])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    description = result["error_description"]
    assert description.startswith("AADSTS7000215: Invalid client secret provided.")
    assert f"for a secret added to app '{sim.client_id}'." in description
    for part in ("Trace ID: ", "Correlation ID: ", "Timestamp: "):
        assert part in description
    assert {"timestamp", "trace_id", "correlation_id"} <= set(result)


def test_token_endpoint_statuses(sim: Simulator) -> None:
    session = sim_session(sim)
    token_url = f"{sim.authority}/oauth2/v2.0/token"
    good = {
        "grant_type": "client_credentials",
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "scope": "https://graph.microsoft.com/.default",
    }
    assert session.post(token_url, data=good).status_code == 200

    wrong_secret = session.post(token_url, data={**good, "client_secret": "x"})
    assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "invalid_client")

    unknown_client = session.post(token_url, data={**good, "client_id": "00000000-0000-0000-0000-000000000001"})
    assert unknown_client.status_code == 400
    assert unknown_client.json()["error"] == "unauthorized_client"
    assert unknown_client.json()["error_codes"] == [700016]

    bad_scope = session.post(token_url, data={**good, "scope": "User.Read"})
    assert bad_scope.status_code == 400
    assert bad_scope.json()["error"] == "invalid_scope"
    assert bad_scope.json()["error_description"].startswith("AADSTS70011:")

    assertion = session.post(
        token_url,
        data={**{k: v for k, v in good.items() if k != "client_secret"}, "client_assertion_type": "urn:x", "client_assertion": "y"},
    )
    assert assertion.status_code == 400

    basic = base64.b64encode(f"{sim.client_id}:{sim.client_secret}".encode()).decode()
    via_basic = session.post(
        token_url,
        data={"grant_type": "client_credentials", "scope": good["scope"]},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert via_basic.status_code == 200, via_basic.text


def test_graph_without_a_token_is_401_invalid_authentication_token(sim: Simulator) -> None:
    session = sim_session(sim)
    missing = session.get(f"{sim.graph_url}/v1.0/users")
    assert missing.status_code == 401
    assert error_of(missing)["code"] == "InvalidAuthenticationToken"
    assert error_of(missing)["message"] == "Access token is empty."
    assert "WWW-Authenticate" in missing.headers

    garbage = session.get(f"{sim.graph_url}/v1.0/users", headers={"Authorization": "Bearer not-a-token"})
    assert garbage.status_code == 401
    assert error_of(garbage)["code"] == "InvalidAuthenticationToken"


def test_an_expired_token_is_refused_and_the_lifetime_is_a_switch(fresh_sim: Simulator) -> None:
    graph = Graph(fresh_sim)
    assert graph.get("users").status_code == 200
    fresh_sim.login.expire_all_tokens()
    expired = graph.get("users")
    assert expired.status_code == 401
    assert error_of(expired)["message"] == "Access token has expired or is not yet valid."

    fresh_sim.settings.token_lifetime_seconds = 120
    renewed = msal_app(fresh_sim, fresh_sim.client_secret).acquire_token_for_client(
        scopes=[f"{fresh_sim.graph_url}/.default"]
    )
    assert renewed["expires_in"] == 120
