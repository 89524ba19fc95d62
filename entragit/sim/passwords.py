"""addPassword and removePassword: the only way to change an app's or SP's passwordCredentials (graph-behaviour §6).

A secret's text is returned once, by addPassword; the stored credential keeps only a three-character hint
and secretText null, so a backup can never read a secret back (graph-behaviour §9).
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from entragit.sim.errors import bad_request
from entragit.sim.model import CollectionSpec
from entragit.sim.tenant import Tenant

# Graph's default lifetime for a secret added without endDateTime: two years.
DEFAULT_SECRET_LIFETIME = timedelta(days=730)
_SECRET_ALPHABET = string.ascii_letters + string.digits + "_-.~"

# (tenant, spec, object, request body) -> response body, or None for 204
Action = Callable[[Tenant, CollectionSpec, dict[str, Any], dict[str, Any]], dict[str, Any] | None]


def _iso(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def add_password(tenant: Tenant, spec: CollectionSpec, obj: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    requested = body.get("passwordCredential") or {}
    if not isinstance(requested, dict):
        raise bad_request("Invalid value specified for property 'passwordCredential'.")
    now = tenant.clock.utcnow()
    start = requested.get("startDateTime") or _iso(now)
    end = requested.get("endDateTime") or _iso(now + DEFAULT_SECRET_LIFETIME)
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(3)) + "8Q~"
    secret += "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(34))
    credential = {
        "customKeyIdentifier": None,
        "displayName": requested.get("displayName"),
        "endDateTime": end,
        "hint": secret[:3],
        "keyId": str(uuid.uuid4()),
        "secretText": None,
        "startDateTime": start,
    }
    tenant.update(spec, obj, {"passwordCredentials": [*obj["passwordCredentials"], credential]})
    return {**credential, "secretText": secret}


def remove_password(tenant: Tenant, spec: CollectionSpec, obj: dict[str, Any], body: dict[str, Any]) -> None:
    key_id = str(body.get("keyId") or "").lower()
    kept = [c for c in obj["passwordCredentials"] if str(c.get("keyId")).lower() != key_id]
    if len(kept) == len(obj["passwordCredentials"]):
        # The exact text Graph returns here is [UNCONFIRMED]; the status and code follow other bad references.
        raise bad_request(f"No password credential found with keyId '{body.get('keyId')}'.")
    tenant.update(spec, obj, {"passwordCredentials": kept})


# collection -> action name -> (handler, the @odata.context type of its response)
ACTIONS: dict[str, dict[str, tuple[Action, str]]] = {
    name: {
        "addPassword": (add_password, "microsoft.graph.passwordCredential"),
        "removePassword": (remove_password, ""),
    }
    for name in ("applications", "servicePrincipals")
}
