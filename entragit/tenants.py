"""A service provider's list of tenants (tenants.yaml in a control repository), read into the matrix of a
pipeline that snapshots each tenant in a job of its own, into a backup repository of its own.

tenants:
  - name: contoso                              # the job's name: letters, digits and _
    repository: provider/entra-backup-contoso  # the backup repository: OWNER/NAME on GitHub, PROJECT/NAME on
                                               # Azure DevOps
    client_id: 00000000-0000-0000-0000-000000000000   # optional: the reader app, if not entragit.yaml's

The tenant itself is the one the backup repository's entragit.yaml names: one place says it, so the list
and the repository cannot disagree. The file is changed through pull requests like any other, so every
value is checked before a pipeline uses it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from entragit.canonical import parse_yaml
from entragit.errors import ConfigError, StoreError
from entragit.registry.schema import GUID

# Azure Pipelines takes only these in the name of a matrix leg.
_NAME = re.compile(r"[A-Za-z0-9_]{1,63}")
# GitHub's owner and repository names; an Azure DevOps project and repository named the same way.
_REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}/[A-Za-z0-9._-]{1,100}")
_KEYS = {"name", "repository", "client_id"}


def read_tenants(path: Path) -> list[dict[str, str]]:
    """The tenants the file lists, each checked; a bad entry is one error naming it."""
    try:
        data = parse_yaml(path.read_bytes(), str(path))
    except FileNotFoundError:
        raise ConfigError(f"{path} not found") from None
    except StoreError as exc:
        raise ConfigError(str(exc)) from None
    if not isinstance(data, dict) or set(data) != {"tenants"} or not isinstance(data["tenants"], list) \
            or not data["tenants"]:
        raise ConfigError(f"{path}: expected `tenants:` and a list of tenants under it, nothing else")
    tenants = [_tenant(entry, f"{path}: tenant {at + 1}") for at, entry in enumerate(data["tenants"])]
    seen: set[str] = set()
    for tenant in tenants:
        if tenant["name"].lower() in seen:
            raise ConfigError(f"{path}: the name {tenant['name']!r} is given twice; each tenant's job needs its own")
        seen.add(tenant["name"].lower())
    return tenants


def _tenant(entry: Any, where: str) -> dict[str, str]:
    if not isinstance(entry, dict) or not {"name", "repository"} <= set(entry) or set(entry) - _KEYS:
        raise ConfigError(f"{where}: takes name and repository, and optionally client_id")
    checks = {"name": (_NAME, "letters, digits and _"),
              "repository": (_REPOSITORY, "OWNER/NAME (GitHub) or PROJECT/NAME (Azure DevOps)"),
              "client_id": (GUID, "an application (client) id, a GUID")}
    for key, value in entry.items():
        pattern, what = checks[key]
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            raise ConfigError(f"{where}: {key} must be {what}, not {value!r}")
    return {"name": entry["name"], "repository": entry["repository"], "client_id": entry.get("client_id", "")}


def matrix(tenants: list[dict[str, str]], platform: str) -> str:
    """The tenants as the platform's matrix takes them at run time: a list of entries for GitHub's
    `matrix: include:`, a mapping of leg names to variables for Azure Pipelines."""
    if platform == "github":
        return json.dumps(tenants)
    return json.dumps({t["name"]: {"tenantName": t["name"], "backupRepository": t["repository"],
                                   "readerClientId": t["client_id"]} for t in tenants})
