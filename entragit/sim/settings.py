"""Switches that change how the simulated tenant behaves, for the points graph-behaviour marks [UNCONFIRMED].

Every switch can be set from Python (`sim.settings.name = value`) or from text, `Settings.apply("name=value")`
(what `entragit sim serve --set name=value` calls). Times are simulated seconds (see clock.py).

| name | type | default | meaning |
|---|---|---|---|
| dynamic_member_write_status | int | 403 | status of a member write on a dynamic group (some tenants 400) |
| token_lifetime_seconds | int | 3599 | lifetime of issued access tokens |
| default_page_size | int | 100 | page size of directory lists without $top |
| time_scale | float | 1.0 | real seconds per simulated second: shrinks every window, Retry-After and delay |
| batch_shuffle | bool | true | $batch answers come back in an order other than the request order (seeded) |
| throttling | bool | false | enforce the identity throttling model (RU and write quotas, CA 1 request/s) |
| throttle_code | str | TooManyRequests | error code of a throttled directory request ([UNCONFIRMED] §4) |
| throttle_retry_after | bool | true | RU and write 429s carry Retry-After ([UNCONFIRMED] §10); CA 429s never do |
| ru_quota | int or none | none | resource units per 10 s per app+tenant; none: by tenant size, S 3500 / M 5000 / L 8000 |
| write_quota | int or none | none | writes per 150 s per app+tenant; none: 3000 |
| latency_base | float | 0.0 | time every Graph response takes at least (the simulator's own work included), in seconds |
| latency_per_item | float | 0.0 | further delay per item returned (list entries, entities, batch items' entries) |
| fault_status | int | 0 | answer selected requests with this status (429, 503, 504, ...) instead of handling them; 0: off |
| fault_retry_after | float or none | none | Retry-After on those answers; none: no header |
| fault_cut | str | "" | "headers": close the connection half-way through the status line; "body": after half the body |
| fault_delay | float | 0.0 | hold selected requests this long before answering (slow pages) |
| fault_count | int or none | none | select only the next N matching requests (counts down as they fire); none: no limit |
| fault_probability | float | 1.0 | select each matching request with this probability (seeded, reproducible) |
| fault_path | str | "" | select only requests whose path after the version (/v1.0/, /beta/) starts with this (case-insensitive) |
| replication_lag | float | 0.0 | for this long after a create, a GET naming the new object answers 404 and a filtered list leaves it out |
| synced_refuses_unconfirmed | bool | true | synced objects also refuse the plausible, unconfirmed mastered attributes (§6) |
| security_groups_soft_delete | bool | true | 2026: cloud security groups go to the recycle bin; false: deleted at once (§7a) |
| ca_recycle_path | str | identity/conditionalAccess/deletedItems | Conditional Access recycle bin path ([UNCONFIRMED] in v1.0); read at start |
| ca_restore_report_only | bool | true | a restored enabled CA policy comes back report-only (§7a) |
| nested_patch | str | merge | a PATCH of part of a CA policy's conditions, grantControls or sessionControls: "merge" keeps the keys it leaves out (objects merged at every depth, lists and values replaced), "replace" replaces the property whole; the docs show a partial update without settling it |
| federated_error_status | int | 401 | status of AADSTS70021/700213/7002138 ([UNCONFIRMED] §8) |
| cloud | str | global | national cloud of the tenant: which Graph resource tokens are issued for |
| empty_pages | bool | false | some pages come back empty while still carrying a nextLink (§1) |
| gzip_responses | bool | true | compress Graph answers with gzip when the request's Accept-Encoding allows it, as Graph does (Microsoft's SDKs ask for it: msgraph-sdk-design#12, msgraph-sdk-dotnet#2205) |
| next_link_last | bool | false | a collection page's nextLink follows its value instead of preceding it (§0 shows it first; OData allows either) |
| skiptoken_lifetime_seconds | float or none | none | lifetime of $skiptoken page links; none: never expire ([UNCONFIRMED]) |
| delta_page_size | int | 100 | items per delta page |
| delta_members_per_page | int | 50 | members@delta entries per slice; larger groups repeat on later pages (§2) |
| delta_replay | bool | false | repeat already-sent objects on later pages and rounds (§2 "replays") |
| delta_reports_children | bool | false | a write to a collection under an object (an app's federatedIdentityCredentials, a service principal's appRoleAssignedTo) makes that object reappear in its type's delta ([UNCONFIRMED]: the delta pages do not say) |
| delta_token_lifetime_days | float | 7.0 | lifetime of deltaLinks; then 400 syncStateNotFound (§2) |
| delta_force_resync | bool | false | answer deltaLinks with 410 Gone and a Location (§2) |
| delta_refuse_unsupported_options | bool | true | $top/$orderby/$expand on delta: 400, or ignored when false |
| delta_drop_link | bool | false | a delta answer that would end with a deltaLink ends with no link at all (a faulty or cut answer) |
| denied_paths | str | "" | comma-separated path prefixes after the version (/v1.0/, /beta/) the app lacks permission for: 403 (§5) |
| app_roles | str or none | none | comma-separated application permissions granted to the app: what its tokens carry in `roles` and what each path is checked against (permissions.py); none: everything entragit uses |
| audit_log_read | bool | true | the app holds AuditLog.Read.All; false: auditLogs/directoryAudits answers 403 Authorization_RequestDenied |
| audit_delay_seconds | float | 0.0 | an audit record becomes readable this long after its change (Entra: ~120 s at the 95th percentile) |
| audit_retention_days | float | 30.0 | audit records older than this are gone (30 days with Entra ID P1/P2, 7 without) |
| governance_licensed | bool | true | the tenant holds Microsoft Entra ID Governance; false: lifecycle workflows answer 403 NoLicense ([UNCONFIRMED] code) |
| audit_ad_names | bool | true | users' and groups' modified properties carry Active Directory style names ("JobTitle", "TelephoneNumber"), as Entra's records show them; false: Graph's names ([UNCONFIRMED] which names) |
| audit_whole_policy | bool | true | a Conditional Access policy's change is one modified property, "ConditionalAccessPolicy", whose values are the whole policy as JSON ([UNCONFIRMED] its inner shape: Graph's here) |
| audit_value_limit | int or none | none | a modified property's oldValue/newValue longer than this many characters is cut there (no longer valid JSON); none: never ([UNCONFIRMED] Entra's limit) |
| audit_unrecorded | str | "users:usageLocation" | comma-separated collection:property pairs whose changes the log leaves out of modifiedProperties (a user's usage location, reported by admins; [UNCONFIRMED] for the rest) |
| audit_no_values | str | "" | comma-separated collections whose records carry no modifiedProperties at all ([UNCONFIRMED] which) |

The sections (§N) in this table are those of docs/graph-behaviour.md.

`fault_status`, `fault_cut` and `fault_delay` act together on the requests the `fault_*` selectors pick. A
$batch request (path `$batch`) can be failed, cut or delayed as a whole; its items, matched by their own
paths, can be failed one by one with fault_status, never cut or delayed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, get_args, get_type_hints


@dataclass
class Settings:
    """Mutable while the server runs: a test flips a switch and the next request sees it."""

    # Member writes to a dynamic group: 403 Authorization_RequestDenied by default; some tenants answer 400.
    dynamic_member_write_status: int = 403
    token_lifetime_seconds: int = 3599
    # Page size of directory lists when the client sends no $top (Graph: 100).
    default_page_size: int = 100

    # --- writes, soft delete and sign-in (graph-behaviour §5-§8) ---------------------------------------------
    # Synced objects (onPremisesSyncEnabled) refuse writes to on-premises-mastered attributes. For users Microsoft
    # names only businessPhones, mobilePhone and onPremisesExtensionAttributes; with this on, users and groups also
    # refuse the plausible rest (each spec's mastered_on_premises_unconfirmed) [UNCONFIRMED, graph-behaviour §6, §10].
    synced_refuses_unconfirmed: bool = True
    # 2026 behaviour: cloud security groups go to the recycle bin; False is the pre-2026 hard delete
    # (graph-behaviour §7a).
    security_groups_soft_delete: bool = True
    # Base path of the Conditional Access recycle bin; documented in beta only
    # [UNCONFIRMED in v1.0, graph-behaviour §7a]. Read when the simulator is built: pass
    # Simulator(settings=Settings(ca_recycle_path=...)) to change it.
    ca_recycle_path: str = "identity/conditionalAccess/deletedItems"
    # A restored CA policy that was enabled comes back in report-only mode ("may", graph-behaviour §7a).
    ca_restore_report_only: bool = True
    # A CA policy's PATCH naming one condition (conditionalaccesspolicy-update) keeps the others: "merge"; or the
    # property sent is the whole new value: "replace". Top-level properties left out always keep their values.
    nested_patch: str = "merge"
    # HTTP status of AADSTS70021/700213/7002138 (federated credential mismatch): 400 or 401
    # [UNCONFIRMED, graph-behaviour §8].
    federated_error_status: int = 401
    # Which national cloud the tenant lives in (auth.CLOUDS): decides the Graph resource a token can be asked for.
    cloud: str = "global"

    # --- $batch, throttling, latency and time scale, faults (sim-batch) ---
    time_scale: float = 1.0
    batch_shuffle: bool = True
    throttling: bool = False
    # "Request_ThrottledTemporarily" is often reported for the directory, unverified (graph-behaviour §4, §10).
    throttle_code: str = "TooManyRequests"
    throttle_retry_after: bool = True
    ru_quota: int | None = None
    write_quota: int | None = None
    latency_base: float = 0.0
    latency_per_item: float = 0.0
    fault_status: int = 0
    fault_retry_after: float | None = None
    fault_cut: str = ""
    fault_delay: float = 0.0
    fault_count: int | None = None
    fault_probability: float = 1.0
    fault_path: str = ""
    replication_lag: float = 0.0

    # --- paging and delta queries (graph-behaviour §1, §2) ---
    # Some pages come back empty while still carrying a nextLink, as Graph's directory pages may (graph-behaviour §1).
    empty_pages: bool = False
    # Graph compresses its answers for a client that accepts gzip, as Microsoft's SDKs do by default.
    gzip_responses: bool = True
    # Graph's examples write a page's nextLink before its value (graph-behaviour §0); OData's JSON format allows it
    # after, so a client must not depend on the order.
    next_link_last: bool = False
    # Lifetime of $skiptoken page links in simulated seconds; None: they never expire
    # ([UNCONFIRMED], graph-behaviour §10).
    skiptoken_lifetime_seconds: float | None = None
    # Items per delta page (Graph's own size varies, graph-behaviour §10) and member entries per members@delta slice: a
    # group with more members repeats on later pages, each time with the next slice (graph-behaviour §2).
    delta_page_size: int = 100
    delta_members_per_page: int = 50
    # Repeat already-sent objects on later pages and rounds, as Graph's delta may ("replays", graph-behaviour §2).
    delta_replay: bool = False
    # Whether a write to a collection under an object (an app's federatedIdentityCredentials) makes the object
    # reappear in its type's delta: the application and servicePrincipal delta pages are silent [UNCONFIRMED].
    delta_reports_children: bool = False
    delta_token_lifetime_days: float = 7.0
    # Answer every deltaLink with 410 Gone and a Location to restart from (tenant maintenance, graph-behaviour §2).
    delta_force_resync: bool = False
    # $top, $orderby and $expand (other than members) on delta: 400 as the docs say, or silently ignored as
    # users report for $top (microsoft-graph-docs issues 7160, 17516).
    delta_refuse_unsupported_options: bool = True
    # A fault, not documented behaviour: the last page of a delta round (and a $deltatoken=latest answer)
    # carries neither a nextLink nor a deltaLink, so the client cannot tell where to continue from.
    delta_drop_link: bool = False

    # --- identity configuration: roles, grants, extensions (sim-identity) ---
    # Path prefixes after the version (/v1.0/, /beta/), comma-separated and matched segment by segment, that
    # the app has no permission for: 403 Authorization_RequestDenied, or AccessDenied on the Conditional
    # Access backend (graph-behaviour §5).
    # E.g. "roleManagement/directory/roleEligibilitySchedules,oauth2PermissionGrants".
    denied_paths: str = ""
    # The application permissions an admin granted the app (comma-separated), which its new tokens carry and
    # Graph checks each call against (permissions.py); None: all that entragit and the tests use.
    app_roles: str | None = None

    # --- the directory audit log (audit.py) ---
    audit_log_read: bool = True
    audit_delay_seconds: float = 0.0
    audit_retention_days: float = 30.0
    # How Entra writes modifiedProperties (see audit.py). [UNCONFIRMED]: the names (AD style for users and
    # groups), a CA policy's whole JSON (its inner shape), the length values are cut at, which properties and
    # which types' records carry no values.
    audit_ad_names: bool = True
    audit_whole_policy: bool = True
    audit_value_limit: int | None = None
    audit_unrecorded: str = "users:usageLocation"
    audit_no_values: str = ""

    # --- identity governance (model_entitlement.py) ---
    governance_licensed: bool = True

    @classmethod
    def realistic(cls, time_scale: float = 1.0) -> Settings:
        """Throttling and latency on, as benchmarks and the demo's realistic mode want them.

        The latency figures are the simulator's assumptions, not measurements: ~60 ms for a directory call
        and 0.05 ms per returned item are plausible for Graph from a nearby region.
        """
        return cls(time_scale=time_scale, throttling=True, latency_base=0.060, latency_per_item=0.00005,
                   audit_delay_seconds=120.0)

    def apply(self, assignment: str) -> None:
        """Set one switch from 'name=value' text (the CLI's --set)."""
        name, value = parse_switch(assignment)
        setattr(self, name, value)


_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def parse_switch(assignment: str) -> tuple[str, Any]:
    """'name=value' -> (name, value typed as the Settings field). Raises ValueError naming the problem."""
    name, sep, raw = assignment.partition("=")
    name, raw = name.strip(), raw.strip()
    hints = get_type_hints(Settings)
    known = [f.name for f in fields(Settings)]
    if not sep or name not in known:
        raise ValueError(f"unknown switch {assignment!r}; expected name=value with name one of: {', '.join(known)}")
    members = set(get_args(hints[name])) or {hints[name]}
    if type(None) in members and raw.lower() in ("none", "null", ""):
        return name, None
    kind = next(member for member in members if member is not type(None))
    try:
        if kind is bool:
            if raw.lower() not in _TRUE + _FALSE:
                raise ValueError(raw)
            return name, raw.lower() in _TRUE
        if kind in (int, float):
            return name, kind(raw)
    except ValueError:
        raise ValueError(f"switch {name} expects {kind.__name__}, not {raw!r}") from None
    return name, raw
