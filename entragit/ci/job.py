"""What every entragit pipeline step does first: sign-in, the trusted branch, and the clone's git."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path

import git

from entragit.ci.platforms import CiError, Platform, platform_of
from entragit.config import OUTSIDE
from entragit.printable import printable


def _git_failed(exc: git.GitCommandError) -> CiError:
    said = " ".join(str(exc.stderr or exc.stdout or "").split())
    return CiError(printable(f"git {' '.join(str(a) for a in exc.command[1:3])} failed: {said}"))


class Job:
    """A pipeline step's view of its run: the platform, the clone, and the branch the run is about."""

    def __init__(self, platform_name: str, env: MutableMapping[str, str], repo_dir: Path) -> None:
        self.env = env
        self.platform: Platform = platform_of(platform_name, env)
        self.platform.prepare_sign_in(env)
        try:
            self.git = git.Repo(repo_dir)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise CiError(f"{repo_dir} is not a clone of the backup repository: check it out first") from None
        self.root = Path(self.git.working_tree_dir or repo_dir)

    def run_git(self, *args: str) -> str:
        try:
            return str(self.git.git.execute(["git", *args]))
        except git.GitCommandError as exc:
            raise _git_failed(exc) from None

    def commit_of(self, ref: str) -> str | None:
        try:
            return str(self.git.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}"))
        except git.GitCommandError:
            return None

    def trust(self, branch: str) -> str:
        """Make the remote's `branch` the trusted ref of the guardrails, unless one is set outside the
        repository already: a pull request's checkout has none of its own, and must not loosen them."""
        variable = OUTSIDE["trusted_ref"].env
        ref = self.env.get(variable) or f"refs/remotes/origin/{branch}"
        if not self.env.get(variable) and self.commit_of(ref) is None:
            # A shallow or single-branch checkout: fetch what the guardrails are read from.
            self.run_git("fetch", "--quiet", "origin", f"+refs/heads/{branch}:{ref}")
        self.env[variable] = ref
        return ref

    def push(self, source: str, branch: str, lease: str | None = None) -> None:
        """Push `source` to the remote's `branch`; with lease, only if that branch is still at it ("" for
        a branch that must not exist yet), so a run never overwrites what another pushed meanwhile."""
        options = [] if lease is None else [f"--force-with-lease=refs/heads/{branch}:{lease}"]
        self.run_git("push", "--quiet", *options, "origin", f"{source}:refs/heads/{branch}")
