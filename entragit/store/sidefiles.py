"""What entragit keeps beside the snapshots in the git directory (.git/entragit/), never committed: where
each type's incremental read goes on, and every object's links and sub-collection digests at a commit."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

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

    def _kept_file(self, kind: str, object_type: ObjectType, name: str) -> Path:
        return self._folder / kind / f"{object_type.name}.{name}.{kind}"

    def links_at(self, commit: str, object_type: ObjectType, relationship: str) -> dict[str, list[str]] | None:
        """Every object's links under one relationship at a commit (a full id), when a snapshot left them
        for a commit whose files of that type are the same; None otherwise (only the files know)."""
        return self._kept_at("links", commit, object_type, relationship)

    def links_kept(self, commit: str, object_type: ObjectType, relationship: str) -> bool:
        """Whether links_at would find them, without reading them (20k groups' members are 30 MB)."""
        try:
            with self._kept_file("links", object_type, relationship).open() as kept:
                return self._kept_for(kept.readline().strip(), commit, object_type)
        except FileNotFoundError:
            return False

    def save_links(self, commit: str, object_type: ObjectType, relationship: str, encoded: str) -> None:
        """Keep every object's links under a relationship, as encode_links made them, for this commit."""
        self._save_kept("links", commit, object_type, relationship, encoded)

    def item_digests_at(self, commit: str, object_type: ObjectType) -> dict[str, str] | None:
        """Object id -> a digest of the items its files hold in the sub-collections delta does not report
        on, at a commit (a full id), as items_digest made it; None where no snapshot left them for files of
        the type that are the same. An incremental snapshot reads only the files whose items moved."""
        return self._kept_at("digests", commit, object_type, "items")

    def save_item_digests(self, commit: str, object_type: ObjectType, digests: dict[str, str]) -> None:
        self._save_kept("digests", commit, object_type, "items", json.dumps(digests))

    def _kept_at(self, kind: str, commit: str, object_type: ObjectType, name: str) -> dict[str, Any] | None:
        try:
            with self._kept_file(kind, object_type, name).open() as kept:
                if not self._kept_for(kept.readline().strip(), commit, object_type):
                    return None
                found = json.loads(kept.read())
        except (FileNotFoundError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def _save_kept(self, kind: str, commit: str, object_type: ObjectType, name: str, encoded: str) -> None:
        # The commit on a line of its own, so that whether the rest is the one wanted is known without
        # parsing it.
        path = self._kept_file(kind, object_type, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.tmp")
        temporary.write_text(f"{commit}\n{encoded}")
        temporary.replace(path)

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


def encode_links(links: dict[str, list[str]]) -> str:
    """A links index as save_links keeps it. For 20k groups' members that is ~30 MB of JSON, made while
    other types are still being read rather than after the commit, which alone knows its own id."""
    return json.dumps(links)


def items_digest(items: dict[str, list[Any]]) -> str:
    """One object's sub-collections (property -> items as kept) as the digest item_digests_at holds."""
    return hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()
