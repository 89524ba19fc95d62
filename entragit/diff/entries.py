"""A partial reader of canonical files: only the top-level entries a report needs are parsed."""

from __future__ import annotations

from typing import Any

from entragit import canonical
from entragit.canonical import Obj
from entragit.errors import StoreError
from entragit.registry import ObjectType


def _top_level_blocks(data: bytes) -> dict[bytes, bytes] | None:
    """A canonical file cut into its top-level entries (key text -> the entry's lines), or None where the
    text is not laid out as entragit writes it (a hand edit with comments, say): then it is parsed whole."""
    blocks: dict[bytes, bytes] = {}
    key = None
    lines: list[bytes] = []
    for line in data.splitlines(keepends=True):
        if line[:1] in (b" ", b"-") and key is not None:
            lines.append(line)
            continue
        if line[:1] in (b"", b" ", b"-", b"#", b"\t", b"\n", b".", b"%", b"?") or b":" not in line:
            return None
        if key is not None:
            blocks[key] = b"".join(lines)
        key, lines = line.split(b":", 1)[0], [line]
        if key in blocks:
            return None
    if key is not None:
        blocks[key] = b"".join(lines)
    return blocks


class Entries:
    """Parses canonical files only as far as a report needs.

    Canonical files put one attribute per top-level entry, so the entries whose bytes differ between two
    versions are the attributes that changed; only those (and the display name) are parsed, and an entry
    seen before (`department: Sales` in a thousand files) is parsed once. This is what keeps a report on
    a mass change within a minute: whole-file YAML parsing would dominate it.
    """

    def __init__(self) -> None:
        self._parsed: dict[bytes, Obj] = {}

    def _entry(self, block: bytes, path: str, commit: str) -> Obj | None:
        if block not in self._parsed:
            try:
                parsed = canonical.load(block, path, commit)
            except StoreError:
                return None  # the whole file is parsed instead, so the error names the file's own line
            if len(parsed) != 1:
                return None
            self._parsed[block] = parsed
        return self._parsed[block]

    def value(self, object_type: ObjectType, data: bytes, key: str, path: str, commit: str) -> Any:
        """One top-level attribute of a file."""
        blocks = _top_level_blocks(data)
        if blocks is not None:
            block = blocks.get(key.encode())
            entry = self._entry(block, path, commit) if block is not None else {}
            if entry is not None:
                canonical.check(object_type, entry, data, path, commit, whole=False)
                return entry.get(key)
        return canonical.load(data, path, commit, object_type).get(key)

    def _part(self, blocks: dict[bytes, bytes], keys: set[bytes], path: str, commit: str) -> Obj | None:
        part: Obj = {}
        for key in keys & blocks.keys():
            entry = self._entry(blocks[key], path, commit)
            if entry is None:
                return None
            part.update(entry)
        return part

    def differing(self, object_type: ObjectType, old: bytes, new: bytes, path: str, commit_a: str,
                  commit_b: str) -> tuple[Obj, Obj]:
        old_blocks, new_blocks = _top_level_blocks(old), _top_level_blocks(new)
        if old_blocks is not None and new_blocks is not None:
            keys = {k for k in old_blocks.keys() | new_blocks.keys() if old_blocks.get(k) != new_blocks.get(k)}
            # The kind of a polymorphic object says which attributes it may have.
            keys |= {object_type.display_key.encode(), b"'@odata.type'"}
            old_part = self._part(old_blocks, keys, path, commit_a)
            new_part = self._part(new_blocks, keys, path, commit_b)
            if old_part is not None and new_part is not None:
                # Only what changed is checked, as only that is parsed: a file that reaches this point
                # differs from one that was checked when it was read before, or that entragit wrote.
                canonical.check(object_type, old_part, old, path, commit_a, whole=False)
                canonical.check(object_type, new_part, new, path, commit_b, whole=False)
                return old_part, new_part
        return canonical.load(old, path, commit_a, object_type), canonical.load(new, path, commit_b, object_type)
