"""Where each object lives in a backup repository, and what its file holds: a folder per type, a file
`<id>.yaml` per object, in entragit's canonical YAML."""

from __future__ import annotations

from entragit import canonical
from entragit.canonical import Obj
from entragit.errors import StoreError
from entragit.registry import REGISTRY, ObjectType
from entragit.store.plumbing.stager import Layout


def object_path(object_type: ObjectType, object_id: str) -> str:
    # Ids are GUIDs for every type so far; refuse anything that could climb out of its folder.
    if not object_id or "/" in object_id or "\\" in object_id or object_id in (".", ".."):
        raise StoreError(f"refusing to store {object_type.singular} with unsafe id {object_id!r}")
    return f"{object_type.name}/{object_id}.yaml"


def split_path(path: str) -> tuple[ObjectType, str] | None:
    """The type and id a repository path stands for, or None for a file that is not an object."""
    folder, _, name = path.partition("/")
    if folder in REGISTRY and name.endswith(".yaml") and "/" not in name:
        return REGISTRY[folder], name[: -len(".yaml")]
    return None


def _folder_of(path: str) -> str | None:
    located = split_path(path)
    return None if located is None else located[0].name


OBJECT_FILES: Layout[ObjectType, Obj] = Layout(lambda object_type: object_type.name, object_path, _folder_of,
                                               canonical.dump)
"""The layout the plumbing's Stager is given for a snapshot's objects."""
