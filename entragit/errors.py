"""The errors a user can expect. One handler in cli.py turns them into a message and exit code 1."""

from __future__ import annotations


class EntragitError(Exception):
    """An expected failure: bad input, an unreachable tenant, a Graph refusal. Its text is the whole message."""


class ConfigError(EntragitError):
    pass


class StoreError(EntragitError):
    pass


class GitFailed(StoreError):
    """A git command that failed (a full disk, a lock, a corrupt object): git's own words, and what the
    failure left as it was."""

    def __init__(self, command: str, stderr: str, root: object, unchanged: str = "") -> None:
        words = " ".join(line.strip() for line in stderr.splitlines() if line.strip()) or "no message from git"
        # Named, not super(): the store plumbing's subclass (store/plumbing/commands.py) is a GitPython error
        # too, whose __init__ takes a command.
        StoreError.__init__(self, f"git {command} failed in {root}: {words}" + (f"; {unchanged}" if unchanged else ""))


class PlanError(EntragitError):
    pass


class AuthError(EntragitError):
    pass


class TenantMismatch(EntragitError):
    """The tenant signed in to is not the one the backup repository's snapshots are of."""


class GraphError(EntragitError):
    """A Graph response that was not a success, with what Graph said about it."""

    def __init__(
        self,
        method: str,
        url: str,
        status: int,
        code: str,
        message: str,
        request_id: str | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.graph_message = message
        self.request_id = request_id
        detail = f"{method} {url}: {status} {code}: {message}"
        if request_id:
            detail += f" (request-id {request_id})"
        super().__init__(detail)

    @property
    def not_found(self) -> bool:
        return self.status == 404
