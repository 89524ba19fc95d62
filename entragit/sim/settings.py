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
