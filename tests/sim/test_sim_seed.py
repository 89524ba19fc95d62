"""Seeded tenants are realistic and reproducible; serve() announces itself only once it listens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from entragit.sim import Simulator

REPO_ROOT = Path(__file__).resolve().parents[2]


def _dump(sim: Simulator) -> str:
    return json.dumps({name: list(objects.values()) for name, objects in sim.tenant.objects.items()})


def test_same_seed_gives_identical_objects_and_other_seeds_differ() -> None:
    one, two, other = Simulator(seed=5), Simulator(seed=5), Simulator(seed=6)
    assert _dump(one) == _dump(two)
    assert (one.tenant_id, one.client_id, one.client_secret) == (two.tenant_id, two.client_id, two.client_secret)
    assert one.tenant.links == two.tenant.links
    assert _dump(one) != _dump(other)
    assert one.tenant_id != other.tenant_id


def test_small_tenant_has_the_documented_shape(sim: Simulator) -> None:
    users = list(sim.tenant.objects["users"].values())
    groups = {g["displayName"]: g for g in sim.tenant.objects["groups"].values()}
    assert 180 <= len(users) <= 220
    departments = [u["department"] for u in users]
    assert 0.15 <= departments.count("Sales") / len(users) <= 0.20
    assert sum(u["userType"] == "Guest" for u in users) >= 2
    assert all("#EXT#" in u["userPrincipalName"] for u in users if u["userType"] == "Guest")
    assert {"Break Glass 1", "Break Glass 2"} <= {u["displayName"] for u in users}
    assert any(not u["accountEnabled"] for u in users)
    sales = next(u for u in users if u["department"] == "Sales")
    assert set(sales["onPremisesExtensionAttributes"]) == {f"extensionAttribute{i}" for i in range(1, 16)}
    assert sales["onPremisesExtensionAttributes"]["extensionAttribute1"].startswith("CC-SALES-")

    assert groups["Sales EMEA (dynamic)"]["membershipRule"] == '(user.extensionAttribute1 -eq "CC-SALES-EMEA")'
    assert groups["Leadership"]["groupTypes"] == ["Unified"] and groups["Leadership"]["mailEnabled"]
    members: dict[str, Any] = sim.tenant.links["members"]
    glass = {u["id"] for u in users if u["displayName"].startswith("Break Glass")}
    assert members[groups["CA Exclusion - Break Glass"]["id"]] == glass
    assert groups["Sales Team"]["id"] in members[groups["Sales - CRM Users"]["id"]]
    emea = {u["id"] for u in users if u["onPremisesExtensionAttributes"]["extensionAttribute1"] == "CC-SALES-EMEA"}
    assert members[groups["Sales EMEA (dynamic)"]["id"]] == emea

    policies = {p["displayName"]: p for p in sim.tenant.objects["conditionalAccessPolicies"].values()}
    locations = {n["displayName"]: n for n in sim.tenant.objects["namedLocations"].values()}
    mfa = policies["Require MFA for all users"]["conditions"]["users"]
    assert mfa["excludeGroups"] == [groups["CA Exclusion - Break Glass"]["id"]]
    blocked = policies["Block access from blocked countries"]["conditions"]["locations"]
    assert blocked == {"includeLocations": [locations["Blocked countries"]["id"]], "excludeLocations": [locations["Head office"]["id"]]}
    assert policies["Require compliant device for Sales"]["state"] == "enabledForReportingButNotEnforced"


def test_medium_tenant_starts_quickly_and_pages_at_999() -> None:
    began = time.monotonic()
    with Simulator(seed=1, size="medium") as sim:
        assert time.monotonic() - began < 5
        assert len(sim.tenant.objects["users"]) >= 5000
        assert len(sim.tenant.objects["groups"]) >= 100
        session = requests.Session()
        session.trust_env = False
        session.verify = sim.ca_bundle
        token = session.post(
            f"{sim.authority}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": sim.client_id,
                "client_secret": sim.client_secret,
                "scope": f"{sim.graph_url}/.default",
            },
        ).json()["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        url: str | None = f"{sim.graph_url}/v1.0/users?$top=999&$select=id"
        seen = 0
        while url:
            page = session.get(url).json()
            seen += len(page["value"])
            url = page.get("@odata.nextLink")
        assert seen == len(sim.tenant.objects["users"])


def test_serve_writes_the_info_file_once_listening(tmp_path: Path) -> None:
    info = tmp_path / "sim.json"
    code = f"from entragit.sim import serve; serve(port=0, seed=3, info_path={str(info)!r})"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not info.exists():
            assert process.poll() is None, "serve() exited early"
            assert time.monotonic() < deadline, "no info file after 20 s"
            time.sleep(0.05)
        details = json.loads(info.read_text())
        assert set(details) == {
            "graph_url",
            "authority",
            "tenant_id",
            "client_id",
            "client_secret",
            "ca_bundle",
            "certificate_path",
            "private_key_path",
            "certificate_thumbprint",
        }
        for key in ("ca_bundle", "certificate_path", "private_key_path"):
            assert Path(details[key]).parent == tmp_path
        session = requests.Session()
        session.trust_env = False
        config = session.get(
            f"{details['authority']}/v2.0/.well-known/openid-configuration", verify=details["ca_bundle"]
        )
        assert config.status_code == 200
        assert process.stdout is not None
        assert details["graph_url"] in process.stdout.readline()
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
    assert not info.exists()
    assert list(tmp_path.iterdir()) == []  # the CA, certificate and key files go with the server
