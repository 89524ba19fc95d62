"""A thin Graph client for the simulator's conformance tests: raw responses, so tests see statuses and bodies."""

from __future__ import annotations

from typing import Any

import msal
import requests

from entragit.sim import Simulator


def sim_session(sim: Simulator) -> requests.Session:
    """A session that trusts the simulator's CA; trust_env off, since REQUESTS_CA_BUNDLE would override verify."""
    session = requests.Session()
    session.trust_env = False
    session.verify = sim.ca_bundle
    return session


def msal_app(sim: Simulator, credential: Any) -> msal.ConfidentialClientApplication:
    """msal pointed at the simulator: a secret, a certificate dict or a client-assertion dict."""
    return msal.ConfidentialClientApplication(
        sim.client_id, client_credential=credential, authority=sim.authority, http_client=sim_session(sim),
        instance_discovery=False,
    )


class Graph:
    """Just enough client to probe the simulator's raw HTTP answers (statuses, headers, bodies)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.session = sim_session(sim)
        self.renew()

    def renew(self) -> None:
        """A new access token, after a test moved simulated time past the old one's life."""
        self.session.headers["Authorization"] = f"Bearer {self.token()}"

    def token(self) -> str:
        response = self.session.post(
            f"{self.sim.authority}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.sim.client_id,
                "client_secret": self.sim.client_secret,
                "scope": f"{self.sim.graph_url}/.default",
            },
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.sim.graph_url}/v1.0/{path.lstrip('/')}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, params: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, params=params, **kwargs)

    def ok(self, path: str, params: dict[str, str] | None = None) -> Any:
        response = self.get(path, params)
        assert response.status_code == 200, response.text
        return response.json()

    def patch(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.request("PATCH", path, json=body)

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.request("POST", path, json=body)

    def delete(self, path: str) -> requests.Response:
        return self.request("DELETE", path)

    def all_pages(self, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        page = self.ok(path, params)
        items = list(page["value"])
        while "@odata.nextLink" in page:
            page = self.ok(page["@odata.nextLink"])
            items += page["value"]
        return items

    def find(self, collection: str, display_name: str) -> dict[str, Any]:
        escaped = display_name.replace("'", "''")
        found = self.ok(collection, {"$filter": f"displayName eq '{escaped}'"})["value"]
        assert len(found) == 1, found
        return dict(found[0])


# Where each collection is served when it is not at its own name (Graph's metadata puts units under /directory).
_PATHS = {"administrativeUnits": "directory/administrativeUnits"}


def path_of(collection: str) -> str:
    return _PATHS.get(collection, collection)


def error_of(response: requests.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return dict(body["error"])


def assert_error(response: requests.Response, status: int, code: str, message: str | None = None) -> dict[str, Any]:
    """Graph's error shape: the status, the code, the message if given, and (graph-behaviour §0) an innerError
    with date, request-id and client-request-id."""
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["code"] == code
    if message is not None:
        assert error["message"] == message
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    return error
