"""What a pipeline needs from its platform: the run's branch and pull request, pull requests, comments,
labels, the job summary and step outputs.

Each platform is reached through the command line its hosted runners already have, authenticated by the
job's own token: `gh api` on GitHub (GH_TOKEN), `az devops invoke` on Azure DevOps (AZURE_DEVOPS_EXT_PAT,
mapped from System.AccessToken). Nothing is downloaded at run time, and the tests put recording stand-ins
of both commands on PATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from entragit.errors import EntragitError
from entragit.printable import printable

# Labels entragit sets, and replaces on each update; other labels of a pull request are left alone.
LABEL_PREFIX = "entragit-"


class CiError(EntragitError):
    pass


@dataclass(frozen=True)
class PullRequest:
    number: int
    head: str
    """The source branch, without refs/heads/."""
    labels: tuple[str, ...] = ()


# A job that snapshots another repository than its own (the many-tenants matrix of a control repository)
# names the backup repository its pull requests and comments go to.
REPOSITORY_OVERRIDE = "ENTRAGIT_CI_REPOSITORY"


def _require(env: Mapping[str, str], name: str, platform: str) -> str:
    value = env.get(name)
    if not value:
        raise CiError(f"{name} is not set: `entragit ci --platform {platform}` runs inside a {platform} pipeline job")
    return value


def _branch(ref: str) -> str:
    return ref.removeprefix("refs/heads/")


def _json_values(text: str) -> list[Any]:
    """The JSON values a command printed one after another (`gh api --paginate` prints one per page)."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    position = 0
    text = text.strip()
    while position < len(text):
        value, position = decoder.raw_decode(text, position)
        values.append(value)
        while position < len(text) and text[position].isspace():
            position += 1
    return values


def _run(args: list[str], body: Any = None, tolerate: str | None = None) -> str:
    try:
        done = subprocess.run(args, input=None if body is None else json.dumps(body), capture_output=True, text=True,
                              check=False)
    except FileNotFoundError:
        raise CiError(f"{args[0]} is not on PATH: the hosted runners have it; a self-hosted one needs it installed") \
            from None
    if done.returncode != 0:
        if tolerate is not None and tolerate in done.stdout + done.stderr:
            return ""
        said = " ".join((done.stderr or done.stdout).split())[:500]
        raise CiError(printable(f"{args[0]} {' '.join(args[1:4])} failed (exit {done.returncode}): {said}"))
    return done.stdout


class Platform(Protocol):
    name: str
    body_limit: int
    """The longest pull request description the platform takes."""
    comment_limit: int

    def branch(self) -> str:
        """The branch this run is on (the snapshot's base)."""

    def pull_request(self) -> int | None:
        """The pull request this run validates, if any."""

    def target_branch(self) -> str | None:
        """The branch that pull request merges into."""

    def prepare_sign_in(self, env: MutableMapping[str, str]) -> None:
        """Make the job's federated sign-in readable by entragit's own sign-in."""

    def drift_pull_requests(self, base: str, prefix: str) -> list[PullRequest]:
        """Open pull requests into `base` from this repository's branches named `prefix`..."""

    def create_pull_request(self, head: str, base: str, title: str, body: str, draft: bool) -> PullRequest: ...

    def update_pull_request(self, number: int, title: str, body: str) -> None: ...

    def set_labels(self, pr: PullRequest, labels: list[str]) -> None:
        """Make entragit's labels on the pull request exactly `labels`."""

    def upsert_comment(self, number: int, marker: str, body: str) -> str:
        """Post `body` on the pull request, replacing the comment that holds `marker`: "posted" or "updated"."""

    def summary(self, markdown: str) -> None:
        """Show markdown on the run's summary page."""

    def output(self, name: str, value: str) -> None:
        """A value later jobs of the run can read."""

    def run_url(self) -> str:
        """This run's page."""


class GitHub:
    name = "github"
    # GitHub refuses a pull request body or a comment over 65,536 characters.
    body_limit = 65_536
    comment_limit = 65_536

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._repo = env.get(REPOSITORY_OVERRIDE) or _require(env, "GITHUB_REPOSITORY", self.name)

    def branch(self) -> str:
        return _require(self._env, "GITHUB_REF_NAME", self.name)

    def pull_request(self) -> int | None:
        ref = self._env.get("GITHUB_REF", "")
        parts = ref.split("/")
        return int(parts[2]) if ref.startswith("refs/pull/") and len(parts) > 2 and parts[2].isdigit() else None

    def target_branch(self) -> str | None:
        return self._env.get("GITHUB_BASE_REF") or None

    def prepare_sign_in(self, env: MutableMapping[str, str]) -> None:
        pass  # entragit asks GitHub's OIDC provider itself (auth.py), the job has `id-token: write`

    def _api(self, method: str, path: str, body: Any = None, paginate: bool = False,
             tolerate: str | None = None) -> list[Any]:
        args = ["gh", "api", "--method", method, path] + (["--paginate"] if paginate else [])
        if body is not None:
            args += ["--input", "-"]
        return _json_values(_run(args, body, tolerate))

    def drift_pull_requests(self, base: str, prefix: str) -> list[PullRequest]:
        pages = self._api("GET", f"repos/{self._repo}/pulls?state=open&base={base}&per_page=100", paginate=True)
        return [PullRequest(p["number"], p["head"]["ref"], tuple(label["name"] for label in p.get("labels", [])))
                for page in pages for p in page
                if p["head"]["ref"].startswith(prefix) and (p["head"].get("repo") or {}).get("full_name") == self._repo]

    def create_pull_request(self, head: str, base: str, title: str, body: str, draft: bool) -> PullRequest:
        [made] = self._api("POST", f"repos/{self._repo}/pulls",
                           {"head": head, "base": base, "title": title, "body": body, "draft": draft})
        return PullRequest(made["number"], head)

    def update_pull_request(self, number: int, title: str, body: str) -> None:
        self._api("PATCH", f"repos/{self._repo}/pulls/{number}", {"title": title, "body": body})

    def set_labels(self, pr: PullRequest, labels: list[str]) -> None:
        for label in labels:
            # Made once per repository; GitHub answers 422 already_exists after that.
            self._api("POST", f"repos/{self._repo}/labels", {"name": label, "color": _COLOURS.get(label, "ededed")},
                      tolerate="already_exists")
        kept = [label for label in pr.labels if not label.startswith(LABEL_PREFIX)]
        self._api("PUT", f"repos/{self._repo}/issues/{pr.number}/labels", {"labels": kept + labels})

    def upsert_comment(self, number: int, marker: str, body: str) -> str:
        pages = self._api("GET", f"repos/{self._repo}/issues/{number}/comments?per_page=100", paginate=True)
        # Only a bot's comment is ours to edit: anyone can write the marker into a comment of their own.
        mine = [c for page in pages for c in page
                if (c.get("body") or "").startswith(marker) and (c.get("user") or {}).get("type") == "Bot"]
        if mine:
            self._api("PATCH", f"repos/{self._repo}/issues/comments/{mine[0]['id']}", {"body": body})
            return "updated"
        self._api("POST", f"repos/{self._repo}/issues/{number}/comments", {"body": body})
        return "posted"

    def summary(self, markdown: str) -> None:
        with open(_require(self._env, "GITHUB_STEP_SUMMARY", self.name), "a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")

    def output(self, name: str, value: str) -> None:
        with open(_require(self._env, "GITHUB_OUTPUT", self.name), "a", encoding="utf-8") as handle:
            handle.write(f"{name}={value}\n")

    def run_url(self) -> str:
        server = self._env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{self._repo}/actions/runs/{self._env.get('GITHUB_RUN_ID', '')}"


# Red for high risk, amber for medium, grey otherwise: what a reviewer's eye finds first in a list.
_COLOURS = {"entragit-risk-high": "d73a4a", "entragit-risk-medium": "fbca04", "entragit-suspect": "b60205"}


class AzureDevOps:
    name = "azure-devops"
    # Azure Repos refuses a pull request description over 4,000 characters; a comment holds far more.
    body_limit = 4_000
    comment_limit = 65_536

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._org = _require(env, "SYSTEM_COLLECTIONURI", self.name)
        self._project = _require(env, "SYSTEM_TEAMPROJECT", self.name)
        self._repo = env.get(REPOSITORY_OVERRIDE) or _require(env, "BUILD_REPOSITORY_ID", self.name)

    def branch(self) -> str:
        return _branch(_require(self._env, "BUILD_SOURCEBRANCH", self.name))

    def pull_request(self) -> int | None:
        number = self._env.get("SYSTEM_PULLREQUEST_PULLREQUESTID", "")
        return int(number) if number.isdigit() else None

    def target_branch(self) -> str | None:
        target = self._env.get("SYSTEM_PULLREQUEST_TARGETBRANCH")
        return _branch(target) if target else None

    def prepare_sign_in(self, env: MutableMapping[str, str]) -> None:
        """The AzureCLI@2 task (addSpnToEnvironment) hands its service connection's workload identity token
        and app to the script as idToken and servicePrincipalId: entragit reads the token from a file
        (AZURE_FEDERATED_TOKEN_FILE) and signs in as that app."""
        token = env.get("idToken")
        if token and not env.get("AZURE_FEDERATED_TOKEN_FILE"):
            handle, path = tempfile.mkstemp(prefix="entragit-oidc-", dir=env.get("AGENT_TEMPDIRECTORY"))
            with os.fdopen(handle, "w") as file:
                file.write(token)
            env["AZURE_FEDERATED_TOKEN_FILE"] = path
        if env.get("servicePrincipalId") and not env.get("ENTRAGIT_CLIENT_ID"):
            env["ENTRAGIT_CLIENT_ID"] = env["servicePrincipalId"]

    def _invoke(self, resource: str, method: str, body: Any = None, query: dict[str, str] | None = None,
                **route: str | int) -> Any:
        routes = {"project": self._project, "repositoryId": self._repo, **route}
        args = ["az", "devops", "invoke", "--org", self._org, "--area", "git", "--resource", resource,
                "--http-method", method, "--api-version", "7.1", "--output", "json",
                "--route-parameters", *(f"{key}={value}" for key, value in routes.items())]
        if query:
            args += ["--query-parameters", *(f"{key}={value}" for key, value in query.items())]
        if body is None:
            return (_json_values(_run(args)) or [None])[0]
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=self._env.get("AGENT_TEMPDIRECTORY"),
                                         delete=False) as file:
            json.dump(body, file)
        try:
            return (_json_values(_run(args + ["--in-file", file.name])) or [None])[0]
        finally:
            Path(file.name).unlink()

    def drift_pull_requests(self, base: str, prefix: str) -> list[PullRequest]:
        found = self._invoke("pullRequests", "GET", query={"searchCriteria.status": "active",
                                                           "searchCriteria.targetRefName": f"refs/heads/{base}",
                                                           "$top": "1000"})
        return [PullRequest(p["pullRequestId"], _branch(p["sourceRefName"]),
                            tuple(label["name"] for label in p.get("labels") or []))
                for p in found.get("value", []) if _branch(p["sourceRefName"]).startswith(prefix)]

    def create_pull_request(self, head: str, base: str, title: str, body: str, draft: bool) -> PullRequest:
        made = self._invoke("pullRequests", "POST", {"sourceRefName": f"refs/heads/{head}",
                                                     "targetRefName": f"refs/heads/{base}", "title": title,
                                                     "description": body, "isDraft": draft})
        return PullRequest(made["pullRequestId"], head)

    def update_pull_request(self, number: int, title: str, body: str) -> None:
        self._invoke("pullRequests", "PATCH", {"title": title, "description": body}, pullRequestId=number)

    def set_labels(self, pr: PullRequest, labels: list[str]) -> None:
        for stale in (label for label in pr.labels if label.startswith(LABEL_PREFIX) and label not in labels):
            self._invoke("pullRequestLabels", "DELETE", pullRequestId=pr.number, labelIdOrName=stale)
        for label in (label for label in labels if label not in pr.labels):
            # Azure Repos makes a label the first time a pull request is given it.
            self._invoke("pullRequestLabels", "POST", {"name": label}, pullRequestId=pr.number)

    def upsert_comment(self, number: int, marker: str, body: str) -> str:
        threads = self._invoke("pullRequestThreads", "GET", pullRequestId=number).get("value", [])
        for thread in threads:
            first = (thread.get("comments") or [{}])[0]
            # Only the build service's comment is ours to edit: anyone can write the marker into their own.
            author = str((first.get("author") or {}).get("displayName"))
            if (first.get("content") or "").startswith(marker) and "Build Service (" in author:
                self._invoke("pullRequestThreadComments", "PATCH", {"content": body}, pullRequestId=number,
                             threadId=thread["id"], commentId=first["id"])
                return "updated"
        self._invoke("pullRequestThreads", "POST", {"comments": [{"parentCommentId": 0, "content": body,
                                                                  "commentType": "text"}], "status": "active"},
                     pullRequestId=number)
        return "posted"

    def summary(self, markdown: str) -> None:
        handle, path = tempfile.mkstemp(prefix="entragit-summary-", suffix=".md",
                                        dir=self._env.get("AGENT_TEMPDIRECTORY"))
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(markdown + "\n")
        print(f"##vso[task.uploadsummary]{path}", flush=True)

    def output(self, name: str, value: str) -> None:
        print(f"##vso[task.setvariable variable={name};isOutput=true]{value}", flush=True)

    def run_url(self) -> str:
        return (f"{self._org.rstrip('/')}/{quote(self._project)}/_build/results"
                f"?buildId={self._env.get('BUILD_BUILDID', '')}")


PLATFORMS: dict[str, type[GitHub] | type[AzureDevOps]] = {"github": GitHub, "azure-devops": AzureDevOps}


def platform_of(name: str, env: Mapping[str, str]) -> Platform:
    return PLATFORMS[name](env)
