"""Snapshot files: whatever the tenant holds, a file reads back as exactly the object that was written."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

import pytest

from entragit.canonical import _own_format, dump, load, read_yaml
from entragit.errors import StoreError
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
    written = dump(obj)
    # ruamel is the reference reader: what it makes of the file is what the file means.
    assert read_yaml(written, "x.yaml") == obj
    # entragit's own files take the quick path, and it must read them the same way.
    assert _own_format(written) == obj
    assert load(written, "x.yaml") == obj


@pytest.mark.parametrize("text", [
    "id: a\ndisplayName: b  # a comment\n",
    "{id: a, members: [x, y]}\n",
    "id: a\nenabled: yes\nlist:\n    - 1\n    - two\n",
    "id: a\nnested:\n    deeper: 1\n",
    "id: a\r\ndisplayName: b\r\n",
    "---\nid: a\nvalue: 1e3\n",
    "id: a\nmultiline: |\n  one\n  two\n",
    "id: 'a'\nn: 0x1F\ndate: 2024-05-01\n",
])
def test_a_file_edited_by_hand_means_what_yaml_says(text: str) -> None:
    assert load(text.encode(), "users/a.yaml") == read_yaml(text, "users/a.yaml")


def test_a_broken_file_is_named_with_its_line() -> None:
    with pytest.raises(StoreError, match=r"users/a.yaml:\d+ in commit 0123456789ab: not valid YAML"):
        load(b"id: a\nmembers: [x\n", "users/a.yaml", "0123456789abcdef")


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
