"""Types Graph serves in its beta version only, and the properties Graph's beta documentation lists for them.

Microsoft may change a beta API without notice (learn.microsoft.com/graph/versioning-and-support). The
metadata graph_schema.json is made from is v1.0's, which does not declare these types, so each one's
properties are written here from its beta resource page, in that file's form, and decided in its entry like
any other type's (decisions.py).
"""

from __future__ import annotations

from entragit.registry import ObjectType, register
from entragit.registry.directory import COMMON_VOLATILE

BETA = "beta"

# Per entity: property -> (Graph type, a list, null allowed), as graph_schema.json writes one.
DOCUMENTED: dict[str, dict[str, tuple[str, int, int]]] = {
    # learn.microsoft.com/graph/api/resources/externalidentitiespolicy?view=graph-rest-beta, with the
    # properties of policyBase, which it inherits.
    "externalIdentitiesPolicy": {
        "id": ("Edm.String", 0, 0),
        "deletedDateTime": ("Edm.DateTimeOffset", 0, 1),
        "description": ("Edm.String", 0, 1),
        "displayName": ("Edm.String", 0, 1),
        "allowDeletedIdentitiesDataRemoval": ("Edm.Boolean", 0, 1),
        "allowExternalIdentitiesToLeave": ("Edm.Boolean", 0, 1),
    },
}

# Its update (externalidentitiespolicy-update, beta) takes allowExternalIdentitiesToLeave alone.
_NOT_UPDATED = "the policy's update takes allowExternalIdentitiesToLeave alone"

register(ObjectType(
    name="externalIdentitiesPolicy", singular="externalIdentitiesPolicy", entity="externalIdentitiesPolicy",
    collection="policies/externalIdentitiesPolicy", api_version=BETA, singleton="externalIdentitiesPolicy",
    odata_types=(), select=(), page_size=None, restore_order=5,
    read_permission="Policy.Read.All", write_permission="Policy.ReadWrite.ExternalIdentities",
    keeps=("id", "displayName", "description", "allowDeletedIdentitiesDataRemoval", "allowExternalIdentitiesToLeave"),
    volatile=COMMON_VOLATILE,
    read_only=frozenset({"id", "displayName", "description", "allowDeletedIdentitiesDataRemoval"}),
    why_read_only={"displayName": f"named by Microsoft; {_NOT_UPDATED}",
                   "description": f"written by Microsoft; {_NOT_UPDATED}",
                   "allowDeletedIdentitiesDataRemoval": "reserved for future use, says Graph's beta page; "
                                                        f"{_NOT_UPDATED}"},
))
