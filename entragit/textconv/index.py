"""HEAD's id -> display name index for the textconv: one ls-tree, then one cat-file --batch over the blobs.

Apart from the textconv's light module (entragit.textconv) because it needs the registry and the YAML
reader, which a textconv run whose index is cached never loads."""

from __future__ import annotations

from pathlib import Path

from entragit import canonical
from entragit.errors import StoreError
from entragit.registry import REGISTRY
from entragit.textconv import git


def _display_name(head: bytes, display_key: str) -> str | None:
    """The display name from a canonical file's first lines (it comes right after the id)."""
    prefix = f"{display_key}: ".encode()
    for line in head.splitlines(keepends=True)[:4]:
        if line.startswith(prefix):
            try:
                value = canonical.load(line, display_key).get(display_key)
            except StoreError:
                return None
            return str(value) if value is not None else None
    return None


def build_index(root: Path) -> dict[str, str]:
    """id -> display name of every object at HEAD: two git commands, whatever the number of files."""
    listing = git(root, "ls-tree", "-r", "-z", "HEAD", "--", *[f"{name}/" for name in REGISTRY])
    blobs: list[tuple[str, str, str]] = []  # (blob id, object id, display key)
    for entry in filter(None, listing.split(b"\0")):
        meta, _, path = entry.decode("utf-8").partition("\t")
        folder, _, file_name = path.partition("/")
        if folder in REGISTRY and file_name.endswith(".yaml") and "/" not in file_name:
            blobs.append((meta.split()[2], file_name[: -len(".yaml")], REGISTRY[folder].display_key))
    if not blobs:
        return {}
    out = git(root, "cat-file", "--batch", stdin="".join(f"{blob}\n" for blob, _, _ in blobs).encode())
    index: dict[str, str] = {}
    position = 0
    for _, object_id, display_key in blobs:
        header_end = out.index(b"\n", position)
        size = int(out[position:header_end].split()[2])
        content = out[header_end + 1 : header_end + 1 + size]
        position = header_end + 1 + size + 1  # the content is followed by a newline
        name = _display_name(content[:2048], display_key)
        if name:
            index[object_id.lower()] = name
    return index
