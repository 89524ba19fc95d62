"""Conditional Access policies and the named locations they refer to."""

from __future__ import annotations

from entragit.registry import ObjectType, register

_CA_VOLATILE = frozenset({"createdDateTime", "modifiedDateTime", "templateId", "deletedDateTime"})
# Conditional Access and named locations together: 1 request per second per tenant, all apps.
CONDITIONAL_ACCESS_RATE = ("identity/conditionalAccess", 1.0)
# Their own recycle bin, 30 days like the directory's (documented in beta; in v1.0 app-only restore is
# "not supported": a restore may need a signed-in admin).
CONDITIONAL_ACCESS_RECYCLE_BIN = "identity/conditionalAccess/deletedItems"

NAMED_LOCATIONS = register(
    ObjectType(
        name="namedLocations",
        singular="named location",
        collection="identity/conditionalAccess/namedLocations",
        odata_types=("#microsoft.graph.ipNamedLocation", "#microsoft.graph.countryNamedLocation"),
        # Both subtypes come from one collection; $select would have to name properties of both.
        select=(),
        keeps=("id", "displayName", "countriesAndRegions", "countryLookupMethod", "includeUnknownCountriesAndRegions",
               "ipRanges", "isTrusted"),
        volatile=_CA_VOLATILE,
        read_only=frozenset({"id", "@odata.type"}),
        # Graph refuses a named-location PATCH without its @odata.type.
        always_send=("@odata.type",),
        page_size=None,
        rate_limit=CONDITIONAL_ACCESS_RATE,
        read_permission="Policy.Read.All",
        write_permission="Policy.ReadWrite.ConditionalAccess",
        restore_order=10,
        create="post",
        found_again_by=("displayName",),
        recycle_bin=f"{CONDITIONAL_ACCESS_RECYCLE_BIN}/namedLocations",
        # A restored named location comes back untrusted.
        reset_by_restore=frozenset({"isTrusted"}),
    )
)

CONDITIONAL_ACCESS_POLICIES = register(
    ObjectType(
        name="conditionalAccessPolicies",
        singular="conditional access policy",
        collection="identity/conditionalAccess/policies",
        odata_types=("#microsoft.graph.conditionalAccessPolicy",),
        select=(),
        keeps=("id", "displayName", "conditions", "description", "grantControls", "sessionControls", "state"),
        volatile=_CA_VOLATILE,
        read_only=frozenset({"id"}),
        # Microsoft's update page shows a PATCH of one condition without saying whether Graph keeps the
        # conditions left out (conditionalaccesspolicy-update): every key to clear is said, at every depth,
        # so the restore holds whichever Graph does (graph-behaviour §6).
        merge_properties=frozenset({"conditions", "grantControls", "sessionControls"}),
        references={
            "conditions.users.includeUsers": ("users",),
            "conditions.users.excludeUsers": ("users",),
            "conditions.users.includeGroups": ("groups",),
            "conditions.users.excludeGroups": ("groups",),
            "conditions.locations.includeLocations": ("namedLocations",),
            "conditions.locations.excludeLocations": ("namedLocations",),
        },
        # Graph's conditionalAccessUsers and conditionalAccessLocations pages list these words
        # (learn.microsoft.com/graph/api/resources/conditionalaccessusers, .../conditionalaccesslocations).
        reference_words={
            "conditions.users.includeUsers": ("All", "None", "GuestsOrExternalUsers"),
            "conditions.users.excludeUsers": ("GuestsOrExternalUsers",),
            "conditions.locations.includeLocations": ("All", "AllTrusted"),
            "conditions.locations.excludeLocations": ("AllTrusted",),
        },
        page_size=None,
        rate_limit=CONDITIONAL_ACCESS_RATE,
        read_permission="Policy.Read.All",
        write_permission="Policy.ReadWrite.ConditionalAccess",
        restore_order=30,
        create="post",
        found_again_by=("displayName",),
        recycle_bin=f"{CONDITIONAL_ACCESS_RECYCLE_BIN}/policies",
        # A restored policy may come back in report-only mode.
        reset_by_restore=frozenset({"state"}),
    )
)
