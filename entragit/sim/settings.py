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

    # --- writes, soft delete and sign-in (reference §5-§8) ---------------------------------------------------
    # Synced objects (onPremisesSyncEnabled) refuse writes to on-premises-mastered attributes. For users Microsoft
    # names only businessPhones, mobilePhone and onPremisesExtensionAttributes; with this on, users and groups also
    # refuse the plausible rest (each spec's mastered_on_premises_unconfirmed) [UNCONFIRMED, reference §6, §10].
    synced_refuses_unconfirmed: bool = True
    # 2026 behaviour: cloud security groups go to the recycle bin; False is the pre-2026 hard delete (§7a).
    security_groups_soft_delete: bool = True
    # Base path of the Conditional Access recycle bin; documented in beta only [UNCONFIRMED in v1.0, §7a].
    # Read when the simulator is built: pass Simulator(settings=Settings(ca_recycle_path=...)) to change it.
    ca_recycle_path: str = "identity/conditionalAccess/deletedItems"
    # A restored CA policy that was enabled comes back in report-only mode ("may", §7a).
    ca_restore_report_only: bool = True
    # HTTP status of AADSTS70021/700213/7002138 (federated credential mismatch): 400 or 401 [UNCONFIRMED, §8].
    federated_error_status: int = 401
    # Which national cloud the tenant lives in (auth.CLOUDS): decides the Graph resource a token can be asked for.
    cloud: str = "global"
