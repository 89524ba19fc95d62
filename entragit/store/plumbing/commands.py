"""git through GitPython with every failure as one line, and the small git formats the store reads and
writes by hand: blob ids, tree listings, trees made by mktree, blobs streamed out of cat-file."""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import git

from entragit.errors import GitFailed, StoreError

# For every git command that compares revisions and wants no names: a backup repository's diff driver
# (`entragit init`) runs a process per file it converts, which would make a `log -S` over many files crawl,
# and a user's own external diff tool has no place in a command whose output entragit parses.
NO_DRIVERS = ("--no-textconv", "--no-ext-diff")

# What a failed git command cannot have changed, by what the command does; for the rest git's words say it.
_LEFT_AS_IT_WAS = {
    **dict.fromkeys(("cat-file", "diff", "log", "ls-tree", "rev-list", "rev-parse", "show", "status"),
                    "nothing was changed"),
    **dict.fromkeys(("commit-tree", "hash-object", "mktree", "write-tree"), "no branch and no file was changed"),
    "update-ref": "no branch was moved",
}


def _subcommand(argv: list[str]) -> str:
    args = iter(argv[1:])
    for arg in args:
        if arg in ("-c", "-C"):
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return "(no command)"


class _GitFailed(GitFailed, git.GitCommandError):
    """GitFailed, which the CLI shows as one line, that `except git.GitCommandError` still recognises."""

    def __init__(self, cause: git.GitCommandError, root: object) -> None:
        git.GitCommandError.__init__(self, cause.command, cause.status)
        command = _subcommand([str(arg) for arg in cause.command])
        stderr = str(cause.stderr).removeprefix("\n  stderr: '").removesuffix("'")
        GitFailed.__init__(self, command, stderr, root, _LEFT_AS_IT_WAS.get(command, ""))

    def __str__(self) -> str:
        return str(self.args[0])


class _Git(git.Git):
    """Every git command the store runs through GitPython: a failure becomes one line, not a traceback."""

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().execute(*args, **kwargs)
        except git.GitCommandError as exc:
            raise _GitFailed(exc, self.working_dir) from None


class GitRepo(git.Repo):
    """A repository whose every git command fails as one line (see _Git)."""

    GitCommandWrapperType = _Git


def blob_id(data: bytes) -> str:
    """The id git gives a blob, computed here so unchanged files are recognised without asking git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 (git's own hash)


def stdin(text: str) -> Any:
    """A file to feed a git command's standard input (GitPython hands it to the process as is)."""
    handle = tempfile.TemporaryFile()
    handle.write(text.encode())
    handle.seek(0)
    return handle

def tree_entries(listing: str) -> Iterator[tuple[str, str]]:
    """(mode type id, path) of each entry in `git ls-tree -z` output."""
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        yield meta, path


def listed_blobs(listing: str) -> dict[str, str]:
    """path -> blob id from `git ls-tree -r -z` output."""
    return {path: meta.split()[2] for meta, path in tree_entries(listing)}


def mktree(repo: git.Repo, entries: dict[str, str], *options: str) -> str:
    listing = "".join(f"{meta}\t{name}\0" for name, meta in entries.items())
    return str(repo.git.mktree("-z", *options, istream=stdin(listing)))


def folder_tree(repo: git.Repo, head: str, folder: str, files: dict[str, str | None]) -> str | None:
    """The tree of a folder of head with files changed (name -> blob id, None where removed), made by
    git mktree from head's entries: no index of every file in the repository is read, written and
    hashed (half a second at 125k files). None where no file is left: git keeps no empty folder.
    The new blobs may still be on their way into the repository (see Stager), so they are not looked for."""
    listing = repo.git.ls_tree("-z", head, "--", f"{folder}/")
    entries = {path.split("/", 1)[1]: meta for meta, path in tree_entries(listing)}
    for name, blob in files.items():
        if blob is None:
            entries.pop(name, None)
        else:
            entries[name] = f"100644 blob {blob}"
    return mktree(repo, entries, "--missing") if entries else None


def read_blobs(root: Path, blob_ids: list[str]) -> dict[str, bytes]:
    """The bytes of many blobs by id, streamed through one `git cat-file --batch`.

    Requests are written from a second thread while answers are read, so the pipe never waits for a
    round trip per blob; by id, so git never looks a path up in a 100k-entry tree.
    """
    wanted = list(dict.fromkeys(blob_ids))
    if not wanted:
        return {}
    # --buffer: git writes the answers in large chunks, not one flushed write per blob.
    process = subprocess.Popen(["git", "cat-file", "--batch", "--buffer"], cwd=root,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None

    def ask() -> None:
        assert process.stdin is not None
        process.stdin.write("".join(f"{blob}\n" for blob in wanted).encode())
        process.stdin.close()

    writer = threading.Thread(target=ask, daemon=True)
    writer.start()
    found: dict[str, bytes] = {}
    for blob in wanted:
        header = process.stdout.readline().split()
        if len(header) != 3:
            process.kill()
            raise StoreError(f"blob {blob} is missing from {root}")
        found[blob] = process.stdout.read(int(header[2]))
        process.stdout.read(1)  # the newline after each object
    writer.join()
    process.wait()
    return found


def read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
