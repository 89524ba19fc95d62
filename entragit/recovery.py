"""Who holds what in a backup repository, so that a run killed at any moment can be told apart from a
running one, and what it left can be taken back by the next run without a hand.

Before an entragit process makes a file the repository must not keep (a lock, a prepared index, the
folder a first snapshot writes beside the working tree) or moves a branch, it writes a claim: a small
record under .git/entragit/running/ naming the process (pid, host, and when it started, so a reused
pid is not mistaken for it), what it holds, and which branch it is moving from which commit to which.
A claim whose process is gone is what the next run settles; a live process's claim is left alone, and
so is anything no claim names (a user's own git command's lock).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Any

# Every process an entragit run starts (git, tar) carries this in its environment: a git command still
# running after its entragit was killed still holds its locks, and is found by it.
RUN_VARIABLE = "ENTRAGIT_RUN"
_LOCK_MARKER = "entragit-lock "
_numbers = itertools.count()


def claims_dir(git_dir: Path) -> Path:
    return git_dir / "entragit" / "running"


def _process_start(pid: int) -> str | None:
    """When a process started, as the kernel counts it (boot id and clock ticks); None where there is no
    /proc, or no such process. A pid reused by another process gets another start."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return f"{boot}:{fields[19]}"


def _running(pid: int) -> bool:
    """Whether a process exists and has not exited (a killed child not yet waited for is a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True  # no /proc to ask: the process exists


@dataclasses.dataclass(frozen=True)
class Moving:
    """A branch an entragit process is moving: the working tree follows it when it is the current one."""

    ref: str
    old: str | None
    new: str
    locks: tuple[str, ...]
    """The lock files git update-ref makes for it (relative to the git directory)."""
    follows: bool


@dataclasses.dataclass(frozen=True)
class Owner:
    pid: int
    host: str
    started: str | None
    token: str

    def alive(self) -> bool:
        if self.host != socket.gethostname():
            return True  # another machine's process (a repository on a shared disk): it cannot be asked
        if not _running(self.pid):
            return False
        return self.started is None or _process_start(self.pid) in (None, self.started)

    def describe(self) -> str:
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"entragit process {self.pid}{where}"


_tokens: dict[int, str] = {}


def run_env() -> dict[str, str]:
    """The environment marker of this process's children (see RUN_VARIABLE); a forked child gets its own."""
    pid = os.getpid()
    if pid not in _tokens:
        _tokens[pid] = f"{pid}-{secrets.token_hex(6)}"
    return {RUN_VARIABLE: _tokens[pid]}


class Claim:
    """This process's record of what it holds in a repository; see the module's docstring. Paths are
    relative to the git directory."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        token = run_env()[RUN_VARIABLE]
        self.owner = Owner(os.getpid(), socket.gethostname(), _process_start(os.getpid()), token)
        self.path = claims_dir(git_dir) / f"{token}-{next(_numbers)}.json"
        self.holds: list[str] = []
        self.moving: Moving | None = None
        self._lock = threading.Lock()  # a snapshot's threads add what they hold as they make it
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write()

    @property
    def lock_marker(self) -> bytes:
        """What a lock file entragit takes holds, so that it is known as this process's whoever finds it."""
        return f"{_LOCK_MARKER}{self.owner.token}\n".encode()

    def _write(self) -> None:
        record = {"pid": self.owner.pid, "host": self.owner.host, "started": self.owner.started,
                  "token": self.owner.token, "holds": self.holds,
                  "moving": None if self.moving is None else dataclasses.asdict(self.moving)}
        # Written beside and renamed: a kill while writing leaves the previous record whole.
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(record))
        temporary.replace(self.path)

    def hold(self, *paths: str) -> None:
        with self._lock:
            self.holds += [p for p in paths if p not in self.holds]
            self._write()

    def move(self, moving: Moving | None) -> None:
        """Record the branch about to move (before git moves it), or that it has moved and all followed."""
        with self._lock:
            self.moving = moving
            self._write()

    def close(self) -> None:
        """Nothing is held any more. A branch whose working tree has not followed keeps its record: the
        next run brings the working tree in line."""
        if self.moving is not None and self.moving.follows:
            return
        self.path.unlink(missing_ok=True)


@dataclasses.dataclass(frozen=True)
class DeadClaim:
    """A claim whose process is gone: what it held is for the next run to settle."""

    path: Path
    owner: Owner
    holds: list[str]
    moving: Moving | None


def read_claims(git_dir: Path) -> tuple[list[DeadClaim], list[Owner]]:
    """The claims of processes that are gone, and the owners of those that still run (this one aside)."""
    dead: list[DeadClaim] = []
    live: list[Owner] = []
    folder = claims_dir(git_dir)
    if not folder.is_dir():
        return dead, live
    for path in sorted(folder.glob("*.json")):
        try:
            record: dict[str, Any] = json.loads(path.read_text())
            owner = Owner(int(record["pid"]), str(record["host"]), record.get("started"), str(record["token"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a record this version wrote: never guessed at
        if owner.pid == os.getpid() and owner.host == socket.gethostname():
            continue
        if owner.alive():
            live.append(owner)
            continue
        moving = record.get("moving")
        dead.append(DeadClaim(path, owner, [str(p) for p in record.get("holds") or []],
                              None if not moving else Moving(moving["ref"], moving["old"], moving["new"],
                                                             tuple(moving["locks"]), bool(moving["follows"]))))
    return dead, live


def lock_owner(lock: Path) -> str | None:
    """The token of the entragit process that took a lock file, or None for one entragit did not take."""
    try:
        with lock.open("rb") as handle:
            head = handle.read(len(_LOCK_MARKER) + 64)
    except OSError:
        return None
    text = head.decode(errors="replace")
    return text[len(_LOCK_MARKER):].strip() if text.startswith(_LOCK_MARKER) else None


_STARTED = time.time()


def started_before(path: Path) -> bool:
    """Whether a file was last changed before this process started: a lock a git command takes right now
    (a user's commit) is never taken for a dead run's leftover."""
    try:
        return path.stat().st_mtime < _STARTED
    except FileNotFoundError:
        return False


def still_running(token: str) -> list[int]:
    """Processes an entragit run started that are still running (its git commands outlive it when it
    alone is killed); none where there is no /proc to look in."""
    wanted = f"{RUN_VARIABLE}={token}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if wanted in environ.split(b"\0") and _running(int(entry.name)):
            found.append(int(entry.name))
    return found


def wait_for_children(token: str, patience: float = 10.0) -> list[int]:
    """Wait a moment for what a dead run started to end; the processes that still run after that."""
    deadline = time.monotonic() + patience
    while (left := still_running(token)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
