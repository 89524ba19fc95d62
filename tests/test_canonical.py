"""Snapshot files: whatever the tenant holds, a file reads back as exactly the object that was written."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from entragit.canonical import dump, load
from entragit.registry import REGISTRY
from entragit.snapshot import read_tenant

scalars = st.one_of(
    st.text(min_size=1),
    st.sampled_from(["true", "No", "null", "~", "0x1F", "1e3", "2024-05-01", "12:30", "- a", "a: b", "a #b",
                     "@odata.type", "#microsoft.graph.user", "'quoted'", '"x"', " lead", "trail ", "a\nb", "\x85",
                     "\u2028", "é", "[x]", "{y}", "*ref", "!tag", "%p", "|", ">", "=", "<<"]),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
)
keys = st.one_of(st.text(min_size=1), st.sampled_from(["id", "@odata.type", "on", "y", "1"]))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, min_size=1, max_size=4),
                            st.dictionaries(keys, inner, min_size=1, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, values, min_size=1, max_size=6))
def test_any_object_reads_back_as_written(obj: dict) -> None:
    assert load(dump(obj), "x.yaml") == obj


def test_infinite_floats_read_back() -> None:
    obj = {"a": math.inf, "b": -math.inf, "c": 1e100}
    assert load(dump(obj), "x.yaml") == obj


def test_every_seeded_object_reads_back_and_guids_stay_unquoted(client) -> None:
    objects = read_tenant(client, list(REGISTRY.values()))
    count = 0
    for by_id in objects.values():
        for object_id, obj in by_id.items():
            text = dump(obj)
            assert load(text, object_id) == obj
            count += 1
    assert count > 100
    user = next(iter(objects[REGISTRY["users"]].values()))
    assert f"id: {user['id']}\n".encode() in dump(user)
