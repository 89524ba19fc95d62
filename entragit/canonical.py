"""The canonical form of a directory object: same tenant state, same bytes.

Keys in a fixed order (id, displayName, then sorted), volatile properties and OData annotations dropped,
"not set" written one way only (absent: Graph says null, [] or {} for it depending on the call), and
lists that are sets sorted. Relationships are reduced to the ids of the other objects.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

from entragit.errors import StoreError
from entragit.registry import ObjectType, schema
from entragit.registry.writes import SubCollection

Obj = dict[str, Any]

_LEADING_KEYS = ("id", "displayName")


def _is_empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _sort_key(value: Any) -> tuple[str, str]:
    return (type(value).__name__, json.dumps(value, sort_keys=True, ensure_ascii=False))


def _normalise(value: Any, path: str, object_type: ObjectType) -> Any:
    if isinstance(value, dict):
        out = {}
        for key in sorted(value):
            # Nested @odata.type stays: Graph needs it to write polymorphic values (ipRanges items).
            if key != "@odata.type" and "@odata." in key:
                continue
            child = value[key]
            # Most values are scalars: only containers need a path (which lists keep their order) and a walk.
            if isinstance(child, (dict, list)):
                child = _normalise(child, f"{path}.{key}" if path else key, object_type)
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
    """Canonical form of one object as Graph returned it, plus its relationships (name -> id or ids);
    those a relationship keeps in a list of the object's own body are taken from it where it is there."""
    if object_type.links_within:
        relations = {**_within(object_type, raw), **(relations or {})}
    body: Obj = {}
    # Only what the type keeps: Graph may return more (a property newer than the registry's decisions).
    stored = object_type.stored | {"@odata.type"} if object_type.polymorphic else object_type.stored
    for key, value in raw.items():
        if key not in stored or key in object_type.sub_collection_names:
            continue
        secret = object_type.secret_fields.get(key)
        if secret and isinstance(value, list):
            value = [{k: v for k, v in item.items() if k not in secret} if isinstance(item, dict) else item
                     for item in value]
        body[key] = value
    obj = _normalise(body, "", object_type)
    for sub in object_type.sub_collections:
        if isinstance(items := raw.get(sub.property), list) and items:
            obj[sub.property] = _items(object_type, sub, items)
    for name, value in (relations or {}).items():
        if isinstance(value, list):
            value = sorted(set(value))
        if not _is_empty(value):
            obj[name] = value
    return _ordered(obj)


def _items(object_type: ObjectType, sub: SubCollection, items: list[Any]) -> list[Obj]:
    """A sub-collection's items as kept: each its kept properties, in canonical form, the list by key."""
    stored = sub.stored
    kept = [sub.without_volatile_inside(_normalise({k: v for k, v in item.items() if k in stored}, sub.property,
                                                   object_type))
            for item in items if isinstance(item, dict)]
    return sub.sorted_items([_ordered(item) for item in kept if item])


def _within(object_type: ObjectType, raw: Obj) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for name, within in object_type.links_within:
        if isinstance(items := raw.get(within.property), list):
            found[name] = [item[within.key] for item in items if isinstance(item, dict) and within.key in item]
    return found


# The files are written by the emitter below, not by ruamel: a full snapshot of a large tenant writes
# hundreds of thousands of files, and ruamel's general emitter spends ~0.5 ms on each. Canonical objects
# hold only mappings with string keys, lists, strings, numbers and booleans, so the block style they need
# is short to write; ruamel still reads every file, and tests check that it reads back what was written.
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Scalars a YAML reader (1.1 or 1.2) could take for something other than a string.
_NOT_STRINGS = frozenset({"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ""})
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`+.~<=0123456789 ")


def _printable(text: str) -> bool:
    # str.isprintable() is False for every character YAML may not hold unescaped, NEL, the line and
    # paragraph separators and the byte order mark included (Unicode's Other and Separator categories).
    return text.isprintable()


def _plain(text: str) -> bool:
    """Whether a string can be written without quotes and still read back as the same string."""
    if _GUID.fullmatch(text):
        return True
    return (
        text.lower() not in _NOT_STRINGS
        and text[0] not in _INDICATORS
        and not text.endswith((" ", ":"))
        and ": " not in text
        and " #" not in text
        and _printable(text)
    )


def _float(value: float) -> str:
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    # YAML 1.2 reads "1e+100" as a string: its floats have a dot.
    return text if "." in text else text.replace("e", ".0e", 1)


# Attribute names, and many values (countries, job titles, flags), recur in every object of a type:
# how each string is written is worked out once.
@functools.lru_cache(maxsize=1 << 16)
def _string(text: str) -> str:
    if _plain(text):
        return text
    if _printable(text):
        return "'" + text.replace("'", "''") + "'"
    # Double quotes for line breaks and control characters, escaped as YAML's double-quoted style has them.
    return '"' + "".join(_escaped(char) for char in text) + '"'


def _scalar(value: Any) -> str:
    if type(value) is str:
        return _string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, int):
        return repr(value)
    return _string(str(value))


_NAMED_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escaped(char: str) -> str:
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if _printable(char):
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _emit(value: Any, indent: str, out: list[str]) -> None:
    """Block style as ruamel writes it: nested mappings indented by two, lists not indented under a key."""
    if isinstance(value, dict):
        for key, item in value.items():
            label = f"{indent}{_scalar(key)}:"
            if isinstance(item, dict) and item:
                out.append(label + "\n")
                _emit(item, indent + "  ", out)
            elif isinstance(item, list) and item:
                out.append(label + "\n")
                _emit(item, indent, out)
            else:
                out.append(f"{label} {_scalar(item) if not isinstance(item, (dict, list)) else _empty(item)}\n")
        return
    for item in value:
        if isinstance(item, (dict, list)) and item:
            # The first entry shares the dash's line: "- key: value" / "- - item".
            nested: list[str] = []
            _emit(item, indent + "  ", nested)
            nested[0] = f"{indent}- " + nested[0][len(indent) + 2:]
            out.extend(nested)
        else:
            out.append(f"{indent}- {_scalar(item) if not isinstance(item, (dict, list)) else _empty(item)}\n")


def _empty(value: dict[str, Any] | list[Any]) -> str:
    return "{}" if isinstance(value, dict) else "[]"


# ruamel's YAML objects keep parsing state on themselves: one per thread.
_local = threading.local()


def _loader() -> YAML:
    if not hasattr(_local, "loader"):
        _local.loader = YAML(typ="safe")
    return _local.loader  # type: ignore[no-any-return]


def dump(obj: Obj) -> bytes:
    out: list[str] = []
    _emit(obj, "", out)
    return "".join(out).encode("utf-8")


# Limits on what a file read from git may make entragit do. Anchors and aliases, which can make a small
# file expand without bound, are refused, so reading costs time and memory in proportion to a file's
# size; these limits bound that size.
# - A file entragit wrote: 256 MiB, a group of six million members, more than any directory puts in one.
# - Any other file (edited by hand in another YAML layout) is read by ruamel, about a hundred times
#   slower: 16 MiB, a group of 400 000 members, still a few seconds' reading.
# - A value, and a line: 1 MiB, hundreds of times the longest text Graph keeps in any property
#   entragit stores (a membership rule, a policy definition: a few KB); ruamel slows down on long lines.
# - Nesting: 64 levels. Snapshot objects nest fewer than ten; YAML readers recurse once per level.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_YAML_BYTES = 16 * 1024 * 1024
MAX_VALUE_CHARS = 1024 * 1024
MAX_DEPTH = 64
# A line's lead of indentation and dashes that only nesting deeper than MAX_DEPTH gives in entragit's layout.
_TOO_DEEP = re.compile(rb"(?:^|\n)[ -]{%d}" % (2 * MAX_DEPTH))


def _at(commit: str | None) -> str:
    return f" in commit {commit[:12]}" if commit else ""


def load(data: bytes | str, path: str, commit: str | None = None, object_type: ObjectType | None = None) -> Obj:
    """Parse one snapshot file; path (and the commit it was read from) name it in any error. Given its
    type, the file is also checked against it: a value the type does not allow is an error too."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_FILE_BYTES:
        raise StoreError(f"{path}{_at(commit)}: {len(raw)} bytes; entragit reads no file over "
                         f"{MAX_FILE_BYTES // 2**20} MiB")
    own = _own_format(raw)
    obj = own if own is not None else read_yaml(raw, path, commit)
    if object_type is not None:
        check(object_type, obj, raw, path, commit)
    return obj


def check(object_type: ObjectType, obj: Obj, data: bytes, path: str, commit: str | None, whole: bool = True) -> None:
    """Refuse obj, read from the file data, where its type does not allow it (see registry/schema.py);
    with whole=False obj holds only some of the file's top-level attributes."""
    try:
        schema.check(object_type, obj, whole)
    except schema.FileProblem as problem:
        raise StoreError(f"{path}{_line_of(data, problem.where)}{_at(commit)}: {problem}") from None


def _line_of(data: bytes, where: schema.Where) -> str:
    """":line" of the value at where in a file (found again by ruamel, which keeps lines), or ""."""
    try:
        node = YAML(typ="rt").load(data)
    except YAMLError:
        return ""
    line = None
    for part in where:
        try:
            line = node.lc.item(part)[0] if isinstance(part, int) else node.lc.key(part)[0]
            node = node[part]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    return "" if line is None else f":{line + 1}"


def parse_yaml(data: bytes | str, path: str, commit: str | None = None) -> Any:
    """Parse a file of the repository as any YAML, within the limits that keep a hostile file from
    costing time or memory (no anchors or aliases, no huge file or value); one StoreError line otherwise."""
    at = _at(commit)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_YAML_BYTES:
        raise StoreError(f"{path}{at}: {len(raw)} bytes not in the layout entragit writes; entragit reads "
                         f"no such file over {MAX_YAML_BYTES // 2**20} MiB")
    lengths = [len(line) for line in raw.split(b"\n")]
    if max(lengths) > MAX_VALUE_CHARS:
        number = next(n for n, length in enumerate(lengths, 1) if length > MAX_VALUE_CHARS)
        raise StoreError(f"{path}:{number}{at}: a line over "
                         f"{MAX_VALUE_CHARS // 2**20} MiB; entragit reads no value that long")
    try:
        _refuse_unsafe(raw, path, at)
        return _loader().load(raw)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise StoreError(f"{path}{line}{at}: not valid YAML: {exc.problem or exc.context}") from None
    except UnicodeDecodeError as exc:
        raise StoreError(f"{path}{at}: not UTF-8 text (byte {exc.start})") from None
    except YAMLError as exc:
        raise StoreError(f"{path}{at}: not valid YAML: {' '.join(str(exc).split())}") from None


def read_yaml(data: bytes | str, path: str, commit: str | None = None) -> Obj:
    """Parse a snapshot file as any YAML (a file edited by hand, say), with ruamel."""
    obj = parse_yaml(data, path, commit)
    if not isinstance(obj, dict):
        raise StoreError(f"{path}{_at(commit)}: not a snapshot object (expected a mapping of attributes)")
    return obj


def _refuse_unsafe(data: bytes, path: str, at: str) -> None:
    """Read the file's YAML events, before anything is built from them, for what canonical files never
    hold: anchors and aliases (a few lines of them can stand for billions of values), values over
    MAX_VALUE_CHARS and nesting over MAX_DEPTH (which would exhaust the reader's recursion)."""
    depth = 0
    events = _loader().parse(data)
    try:
        for event in events:
            line = f"{path}:{event.start_mark.line + 1}{at}" if event.start_mark is not None else f"{path}{at}"
            if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
                raise StoreError(f"{line}: YAML anchors and aliases are refused (&{event.anchor}): entragit "
                                 "never writes them, and they can make a small file expand without bound")
            if isinstance(event, ScalarEvent) and len(event.value) > MAX_VALUE_CHARS:
                raise StoreError(f"{line}: a value of {len(event.value)} characters; entragit reads none "
                                 f"over {MAX_VALUE_CHARS // 2**20} MiB")
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise StoreError(f"{line}: nested more than {MAX_DEPTH} levels deep; no snapshot object is")
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    finally:
        events.close()


# Reading is the hot path of diffs and restore plans (thousands of files per report), and ruamel, even
# with its C parser, spends ~0.3 ms on a user's file. Files entragit wrote itself are read by the small
# parser below instead, and its answer is kept only when dumping it gives back the very same bytes. The
# emitter's round trip through ruamel is tested, so such an answer is what ruamel would have read; any
# other file (edited by hand, another YAML style, a typo) is left to ruamel, errors and all.
_SPECIAL_FLOATS = {".nan": float("nan"), ".inf": float("inf"), "-.inf": float("-inf")}
_WORDS: dict[str, Any] = {"true": True, "false": False, "null": None}
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}
_ESCAPE_WIDTH = {"x": 2, "u": 4, "U": 8}


class _NotOwnFormat(Exception):
    pass


def _own_format(data: bytes) -> Obj | None:
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    if len(lines) < 2 or lines.pop() != "" or _TOO_DEEP.search(data):
        return None
    # Past the limits ruamel reads the file instead, and its error names the value or the depth.
    if len(data) > MAX_VALUE_CHARS and max(map(len, lines)) > MAX_VALUE_CHARS:
        return None
    try:
        end, obj = _mapping(lines, 0, "")
    except (_NotOwnFormat, ValueError, IndexError):
        return None
    if end != len(lines) or dump(obj) != data:
        return None
    return obj


def _mapping(lines: list[str], start: int, indent: str) -> tuple[int, Obj]:
    obj: Obj = {}
    at = start
    width = len(indent)
    while at < len(lines) and lines[at].startswith(indent) and lines[at][width:width + 1] not in ("", " ", "-"):
        key, rest = _entry(lines[at][width:])
        if rest is not None:
            obj[key] = _scalar_value(rest)
            at += 1
        elif at + 1 < len(lines) and lines[at + 1].startswith(indent + "- "):
            at, obj[key] = _sequence(lines, at + 1, indent)
        else:
            at, obj[key] = _mapping(lines, at + 1, indent + "  ")
    if at == start:
        raise _NotOwnFormat
    return at, obj


def _sequence(lines: list[str], start: int, indent: str) -> tuple[int, list[Any]]:
    items: list[Any] = []
    at = start
    dash = indent + "- "
    nested = indent + "  "
    while at < len(lines) and lines[at].startswith(dash):
        text = lines[at][len(dash):]
        item: Any
        if text.startswith("- "):
            lines[at] = nested + text
            at, item = _sequence(lines, at, nested)
        elif _is_entry(text):
            lines[at] = nested + text
            at, item = _mapping(lines, at, nested)
        else:
            item = _scalar_value(text)
            at += 1
        items.append(item)
    return at, items


def _is_entry(text: str) -> bool:
    try:
        _entry(text)
    except (_NotOwnFormat, ValueError, IndexError):
        return False
    return True


def _entry(text: str) -> tuple[str, str | None]:
    """A mapping line's key, and its value's text (None when the value is the block below)."""
    if text[0] in "'\"":
        key, after = _quoted(text)
    else:
        cut = text.find(": ")
        after = text[cut:] if cut >= 0 else ":" if text.endswith(":") else ""
        key = text[:cut] if cut >= 0 else text[:-1]
    if after == ":":
        return key, None
    if not after.startswith(": "):
        raise _NotOwnFormat
    return key, after[2:]


def _scalar_value(text: str) -> Any:
    if text[0] in "'\"":
        value, after = _quoted(text)
        if after:
            raise _NotOwnFormat
        return value
    if text in _WORDS:
        return _WORDS[text]
    if text == "{}":
        return {}
    if text == "[]":
        return []
    if text[0] in "-.+0123456789" and not _GUID.fullmatch(text):
        if text in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[text]
        try:
            return int(text)
        except ValueError:
            return float(text)
    return text


def _quoted(text: str) -> tuple[str, str]:
    """A quoted scalar at the start of text, and what follows its closing quote."""
    if text[0] == "'":
        at = 1
        while True:
            close = text.index("'", at)
            if text[close + 1:close + 2] != "'":
                return text[1:close].replace("''", "'"), text[close + 1:]
            at = close + 2
    parts: list[str] = []
    at = 1
    while text[at] != '"':
        if text[at] != "\\":
            parts.append(text[at])
            at += 1
            continue
        code = text[at + 1]
        if code in _ESCAPE_WIDTH:
            width = _ESCAPE_WIDTH[code]
            parts.append(chr(int(text[at + 2:at + 2 + width], 16)))
            at += 2 + width
        elif code in _ESCAPES:
            parts.append(_ESCAPES[code])
            at += 2
        else:
            raise _NotOwnFormat
    return "".join(parts), text[at + 1:]


def with_relation(obj: Obj, name: str, value: list[str]) -> Obj:
    """A canonical object with one relationship replaced, still canonical."""
    updated = {k: v for k, v in obj.items() if k != name}
    if value:
        updated[name] = sorted(set(value))
    return _ordered(updated)


def with_items(obj: Obj, items: dict[str, list[Obj]]) -> Obj:
    """A canonical object with sub-collections (property -> items as kept) replaced, still canonical."""
    updated = {k: v for k, v in obj.items() if k not in items}
    updated.update((name, found) for name, found in items.items() if found)
    return _ordered(updated)
