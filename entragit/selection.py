"""What a command works on: one value made once from the command line (--type, --id, --attribute, --paths)
and passed whole through planning, the journal's key, saved plans, the report cache and the reports.

Attribute paths are dotted (`conditions.users.excludeGroups`). Two relations between them are used, and
they mean different things:
- `lies_within(path, prefix)`: path is prefix or under it. A report narrowed to `conditions.users` shows
  the rows at or under it, never a row for all of `conditions`.
- `overlaps(a, b)`: one lies within the other. A restore narrowed to `conditions.users` must write a
  change made at `conditions` as a whole (it holds the selected part), and a guard on
  `conditions.users.excludeGroups` is touched by a write to `conditions.users`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

from entragit.errors import PlanError
from entragit.registry import REGISTRY, ObjectType, get_type, resolve_types

_GLOB = frozenset("*?[")


def lies_within(path: str, prefix: str) -> bool:
    """Whether dotted path is prefix or lies under it (`a.b` is within `a`, `a.bc` is not)."""
    return path == prefix or path.startswith(prefix + ".")


def overlaps(path: str, other: str) -> bool:
    """Whether either dotted path lies within the other: a write at one changes something at the other."""
    return lies_within(path, other) or lies_within(other, path)


def _file_matches(path: str, spec: str) -> bool:
    return path == spec or path.startswith(spec.rstrip("/") + "/") or fnmatch(path, spec)


def _folder(spec: str) -> str:
    return spec.strip("/").split("/")[0]


def _normal(values: Any) -> tuple[str, ...]:
    return tuple(sorted({str(v) for v in values or ()}))


@dataclass(frozen=True)
class Selection:
    """Object types (by folder name), object ids, attribute paths and file pathspecs; an empty part selects
    everything. Parts are kept sorted and unique, so equal selections have equal keys."""

    types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for part in ("types", "ids", "attributes", "paths"):
            object.__setattr__(self, part, _normal(getattr(self, part)))
        for name in self.types:
            get_type(name)
        for spec in self.paths:
            folder = _folder(spec)
            if folder not in REGISTRY and not _GLOB & set(folder):
                raise PlanError(f"--paths {spec}: no object type keeps its files in {folder}/; "
                                f"the folders are {', '.join(sorted(REGISTRY))}")

    @property
    def everything(self) -> bool:
        return not (self.types or self.ids or self.attributes or self.paths)

    def object_types(self) -> list[ObjectType]:
        """The types selected, in restore order; --paths naming folders narrows them further."""
        types = resolve_types(self.types)
        folders = {_folder(spec) for spec in self.paths}
        if not folders or any(_GLOB & set(f) for f in folders):
            return types
        return [t for t in types if t.name in folders]

    def wants_id(self, object_id: str) -> bool:
        return not self.ids or object_id in self.ids

    def wants_file(self, path: str) -> bool:
        """Whether a file of the backup repository (`groups/<id>.yaml`) is among --paths."""
        return not self.paths or any(_file_matches(path, spec) for spec in self.paths)

    def shows_attribute(self, path: str) -> bool:
        """Whether a report row at this dotted path is shown (it lies within a selected attribute)."""
        return not self.attributes or any(lies_within(path, a) for a in self.attributes)

    def writes_attribute(self, path: str) -> bool:
        """Whether a restore writes a difference at this dotted path (it overlaps a selected attribute)."""
        return not self.attributes or any(overlaps(path, a) for a in self.attributes)

    def as_dict(self) -> dict[str, list[str]]:
        """The selection as saved in journals, saved plans and cache keys."""
        return {"types": list(self.types), "ids": list(self.ids), "attributes": list(self.attributes),
                "paths": list(self.paths)}

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> Selection:
        return cls(*(tuple(saved.get(part) or ()) for part in ("types", "ids", "attributes", "paths")))

    def describe(self) -> str:
        """The selection as the options that made it, for messages (`--type groups --id 1234`)."""
        words = [f"--{flag} {value}" for flag, values in (("type", self.types), ("id", self.ids),
                                                           ("attribute", self.attributes), ("paths", self.paths))
                 for value in values]
        return " ".join(words) or "everything"
