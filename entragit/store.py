"""The backup repository: canonical files per object, one commit per snapshot, trees at a revision."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import git

from entragit import canonical
from entragit.canonical import Obj
from entragit.config import CONFIG_FILE, Config, load_config
from entragit.errors import StoreError
from entragit.registry import REGISTRY, ObjectType

SNAPSHOT_TRAILER = "Entragit-Snapshot"
# Used only where the machine has no git identity (a fresh CI runner), so a snapshot never fails for it.
_FALLBACK_IDENTITY = {"name": "entragit", "email": "entragit@localhost"}


def object_path(object_type: ObjectType, object_id: str) -> str:
    # Ids are GUIDs for every type so far; refuse anything that could climb out of its folder.
    if not object_id or "/" in object_id or "\\" in object_id or object_id in (".", ".."):
        raise StoreError(f"refusing to store {object_type.singular} with unsafe id {object_id!r}")
    return f"{object_type.name}/{object_id}.yaml"


def split_path(path: str) -> tuple[ObjectType, str] | None:
    """The type and id a repository path stands for, or None for a file that is not an object."""
    folder, _, name = path.partition("/")
    if folder in REGISTRY and name.endswith(".yaml") and "/" not in name:
        return REGISTRY[folder], name[: -len(".yaml")]
    return None


@dataclass(frozen=True)
class Snapshot:
    commit: str
    time: str
    summary: str


@dataclass(frozen=True)
class PathChange:
    status: str  # "A", "M" or "D", as git says
    path: str


class BackupRepo:
    def __init__(self, root: Path) -> None:
        try:
            self.git = git.Repo(root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise StoreError(
                f"{root} is not an entragit backup repository (not a git repository); "
                f"create one with `entragit init {root}`"
            ) from None
        if self.git.working_tree_dir is None:
            raise StoreError(f"{root} is a bare git repository; entragit needs a working tree")
        self.root = Path(self.git.working_tree_dir)
        self.config: Config = load_config(self.root)

    # -- reading -------------------------------------------------------------------------------------

    def resolve(self, rev: str) -> str:
        """The commit a revision names, or a clear error naming the revision."""
        try:
            return str(self.git.commit(rev).hexsha)
        except (git.BadName, ValueError, git.GitCommandError):
            raise StoreError(f"revision {rev!r} does not exist in {self.root}") from None

    def snapshots(self, limit: int | None = None) -> list[Snapshot]:
        """Snapshot commits on the current branch, newest first."""
        if not self.git.head.is_valid():
            return []
        args = ["--format=%H%x1f%cI%x1f%s", f"--grep=^{SNAPSHOT_TRAILER}:", "HEAD"]
        if limit:
            args.insert(0, f"-{limit}")
        out = self.git.git.log(*args)
        return [Snapshot(*line.split("\x1f", 2)) for line in out.splitlines() if line]

    def _read_blob(self, spec: str) -> bytes:
        return bytes(self.git.git.get_object_data(spec)[3])

    def read_object(self, rev: str, object_type: ObjectType, object_id: str) -> Obj | None:
        path = object_path(object_type, object_id)
        try:
            data = self._read_blob(f"{rev}:{path}")
        except ValueError:  # cat-file answers "missing" for a path not in that tree
            return None
        return canonical.load(data, path, rev)

    def read_objects(self, rev: str, object_type: ObjectType, ids: Iterable[str] | None = None) -> dict[str, Obj]:
        """The objects of a type in a commit's tree (only the given ids when there are some)."""
        if ids is not None:
            found = {i: self.read_object(rev, object_type, i) for i in ids}
            return {i: obj for i, obj in found.items() if obj is not None}
        listing = self.git.git.ls_tree("-r", "-z", rev, "--", f"{object_type.name}/")
        objects: dict[str, Obj] = {}
        for entry in filter(None, listing.split("\0")):
            meta, path = entry.split("\t", 1)
            located = split_path(path)
            if located is None:
                continue
            blob = meta.split()[2]
            objects[located[1]] = canonical.load(self._read_blob(blob), path, rev)
        return objects

    def changed_paths(self, rev_a: str, rev_b: str, types: Iterable[ObjectType]) -> list[PathChange]:
        """Object files that differ between two commits, as git lists them (no file is read)."""
        folders = [f"{t.name}/" for t in types]
        out = self.git.git.diff("--name-status", "--no-renames", "-z", rev_a, rev_b, "--", *folders)
        fields = [f for f in out.split("\0") if f]
        return [PathChange(status[0], path) for status, path in zip(fields[::2], fields[1::2])]

    # -- writing -------------------------------------------------------------------------------------

    def _dirty(self, folders: list[str]) -> list[str]:
        out = self.git.git.status("--porcelain", "-z", "--untracked-files=all", "--", *folders)
        return [entry[3:] for entry in out.split("\0") if entry[3:]]

    def commit_snapshot(self, objects: dict[ObjectType, dict[str, Obj]], message: str) -> tuple[str | None, int]:
        """Make the given types' folders hold exactly these objects and commit them.

        Returns the new commit (None when nothing changed) and how many files changed. Files whose bytes
        are already right are not rewritten; if anything fails part-way the folders are put back as
        HEAD had them, so a failed snapshot leaves no trace.
        """
        folders = [f"{t.name}/" for t in objects]
        dirty = self._dirty(folders)
        if dirty:
            raise StoreError(
                f"{self.root} has uncommitted changes in snapshot folders ({', '.join(dirty[:3])}"
                f"{', ...' if len(dirty) > 3 else ''}); commit or discard them before taking a snapshot"
            )
        changed = 0
        try:
            for object_type, by_id in objects.items():
                folder = self.root / object_type.name
                folder.mkdir(exist_ok=True)
                wanted = {object_path(object_type, i).split("/", 1)[1]: canonical.dump(o) for i, o in by_id.items()}
                for existing in os.listdir(folder):
                    if existing.endswith(".yaml") and existing not in wanted:
                        (folder / existing).unlink()
                        changed += 1
                for name, data in wanted.items():
                    target = folder / name
                    try:
                        if target.read_bytes() == data:
                            continue
                    except FileNotFoundError:
                        pass
                    target.write_bytes(data)
                    changed += 1
            if not changed:
                return None, 0
            self.git.git.add("-A", "--", *folders)
            self.git.git.commit("-q", "-m", message, "--", *folders, env=self._identity_env())
        except BaseException:
            self._discard(folders)
            raise
        return str(self.git.head.commit.hexsha), changed

    def _discard(self, folders: list[str]) -> None:
        self.git.git.reset("-q", "HEAD", "--", *folders)
        tracked = [f for f in folders if self.git.git.ls_files("--", f)]
        if tracked:
            self.git.git.checkout("HEAD", "--", *tracked)
        self.git.git.clean("-fdq", "--", *folders)

    def _identity_env(self) -> dict[str, str]:
        reader = self.git.config_reader()
        env: dict[str, str] = {}
        if not reader.has_option("user", "name"):
            env.update(GIT_AUTHOR_NAME=_FALLBACK_IDENTITY["name"], GIT_COMMITTER_NAME=_FALLBACK_IDENTITY["name"])
        if not reader.has_option("user", "email"):
            env.update(GIT_AUTHOR_EMAIL=_FALLBACK_IDENTITY["email"], GIT_COMMITTER_EMAIL=_FALLBACK_IDENTITY["email"])
        return env


def init_repo(root: Path, config: Config) -> BackupRepo:
    """Create a backup repository: git init, entragit.yaml, first commit."""
    from ruamel.yaml import YAML

    config_path = root / CONFIG_FILE
    if config_path.exists():
        raise StoreError(f"{config_path} already exists; {root} is already an entragit backup repository")
    root.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(root)
    yaml = YAML()
    yaml.default_flow_style = False
    with config_path.open("w") as handle:
        handle.write("# entragit backup repository. Secrets never go here: the client secret is read from\n"
                     "# AZURE_CLIENT_SECRET (or from the simulator's info file).\n")
        yaml.dump(config.to_yaml_dict(), handle)
    repo.git.add("--", CONFIG_FILE)
    backup = BackupRepo(root)
    repo.git.commit("-q", "-m", "Start entragit backup repository", env=backup._identity_env())
    return backup
