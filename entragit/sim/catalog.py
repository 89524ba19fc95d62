"""Every collection the simulated tenant serves, by name: the directory's own (model.py), the identity and
role resources (model_identity.py) and the tenant's policies (model_policies.py), gathered here so that
those modules build on model.py without model.py importing them back."""

from __future__ import annotations

from entragit.sim.model import (
    ADMINISTRATIVE_UNITS,
    APPLICATIONS,
    CA_POLICIES,
    GROUPS,
    NAMED_LOCATIONS,
    SERVICE_PRINCIPALS,
    USERS,
    CollectionSpec,
)
from entragit.sim.model_app_policies import APP_POLICY_COLLECTIONS
from entragit.sim.model_apps_access import APPS_ACCESS_COLLECTIONS
from entragit.sim.model_entitlement import ENTITLEMENT_COLLECTIONS
from entragit.sim.model_identity import IDENTITY_COLLECTIONS
from entragit.sim.model_pim import PIM_COLLECTIONS
from entragit.sim.model_pim_groups import PIM_GROUP_COLLECTIONS
from entragit.sim.model_policies import POLICY_COLLECTIONS
from entragit.sim.model_protected_actions import PROTECTED_ACTION_COLLECTIONS
from entragit.sim.model_tenant_signin import TENANT_SIGNIN_COLLECTIONS
from entragit.sim.model_tenant_config import TENANT_CONFIG_COLLECTIONS

COLLECTIONS: tuple[CollectionSpec, ...] = (USERS, GROUPS, CA_POLICIES, NAMED_LOCATIONS)
COLLECTIONS += (APPLICATIONS, SERVICE_PRINCIPALS, ADMINISTRATIVE_UNITS)

COLLECTIONS += IDENTITY_COLLECTIONS

COLLECTIONS += POLICY_COLLECTIONS
COLLECTIONS += PROTECTED_ACTION_COLLECTIONS
COLLECTIONS += PIM_COLLECTIONS
COLLECTIONS += APP_POLICY_COLLECTIONS
COLLECTIONS += TENANT_SIGNIN_COLLECTIONS
COLLECTIONS += TENANT_CONFIG_COLLECTIONS
COLLECTIONS += APPS_ACCESS_COLLECTIONS
COLLECTIONS += ENTITLEMENT_COLLECTIONS
COLLECTIONS += PIM_GROUP_COLLECTIONS
BY_NAME: dict[str, CollectionSpec] = {spec.name: spec for spec in COLLECTIONS}
# Collections whose objects are directoryObjects: reachable through /directoryObjects/{id} and $ref URLs.
DIRECTORY_OBJECT_COLLECTIONS: tuple[str, ...] = ("users", "groups")
DIRECTORY_OBJECT_COLLECTIONS += ("applications", "servicePrincipals", "administrativeUnits", "devices")
