"""Planning a restore: desired state from the files of a commit, live state from Graph, the writes between
them. plan_restore() only reads; the plan is a value the user sees before anything is written.

Every step carries a stage: steps of one stage are independent of each other and go out together in
$batch requests; stages run in order. Objects come back first (from a recycle bin, or created anew),
tier by tier of the registry's restore order, so that a CA policy is made after the group it names;
then app roles about to be removed are disabled (Graph deletes only disabled ones), then properties,
links to add, links to remove, and deletions last. A created object has a new id:
once its stage has run, every later step that names the old id is rewritten to the new one.

The planner is one class made of its concerns, a module each: the state of the run (state.py), an
object's own properties and its creation (objects.py), credentials, links (links.py) and references to
other objects (references.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from entragit.canonical import Obj
from entragit.errors import PlanError
from entragit.graph import GraphClient
from entragit.live import fetch_objects, fetch_type
from entragit.registry import REGISTRY, ObjectType
from entragit.restore.kinds import StepKind
from entragit.restore.model import GUID, HeldAt, Plan, RestoreOptions, Step, fingerprint
from entragit.restore.planner.credentials import Credentials
from entragit.restore.planner.items import Items
from entragit.restore.planner.links import Links
from entragit.restore.planner.references import References
from entragit.restore.planner.state import get_path, listed, live_listing, match_key
from entragit.restore.risks import assess
from entragit.selection import Selection
from entragit.store import BackupRepo


class _Planner(References, Credentials, Links, Items):
    """One planning run: each selected object as it exists, or as it comes back, with its links."""

    def plan_existing(self, object_type: ObjectType, object_id: str, desired: Obj, live: Obj,
                      live_id: str | None = None) -> None:
        name = desired.get(object_type.display_key)
        self._plan_properties(object_type, object_id, name, desired, live, live_id or object_id)
        self._plan_items(object_type, object_id, name, desired, live)
        self._plan_sub_collections(object_type, object_id, name, desired, live)
        self._plan_credentials(object_type, object_id, name, desired, live)
        for rel in object_type.relationships:
            if self.selection.writes_attribute(rel.name):
                self._plan_relationship(object_type, object_id, name, rel, desired, live)
        self._plan_reverse(object_type, object_id, name)

    def plan_missing(self, object_type: ObjectType, object_id: str, desired: Obj, binned: Obj | None) -> None:
        name = desired.get(object_type.display_key)
        if self.attributes:
            self.block(object_type, object_id, name, "the whole object",
                       "it is no longer in the tenant; restore the whole object (without --attribute) to bring it back")
            return
        if binned is not None:
            # No body, but $batch refuses a write item without one ("does not contain Content-Type header or body").
            self.step(StepKind.RESTORE, object_type, object_id, name, "POST",
                      f"{object_type.recycle_bin}/{quote(object_id)}/restore", {})
            # The restore puts back what the bin altered (a user's UPN); what it may reset is sent again.
            base = {**binned, **{k: desired[k] for k in object_type.renamed_in_bin if k in desired}}
            self._plan_properties(object_type, object_id, name, desired, base, object_id,
                                  resend=object_type.reset_by_restore)
        elif object_id in self.made_along:
            self.plan_made_along(object_type, object_id, name, desired)
        elif (object_type.create or object_type.hooks.create) and object_type.cannot_create is None:
            self._plan_create(object_type, object_id, name, desired)
        else:
            reason = object_type.cannot_create or f"Graph cannot create a {object_type.singular}"
            where = " nor in its recycle bin" if object_type.recycle_bin else ""
            self.block(object_type, object_id, name, "the whole object",
                       f"it is no longer in the tenant{where}, and {reason}")
            return
        # Graph brings a restored object's links back with it; any it did not are added (an add that is
        # already there counts as done).
        empty: Obj = {}
        self._plan_credentials(object_type, object_id, name, desired, binned)
        # Items a recycle bin brought back with their holder are there already: adding one answers 409.
        self._plan_sub_collections(object_type, object_id, name, desired, binned, missing=True)
        for rel in object_type.relationships:
            self._plan_relationship(object_type, object_id, name, rel, desired, empty)
        self._plan_reverse(object_type, object_id, name)


def _select(selection: Selection, at: str, planner: _Planner) -> dict[ObjectType, list[str]]:
    """The objects to restore (ids as they are now), by type in restore order."""
    if not (selection.types or selection.ids or selection.paths):
        raise PlanError("say what to restore: --type T, --id ID and/or --paths PATHSPEC")
    types = selection.object_types()
    ids = list(selection.ids)
    if selection.paths:
        files = {t: sorted(i for i in planner.repo.object_ids(planner.commit, t)
                           if selection.wants_file(f"{t.name}/{i}.yaml") and selection.wants_id(i)) for t in types}
        types = [t for t in types if files[t]]
        ids = [i for t in types for i in files[t]]
        if not ids:
            raise PlanError(f"no object file at {at} matches --paths {' '.join(selection.paths)}"
                            + (" and the --type/--id given" if selection.types or selection.ids else ""))
    ids = [planner.id_map.get(i, i) for i in ids]
    selected: dict[ObjectType, list[str]] = {}
    if ids:
        found: set[str] = set()
        for object_type in types:
            present = planner.ids_at_commit(object_type)
            hits = [i for i in ids if i in present]
            if hits:
                selected[object_type] = hits
                found.update(hits)
        missing = [i for i in ids if i not in found]
        if missing:
            looked = ", ".join(t.name for t in types)
            raise PlanError(f"no object with id {', '.join(missing)} in the snapshot at {at} (looked in {looked})")
    else:
        selected = {t: sorted(planner.snapshot_of(t)) for t in types}
    return selected


def _check_request(selected: dict[ObjectType, list[str]], selection: Selection, planner: _Planner,
                   options: RestoreOptions) -> None:
    for path in selection.attributes:
        top = path.split(".")[0]
        known = any(
            top in t.select or top in t.relationship_names or top in t.sub_collection_names
            or any(top in obj for obj in planner.desired_of(t, ids).values())
            for t, ids in selected.items()
        )
        if not known:
            types = ", ".join(t.name for t in selected)
            raise PlanError(f"unknown attribute {path!r}: no selected object ({types}) has it in the snapshot")
    if options.delete_extra:
        if selection.attributes or selection.ids or selection.paths:
            raise PlanError("--delete-extra works on whole types: give --type, without --id or --attribute")
        for object_type in selected:
            if object_type.never_delete:
                raise PlanError(f"--delete-extra refuses {object_type.name}: {object_type.never_delete}; "
                                f"leave out --type {object_type.name}")


def _plan_matched(planner: _Planner, object_type: ObjectType, object_ids: list[str], extras: bool) -> None:
    """Types whose objects are known by what they say (principal, role, scope), not by their id."""
    snapshot = planner.snapshot_of(object_type)
    live_by_key = {match_key(object_type, obj): (live_id, obj)
                   for live_id, obj in fetch_type(planner.client, object_type).items()}
    for object_id in object_ids:
        desired = snapshot[object_id]
        found = live_by_key.get(match_key(object_type, desired))
        if found is None:
            planner.plan_missing(object_type, object_id, desired, None)
        else:
            # Its id is whatever Graph gave the one in the tenant: not a difference.
            planner.plan_existing(object_type, object_id, {**desired, object_type.key: found[0]}, found[1], found[0])
    if extras:
        wanted = {match_key(object_type, obj) for obj in snapshot.values()}
        for key, (live_id, obj) in sorted(live_by_key.items(), key=lambda item: item[1][0]):
            if key not in wanted:
                planner.plan_extra(object_type, live_id, obj)


def plan_restore(repo: BackupRepo, client: GraphClient, at: str, selection: Selection,
                 options: RestoreOptions = RestoreOptions(), id_map: dict[str, str] | None = None,
                 held_at: HeldAt | None = None, unwanted: Mapping[str, Sequence[str]] | None = None) -> Plan:
    """The writes that would make the selected objects as the snapshot at `at` has them.

    id_map: objects an earlier apply recreated (old id -> new id), so that a re-plan after it (the
    verification) finds them under their new ids. held_at: the index of who held what at the commit, when
    an earlier plan of it made one. unwanted: type name -> ids of objects to delete where they exist
    (apply --delete-extra: those whose files the commit deleted)."""
    id_map = dict(id_map or {})
    commit = repo.resolve(at)
    planner = _Planner(repo, client, commit, selection, options, id_map, held_at)
    # apply --delete-extra of a commit that only deleted files restores nothing: it only deletes.
    selected = {} if unwanted and selection == Selection() else _select(selection, at, planner)
    _check_request(selected, selection, planner, options)
    for object_type, object_ids in selected.items():
        if object_type.match_on:
            _plan_matched(planner, object_type, object_ids, options.delete_extra)
            continue
        snapshot = planner.desired_of(object_type, object_ids)
        live = planner.live_of(object_type, object_ids)
        present = [i for i in object_ids if live[i] is not None]
        planner.read_holders(object_type, present)
        planner.read_changed_holders(object_type, present)
        binned = planner.binned(object_type, [i for i in object_ids if live[i] is None])
        for object_id in object_ids:
            found = live[object_id]
            if found is None:
                planner.plan_missing(object_type, object_id, snapshot[object_id], binned.get(object_id))
            else:
                planner.plan_existing(object_type, object_id, snapshot[object_id], found)
        if options.delete_extra and not object_type.singleton:
            for live_id, obj in live_listing(client, object_type).items():
                if live_id not in snapshot:
                    planner.plan_extra(object_type, live_id, obj)
    for type_name, ids in (unwanted or {}).items():
        object_type = REGISTRY[type_name]
        if object_type.never_delete:
            raise PlanError(f"--delete-extra refuses {type_name}: {object_type.never_delete}")
        for live_id, found in fetch_objects(client, object_type, ids).items():
            if found is not None:
                planner.plan_extra(object_type, live_id, found)
    planner.check_references()
    if options.follow_references:
        planner.follow_references(selected)
    else:
        planner.note_referrers_left_behind(selected)
    order = {name: t.restore_order for name, t in REGISTRY.items()}
    steps = assess(sorted(planner.steps.values(), key=lambda s: (s.stage, order[s.type], s.type, s.id)), client,
                   planner.names, planner._live_cache)
    names = _named_ids(planner, steps)
    fingerprints = {f"{type_name}/{object_id}": fingerprint(obj)
                    for (type_name, object_id), obj in planner._live_cache.items()}
    return Plan(at, commit, {t.name: ids_ for t, ids_ in selected.items()}, selection, steps, planner.blocked,
                options, id_map, fingerprints, planner.holdings, planner.held_at,
                {name: list(ids) for name, ids in (unwanted or {}).items()}, names)


def _ids_in(value: Any) -> list[str]:
    return [v for v in listed(value) if isinstance(v, str) and GUID.fullmatch(v)]


def _named_ids(planner: _Planner, steps: list[Step]) -> dict[str, tuple[str, str | None]]:
    """Id -> (type, display name) of each object the steps name by id in a reference: what a write puts
    in or takes out, and what a rewrite replaces; looked up at once in the commit's files."""
    wanted: dict[str, tuple[str, ...]] = {}
    for step in steps:
        references = REGISTRY[step.type].references
        for path, likely in references.items():
            wanted.update(dict.fromkeys(_ids_in(get_path(step.body, path.split("."))), likely))
        for change in step.changes:
            if change.path in references:
                wanted.update(dict.fromkeys(_ids_in(change.old) + _ids_in(change.new), references[change.path]))
    planner.names.prefetch(wanted)
    return {i: found for i in wanted if (found := planner.names(i)) is not None}


