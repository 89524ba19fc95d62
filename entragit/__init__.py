"""entragit: backup, drift review and point-in-time restore for Microsoft Entra ID, on top of git."""

__version__ = "0.1.0"
