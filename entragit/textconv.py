"""Plain `git diff` and `git log -p` that people can read: display names beside the ids in snapshot files.

`entragit init` registers a git diff driver in the backup repository: `.git/info/attributes` maps the
snapshot files to it and the repository's git config says to show them through `entragit textconv FILE`,
which prints the file with `# <display name>` after every line naming a known object's id:

    members:
    - 3f2a9c1e-...  # Finance Admins

Names come from the files at HEAD. The id -> name index is built once per HEAD tree with two git commands
(ls-tree, then one cat-file --batch over the blobs) and cached in .git/entragit/names/<tree>.json, so a
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

# Git starts this module once per file it shows: the registry and the YAML reader (most of its start-up)
# are imported only when HEAD's name index has to be built, not for every file once it is cached.
from entragit.errors import GitFailed, StoreError
from entragit.printable import printable

DRIVER = "entragit"
# A snapshot file is <type>/<id>.yaml, one level down; entragit.yaml at the root is not one.
ATTRIBUTE_LINE = f"*/*.yaml diff={DRIVER}"
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# The object's own id needs no name beside it: its displayName is the next line.
_ID_LINE = re.compile(r"^id:")


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(["git", *args], cwd=root, input=stdin, capture_output=True)
    if done.returncode != 0:
        raise GitFailed(args[0], done.stderr.decode(errors="replace"), root)
    return done.stdout


def _command() -> str:
    """How git runs the textconv: the console script found through the PATH, so the setting outlives a venv
    that moves or is rebuilt; the interpreter running now where no script is on the PATH."""
    if shutil.which("entragit"):
        return "entragit textconv"
    return f"{shlex.quote(sys.executable)} -m entragit textconv"


def install(root: Path) -> bool:
    """Register the diff driver in the repository at root (idempotent); True if anything had to change."""
    git_dir = Path(_git(root, "rev-parse", "--absolute-git-dir").decode().strip())
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
        _git(root, "config", "--local", key, command)
        changed = True
    return changed


def _display_name(head: bytes, display_key: str) -> str | None:
    """The display name from a canonical file's first lines (it comes right after the id)."""
    from entragit import canonical

    prefix = f"{display_key}: ".encode()
    for line in head.splitlines(keepends=True)[:4]:
        if line.startswith(prefix):
            try:
                value = canonical.load(line, display_key).get(display_key)
            except StoreError:
                return None
            return str(value) if value is not None else None
    return None


def _build_index(root: Path) -> dict[str, str]:
    from entragit.registry import REGISTRY

    listing = _git(root, "ls-tree", "-r", "-z", "HEAD", "--", *[f"{name}/" for name in REGISTRY])
    blobs: list[tuple[str, str, str]] = []  # (blob id, object id, display key)
    for entry in filter(None, listing.split(b"\0")):
        meta, _, path = entry.decode("utf-8").partition("\t")
        folder, _, file_name = path.partition("/")
        if folder in REGISTRY and file_name.endswith(".yaml") and "/" not in file_name:
            blobs.append((meta.split()[2], file_name[: -len(".yaml")], REGISTRY[folder].display_key))
    if not blobs:
        return {}
    out = _git(root, "cat-file", "--batch", stdin="".join(f"{blob}\n" for blob, _, _ in blobs).encode())
    index: dict[str, str] = {}
    position = 0
    for _, object_id, display_key in blobs:
        header_end = out.index(b"\n", position)
        size = int(out[position:header_end].split()[2])
        content = out[header_end + 1 : header_end + 1 + size]
        position = header_end + 1 + size + 1  # the content is followed by a newline
        name = _display_name(content[:2048], display_key)
        if name:
            index[object_id.lower()] = name
    return index


def name_index(root: Path) -> dict[str, str]:
    """id -> display name of every object at HEAD, from the cache when HEAD's tree has not changed."""
    try:
        git_dir_text, top, tree = _git(root, "rev-parse", "--absolute-git-dir", "--show-toplevel",
                                       "HEAD^{tree}").decode().splitlines()
    except GitFailed:
        return {}  # no commit yet: nothing to name
    git_dir = Path(git_dir_text)
    cache_dir = git_dir / "entragit" / "names"
    cached = cache_dir / f"{tree}.json"
    try:
        return dict(json.loads(cached.read_text()))
    except (OSError, ValueError):
        pass
    index = _build_index(Path(top))
    cache_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache_dir.glob("*.json"):
        stale.unlink(missing_ok=True)
    partial = cache_dir / f".{tree}.{os.getpid()}.tmp"
    partial.write_text(json.dumps(index))
    os.replace(partial, cached)
    return index


def annotate(text: str, names: dict[str, str]) -> str:
    """Each line that names known ids, with their display names after it. What git shows goes to a terminal,
    and a name or a hand-edited line may hold control characters (a newline would add a line to the diff):
    they are shown escaped (see printable), and lines end only where the file's newlines are."""
    lines = []
    for line in text.split("\n"):
        body, end = (line[:-1], "\r") if line.endswith("\r") else (line, "")
        found = [] if _ID_LINE.match(body) else [names[i.lower()] for i in _GUID.findall(body) if i.lower() in names]
        lines.append(printable(f"{body}  # {', '.join(found)}" if found else body) + end)
    return "\n".join(lines)


def textconv(path: Path, cwd: Path) -> str:
    """What git shows for a snapshot file; cwd is anywhere in the repository's working tree."""
    # A file that is not UTF-8 (a hand edit gone wrong) is still shown: git diff must not fail over it.
    text = path.read_bytes().decode("utf-8", errors="replace")
    try:
        names = name_index(cwd)
    except (OSError, StoreError, ValueError):
        names = {}  # a broken index must never break git diff: show the file as it is
    return annotate(text, names)
