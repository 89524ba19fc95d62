"""The one selection value: what --type/--id/--attribute/--paths select, and the two path relations."""

import pytest

from entragit.errors import ConfigError, PlanError
from entragit.selection import Selection, lies_within, overlaps


def test_equal_selections_have_equal_keys_whatever_the_order_given():
    one = Selection(types=("users", "groups"), ids=("b", "a", "a"))
    other = Selection(types=("groups", "users"), ids=("a", "b"))
    assert one == other
    assert one.as_dict() == other.as_dict()
    assert Selection.from_dict(one.as_dict()) == one


def test_a_report_shows_rows_within_the_attribute_and_a_restore_writes_what_overlaps_it():
    chosen = Selection(attributes=("conditions.users",))
    assert chosen.shows_attribute("conditions.users.excludeGroups")
    assert not chosen.shows_attribute("conditions")
    assert not chosen.shows_attribute("conditions.usersX")
    assert chosen.writes_attribute("conditions")
    assert chosen.writes_attribute("conditions.users.excludeGroups")
    assert not chosen.writes_attribute("state")
    assert lies_within("a.b", "a") and not lies_within("a", "a.b")
    assert overlaps("a", "a.b") and overlaps("a.b", "a") and not overlaps("a.b", "a.c")


def test_paths_narrow_the_types_and_match_files_by_folder_prefix_or_glob():
    chosen = Selection(paths=("groups/",))
    assert [t.name for t in chosen.object_types()] == ["groups"]
    assert chosen.wants_file("groups/1.yaml") and not chosen.wants_file("users/1.yaml")
    assert Selection(paths=("*/1.yaml",)).wants_file("users/1.yaml")
    assert len(Selection(paths=("*/1.yaml",)).object_types()) == len(Selection().object_types())


def test_an_unknown_type_or_folder_is_one_clear_error():
    with pytest.raises(ConfigError, match="unknown object type 'widgets'"):
        Selection(types=("widgets",))
    with pytest.raises(PlanError, match="--paths widgets/: no object type keeps its files in widgets/"):
        Selection(paths=("widgets/",))


def test_describe_names_the_options_that_made_it():
    assert Selection().describe() == "everything"
    assert Selection(types=("groups",), ids=("1",)).describe() == "--type groups --id 1"
