"""Writes graph_schema.json, the property types of the registry's objects, from Graph's published metadata.

    python3 -m entragit.registry.graph_schema_gen path/to/cleanMetadata.xml [--commit SHA]

The input is Microsoft's OData metadata (CSDL) for Graph v1.0, `clean_v10_metadata/cleanMetadata.xml` of
https://github.com/microsoftgraph/msgraph-metadata (MIT licence). Only what the registry's types reach is
kept: their entity types and bases with every structural property they declare (the registry decides each
one: tests/test_properties_decided.py), the complex types those properties name (and the types derived from
those, which a value names by its @odata.type), and which names are enums. Run it again when the registry
gains a type or Microsoft's metadata changes, and commit the result.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from entragit.registry import REGISTRY

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
_MAIN = "microsoft.graph."
OUTPUT = Path(__file__).with_name("graph_schema.json")
SOURCE = "https://github.com/microsoftgraph/msgraph-metadata"
SOURCE_PATH = "clean_v10_metadata/cleanMetadata.xml"


def _short(name: str) -> str:
    return name[len(_MAIN):] if name.startswith(_MAIN) else name


class _Metadata:
    def __init__(self, root: ET.Element) -> None:
        self.types: dict[str, ET.Element] = {}
        self.kind: dict[str, str] = {}
        self._alias: dict[str, str] = {}
        for schema in root.iter(f"{_EDM}Schema"):
            namespace = schema.get("Namespace", "")
            if schema.get("Alias"):
                self._alias[schema.get("Alias", "")] = namespace
            for element in schema:
                tag = element.tag.removeprefix(_EDM)
                if tag in ("EntityType", "ComplexType", "EnumType"):
                    name = _short(f"{namespace}.{element.get('Name')}")
                    self.types[name] = element
                    self.kind[name] = tag
        self.derived: dict[str, list[str]] = {}
        for name, element in self.types.items():
            if element.get("BaseType"):
                self.derived.setdefault(self.resolve(element.get("BaseType", "")), []).append(name)

    def resolve(self, name: str) -> str:
        """A type name as the metadata writes it (graph.user, self.alert, Edm.String) in its short form."""
        prefix, _, rest = name.rpartition(".")
        return _short(f"{self._alias.get(prefix, prefix)}.{rest}") if prefix in self._alias else _short(name)


def _property(meta: _Metadata, element: ET.Element) -> tuple[str, list[Any]]:
    declared = element.get("Type", "")
    many = declared.startswith("Collection(")
    inner = meta.resolve(declared[len("Collection("):-1] if many else declared)
    nullable = element.get("Nullable", "true") != "false"
    return inner, [inner, int(many), int(nullable)]


def _lineage(meta: _Metadata, name: str) -> list[str]:
    """The type and its bases, the type first."""
    chain = [name]
    while meta.types[chain[-1]].get("BaseType"):
        chain.append(meta.resolve(meta.types[chain[-1]].get("BaseType", "")))
    return chain


def generate(xml_path: Path, commit: str) -> dict[str, Any]:
    meta = _Metadata(ET.parse(xml_path).getroot())
    out: dict[str, Any] = {}
    # (type, the navigation properties kept inline (None: every contained one)). Every structural property
    # of a registry type is kept, whether the registry stores it or not: the registry's decision for each is
    # held against this list. Navigation properties are relationships, stored as ids, except the lists of
    # sub-objects Graph returns inline that the registry writes item by item.
    pending: list[tuple[str, frozenset[str] | None]] = [
        (name, t.written_per_item) for t in REGISTRY.values() if t.api_version == "v1.0" for name in t.entity_types]
    # The items of sub-collections are decided as a type's own properties are. A type Graph serves in beta
    # only is not in this metadata: its entry documents its properties (registry/beta.py).
    pending += [(s.entity, None) for t in REGISTRY.values() for s in t.sub_collections
                if (s.api_version or t.api_version) == "v1.0"]
    while pending:
        name, inline = pending.pop()
        if name in out or name.startswith("Edm."):
            continue
        if name not in meta.types:
            raise SystemExit(f"{name}: not in the metadata")
        if meta.kind[name] == "EnumType":
            out[name] = {"enum": int(meta.types[name].get("IsFlags") == "true")}
            continue
        lineage = _lineage(meta, name)
        properties: dict[str, list[Any]] = {}
        for element in (meta.types[t] for t in lineage):
            for child in element:
                tag = child.tag.removeprefix(_EDM)
                wanted = tag == "Property"
                wanted |= (tag == "NavigationProperty" and child.get("ContainsTarget") == "true"
                           and (inline is None or child.get("Name") in inline))
                if wanted:
                    inner, properties[child.get("Name", "")] = _property(meta, child)
                    pending.append((inner, None))
                    # A value names a type derived from the declared one by its @odata.type.
                    pending += [(d, None) for d in _derived(meta, inner)]
        out[name] = {"bases": lineage[1:], "properties": dict(sorted(properties.items()))}
    return {
        "source": {"repository": SOURCE, "path": SOURCE_PATH, "commit": commit, "licence": "MIT",
                   "generator": "python3 -m entragit.registry.graph_schema_gen"},
        "types": dict(sorted(out.items())),
    }


def _derived(meta: _Metadata, name: str) -> list[str]:
    found, todo = [], list(meta.derived.get(name, []))
    while todo:
        found.append(todo.pop())
        todo += meta.derived.get(found[-1], [])
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("metadata", type=Path, help="Graph v1.0 CSDL (cleanMetadata.xml)")
    parser.add_argument("--commit", required=True, help="the msgraph-metadata commit the file comes from")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    schema = generate(args.metadata, args.commit)
    # One type to a line: a regenerated file's diff names the types that changed.
    def compact(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    types = ",\n".join(f"{compact(name)}:{compact(t)}" for name, t in schema["types"].items())
    args.output.write_text(f'{{"source":{compact(schema["source"])},\n"types":{{\n{types}\n}}}}\n')
    print(f"{args.output}: {len(schema['types'])} types", file=sys.stderr)


if __name__ == "__main__":
    main()
