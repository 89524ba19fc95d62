"""The directory audit log: GET /auditLogs/directoryAudits, fed by every write the tenant accepts.

Each write request (batch items included) becomes audit records built from the tenant's change log: one
per created, updated, deleted or restored object and one per link added or removed, each naming who made
it: the signed-in user of a delegated token, else the calling app (its service principal). Link changes
that follow from another change (a deleted object's memberships, a dynamic group's recomputed members)
are not logged as writes of their own.

What a record says of values follows Entra's (Microsoft's modifiedProperty page: displayName, oldValue,
newValue, all strings): an update lists each changed property's old and new value as JSON text of a list
("[]" for none), then "Included Updated Properties"; a creation lists what it set, old values "[]"; users'
and groups' properties carry Active Directory style names; a Conditional Access policy's change is the whole
policy in one property; a link ("Add member to group") names both objects and no values; a deletion carries
none. The uncertain points are switches (settings.audit_*): long values cut, properties and types whose
changes carry no values.

Read side, as the List directoryAudits page documents it: newest first unless `$orderby=activityDateTime
asc`, `$top` up to 999, `$skiptoken` paging, and `$filter` on the attributes that page lists (activity time
ge/le/eq, activity name eq/startswith, initiator, `targetResources/any(...)`), joined with `and`. Records
appear `audit_delay_seconds` after the change (Entra: 2 minutes at the 95th percentile), are kept
`audit_retention_days`, and an app without AuditLog.Read.All (`audit_log_read=false`) gets 403.
"""

from __future__ import annotations

import json
import operator as operator_module
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from entragit.sim.changes import CREATED, HARD_DELETED, LINKED, RESTORED, SOFT_DELETED, UNLINKED, UPDATED, Change
from entragit.sim.clock import SimClock
from entragit.sim.errors import GraphFault, bad_request, resource_not_found, unsupported_query
from entragit.sim.graph import GraphApi, GraphRequest, GraphResponse
from entragit.sim.model import UNIFIED, is_dynamic
from entragit.sim.query import PageRules, decode_skiptoken, encode_skiptoken, next_link, parse_top
from entragit.sim.settings import Settings
from entragit.sim.tenant import Tenant

AUDIT_PATH = ("auditLogs", "directoryAudits")
INSUFFICIENT_PRIVILEGES = "Insufficient privileges to complete the operation."


@dataclass(frozen=True)
class Noun:
    """How the audit log names a collection's objects: 'Update <noun>', its category, target type, service."""

    noun: str
    category: str
    target_type: str
    service: str = "Core Directory"
    # Change kind -> the whole activity name, where Entra does not say '<verb> <noun>'.
    activities: Mapping[str, str] = field(default_factory=dict)


NOUNS: dict[str, Noun] = {
    "users": Noun("user", "UserManagement", "User"),
    "groups": Noun("group", "GroupManagement", "Group"),
    "applications": Noun("application", "ApplicationManagement", "Application"),
    "servicePrincipals": Noun("service principal", "ApplicationManagement", "ServicePrincipal"),
    "administrativeUnits": Noun("administrative unit", "AdministrativeUnit", "Other"),
    "conditionalAccessPolicies": Noun("conditional access policy", "Policy", "Policy", "Conditional Access"),
    "namedLocations": Noun("named location", "Policy", "Policy", "Conditional Access"),
    "roleDefinitions": Noun("role definition", "RoleManagement", "Role"),
    "roleAssignments": Noun("role assignment", "RoleManagement", "Role", activities={
        CREATED: "Add member to role", SOFT_DELETED: "Remove member from role", HARD_DELETED: "Remove member from role"}),
    "roleEligibilitySchedules": Noun("role eligibility", "RoleManagement", "Role", "PIM", activities={
        CREATED: "Add eligible member to role", HARD_DELETED: "Remove eligible member from role"}),
    "roleEligibilityScheduleRequests": Noun("role eligibility request", "RoleManagement", "Role", "PIM"),
    "federatedIdentityCredentials": Noun("federated identity credential", "ApplicationManagement", "Application"),
}
VERBS = {CREATED: "Add", UPDATED: "Update", SOFT_DELETED: "Delete", HARD_DELETED: "Hard delete", RESTORED: "Restore"}
OPERATION_TYPES = {CREATED: "Add", UPDATED: "Update", SOFT_DELETED: "Delete", HARD_DELETED: "Delete",
                   RESTORED: "Restore", LINKED: "Assign", UNLINKED: "Unassign"}


def _noun(collection: str | None) -> Noun:
    if collection in NOUNS:
        return NOUNS[collection]
    # Policies and settings: 'authorizationPolicy' -> 'Update authorization policy'.
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", collection or "object").lower()
    return Noun(words, "Policy" if "polic" in words else "DirectoryManagement", "Policy" if "polic" in words else "Other")


def _link_activity(change: Change) -> str:
    noun = _noun(change.collection).noun
    if change.link == "manager":
        return "Set user manager" if change.kind == LINKED else "Remove user manager"
    relation = "member" if change.link == "members" else "owner"
    return f"Add {relation} to {noun}" if change.kind == LINKED else f"Remove {relation} from {noun}"


def _stamp(moment: float) -> str:
    """Entra's activityDateTime: UTC with seven fractional digits."""
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _encoded(value: Any) -> str:
    # Core Directory records values as JSON text holding a list, "[]" when there is none; a multi-valued
    # property is that list itself (TelephoneNumber: ["+1 555 0100"]).
    return json.dumps(value if isinstance(value, list) else [] if value is None else [value], separators=(",", ":"))


# Users' and groups' properties as Entra's records name them: Active Directory's names, most of them
# Graph's with a capital first letter ("JobTitle"), a few AD's own [UNCONFIRMED beyond these].
AD_NAMES = {"businessPhones": "TelephoneNumber", "mobilePhone": "Mobile", "officeLocation": "PhysicalDeliveryOfficeName"}
WHOLE_POLICY = "ConditionalAccessPolicy"


def _ad_name(name: str) -> str:
    return AD_NAMES.get(name, name[:1].upper() + name[1:])


def _pairs(text: str) -> set[tuple[str, str]]:
    return {(collection.strip(), prop.strip()) for item in text.split(",") if ":" in item
            for collection, _, prop in [item.partition(":")]}


@dataclass(frozen=True)
class Record:
    seq: int
    moment: float
    visible_at: float
    body: dict[str, Any]

    @property
    def position(self) -> str:
        return f"{self.moment!r}|{self.seq}"


def _cut(value: str | None, limit: int | None) -> str | None:
    return value if value is None or limit is None else value[:limit]


class AuditLog:
    def __init__(self, api: GraphApi, settings: Settings, clock: SimClock,
                 deleted: Callable[[str], Mapping[str, Any] | None]) -> None:
        self.tenant: Tenant = api.tenant
        self.settings = settings
        self.clock = clock
        self.api = api
        # Objects just deleted are named from the recycle bin.
        self._deleted = deleted
        self._records: list[Record] = []
        self._lock = threading.Lock()
        api._route(AUDIT_PATH, GET=self.list_audits)
        api._route((*AUDIT_PATH, "{id}"), GET=self.get_audit)

    # --- writing -------------------------------------------------------------------------------------------

    @contextmanager
    def recording(self, claims: Mapping[str, Any]) -> Iterator[None]:
        """Log what the enclosed write request changes, as done by the token's user or app."""
        with self.tenant.lock:
            start = self.tenant.changes.seq
            yield
            changes = self.tenant.changes.since(start)
            if changes:
                self._log(changes, self._initiator(claims))

    def _initiator(self, claims: Mapping[str, Any]) -> dict[str, Any]:
        if claims.get("idtyp") == "user":
            user = {"id": claims.get("oid"), "displayName": claims.get("name"),
                    "userPrincipalName": claims.get("upn"), "ipAddress": None}
            return {"app": None, "user": user}
        app_id = str(claims.get("appid", ""))
        principal = next((sp for sp in self.tenant.objects["servicePrincipals"].values() if sp.get("appId") == app_id), None)
        app = {"appId": app_id, "displayName": principal["displayName"] if principal else claims.get("app_displayname"),
               "servicePrincipalId": principal["id"] if principal else None, "servicePrincipalName": None}
        return {"app": app, "user": None}

    def _log(self, changes: list[Change], initiator: dict[str, Any]) -> None:
        now = self.clock.now()
        correlation = str(uuid.uuid4())
        cascaded = {c.object_id for c in changes if c.kind in (SOFT_DELETED, HARD_DELETED, RESTORED)}
        bodies = []
        for change in changes:
            if change.link is not None:
                if self._follows(change, cascaded):
                    continue
                assert change.target_id is not None
                targets = [self._target(change.target_collection, change.target_id),
                           self._target(change.collection, change.object_id)]
                activity = _link_activity(change)
            else:
                targets = [self._target(change.collection, change.object_id, self._modified(change))]
                named = _noun(change.collection)
                activity = named.activities.get(change.kind, f"{VERBS[change.kind]} {named.noun}")
            noun = _noun(change.collection)
            bodies.append({
                "category": noun.category,
                "correlationId": correlation,
                "result": "success",
                "resultReason": "",
                "activityDisplayName": activity,
                "activityDateTime": _stamp(now),
                "loggedByService": noun.service,
                "operationType": OPERATION_TYPES[change.kind],
                "initiatedBy": initiator,
                "targetResources": targets,
                "additionalDetails": [],
            })
        with self._lock:
            for body in bodies:
                seq = len(self._records) + 1
                record_id = f"Directory_{correlation}_{uuid.uuid4().hex[:5].upper()}_{seq}"
                self._records.append(Record(seq, now, now + self.settings.audit_delay_seconds, {"id": record_id, **body}))

    def _follows(self, change: Change, cascaded: set[str]) -> bool:
        """A link change the directory made as a consequence, not one the request asked for."""
        if change.object_id in cascaded or change.target_id in cascaded:
            return True
        group = self.tenant.objects["groups"].get(change.object_id)
        return change.link == "members" and group is not None and is_dynamic(group)

    def _modified(self, change: Change) -> list[dict[str, Any]]:
        """What Entra records of the properties a creation set or an update changed (settings.audit_*)."""
        collection = change.collection or ""
        settings = self.settings
        if change.kind not in (CREATED, UPDATED) or collection in settings.audit_no_values.split(","):
            return []
        obj = self.tenant.objects.get(collection, {}).get(change.object_id, {})
        before = dict(change.before) if change.kind == UPDATED else {name: None for name in change.properties}
        unrecorded = {prop for where, prop in _pairs(settings.audit_unrecorded) if where == collection}
        values: list[tuple[str, str | None, str]] = [(name, _encoded(old), _encoded(obj.get(name)))
                                                    for name, old in before.items() if name not in unrecorded]
        if collection in ("users", "groups") and settings.audit_ad_names:
            values = [(_ad_name(name), old, new) for name, old, new in values]
        if collection == "conditionalAccessPolicies" and settings.audit_whole_policy:
            # One property: the policy before and after, whole, as JSON of the object (not of a list).
            old_whole = None if change.kind == CREATED else json.dumps({**obj, **before}, separators=(",", ":"))
            values = [(WHOLE_POLICY, old_whole, json.dumps(obj, separators=(",", ":")))]
        limit = settings.audit_value_limit
        modified = [{"displayName": name, "oldValue": _cut(old, limit), "newValue": _cut(new, limit)}
                    for name, old, new in values]
        if change.kind != UPDATED:
            return modified
        names = ", ".join(name for name, _, _ in values)
        return [*modified, {"displayName": "Included Updated Properties", "oldValue": None, "newValue": json.dumps(names)}]

    def _target(self, collection: str | None, object_id: str, modified: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        obj = (self.tenant.objects.get(collection or "", {}).get(object_id) if collection else None) or self._deleted(object_id) or {}
        target: dict[str, Any] = {
            "id": object_id,
            "displayName": obj.get("displayName"),
            "type": _noun(collection).target_type,
            "userPrincipalName": obj.get("userPrincipalName") if collection == "users" else None,
            "modifiedProperties": modified or [],
        }
        if collection == "groups":
            target["groupType"] = "unifiedGroups" if UNIFIED in (obj.get("groupTypes") or []) else "azureAD"
        return target

    # --- reading -------------------------------------------------------------------------------------------

    def _check_permission(self) -> None:
        if not self.settings.audit_log_read:
            raise GraphFault(403, "Authorization_RequestDenied", INSUFFICIENT_PRIVILEGES)

    def _visible(self) -> list[Record]:
        now = self.clock.now()
        oldest = now - self.settings.audit_retention_days * 86400
        with self._lock:
            return [r for r in self._records if r.visible_at <= now and r.moment >= oldest]

    def get_audit(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        self._check_permission()
        found = next((r for r in self._visible() if r.body["id"] == params[0]), None)
        if found is None:
            raise resource_not_found(params[0])
        return GraphResponse(200, {"@odata.context": f"{self.api.base}/$metadata#auditLogs/directoryAudits/$entity", **found.body})

    def list_audits(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        self._check_permission()
        options = _options(request.pairs)
        descending = _descending(options.get("$orderby"))
        records = sorted(self._visible(), key=lambda r: (r.moment, r.seq), reverse=descending)
        if "$filter" in options:
            keep = AuditFilter(options["$filter"]).parse()
            records = [r for r in records if keep(r)]
        rules = PageRules(self.clock.now(), self.settings.skiptoken_lifetime_seconds)
        if "$skiptoken" in options:
            last = _position(decode_skiptoken(options["$skiptoken"], rules).position)
            records = [r for r in records if ((r.moment, r.seq) < last if descending else (r.moment, r.seq) > last)]
        # The page size without $top is [UNCONFIRMED] for this endpoint; the directory's default is used.
        size = parse_top(options["$top"]) if "$top" in options else self.settings.default_page_size
        page = records[:size]
        body: dict[str, Any] = {"@odata.context": f"{self.api.base}/$metadata#auditLogs/directoryAudits"}
        if len(records) > size:
            body["@odata.nextLink"] = next_link(self.api.base, request.raw_path, request.pairs,
                                                encode_skiptoken(page[-1].position, rules.now))
        body["value"] = [r.body for r in page]
        return GraphResponse(200, body)


_OPTIONS = ("$filter", "$top", "$skiptoken", "$orderby")


def _options(pairs: list[tuple[str, str]]) -> dict[str, str]:
    options: dict[str, str] = {}
    for raw_key, value in pairs:
        key = raw_key.lower()
        if not key.startswith("$"):
            continue
        if key not in _OPTIONS:
            raise bad_request(f"Query option '{raw_key}' is not allowed. Supported options: {', '.join(_OPTIONS)}.")
        if key in options:
            raise bad_request(f"Query option '{raw_key}' was specified more than once, but it must be specified at most once.")
        options[key] = value
    return options


def _descending(orderby: str | None) -> bool:
    if orderby is None:
        return True
    words = orderby.split()
    if not words or words[0].lower() != "activitydatetime" or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
        raise unsupported_query(f"$orderby is supported on activityDateTime only, not '{orderby}'.")
    return len(words) == 2 and words[1].lower() == "desc"


def _position(text: str) -> tuple[float, int]:
    try:
        moment, seq = text.split("|")
        return float(moment), int(seq)
    except ValueError:
        raise bad_request("The specified page token value is not valid.") from None


# --- $filter -----------------------------------------------------------------------------------------------

# Attribute -> operators, as the List directoryAudits page lists them.
FILTERABLE: dict[str, frozenset[str]] = {
    "id": frozenset({"eq"}),
    "correlationId": frozenset({"eq"}),
    "activityDateTime": frozenset({"eq", "ge", "le"}),
    "activityDisplayName": frozenset({"eq", "startswith"}),
    "loggedByService": frozenset({"eq"}),
    "initiatedBy/user/id": frozenset({"eq"}),
    "initiatedBy/user/displayName": frozenset({"eq"}),
    "initiatedBy/user/userPrincipalName": frozenset({"eq", "startswith"}),
    "initiatedBy/app/appId": frozenset({"eq"}),
    "initiatedBy/app/displayName": frozenset({"eq"}),
}
_COMPARISON = re.compile(r"^([A-Za-z/]+)\s+(eq|ge|le|ne|gt|lt)\s+(.+)$", re.IGNORECASE)
_STARTSWITH = re.compile(r"^startswith\(\s*([A-Za-z/:]+)\s*,\s*'((?:[^']|'')*)'\s*\)$", re.IGNORECASE)
_ANY = re.compile(r"^targetResources/any\(\s*(\w+)\s*:\s*(.+)\)$", re.IGNORECASE)
_STRING = re.compile(r"^'((?:[^']|'')*)'$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?$")

Keep = Callable[[Record], bool]


def _value(body: Mapping[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _moment(literal: str) -> float:
    text = literal if "T" in literal else literal + "T00:00:00Z"
    whole, _, fraction = text.replace("Z", "+00:00").partition(".")
    if fraction:
        digits = re.match(r"\d+", fraction)
        assert digits is not None
        whole += fraction[digits.end():]
        return datetime.fromisoformat(whole).timestamp() + float("0." + digits.group())
    return datetime.fromisoformat(whole).timestamp()


class AuditFilter:
    """Clauses joined by 'and', each one the page documents; anything else is refused, never guessed."""

    def __init__(self, text: str) -> None:
        self.text = text

    def parse(self) -> Keep:
        clauses = [self._clause(part.strip()) for part in _split_and(self.text)]
        return lambda record: all(keep(record) for keep in clauses)

    def _invalid(self) -> GraphFault:
        return bad_request(f"Invalid filter clause: '{self.text}'.")

    def _operator(self, path: str, operator: str) -> None:
        allowed = next((ops for name, ops in FILTERABLE.items() if name.lower() == path.lower()), None)
        if allowed is None or operator not in allowed:
            raise unsupported_query(f"Unsupported filter: '{operator}' on '{path}' is not supported for directoryAudits.")

    def _clause(self, clause: str) -> Keep:
        found = _ANY.match(clause)
        if found is not None:
            return self._any(found.group(1), found.group(2).strip())
        found = _STARTSWITH.match(clause)
        if found is not None:
            path, prefix = found.group(1), found.group(2).replace("''", "'").lower()
            self._operator(path, "startswith")
            return lambda r: str(_value(r.body, _canonical(path)) or "").lower().startswith(prefix)
        found = _COMPARISON.match(clause)
        if found is None:
            raise self._invalid()
        path, operator, literal = found.group(1), found.group(2).lower(), found.group(3).strip()
        self._operator(path, operator)
        if path.lower() == "activitydatetime":
            if not _DATETIME.match(literal):
                raise bad_request(
                    "A binary operator with incompatible types was detected. Found operand types 'Edm.DateTimeOffset' "
                    f"and 'Edm.String' for operator kind '{operator}'."
                )
            bound = _moment(literal)
            compare: Callable[[float, float], bool] = {"eq": operator_module.eq, "ge": operator_module.ge,
                                                       "le": operator_module.le}[operator]
            return lambda r: compare(r.moment, bound)
        string = _STRING.match(literal)
        if string is None:
            raise self._invalid()
        wanted = string.group(1).replace("''", "'").lower()
        return lambda r: str(_value(r.body, _canonical(path)) or "").lower() == wanted

    def _any(self, variable: str, inner: str) -> Keep:
        """targetResources/any(t: t/id eq 'x'), t/displayName eq 'x', startswith(t/displayName, 'x')."""
        prefix = f"{variable}/"
        starts = _STARTSWITH.match(inner)
        if starts is not None and starts.group(1).lower() == prefix + "displayname":
            wanted = starts.group(2).replace("''", "'").lower()
            return lambda r: any(str(t.get("displayName") or "").lower().startswith(wanted) for t in r.body["targetResources"])
        found = _COMPARISON.match(inner)
        if found is None or found.group(2).lower() != "eq" or found.group(1).lower() not in (prefix + "id", prefix + "displayname"):
            raise unsupported_query(f"Unsupported filter on targetResources: '{inner}'.")
        string = _STRING.match(found.group(3).strip())
        if string is None:
            raise self._invalid()
        key = "id" if found.group(1).lower().endswith("/id") else "displayName"
        wanted = string.group(1).replace("''", "'").lower()
        return lambda r: any(str(t.get(key) or "").lower() == wanted for t in r.body["targetResources"])


def _canonical(path: str) -> str:
    return next(name for name in FILTERABLE if name.lower() == path.lower())


def _split_and(text: str) -> list[str]:
    """The clauses of 'a and b and c', not splitting inside quotes or parentheses."""
    parts, depth, quoted, start, index = [], 0, False, 0, 0
    lowered = text.lower()
    while index < len(text):
        char = text[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        elif not quoted and depth == 0 and lowered.startswith(" and ", index):
            parts.append(text[start:index])
            index += len(" and ")
            start = index
            continue
        index += 1
    parts.append(text[start:])
    if any(not part.strip() for part in parts):
        raise bad_request(f"Invalid filter clause: '{text}'.")
    return parts

