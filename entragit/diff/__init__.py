"""Attribute-level differences between two states of the tenant (commit/commit or commit/live).

By role: compare (one object's two states into rows), entries (the partial reader of canonical files),
names (display names for ids), recycle (restored and removed objects), revisions (which states to compare)
and build (a whole report, start to end: imported from entragit.diff.build, so that comparing objects, as
`entragit log` does, does not load the Graph client and its sign-in). The report itself is
entragit/report/model.py.
"""

from __future__ import annotations

from entragit.diff.compare import attribute_changes, compare, split_relations
from entragit.diff.names import Names

__all__ = ["Names", "attribute_changes", "compare", "split_relations"]
