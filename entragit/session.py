"""The HTTP session shared by msal and the Graph client."""

from __future__ import annotations

from typing import Any

import requests


class _Session(requests.Session):
    """A session that verifies TLS against a given CA on every request.

    requests lets REQUESTS_CA_BUNDLE override Session.verify, so a CA set on the session would be
    ignored on machines that set it; passing it per request wins over the environment.
    """

    def __init__(self, ca_bundle: str | None) -> None:
        super().__init__()
        self._ca_bundle = ca_bundle

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if self._ca_bundle and kwargs.get("verify") in (None, True):
            kwargs["verify"] = self._ca_bundle
        return super().request(method, url, *args, **kwargs)


def new_session(ca_bundle: str | None = None) -> requests.Session:
    session = _Session(ca_bundle)
    session.headers["User-Agent"] = "entragit"
    return session
