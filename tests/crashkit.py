"""Kill an entragit command inside a chosen git step: a `git` stand-in first on PATH runs the real git
and, at the chosen call, SIGKILLs its parent (the entragit process) before or after git finishes, or kills
git itself while it holds its ref locks. Used by tests/test_crash_recovery.py and
tests/bench/crash_campaign.py; nothing in entragit knows about it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# The subcommand is the first argument that is not an option (nor the value of -c). Each call of the
# chosen one takes the next number by mkdir, which succeeds for one caller only, so calls from several
# threads count right. "before": git runs in the stand-in's place (same pid, as entragit started it) and
# the kill comes after DELAY seconds (git usually still running; it then ends on its own, orphaned). "after": the kill comes once git has
# finished. "hold": git runs with a reference-transaction hook that kills both as soon as git holds its
# locks (only update-ref and other ref writers reach it). "stop": entragit is stopped (SIGSTOP), not
# killed, once git has finished: a live process holding what it holds. "orphan": entragit is killed
# before git starts, so git (fast-import) begins with its entragit dead; once git has ended, a watcher
# lists what it left in its git directory into $CRASH_DIR/left.
_STAND_IN = r"""#!/bin/sh
sub=
prev=
for a in "$@"; do
  if [ "$prev" = "-c" ]; then prev=; continue; fi
  case "$a" in -c) prev=-c;; -*) ;; *) sub=$a; break;; esac
done
if [ "$sub" != "$CRASH_GIT_STEP" ]; then exec "$CRASH_REAL_GIT" "$@"; fi
n=1
while ! mkdir "$CRASH_DIR/call.$n" 2>/dev/null; do n=$((n + 1)); done
if [ "$n" != "$CRASH_GIT_NTH" ]; then exec "$CRASH_REAL_GIT" "$@"; fi
victim=$PPID
echo "$sub $n $CRASH_MODE" > "$CRASH_DIR/fired"
case "$CRASH_MODE" in
  before)
    (sleep "$CRASH_DELAY"; kill -9 "$victim") &
    exec "$CRASH_REAL_GIT" "$@"
    ;;
  after)
    "$CRASH_REAL_GIT" "$@"
    status=$?
    kill -9 "$victim"
    exit $status
    ;;
  hold)
    CRASH_VICTIM=$victim "$CRASH_REAL_GIT" -c core.hooksPath="$CRASH_DIR/hooks" "$@"
    ;;
  orphan)
    kill -9 "$victim"
    me=$$
    (while [ -e "/proc/$me" ] && [ "$(cut -d' ' -f3 "/proc/$me/stat" 2>/dev/null)" != Z ]; do sleep 0.01; done
     ls -a "$("$CRASH_REAL_GIT" rev-parse --absolute-git-dir)" > "$CRASH_DIR/left") &
    exec "$CRASH_REAL_GIT" "$@"
    ;;
  stop)
    "$CRASH_REAL_GIT" "$@"
    status=$?
    kill -STOP "$victim"
    exit $status
    ;;
esac
"""

_HOOK = r"""#!/bin/sh
if [ "$1" = prepared ]; then kill -9 "$CRASH_VICTIM" "$PPID"; fi
cat >/dev/null
"""


@dataclass(frozen=True)
class Kill:
    step: str
    """The git subcommand to kill in (update-ref, checkout-index, commit-tree...)."""
    nth: int = 1
    mode: str = "after"
    """"before", "after", "hold", "stop" or "orphan" (see _STAND_IN)."""
    delay: float = 0.0


def stand_in(folder: Path) -> Path:
    """A folder holding the `git` stand-in and the hook it uses; put it first on PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "git").write_text(_STAND_IN)
    (folder / "hooks").mkdir(exist_ok=True)
    (folder / "hooks" / "reference-transaction").write_text(_HOOK)
    for script in (folder / "git", folder / "hooks" / "reference-transaction"):
        script.chmod(0o755)
    return folder


def command(args: list[str], kill: Kill | None = None, work: Path | None = None) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of `python -m entragit ARGS`, killed as `kill` says (work: a
    scratch folder for the stand-in)."""
    env = dict(os.environ)
    if kill is not None:
        assert work is not None
        shutil.rmtree(work, ignore_errors=True)
        stand_in(work)
        env.update(PATH=f"{work}{os.pathsep}{env['PATH']}", CRASH_REAL_GIT=shutil.which("git") or "git",
                   CRASH_DIR=str(work), CRASH_GIT_STEP=kill.step, CRASH_GIT_NTH=str(kill.nth),
                   CRASH_MODE=kill.mode, CRASH_DELAY=f"{kill.delay:.4f}")
    return [sys.executable, "-m", "entragit", *args], env


def entragit(args: list[str], kill: Kill | None = None, work: Path | None = None, timeout: float = 300,
             started: Callable[[int], None] = lambda pid: None) -> subprocess.CompletedProcess[str]:
    """Run entragit as command() says and wait for it; `started` learns its process id as soon as it runs."""
    argv, env = command(args, kill, work)
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started(process.pid)
    out, err = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def fired(work: Path) -> bool:
    """Whether the stand-in reached the chosen call (a command may end before making it)."""
    return (work / "fired").exists()


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()


def fsck_clean(root: Path) -> bool:
    return subprocess.run(["git", "fsck", "--no-dangling", "--no-progress"], cwd=root, capture_output=True,
                          check=False).returncode == 0
