"""Tenant and sign-in configuration: each authentication method's configuration in a file of its own, and
what a repository written before that change reads as."""

from __future__ import annotations

from entragit.canonical import dump
from entragit.graph import GraphClient
from entragit.registry import get_type
from entragit.restore import plan_restore
from entragit.selection import Selection
from entragit.store import BackupRepo
from tests.conftest import Admin, run

POLICY = "authenticationMethodsPolicy"
METHODS = "authenticationMethodConfigurations"
SMS = f"policies/{POLICY}/{METHODS}/Sms"


def _snapshot(repo: BackupRepo) -> str:
    run("snapshot", "--repo", str(repo.root))
    return repo.resolve("HEAD")


def _as_an_older_entragit_wrote_it(repo: BackupRepo, at: str) -> None:
    """Commit the snapshot at `at` in the older layout: the methods as a list inside the policy's file."""
    methods = repo.read_objects(at, get_type(METHODS))
    policy = repo.read_objects(at, get_type(POLICY))[POLICY]
    (repo.root / POLICY / f"{POLICY}.yaml").write_bytes(
        dump({**policy, METHODS: [methods[i] for i in sorted(methods)]}))
    git = ["git", "-c", "user.name=Old", "-c", "user.email=old@example.com"]
    repo.git.git.execute([*git, "rm", "-rq", METHODS])
    repo.git.git.execute([*git, "commit", "-qam", "Snapshot in the older layout"])


def test_each_method_is_a_file_of_its_own_and_the_policy_holds_none(repo: BackupRepo) -> None:
    head = _snapshot(repo)
    methods = repo.read_objects(head, get_type(METHODS))
    assert {"Fido2", "Sms", "Email", "TemporaryAccessPass"} <= set(methods)
    assert methods["Sms"]["@odata.type"] == "#microsoft.graph.smsAuthenticationMethodConfiguration"
    assert METHODS not in repo.read_objects(head, get_type(POLICY))[POLICY]


def test_a_repository_from_before_reads_as_the_list_gone_and_a_file_per_method(
        repo: BackupRepo, client: GraphClient, admin: Admin) -> None:
    _as_an_older_entragit_wrote_it(repo, _snapshot(repo))
    old = repo.resolve("HEAD")
    admin.call("PATCH", SMS, json={"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
                                   "state": "enabled"})
    _snapshot(repo)

    output = run("diff", old, "HEAD", "--repo", str(repo.root)).output

    assert METHODS in output and "Sms" in output
    plan = plan_restore(repo, client, old, Selection((POLICY,)))
    assert [s for s in plan.steps if METHODS in (s.body or {})] == []


def test_predefined_values_once_given_up_are_not_asked_back_of_graph(repo: BackupRepo, client: GraphClient,
                                                                     admin: Admin) -> None:
    good = _snapshot(repo)
    admin.call("PATCH", "directory/customSecurityAttributeDefinitions/Engineering_Project",
               json={"usePreDefinedValuesOnly": False, "description": "Loosened"})

    plan = plan_restore(repo, client, good, Selection((), ("Engineering_Project",)))

    [patch] = plan.steps
    assert patch.body == {"description": "Active projects for user"}
    [refused] = plan.blocked
    assert refused.what == "usePreDefinedValuesOnly" and "never back" in refused.reason
