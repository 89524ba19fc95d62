"""The HTTP session shared by msal and the Graph client."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests


class _Session(requests.Session):
    """A session that verifies TLS against a given CA on every request.

    requests lets REQUESTS_CA_BUNDLE override Session.verify, so a CA set on the session would be
    ignored on machines that set it; passing it per request wins over the environment.
    """

    def __init__(self, ca_bundle: str | None) -> None:
        super().__init__()
        self._ca_bundle = ca_bundle
        self._settings: dict[tuple[Any, ...], dict[str, Any]] = {}

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        if self._ca_bundle and kwargs.get("verify") in (None, True):
            kwargs["verify"] = self._ca_bundle
        return super().request(method, url, *args, **kwargs)

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        # requests reads every variable of the environment for proxies on each request (~0.7 ms, on the
        # chain of a thousand user pages); it does not change while a session lives, so once per host.
        parts = urlsplit(str(url))
        key = (parts.scheme, parts.netloc, tuple(sorted((proxies or {}).items())), stream, verify, cert)
        if key not in self._settings:
            self._settings[key] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings = self._settings[key].copy()
        settings["proxies"] = dict(settings["proxies"])  # requests may add to a request's own proxies
        return settings


def new_session(ca_bundle: str | None = None) -> requests.Session:
    session = _Session(ca_bundle)
    session.headers["User-Agent"] = "entragit"
    return session
