"""Recording stand-ins for `gh` and `az` in the pipeline rehearsals: `python forge_standin.py gh|az ARGS...`.

They answer the few REST calls the pipelines make (`gh api`, `az devops invoke`) from a JSON file of pull
requests, labels and comments in $ENTRAGIT_FORGE, with the refusals the real services give (a missing
token, a body over the platform's limit, a label made twice), and append every call to calls.jsonl there.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FORGE = Path(os.environ.get("ENTRAGIT_FORGE", "."))
BOT = {"login": "github-actions[bot]", "type": "Bot"}
BUILD_SERVICE = {"displayName": "backup Build Service (contoso)", "uniqueName": "Build\\0b1e"}


def _state() -> dict[str, Any]:
    path = FORGE / "state.json"
    return json.loads(path.read_text()) if path.exists() else {"pulls": {}, "labels": [], "comments": {}, "next": 1}


def _save(state: dict[str, Any]) -> None:
    (FORGE / "state.json").write_text(json.dumps(state, indent=1))


def _fail(message: str, code: int = 1) -> None:
    print(message)
    sys.exit(code)


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def _values(args: list[str], name: str) -> dict[str, str]:
    """The KEY=VALUE words after an option, up to the next option."""
    if name not in args:
        return {}
    found = {}
    for word in args[args.index(name) + 1:]:
        if word.startswith("--"):
            break
        key, _, value = word.partition("=")
        found[key] = value
    return found


def gh(args: list[str]) -> Any:
    if not os.environ.get("GH_TOKEN"):
        _fail("gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable.", 4)
    assert args[0] == "api", args
    method, url = _option(args, "--method") or "GET", args[3]
    parts = urlsplit(url)
    path, query = parts.path.split("/"), dict(parse_qsl(parts.query))
    body = json.loads(sys.stdin.read()) if "--input" in args else None
    state = _state()
    pulls, comments = state["pulls"], state["comments"]
    tail = path[3:]
    if tail == ["pulls"] and method == "GET":
        return [p for p in pulls.values() if p["state"] == "open" and p["base"]["ref"] == query.get("base")]
    if tail == ["pulls"] and method == "POST":
        if len(body["body"]) > 65_536:
            _fail('{"message":"Validation Failed","errors":[{"message":"body is too long (maximum is 65536 characters)"}]}')
        number = state["next"]
        state["next"] += 1
        pulls[str(number)] = {"number": number, "state": "open", "title": body["title"], "body": body["body"],
                              "draft": body["draft"], "labels": [], "base": {"ref": body["base"]},
                              "head": {"ref": body["head"], "repo": {"full_name": f"{path[1]}/{path[2]}"}}}
        _save(state)
        return pulls[str(number)]
    if len(tail) == 2 and tail[0] == "pulls" and method == "PATCH":
        if len(body["body"]) > 65_536:
            _fail('{"message":"Validation Failed"}')
        pulls[tail[1]].update(title=body["title"], body=body["body"])
        _save(state)
        return pulls[tail[1]]
    if tail == ["labels"] and method == "POST":
        if body["name"] in state["labels"]:
            _fail('{"message":"Validation Failed","errors":[{"resource":"Label","code":"already_exists","field":"name"}]}')
        state["labels"].append(body["name"])
        _save(state)
        return {"name": body["name"]}
    if len(tail) == 3 and tail[0] == "issues" and tail[2] == "labels" and method == "PUT":
        unknown = [label for label in body["labels"] if label not in state["labels"]]
        if unknown:
            _fail(f'{{"message":"label {unknown[0]} does not exist"}}')
        pulls[tail[1]]["labels"] = [{"name": label} for label in body["labels"]]
        _save(state)
        return pulls[tail[1]]["labels"]
    if len(tail) == 3 and tail[0] == "issues" and tail[2] == "comments":
        thread = comments.setdefault(tail[1], [])
        if method == "GET":
            return thread
        comment = {"id": 1000 + sum(len(c) for c in comments.values()), "body": body["body"], "user": BOT}
        thread.append(comment)
        _save(state)
        return comment
    if tail[:2] == ["issues", "comments"] and method == "PATCH":
        for comment in (c for thread in comments.values() for c in thread if str(c["id"]) == tail[2]):
            comment["body"] = body["body"]
            _save(state)
            return comment
    return _fail(f'{{"message":"Not Found: {method} {url}"}}')


def az(args: list[str]) -> Any:
    if not os.environ.get("AZURE_DEVOPS_EXT_PAT"):
        _fail("ERROR: Before you can run Azure DevOps commands, you need to run the login command.")
    assert args[:2] == ["devops", "invoke"] and _option(args, "--area") == "git", args
    resource, method = _option(args, "--resource"), _option(args, "--http-method")
    route, query = _values(args, "--route-parameters"), _values(args, "--query-parameters")
    in_file = _option(args, "--in-file")
    body = json.loads(Path(in_file).read_text()) if in_file else None
    state = _state()
    pulls, threads = state["pulls"], state["comments"]
    number = route.get("pullRequestId")
    if resource == "pullRequests" and method == "GET":
        found = [p for p in pulls.values() if p["status"] == query.get("searchCriteria.status")
                 and p["targetRefName"] == query.get("searchCriteria.targetRefName")]
        return {"value": found, "count": len(found)}
    if resource == "pullRequests" and method in ("POST", "PATCH"):
        if len(body.get("description", "")) > 4000:
            _fail("ERROR: Invalid argument value.\nParameter name: A description for a pull request must not be "
                  "longer than 4000 characters.")
        if method == "PATCH":
            pulls[number].update(body)
            _save(state)
            return pulls[number]
        made = dict(body, pullRequestId=state["next"], status="active", labels=[])
        pulls[str(state["next"])] = made
        state["next"] += 1
        _save(state)
        return made
    if resource == "pullRequestLabels":
        labels = pulls[number]["labels"]
        if method == "POST":
            labels.append({"name": body["name"]})
        else:
            labels[:] = [label for label in labels if label["name"] != route["labelIdOrName"]]
        _save(state)
        return {}
    if resource == "pullRequestThreads":
        thread_list = threads.setdefault(number, [])
        if method == "GET":
            return {"value": thread_list, "count": len(thread_list)}
        thread = {"id": len(thread_list) + 1, "status": body["status"],
                  "comments": [{"id": 1, "content": body["comments"][0]["content"], "author": BUILD_SERVICE}]}
        thread_list.append(thread)
        _save(state)
        return thread
    if resource == "pullRequestThreadComments" and method == "PATCH":
        thread = next(t for t in threads[number] if str(t["id"]) == route["threadId"])
        thread["comments"][int(route["commentId"]) - 1]["content"] = body["content"]
        _save(state)
        return thread["comments"][0]
    return _fail(f"ERROR: unknown resource {resource} {method}")


def main() -> None:
    tool, args = sys.argv[1], sys.argv[2:]
    with (FORGE / "calls.jsonl").open("a") as log:
        log.write(json.dumps({"tool": tool, "args": args}) + "\n")
    answer = gh(args) if tool == "gh" else az(args)
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
