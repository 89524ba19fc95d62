"""No secret from the tenant ever reaches a committed file; the credentials' metadata does."""

from __future__ import annotations

import json

from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin, run


def _committed_text(repo: BackupRepo) -> str:
    """Every blob of every commit, as one text: a secret in any version of any file would be in it."""
    return repo.git.git.log("--all", "-p", "--format=%H%n%B")


def test_no_secret_value_reaches_any_commit_and_credential_metadata_does(repo: BackupRepo, admin: Admin,
                                                                          sim: Simulator) -> None:
    apps = admin.get("applications", **{"$top": "5", "$select": "id,displayName"})["value"]
    added = [admin.call("POST", f"applications/{app['id']}/addPassword",
                        json={"passwordCredential": {"displayName": "backdoor?"}}).json() for app in apps]
    secrets = [credential["secretText"] for credential in added]
    assert all(len(secret) > 20 for secret in secrets)

    run("snapshot", "--repo", str(repo.root))

    committed = _committed_text(repo)
    for secret in secrets + [sim.client_secret, sim.private_key_pem.splitlines()[1]]:
        assert secret not in committed
    assert "secretText" not in committed and "hint:" not in committed
    # The metadata stays: a new credential on an app is exactly what a reviewer must see.
    for app, credential in zip(apps, added):
        text = (repo.root / "applications" / f"{app['id']}.yaml").read_text()
        assert credential["keyId"] in text and "backdoor?" in text


def test_a_new_credential_shows_in_the_difference_report(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    app = admin.get("applications", **{"$top": "1", "$select": "id"})["value"][0]
    credential = admin.call("POST", f"applications/{app['id']}/addPassword",
                            json={"passwordCredential": {"displayName": "added at night"}}).json()

    report = json.loads(run("diff", "HEAD", "--live", "--format", "json", "--repo", str(repo.root)).output)

    [change] = report["changes"]
    [row] = change["attributes"]
    assert row["path"] == "passwordCredentials"
    assert any(c["keyId"] == credential["keyId"] for c in row["new"])
    assert credential["secretText"] not in json.dumps(report)
