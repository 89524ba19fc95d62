"""Properties of the pipeline file -> canonical object -> restore plan, over generated objects.

Objects are generated from the types Graph declares for each property (graph_schema.json), so they are
valid files of their type. For any two of them, the writes the planner derives turn the first into the
second; for any file made invalid (a value of another type, an unknown key, an alias, a list where a
scalar belongs), reading it is one error naming the file, and so no plan is made from it.
"""

from __future__ import annotations

import copy
import re
import string
from collections.abc import Iterator
from datetime import timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entragit import canonical
from entragit.diff import split_relations
from entragit.errors import StoreError
from entragit.graph import GraphClient
from entragit.live import fetch_objects
from entragit.registry import ObjectType, get_type
from entragit.registry.schema import ANY, shape
from entragit.restore import RestoreOptions, Step
from entragit.restore.planner import _Planner
from entragit.selection import Selection
from entragit.store import BackupRepo
from tests.conftest import Admin, run

_TYPES = ["users", "groups", "conditionalAccessPolicies", "namedLocations", "applications"]
# Ids the generated relationships and references draw from: a few, so that two objects share some.
_IDS = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(6)]
_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_.'#:\u00e9\u00fc\n", min_size=1, max_size=8)
_NESTING = 3


def _primitive(type_name: str) -> st.SearchStrategy[Any]:
    if type_name in ("Edm.Guid",):
        return st.sampled_from(_IDS)
    if type_name == "Edm.DateTimeOffset":
        return st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat().replace("+00:00", "Z"))
    if type_name == "Edm.Boolean":
        return st.booleans()
    if type_name.startswith("Edm.Int") or type_name == "Edm.Byte":
        return st.integers(-1000, 1000)
    if type_name in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    return _TEXT


def _of_type(type_name: str, depth: int) -> st.SearchStrategy[Any]:
    from entragit.registry.schema import _types

    declared = _types().get(type_name)
    if declared is None or "enum" in declared:
        return _primitive(type_name)
    if depth >= _NESTING:
        return st.just({})
    # Abstract bases (ipRange) are written as one of their kinds.
    kinds = [type_name] + [name for name, t in _types().items() if type_name in t.get("bases", ())]
    return st.sampled_from(kinds).flatmap(lambda kind: _mapping(kind, kind != type_name, depth + 1))


def _mapping(kind: str, typed: bool, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    from entragit.registry.schema import _types

    optional = {key: _property(spec[0], bool(spec[1]), depth)
                for key, spec in _types()[kind]["properties"].items()}
    fixed = {"@odata.type": st.just(f"#microsoft.graph.{kind}")} if typed else {}
    return st.fixed_dictionaries(fixed, optional=optional)  # type: ignore[arg-type]


def _property(type_name: str, many: bool, depth: int) -> st.SearchStrategy[Any]:
    one = _of_type(type_name, depth)
    return st.lists(one, max_size=3) if many else one


def _writable(object_type: ObjectType, kind: str) -> dict[str, Any]:
    """The properties a restore PATCHes, with their types: not the ones written some other way."""
    kept = shape(object_type).properties[kind]
    skipped = (object_type.read_only | object_type.create_only | object_type.volatile | set(object_type.credentials)
               | set(object_type.hooks.write_property) | object_type.written_per_item | object_type.relationship_names
               | object_type.sub_collection_names | {"@odata.type", "id"})
    return {key: spec for key, spec in kept.items() if key not in skipped and spec[0] != ANY}


@st.composite
def _pair(draw: st.DrawFn, type_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two canonical objects of a type that differ only where a PATCH or a link can make them differ."""
    object_type = get_type(type_name)
    kind = draw(st.sampled_from(sorted(shape(object_type).properties)))
    fixed: dict[str, Any] = {"id": _IDS[0]}
    if kind:
        fixed["@odata.type"] = kind
    properties = {key: _property(spec[0], spec[1], 0) for key, spec in _writable(object_type, kind).items()}
    references = {path: st.lists(st.sampled_from(_IDS), max_size=3) for path in object_type.references}
    objects: list[dict[str, Any]] = []
    first: dict[str, Any] = {}
    for _ in range(2):
        raw = {**draw(st.fixed_dictionaries({}, optional=properties)), **fixed}  # type: ignore[arg-type]
        # The second object keeps some of the first's values: most changes are to a few properties.
        kept = {key: value for key, value in first.items() if draw(st.booleans())}
        first = raw = {k: v for k, v in {**raw, **kept}.items() if v is not None}
        for path, ids in references.items():
            # A reference is an id wherever it sits: set one at each path of the object that reaches there.
            _put(raw, path.split("."), draw(ids))
        relations = {rel.name: draw(st.lists(st.sampled_from(_IDS[1:]), max_size=4) if rel.many
                                    else st.sampled_from(_IDS[1:])) for rel in object_type.relationships}
        objects.append(canonical.canonical(object_type, raw, relations))
    return objects[0], objects[1]


def _put(raw: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        raw = raw.setdefault(part, {}) if isinstance(raw.get(part, {}), dict) else {}
    raw[parts[-1]] = value


def _applied(object_type: ObjectType, live: dict[str, Any], steps: Iterator[Step]) -> dict[str, Any]:
    """What Graph makes of live once the steps are sent: a PATCH replaces each property it names (merged
    key by key for merge properties, null clearing), a link adds or removes one id."""
    attrs, relations = split_relations(object_type, copy.deepcopy(live))
    for step in steps:
        if step.method == "PATCH":
            for key, value in (step.body or {}).items():
                if key in object_type.merge_properties and isinstance(value, dict):
                    value = {k: v for k, v in {**attrs.get(key, {}), **value}.items() if v is not None}
                attrs[key] = value
        elif step.member is not None:
            rel, member_id, _ = step.member
            if step.kind == "add-ref":
                relations[rel] = [*relations.get(rel, []), member_id]
            elif step.kind == "remove-ref":
                relations[rel] = [i for i in relations.get(rel, []) if i != member_id]
            else:
                attrs[rel] = member_id if step.kind == "set-ref" else None
        else:
            raise AssertionError(f"unexpected step {step.describe()}")
    relations |= {rel.name: attrs.pop(rel.name) for rel in object_type.relationships if not rel.many
                  and rel.name in attrs}
    return canonical.canonical(object_type, attrs, relations)


@pytest.fixture
def planner(repo: BackupRepo, client: GraphClient) -> _Planner:
    run("snapshot", "--repo", str(repo.root), "--type", "namedLocations")
    return _Planner(repo, client, repo.resolve("HEAD"), Selection(), RestoreOptions(), {})


def _plan(planner: _Planner, object_type: ObjectType, desired: dict[str, Any], live: dict[str, Any]) -> list[Step]:
    planner.steps, planner.blocked = {}, []
    name = desired.get(object_type.display_key)
    planner._plan_properties(object_type, _IDS[0], name, desired, live, _IDS[0])
    for rel in object_type.relationships:
        planner._plan_relationship(object_type, _IDS[0], name, rel, desired, live)
    assert planner.blocked == []
    return sorted(planner.steps.values(), key=lambda s: s.stage)


@pytest.mark.parametrize("type_name", _TYPES)
def test_the_plan_from_one_object_to_another_yields_the_other(planner: _Planner, type_name: str) -> None:
    object_type = get_type(type_name)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_pair(type_name))
    def check(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
        live, desired = pair
        # Every generated object is a valid file of its type, as it is written and read back.
        for obj in pair:
            assert canonical.load(canonical.dump(obj), f"{type_name}/x.yaml", None, object_type) == obj
        assert _applied(object_type, live, iter(_plan(planner, object_type, desired, live))) == desired

    check()


_WORDS = st.text(alphabet=string.ascii_letters + " ", min_size=1, max_size=12).filter(lambda t: t.strip() == t)


def test_against_the_simulator_the_plan_makes_the_live_group_the_desired_one(planner: _Planner, admin: Admin,
                                                                               client: GraphClient) -> None:
    groups = get_type("groups")
    team = admin.group("Sales Team")
    pool = sorted(u["id"] for u in admin.users("Engineering"))[:6]

    @settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(description=_WORDS, members=st.sets(st.sampled_from(pool), min_size=1))
    def check(description: str, members: set[str]) -> None:
        live = fetch_objects(client, groups, [team["id"]])[team["id"]]
        assert live is not None
        desired = canonical.with_relation({**live, "description": description}, "members", sorted(members))
        planner.steps, planner.blocked = {}, []
        planner.plan_existing(groups, team["id"], desired, live)
        for step in sorted(planner.steps.values(), key=lambda s: s.stage):
            client.request(step.method, step.path, json=step.body)
        assert fetch_objects(client, groups, [team["id"]])[team["id"]] == desired

    check()


# Ways to make a valid file invalid: (what is done, the text that results).
_BREAKAGES = [
    lambda text: text + "unknownAttribute: 1\n",
    lambda text: re.sub(r"^displayName: .*$", "displayName:\n- a\n- b", text, count=1, flags=re.M),
    lambda text: re.sub(r"^displayName: .*$", "displayName: 12", text, count=1, flags=re.M),
    lambda text: re.sub(r"^id: (.*)$", r"id: &anchor \1\nnotes: *anchor", text, count=1, flags=re.M),
    lambda text: text + "members: " + _IDS[1] + "\n",
]


@pytest.mark.parametrize("type_name", ["groups", "applications"])
def test_any_broken_file_is_one_error_naming_it(type_name: str) -> None:
    object_type = get_type(type_name)

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_pair(type_name), st.sampled_from(_BREAKAGES))
    def check(pair: tuple[dict[str, Any], dict[str, Any]], breakage: Any) -> None:
        obj = {**pair[0], "displayName": "A name"}
        text = breakage(canonical.dump(obj).decode())
        path = f"{type_name}/{_IDS[0]}.yaml"
        with pytest.raises(StoreError) as refused:
            canonical.load(text, path, "0123456789abcdef", object_type)
        message = str(refused.value)
        assert message.startswith(path) and "in commit 0123456789ab: " in message and "\n" not in message

    check()
