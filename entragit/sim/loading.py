"""Loading a tenant from objects read elsewhere: `Simulator(size="empty")` then `sim.load({...})`.

    sim.load({
        "users": [{"id": "...", "userPrincipalName": "...", "manager": {"id": "..."}}],
        "groups": [{"id": "...", "displayName": "...", "members": [{"id": "..."}], "owners": [{"id": "..."}]}],
        "identity/conditionalAccess/policies": [{"id": "...", "displayName": "...", "state": "enabled", ...}],
        "policies/authorizationPolicy": [{"id": "authorizationPolicy", ...}],
    })

Keys are Graph's collection paths (without the version: a beta-only collection is named by its path too);
values are objects as Graph answers a GET of them, with the navigation properties the tenant keeps links
for (members, owners, manager) in the shape `$expand` gives them: a list of objects, or one object, each
with its id. Properties the simulator does not model are left out, and those an object does not give are
unset (empty lists, null), as on an object Graph just made. The items of a collection Graph keeps under
an object (an application's federatedIdentityCredentials, a policy's includes) are given with it as a list
under that collection's path below the object ("federatedIdentityCredentials", "branding/localizations"). Links are made once every object is in, so an
object may name one that comes later; a link to an object never loaded stays in the link table and is
left out of answers, as Graph leaves out a member it cannot resolve.

Objects deleted into a recycle bin are loaded apart, `sim.load(live, deleted={"users": [...]})`, as the
bin serves them (deletedDateTime set, a user's userPrincipalName prefixed with its id): they wait in the bin
to be restored, with no link parked (a restore brings back only the object).

What a load is for: a rehearsal tenant holding only the objects a restore will touch (entragit restore
--rehearse). Nothing of this is audited or reported by delta queries: the objects were there before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from entragit.sim.catalog import COLLECTIONS
from entragit.sim.identity import ALL_NESTED
from entragit.sim.model import CollectionSpec, blank_object
from entragit.sim.model_identity import Nested
from entragit.sim.tenant import LINKS, Tenant


def collection_at(path: str) -> CollectionSpec:
    """The collection Graph serves at path (without the version)."""
    for spec in COLLECTIONS:
        if spec.path.lower() == path.strip("/").lower():
            return spec
    raise KeyError(f"the simulator serves no collection at {path!r}")


def _linked(value: Any) -> list[str]:
    """The ids an $expand-shaped navigation property names: [{"id": ...}, ...] or {"id": ...} or null."""
    entries = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    return [str(entry["id"]) for entry in entries if isinstance(entry, dict) and entry.get("id")]


def load(tenant: Tenant, objects: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
    """Add the objects to the tenant (collection path -> Graph-shaped objects), then their links."""
    links: list[tuple[str, str, str]] = []
    with tenant.lock:
        recording, tenant.changes.recording = tenant.changes.recording, False
        try:
            for path, items in objects.items():
                spec = collection_at(path)
                for given in items:
                    obj = blank_object(spec, given.get("@odata.type") if spec.subtypes else None)
                    known = spec.properties_of(given)
                    obj.update({k: v for k, v in given.items() if k in known and k not in spec.write_only})
                    key = given.get(spec.key) or (spec.segments[-1] if spec.singleton else None)
                    if not key:
                        raise ValueError(f"an object of {path} without its {spec.key}")
                    obj[spec.key] = key
                    obj["id"] = key
                    links.extend((link, str(key), target) for link in LINKS for target in _linked(given.get(link)))
                    tenant.add(spec, obj)
                    for nested in ALL_NESTED:
                        if nested.parent == spec.name and isinstance(under := given.get(nested.segment), list):
                            _load_items(tenant, nested, str(key), under)
            for link, source, target in links:
                tenant.link(link, source, target)
        finally:
            tenant.changes.recording = recording


def _load_items(tenant: Tenant, nested: Nested, holder: str, items: list[Any]) -> None:
    """The items of a collection under the object holder, each filed under its own id and the holder's."""
    for given in items:
        if not isinstance(given, Mapping) or not given.get("id"):
            raise ValueError(f"an item of {nested.parent}/{holder}/{nested.segment} without its id")
        item = blank_object(nested.spec)
        known = nested.spec.properties_of(given)
        item.update({k: v for k, v in given.items() if k in known and k not in nested.spec.write_only})
        item.update({"id": given["id"], nested.key: holder})
        tenant.add(nested.spec, item)
