"""`import-native`: history before the first snapshot, from Microsoft Entra Backup and Recovery's own daily
backups.

Entra keeps a backup of the tenant each day for five to seven days
(learn.microsoft.com/graph/api/resources/entrarecoveryservices-backup-recovery-overview). It does not hand
a backup out whole: a preview job compares one with the tenant now, and its getChanges lists the objects
that differ with the backup's values of the properties that differ
(learn.microsoft.com/graph/api/entrarecoveryservices-recoverypreviewjob-getchanges). So each backup's
state is the newest snapshot with those values put back: objects made since are taken out, objects
deleted since (still in the recycle bin) are made of what the service gives, and group memberships are
set back. The service brings back a fixed set of types and properties
(learn.microsoft.com/entra/backup/scope-supported-objects-limitations): every other property keeps the
newest snapshot's value, and each commit's trailers say what it covers.

Only a signed-in person with the Entra Backup Administrator role may start a preview job, and only one
job runs in a tenant at a time (entrarecoveryservices-snapshot-post-recoverypreviewjobs): the jobs run
one after the other, oldest backup first, each waited for until it is done. What this relies on of the
service is graph-behaviour §12.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entragit import canonical
from entragit.canonical import Obj
from entragit.errors import AuthError, EntragitError, GraphError, StoreError
from entragit.graph import GraphClient
from entragit.permissions import check_tenant, sign_in, token_claims
from entragit.registry import REGISTRY, ObjectType, resolve_types
from entragit.store import BackupRepo, object_path
from entragit.store.plumbing.commands import folder_tree, mktree, stdin, tree_entries

# The delegated permissions the person grants: reading backups and changes, starting preview jobs, and
# reading the recycle bin, where an object deleted since a backup still is.
PERMISSIONS = ("EntraBackup.Read.All", "EntraBackup.ReadWrite.Preview", "Directory.Read.All")
DEFAULT_BRANCH = "entragit/native"
RECOVERY = "directory/recovery"
CHANGES = "microsoft.graph.entraRecoveryServices.getChanges"
# loadingData and calculating follow unknownFutureValue in recoveryStatus: without this header Graph hides
# them (learn.microsoft.com/graph/best-practices-concept#handling-future-members-in-evolvable-enumerations).
PREFER = {"Prefer": "include-unknown-enum-members"}
FINISHED = frozenset({"successful", "failed", "abandoned"})
# A job takes an hour or more (the overview page): asking every half minute is often enough.
POLL_SECONDS = 30.0
POINT_TRAILER = "Entragit-Native-Point"
BASE_TRAILER = "Entragit-Native-Base"
COVERS_TRAILER = "Entragit-Native-Covers"
# The commits record backups Microsoft took; whoever ran the import is not their author.
AUTHOR = {"name": "Microsoft Entra Backup and Recovery", "email": "entragit@localhost"}
NOT_A_PERSON = ("import-native needs a person signed in: Microsoft lets only a signed-in person holding the "
                "Entra Backup Administrator role start the preview jobs it reads, never an app (app-only "
                "sign-in is refused)")


@dataclass(frozen=True)
class Coverage:
    """What the service brings back of one type: its properties in Graph's names (all of them when
    None), and whether its member links."""

    type_name: str
    properties: tuple[str, ...] | None
    members: bool = False


# resourceTypeName -> coverage, from learn.microsoft.com/entra/backup/scope-supported-objects-limitations
# (the page names directory attributes; these are their Graph properties).
COVERAGE: dict[str, Coverage] = {
    "user": Coverage("users", (
        "accountEnabled", "ageGroup", "businessPhones", "city", "companyName", "consentProvidedForMinor", "country",
        "department", "displayName", "employeeHireDate", "employeeId", "employeeLeaveDateTime", "employeeOrgData",
        "employeeType", "faxNumber", "givenName", "jobTitle", "mail", "mailNickname", "mobilePhone",
        "officeLocation", "otherMails", "passwordPolicies", "postalCode", "preferredDataLocation",
        "preferredLanguage", "state", "streetAddress", "surname", "usageLocation", "userPrincipalName", "userType")),
    "group": Coverage("groups", (
        "classification", "description", "displayName", "groupTypes", "mail", "mailEnabled", "mailNickname",
        "preferredDataLocation", "preferredLanguage", "securityEnabled", "theme", "visibility"), members=True),
    "conditionalAccessPolicy": Coverage("conditionalAccessPolicies", None),
    "namedLocationPolicy": Coverage("namedLocations", None),
    "authorizationPolicy": Coverage("authorizationPolicy", ("blockMsolPowerShell", "guestUserRoleId")),
    "application": Coverage("applications", (
        "addIns", "description", "displayName", "groupMembershipClaims", "identifierUris", "info",
        "isDeviceOnlyAuthSupported", "isFallbackPublicClient", "nativeAuthenticationApisEnabled", "notes",
        "optionalClaims", "publisherDomain", "requiredResourceAccess", "serviceManagementReference",
        "servicePrincipalLockConfiguration", "signInAudience", "tags")),
    "servicePrincipal": Coverage("servicePrincipals", (
        "accountEnabled", "alternativeNames", "appRoleAssignmentRequired", "description", "loginUrl", "notes",
        "notificationEmailAddresses", "preferredSingleSignOnMode", "preferredTokenSigningKeyThumbprint",
        "samlSingleSignOnSettings", "servicePrincipalNames", "servicePrincipalType", "tags")),
}


@dataclass(frozen=True)
class NativePoint:
    id: str
    time: str  # ISO 8601, as Graph gives createdDateTime


@dataclass(frozen=True)
class Imported:
    point: NativePoint
    commit: str
    changes: int
    skipped: int  # changes of types the repository does not keep


@dataclass(frozen=True)
class Progress:
    """What import_native says while it works: a point's job moved on, or a point was written."""

    point: NativePoint
    status: str


def require_person(client: GraphClient) -> None:
    """Refuse an app-only sign-in before anything is asked of the service: a delegated token names its
    scopes (scp); an app's names roles."""
    claims = token_claims(client.access_token())
    if "scp" not in claims or claims.get("idtyp") == "app":
        raise AuthError(NOT_A_PERSON)


def covers_trailers() -> list[str]:
    """One trailer per type: what a native point's commit holds at the point's values."""
    lines = []
    for coverage in COVERAGE.values():
        if coverage.type_name not in REGISTRY:
            continue
        what = "all properties" if coverage.properties is None else ", ".join(coverage.properties)
        lines.append(f"{COVERS_TRAILER}: {coverage.type_name}: {what}{'; members' if coverage.members else ''}")
    return lines


def list_points(client: GraphClient) -> list[NativePoint]:
    """The tenant's native backups, oldest first."""
    found = [NativePoint(str(item["id"]), str(item["createdDateTime"]))
             for item in client.iter_collection(f"{RECOVERY}/snapshots")]
    return sorted(found, key=lambda point: point.time)


def _jobs_path(point: NativePoint) -> str:
    return f"{RECOVERY}/snapshots/{point.id}/recoveryPreviewJobs"


def _running(client: GraphClient) -> bool:
    return any(job.get("status") not in FINISHED
               for job in client.iter_collection(f"{RECOVERY}/jobs", headers=PREFER))


def _start(client: GraphClient, point: NativePoint, wait: Callable[[], None]) -> str:
    """Start the point's preview job once no other job runs, and say its id. The answer carries only a
    Location header, so the new job is told from those listed before."""
    while True:
        while _running(client):
            wait()
        before = {str(job["id"]) for job in client.iter_collection(_jobs_path(point), headers=PREFER)}
        try:
            client.request("POST", _jobs_path(point), json={})
        except GraphError as exc:
            if exc.status == 409:  # another job began meanwhile (the portal's): one at a time
                wait()
                continue
            if exc.status == 403:
                raise AuthError(f"Graph refused to start a preview job: the signed-in person needs the Entra "
                                f"Backup Administrator role and the {PERMISSIONS[1]} permission ({exc})") from None
            raise
        after = [str(job["id"]) for job in client.iter_collection(_jobs_path(point), headers=PREFER)]
        new = [job for job in after if job not in before]
        if len(new) != 1:
            raise EntragitError(f"cannot tell which preview job of backup {point.time} was just started")
        return new[0]


def _finish(client: GraphClient, point: NativePoint, job_id: str, wait: Callable[[], None],
            report: Callable[[Progress], None]) -> None:
    status = ""
    while True:
        job = client.request("GET", f"{_jobs_path(point)}/{job_id}", headers=PREFER) or {}
        if job.get("status") != status:
            status = str(job.get("status"))
            report(Progress(point, status))
        if status == "successful":
            return
        if status in FINISHED:
            raise EntragitError(f"the preview job of backup {point.time} ended {status}: nothing was written")
        wait()


def _split(object_type: ObjectType, obj: Obj) -> tuple[Obj, dict[str, Any]]:
    """A stored object as Graph's body and its relationships, the two parts canonical() takes."""
    names = {rel.name for rel in object_type.relationships}
    return ({k: v for k, v in obj.items() if k not in names}, {k: v for k, v in obj.items() if k in names})


def _point_state(object_type: ObjectType, coverage: Coverage, base: Obj | None, change: dict[str, Any]) -> Obj | None:
    """The object at the point: None when the point did not have it."""
    action = change.get("recoveryAction")
    if action == "softDelete":
        return None
    delta = change.get("deltaFromCurrent") or {}
    body, relations = _split(object_type, base or {"id": change["id"]})
    allowed = object_type.stored if coverage.properties is None else object_type.stored & set(coverage.properties)
    if object_type.polymorphic:
        allowed = allowed | {"@odata.type"}  # a named location's kind
    body.update({k: v for k, v in delta.items() if k in allowed})
    if coverage.members and "members@delta" in delta:
        members = set(relations.get("members") or [])
        for entry in delta["members@delta"]:
            if "@removed" in entry:
                members.discard(entry["id"])
            else:
                members.add(entry["id"])
        relations["members"] = sorted(members)
    return canonical.canonical(object_type, body, relations)


def _deleted(client: GraphClient, object_type: ObjectType, object_id: str) -> Obj | None:
    """An object deleted since the backup, as the recycle bin keeps it: the service gives only the
    properties whose values the bin's copy does not have (entrarecoveryservices-recoverypreviewjob-getchanges)."""
    if object_type.recycle_bin is None:
        return None
    params = {"$select": ",".join(object_type.read_select)} if object_type.read_select else None
    try:
        return canonical.canonical(object_type, client.get(f"{object_type.recycle_bin}/{object_id}", params))
    except GraphError as exc:
        if exc.not_found:  # purged since the job was calculated
            return None
        raise


def _files(repo: BackupRepo, client: GraphClient, base: str,
           changes: list[dict[str, Any]]) -> tuple[dict[str, dict[str, str | None]], int]:
    """folder -> file name -> blob id (None: the file goes) for the point; and how many changes were of
    types the repository does not keep."""
    kept = {object_type.name for object_type in resolve_types(repo.config.types)}
    by_type: dict[str, list[dict[str, Any]]] = {}  # resourceTypeName -> its changes
    for change in changes:
        coverage = COVERAGE.get(str(change.get("entityTypeName")))
        if coverage is not None and coverage.type_name in kept:
            by_type.setdefault(str(change["entityTypeName"]), []).append(change)
    contents: dict[str, bytes | None] = {}
    for entity, of_type in by_type.items():
        coverage = COVERAGE[entity]
        object_type = REGISTRY[coverage.type_name]
        # One read of the snapshot per type, not one per object.
        known = repo.read_objects(base, object_type, [str(change["id"]) for change in of_type])
        for change in of_type:
            before = known.get(str(change["id"]))
            if before is None and change.get("recoveryAction") == "restore":
                before = _deleted(client, object_type, str(change["id"]))
            state = _point_state(object_type, coverage, before, change)
            contents[object_path(object_type, str(change["id"]))] = None if state is None else canonical.dump(state)
    blobs = _store_blobs(repo, [data for data in contents.values() if data is not None])
    files: dict[str, dict[str, str | None]] = {}
    for path, data in contents.items():
        folder, name = path.split("/", 1)
        files.setdefault(folder, {})[name] = None if data is None else blobs[data]
    return files, len(changes) - sum(len(of_type) for of_type in by_type.values())


def _store_blobs(repo: BackupRepo, contents: list[bytes]) -> dict[bytes, str]:
    """Each content stored as a git blob, all by one `git hash-object`: a process per file would cost
    more than the files."""
    if not contents:
        return {}
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for number, data in enumerate(contents):
            path = Path(folder) / str(number)
            path.write_bytes(data)
            paths.append(f"{path}\n")
        ids = repo.git.git.hash_object("-w", "--no-filters", "--stdin-paths", istream=stdin("".join(paths))).split()
    return dict(zip(contents, ids))


def _commit(repo: BackupRepo, base: str, files: dict[str, dict[str, str | None]], parent: str | None,
            point: NativePoint, message: str) -> str:
    root = {path: meta for meta, path in tree_entries(repo.git.git.ls_tree("-z", base))}
    for folder, changed in files.items():
        tree = folder_tree(repo.git, base, folder, changed)
        root.pop(folder, None)
        if tree is not None:
            root[folder] = f"040000 tree {tree}"
    env = {"GIT_AUTHOR_NAME": AUTHOR["name"], "GIT_AUTHOR_EMAIL": AUTHOR["email"], "GIT_AUTHOR_DATE": point.time,
           "GIT_COMMITTER_NAME": AUTHOR["name"], "GIT_COMMITTER_EMAIL": AUTHOR["email"],
           "GIT_COMMITTER_DATE": point.time}
    return str(repo.git.git.commit_tree(mktree(repo.git, root), *(["-p", parent] if parent else []), "-m", message,
                                        env=env))


def _changes(client: GraphClient, point: NativePoint, job_id: str) -> Iterator[dict[str, Any]]:
    yield from client.iter_collection(f"{_jobs_path(point)}/{job_id}/{CHANGES}", {"$top": "999"})


def import_native(repo: BackupRepo, client: GraphClient, branch: str, wait: Callable[[], None],
                  report: Callable[[Progress], None]) -> list[Imported]:
    """One commit per native backup, oldest first, on `branch`, dated at the backup; `wait` is called
    between two looks at a job."""
    newest = repo.snapshots(limit=1)
    if not newest:
        raise StoreError(f"{repo.root} has no snapshot yet: import-native starts from the newest one; take one "
                         "with `entragit snapshot` first")
    base = newest[0].commit
    if not repo.git.git.check_ref_format("--branch", branch, with_exceptions=False):
        raise StoreError(f"{branch!r} is not a name git takes for a branch")
    if repo.git.git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}", with_exceptions=False):
        raise StoreError(f"branch {branch} exists already; name another with --branch, or delete it "
                         f"(git branch -D {branch})")
    # Signed in only once the repository is known to be ready: the person is not asked for nothing.
    require_person(client)
    check_tenant(repo, sign_in(client, repo.config.tenant_id), base, "nothing was asked of the service or written")
    imported: list[Imported] = []
    parent: str | None = None
    for point in list_points(client):
        job_id = _start(client, point, wait)
        _finish(client, point, job_id, wait, report)
        changes = list(_changes(client, point, job_id))
        files, skipped = _files(repo, client, base, changes)
        message = "\n".join([
            f"Native backup of {point.time}", "",
            f"Microsoft Entra Backup and Recovery's backup of {point.time}: the snapshot {base[:10]} with the "
            f"backup's values of what it covers put back ({len(changes)} object(s) differed).", "",
            f"{POINT_TRAILER}: {point.id}", f"{BASE_TRAILER}: {base}", *covers_trailers()])
        parent = _commit(repo, base, files, parent, point, message)
        imported.append(Imported(point, parent, len(changes), skipped))
        report(Progress(point, "written"))
    if parent is not None:
        repo.git.git.update_ref(f"refs/heads/{branch}", parent)
    return imported
