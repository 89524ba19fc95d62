"""Switches that change how the simulated tenant behaves, for the points the reference marks [UNCONFIRMED]."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Settings:
    """Mutable while the server runs: a test flips a switch and the next request sees it."""

    # Member writes to a dynamic group: 403 Authorization_RequestDenied by default; some tenants answer 400.
    dynamic_member_write_status: int = 403
    token_lifetime_seconds: int = 3599
    # Page size of directory lists when the client sends no $top (Graph: 100).
    default_page_size: int = 100

    # --- paging and delta queries (reference §1, §2) ---
    # Some pages come back empty while still carrying a nextLink, as Graph's directory pages may (§1).
    empty_pages: bool = False
    # Lifetime of $skiptoken page links in simulated seconds; None: they never expire ([UNCONFIRMED], §10).
    skiptoken_lifetime_seconds: float | None = None
    # Items per delta page (Graph's own size varies, §10) and member entries per members@delta slice: a
    # group with more members repeats on later pages, each time with the next slice (§2).
    delta_page_size: int = 100
    delta_members_per_page: int = 50
    # Repeat already-sent objects on later pages and rounds, as Graph's delta may ("replays", §2).
    delta_replay: bool = False
    delta_token_lifetime_days: float = 7.0
    # Answer every deltaLink with 410 Gone and a Location to restart from (tenant maintenance, §2).
    delta_force_resync: bool = False
    # $top, $orderby and $expand (other than members) on delta: 400 as the docs say, or silently ignored as
    # users report for $top (microsoft-graph-docs issues 7160, 17516).
    delta_refuse_unsupported_options: bool = True
