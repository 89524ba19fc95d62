"""Microsoft Entra Backup and Recovery, as Graph serves it under /directory/recovery: the tenant's own daily
backups (snapshots), preview jobs that compute what a recovery to one of them would change, and getChanges,
which lists those changes with the backup's values of each changed property.

Written from Microsoft's pages (learn.microsoft.com/graph/api/resources/entrarecoveryservices-backup-recovery-overview
and the method pages it links, learn.microsoft.com/entra/backup/scope-supported-objects-limitations):

- one backup a day, kept five days (the Graph overview) or seven (the later "View available backups" page):
  `retention_days` switches between them; listed newest first, each id the base64 of its timestamp;
- a preview job is created (202 and a Location header, no body) only by a signed-in person: delegated
  EntraBackup.ReadWrite.Preview and the Entra Backup Administrator role (or Global Administrator); an app-only
  token is refused, as the page's "Application: Not supported" says; reads take EntraBackup.Read.All and the
  Backup Reader or Administrator role;
- one job at a time per tenant: a second while one is not finished is 409;
- a job goes initialized, loadingData (only the first job on a backup loads it), calculating, successful;
  loadingData and calculating come after unknownFutureValue in the evolvable enum, so a client that does not
  send `Prefer: include-unknown-enum-members` sees unknownFutureValue for them;
- getChanges answers only for a successful job (400 before), 100 changes a page unless $top says (at most
  999), with an opaque $skiptoken; each change names the object, its current displayName, the recovery action
  (update, restore, softDelete), the backup's values of the changed covered properties (deltaFromCurrent)
  and today's values of the same properties (currentState); a group's member links as members@delta.

The simulator keeps its own record of every daily point (`points`): each covered object's covered properties
and each group's members, as the tenant had them at the point; tests compare what a client makes of the
service with this record.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from entragit.sim.catalog import BY_NAME
from entragit.sim.errors import GraphFault, bad_request
from entragit.sim.gateway import token_claims
from entragit.sim.graph import GraphApi, GraphRequest, GraphResponse
from entragit.sim.model import is_dynamic
from entragit.sim.query import decode_skiptoken, encode_skiptoken, next_link, parse_top
from entragit.sim.recycle import RecycleBins

NAMESPACE = "microsoft.graph.entraRecoveryServices"
RECOVERY = ("directory", "recovery")
DAY = 86400
# The time of day the service takes its backup; live tenants show 22:00 UTC [UNCONFIRMED by Microsoft's pages].
BACKUP_SECOND_OF_DAY = 22 * 3600
DEFAULT_PAGE, MAX_PAGE = 100, 999
# Documented timings (learn.microsoft.com/entra/backup/backup-difference-report-recovery-model): loading a
# backup takes up to an hour for a tenant under 50,000 objects; the difference about 45 minutes per 100,000
# changes. The simulator adds a minute before a job leaves `initialized`.
STARTING_SECONDS = 60.0
LOADING_SECONDS = 3600.0
CALCULATING_SECONDS_PER_CHANGE = 45 * 60 / 100_000
CALCULATING_MINIMUM_SECONDS = 300.0
TERMINAL = frozenset({"successful", "failed", "abandoned"})
# recoveryStatus members after unknownFutureValue (entrarecoveryservices-recoveryjobbase).
LATE_STATUSES = frozenset({"calculating", "loadingData"})
BACKUP_ADMINISTRATOR = "Entra Backup Administrator"
BACKUP_READER = "Entra Backup Reader"
GLOBAL_ADMINISTRATOR = "Global Administrator"
READ_SCOPE = "EntraBackup.Read.All"
PREVIEW_SCOPE = "EntraBackup.ReadWrite.Preview"
DENIED = "Authorization has been denied for this request."


@dataclass(frozen=True)
class Covered:
    """One type the service backs up: its resourceTypeName and the Graph properties it recovers
    (learn.microsoft.com/entra/backup/scope-supported-objects-limitations, in Graph's names)."""

    collection: str
    entity: str
    properties: tuple[str, ...]
    links: tuple[str, ...] = ()


COVERED: tuple[Covered, ...] = (
    Covered("users", "user", (
        "accountEnabled", "ageGroup", "city", "companyName", "consentProvidedForMinor", "country", "department",
        "displayName", "employeeHireDate", "employeeId", "employeeLeaveDateTime", "employeeOrgData", "employeeType",
        "faxNumber", "givenName", "jobTitle", "mail", "mailNickname", "mobilePhone", "otherMails", "passwordPolicies",
        "officeLocation", "postalCode", "preferredDataLocation", "preferredLanguage", "state", "streetAddress",
        "surname", "businessPhones", "usageLocation", "userPrincipalName", "userType")),
    Covered("groups", "group", (
        "classification", "description", "displayName", "groupTypes", "visibility", "mail", "mailEnabled",
        "mailNickname", "preferredDataLocation", "preferredLanguage", "securityEnabled", "theme"), ("members",)),
    Covered("conditionalAccessPolicies", "conditionalAccessPolicy", (
        "displayName", "state", "conditions", "grantControls", "sessionControls")),
    Covered("namedLocations", "namedLocationPolicy", (
        "displayName", "isTrusted", "ipRanges", "countriesAndRegions", "includeUnknownCountriesAndRegions",
        "countryLookupMethod")),
    Covered("authorizationPolicy", "authorizationPolicy", ("blockMsolPowerShell", "guestUserRoleId")),
    Covered("applications", "application", (
        "displayName", "description", "notes", "tags", "identifierUris", "isFallbackPublicClient", "publisherDomain",
        "isDeviceOnlyAuthSupported", "serviceManagementReference", "requiredResourceAccess",
        "nativeAuthenticationApisEnabled", "signInAudience", "groupMembershipClaims", "optionalClaims", "addIns",
        "servicePrincipalLockConfiguration", "info")),
    Covered("servicePrincipals", "servicePrincipal", (
        "accountEnabled", "alternativeNames", "appRoleAssignmentRequired", "description", "loginUrl", "notes",
        "notificationEmailAddresses", "preferredTokenSigningKeyThumbprint", "tags", "servicePrincipalType",
        "preferredSingleSignOnMode", "samlSingleSignOnSettings", "servicePrincipalNames")),
)


def covered_properties(covered: Covered) -> tuple[str, ...]:
    """The covered properties the simulated tenant models for the type."""
    known = BY_NAME[covered.collection].all_properties()
    return tuple(p for p in covered.properties if p in known)


@dataclass
class Point:
    """One daily backup: what the tenant held at `at` (epoch seconds), covered properties only."""

    at: float
    objects: dict[str, dict[str, dict[str, Any]]]  # collection -> id -> covered property -> value
    links: dict[str, dict[str, set[str]]]  # link -> source id -> target ids
    loaded: bool = False  # a job has loaded it: later jobs on it skip loadingData

    @property
    def stamp(self) -> str:
        return datetime.fromtimestamp(self.at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def id(self) -> str:
        return base64.b64encode(self.stamp.encode()).decode()


@dataclass
class Job:
    id: str
    point: Point
    started: float
    loading: float
    filtering: dict[str, Any] | None
    status: str = "initialized"
    completed: float | None = None
    changes: list[dict[str, Any]] | None = None  # computed once, when the job completes


class NativeBackups:
    """The service of one simulated tenant, routed on its Graph API."""

    def __init__(self, api: GraphApi, recycle: RecycleBins) -> None:
        self.api = api
        self.tenant = api.tenant
        self.recycle = recycle
        self.clock = api.tenant.clock
        # Five (Graph overview) or seven (Entra's "View available backups") days of backups.
        self.retention_days = 7
        # Multiplies the documented job durations: tests shrink them rather than wait an hour.
        self.duration_scale = 1.0
        # user id -> Entra roles the person holds that the service checks.
        self.roles: dict[str, set[str]] = {}
        self.points: list[Point] = []
        self.jobs: dict[str, Job] = {}
        api.checks.append(self._before_request)
        self._route()

    # --- the daily points --------------------------------------------------------------------------------

    def _boundary(self, now: float) -> float:
        """The latest backup time at or before now."""
        day_start = now - now % DAY
        at = day_start + BACKUP_SECOND_OF_DAY
        return at if at <= now else at - DAY

    def record_due(self) -> None:
        """Take every backup whose time has come since the last one, as the tenant is now. Called before
        every write and every request to the service, so nothing has changed the tenant since that time;
        reads alone do not pay for a copy of the tenant. Callers hold the tenant lock."""
        latest = self._boundary(self.clock.now())
        if not self.points:
            # The service was on before the simulation began: its backups so far saw the seeded tenant.
            due = [latest - DAY * back for back in reversed(range(self.retention_days))]
        else:
            due = []
            at = self.points[-1].at + DAY
            while at <= latest:
                due.append(at)
                at += DAY
        if due:
            # Backups due together saw the same tenant: one copy serves them all (none is changed later).
            objects, links = self._objects_now(), self._links_now()
            self.points += [Point(at, objects, links) for at in due]
        oldest = latest - DAY * (self.retention_days - 1)
        expired = {p.id for p in self.points if p.at < oldest}
        # An expired backup goes with its jobs.
        self.points = [p for p in self.points if p.id not in expired]
        self.jobs = {key: job for key, job in self.jobs.items() if job.point.id not in expired}

    def _objects_now(self) -> dict[str, dict[str, dict[str, Any]]]:
        objects: dict[str, dict[str, dict[str, Any]]] = {}
        for covered in COVERED:
            properties = covered_properties(covered)
            objects[covered.collection] = {
                object_id: {p: _copied(obj[p]) for p in properties if p in obj}
                for object_id, obj in self.tenant.objects[covered.collection].items()
            }
        return objects

    def _links_now(self) -> dict[str, dict[str, set[str]]]:
        links = {link for covered in COVERED for link in covered.links}
        return {link: {source: set(targets) for source, targets in self.tenant.links[link].items()} for link in links}

    def _before_request(self, request: GraphRequest) -> None:
        if request.method != "GET" or tuple(request.segments[:2]) == RECOVERY:
            with self.tenant.lock:
                self.record_due()

    def grant(self, user_id: str, role: str) -> None:
        """Give a person one of the roles the service checks (an admin's role assignment)."""
        self.roles.setdefault(user_id, set()).add(role)

    # --- routes --------------------------------------------------------------------------------------------

    def _route(self) -> None:
        snapshots = (*RECOVERY, "snapshots")
        previews = (*snapshots, "{id}", "recoveryPreviewJobs")
        self.api._route(snapshots, GET=self.list_snapshots)
        self.api._route((*snapshots, "{id}"), GET=self.get_snapshot)
        self.api._route(previews, GET=self.list_jobs_of, POST=self.create_preview)
        self.api._route((*previews, "{job}"), GET=self.get_job)
        # v1.0's pages name the function with its namespace, beta's without.
        for name in (f"{NAMESPACE}.getChanges", "getChanges"):
            self.api._route((*previews, "{job}", name), GET=self.get_changes)
        self.api._route((*RECOVERY, "jobs"), GET=self.list_all_jobs)
        self.api._route((*RECOVERY, "jobs", "{job}"), GET=self.get_job_by_id)
        for name in (f"{NAMESPACE}.cancel", "cancel"):
            self.api._route((*RECOVERY, "jobs", "{job}", name), POST=self.cancel)

    # --- who may ------------------------------------------------------------------------------------------

    def _allow(self, request: GraphRequest, scope: str, roles: frozenset[str], app_only: bool) -> None:
        claims = _claims(request)
        if claims.get("idtyp") != "user":
            if not app_only:
                # entrarecoveryservices-snapshot-post-recoverypreviewjobs: Application, Not supported.
                raise GraphFault(403, "Forbidden", DENIED)
            return  # app-only reads: the permission table (permissions.py) has checked the app's roles
        scopes = str(claims.get("scp", "")).split()
        held = self.roles.get(str(claims.get("oid")), set())
        if scope not in scopes or not held & roles:
            raise GraphFault(403, "Forbidden", DENIED)

    def _may_read(self, request: GraphRequest) -> None:
        self._allow(request, READ_SCOPE, frozenset({BACKUP_READER, BACKUP_ADMINISTRATOR, GLOBAL_ADMINISTRATOR}), True)

    # --- snapshots ----------------------------------------------------------------------------------------

    def _point(self, snapshot_id: str) -> Point:
        found = next((p for p in self.points if p.id == snapshot_id), None)
        if found is None:
            raise GraphFault(404, "NotFound", f"'{snapshot_id}' isn't a valid timestamp for recovery. The provided "
                             "timestamp should be in the list of available snapshots.")
        return found

    def _snapshot(self, point: Point) -> dict[str, Any]:
        return {"@odata.type": f"#{NAMESPACE}.snapshot", "id": point.id, "createdDateTime": point.stamp,
                "totalChangedObjects": len(self._changes(point, None))}

    def list_snapshots(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        self._may_read(request)
        values = [self._snapshot(p) for p in reversed(self.points)]
        return GraphResponse(200, {"@odata.context": f"{self.api.base}/$metadata#directory/recovery/snapshots",
                                   "value": values})

    def get_snapshot(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        self._may_read(request)
        body = self._snapshot(self._point(params[0]))
        return GraphResponse(200, {"@odata.context": f"{self.api.base}/$metadata#directory/recovery/snapshots/$entity",
                                   **body})

    # --- jobs ---------------------------------------------------------------------------------------------

    def create_preview(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        self._allow(request, PREVIEW_SCOPE, frozenset({BACKUP_ADMINISTRATOR, GLOBAL_ADMINISTRATOR}), False)
        point = self._point(params[0])
        filtering = request.json().get("filteringCriteria") if request.body.strip() else None
        _check_filter(filtering)
        for job in self.jobs.values():
            self._advance(job)
            if job.status not in TERMINAL:
                raise GraphFault(409, "Conflict", "A recovery job is currently in progress. Wait for it to complete "
                                 "before initiating a new job.")
        loading = 0.0 if point.loaded else LOADING_SECONDS
        point.loaded = True
        job = Job(str(uuid.uuid4()), point, self.clock.now(), loading, filtering)
        self.jobs[job.id] = job
        location = f"{self.api.base}/directory/recovery/snapshots/{point.id}/recoveryPreviewJobs/{job.id}"
        return GraphResponse(202, None, {"Location": location})

    def _advance(self, job: Job) -> None:
        """The job's status now; its changes are computed, once, when it completes."""
        if job.status in TERMINAL:
            return
        scale = self.duration_scale
        elapsed = self.clock.now() - job.started
        loaded = (STARTING_SECONDS + job.loading) * scale
        if elapsed < STARTING_SECONDS * scale:
            job.status = "initialized"
        elif elapsed < loaded:
            job.status = "loadingData"
        else:
            count = len(self._changes(job.point, job.filtering))
            calculating = max(CALCULATING_MINIMUM_SECONDS, count * CALCULATING_SECONDS_PER_CHANGE) * scale
            if elapsed < loaded + calculating:
                job.status = "calculating"
            else:
                job.status = "successful"
                job.completed = job.started + loaded + calculating
                job.changes = self._changes(job.point, job.filtering)

    def _job_body(self, job: Job, request: GraphRequest, typed: bool) -> dict[str, Any]:
        self._advance(job)
        status = job.status
        if status in LATE_STATUSES and "include-unknown-enum-members" not in (request.headers.get("Prefer") or ""):
            status = "unknownFutureValue"
        changes = job.changes
        body = {
            "id": job.id, "status": status, "targetStateDateTime": job.point.stamp,
            "jobStartDateTime": _stamp(job.started),
            "jobCompletionDateTime": _stamp(job.completed) if job.completed is not None else None,
            "filteringCriteria": job.filtering,
            # Null until the calculation completes (entrarecoveryservices-recoveryjobbase).
            "totalChangedObjectsCalculated": None if changes is None else len(changes),
            "totalChangedLinksCalculated": None if changes is None else sum(
                len(c["deltaFromCurrent"].get("members@delta", ())) for c in changes),
        }
        return {"@odata.type": f"#{NAMESPACE}.recoveryPreviewJob", **body} if typed else body

    def _job(self, point_id: str | None, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or (point_id is not None and job.point.id != point_id):
            raise GraphFault(404, "NotFound", f"Job with identifier '{job_id}' was not found.")
        return job

    def get_job(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        self._may_read(request)
        job = self._job(params[0], params[1])
        context = f"{self.api.base}/$metadata#directory/recovery/snapshots('{params[0]}')/recoveryPreviewJobs/$entity"
        return GraphResponse(200, {"@odata.context": context, **self._job_body(job, request, False)})

    def get_job_by_id(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        self._may_read(request)
        job = self._job(None, params[0])
        context = f"{self.api.base}/$metadata#directory/recovery/jobs/$entity"
        return GraphResponse(200, {"@odata.context": context, **self._job_body(job, request, True)})

    def list_jobs_of(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        self._may_read(request)
        point = self._point(params[0])
        values = [self._job_body(j, request, False) for j in self.jobs.values() if j.point is point]
        context = f"{self.api.base}/$metadata#directory/recovery/snapshots('{point.id}')/recoveryPreviewJobs"
        return GraphResponse(200, {"@odata.context": context, "value": values})

    def list_all_jobs(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        self._may_read(request)
        values = [self._job_body(j, request, True) for j in self.jobs.values()]
        return GraphResponse(200, {"@odata.context": f"{self.api.base}/$metadata#directory/recovery/jobs", "value": values})

    def cancel(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        self._allow(request, PREVIEW_SCOPE, frozenset({BACKUP_ADMINISTRATOR, GLOBAL_ADMINISTRATOR}), False)
        job = self._job(None, params[0])
        self._advance(job)
        if job.status in TERMINAL:
            # What Graph answers for a finished job is not documented [UNCONFIRMED].
            raise bad_request(f"Job with identifier '{job.id}' has already completed.")
        job.status, job.completed = "abandoned", self.clock.now()
        return GraphResponse(202, None, {"Location": f"{self.api.base}/directory/recovery/jobs/{job.id}"})

    def _type_of(self, object_id: str) -> str:
        """A linked object's @odata.type, in the tenant or in its recycle bin."""
        found = self.tenant.directory_object(object_id)
        if found is not None:
            return f"#{found[0].odata_type.lstrip('#')}"
        item = self.recycle.items.get(object_id)
        return f"#{item.spec.odata_type.lstrip('#')}" if item is not None else "#microsoft.graph.directoryObject"

    # --- getChanges ---------------------------------------------------------------------------------------

    def get_changes(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        self._may_read(request)
        job = self._job(params[0], params[1])
        self._advance(job)
        if job.changes is None:
            raise bad_request(f"Job with identifier '{job.id}' must have completed successfully prior to "
                              "enumerating changes.", code="BadRequest")
        pairs = dict((k.lower(), v) for k, v in request.pairs)
        top = parse_top(pairs["$top"]) if "$top" in pairs else DEFAULT_PAGE
        start = int(decode_skiptoken(pairs["$skiptoken"], self.api._page_rules()).position) if "$skiptoken" in pairs else 0
        page = job.changes[start:start + top]
        context = f"directory/recovery/snapshots/{job.point.id}/recoveryPreviewJobs/{job.id}/{NAMESPACE}.getChanges"
        body: dict[str, Any] = {"@odata.context": f"{self.api.base}/$metadata#{context}", "value": page}
        if start + top < len(job.changes):
            token = encode_skiptoken(str(start + top), self.clock.now())
            body["@odata.nextLink"] = next_link(self.api.base, request.raw_path, request.pairs, token)
        return GraphResponse(200, body)

    def _changes(self, point: Point, filtering: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        """What a recovery to the point would change in the tenant as it is now."""
        changes: list[dict[str, Any]] = []
        binned = self.recycle.items
        for covered in COVERED:
            wanted = _wanted(filtering, covered.entity)
            if wanted is False:
                continue
            then = point.objects[covered.collection]
            live = self.tenant.objects[covered.collection]
            properties = covered_properties(covered)
            ids = sorted(set(then) | set(live))
            for object_id in ids:
                if wanted is not True and object_id not in wanted:
                    continue
                change = self._change(covered, properties, point, object_id, then.get(object_id),
                                      live.get(object_id), binned)
                if change is not None:
                    changes.append(change)
        return changes

    def _change(self, covered: Covered, properties: tuple[str, ...], point: Point, object_id: str,
                then: dict[str, Any] | None, live: dict[str, Any] | None, binned: Mapping[str, Any]) -> dict[str, Any] | None:
        item = binned.get(object_id)
        known = live if live is not None else (item.obj if item is not None else {})
        # A named location's type is its kind's (ipNamedLocation, countryNamedLocation).
        odata_type = str(known.get("@odata.type") or f"#microsoft.graph.{covered.entity}")
        if then is None and live is not None:
            # Made since the backup: recovery would soft-delete it.
            delta: dict[str, Any] = {"@odata.type": odata_type, "@removed": {"reason": "changed"},
                                     "deletedDateTime": _stamp(self.clock.now())}
            return _item(object_id, covered, live, "softDelete", delta, {"@odata.type": odata_type, "deletedDateTime": None})
        if then is None:
            return None
        if live is None:
            if item is None:
                return None  # deleted for good: the service cannot bring it back
            now_obj = item.obj
            changed = [p for p in properties if then.get(p) != now_obj.get(p)]
            delta = {"@odata.type": odata_type, **{p: then.get(p) for p in changed}, "deletedDateTime": None}
            current = {"@odata.type": odata_type, **{p: now_obj.get(p) for p in changed},
                       "deletedDateTime": now_obj.get("deletedDateTime")}
            return _item(object_id, covered, now_obj, "restore", delta, current)
        changed = [p for p in properties if then.get(p) != live.get(p)]
        delta = {"@odata.type": odata_type, **{p: _copied(then.get(p)) for p in changed}}
        current = {"@odata.type": odata_type, **{p: _copied(live.get(p)) for p in changed}}
        # Only static memberships come back: a dynamic group's rule makes its own
        # (learn.microsoft.com/entra/backup/scope-supported-objects-limitations).
        for link in () if is_dynamic(live) else covered.links:
            before = point.links[link].get(object_id, set())
            now = self.tenant.links[link].get(object_id, set())
            entries: list[dict[str, Any]] = [{"@odata.type": self._type_of(t), "id": t} for t in sorted(before - now)]
            entries += [{"@odata.type": self._type_of(t), "id": t, "@removed": {"reason": "changed"}}
                        for t in sorted(now - before)]
            if entries:
                delta[f"{link}@delta"] = entries
        if len(delta) == 1:
            return None
        return _item(object_id, covered, live, "update", delta, current)




def _item(object_id: str, covered: Covered, obj: Mapping[str, Any], action: str, delta: dict[str, Any],
          current: dict[str, Any]) -> dict[str, Any]:
    return {"id": object_id, "entityTypeName": covered.entity, "displayName": obj.get("displayName"), "recoveryAction": action,
            "failureMessage": None, "deltaFromCurrent": delta, "currentState": current}


def _copied(value: Any) -> Any:
    """A value of its own: a write may change a list or an object in place. Faster than copy.deepcopy,
    which a 100,000-user tenant would keep busy for seconds; JSON values hold no cycles."""
    if isinstance(value, list):
        return [_copied(item) for item in value]
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    return value


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


ENTITY_TYPES = frozenset(c.entity for c in COVERED)


def _check_filter(filtering: Any) -> None:
    """filteringCriteria as entrarecoveryservices-recoveryjobfilteringcriteriabase and its two kinds define it."""
    if filtering is None:
        return
    kind = filtering.get("@odata.type") if isinstance(filtering, dict) else None
    if kind == f"#{NAMESPACE}.recoveryJobEntityNamesFilter":
        names = filtering.get("entityTypes")
        if not isinstance(names, list) or not all(n in ENTITY_TYPES for n in names):
            raise bad_request("Invalid value for 'entityTypes'.", code="BadRequest")
        return
    if kind == f"#{NAMESPACE}.recoveryJobEntityNameAndIdsFilter":
        values = filtering.get("filterValues")
        if not isinstance(values, list) or not all(isinstance(v, dict) and v.get("entityType") in ENTITY_TYPES for v in values):
            raise bad_request("Invalid value for 'filterValues'.", code="BadRequest")
        types = [v["entityType"] for v in values]
        if len(types) != len(set(types)):
            # entrarecoveryservices-recoveryjobentitynameandidsfilter: a type named twice is 400.
            raise bad_request("Each entityType may appear only once in 'filterValues'.", code="BadRequest")
        return
    raise bad_request("Invalid value for 'filteringCriteria'.", code="BadRequest")


def _wanted(filtering: Mapping[str, Any] | None, entity: str) -> bool | set[str]:
    """True: every object of the type; False: none; else the ids named."""
    if filtering is None:
        return True
    if "entityTypes" in filtering:
        return entity in filtering["entityTypes"]
    for value in filtering.get("filterValues", []):
        if value["entityType"] == entity:
            return set(value.get("entityIds") or [])
    return False


def _claims(request: GraphRequest) -> dict[str, Any]:
    # The gateway has checked the token; its claims say whether a person signed in.
    return token_claims(request)
