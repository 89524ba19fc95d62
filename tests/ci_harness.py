"""Runs a pipeline file as its platform would, on this machine: the rehearsal of tests/test_ci_rehearsal.py.

The jobs and steps come from the YAML `entragit init --ci` wrote, in order, with their conditions, outputs,
environment and permissions. What the platform itself provides is played here: the checkout is a clone of a
bare git remote (a pull request's run checks out the merge commit the platform would make), setup-python
and UsePythonVersion are no-ops (this Python runs), installing the pinned entragit is checked against this
release and skipped, the OIDC token endpoint (GitHub) and AzureCLI@2's workload identity token (Azure
DevOps) are served from the simulated tenant's federation, with the subject the platform would give the
job, and `gh`/`az` are the recording stand-ins of tests/forge_standin.py on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ruamel.yaml import YAML

from entragit import __version__
from entragit.sim import Simulator

HERE = Path(__file__).parent
REPOSITORY = "contoso/identity-backup"
ORG, PROJECT = "https://dev.azure.com/contoso/", "identity"
INSTALL = re.compile(r'^python -m pip install "entragit==(\$\{ENTRAGIT_VERSION\}|\$\(ENTRAGIT_VERSION\))"$')


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


# --- expressions ------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,|\[|\]|\.)"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_\-]*))")


class Expression:
    """The part of GitHub's `${{ }}` and Azure Pipelines' condition languages the templates use: literals,
    property paths (a.b, a['b']), == != && || !, and calls (eq, ne, and, or, not, succeeded, always...)."""

    def __init__(self, text: str, context: dict[str, Any], functions: dict[str, Callable[..., Any]]) -> None:
        self.tokens = [(kind, match.group(kind)) for match in _TOKEN.finditer(text.strip())
                       for kind in ("str", "num", "op", "name") if match.group(kind) is not None]
        assert re.sub(r"\s", "", "".join(t for _, t in self.tokens)) == re.sub(r"\s", "", text), f"cannot read {text!r}"
        self.position, self.context, self.functions = 0, context, functions

    def value(self) -> Any:
        result = self._or()
        assert self.position == len(self.tokens), self.tokens[self.position:]
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        self.position += 1
        return self.tokens[self.position - 1]

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = left if truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            left = right if truthy(left) else left
        return left

    def _compare(self) -> Any:
        left = self._unary()
        if self._peek() in ("==", "!="):
            op = self._take()[1]
            right = self._unary()
            return equal(left, right) == (op == "==")
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, token = self._take()
        if token == "(":
            inner = self._or()
            assert self._take()[1] == ")"
            return inner
        if kind == "str":
            return token[1:-1].replace("''", "'")
        if kind == "num":
            return float(token)
        if token in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[token]
        if self._peek() == "(":
            self._take()
            arguments = []
            while self._peek() != ")":
                arguments.append(self._or())
                if self._peek() == ",":
                    self._take()
            self._take()
            return self.functions[token.lower()](*arguments)
        value = self.context.get(token)
        while self._peek() in (".", "["):
            if self._take()[1] == ".":
                key = self._take()[1]
            else:
                key = str(self._or())
                assert self._take()[1] == "]"
            value = _lookup(value, key)
        return value


def _lookup(value: Any, key: str) -> Any:
    if not isinstance(value, dict):
        return None
    return next((v for k, v in value.items() if k.lower() == key.lower()), None)


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, 0.0, "")


def equal(left: Any, right: Any) -> bool:
    # Both languages compare strings without regard to case, and a missing value as an empty string.
    def norm(value: Any) -> Any:
        value = "" if value is None else value
        return value.lower() if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else value
    return bool(norm(left) == norm(right))


def substitute(text: str, evaluate: Callable[[str], Any]) -> str:
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: _show(evaluate(m.group(1))), text)


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


# --- what both platforms provide ----------------------------------------------------------------------------


@dataclass
class Forge:
    """The hosting side: a bare remote, and the pull requests and comments the stand-ins keep."""

    root: Path

    def __post_init__(self) -> None:
        self.remote = self.root / "remote.git"
        self.state_dir = self.root / "forge"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.bin = self.root / "bin"
        self.bin.mkdir(exist_ok=True)
        for tool in ("gh", "az"):
            script = self.bin / tool
            script.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} {HERE / 'forge_standin.py'} {tool} \"$@\"\n")
            script.chmod(0o755)
        entragit = self.bin / "entragit"
        entragit.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m entragit \"$@\"\n")
        entragit.chmod(0o755)

    @property
    def state(self) -> dict[str, Any]:
        path = self.state_dir / "state.json"
        return json.loads(path.read_text()) if path.exists() else {"pulls": {}, "comments": {}}

    def calls(self) -> list[dict[str, Any]]:
        path = self.state_dir / "calls.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def publish(self, repo: Path, branch: str = "main") -> None:
        """Make repo's branch the remote's (the backup repository as pushed by its owner)."""
        if not self.remote.exists():
            git(self.root, "init", "--quiet", "--bare", "--initial-branch", branch, str(self.remote))
        git(repo, "push", "--quiet", str(self.remote), f"HEAD:refs/heads/{branch}")

    def open_pull_request(self, head: str, base: str = "main", platform: str = "github") -> int:
        """A person's pull request (the head branch is on the remote already)."""
        path = self.state_dir / "state.json"
        state = json.loads(path.read_text()) if path.exists() else {"pulls": {}, "labels": [], "comments": {},
                                                                     "next": 1}
        number = state["next"]
        state["next"] += 1
        if platform == "github":
            state["pulls"][str(number)] = {"number": number, "state": "open", "title": "Restore", "body": "",
                                           "draft": False, "labels": [], "base": {"ref": base},
                                           "head": {"ref": head, "repo": {"full_name": REPOSITORY}}}
        else:
            state["pulls"][str(number)] = {"pullRequestId": number, "status": "active", "title": "Restore",
                                           "sourceRefName": f"refs/heads/{head}", "targetRefName": f"refs/heads/{base}",
                                           "labels": []}
        path.write_text(json.dumps(state))
        return number

    def merge(self, head: str, base: str = "main") -> str:
        """Merge the pull request's branch into base on the remote, as the platform's merge button does."""
        work = self.root / "merging"
        if work.exists():
            subprocess.run(["rm", "-rf", str(work)], check=True)
        git(self.root, "clone", "--quiet", "--branch", base, str(self.remote), str(work))
        git(work, "-c", "user.name=Reviewer", "-c", "user.email=reviewer@example.com", "merge", "--quiet", "--no-ff",
            "--no-edit", f"origin/{head}")
        git(work, "push", "--quiet", "origin", f"HEAD:refs/heads/{base}")
        return git(work, "rev-parse", "HEAD")

    def changed_files(self, old: str, new: str) -> list[str]:
        return git(self.remote, "diff", "--name-only", old, new).split()


@dataclass
class Federation:
    """The tenant's trust of the pipelines' OIDC issuers, and GitHub's token endpoint for a job."""

    sim: Simulator
    subjects: dict[str, str] = field(default_factory=dict)
    """Bearer token of a job's request -> the subject its token says."""

    def trust(self, *subjects: str, issuer: str | None = None) -> None:
        for subject in subjects:
            if issuer:
                self.sim.federation.add_credential(subject, issuer=issuer)
            else:
                self.sim.federation.add_credential(subject)

    @contextmanager
    def github_endpoint(self) -> Iterator[str]:
        federation = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                audience = parse_qs(urlsplit(self.path).query).get("audience", [""])[0]
                if bearer not in federation.subjects:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"value": federation.sim.federation.issue(federation.subjects[bearer],
                                                                              audience=audience)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/token"
        finally:
            server.shutdown()
            server.server_close()


@dataclass
class Step:
    name: str
    output: str
    env: dict[str, str]
    returncode: int


@dataclass
class JobRun:
    status: str = "skipped"  # success | failure | skipped
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    steps: list[Step] = field(default_factory=list)
    environment: str | None = None
    subject: str | None = None
    """The OIDC subject the job's federated sign-in carried."""

    @property
    def log(self) -> str:
        return "\n".join(step.output for step in self.steps)


@dataclass
class Run:
    triggered: bool
    jobs: dict[str, JobRun] = field(default_factory=dict)


class Runner:
    """What both platforms' runners do the same way."""

    def __init__(self, pipeline: Path, forge: Forge, sim_info: Path, federation: Federation,
                 runner_env: dict[str, str] | None = None) -> None:
        self.definition = YAML(typ="safe").load(pipeline.read_text())
        self.forge, self.sim_info, self.federation = forge, sim_info, federation
        self.runner_env = runner_env or {}
        self.runs = 0

    def _base_env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "HOME", "LANG", "GIT_CONFIG_GLOBAL",
                                                              "GIT_CONFIG_NOSYSTEM", "SYSTEMROOT", "TMPDIR")}
        return dict(keep, PATH=f"{self.forge.bin}{os.pathsep}{os.environ['PATH']}", CI="true",
                    ENTRAGIT_FORGE=str(self.forge.state_dir),
                    # The runner's network reaches the simulated tenant (given outside the repository, as a
                    # real pipeline's would be the cloud's).
                    ENTRAGIT_SIMULATOR=str(self.sim_info)) | self.runner_env

    def _workspace(self) -> Path:
        self.runs += 1
        work = self.forge.root / f"run{self.runs}"
        work.mkdir()
        return work

    def checkout(self, work: Path, ref: str, pull: tuple[str, str] | None) -> Path:
        """Clone the remote at ref; for a pull request (head, base), the merge commit of head into base."""
        checkout = work / "s"
        git(work, "clone", "--quiet", "--no-checkout", str(self.forge.remote), str(checkout))
        if pull is None:
            git(checkout, "checkout", "--quiet", "--detach", git(checkout, "rev-parse", f"origin/{ref}"))
        else:
            head, base = pull
            git(checkout, "checkout", "--quiet", "--detach", f"origin/{base}")
            git(checkout, "-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "merge", "--quiet",
                "--no-ff", "--no-edit", f"origin/{head}")
        return checkout

    def bash(self, script: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
        if INSTALL.match(script.strip()):
            # Installing the pinned release: this checkout is that release, on PYTHONPATH.
            assert env.get("ENTRAGIT_VERSION") == __version__, env.get("ENTRAGIT_VERSION")
            return 0, f"(entragit {__version__} is installed)"
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        return done.returncode, done.stdout + done.stderr


def _order(jobs: dict[str, dict[str, Any]], needs: Callable[[dict[str, Any]], list[str]]) -> list[str]:
    done: list[str] = []
    while len(done) < len(jobs):
        ready = [name for name, job in jobs.items() if name not in done and all(n in done for n in needs(job))]
        assert ready, "a cycle of needs"
        done.append(ready[0])
    return done


def _path_filter(patterns: list[str]) -> re.Pattern[str]:
    # Both platforms: `*` stays within a folder, `**` crosses them.
    parts = [re.escape(p).replace(r"\*\*", ".*").replace(r"\*", "[^/]*") for p in patterns]
    return re.compile("^(?:" + "|".join(parts) + ")$")


# --- GitHub Actions -----------------------------------------------------------------------------------------


class GitHubActions(Runner):
    endpoint = ""
    """GitHub's OIDC token endpoint for this runner's jobs (Federation.github_endpoint)."""

    def run(self, event: str, *, pull: int | None = None, inputs: dict[str, Any] | None = None,
            secrets: dict[str, str] | None = None, before: str | None = None) -> Run:
        on = self.definition[True] if True in self.definition else self.definition["on"]  # YAML 1.1 reads on: as True
        if event not in on:
            return Run(False)
        trigger = on[event] or {}
        pr = self.forge.state["pulls"][str(pull)] if pull is not None else None
        base = pr["base"]["ref"] if pr else "main"
        if "paths" in trigger:
            old = before if event == "push" else git(self.forge.remote, "merge-base", base, pr["head"]["ref"]) if pr \
                else None
            new = git(self.forge.remote, "rev-parse", pr["head"]["ref"] if pr else base)
            if old and not any(_path_filter(trigger["paths"]).match(f) for f in self.forge.changed_files(old, new)):
                return Run(False)
        ref = f"refs/pull/{pull}/merge" if pr else f"refs/heads/{base}"
        github = {"event_name": event, "ref": ref, "ref_name": f"{pull}/merge" if pr else base,
                  "repository": REPOSITORY, "token": "ghs_job_token", "base_ref": base if pr else "",
                  "head_ref": pr["head"]["ref"] if pr else "",
                  "event": {"pull_request": {"number": pull}} if pr else {}}
        run = Run(True)
        jobs = self.definition["jobs"]
        needs_of: Callable[[dict[str, Any]], list[str]] = lambda job: ([job["needs"]] if isinstance(
            job.get("needs"), str) else list(job.get("needs") or []))
        for name in _order(jobs, needs_of):
            job = jobs[name]
            needs = {n: {"outputs": run.jobs[n].outputs, "result": run.jobs[n].status} for n in needs_of(job)}
            context = {"github": github, "inputs": inputs or {}, "secrets": secrets or {}, "needs": needs,
                       "env": dict(self.definition.get("env") or {}), "vars": {}}
            if any(needs[n]["result"] != "success" for n in needs) or not truthy(self._eval(job.get("if", "true"),
                                                                                                context)):
                run.jobs[name] = JobRun()
                continue
            run.jobs[name] = self._job(job, context, pr)
        return run

    @staticmethod
    def _eval(text: Any, context: dict[str, Any]) -> Any:
        text = str(text).strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2]
        functions = {"success": lambda: True, "always": lambda: True, "failure": lambda: False}
        return Expression(text, context, functions).value()

    def _job(self, job: dict[str, Any], context: dict[str, Any], pr: dict[str, Any] | None) -> JobRun:
        result = JobRun(status="success", environment=job.get("environment"))
        work = self._workspace()
        summary, outputs_file = work / "summary.md", work / "output"
        github = context["github"]
        env = self._base_env() | {
            "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_EVENT_NAME": github["event_name"],
            "GITHUB_REF": github["ref"], "GITHUB_REF_NAME": github["ref_name"], "GITHUB_BASE_REF": github["base_ref"],
            "GITHUB_HEAD_REF": github["head_ref"], "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": str(self.runs), "GITHUB_STEP_SUMMARY": str(summary)}
        evaluate: Callable[[str], Any] = lambda text: self._eval(text, context)
        for scope in (self.definition.get("env") or {}, job.get("env") or {}):
            env.update({k: substitute(str(v), evaluate) for k, v in scope.items()})
        context["env"] = env
        if (job.get("permissions") or {}).get("id-token") == "write":
            # The subject GitHub puts in the job's token: its environment, else the pull request, else the ref.
            result.subject = (f"repo:{REPOSITORY}:environment:{job['environment']}" if job.get("environment") else
                              f"repo:{REPOSITORY}:pull_request" if pr else f"repo:{REPOSITORY}:ref:{github['ref']}")
            bearer = f"job-{self.runs}"
            self.federation.subjects[bearer] = result.subject
            env |= {"ACTIONS_ID_TOKEN_REQUEST_URL": self.endpoint, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": bearer}
        steps: dict[str, Any] = {}
        context["steps"] = steps
        checkout = work
        for step in job["steps"]:
            if result.status != "success" or not truthy(self._eval(step.get("if", "true"), context)):
                continue
            uses = step.get("uses", "")
            if uses.startswith("actions/checkout@"):
                pull = (pr["head"]["ref"], pr["base"]["ref"]) if pr else None
                checkout = self.checkout(work, github["ref_name"], pull)
                continue
            if uses.startswith("actions/setup-python@"):
                assert step["with"]["python-version"]
                continue
            assert not uses, f"no stand-in for {uses}"
            outputs_file.write_text("")
            step_env = env | {k: substitute(str(v), evaluate) for k, v in (step.get("env") or {}).items()}
            step_env["GITHUB_OUTPUT"] = str(outputs_file)
            code, output = self.bash(substitute(step["run"], evaluate), step_env, checkout)
            result.steps.append(Step(step.get("name", step["run"]), output, step_env, code))
            if "id" in step:
                pairs = (line.partition("=") for line in outputs_file.read_text().splitlines())
                steps[step["id"]] = {"outputs": {key: value for key, _, value in pairs}}
            if code != 0:
                result.status = "failure"
        result.summary = summary.read_text() if summary.exists() else ""
        result.outputs = {k: substitute(str(v), evaluate) for k, v in (job.get("outputs") or {}).items()}
        return result


# --- Azure Pipelines ----------------------------------------------------------------------------------------


class AzurePipelines(Runner):
    connections: dict[str, str] = {}
    """Service connection -> the app (client id) it signs in as."""
    issuer = "https://vstoken.dev.azure.com/0b1e5d2c-7f3a-4e8b-9c1d-2a6f4e8b0c3d"

    def subject(self, connection: str) -> str:
        return f"sc://contoso/{PROJECT}/{connection}"

    def run(self, reason: str, *, pull: int | None = None, parameters: dict[str, Any] | None = None,
            variables: dict[str, str] | None = None) -> Run:
        """reason: Schedule, IndividualCI (a push to a branch its trigger names) or PullRequest (the build
        validation policy)."""
        pr = self.forge.state["pulls"][str(pull)] if pull is not None else None
        definition = self.definition
        if reason == "Schedule" and not definition.get("schedules"):
            return Run(False)
        if reason == "IndividualCI" and definition.get("trigger") in (None, "none"):
            return Run(False)
        given = {p["name"]: (parameters or {}).get(p["name"], p.get("default")) for p in definition.get("parameters")
                 or []}
        source = pr["targetRefName"] if pr else "refs/heads/main"
        predefined = {"Build.Reason": reason, "Build.SourceBranch": f"refs/pull/{pull}/merge" if pr else source,
                      "Build.Repository.ID": "5e4b8a2c-repo", "Build.BuildId": str(self.runs + 1),
                      "System.CollectionUri": ORG, "System.TeamProject": PROJECT}
        if pr:
            predefined |= {"System.PullRequest.PullRequestId": str(pull),
                           "System.PullRequest.TargetBranch": pr["targetRefName"],
                           "System.PullRequest.SourceBranch": pr["sourceRefName"]}
        pipeline_vars = {k: str(v) for k, v in (definition.get("variables") or {}).items()} | (variables or {})
        run = Run(True)
        jobs = {(j.get("job") or j.get("deployment")): j for j in definition["jobs"]}
        depends: Callable[[dict[str, Any]], list[str]] = lambda job: ([job["dependsOn"]] if isinstance(
            job.get("dependsOn"), str) else list(job.get("dependsOn") or []))
        for name in _order(jobs, depends):
            job = self._compile(jobs[name], given)
            dependencies = {n: {"outputs": run.jobs[n].outputs, "result": run.jobs[n].status} for n in depends(job)}
            context = {"variables": predefined | pipeline_vars, "dependencies": dependencies}
            met = all(d["result"] == "success" for d in dependencies.values())
            if not truthy(self._eval(job.get("condition", "succeeded()"), context, met)):
                run.jobs[name] = JobRun()
                continue
            run.jobs[name] = self._job(name, job, predefined, pipeline_vars, pr)
        return run

    def _compile(self, job: Any, parameters: dict[str, Any]) -> Any:
        """Template expressions (${{ parameters.x }}) are filled in before the run, as Azure Pipelines does."""
        if isinstance(job, dict):
            return {k: self._compile(v, parameters) for k, v in job.items()}
        if isinstance(job, list):
            return [self._compile(v, parameters) for v in job]
        if isinstance(job, str):
            return substitute(job, lambda text: _render(Expression(text, {"parameters": parameters}, {}).value()))
        return job

    @staticmethod
    def _eval(text: str, context: dict[str, Any], succeeded: bool) -> Any:
        functions = {"and": lambda *a: all(truthy(x) for x in a), "or": lambda *a: any(truthy(x) for x in a),
                     "not": lambda a: not truthy(a), "eq": equal, "ne": lambda a, b: not equal(a, b),
                     "succeeded": lambda: succeeded, "always": lambda: True, "failed": lambda: not succeeded}
        return Expression(text, context, functions).value()

    def _job(self, name: str, job: dict[str, Any], predefined: dict[str, str], pipeline_vars: dict[str, str],
             pr: dict[str, Any] | None) -> JobRun:
        result = JobRun(status="success", environment=job.get("environment"))
        work = self._workspace()
        temp = work / "_temp"
        temp.mkdir()
        variables = predefined | pipeline_vars | {"Agent.TempDirectory": str(temp)}
        secrets = {"System.AccessToken": "ado-job-token"}
        env = self._base_env() | {"TF_BUILD": "True"} | {k.upper().replace(".", "_"): v for k, v in variables.items()}

        def macros(text: str) -> str:
            # $(Name) is replaced where a variable of that name exists, and left as it is otherwise.
            known = {k.lower(): v for k, v in (variables | secrets).items()}
            return re.sub(r"\$\(([A-Za-z0-9_.]+)\)", lambda m: known.get(m.group(1).lower(), m.group(0)), text)

        steps = job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]
        checkout = work
        for step in steps:
            context = {"variables": variables}
            if not truthy(self._eval(step.get("condition", "succeeded()"), context, result.status == "success")):
                continue
            if step.get("checkout") == "self":
                pull = (pr["sourceRefName"].removeprefix("refs/heads/"),
                        pr["targetRefName"].removeprefix("refs/heads/")) if pr else None
                checkout = self.checkout(work, predefined["Build.SourceBranch"].removeprefix("refs/heads/"), pull)
                continue
            task = step.get("task", "")
            if task == "UsePythonVersion@0":
                continue
            step_env = env | {k: macros(str(v)) for k, v in (step.get("env") or {}).items()}
            if task == "AzureCLI@2":
                inputs = step["inputs"]
                assert inputs["scriptType"] == "bash" and inputs["scriptLocation"] == "inlineScript"
                connection = inputs["azureSubscription"]
                script = inputs["inlineScript"]
                if inputs.get("addSpnToEnvironment") is True:
                    result.subject = self.subject(connection)
                    step_env |= {"idToken": self.federation.sim.federation.issue(result.subject, issuer=self.issuer),
                                 "servicePrincipalId": self.connections[connection],
                                 "tenantId": self.federation.sim.tenant_id}
            else:
                assert not task, f"no stand-in for {task}"
                script = step["script"]
            code, output = self.bash(macros(script), step_env, checkout)
            result.steps.append(Step(step.get("displayName", script), output, step_env, code))
            for line in output.splitlines():
                command = re.match(r"##vso\[task\.(setvariable|uploadsummary)([^\]]*)\](.*)$", line)
                if command and command.group(1) == "uploadsummary":
                    result.summary += Path(command.group(3)).read_text()
                elif command and "isOutput=true" in command.group(2):
                    variable = re.search(r"variable=([^;]+)", command.group(2))
                    assert variable is not None
                    result.outputs[f"{step.get('name')}.{variable.group(1)}"] = command.group(3)
            if code != 0:
                result.status = "failure"
        return result


def _render(value: Any) -> str:
    # Azure Pipelines writes a boolean parameter as True or False.
    return str(value) if isinstance(value, bool) else _show(value)
