"""Plain `git diff` and `git log -p` that people can read: display names beside the ids in snapshot files.

`entragit init` registers a git diff driver in the backup repository: `.git/info/attributes` maps the
snapshot files to it and the repository's git config says to show them through `entragit-textconv FILE`,
which prints the file with `# <display name>` after every line naming a known object's id:

    members:
    - 3f2a9c1e-...  # Finance Admins

Names come from the files at HEAD. The id -> name index (textconv.index) is built once per HEAD tree with two git commands
(ls-tree, then one cat-file --batch over the blobs) and cached in .git/entragit/names/<tree>.tsv, so a
`git log -p` over many commits reads it, not the tree, for every file. Both settings are local to a clone:
`entragit init --refresh DIR` puts them in place in a clone or a repository made before them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from collections.abc import Callable

# Git starts entragit once per file it shows: this module loads only what showing a file needs once HEAD's
# name index is cached; building the index (the registry, the YAML reader: most of the start-up) is
# textconv.index, which `entragit textconv` imports only when HEAD has moved.
from entragit.errors import GitFailed, StoreError
from entragit.printable import printable

Builder = Callable[[Path], dict[str, str]]

DRIVER = "entragit"
SCRIPT = "entragit-textconv"
# A snapshot file is <type>/<id>.yaml, one level down; entragit.yaml at the root is not one.
ATTRIBUTE_LINE = f"*/*.yaml diff={DRIVER}"
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# The object's own id needs no name beside it: its displayName is the next line.
_ID_LINE = re.compile(r"^id:")


def git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(["git", *args], cwd=root, input=stdin, capture_output=True)
    if done.returncode != 0:
        raise GitFailed(args[0], done.stderr.decode(errors="replace"), root)
    return done.stdout


def _command() -> str:
    """How git runs the textconv: the console script found through the PATH, so the setting outlives a venv
    that moves or is rebuilt; the interpreter running now where no script is on the PATH. Either way
    without the command line's own start-up (click and its options), as git starts it once per file."""
    if shutil.which(SCRIPT):
        return SCRIPT
    return f"{shlex.quote(sys.executable)} -m entragit.textconv"


def install(root: Path) -> bool:
    """Register the diff driver in the repository at root (idempotent); True if anything had to change."""
    git_dir = Path(git(root, "rev-parse", "--absolute-git-dir").decode().strip())
    attributes = git_dir / "info" / "attributes"
    attributes.parent.mkdir(parents=True, exist_ok=True)
    lines = attributes.read_text().splitlines() if attributes.exists() else []
    changed = ATTRIBUTE_LINE not in lines
    if changed:
        attributes.write_text("\n".join([*lines, ATTRIBUTE_LINE]) + "\n")
    # Not diff.entragit.cachetextconv: git would keep each file's first conversion in a notes commit, so
    # names would stay as they were when the file was first shown, and git diff would fail wherever no
    # committer identity is set. entragit's own git calls never run the driver (store.NO_DRIVERS).
    key, command = f"diff.{DRIVER}.textconv", _command()
    current = subprocess.run(["git", "config", "--local", "--get", key], cwd=root, capture_output=True)
    if current.stdout.decode().strip() != command:
        git(root, "config", "--local", key, command)
        changed = True
    return changed


Names = Callable[[str], str | None]


def _no_names(_: str) -> None:
    return None


def _sorted_lines(index: dict[str, str]) -> bytes:
    """The index as lines `id<TAB>"name"`, sorted by id: a lookup bisects the file instead of loading it
    (100,000 names are 5 MB of JSON: parsing it was most of a textconv run's time, reading it is not)."""
    return b"".join(f"{key}\t{json.dumps(name)}\n".encode() for key, name in sorted(index.items()))


def _bisecting(data: bytes) -> Names:
    def find(object_id: str) -> str | None:
        key = f"{object_id}\t".encode()
        low, high = 0, len(data)
        while low < high:
            start = data.rfind(b"\n", low, (low + high) // 2) + 1 or low
            end = data.find(b"\n", start)
            line = data[start:end]
            if line.startswith(key):
                return str(json.loads(line[len(key):]))
            if line < key:
                low = end + 1
            else:
                high = start
        return None
    return find


def name_index(root: Path, build: Builder) -> Names:
    """id -> display name of every object at HEAD, from the cache when HEAD's tree has not changed."""
    try:
        git_dir_text, top, tree = git(root, "rev-parse", "--absolute-git-dir", "--show-toplevel",
                                       "HEAD^{tree}").decode().splitlines()
    except GitFailed:
        return _no_names  # no commit yet: nothing to name
    cache_dir = Path(git_dir_text) / "entragit" / "names"
    cached = cache_dir / f"{tree}.tsv"
    try:
        return _bisecting(cached.read_bytes())
    except OSError:
        pass
    data = _sorted_lines(build(Path(top)))
    cache_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache_dir.glob("*"):
        stale.unlink(missing_ok=True)
    partial = cache_dir / f".{tree}.{os.getpid()}.tmp"
    partial.write_bytes(data)
    os.replace(partial, cached)
    return _bisecting(data)


def annotate(text: str, names: Names) -> str:
    """Each line that names known ids, with their display names after it. What git shows goes to a terminal,
    and a name or a hand-edited line may hold control characters (a newline would add a line to the diff):
    they are shown escaped (see printable), and lines end only where the file's newlines are."""
    lines = []
    for line in text.split("\n"):
        body, end = (line[:-1], "\r") if line.endswith("\r") else (line, "")
        found = [] if _ID_LINE.match(body) else [n for i in _GUID.findall(body) if (n := names(i.lower())) is not None]
        lines.append(printable(f"{body}  # {', '.join(found)}" if found else body) + end)
    return "\n".join(lines)


def textconv(path: Path, cwd: Path, build: Builder) -> str:
    """What git shows for a snapshot file; cwd is anywhere in the repository's working tree; build makes
    HEAD's name index when the cache has none for its tree."""
    # A file that is not UTF-8 (a hand edit gone wrong) is still shown: git diff must not fail over it.
    text = path.read_bytes().decode("utf-8", errors="replace")
    try:
        names = name_index(cwd, build)
    except (OSError, StoreError, ValueError):
        names = _no_names  # a broken index must never break git diff: show the file as it is
    return annotate(text, names)
