"""The tenant and its sign-in, where a restore cannot simply write the snapshot back: a domain comes back
unverified, a social identity provider needs a secret no snapshot holds, and the device registration policy
is written whole, by PUT. tests/test_restore_types.py holds the plain round trips of these types.
"""

from __future__ import annotations

from typing import Any

from entragit.graph import GraphClient
from entragit.registry import get_type
from entragit.restore import apply_plan, plan_restore
from entragit.selection import Selection
from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin, run

DEVICE_REGISTRATION = "policies/deviceRegistrationPolicy"


def _snapshot(repo: BackupRepo, *types: str) -> str:
    run("snapshot", "--repo", str(repo.root), *[arg for t in types for arg in ("--type", t)])
    return repo.resolve("HEAD")


def test_a_deleted_domain_is_added_again_but_stays_unverified_and_the_plan_says_so(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo, "domains")
    [custom] = [d for d in admin.get("domains")["value"] if d["isDefault"]]
    assert custom["isVerified"] and custom["supportedServices"]
    admin.call("DELETE", f"domains/{custom['id']}")

    plan = plan_restore(repo, client, good, Selection(("domains",), (custom["id"],)))
    [create] = plan.steps
    # Graph's create takes the name alone: nothing else could be written to an unverified domain.
    assert (create.method, create.path, create.body) == ("POST", "domains", {"id": custom["id"]})
    result = apply_plan(repo, client, plan)
    assert result.failed == []
    back = admin.get(f"domains/{custom['id']}")
    assert back["isVerified"] is False and back["supportedServices"] == []

    again = plan_restore(repo, client, good, Selection(("domains",), (custom["id"],)))
    reasons = {b.what: b.reason for b in again.blocked}
    assert "isVerified" in reasons and "DNS" in reasons["isVerified"] and "until its owner verifies it" in reasons["isVerified"]
    # The rest waits for the owner's verification (Graph updates no unverified domain); the plan still
    # lists it, for a restore once the domain is verified.
    assert [(s.method, s.path) for s in again.steps] == [("PATCH", f"domains/{custom['id']}")]


def test_a_deleted_social_identity_provider_is_not_made_again_and_its_secret_never_stored(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo, "identityProviders")
    google = repo.read_objects(good, get_type("identityProviders"))["Google-OAUTH"]
    assert "clientSecret" not in google and google["clientId"]
    admin.call("DELETE", "identity/identityProviders/Google-OAUTH")
    plan = plan_restore(repo, client, good, Selection(("identityProviders",), ("Google-OAUTH",)))
    assert plan.steps == []
    [blocked] = plan.blocked
    assert "client secret" in blocked.reason and "no snapshot holds" in blocked.reason
    assert run("types").output.count("cannot be made again") >= 1


def _policy(admin: Admin) -> dict[str, Any]:
    return {k: v for k, v in admin.get(DEVICE_REGISTRATION).items() if not k.startswith("@odata")}


def test_the_device_registration_policy_is_restored_by_a_put_of_the_whole_policy(
        repo: BackupRepo, client: GraphClient, admin: Admin, sim: Simulator) -> None:
    good = _snapshot(repo, "deviceRegistrationPolicy")
    before = _policy(admin)
    # An admin's update is a PUT; userDeviceQuota left out is reset to 0, as Graph does.
    writable = {k: v for k, v in before.items() if k not in ("id", "displayName", "description", "userDeviceQuota")}
    put = admin.call("PUT", DEVICE_REGISTRATION, json={**writable, "multiFactorAuthConfiguration": "notRequired"})
    assert put.status_code == 200 and put.json()["userDeviceQuota"] == 0
    assert admin.session.patch(f"{sim.graph_url}/v1.0/{DEVICE_REGISTRATION}", json={"userDeviceQuota": 5}).status_code == 405

    plan = plan_restore(repo, client, good, Selection(("deviceRegistrationPolicy",)))
    [step] = plan.steps
    assert step.method == "PUT" and set(step.body or {}) == set(writable) | {"userDeviceQuota"}
    assert step.describe().startswith("PUT deviceRegistrationPolicy/")
    assert apply_plan(repo, client, plan).failed == []
    policy_type = get_type("deviceRegistrationPolicy")
    assert repo.read_objects(_snapshot(repo, policy_type.name), policy_type) == repo.read_objects(good, policy_type)


def test_a_changed_federation_trust_is_flagged_and_put_back(repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo, "domains")
    [domain] = [d for d in admin.get("domains")["value"] if d["authenticationType"] == "Federated"]
    at = f"domains/{domain['id']}/federationConfiguration"
    [before] = admin.get(at)["value"]
    admin.call("PATCH", f"{at}/{before['id']}", json={"issuerUri": "http://evil.example.net/adfs/services/trust",
                                                      "signingCertificate": "MIIC8DCCAdigAwIBAgIQbackdoor"})
    changed = _snapshot(repo, "domains")
    report = run("diff", "--repo", str(repo.root), good, changed).output
    assert "domain-federation-trust-changed" in report and "evil.example.net" in report

    plan = plan_restore(repo, client, good, Selection(("domains",), (domain["id"],)))
    [step] = plan.steps
    assert (step.method, step.path) == ("PATCH", f"{at}/{before['id']}")
    assert step.body == {"issuerUri": before["issuerUri"], "signingCertificate": before["signingCertificate"]}
    assert apply_plan(repo, client, plan).failed == []
    [after] = admin.get(at)["value"]
    assert {k: after[k] for k in ("issuerUri", "signingCertificate")} == {k: before[k] for k in ("issuerUri", "signingCertificate")}


EXTERNAL_FEDERATIONS = "directory/federationConfigurations/microsoft.graph.samlOrWsFedExternalDomainFederation"


def test_a_domain_added_to_a_partner_identity_provider_is_named_as_not_removable_and_a_deleted_one_comes_back_with_its_domains(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    good = _snapshot(repo, "externalDomainFederations")
    [federation] = admin.get(EXTERNAL_FEDERATIONS)["value"]
    kept = repo.read_objects(good, get_type("externalDomainFederations"))[federation["id"]]
    assert kept["domains"] == [{"id": "contoso.co.uk"}, {"id": "contoso.com"}]
    admin.call("POST", f"{EXTERNAL_FEDERATIONS}/{federation['id']}/domains", json={"id": "outsider.example.net"})

    plan = plan_restore(repo, client, good, Selection(("externalDomainFederations",), (federation["id"],)))
    assert plan.steps == []
    [blocked] = plan.blocked
    assert "outsider.example.net" in blocked.what and "no update or delete of a federation's domain" in blocked.reason

    admin.call("DELETE", f"{EXTERNAL_FEDERATIONS}/{federation['id']}")
    plan = plan_restore(repo, client, good, Selection(("externalDomainFederations",), (federation["id"],)))
    [create] = plan.steps
    # Graph takes the domains in the create's body, each by its name.
    assert (create.method, create.path) == ("POST", EXTERNAL_FEDERATIONS)
    assert create.body is not None and create.body["domains"] == [{"id": "contoso.co.uk"}, {"id": "contoso.com"}]
    assert apply_plan(repo, client, plan).failed == []
    [back] = admin.get(EXTERNAL_FEDERATIONS)["value"]
    assert back["id"] != federation["id"] and back["issuerUri"] == federation["issuerUri"]
    domains = admin.get(f"{EXTERNAL_FEDERATIONS}/{back['id']}/domains")["value"]
    assert [d["id"] for d in domains] == ["contoso.co.uk", "contoso.com"]
