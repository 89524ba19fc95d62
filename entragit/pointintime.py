"""The tenant's objects at any moment the directory audit log covers: a snapshot, and the log replayed from it.

The nearest snapshot before the moment is the base, and every audit record from its commit to the moment is
applied forwards: an update sets each recorded property to its new value, a link record adds or removes the
member, a creation makes an object of which only the recorded properties are known, a deletion removes it.
With no snapshot before the moment (or a gap in the log after it), the nearest snapshot after it is the base
and the records between are undone, newest first, with their old values.

What the log cannot say is listed as unknown, per object and property, never guessed: a value cut short or
not valid JSON, an update that carries no values, a property the log does not record (graph-behaviour §11),
members the directory computes (dynamic groups), a deleted object's state when replaying backwards, and a
gap: records older than the log keeps. Records of kinds the replay does not know are named, not applied.
Only the objects of the selected types are reconstructed; every other file stays as the base has it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from entragit import canonical
from entragit.attribution import AUDIT_PATH, AUDIT_PERMISSION, READ_SLACK, attribute
from entragit.canonical import Obj
from entragit.connect import graph_client
from entragit.diff.build import diff_live, diff_revisions
from entragit.diff.names import Names
from entragit.diff.revisions import default_revisions, parse_moment
from entragit.errors import EntragitError, GraphError, StoreError
from entragit.graph import GraphClient
from entragit.live import fetch_objects
from entragit.registry import REGISTRY, ObjectType, schema
from entragit.selection import Selection, lies_within
from entragit.report.model import DiffReport, Reconstructed, UnknownValues
from entragit.risk import find_risks
from entragit.store import BackupRepo, Snapshot, object_path

# Entra keeps records 7 days without a P1/P2 licence (30 with): a window younger than this has no gap.
KEPT_AT_LEAST = timedelta(days=7)
# Records appear minutes after their change (graph-behaviour §11).
ARRIVAL = timedelta(minutes=5)
REF_PREFIX = "refs/entragit/at/"

# The audit log's nouns ("Update <noun>"): each type's singular name, spoken ("authorization policy").
NOUNS = {re.sub(r"(?<=[a-z])(?=[A-Z])", " ", t.singular).lower(): name for name, t in REGISTRY.items()}
# Active Directory's names Entra writes for some users' properties, beside Graph's names with a capital.
AD_NAMES = {"telephonenumber": "businessPhones", "mobile": "mobilePhone", "physicaldeliveryofficename": "officeLocation"}
# Properties whose changes the log does not record (graph-behaviour §11).
UNRECORDED = {"users": frozenset({"usageLocation"})}
WHOLE_POLICY = "conditionalaccesspolicy"
INCLUDED = "included updated properties"
_VERBS = ("hard delete", "add", "update", "delete", "restore")
_LINK = re.compile(r"^(add|remove) (member|owner)s? (?:to|from) (.+)$", re.IGNORECASE)
_MANAGER = re.compile(r"^(set|update|remove) user manager$", re.IGNORECASE)


@dataclass
class Reconstruction:
    moment: datetime
    base: Snapshot
    forwards: bool
    records: int
    objects: dict[str, dict[str, Obj]]
    """type name -> id -> canonical object at the moment, for the selected types."""
    changed: dict[str, set[str]]
    """type name -> ids whose file differs from the base's (gone ones included)."""
    reconstructed: dict[tuple[str, str], set[str]]
    """(type, id) -> the attribute paths whose values came from the log."""
    unknown: list[UnknownValues]
    notes: list[str] = field(default_factory=list)

    def unknown_paths(self) -> dict[tuple[str, str], list[str]]:
        """(type, id) -> the object's unknown paths, [] for its whole state."""
        whole = {(gap.type, gap.id) for gap in self.unknown if not gap.paths}
        found: dict[tuple[str, str], list[str]] = {}
        for gap in self.unknown:
            paths = found.setdefault((gap.type, gap.id), [])
            if (gap.type, gap.id) not in whole:
                paths += [p for p in gap.paths if p not in paths]
        return found


def parse_time(text: str) -> datetime:
    return parse_moment(text, "--at-time")


def _when(stamp: str) -> datetime:
    """An activityDateTime (seven fractional digits, 'Z') as a datetime; digits past the microsecond drop."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", stamp or "")
    if not match:
        raise StoreError(f"the audit log holds a record with an unreadable time {stamp!r}")
    fraction = (match[2] or ".0")[:7]
    return datetime.fromisoformat(match[1] + fraction + ("+00:00" if match[3] in (None, "Z") else match[3]))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _records(client: GraphClient, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The records from since to until, oldest first (records of one moment in the order the log has them)."""
    params = {"$filter": f"activityDateTime ge {_stamp(since - timedelta(seconds=1))} and "
                         f"activityDateTime le {_stamp(until + timedelta(seconds=1))}", "$top": "999"}
    found = [r for r in reversed(list(client.iter_collection(AUDIT_PATH, params)))
             if r.get("result", "success") == "success" and since <= _when(str(r.get("activityDateTime"))) <= until]
    return sorted(found, key=lambda r: _when(str(r.get("activityDateTime"))))


def _covered_from(client: GraphClient, start: datetime, now: datetime) -> bool:
    """Whether the log still holds what happened from start on: it does when start is within the days every
    tenant keeps, or when a record older than start is still there."""
    if now - start < KEPT_AT_LEAST:
        return True
    page = client.get(AUDIT_PATH, {"$filter": f"activityDateTime le {_stamp(start)}", "$top": "1"})
    return bool(page.get("value"))


def _snapshots_around(repo: BackupRepo, moment: datetime) -> tuple[Snapshot | None, Snapshot | None]:
    snapshots = repo.snapshots()
    if not snapshots:
        raise StoreError(f"{repo.root} has no snapshot yet; take one with `entragit snapshot`")
    before = next((s for s in snapshots if datetime.fromisoformat(s.time) <= moment), None)
    after = next((s for s in reversed(snapshots) if datetime.fromisoformat(s.time) > moment), None)
    return before, after


def _decoded_list(text: Any) -> list[Any] | None:
    """A recorded value's list (JSON text of a list), or None."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def _decoded(object_type: ObjectType, prop: str, text: Any) -> tuple[bool, Any]:
    """(known, value) of a recorded value: JSON text of a list, the list itself for a multi-valued property."""
    value = _decoded_list(text)
    if value is None:
        return False, None
    spec = schema.shape(object_type).merged.get(prop)
    if spec is not None and spec[1]:
        return True, value
    if len(value) > 1:
        return False, None
    return True, value[0] if value else None


class _Replay:
    """The state being rebuilt: objects by type and id, and what is known of each."""

    def __init__(self, types: list[ObjectType], base: dict[str, dict[str, Obj]], forwards: bool) -> None:
        self.types = {t.name: t for t in types}
        self.objects = base
        self.forwards = forwards
        self.type_of = {object_id: name for name, objects in base.items() for object_id in objects}
        self.changed: dict[str, set[str]] = {t.name: set() for t in types}
        self.reconstructed: dict[tuple[str, str], set[str]] = {}
        self.unknown: dict[tuple[str, str], dict[str, str]] = {}
        self.gone: dict[str, Obj] = {}
        self.names: dict[str, str | None] = {}
        self.skipped: dict[str, int] = {}
        self.applied = 0

    # --- what is known -------------------------------------------------------------------------------------

    def _known(self, type_name: str, object_id: str, path: str) -> None:
        self.reconstructed.setdefault((type_name, object_id), set()).add(path)
        self.unknown.get((type_name, object_id), {}).pop(path, None)
        self.changed[type_name].add(object_id)

    def _unknown(self, type_name: str, object_id: str, path: str, why: str) -> None:
        self.unknown.setdefault((type_name, object_id), {})[path] = why
        self.reconstructed.get((type_name, object_id), set()).discard(path)

    def _all_unknown(self, type_name: str, object_id: str, why: str) -> None:
        for prop in sorted(self.types[type_name].stored - {"id"}):
            self._unknown(type_name, object_id, prop, why)

    # --- records -------------------------------------------------------------------------------------------

    def apply(self, record: dict[str, Any]) -> None:
        activity = str(record.get("activityDisplayName") or "")
        targets = [t for t in record.get("targetResources") or [] if isinstance(t, dict) and t.get("id")]
        when = str(record.get("activityDateTime"))
        for target in targets:
            self.names.setdefault(str(target["id"]), target.get("displayName"))
        link, manager = _LINK.match(activity), _MANAGER.match(activity)
        if (link or manager) and len(targets) >= 2:
            holder, member = self._ends(targets, "user" if manager else link[3] if link else "")
            relationship = "manager" if manager else "members" if link and link[2].lower() == "member" else "owners"
            adds = (manager[1].lower() != "remove") if manager else (link is not None and link[1].lower() == "add")
            if self._link(holder, relationship, member, adds, activity, when):
                self.applied += 1
            elif not self._unselected("user" if manager else link[3] if link else ""):
                self.skipped[activity] = self.skipped.get(activity, 0) + 1
            return
        if targets and self._object(activity, targets[0], when):
            self.applied += 1
            return
        # A record the replay cannot apply: the objects it names that the reconstruction holds are not known.
        touched = [str(t["id"]) for t in targets if str(t["id"]) in self.type_of]
        for object_id in touched[:1]:
            self._all_unknown(self.type_of[object_id], object_id, f"{activity} at {when}: not replayed")
        if not touched and not self._unselected(_noun(activity)):
            self.skipped[activity] = self.skipped.get(activity, 0) + 1

    def _ends(self, targets: list[dict[str, Any]], noun: str) -> tuple[str, str]:
        """(holder, member) of a link record: the object a "Group.ObjectID" value names, else the one of the two
        of the holder's type, else the last one named (graph-behaviour §11)."""
        ends = [(str(t["id"]), t) for t in (targets[0], targets[-1])]
        named = {str(v) for _, t in ends for p in t.get("modifiedProperties") or []
                 if isinstance(p, dict) and str(p.get("displayName", "")).lower() == "group.objectid"
                 for v in _decoded_list(p.get("newValue")) or _decoded_list(p.get("oldValue")) or []}
        holder_type = (NOUNS.get(noun.lower()) or "").lower()
        holders = [i for i, _ in ends if i in named] or [
            i for i, t in ends if (self.type_of.get(i) or f"{t.get('type', '')}s").lower() == holder_type]
        holder = holders[0] if len(holders) == 1 else ends[1][0]
        return holder, ends[0][0] if holder == ends[1][0] else ends[1][0]

    def _unselected(self, noun: str) -> bool:
        """Whether the noun names a type the replay knows but was not asked to rebuild."""
        name = NOUNS.get(noun.lower())
        return name is not None and name not in self.types

    def _type_for(self, object_id: str, activity: str) -> str | None:
        if object_id in self.type_of:
            return self.type_of[object_id]
        name = NOUNS.get(_noun(activity))
        return name if name in self.types else None

    def _link(self, holder: str, relationship: str, member: str, adds: bool, activity: str, when: str) -> bool:
        type_name = self.type_of.get(holder)
        if type_name is None or holder not in self.objects[type_name]:
            return type_name is not None  # a link of an object gone at this point changes nothing kept
        rel = next((r for r in self.types[type_name].relationships if r.name == relationship), None)
        if rel is None:
            return True  # a link the registry does not keep
        obj = self.objects[type_name][holder]
        present = adds if self.forwards else not adds
        if rel.many:
            ids = set(obj.get(relationship) or [])
            (ids.add if present else ids.discard)(member)
            obj[relationship] = sorted(ids)
            self._known(type_name, holder, relationship)
        elif present:
            obj[relationship] = member
            self._known(type_name, holder, relationship)
        elif not self.forwards and adds:
            # Undoing "Set user manager": the manager before is not in the record.
            self._unknown(type_name, holder, relationship, f"{activity} at {when} does not say who it replaced")
            self.changed[type_name].add(holder)
        else:
            obj.pop(relationship, None)
            self._known(type_name, holder, relationship)
        return True

    def _object(self, activity: str, target: dict[str, Any], when: str) -> bool:
        object_id = str(target["id"])
        type_name = self._type_for(object_id, activity)
        if type_name is None:
            return False
        # Creations, deletions and restores are those of the object's own type ("Add group"); any other
        # activity on it ("Reset user password", "Add app role assignment to user") is read as an update.
        operation = activity.lower().split(" ")[0] if NOUNS.get(_noun(activity)) == type_name else "update"
        objects, modified = self.objects[type_name], list(target.get("modifiedProperties") or [])
        comes = operation in ("add", "restore")
        if operation in ("delete", "hard", "add", "restore") and comes != self.forwards:
            # The object is not there at the moment (created after it, or deleted before it).
            if object_id in objects:
                self.gone[object_id] = objects.pop(object_id)
            self.changed[type_name].add(object_id)
            self.unknown.pop((type_name, object_id), None)
            self.type_of[object_id] = type_name
            return True
        if operation in ("delete", "hard", "restore"):
            # Back, forwards by a restore or backwards by undoing a deletion: as it was when last seen.
            self.type_of[object_id] = type_name
            if object_id not in objects:
                objects[object_id] = self.gone.pop(object_id, {"id": object_id})
                self.changed[type_name].add(object_id)
                if not self.forwards or operation != "restore" or len(objects[object_id]) == 1:
                    self._all_unknown(type_name, object_id, f"{activity} at {when}: its state then is not recorded")
            return True
        if operation == "add" and object_id not in objects:
            # (An object the base holds already was made while the snapshot read: its values apply as an update.)
            self.type_of[object_id] = type_name
            objects[object_id] = {"id": object_id}
            self.changed[type_name].add(object_id)
            self._all_unknown(type_name, object_id, f"created at {when}; the log records only some of its properties")
        elif object_id not in objects:
            return True  # an update of an object not there at this point (gone later or earlier) changes nothing
        self._values(type_name, object_id, modified, activity, when)
        return True

    def _values(self, type_name: str, object_id: str, modified: list[dict[str, Any]], activity: str, when: str) -> None:
        object_type, obj = self.types[type_name], self.objects[type_name][object_id]
        side = "newValue" if self.forwards else "oldValue"
        properties = {p.get("displayName", "").lower(): p for p in modified if isinstance(p, dict)}
        properties.pop(INCLUDED, None)
        if not properties:
            self._all_unknown(type_name, object_id, f"{activity} at {when} carries no values")
            return
        names = _property_names(object_type)
        for key, prop in properties.items():
            if key == WHOLE_POLICY and type_name == "conditionalAccessPolicies":
                self._whole(object_type, object_id, prop, activity, when)
                continue
            name = names.get(key)
            if name is None:
                if key not in _declared(object_type):
                    self._unknown(type_name, object_id, prop.get("displayName") or key,
                                  f"{activity} at {when} names a property entragit does not know")
                continue
            known, value = _decoded(object_type, name, prop.get(side))
            if not known:
                self._unknown(type_name, object_id, name, f"{activity} at {when}: its value is cut short or unreadable")
                continue
            _set(obj, name, value)
            self._known(type_name, object_id, name)
        for name in UNRECORDED.get(type_name, frozenset()) & object_type.stored:
            self._unknown(type_name, object_id, name, "the audit log does not record its changes")

    def _whole(self, object_type: ObjectType, object_id: str, prop: dict[str, Any], activity: str, when: str) -> None:
        """A Conditional Access policy recorded whole: every property it keeps set from the JSON."""
        side = prop.get("newValue" if self.forwards else "oldValue")
        try:
            whole = json.loads(side) if isinstance(side, str) else None
        except ValueError:
            whole = None
        if not isinstance(whole, dict):
            self._all_unknown(object_type.name, object_id, f"{activity} at {when}: its value is cut short or unreadable")
            return
        obj = self.objects[object_type.name][object_id]
        # Compared in canonical form: only what differs from the state so far (or was unknown) is marked.
        new = _canonical(object_type, {**whole, "id": object_id})
        unknown = self.unknown.get((object_type.name, object_id), {})
        for name in sorted(object_type.stored - {"id"}):
            if obj.get(name) != new.get(name) or name in unknown:
                _set(obj, name, new.get(name))
                self._known(object_type.name, object_id, name)

    def computed(self) -> None:
        """Members the directory computes (dynamic groups) change without a record of their own."""
        for type_name, object_type in self.types.items():
            for rel in object_type.relationships:
                if rel.computed_when is None:
                    continue
                prop, word = rel.computed_when
                for object_id, obj in self.objects[type_name].items():
                    if word in (obj.get(prop) or []):
                        self._unknown(type_name, object_id, rel.name,
                                      "the directory computes these members; the log does not record their changes")

    def result(self) -> tuple[dict[str, dict[str, Obj]], list[UnknownValues]]:
        objects: dict[str, dict[str, Obj]] = {}
        for type_name, found in self.objects.items():
            object_type = self.types[type_name]
            objects[type_name] = {i: (_canonical(object_type, o) if i in self.changed[type_name] else o)
                                  for i, o in found.items()}
        unknown = []
        for (type_name, object_id), paths in sorted(self.unknown.items()):
            if not paths:
                continue
            obj = objects[type_name].get(object_id) or self.gone.get(object_id) or {}
            name = obj.get(self.types[type_name].display_key) or self.names.get(object_id)
            whole = set(paths) >= self.types[type_name].stored - {"id"}
            by_why: dict[str, list[str]] = {}
            for path, why in paths.items():
                by_why.setdefault(why, []).append(path)
            if whole:
                unknown.append(UnknownValues(type_name, object_id, name, (), next(iter(by_why))))
                continue
            unknown.extend(UnknownValues(type_name, object_id, name, tuple(sorted(p)), why) for why, p in by_why.items())
        return objects, unknown


def _wanted(found: UnknownValues, selection: Selection) -> bool:
    """Whether the selection (ids, files, attributes) reaches what is unknown."""
    if not selection.wants_id(found.id) or not selection.wants_file(object_path(REGISTRY[found.type], found.id)):
        return False
    return not found.paths or any(selection.writes_attribute(path) for path in found.paths)


def _noun(activity: str) -> str:
    """'Update conditional access policy' -> 'conditional access policy'."""
    words = activity.lower()
    return next((words[len(verb) + 1:] for verb in _VERBS if words.startswith(verb + " ")), "")


def _property_names(object_type: ObjectType) -> dict[str, str]:
    """Names the log may give a kept property (any case, AD's names too) -> the property."""
    names = {name.lower(): name for name in object_type.stored | object_type.relationship_names}
    names.update((ad, name) for ad, name in AD_NAMES.items() if name in object_type.stored)
    return names


def _declared(object_type: ObjectType) -> set[str]:
    """Every property Graph declares for the type, lower case: names the log may give what is not kept."""
    return {name.lower() for entity in object_type.entity_types for name in schema.declared_properties(entity)}


def _set(obj: Obj, name: str, value: Any) -> None:
    if value is None or value == [] or value == {}:
        obj.pop(name, None)
    else:
        obj[name] = value


def _canonical(object_type: ObjectType, obj: Obj) -> Obj:
    relations = {r.name: obj[r.name] for r in object_type.relationships if r.name in obj}
    body = {k: v for k, v in obj.items() if k not in relations}
    return canonical.canonical(object_type, body, relations)


def reconstruct(repo: BackupRepo, client: GraphClient, moment: datetime, selection: Selection = Selection(),
                now: datetime | None = None) -> Reconstruction:
    """The selected types' objects at the moment, from the nearest snapshot and the audit log."""
    now = now or datetime.now(timezone.utc)
    before, after = _snapshots_around(repo, moment)
    notes: list[str] = []
    try:
        forwards = before is not None and (after is None or _covered_from(
            client, datetime.fromisoformat(before.time) - READ_SLACK, now) or not _covered_from(client, moment, now))
        base = before if forwards else after
        assert base is not None
        base_time = datetime.fromisoformat(base.time)
        # A snapshot reads for a while before it commits: a change made then may be in it or not, so the replay
        # starts READ_SLACK before the commit (applying a change the snapshot already holds changes nothing).
        start, end = (base_time - READ_SLACK, moment) if forwards else (moment, base_time)
        gap = not _covered_from(client, start, now)
        records = _records(client, start, end)
    except GraphError as error:
        if error.status == 403:
            raise EntragitError(f"--at-time reads the directory audit log, which needs {AUDIT_PERMISSION}: the app "
                                f"lacks it (or the tenant's licence), Graph answered 403 {error.code}") from None
        raise
    types = selection.object_types()
    base_objects = {t.name: repo.read_objects(base.commit, t, None) for t in types}
    replay = _Replay(types, base_objects, forwards)
    for record in (records if forwards else reversed(records)):
        replay.apply(record)
    if records:
        replay.computed()
    objects, unknown = replay.result()
    unknown = [u for u in unknown if _wanted(u, selection)]
    if gap:
        notes.append(f"the audit log holds nothing from {_stamp(start)} (records are kept 7 or 30 days): changes "
                     "between then and its oldest record are not known, so any object may differ")
    if now - moment < ARRIVAL:
        notes.append(f"records of the last minutes before {_stamp(now)} may not have arrived yet")
    notes.extend(f"{count} record(s) '{activity}' not replayed: entragit keeps no such objects or cannot apply them"
                 for activity, count in sorted(replay.skipped.items()))
    return Reconstruction(moment, base, forwards, replay.applied, objects, replay.changed, replay.reconstructed,
                          unknown, notes)


def commit_reconstruction(repo: BackupRepo, result: Reconstruction, overrides: dict[str, dict[str, Obj | None]]
                          | None = None, ref: str | None = None) -> str:
    """A commit of the base's tree with the reconstructed files in place (and the overrides: type -> id -> object
    or None for no file), the base as parent, dated at the moment; on ref when given, never on a branch."""
    writes: dict[str, dict[str, Obj | None]] = {}
    for type_name, ids in result.changed.items():
        writes[type_name] = {object_id: result.objects[type_name].get(object_id) for object_id in ids}
    for type_name, objects in (overrides or {}).items():
        writes.setdefault(type_name, {}).update(objects)
    files = {object_path(REGISTRY[type_name], object_id): None if obj is None else canonical.dump(obj)
             for type_name, objects in writes.items() for object_id, obj in objects.items()}
    stamp = _stamp(result.moment)
    message = (f"State at {stamp}, reconstructed from the audit log\n\n"
               f"From snapshot {result.base.commit[:10]} ({result.base.time}), {result.records} audit record(s) "
               f"replayed {'forwards' if result.forwards else 'backwards'}; {len(result.unknown)} unknown "
               f"entr{'y' if len(result.unknown) == 1 else 'ies'} (values left as the snapshot has them).\n\n"
               f"Entragit-At-Time: {stamp}\n")
    return repo.commit_beside(result.base.commit, files, message, result.moment.isoformat(), ref)


def _marked(report: DiffReport, result: Reconstruction) -> None:
    """Rows of unknown paths leave the report (the unknown section names them); rows of values the log gave
    are marked."""
    kept = []
    gaps = result.unknown_paths()
    for change in report.changes:
        unknown = gaps.get((change.type, change.id))
        rebuilt = result.reconstructed.get((change.type, change.id), set())
        whole = unknown == [] and change.change == "modified"
        attributes = [replace(a, reconstructed=lies_under(a.path, rebuilt)) for a in change.attributes
                      if not whole and not lies_under(a.path, unknown or [])]
        members = [replace(m, reconstructed=m.relationship in rebuilt) for m in change.members
                   if not whole and m.relationship not in (unknown or [])]
        if change.change != "modified" or attributes or members:
            kept.append(replace(change, attributes=attributes, members=members))
    report.changes = kept


def report_at_time(repo: BackupRepo, at_time: str, rev_b: str | None, *, live: bool,
                   selection: Selection = Selection(), client_factory: Callable[[], GraphClient] | None = None,
                   now: datetime | None = None, progress: Callable[[str, int], None] | None = None,
                   attribution: bool = True) -> DiffReport:
    """`entragit diff --at-time`: the state at a moment, rebuilt from the audit log, against the newest
    snapshot, REV or the live tenant; rows the log gave are marked, and what it could not fill is listed."""
    if live and rev_b:
        raise StoreError("--live compares with the tenant; give no revision with it")
    moment = parse_time(at_time)
    client = client_factory() if client_factory else graph_client(repo.config.connection())
    result = reconstruct(repo, client, moment, selection, now)
    commit = commit_reconstruction(repo, result)
    if live:
        report = diff_live(repo, client, commit, selection, progress)
    else:
        _, newer = default_revisions(repo, commit, rev_b, False)
        assert newer is not None
        report = diff_revisions(repo, commit, newer, selection, progress)
    stamp = _stamp(moment)
    report.old = replace(report.old, label=f"at {stamp}", time=moment.isoformat(), snapshot=False)
    _marked(report, result)
    report.risks = find_risks(report, Names(repo, [c for c in (report.new.commit, commit) if c]))
    report.reconstructed = Reconstructed(
        f"The older side is the state at {stamp}, rebuilt from snapshot {result.base.commit[:10]} "
        f"({result.base.time}) and {result.records} audit record(s) replayed "
        f"{'forwards' if result.forwards else 'backwards'}; rows marked 'from the audit log' hold its values.",
        result.unknown, result.notes)
    if attribution:
        attribute(report, repo, lambda: client)
    return report


@dataclass(frozen=True)
class RestorePoint:
    rev: str
    """The ref of the commit to plan from: refs/entragit/at/<time>."""
    notes: list[str]
    """How it was rebuilt, and each value left as it is live because the log cannot say it."""


def restore_point(repo: BackupRepo, client: GraphClient, at_time: str, selection: Selection = Selection(),
                  now: datetime | None = None) -> RestorePoint:
    """`entragit restore --at-time`: the state at a moment as a commit on refs/entragit/at/<time>, whose
    unknown values are the live ones, so that the plan made from it never writes a value the log cannot say."""
    moment = parse_time(at_time)
    result = reconstruct(repo, client, moment, selection, now)
    stamp = _stamp(moment)
    gap = next((note for note in result.notes if note.startswith("the audit log holds nothing")), None)
    if gap is not None:
        raise EntragitError(f"nothing planned: {gap}; restore from a snapshot (--at REV) instead")
    notes = [f"the state at {stamp} is rebuilt from snapshot {result.base.commit[:10]} and {result.records} audit "
             f"record(s); it is committed on {at_ref(moment)}"]
    overrides: dict[str, dict[str, Obj | None]] = {}
    gaps: dict[str, list[UnknownValues]] = {}
    for found in result.unknown:
        gaps.setdefault(found.type, []).append(found)
    for type_name, unknown in gaps.items():
        object_type = REGISTRY[type_name]
        live = fetch_objects(client, object_type, sorted({u.id for u in unknown}))
        chosen = overrides.setdefault(type_name, {})
        for found in unknown:
            current, rebuilt = live.get(found.id), chosen.get(found.id, result.objects[type_name].get(found.id))
            if not found.paths or rebuilt is None or current is None:
                chosen[found.id] = current
            else:
                merged = {k: v for k, v in rebuilt.items() if k not in found.paths}
                merged.update((p, current[p]) for p in found.paths if p in current)
                chosen[found.id] = _canonical(object_type, merged)
            what = ", ".join(found.paths) or "its whole state"
            notes.append(f"left as it is live: {type_name}/{found.id} {found.display_name or '(no name)'}: {what} "
                         f"({found.why})")
    notes += [f"unknown: {note}" for note in result.notes]
    ref = at_ref(moment)
    commit_reconstruction(repo, result, overrides, ref)
    return RestorePoint(ref, notes)


def at_ref(moment: datetime) -> str:
    return REF_PREFIX + moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")


def lies_under(path: str, paths: Iterable[str]) -> bool:
    return any(lies_within(path, p) for p in paths)

