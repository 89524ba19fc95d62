"""The canonical form of a directory object: same tenant state, same bytes.

Keys in a fixed order (id, displayName, then sorted), volatile properties and OData annotations dropped,
"not set" written one way only (absent: Graph says null, [] or {} for it depending on the call), and
lists that are sets sorted. Relationships are reduced to the ids of the other objects.
"""

from __future__ import annotations

import io
import json
import threading
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from entragit.errors import StoreError
from entragit.registry import ObjectType

Obj = dict[str, Any]

_LEADING_KEYS = ("id", "displayName")


def _is_empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _annotation(key: str, keep_type: bool) -> bool:
    if key == "@odata.type":
        return not keep_type
    return "@odata." in key


def _sort_key(value: Any) -> tuple[str, str]:
    return (type(value).__name__, json.dumps(value, sort_keys=True, ensure_ascii=False))


def _normalise(value: Any, path: str, object_type: ObjectType) -> Any:
    if isinstance(value, dict):
        out = {}
        for key in sorted(value):
            # Nested @odata.type stays: Graph needs it to write polymorphic values (ipRanges items).
            if key != "@odata.type" and "@odata." in key:
                continue
            child = _normalise(value[key], f"{path}.{key}" if path else key, object_type)
            if not _is_empty(child):
                out[key] = child
        return out
    if isinstance(value, list):
        items = [_normalise(v, path, object_type) for v in value]
        items = [v for v in items if not _is_empty(v)]
        if path not in object_type.ordered_lists:
            items.sort(key=_sort_key)
        return items
    return value


def _ordered(obj: Obj) -> Obj:
    head = [k for k in _LEADING_KEYS if k in obj]
    if "@odata.type" in obj:
        head.append("@odata.type")
    return {k: obj[k] for k in head + sorted(k for k in obj if k not in head)}


def canonical(object_type: ObjectType, raw: Obj, relations: dict[str, Any] | None = None) -> Obj:
    """Canonical form of one object as Graph returned it, plus its relationships (name -> id or ids)."""
    body: Obj = {}
    for key, value in raw.items():
        if key in object_type.volatile or key in object_type.relationship_names:
            continue
        if _annotation(key, keep_type=object_type.polymorphic):
            continue
        secret = object_type.secret_fields.get(key)
        if secret and isinstance(value, list):
            value = [{k: v for k, v in item.items() if k not in secret} if isinstance(item, dict) else item
                     for item in value]
        body[key] = value
    obj = _normalise(body, "", object_type)
    for name, value in (relations or {}).items():
        if isinstance(value, list):
            value = sorted(set(value))
        if not _is_empty(value):
            obj[name] = value
    return _ordered(obj)


def _yaml() -> YAML:
    # pure=True, always: where ruamel.yaml.clib is installed, the C emitter quotes and folds some strings
    # differently (multi-line text, quotes), and a snapshot's bytes must not depend on the machine.
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # _ordered() chose the order
    yaml.allow_unicode = True
    yaml.width = 4096  # one value per line: long descriptions wrapped by YAML make noisy diffs
    return yaml


# ruamel's YAML objects keep parsing state on themselves: one per thread.
_local = threading.local()


def _dumper() -> YAML:
    if not hasattr(_local, "dumper"):
        _local.dumper = _yaml()
    return _local.dumper  # type: ignore[no-any-return]


def _loader() -> YAML:
    if not hasattr(_local, "loader"):
        _local.loader = YAML(typ="safe")
    return _local.loader  # type: ignore[no-any-return]


def dump(obj: Obj) -> bytes:
    buffer = io.StringIO()
    _dumper().dump(obj, buffer)
    return buffer.getvalue().encode("utf-8")


def load(data: bytes | str, path: str, commit: str | None = None) -> Obj:
    """Parse one snapshot file; path (and the commit it was read from) name it in any error."""
    at = f" in commit {commit[:12]}" if commit else ""
    try:
        obj = _loader().load(data)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise StoreError(f"{path}{line}{at}: not valid YAML: {exc.problem or exc.context}") from None
    except YAMLError as exc:
        raise StoreError(f"{path}{at}: not valid YAML: {exc}") from None
    if not isinstance(obj, dict):
        raise StoreError(f"{path}{at}: not a snapshot object (expected a mapping of attributes)")
    return obj


def with_relation(obj: Obj, name: str, value: list[str]) -> Obj:
    """A canonical object with one relationship replaced, still canonical."""
    updated = {k: v for k, v in obj.items() if k != name}
    if value:
        updated[name] = sorted(set(value))
    return _ordered(updated)
