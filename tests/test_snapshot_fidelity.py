"""Snapshots hold what Microsoft's documented requests make, and a restore undoes their documented updates exactly.

The requests are the conformance corpus's (tests/sim/corpus, restated from Microsoft's documentation pages),
sent to a simulated tenant as an admin would send them; snapshot, diff and restore run through the CLI on a
real git repository. Whatever an example creates must be in the next snapshot's files; a second snapshot of
the unchanged tenant makes no commit; and after the documented update of every type that has one, a restore
leaves nothing for `diff --live` to show and nothing for the next snapshot to commit, list order and empty
lists included, as the canonical form writes them.
"""

from __future__ import annotations

from typing import Any

from entragit.registry import REGISTRY, ObjectType
from entragit.sim import Simulator
from entragit.store import BackupRepo
from tests.conftest import Admin, run
from tests.sim.documented import EXAMPLES, fill, run_given, send

# Objects a request makes in another collection than the one it is sent to: (type, answer key of its id).
_MADE_THROUGH = {"roleManagement/directory/roleEligibilityScheduleRequests": ("roleEligibilitySchedules", "targetScheduleId")}


def _snapshot(repo: BackupRepo) -> str:
    run("snapshot", "--repo", str(repo.root))
    return repo.resolve("HEAD")


def _made(type_name: str, example: dict[str, Any], answer: dict[str, Any]) -> tuple[ObjectType, str] | None:
    """The registry type and id of the object an example's request made, if it is a creation."""
    request = example["request"]
    object_type = REGISTRY[type_name]
    url = request["url"]
    if request["method"] == "POST" and example["status"] == 201:
        if url.lower() == object_type.collection.lower():
            return object_type, object_type.object_id(answer)
        if url in _MADE_THROUGH and answer.get(_MADE_THROUGH[url][1]):
            made_as, key = _MADE_THROUGH[url]
            return REGISTRY[made_as], str(answer[key])
    return None


def _item_update(type_name: str, example: dict[str, Any]) -> bool:
    """Whether the example is an update (PATCH) of one object of its type, not of a part of it."""
    object_type = REGISTRY[type_name]
    url = example["request"]["url"]
    if example["request"]["method"] != "PATCH":
        return False
    if object_type.singleton:
        return url.lower() == object_type.collection.lower()
    parent, _, key = url.rpartition("/")
    return parent.lower() == object_type.collection.lower() and bool(key)


def test_documented_creations_are_in_the_next_snapshot(sim: Simulator, repo: BackupRepo, admin: Admin) -> None:
    first = _snapshot(repo)
    made: list[tuple[ObjectType, str, Any]] = []
    for type_name, example in EXAMPLES:
        if example["request"]["method"] != "POST" or example["status"] != 201:
            continue
        given = run_given(admin.session, sim, example)
        response = send(admin.session, sim, example["request"], given, example.get("version", "v1.0"))
        assert response.status_code == 201, (example["name"], response.text)
        answer = response.json()
        if (found := _made(type_name, example, answer)) is not None:
            made.append((*found, answer.get("displayName")))
    assert {object_type.name for object_type, _, _ in made} >= {"users", "groups", "applications", "servicePrincipals",
                                                                "conditionalAccessPolicies", "namedLocations",
                                                                "roleAssignments", "roleEligibilitySchedules"}

    second = _snapshot(repo)
    assert second != first
    for object_type, object_id, display_name in made:
        stored = repo.read_objects(second, object_type)
        assert object_id in stored, f"{object_type.name} {object_id} is missing from the snapshot"
        if display_name is not None:
            assert stored[object_id]["displayName"] == display_name

    # Nothing changed since: a full snapshot finds nothing to commit.
    assert _snapshot(repo) == second


def test_a_restore_undoes_every_documented_update_exactly(sim: Simulator, repo: BackupRepo, admin: Admin) -> None:
    updates = [(t, e) for t, e in EXAMPLES if _item_update(t, e)]
    givens = [run_given(admin.session, sim, example) for _, example in updates]
    good = _snapshot(repo)

    touched: dict[str, str] = {}  # object id -> its type
    for (type_name, example), given in zip(updates, givens):
        object_type = REGISTRY[type_name]
        target = object_type.singleton or fill(example["request"]["url"], sim, given).rpartition("/")[2]
        if target not in repo.object_ids(good, object_type):
            continue  # a PATCH that makes the object (an authentication context's upsert): nothing to undo
        response = send(admin.session, sim, example["request"], given, example.get("version", "v1.0"))
        assert response.status_code == example["status"], (example["name"], response.text)
        touched[target] = type_name
    assert len(set(touched.values())) >= 15, sorted(set(touched.values()))
    assert run("diff", good, "--live", "--repo", str(repo.root), "--exit-code", ok=False).exit_code == 2

    ids = [arg for object_id in sorted(touched) for arg in ("--id", object_id)]
    run("restore", "--repo", str(repo.root), "--at", good, *ids, "--yes", "--accept-risk")
    shown = run("diff", good, "--live", "--repo", str(repo.root), "--exit-code", ok=False)
    assert shown.exit_code == 0, shown.output
    assert _snapshot(repo) == good
