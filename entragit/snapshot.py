"""A snapshot: read every selected type from Graph, write canonical files, make one commit."""

from __future__ import annotations

import functools
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from entragit import __version__
from entragit.canonical import Obj, with_items, with_relation
from entragit.config import Guard
from entragit.connect import graph_client
from entragit.errors import GraphError
from entragit.graph import GraphClient
from entragit.live import (
    DeltaUnusable,
    ProgressFn,
    delta_signature,
    fetch_objects,
    fetch_type,
    fetch_type_from_now,
    read_delta,
    read_sub_collections,
    related_many,
)
from entragit.permissions import check_tenant, sign_in
from entragit.registry import ObjectType, Relationship, resolve_types
from entragit.registry.writes import SubCollection
from entragit.store import SNAPSHOT_TRAILER, BackupRepo, Content, ObjectStager, Staged, encode_links, items_digest

SUSPECT_PREFIX = "entragit/suspect/"
# Codes of Graph's answer to a type whose feature the tenant has no licence for (Microsoft Entra ID
# Governance: entitlement management answers 403 NoLicense, "Tenant does not meet license requirement!").
LICENCE_MISSING = frozenset({"NoLicense"})


@dataclass(frozen=True)
class SnapshotResult:
    commit: str | None
    """The new commit, or None when the tenant matched the last snapshot byte for byte."""
    counts: dict[str, int]
    changed_files: int
    suspicions: list[str] = field(default_factory=list)
    """Why the snapshot looks like a partial answer rather than the tenant; non-empty: held back."""
    branch: str | None = None
    """Where a held-back snapshot was committed instead of the current branch."""
    modes: dict[str, str] = field(default_factory=dict)
    """Type name -> "full", "delta", "skipped" (Graph refused to read it) or "unavailable" (the tenant lacks
    the licence the type needs): how each type was read."""
    notes: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> list[str]:
        """Types Graph refused to read: their files are as the last snapshot had them."""
        return [name for name, mode in self.modes.items() if mode == "skipped"]


def _message(tenant_id: str, counts: dict[str, int], modes: dict[str, str], when: datetime,
             suspicions: list[str]) -> str:
    total = f"{sum(counts.values())} objects in {len(counts)} types"
    lines = [f"{'Suspect snapshot' if suspicions else 'Snapshot'}: {total}", ""]
    lines += [f"{name}: {n}" for name, n in counts.items()]
    if suspicions:
        lines += ["", "Held back from the main line, because:"] + [f"- {s}" for s in suspicions]
    skipped = [name for name, mode in modes.items() if mode == "skipped"]
    if skipped:
        lines += ["", f"Not read (permission refused), files kept as they were: {', '.join(skipped)}"]
    unlicensed = [name for name, mode in modes.items() if mode == "unavailable"]
    if unlicensed:
        lines += ["", f"Not available (the tenant lacks their licence), files kept as they were: {', '.join(unlicensed)}"]
    lines += [
        "",
        f"{SNAPSHOT_TRAILER}: {when.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"Entragit-Tenant: {tenant_id}",
        f"Entragit-Version: {__version__}",
    ]
    # One trailer per type, so tools can read counts and how each type was read without parsing prose.
    lines += [f"Entragit-Type: {name} count={n} mode={modes[name]}" for name, n in counts.items()]
    return "\n".join(lines)


def suspicions(staged: Staged, counts: dict[str, int], guard: Guard) -> list[str]:
    """A partial Graph answer looks exactly like a mass deletion: name every type where that is what
    this snapshot would record, so it never becomes the known-good state a restore trusts."""
    found = []
    for name, before in staged.before.items():
        vanished = staged.vanished(name)
        if before > guard.minimum_objects and vanished / before > guard.vanished_share:
            found.append(f"{vanished} of {before} {name} vanished since the last snapshot "
                         f"({vanished / before:.0%}; the guard allows {guard.vanished_share:.0%}), "
                         f"{counts.get(name, 0)} remain")
    return found


# Types are read side by side: their endpoints are throttled separately (Conditional Access has its own
# 1 request/s), so one type's waits overlap another's reads. Most of a read is waiting on Graph.
# - The directory's big collections (the types Graph reads by delta: users, one long chain of pages) each
#   have many requests out at once already: a few of them at a time.
_TYPE_WORKERS = 4
# - The configuration types, a request or two each, do little but wait on Graph: workers of their own, so
#   that fifty of them do not queue behind the big collections (or the other way round).
_CONFIGURATION_WORKERS = 6


def _holders_first(types: list[ObjectType]) -> list[ObjectType]:
    """The types whose objects hold collections of their own (the organization's branding images, a
    request each) start first, so that the one-request types fill the time they take."""
    return sorted(types, key=lambda t: not t.sub_collections)


@dataclass(frozen=True)
class TypeRead:
    content: Content
    mode: str
    """"full" or "delta"."""
    link: str | None = None
    """The deltaLink to continue from once this read is committed."""
    note: str | None = None
    links: dict[str, dict[str, list[str]]] | None = None
    """Relationship -> every object's links as committed: the next incremental read compares those delta
    does not report (owners) against them, and a restore learns from them who held an object. None where
    the links kept already are right (an incremental read that found nothing of the type changed)."""
    item_digests: dict[str, str] | None = None
    """Every object's digest of the items delta does not report on (items_digest) as committed, for the next
    incremental read to compare with; None where the type has no such items or those kept are right."""


def read_tenant(client: GraphClient, types: list[ObjectType], progress: ProgressFn | None = None
                ) -> dict[ObjectType, dict[str, Obj]]:
    """Every object of every type, read in full (what a live diff compares against)."""
    with ThreadPoolExecutor(_TYPE_WORKERS) as pool:
        results = list(pool.map(lambda t: fetch_type(client, t, progress), types))
    return dict(zip(types, results))


def _read_full(client: GraphClient, object_type: ObjectType, progress: ProgressFn | None, stager: ObjectStager,
               note: str | None = None) -> TypeRead:
    # The deltaLink is taken before the read: a change in between shows up (again) next time, and
    # reading it twice is harmless, where missing it would not be.
    def stage_page(objects: dict[str, Obj]) -> None:
        stager.write(object_type, objects)

    link = None
    if object_type.delta:
        try:
            objects, link = fetch_type_from_now(client, object_type, progress, stage_page)
        except DeltaUnusable as why:
            # The objects can still be read in full; only the way to read less next time is missing.
            objects = fetch_type(client, object_type, progress, stage_page)
            later = f"{why}, so the next snapshot reads it in full again"
            note = f"{note}; {later}" if note else f"{object_type.name}: {later}"
    else:
        objects = fetch_type(client, object_type, progress, stage_page)
    links = {r.name: {i: obj.get(r.name, []) for i, obj in objects.items()} for r in object_type.relationships if r.many}
    return TypeRead(Content(objects), "full", link, note, links, _digests_of(object_type, objects))


def _untracked(object_type: ObjectType) -> tuple[SubCollection, ...]:
    """The type's sub-collections whose changes delta does not report (an app's federated credentials)."""
    return tuple(s for s in object_type.sub_collections if not s.delta_tracked)


def _digests_of(object_type: ObjectType, objects: dict[str, Obj]) -> dict[str, str] | None:
    untracked = _untracked(object_type)
    if not untracked:
        return None
    return {i: items_digest({s.property: obj.get(s.property, []) for s in untracked}) for i, obj in objects.items()}


def _many(object_type: ObjectType, *, delta_tracked: bool) -> list[Relationship]:
    """The type's many-valued relationships whose changes delta reports (members), or does not (owners)."""
    return [r for r in object_type.relationships if r.many and r.delta_tracked == delta_tracked]


def _read_incremental(repo: BackupRepo, client: GraphClient, object_type: ObjectType, head: str,
                      link: str) -> TypeRead:
    """Only what changed since the last snapshot: the ids delta names, read afresh in batches, plus the
    relationships delta does not track (owners), compared for every object."""
    changes = read_delta(client, link)

    @functools.cache
    def kept(relationship: str) -> dict[str, list[str]] | None:
        return repo.side_files.links_at(head, object_type, relationship)

    # A changed object whose links delta reports no change to (a group whose description changed) keeps
    # those it had, as an unchanged object does: delta names every link that moved. Reading them again
    # would be a chain of pages of 999 members for each large group (30 s for 1% of the groups).
    carried: dict[str, dict[str, set[str]]] = {}
    for rel in _many(object_type, delta_tracked=True) if changes.changed else []:
        if (linked := kept(rel.name)) is not None:
            reported = changes.links.get(rel.name, {})
            carried[rel.name] = {i: set(linked[i]) for i in changes.changed if i in linked and i not in reported}
    fetched = fetch_objects(client, object_type, sorted(changes.changed), carried)
    unreadable = [i for i, obj in fetched.items() if obj is None]
    if unreadable:
        # Delta named it as changed, not removed, yet it cannot be read: replication lag after a create
        # (graph-behaviour §5), or a delete after the round. Guessing either way could record a wrong state.
        raise DeltaUnusable(f"{len(unreadable)} changed object(s) could not be read back yet")
    objects = {i: obj for i, obj in fetched.items() if obj is not None}
    removed = changes.removed
    digests = None
    if untracked := _untracked(object_type):
        # Delta does not say when these change (a credential added to an app): every other object's are
        # read again, and compared with its file where their digest is not the one kept for the file.
        unchanged = sorted(repo.object_ids(head, object_type) - set(objects) - removed)
        items = read_sub_collections(client, object_type, unchanged, untracked)
        digests = {i: items_digest(items[i]) for i in unchanged}
        kept_digests = repo.side_files.item_digests_at(head, object_type) or {}
        moved = [i for i in unchanged if kept_digests.get(i) != digests[i]]
        for object_id, obj in repo.read_objects(head, object_type, moved).items():
            if (updated := with_items(obj, items[object_id])) != obj:
                objects[object_id] = updated
        digests.update(_digests_of(object_type, objects) or {})
    links = {}
    for rel in _many(object_type, delta_tracked=False):
        # The last snapshot's links come from a cache beside the delta state, not from parsing every file.
        stored = repo.links(head, object_type, rel.name)
        unchanged = sorted(set(stored) - set(objects) - removed)
        now = related_many(client, object_type, unchanged, rel)
        moved = [i for i in unchanged if sorted(stored[i]) != now[i]]
        for object_id, obj in repo.read_objects(head, object_type, moved).items():
            objects[object_id] = with_relation(objects.get(object_id, obj), rel.name, now[object_id])
        links[rel.name] = {**now, **{i: obj.get(rel.name, []) for i, obj in fetched.items() if obj is not None}}
    many = [r for r in object_type.relationships if r.many]
    if not objects and not removed and all(repo.side_files.links_kept(head, object_type, r.name) for r in many):
        # Nothing of the type changed, links included: the links kept for HEAD's files are right for the
        # new commit's too, which holds the same files (links_at knows them by the folder).
        return TypeRead(Content({}, complete=False), "delta", changes.link, item_digests=digests)
    for rel in _many(object_type, delta_tracked=True):
        if (tracked := kept(rel.name)) is not None:
            # Delta named every object whose links moved, and those are in objects: the rest carry over.
            links[rel.name] = {**{i: linked for i, linked in tracked.items() if i not in removed},
                               **{i: obj.get(rel.name, []) for i, obj in objects.items()}}
    return TypeRead(Content(objects, complete=False, removed=frozenset(removed)), "delta", changes.link,
                    links=links, item_digests=digests)


def _read_type(repo: BackupRepo, client: GraphClient, object_type: ObjectType, head: str, full: bool,
               progress: ProgressFn | None, stager: ObjectStager) -> TypeRead:
    try:
        return _read_type_or_fail(repo, client, object_type, head, full, progress, stager)
    except GraphError as error:
        if error.code in LICENCE_MISSING:
            stager.discard(object_type)
            # A tenant without the licence has nothing of the type to back up: the snapshot says so and goes
            # on, since no permission the user could grant would change it.
            return TypeRead(Content({}, complete=False), "unavailable", None,
                            f"{object_type.name}: not available, the tenant lacks the licence it needs "
                            f"({error.code}: {error.graph_message})")
        if error.status != 403:
            raise
        stager.discard(object_type)
        # A permission the app lacks must never look like that type's objects were deleted: its files
        # stay as the last snapshot had them, and the commit says the type was skipped.
        return TypeRead(Content({}, complete=False), "skipped", None,
                        f"{object_type.name}: skipped, Graph refused to read it ({error.code}); "
                        f"grant {object_type.read_permission} to back it up, or leave the type out with "
                        f"`types:` in entragit.yaml")


def _read_type_or_fail(repo: BackupRepo, client: GraphClient, object_type: ObjectType, head: str, full: bool,
                       progress: ProgressFn | None, stager: ObjectStager) -> TypeRead:
    state = repo.side_files.delta_state(object_type) if object_type.delta and not full else None
    if state and state.get("commit") == head and state.get("signature") == delta_signature(object_type):
        try:
            return _read_incremental(repo, client, object_type, head, state["link"])
        except DeltaUnusable as why:
            return _read_full(client, object_type, progress, stager,
                              f"{object_type.name}: the incremental read was not usable ({why}); read in full")
    return _read_full(client, object_type, progress, stager)


def take_snapshot(repo: BackupRepo, type_names: tuple[str, ...] = (), progress: ProgressFn | None = None,
                  client: GraphClient | None = None, accept_mass_change: bool = False,
                  full: bool = False, branch: str | None = None) -> SnapshotResult:
    """Read the tenant, then commit. Each type's files are staged as soon as it has been read, but no
    branch, index or working tree changes until every read has finished, so a failed read leaves the
    repository exactly as it was. Types Graph offers delta for are read incrementally when
    the last snapshot left a deltaLink (unless full); an expired link means a full read of that type.
    A snapshot the mass-change guard suspects goes to a side branch (entragit/suspect/<time>) unless
    accept_mass_change says it is real. With branch, the snapshot goes to that branch instead of the current
    one (the snapshot before a restore, which must not move the revision the restore names)."""
    types = resolve_types(type_names or repo.config.types)
    client = client or graph_client(repo.config.connection())
    # What a killed run left would stop this one (the command line has taken it back already, and said so).
    recovered = [f"recovered: {line}" for line in repo.recover()]
    tenant = _tenant_signed_in(repo, client)
    head = repo.resolve("HEAD")

    with repo.stager(types) as stager, ThreadPoolExecutor(1) as encoder:
        encodings: dict[ObjectType, Future[dict[str, str]]] = {}

        def read_and_stage(object_type: ObjectType) -> TypeRead:
            read = _read_type(repo, client, object_type, head, full, progress, stager)
            stager.add(object_type, read.content)
            encodings[object_type] = encoder.submit(
                lambda: {name: encode_links(links) for name, links in (read.links or {}).items()})
            return read

        paced = [t for t in types if client.paced(t.collection)]
        configuration = _holders_first([t for t in types if not t.delta and t not in paced])
        with ThreadPoolExecutor(_TYPE_WORKERS) as directory_pool, \
                ThreadPoolExecutor(_CONFIGURATION_WORKERS + 1) as configuration_pool:
            # Types read at a per-tenant rate (Conditional Access: a request a second) wait their turn
            # whoever reads them: one worker reads them one after another, from the start.
            lane = configuration_pool.submit(lambda: [read_and_stage(t) for t in paced])
            reading = {t: directory_pool.submit(read_and_stage, t) for t in types if t.delta and t not in paced}
            reading.update((t, configuration_pool.submit(read_and_stage, t)) for t in configuration)
            reads = {t: reading[t].result() for t in types if t in reading}
            reads.update(zip(paced, lane.result()))
        links = {object_type: encoded.result() for object_type, encoded in encodings.items()}
        staged = stager.staged()
        counts = {t.name: staged.count_after(t.name) for t in types}
        modes = {t.name: read.mode for t, read in reads.items()}
        notes = recovered + [read.note for read in reads.values() if read.note]
        if not staged.changed:
            _save_links(repo, reads, links, head)
            return SnapshotResult(None, counts, 0, modes=modes, notes=notes)
        now = datetime.now(timezone.utc)
        doubts = [] if accept_mass_change else suspicions(staged, counts, repo.config.guard)
        message = _message(tenant, counts, modes, now, doubts)
        if doubts:
            branch = f"{SUSPECT_PREFIX}{now.strftime('%Y%m%dT%H%M%SZ')}"
        commit = repo.commit(staged, message, branch)
    if branch is None:
        # A held-back snapshot keeps the old links: the next run reads the same changes again.
        _save_links(repo, reads, links, commit)
    return SnapshotResult(commit, counts, staged.changed, doubts, branch, modes, notes)


def _tenant_signed_in(repo: BackupRepo, client: GraphClient) -> str:
    """The tenant the new snapshot is of, once it is known to be the one the last snapshot was of: another
    tenant's objects would otherwise be committed as a mass deletion and creation."""
    signed = sign_in(client, repo.config.tenant_id)
    check_tenant(repo, signed, "HEAD", "nothing read or committed")
    return signed.tenant


def _save_links(repo: BackupRepo, reads: dict[ObjectType, TypeRead], links: dict[ObjectType, dict[str, str]],
                commit: str) -> None:
    for object_type, read in reads.items():
        if read.link:
            repo.side_files.save_delta_state(object_type, read.link, commit, delta_signature(object_type))
        for name, encoded in links[object_type].items():
            repo.side_files.save_links(commit, object_type, name, encoded)
        if read.item_digests is not None:
            repo.side_files.save_item_digests(commit, object_type, read.item_digests)
