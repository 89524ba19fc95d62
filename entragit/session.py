"""The HTTP session shared by msal and the Graph client."""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

# --verbose (output.py) turns this logger on: one line per request, never a header or a body, which carry
# the Authorization header, the token endpoint's secrets and assertions, and the tokens it answers.
_log = logging.getLogger("entragit.http")
# Query parameters whose value may be a credential: SAS signatures, OAuth codes and tokens, secrets.
_SECRET_PARAMETER = re.compile(r"secret|assertion|password|access_token|id_token|refresh_token|^code$|^sig$", re.I)


def shown_url(url: str) -> str:
    """`url` as a log may show it: without user info, and without the value of any credential parameter."""
    parts = urlsplit(url)
    query = [(key, "REDACTED" if _SECRET_PARAMETER.search(key) else value)
             for key, value in parse_qsl(parts.query, keep_blank_values=True)]
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="$,/:'()")))


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
        if not _log.isEnabledFor(logging.DEBUG):
            return super().request(method, url, *args, **kwargs)
        started = time.monotonic()
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.RequestException as exc:
            _log.debug("%s %s -> %s after %.3f s", method, shown_url(str(url)), type(exc).__name__,
                       time.monotonic() - started)
            raise
        _log.debug("%s %s -> %s in %.3f s", method, shown_url(response.url), response.status_code,
                   time.monotonic() - started)
        return response

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
