"""Benchmark: difference reports on a large backup repository, against git's own listing of the change.

    python tests/bench/bench_diff.py                 # 100,000 users, 20,000 groups
    python tests/bench/bench_diff.py --users 20000   # a quicker run

Builds the repository without Graph: canonical files (entragit's own YAML, checked by a round trip on a
sample) written straight into git with fast-import, then three commits on top of the same base, changing
10, 500 and every user's file. For each pair it prints the time `git diff --name-only` takes to list the
changed paths, the time to build the report (no cache; median of 3 runs below 10,000 changes), the ratio of the two, the time to render it as
JSON, and the time of a second report on the same pair (served from the cache).
Targets (issue 5): 500 changes within 3x the git listing, 10 changes under 1 s, 100,000 changes under
60 s, a cached report near-instant.

The runs so far, with the code each ran on, are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from entragit import canonical  # noqa: E402
from entragit.config import Config  # noqa: E402
from entragit.diff.build import diff_revisions  # noqa: E402
from entragit.diffcache import DiffCache  # noqa: E402
from entragit.registry import get_type  # noqa: E402
from entragit.report import json_report  # noqa: E402
from entragit.selection import Selection  # noqa: E402
from entragit.store import BackupRepo, init_repo  # noqa: E402

USERS, GROUPS = get_type("users"), get_type("groups")
DEPARTMENTS = ["Sales", "Marketing", "Engineering", "Finance", "HR", "Support", "Operations", "Legal"]
TITLES = ["Engineer", "Account Executive", "Analyst", "Manager", "Specialist", "Director"]
CITIES = ["Seattle", "London", "Berlin", "Sydney", "Toronto", "Tokyo"]


class Tenant:
    """Users and groups as canonical files, made from one template each (dumping 120k objects through
    ruamel.yaml would take minutes; filling a template made by the same dumper takes seconds)."""

    def __init__(self, users: int, groups: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.user_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(users)]
        self.group_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(groups)]
        self.members = [sorted(rng.sample(self.user_ids, 8)) for _ in range(groups)]
        self.user_template = canonical.dump(canonical.canonical(USERS, {
            "id": "ZZID", "displayName": "ZZNAME", "accountEnabled": True, "businessPhones": ["+ZZPHONE"],
            "city": "ZZCITY", "companyName": "Contoso", "country": "US", "department": "ZZDEPT",
            "givenName": "ZZGIVEN", "jobTitle": "ZZTITLE", "mail": "ZZMAIL", "mailNickname": "ZZNICK",
            "onPremisesExtensionAttributes": {"extensionAttribute1": "ZZEMP", "extensionAttribute3": "ZZLEVEL"},
            "preferredLanguage": "en-US", "surname": "ZZSURNAME", "usageLocation": "US",
            "userPrincipalName": "ZZMAIL", "userType": "Member"}, {"manager": "ZZMANAGER"})).decode()
        self.group_template = canonical.dump(canonical.canonical(GROUPS, {
            "id": "ZZID", "displayName": "ZZNAME", "description": "ZZDESC", "groupTypes": [],
            "mailEnabled": False, "mailNickname": "ZZNICK", "securityEnabled": True},
            {"members": ["ZZMEMBERS"]})).decode()

    def user(self, n: int, title: str | None = None, department: str | None = None, level: str | None = None) -> bytes:
        values = {
            "ZZID": self.user_ids[n], "ZZNAME": f"User {n:06}", "ZZPHONE": f"1 555 {n % 10000:04}",
            "ZZCITY": CITIES[n % len(CITIES)], "ZZDEPT": department or DEPARTMENTS[n % len(DEPARTMENTS)],
            "ZZGIVEN": f"Given{n}", "ZZTITLE": title or TITLES[n % len(TITLES)], "ZZMAIL": f"user{n}@contoso.com",
            "ZZNICK": f"user{n}", "ZZEMP": f"EMP{n:06}", "ZZLEVEL": level or f"L{n % 9}",
            "ZZSURNAME": f"Surname{n}", "ZZMANAGER": self.user_ids[n // 10],
        }
        text = self.user_template
        for key in sorted(values, key=len, reverse=True):
            text = text.replace(key, values[key])
        return text.encode()

    def group(self, n: int, members: list[str] | None = None) -> bytes:
        listed = "".join(f"- {m}\n" for m in (members if members is not None else self.members[n]))
        text = self.group_template.replace("- ZZMEMBERS\n", listed)
        for key, value in (("ZZID", self.group_ids[n]), ("ZZNAME", f"Group {n:05}"),
                           ("ZZDESC", f"Team number {n}"), ("ZZNICK", f"group{n}")):
            text = text.replace(key, value)
        return text.encode()


def _check_canonical(tenant: Tenant) -> None:
    """The template-made files are what entragit itself would write."""
    for n in random.Random(1).sample(range(len(tenant.user_ids)), 200):
        data = tenant.user(n, title="Lead Engineer", department=None)
        assert canonical.dump(canonical.load(data, "users")) == data, data
    for n in range(50):
        data = tenant.group(n)
        assert canonical.dump(canonical.load(data, "groups")) == data, data


def _fast_import(root: Path, tenant: Tenant, change_sets: dict[str, dict[str, bytes]]) -> dict[str, str]:
    """Base commit with every file, then one commit per change set on top of it; returns name -> commit."""
    process = subprocess.Popen(["git", "fast-import", "--quiet", "--export-marks=marks"], cwd=root,
                               stdin=subprocess.PIPE)
    assert process.stdin is not None
    out = process.stdin
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                          check=True).stdout.strip()
    mark = 0

    def blob(data: bytes) -> int:
        nonlocal mark
        mark += 1
        out.write(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
        return mark

    def commit(branch: str, parent: str, message: str, files: dict[str, bytes], when: int) -> int:
        nonlocal mark
        marks = {path: blob(data) for path, data in files.items()}
        mark += 1
        text = f"{message}\n\nEntragit-Snapshot: bench\n".encode()
        out.write(b"commit refs/heads/%s\nmark :%d\ncommitter bench <bench@localhost> %d +0000\ndata %d\n%s"
                  % (branch.encode(), mark, when, len(text), text))
        out.write(b"from %s\n" % parent.encode())
        for path, blob_mark in marks.items():
            out.write(b"M 100644 :%d %s\n" % (blob_mark, path.encode()))
        out.write(b"\n")
        return mark

    base_files = {f"users/{uid}.yaml": tenant.user(n) for n, uid in enumerate(tenant.user_ids)}
    base_files.update({f"groups/{gid}.yaml": tenant.group(n) for n, gid in enumerate(tenant.group_ids)})
    now = int(time.time())
    base = commit("bench-base", head, "Snapshot: base", base_files, now - 86400)
    commit_marks = {"base": base}
    for name, files in change_sets.items():
        commit_marks[name] = commit(f"bench-{name}", f":{base}", f"Snapshot: {name}", files, now)
    out.close()
    if process.wait() != 0:
        raise SystemExit("git fast-import failed")
    marks = dict(line.split() for line in (root / "marks").read_text().splitlines())
    (root / "marks").unlink()
    return {name: marks[f":{m}"] for name, m in commit_marks.items()}


def _change_sets(tenant: Tenant) -> dict[str, dict[str, bytes]]:
    users = len(tenant.user_ids)
    rng = random.Random(3)
    small = {f"users/{tenant.user_ids[n]}.yaml": tenant.user(n, title="Head of Vibes") for n in rng.sample(range(users), 10)}
    mixed: dict[str, bytes] = {}
    picked = rng.sample(range(users), 450)
    for n in picked[:400]:  # the bulk-script incident: titles and a department rewritten
        mixed[f"users/{tenant.user_ids[n]}.yaml"] = tenant.user(n, title="Contractor", department="Sales Ops")
    for n in picked[400:]:
        mixed[f"users/{tenant.user_ids[n]}.yaml"] = tenant.user(n, level="L99")
    for n in rng.sample(range(len(tenant.group_ids)), 50):
        members = tenant.members[n][1:] + [tenant.user_ids[rng.randrange(users)]]
        mixed[f"groups/{tenant.group_ids[n]}.yaml"] = tenant.group(n, sorted(set(members)))
    everyone = {f"users/{uid}.yaml": tenant.user(n, title=f"{TITLES[n % len(TITLES)]} II")
                for n, uid in enumerate(tenant.user_ids)}
    return {"10": small, "500": mixed, str(users): everyone}


def _git_listing(root: Path, a: str, b: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(["git", "diff", "--name-only", a, b], cwd=root, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=20_000)
    parser.add_argument("--dir", type=Path, help="Where to build the repository (default: a temporary folder).")
    args = parser.parse_args()

    root = (args.dir or Path(tempfile.mkdtemp(prefix="entragit-bench-diff-"))) / "backup"
    started = time.perf_counter()
    tenant = Tenant(args.users, args.groups)
    change_sets = _change_sets(tenant)
    if (root / ".git").exists():  # built by an earlier run with the same sizes: measure again
        repo = BackupRepo(root)
        commits = {name: repo.resolve(f"bench-{name}") for name in ["base", *change_sets]}
    else:
        init_repo(root, Config(tenant_id="00000000-0000-0000-0000-000000000001", client_id="bench"))
        _check_canonical(tenant)
        commits = _fast_import(root, tenant, change_sets)
        repo = BackupRepo(root)
    print(f"{root}: {args.users} users, {args.groups} groups, {len(change_sets)} change sets, ready "
          f"in {time.perf_counter() - started:.1f} s", flush=True)

    rows = []
    for name in change_sets:
        base, changed = commits["base"], commits[name]
        listing = _git_listing(root, base, changed)
        builds = []
        for _ in range(3 if len(change_sets[name]) < 10_000 else 1):  # the median, as for git's listing
            started = time.perf_counter()
            report = diff_revisions(repo, base, changed)
            builds.append(time.perf_counter() - started)
        build = statistics.median(builds)
        started = time.perf_counter()
        json_report.render(report)
        render = time.perf_counter() - started
        cache = DiffCache(repo)
        for stale in cache.folder.glob("*.json"):
            stale.unlink()
        cache.report(base, changed, Selection(), lambda: report)  # store it
        started = time.perf_counter()
        cached = cache.report(base, changed, Selection(), lambda: diff_revisions(repo, base, changed))
        second = time.perf_counter() - started
        assert len(cached.changes) == len(report.changes) == len(change_sets[name])
        rows.append({"changed_objects": len(report.changes), "git_name_only_s": round(listing, 3),
                     "report_build_s": round(build, 3), "ratio_to_git": round(build / listing, 1),
                     "json_render_s": round(render, 3), "cached_second_report_s": round(second, 3)})
        print(json.dumps(rows[-1]), flush=True)

    print()
    print(f"{'changed':>8} {'git listing':>12} {'report':>9} {'ratio':>6} {'json':>7} {'cached':>8}")
    for row in rows:
        print(f"{row['changed_objects']:>8} {row['git_name_only_s']:>11.3f}s {row['report_build_s']:>8.3f}s "
              f"{row['ratio_to_git']:>5.1f}x {row['json_render_s']:>6.2f}s {row['cached_second_report_s']:>7.3f}s")


if __name__ == "__main__":
    main()
