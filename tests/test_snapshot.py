from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from pathlib import Path

import pytest

from entragit import canonical
from entragit.connect import graph_client
from entragit.errors import GraphError, StoreError
from entragit.sim import Simulator
from entragit.registry import resolve_types
from entragit.snapshot import read_tenant, take_snapshot
from entragit.store import BackupRepo, Content
from entragit.store.paths import OBJECT_FILES
from entragit.store.plumbing.fastimport import BlobImporter
from entragit.store.plumbing.index import PreparedFolders
from entragit.store.plumbing.stager import Stager
from entragit.store.plumbing.tar import FileWriter
from tests.conftest import Admin, connection_of, run


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.glob("*/*.yaml")}


def test_snapshot_writes_one_canonical_file_per_object_and_one_commit(repo: BackupRepo, admin: Admin) -> None:
    result = run("snapshot", "--repo", str(repo.root))

    users = admin.get("users", **{"$top": "999", "$select": "id"})["value"]
    assert sorted(p.stem for p in (repo.root / "users").glob("*.yaml")) == sorted(u["id"] for u in users)
    assert list((repo.root / "groups").glob("*.yaml"))
    assert list((repo.root / "conditionalAccessPolicies").glob("*.yaml"))
    assert list((repo.root / "namedLocations").glob("*.yaml"))
    head = repo.git.head.commit
    assert f"users: {len(users)}" in head.message
    assert head.message.startswith("Snapshot: ")
    assert "Entragit-Tenant: " in head.message
    assert f"{len(users)} users" in result.output

    text = (repo.root / "users" / f"{users[0]['id']}.yaml").read_text()
    keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith((" ", "-"))]
    assert keys[:2] == ["id", "displayName"]
    assert keys[2:] == sorted(keys[2:])
    # Volatile and derived properties never reach a file: they would make every snapshot differ.
    for volatile in ("createdDateTime", "lastPasswordChangeDateTime", "proxyAddresses", "@odata"):
        assert volatile not in text


def test_unchanged_tenant_gives_identical_files_and_no_commit(repo: BackupRepo) -> None:
    run("snapshot", "--repo", str(repo.root))
    before_files, before_head = _files(repo.root), repo.git.head.commit.hexsha

    result = run("snapshot", "--repo", str(repo.root))

    assert "no commit" in result.output.lower()
    assert repo.git.head.commit.hexsha == before_head
    assert _files(repo.root) == before_files


def _index_matches_the_working_tree(repo: BackupRepo) -> None:
    """Every file is as committed, and the index knows it from stat data alone: git has nothing to re-read
    (diff-files reports a file whose stat data the index lacks as changed)."""
    listing = (line.split(" ")[2].split("\t")[::-1] for line in repo.git.git.ls_tree("-r", "HEAD").splitlines())
    tree = {path: blob for path, blob in listing if "/" in path}
    blobs = repo.read_blobs(list(tree.values()))
    assert _files(repo.root) == {path: blobs[blob] for path, blob in tree.items()}
    assert repo.git.git.diff_files("--name-only") == ""


def test_a_change_in_the_tenant_gives_a_commit_touching_only_that_file(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    user = admin.users("Finance")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Chief Bean Counter"})

    run("snapshot", "--repo", str(repo.root))

    changed = repo.git.git.diff("--name-only", "HEAD~1", "HEAD").split()
    assert changed == [f"users/{user['id']}.yaml"]
    assert "jobTitle: Chief Bean Counter" in (repo.root / changed[0]).read_text()


def test_new_folders_and_changed_files_in_old_ones_land_in_the_working_tree_as_committed(
        repo: BackupRepo, admin: Admin) -> None:
    take_snapshot(repo, ("users",))
    user = admin.users("Finance")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Chief Bean Counter"})

    take_snapshot(repo)

    _index_matches_the_working_tree(repo)
    assert "jobTitle: Chief Bean Counter" in (repo.root / "users" / f"{user['id']}.yaml").read_text()
    assert list((repo.root / "groups").glob("*.yaml"))
    assert repo.git.git.status("--porcelain") == ""
    assert not list((Path(repo.git.git_dir) / "entragit").glob("worktree-*"))
    assert not list((Path(repo.git.git_dir) / "entragit").glob("importer-*"))


def test_files_written_and_stored_in_many_segments_are_all_committed_and_indexed_as_they_are(
        repo: BackupRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PreparedFolders, "SEGMENT", 7)  # every few files: tar ends, git adds them
    monkeypatch.setattr(BlobImporter, "SEGMENT", 5)  # every few blobs: a pack ends

    take_snapshot(repo)

    _index_matches_the_working_tree(repo)
    assert repo.git.git.status("--porcelain") == ""
    assert not list(Path(repo.git.git_dir).glob("entragit-*index*"))


def test_what_another_git_command_staged_while_a_snapshot_ran_stays_staged(
        repo: BackupRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    close = PreparedFolders.close

    def close_then_stage_a_note(folders: PreparedFolders) -> object:
        prepared = close(folders)
        if not (repo.root / "notes.md").exists():
            (repo.root / "notes.md").write_text("reviewed\n")
            repo.git.git.add("notes.md")  # the prepared files were added to a copy of the index before this
        return prepared

    monkeypatch.setattr(PreparedFolders, "close", close_then_stage_a_note)

    take_snapshot(repo)

    assert repo.git.git.diff("--cached", "--name-only") == "notes.md"
    _index_matches_the_working_tree(repo)


def test_files_prepared_for_a_new_folder_keep_names_of_any_length_and_their_bytes(tmp_path: Path) -> None:
    # The names that do not fit a tar header's 100 bytes take another way through the stream.
    files = {f"users/{'a' * 36}.yaml": b"id: a\n", f"roleAssignments/{'b' * 120}.yaml": b"x" * 1000,
             "groups/\u00e9t\u00e9.yaml": b"", "groups/large.yaml": bytes(range(256)) * 40}
    writer = FileWriter(tmp_path / "prepared")
    writer.write(dict(list(files.items())[:2]))
    writer.write(dict(list(files.items())[2:]))
    writer.close()
    assert _files(tmp_path / "prepared") == files
    assert {(tmp_path / "prepared" / path).stat().st_mode & 0o777 for path in files} == {0o644}


def test_files_that_are_not_objects_stay_through_snapshots_and_an_emptied_folder_goes(
        repo: BackupRepo, admin: Admin) -> None:
    take_snapshot(repo)
    notes = {"users/README.md": "Who owns these accounts\n", "users/reviews/2026 Q3 \u00e9t\u00e9.txt": "signed off\n"}
    for path, text in notes.items():
        (repo.root / path).parent.mkdir(parents=True, exist_ok=True)
        (repo.root / path).write_text(text)
    repo.git.git.add("--", *notes)
    repo.git.git.commit("-q", "-m", "Notes beside the snapshot", env=repo._identity_env())
    user = admin.users("Finance")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Chief Bean Counter"})
    for policy in admin.get("policies/tokenLifetimePolicies")["value"]:
        admin.call("DELETE", f"policies/tokenLifetimePolicies/{policy['id']}")

    take_snapshot(repo)

    committed = repo.git.git.ls_tree("-r", "--name-only", "-z", "HEAD").split("\0")
    assert {path: repo.git.git.show(f"HEAD:{path}") + "\n" for path in notes} == notes
    assert not [path for path in committed if path.startswith("tokenLifetimePolicies/")]
    assert "jobTitle: Chief Bean Counter" in repo.git.git.show(f"HEAD:users/{user['id']}.yaml")
    assert repo.git.git.status("--porcelain") == ""


def test_staging_is_queued_while_heads_files_are_still_being_listed(repo: BackupRepo) -> None:
    listed = threading.Event()

    def slow_listing() -> dict[str, str]:
        listed.wait(30)
        return {}

    users = resolve_types(("users",))[0]
    with Stager(repo.git, OBJECT_FILES, [users], repo.resolve("HEAD"), slow_listing) as stager:
        stager.write(users, {"u1": {"id": "u1", "displayName": "One"}})
        stager.add(users, Content({"u1": {"id": "u1", "displayName": "One"}, "u2": {"id": "u2"}}))
        assert not listed.is_set()  # neither call waited for the listing
        listed.set()
        staged = stager.staged()
    assert sorted(staged.writes) == ["users/u1.yaml", "users/u2.yaml"]


def test_a_failed_listing_of_heads_files_stops_the_next_staging(repo: BackupRepo) -> None:
    def refused() -> dict[str, str]:
        raise StoreError("uncommitted changes in snapshot folders")

    users = resolve_types(("users",))[0]
    with Stager(repo.git, OBJECT_FILES, [users], repo.resolve("HEAD"), refused) as stager:
        with pytest.raises(StoreError, match="uncommitted changes"):
            for _ in range(1000):  # the listing fails on the stager's thread, soon after it began
                stager.write(users, {})
                time.sleep(0.01)
        with pytest.raises(StoreError, match="uncommitted changes"):
            stager.staged()


def test_an_index_another_git_command_holds_stops_the_snapshot_before_anything_moves(
        repo: BackupRepo, admin: Admin) -> None:
    take_snapshot(repo, ("users",))
    head = repo.resolve("HEAD")
    admin.call("PATCH", f"users/{admin.users('Finance')[0]['id']}", json={"jobTitle": "Chief Bean Counter"})
    lock = Path(repo.git.git_dir) / "index.lock"
    lock.write_text("")

    with pytest.raises(StoreError, match="index.lock exists: another git command is using the index"):
        take_snapshot(repo, ("users",))

    assert lock.exists()  # the other command's lock is left alone
    assert repo.resolve("HEAD") == head
    lock.unlink()
    assert repo.git.git.status("--porcelain") == ""
    assert take_snapshot(repo, ("users",)).commit is not None


def test_a_commit_made_while_a_snapshot_ran_stops_it_before_anything_moves(
        repo: BackupRepo, admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    take_snapshot(repo, ("users",))
    admin.call("PATCH", f"users/{admin.users('Finance')[0]['id']}", json={"jobTitle": "Chief Bean Counter"})
    staged = Stager.staged

    def staged_then_someone_commits(stager: Stager) -> object:
        result = staged(stager)
        (repo.root / "notes.md").write_text("reviewed\n")
        repo.git.git.add("notes.md")
        repo.git.git.commit("-q", "-m", "Notes", env=repo._identity_env())
        return result

    monkeypatch.setattr(Stager, "staged", staged_then_someone_commits)
    with pytest.raises(StoreError, match="moved while the snapshot was taken"):
        take_snapshot(repo, ("users",))
    monkeypatch.undo()

    assert repo.git.head.commit.message.strip() == "Notes"
    assert repo.git.git.status("--porcelain") == ""
    assert take_snapshot(repo, ("users",)).commit is not None
    assert "jobTitle: Chief Bean Counter" in repo.git.git.show(f"HEAD:users/{admin.users('Finance')[0]['id']}.yaml")


def test_an_edited_file_in_a_snapshot_folder_stops_the_snapshot_and_stays_as_it_is(
        repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    head = repo.git.head.commit.hexsha
    edited = next((repo.root / "groups").glob("*.yaml"))
    edited.write_text(edited.read_text() + "note: mine\n")
    admin.call("PATCH", f"users/{admin.users('Finance')[0]['id']}", json={"jobTitle": "Chief Bean Counter"})

    result = run("snapshot", "--repo", str(repo.root), ok=False)

    assert result.exit_code == 1
    assert "uncommitted changes" in result.output and f"groups/{edited.name}" in result.output
    assert repo.git.head.commit.hexsha == head
    assert edited.read_text().endswith("note: mine\n")
    assert repo.git.git.status("--porcelain") == f" M groups/{edited.name}"


def test_two_simulators_with_one_seed_snapshot_to_identical_trees(repo: BackupRepo, tmp_path: Path) -> None:
    take_snapshot(repo)
    with Simulator(seed=42, size="small", state_dir=str(tmp_path / "twin")) as twin:
        objects = read_tenant(graph_client(connection_of(twin)), resolve_types(()))
    twin_files = {f"{t.name}/{i}.yaml": canonical.dump(o) for t, by_id in objects.items() for i, o in by_id.items()}
    assert twin_files == _files(repo.root)


def test_a_read_failing_part_way_commits_nothing_and_leaves_the_tree_clean(repo: BackupRepo, sim: Simulator,
                                                                           tmp_path: Path) -> None:
    run("snapshot", "--repo", str(repo.root))
    head, files = repo.git.head.commit.hexsha, _files(repo.root)
    # The simulator removes its CA file when it stops; keep a copy so the failure is the connection's.
    ca_copy = tmp_path / "ca.pem"
    shutil.copy(sim.ca_bundle, ca_copy)
    connection = dataclasses.replace(connection_of(sim), ca_bundle=str(ca_copy))
    client = graph_client(connection, sleep=lambda seconds: None)

    def tenant_goes_away(what: str, count: int) -> None:
        if what == "users":  # users are read after named locations and groups
            sim.stop()

    with pytest.raises(GraphError):
        take_snapshot(repo, progress=tenant_goes_away, client=client, full=True)

    assert repo.git.head.commit.hexsha == head
    assert _files(repo.root) == files
    assert repo.git.git.status("--porcelain") == ""


def test_canonical_bytes_are_spelled_the_same_on_every_machine() -> None:
    # entragit writes the files itself, so no YAML library version or C extension changes a byte.
    tricky = {"id": "x", "displayName": "O'Neil \"Quoted\"",
              "notes": ["multi\nline", "'q'", "a: b", "#x", "yes", "", " lead", "1e3", "2024-01-01", "ü"]}
    text = canonical.dump(tricky).decode()
    assert canonical.load(text, "x.yaml") == tricky
    assert text.splitlines() == [
        "id: x",
        "displayName: O'Neil \"Quoted\"",
        "notes:",
        "- \"multi\\nline\"",
        "- '''q'''",
        "- 'a: b'",
        "- '#x'",
        "- 'yes'",
        "- ''",
        "- ' lead'",
        "- '1e3'",
        "- '2024-01-01'",
        "- ü",
    ]


def _delete_users(admin: Admin, department: str, count: int) -> int:
    doomed = admin.users(department)[:count]
    for user in doomed:
        admin.call("DELETE", f"users/{user['id']}")
    return len(doomed)


def test_a_mass_vanishing_is_held_back_on_a_side_branch(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    head, files = repo.git.head.commit.hexsha, _files(repo.root)
    deleted = sum(_delete_users(admin, department, 30) for department in ("Engineering", "Support", "Operations"))

    held = run("snapshot", "--repo", str(repo.root), ok=False)

    assert held.exit_code == 1
    assert "held back as suspect" in held.output and "users vanished" in held.output
    assert repo.git.head.commit.hexsha == head and _files(repo.root) == files
    [branch] = [b for b in repo.git.branches if b.name.startswith("entragit/suspect/")]
    assert branch.name in held.output
    assert branch.commit.parents[0].hexsha == head
    assert branch.commit.message.startswith("Suspect snapshot: ")
    removed = repo.git.git.diff("--name-only", "--diff-filter=D", head, branch.commit.hexsha).split()
    assert deleted > 41 and len(removed) == deleted and all(p.startswith("users/") for p in removed)


def test_a_real_mass_change_is_accepted_onto_the_main_line_when_said_so(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    head = repo.git.head.commit.hexsha
    for department in ("Engineering", "Support", "Operations"):
        _delete_users(admin, department, 30)

    run("snapshot", "--repo", str(repo.root), "--accept-mass-change")

    assert repo.git.head.commit.parents[0].hexsha == head
    assert repo.git.head.commit.message.startswith("Snapshot: ")
    assert not [b for b in repo.git.branches if b.name.startswith("entragit/suspect/")]


def test_a_small_vanishing_is_an_ordinary_snapshot(repo: BackupRepo, admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    _delete_users(admin, "Support", 5)
    run("snapshot", "--repo", str(repo.root))
    assert len(repo.git.git.diff("--name-only", "--diff-filter=D", "HEAD~1", "HEAD").split()) == 5


def test_each_commit_records_counts_and_mode_per_type_in_trailers(repo: BackupRepo) -> None:
    run("snapshot", "--repo", str(repo.root))
    trailers = repo.git.git.log("-1", "--format=%(trailers:key=Entragit-Type,valueonly)").split("\n")
    by_type = {line.split()[0]: line.split()[1:] for line in trailers if line}
    assert set(by_type) == {p.name for p in repo.root.iterdir() if p.is_dir() and p.name != ".git"}
    users = len(list((repo.root / "users").glob("*.yaml")))
    assert by_type["users"] == [f"count={users}", "mode=full"]


def test_every_registry_type_is_snapshotted_stable_and_listed(repo: BackupRepo) -> None:
    from entragit.registry import REGISTRY

    run("snapshot", "--repo", str(repo.root))
    for name in REGISTRY:
        files = list((repo.root / name).glob("*.yaml"))
        assert files, f"no {name} in the snapshot"
        for path in files:  # each file is already in canonical form: loading and dumping changes nothing
            assert canonical.dump(canonical.load(path.read_bytes(), str(path))) == path.read_bytes()
    assert run("snapshot", "--repo", str(repo.root), "--full").output.startswith("No changes")
    listed = run("types").output
    assert all(name in listed for name in REGISTRY)


def test_a_type_the_app_may_not_read_is_skipped_with_a_warning_not_emptied(repo: BackupRepo, sim: Simulator,
                                                                          admin: Admin) -> None:
    run("snapshot", "--repo", str(repo.root))
    grants = sorted(p.name for p in (repo.root / "oauth2PermissionGrants").glob("*.yaml"))
    user = admin.users("Finance")[0]
    admin.call("PATCH", f"users/{user['id']}", json={"jobTitle": "Still backed up"})
    sim.settings.denied_paths = "oauth2PermissionGrants"

    result = run("snapshot", "--repo", str(repo.root), ok=False)

    assert result.exit_code == 1  # committed, but a pipeline must notice the backup is not whole
    assert "oauth2PermissionGrants: skipped" in result.output and "DelegatedPermissionGrant" not in result.output
    assert "Directory.Read.All" in result.output
    assert sorted(p.name for p in (repo.root / "oauth2PermissionGrants").glob("*.yaml")) == grants
    message = repo.git.head.commit.message
    assert "oauth2PermissionGrants count=" in message and "mode=skipped" in message
    assert "Not read (permission refused)" in message
    assert "Still backed up" in (repo.root / "users" / f"{user['id']}.yaml").read_text()


def test_links_beyond_what_graph_expands_are_all_read(repo: BackupRepo, admin: Admin, sim: Simulator) -> None:
    # Owners are read 15 objects a request with $expand, which Graph cuts at 20 objects without saying so.
    app = next(iter(admin.get("applications", **{"$top": "1"})["value"]))
    users = admin.get("users", **{"$top": "30", "$select": "id"})["value"]
    for user in users:
        admin.call("POST", f"applications/{app['id']}/owners/$ref",
                   json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"})
    owners = {o["id"] for o in admin.get(f"applications/{app['id']}/owners", **{"$top": "999"})["value"]}
    assert len(owners) > 20

    take_snapshot(repo, full=True)

    stored = canonical.load((repo.root / "applications" / f"{app['id']}.yaml").read_bytes(), "app")
    assert set(stored["owners"]) == owners
