"""What entragit does with each property Graph's metadata declares for a type, and why.

Every structural property of a backed-up type is decided once, in its registry entry: kept (in the file,
diffed and restored), kept but never written (read-only: set by sync, by Microsoft, or through another
API, with the reason), volatile (changes without anyone changing configuration: never stored), or not
kept (not configuration, or no cheap way to read it, with the reason). graph_schema.json lists what the
metadata declares, so a property Graph adds shows up here as undecided when the schema is regenerated.
That metadata is v1.0's: a type Graph serves in beta only is decided from the properties its beta
documentation lists, which its entry module writes down (registry/beta.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from entragit.registry import ObjectType
from entragit.registry.writes import SubCollection
from entragit.registry.schema import declared_properties

KEPT = "kept"
CREATE_ONLY = "kept, set on creation only"
READ_ONLY = "kept read-only"
VOLATILE = "volatile"
NOT_KEPT = "not kept"

_SYNCED = "copied from Active Directory by directory synchronization; changed there"
_CREDENTIALS = ("changed only through its add and remove actions; secrets are never stored, so a deleted one "
                "cannot come back (--remove-new-credentials removes new ones)")
# Reasons shared by the read-only properties of several types; an entry's why_read_only adds to them.
READ_ONLY_REASONS: dict[str, str] = {
    "id": "the object's key, given by Graph when the object is made",
    "appId": "given by Graph when the application is registered; a recreated one gets a new appId",
    "passwordCredentials": _CREDENTIALS,
    "keyCredentials": _CREDENTIALS,
    "applicationTemplateId": "set when the application is made from a gallery template",
    "createdByAppId": "the app that made this one, recorded by Graph",
    "disabledByMicrosoftStatus": "set by Microsoft when it disables an application (abuse, compromise)",
    **dict.fromkeys(("onPremisesSyncEnabled", "onPremisesDistinguishedName", "onPremisesDomainName",
                     "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesUserPrincipalName",
                     "onPremisesNetBiosName"), _SYNCED),
}

_VOLATILE_WHY = "changes without anyone changing configuration (times, counters, errors, derived values)"
# Stamps Graph sets once: no one's configuration, and nothing a restore could put back (a recreated object
# gets a new one).
VOLATILE_REASONS: dict[str, str] = {
    "createdDateTime": "stamped by Graph when the object is made; a recreated object gets a new one",
    "deletedDateTime": "stamped by Graph when the object is deleted; a live object has none",
}
_CREATE_ONLY_WHY = "Graph takes it when the object is made; a difference is listed as not restorable in place"


@dataclass(frozen=True)
class Decision:
    kind: str
    why: str = ""


def declared(object_type: ObjectType) -> list[str]:
    """The structural properties Graph's metadata declares for the type (any of its kinds), in order."""
    names: dict[str, None] = {}
    for entity in object_type.entity_types:
        names.update(dict.fromkeys(declared_properties(entity)))
    return list(names)


def decide(object_type: ObjectType, name: str) -> Decision | None:
    """The decision recorded for one property; None when the registry has none."""
    found = [kind for kind, present in (
        (VOLATILE, name in object_type.volatile),
        (NOT_KEPT, name in object_type.not_kept),
        (KEPT, name in (object_type.select or object_type.keeps)),
    ) if present]
    if len(found) != 1:
        return None
    if found[0] == VOLATILE:
        return Decision(VOLATILE, VOLATILE_REASONS.get(name, _VOLATILE_WHY))
    if found[0] == NOT_KEPT:
        return Decision(NOT_KEPT, object_type.not_kept[name])
    if name in object_type.read_only:
        why = object_type.why_read_only.get(name) or READ_ONLY_REASONS.get(name)
        return Decision(READ_ONLY, why) if why else None
    if name in object_type.create_only:
        return Decision(CREATE_ONLY, _CREATE_ONLY_WHY)
    return Decision(KEPT)


def decide_item(sub: SubCollection, name: str) -> Decision | None:
    """The decision recorded for one property of a sub-collection's items; None when there is none."""
    found = [kind for kind, present in (
        (VOLATILE, name in sub.volatile), (NOT_KEPT, name in sub.not_kept), (KEPT, name in sub.keeps),
    ) if present]
    if len(found) != 1:
        return None
    if found[0] == VOLATILE:
        return Decision(VOLATILE, VOLATILE_REASONS.get(name, _VOLATILE_WHY))
    if found[0] == NOT_KEPT:
        return Decision(NOT_KEPT, sub.not_kept[name])
    if name in sub.never_written:
        why = sub.why_read_only.get(name) or (_ITEM_ID if name == "id" else None)
        return Decision(READ_ONLY, why) if why else None
    if name in sub.create_only:
        return Decision(CREATE_ONLY, _CREATE_ONLY_WHY)
    return Decision(KEPT)


_ITEM_ID = "the item's key in Graph, given when it is made; items are matched by their key property instead"


def table(object_type: ObjectType) -> list[tuple[str, Decision | None]]:
    """Each declared property, sorted, with its decision (None: undecided); then those of each
    sub-collection's items, as "<list>.<property>"."""
    found = [(name, decide(object_type, name)) for name in sorted(declared(object_type), key=str.lower)]
    for sub in object_type.sub_collections:
        found += [(f"{sub.property}.{name}", decide_item(sub, name))
                  for name in sorted(declared_properties(sub.entity), key=str.lower)]
    return found


def undecided(object_type: ObjectType) -> list[str]:
    """Declared properties with no decision, or more than one, or read-only without a reason."""
    return [name for name, decision in table(object_type) if decision is None]


def rows(object_type: ObjectType) -> list[tuple[str, str, str]]:
    """(property, decision, why) for each declared property, as `entragit types --properties` prints them."""
    return [(name, decision.kind if decision else "UNDECIDED", decision.why if decision else "")
            for name, decision in table(object_type)]


GENERATED_MARK = "<!-- Generated from the registry by entragit.registry.decisions.markdown(); do not edit below. -->"


def markdown(object_types: list[ObjectType]) -> str:
    """The decision tables of docs/properties.md, one section per type."""
    out = [GENERATED_MARK, ""]
    for object_type in object_types:
        found = rows(object_type)
        own = [row for row in found if "." not in row[0]]
        kept = sum(1 for _, kind, _ in own if kind.startswith("kept"))
        source = "declared by Graph" if object_type.api_version == "v1.0" else "documented by Graph's beta reference"
        items = "".join(f" The items of its {s.property} ({s.entity}, kept in its file, matched by "
                        f"{' and '.join(s.keys)}) follow as `{s.property}.<property>`."
                        for s in object_type.sub_collections)
        out += [f"### {object_type.name}", "",
                f"{len(own)} properties {source} ({', '.join(object_type.entity_types)}), {kept} kept.{items}", "",
                "| property | decision | why |", "|---|---|---|"]
        out += [f"| `{name}` | {kind} | {why.replace('|', '/')} |" for name, kind, why in found]
        out.append("")
    return "\n".join(out)
