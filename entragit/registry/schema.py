"""What a snapshot file of each type may hold, from the registry and Graph's declared property types.

A file read from git may have been written by anyone who can get a change merged, so before anything is
planned or compared from it, each of its values is checked against the type Graph declares for it
(graph_schema.json, generated from Microsoft's published metadata by graph_schema_gen.py): text, numbers,
booleans, lists, nested mappings and their keys. On top of that come the registry's own rules: only the
properties entragit stores (what the type keeps, never a volatile one), relationships as object ids,
references as ids (or the few words Graph takes in their place), and no secret, ever.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from entragit.registry import ObjectType
from entragit.registry.beta import DOCUMENTED

# A property the registry selects but the metadata does not declare is taken as any value (tests list them).
ANY = "Edm.Untyped"
# A relationship's value: the id of another directory object.
_OBJECT_ID = "objectId"
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
STREAM_HASH = re.compile(r"sha256:[0-9a-f]{64}")
_ODATA_PREFIX = "#microsoft.graph."

Where = tuple[str | int, ...]
# (type name, a list of them, null allowed), as graph_schema.json writes a property.
Spec = tuple[str, bool, bool]


class FileProblem(Exception):
    """A value of a file that its type does not allow; where: the keys and list positions leading to it."""

    def __init__(self, where: Where, what: str) -> None:
        super().__init__(what)
        self.where = where


@functools.cache
def _types() -> dict[str, Any]:
    data = json.loads(Path(__file__).with_name("graph_schema.json").read_text(encoding="utf-8"))
    # The v1.0 metadata does not know the types Graph serves in beta only; their entries document them.
    return {**data["types"], **{name: {"properties": found} for name, found in DOCUMENTED.items()}}


def _is_datetime(value: Any) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


# Graph's primitive types: how each is written in a file, and what it may hold.
_PRIMITIVES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "Edm.String": ("text", lambda v: type(v) is str),
    "Edm.Guid": ("a GUID", lambda v: type(v) is str and GUID.fullmatch(v) is not None),
    "Edm.DateTimeOffset": ("a date and time in quotes ('2024-01-31T09:00:00Z')",
                           lambda v: type(v) is str and _is_datetime(v)),
    "Edm.Date": ("a date in quotes ('2024-01-31')", lambda v: type(v) is str),
    "Edm.TimeOfDay": ("a time in quotes ('09:00:00')", lambda v: type(v) is str),
    "Edm.Duration": ("a duration in quotes ('PT1H')", lambda v: type(v) is str),
    "Edm.Binary": ("base64 text", lambda v: type(v) is str),
    # Kept as the hash of its bytes (SubCollection.streams).
    "Edm.Stream": ("a sha256 hash ('sha256:…')", lambda v: type(v) is str and STREAM_HASH.fullmatch(v) is not None),
    "Edm.Boolean": ("true or false", lambda v: type(v) is bool),
    "Edm.Int32": ("a whole number", lambda v: type(v) is int),
    "Edm.Int64": ("a whole number", lambda v: type(v) is int),
    "Edm.Int16": ("a whole number", lambda v: type(v) is int),
    "Edm.Byte": ("a whole number", lambda v: type(v) is int),
    "Edm.Double": ("a number", lambda v: type(v) in (int, float)),
    "Edm.Single": ("a number", lambda v: type(v) in (int, float)),
    "Edm.Decimal": ("a number", lambda v: type(v) in (int, float)),
    ANY: ("any value", lambda v: True),
    _OBJECT_ID: ("an object id (a GUID)", lambda v: type(v) is str and GUID.fullmatch(v) is not None),
}


def _expected(type_name: str) -> str:
    if type_name in _PRIMITIVES:
        return _PRIMITIVES[type_name][0]
    if "enum" in _types()[type_name]:
        # Not checked against the members the metadata lists: Graph adds members to its enums faster
        # than a copy of its metadata follows, and refusing a file entragit wrote itself helps no one.
        return f"text (a {type_name} value)"
    return f"a mapping of {type_name} attributes"


def shown(value: Any) -> str:
    """A value as an error message names it: its kind, and a short, escaped form of it."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) in (int, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value[:60]!r}" + ("..." if len(value) > 60 else "")
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a mapping"
    # YAML reads an unquoted 2024-01-31 as a date, not as text.
    return f"a {type(value).__name__} ({str(value)[:60]!r}; in quotes it would be text)"


@dataclass(frozen=True)
class _Shape:
    """What the files of one registry type may hold."""

    object_type: ObjectType
    properties: dict[str, dict[str, Spec]]
    """Per @odata.type the file may carry (one key, "", for a type of one kind): key -> what it holds."""
    merged: dict[str, Spec]
    """Every key of any kind: a part of a file that does not say its kind is checked against these."""
    id_words: dict[str, frozenset[str]]
    """Reference paths, and the words (lower case) Graph takes there besides ids."""


def _declared(type_name: str) -> dict[str, Spec]:
    return {key: (spec[0], bool(spec[1]), bool(spec[2])) for key, spec in _types()[type_name]["properties"].items()}


def declared_properties(type_name: str) -> list[str]:
    """Every structural property the metadata declares for an entity type and its bases."""
    return list(_types()[type_name]["properties"])


def _kept(object_type: ObjectType, type_name: str) -> dict[str, Spec]:
    """The properties of one kind of object that entragit stores (and so may find in a file)."""
    declared = _declared(type_name)
    # A polymorphic type keeps the properties of all its kinds; a file of one kind holds only its own.
    names = [n for n in sorted(object_type.stored) if n in declared or not object_type.polymorphic]
    kept = {name: declared.get(name, (ANY, False, True)) for name in [*names, *object_type.moved]}
    for rel in object_type.relationships:
        kept[rel.name] = (_OBJECT_ID, rel.many, False)
    for sub in object_type.sub_collections:
        kept[sub.property] = (sub.entity, True, False)
    if object_type.polymorphic:
        kept["@odata.type"] = ("Edm.String", False, False)
    return kept


_SHAPES: dict[str, _Shape] = {}


def shape(object_type: ObjectType) -> _Shape:
    # By name: hashing a whole ObjectType on every file read would cost more than the check.
    if object_type.name not in _SHAPES:
        _SHAPES[object_type.name] = _shape(object_type)
    return _SHAPES[object_type.name]


def _shape(object_type: ObjectType) -> _Shape:
    kinds = object_type.odata_types if object_type.polymorphic else ("",)
    names = object_type.entity_types
    properties = {kind: _kept(object_type, name) for kind, name in zip(kinds, names)}
    merged: dict[str, Spec] = {}
    for kept in properties.values():
        merged.update(kept)
    id_words = {path: frozenset(w.lower() for w in object_type.reference_words.get(path, ()))
                for path in object_type.references}
    return _Shape(object_type, properties, merged, id_words)


def undeclared(object_type: ObjectType) -> list[str]:
    """Properties the type selects that Graph's metadata does not declare: taken as any value. A moved one
    (held by files an older entragit wrote, never written) is taken as any value on purpose."""
    return sorted(k for kept in shape(object_type).properties.values() for k, spec in kept.items()
                  if spec[0] == ANY and k not in object_type.moved)


def check(object_type: ObjectType, obj: dict[Any, Any], whole: bool = True) -> None:
    """Raise FileProblem at the first value of obj (a file's content, or with whole=False some of its
    top-level attributes) that the type does not allow."""
    found = shape(object_type)
    kept = found.merged
    if object_type.polymorphic:
        kind = obj.get("@odata.type")
        if kind in found.properties:
            kept = found.properties[kind]
        elif kind is not None or whole:
            raise FileProblem(("@odata.type",) if kind is not None else (),
                              f"@odata.type must be one of {', '.join(object_type.odata_types)}, not {shown(kind)}")
    secrets = object_type.secret_fields
    for key, value in obj.items():
        spec = kept.get(key)
        if spec is None:
            raise FileProblem((key,), f"{key!r} is not an attribute entragit stores for a {object_type.singular}")
        _value(found, spec, value, (key,), key, secrets.get(key, frozenset()))


def _value(found: _Shape, spec: Spec, value: Any, where: Where, path: str, secrets: frozenset[str]) -> None:
    type_name, many, nullable = spec
    if value is None and nullable and not many:
        return
    if many:
        if not isinstance(value, list):
            raise FileProblem(where, f"{path} must be a list of {_plural(type_name)}, not {shown(value)}")
        for at, item in enumerate(value):
            _one(found, type_name, item, (*where, at), path, secrets, listed=True)
    else:
        _one(found, type_name, value, where, path, secrets, listed=False)
    if path in found.id_words:
        _references(found, value, where, path)


def _plural(type_name: str) -> str:
    return "object ids (GUIDs)" if type_name == _OBJECT_ID else f"items, each {_expected(type_name)}"


def _one(found: _Shape, type_name: str, value: Any, where: Where, path: str, secrets: frozenset[str],
         listed: bool) -> None:
    what = f"each item of {path}" if listed else path
    primitive = _PRIMITIVES.get(type_name)
    if primitive is not None:
        if not primitive[1](value):
            raise FileProblem(where, f"{what} must be {primitive[0]}, not {shown(value)}")
        return
    declared = _types()[type_name]
    if "enum" in declared:
        if type(value) is not str:
            raise FileProblem(where, f"{what} must be {_expected(type_name)}, not {shown(value)}")
        return
    if not isinstance(value, dict):
        raise FileProblem(where, f"{what} must be {_expected(type_name)}, not {shown(value)}")
    kind = value.get("@odata.type")
    if kind is not None:
        named = kind.removeprefix(_ODATA_PREFIX) if isinstance(kind, str) else None
        if named is None or named not in _types() or (named != type_name and type_name not in _types()[named]["bases"]):
            raise FileProblem((*where, "@odata.type"),
                              f"@odata.type of {path} must name {type_name} or a kind of it, not {shown(kind)}")
        type_name = named
    properties = _types()[type_name]["properties"]
    for key, item in value.items():
        if key == "@odata.type":
            continue
        if key in secrets:
            raise FileProblem((*where, key), f"{path} holds a secret ({key}): entragit never stores secrets; "
                                             "remove it, and from the repository's history")
        spec = properties.get(key)
        if spec is None:
            raise FileProblem((*where, key), f"{key!r} is not an attribute of {path} (of type {type_name})")
        _value(found, (spec[0], bool(spec[1]), bool(spec[2])), item, (*where, key), f"{path}.{key}", frozenset())


def _references(found: _Shape, value: Any, where: Where, path: str) -> None:
    words = found.id_words[path]
    for at, item in enumerate(value if isinstance(value, list) else [value]):
        if not (isinstance(item, str) and (GUID.fullmatch(item) or item.lower() in words)):
            allowed = "" if not words else ", or " + ", ".join(found.object_type.reference_words[path])
            listed = isinstance(value, list)
            raise FileProblem((*where, at) if listed else where,
                              f"{path} must {'hold object ids (GUIDs)' if listed else 'be an object id (a GUID)'}"
                              f"{allowed}, not {shown(item)}")
