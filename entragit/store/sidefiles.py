"""What entragit keeps beside the snapshots in the git directory (.git/entragit/), never committed: where
each type's incremental read goes on, and every object's links at a commit."""

from __future__ import annotations

import json
from pathlib import Path

import git

from entragit.registry import ObjectType


class SideFiles:
    def __init__(self, repo: git.Repo) -> None:
        self._git = repo
        self._folder = Path(repo.git_dir) / "entragit"

    def _delta_file(self, object_type: ObjectType) -> Path:
        return self._folder / "delta" / f"{object_type.name}.json"

    def delta_state(self, object_type: ObjectType) -> dict[str, str] | None:
        try:
            state = json.loads(self._delta_file(object_type).read_text())
        except (FileNotFoundError, ValueError):
            return None
        return state if isinstance(state, dict) else None

    def save_delta_state(self, object_type: ObjectType, link: str, commit: str, signature: str) -> None:
        """Where the next incremental read of a type starts, and which commit holds the state it continues."""
        path = self._delta_file(object_type)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"link": link, "commit": commit, "signature": signature}))
        temporary.replace(path)

    def _links_file(self, object_type: ObjectType, relationship: str) -> Path:
        return self._folder / "links" / f"{object_type.name}.{relationship}.links"

    def links_at(self, commit: str, object_type: ObjectType, relationship: str) -> dict[str, list[str]] | None:
        """Every object's links under one relationship at a commit (a full id), when a snapshot left them
        for a commit whose files of that type are the same; None otherwise (only the files know)."""
        try:
            with self._links_file(object_type, relationship).open() as kept:
                if not self._kept_for(kept.readline().strip(), commit, object_type):
                    return None
                found = json.loads(kept.read())
        except (FileNotFoundError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def links_kept(self, commit: str, object_type: ObjectType, relationship: str) -> bool:
        """Whether links_at would find them, without reading them (20k groups' members are 30 MB)."""
        try:
            with self._links_file(object_type, relationship).open() as kept:
                return self._kept_for(kept.readline().strip(), commit, object_type)
        except FileNotFoundError:
            return False

    def _kept_for(self, kept: str, commit: str, object_type: ObjectType) -> bool:
        return kept == commit or self._same_folder(kept, commit, object_type)

    def _same_folder(self, commit_a: str, commit_b: str, object_type: ObjectType) -> bool:
        """Whether two commits hold the same files of a type: git names a folder by its contents."""
        try:
            trees = self._git.git.rev_parse(f"{commit_a}:{object_type.name}", f"{commit_b}:{object_type.name}")
        except git.GitCommandError:
            return False  # a commit without that folder, or one no longer in the repository
        first, _, second = str(trees).partition("\n")
        return first == second

    def save_links(self, commit: str, object_type: ObjectType, relationship: str, encoded: str) -> None:
        """Keep every object's links under a relationship, as encode_links made them, for this commit: the
        commit on a line of its own, so that whether they are the ones wanted is known without parsing them."""
        path = self._links_file(object_type, relationship)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.tmp")
        temporary.write_text(f"{commit}\n{encoded}")
        temporary.replace(path)


def encode_links(links: dict[str, list[str]]) -> str:
    """A links index as save_links keeps it. For 20k groups' members that is ~30 MB of JSON, made while
    other types are still being read rather than after the commit, which alone knows its own id."""
    return json.dumps(links)
