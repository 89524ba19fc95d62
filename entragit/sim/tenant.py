"""The in-memory tenant: objects per collection, relationship links, and the invariants Graph keeps.

One lock guards it all. Handlers hold it for a whole request, so a request sees one consistent tenant
and two writers never interleave; the simulator is not meant to be fast under contention.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from entragit.sim.catalog import BY_NAME, COLLECTIONS, DIRECTORY_OBJECT_COLLECTIONS
from entragit.sim.changes import (
    CREATED,
    HARD_DELETED,
    LINKED,
    UNLINKED,
    UPDATED,
    ChangeLog,
)
from entragit.sim.clock import SimClock
from entragit.sim.errors import GraphFault, bad_request, resource_not_found
from entragit.sim.model import (
    EXTENSION_ATTRIBUTES,
    GROUPS,
    UNIFIED,
    USERS,
    CollectionSpec,
    Relationship,
    blank_object,
    is_dynamic,
    merge_attribute_sets,
)
from entragit.sim.model_identity import is_directory_extension
from entragit.sim.rules import RuleError, UserPredicate, parse_rule

LINKS: tuple[str, ...] = ("members", "owners", "manager", "appManagementPolicies")
LINKS += ("appliesTo",)  # the groups a feature rollout policy applies to
LINKS += ("internalSponsors", "externalSponsors")


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def security_identifier(object_id: str) -> str:
    """Entra derives cloud SIDs from the object id: S-1-12-1 plus the GUID as four 32-bit integers."""
    raw = uuid.UUID(object_id).bytes_le
    parts = [int.from_bytes(raw[i : i + 4], "little") for i in range(0, 16, 4)]
    return "S-1-12-1-" + "-".join(str(p) for p in parts)


class Tenant:
    def __init__(self, tenant_id: str, domain: str, organization: str) -> None:
        self.lock = threading.RLock()
        self.tenant_id = tenant_id
        self.domain = domain
        self.organization = organization
        self.objects: dict[str, dict[str, dict[str, Any]]] = {spec.name: {} for spec in COLLECTIONS}
        # link name -> source id -> target ids. members/owners: group -> objects; manager: user -> {manager}.
        self.links: dict[str, dict[str, set[str]]] = {name: {} for name in LINKS}
        # The same links from the other end (target id -> source ids): Graph answers memberOf from an index,
        # not by scanning every group.
        self._sources: dict[str, dict[str, set[str]]] = {name: {} for name in LINKS}
        self._upn_index: dict[str, str] = {}
        self._sorted: dict[str, list[dict[str, Any]]] = {}
        self._rules: dict[str, UserPredicate] = {}
        self.clock = SimClock()
        # Every write after the seed, numbered, for delta queries (changes.py).
        self.changes = ChangeLog()

    # --- reading -----------------------------------------------------------------------------------------

    def find(self, spec: CollectionSpec, key: str) -> dict[str, Any] | None:
        objects = self.objects[spec.name]
        found = objects.get(key) or objects.get(key.lower())
        if found is None and spec is USERS:
            # /users/{id | userPrincipalName}; UPNs compare case-insensitively.
            object_id = self._upn_index.get(key.lower())
            found = objects.get(object_id) if object_id else None
        if found is None and spec.name not in DIRECTORY_OBJECT_COLLECTIONS:
            # Keys other than directory object ids are matched in any case too: 'fido2' names the 'Fido2'
            # method configuration (fido2authenticationmethodconfiguration-update sends the lower case).
            found = next((obj for name, obj in objects.items() if name.lower() == key.lower()), None)
        return found

    def require(self, spec: CollectionSpec, key: str) -> dict[str, Any]:
        found = self.find(spec, key)
        if found is None:
            raise resource_not_found(key, spec.codes.not_found)
        return found

    def directory_object(self, object_id: str) -> tuple[CollectionSpec, dict[str, Any]] | None:
        for name in DIRECTORY_OBJECT_COLLECTIONS:
            spec = BY_NAME[name]
            found = self.objects[name].get(object_id) or self.objects[name].get(object_id.lower())
            if found is not None:
                return spec, found
        return None

    def sorted_objects(self, spec: CollectionSpec) -> list[dict[str, Any]]:
        """Objects in id order, the order paging walks; cached until the collection gains or loses an object."""
        cached = self._sorted.get(spec.name)
        if cached is None:
            cached = sorted(self.objects[spec.name].values(), key=lambda obj: obj["id"])
            self._sorted[spec.name] = cached
        return cached

    def related(self, relationship: Relationship, source_id: str) -> list[tuple[CollectionSpec, dict[str, Any]]]:
        table = self.links[relationship.link]
        if relationship.reverse:
            ids = list(self._sources[relationship.link].get(source_id, ()))
        else:
            ids = list(table.get(source_id, ()))
        found = (self.directory_object(object_id) or self.linked_object(relationship, object_id) for object_id in sorted(ids))
        return [item for item in found if item is not None]

    def linked_object(self, relationship: Relationship, object_id: str) -> tuple[CollectionSpec, dict[str, Any]] | None:
        """A linked object that is no directory object (an app management policy an app has)."""
        for name in relationship.target_collections:
            found = self.objects[name].get(object_id) if name not in DIRECTORY_OBJECT_COLLECTIONS else None
            if found is not None:
                return BY_NAME[name], found
        return None

    # --- writing -----------------------------------------------------------------------------------------

    def create(
        self, spec: CollectionSpec, changes: dict[str, Any], odata_type: str | None = None, object_id: str | None = None
    ) -> dict[str, Any]:
        """A new object; `object_id` when its key comes from the request (a partner's tenantId, 'c1')."""
        obj = blank_object(spec, odata_type)
        obj["id"] = object_id or str(uuid.uuid4())
        self._stamp_new(spec, obj)
        self._check_rule(spec, obj, changes)
        self._apply(spec, obj, changes)
        if spec.complete is not None:
            spec.complete(self, obj)
        if spec is GROUPS:
            self._derive_group_addresses(obj)
        self.add(spec, obj)
        self.changes.record(CREATED, spec.name, obj["id"], tuple(changes))
        return obj

    def add(self, spec: CollectionSpec, obj: dict[str, Any]) -> None:
        """Insert a fully formed object (the seed builds them) and keep indexes and dynamic groups current."""
        if spec is USERS:
            self._check_upn_free(obj["userPrincipalName"], obj["id"])
        self.objects[spec.name][obj["id"]] = obj
        self._sorted.pop(spec.name, None)
        if spec is USERS:
            self._upn_index[obj["userPrincipalName"].lower()] = obj["id"]
            self._recompute_user(obj)
        elif spec is GROUPS:
            self._refresh_rule(obj)

    def update(self, spec: CollectionSpec, obj: dict[str, Any], changes: dict[str, Any]) -> None:
        self._check_rule(spec, obj, changes)
        if spec is USERS and "userPrincipalName" in changes:
            self._check_upn_free(changes["userPrincipalName"], obj["id"])
            self._upn_index.pop(obj["userPrincipalName"].lower(), None)
            self._upn_index[changes["userPrincipalName"].lower()] = obj["id"]
        before = dict(obj)
        self._apply(spec, obj, changes)
        if spec.modified_stamp:
            obj[spec.modified_stamp] = utc_now()
        # Derived properties (proxyAddresses after mail) change too; delta reports what changed, not what was sent.
        changed = tuple(key for key, value in obj.items() if key in changes or before.get(key) != value)
        self.changes.record(UPDATED, spec.name, obj["id"], changed, before={key: before.get(key) for key in changed})
        if spec is USERS:
            self._recompute_user(obj)
        elif spec is GROUPS and {"groupTypes", "membershipRule", "membershipRuleProcessingState"} & set(changes):
            self._refresh_rule(obj)

    def _apply(self, spec: CollectionSpec, obj: dict[str, Any], changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            if key in spec.merged:
                # onPremisesExtensionAttributes merges key by key; a null clears one key (graph-behaviour §6).
                merged = dict(obj.get(key) or dict.fromkeys(EXTENSION_ATTRIBUTES))
                merged.update(value or {})
                obj[key] = merged
            elif key == "customSecurityAttributes" and value is not None:
                obj[key] = merge_attribute_sets(obj.get(key), value)
            elif value is None and is_directory_extension(key):
                # A directory extension set to null is removed from the object (extensionProperty resource).
                obj.pop(key, None)
            elif key not in spec.write_only:
                # passwordProfile is accepted and dropped: nobody signs in as a simulated user.
                obj[key] = value
        if spec is USERS and "mail" in changes:
            self._derive_proxy_addresses(obj)
        if spec is USERS and {"userPrincipalName", "identities"} & set(changes):
            self._derive_identities(obj)
        if spec is GROUPS and is_dynamic(obj) and obj["membershipRuleProcessingState"] is None:
            obj["membershipRuleProcessingState"] = "On"
        if spec.after_write is not None:
            spec.after_write(obj)

    def delete(self, spec: CollectionSpec, obj: dict[str, Any], kind: str = HARD_DELETED) -> None:
        """Take an object out of the directory; kind says whether it went to a recycle bin (SOFT_DELETED)."""
        object_id = obj["id"]
        del self.objects[spec.name][object_id]
        self._sorted.pop(spec.name, None)
        if spec is USERS:
            self._upn_index.pop(obj["userPrincipalName"].lower(), None)
        self._rules.pop(object_id, None)
        self.changes.record(kind, spec.name, object_id)
        for link, table in self.links.items():
            sources = self._sources[link]
            for target_id in table.pop(object_id, ()):
                sources.get(target_id, set()).discard(object_id)
            holders = sources.pop(object_id, set())
            for source_id, targets in table.items():
                if source_id in holders:
                    targets.discard(object_id)
                    # A member deleted is a member removed, for members@delta (graph-behaviour §2).
                    self._record_link(UNLINKED, link, source_id, object_id, spec.name)

    def link(self, link: str, source_id: str, target_id: str) -> None:
        self.links[link].setdefault(source_id, set()).add(target_id)
        self._sources[link].setdefault(target_id, set()).add(source_id)
        self._record_link(LINKED, link, source_id, target_id)

    def unlink(self, link: str, source_id: str, target_id: str) -> None:
        targets = self.links[link].get(source_id)
        if targets is not None:
            targets.discard(target_id)
            self._sources[link].get(target_id, set()).discard(source_id)
            if not targets:
                del self.links[link][source_id]
            self._record_link(UNLINKED, link, source_id, target_id)

    def set_single(self, link: str, source_id: str, target_id: str | None) -> None:
        """Point a single-valued link (manager) at target_id, or clear it with None."""
        for old in list(self.links[link].get(source_id, ())):
            if old != target_id:
                self.unlink(link, source_id, old)
        if target_id is not None:
            self.link(link, source_id, target_id)

    def collection_of(self, object_id: str) -> str | None:
        # A plain loop: a delta round of 20k groups asks this for every member, under the tenant's lock.
        for name, objects in self.objects.items():
            if object_id in objects:
                return name
        return None

    def _record_link(self, kind: str, link: str, source_id: str, target_id: str, target_collection: str | None = None) -> None:
        if self.changes.recording:
            target_collection = target_collection or self.collection_of(target_id)
            self.changes.record(kind, self.collection_of(source_id), source_id, (), link, target_id, target_collection)

    def is_linked(self, link: str, source_id: str, target_id: str) -> bool:
        return target_id in self.links[link].get(source_id, ())

    # --- invariants --------------------------------------------------------------------------------------

    def _check_upn_free(self, upn: str, object_id: str) -> None:
        holder = self._upn_index.get(upn.lower())
        if holder is not None and holder != object_id:
            raise GraphFault(
                400,
                "Request_BadRequest",
                "Another object with the same value for property userPrincipalName already exists.",
                details=[{"target": "userPrincipalName", "code": "ObjectConflict"}],
            )

    def _stamp_new(self, spec: CollectionSpec, obj: dict[str, Any]) -> None:
        now = utc_now()
        if "createdDateTime" in spec.properties:
            obj["createdDateTime"] = now
        if spec.modified_stamp:
            obj[spec.modified_stamp] = now
        if spec is USERS:
            obj["securityIdentifier"] = security_identifier(obj["id"])
            obj["userType"] = "Member"
            obj["onPremisesExtensionAttributes"] = dict.fromkeys(EXTENSION_ATTRIBUTES)
            obj["lastPasswordChangeDateTime"] = now
            # Graph's default enrollment limit (user resource: 5 or 1000).
            obj["deviceEnrollmentLimit"] = 5
        elif spec is GROUPS:
            obj["securityIdentifier"] = security_identifier(obj["id"])
            obj["renewedDateTime"] = now

    def _derive_group_addresses(self, group: dict[str, Any]) -> None:
        """Microsoft 365 groups get a mailbox address from their nickname and default to Public, or to Private
        when they can be assigned to roles (group-post-groups: the role-assignable group is answered Private)."""
        if UNIFIED in group["groupTypes"]:
            group["mail"] = f"{group['mailNickname']}@{self.domain}"
            group["proxyAddresses"] = [f"SMTP:{group['mail']}"]
            group["visibility"] = group["visibility"] or ("Private" if group.get("isAssignableToRole") else "Public")

    def _check_rule(self, spec: CollectionSpec, obj: dict[str, Any], changes: dict[str, Any]) -> None:
        merged = {**obj, **changes}
        if spec is GROUPS and is_dynamic(merged):
            try:
                parse_rule(merged.get("membershipRule") or "")
            except RuleError as error:
                raise bad_request(
                    f"Invalid value specified for property 'membershipRule' of resource 'Group'. {error}"
                ) from None

    def _derive_proxy_addresses(self, user: dict[str, Any]) -> None:
        # Changing mail makes it the primary SMTP address and keeps the old ones as secondaries (graph-behaviour §6).
        others = [a for a in user["proxyAddresses"] if a.lower() != f"smtp:{(user['mail'] or '').lower()}"]
        demoted = [f"smtp:{a[5:]}" if a.startswith("SMTP:") else a for a in others]
        user["proxyAddresses"] = ([f"SMTP:{user['mail']}"] if user["mail"] else []) + demoted

    def _derive_identities(self, user: dict[str, Any]) -> None:
        # Every account signs in with its user principal name, an identity issued by the tenant's domain.
        others = [i for i in user.get("identities") or [] if i.get("signInType") != "userPrincipalName"]
        user["identities"] = [{"signInType": "userPrincipalName", "issuer": self.domain,
                               "issuerAssignedId": user["userPrincipalName"]}, *others]

    def _refresh_rule(self, group: dict[str, Any]) -> None:
        if not is_dynamic(group) or group.get("membershipRuleProcessingState") == "Paused":
            # A paused rule keeps its last computed members; a group turned static keeps them as static.
            self._rules.pop(group["id"], None)
            return
        rule = parse_rule(group["membershipRule"])
        self._rules[group["id"]] = rule
        members = {uid for uid, user in self.objects["users"].items() if rule(user)}
        current = set(self.links["members"].get(group["id"], ()))
        # Link by link rather than one assignment, so that the change log sees each member come and go.
        for user_id in sorted(members - current):
            self.link("members", group["id"], user_id)
        for user_id in sorted(current - members):
            self.unlink("members", group["id"], user_id)

    def _recompute_user(self, user: Mapping[str, Any]) -> None:
        # Only a membership the rule actually gains or loses is a change: delta must not name every
        # dynamic group each time any user is edited.
        for group_id, rule in self._rules.items():
            member = user["id"] in self.links["members"].get(group_id, ())
            if rule(user) and not member:
                self.link("members", group_id, user["id"])
            elif member and not rule(user):
                self.unlink("members", group_id, user["id"])
