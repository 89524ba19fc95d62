"""Planning an object's credentials: one added since the snapshot may be a backdoor, one removed since cannot
come back.
"""

from __future__ import annotations

from typing import Any

from entragit.canonical import Obj
from entragit.registry import ObjectType
from entragit.restore.kinds import StepKind
from entragit.restore.planner.state import PlanState


def _credential_label(credential: dict[str, Any]) -> str:
    return f"{credential.get('displayName') or 'unnamed'} ({credential.get('keyId')})"


class Credentials(PlanState):
    """An object's credentials."""

    def _plan_credentials(self, object_type: ObjectType, object_id: str, name: str | None, desired: Obj,
                          live: Obj | None) -> None:
        """A credential added since the snapshot may be a backdoor: removed only when asked. One deleted
        since cannot come back: Graph never gives a secret out, so none is in the snapshot."""
        for prop, action in object_type.credentials.items():
            if not self.selection.writes_attribute(prop):
                continue
            want = {c.get("keyId"): c for c in desired.get(prop, [])}
            have = {c.get("keyId"): c for c in (live or {}).get(prop, [])}
            for key_id in sorted(set(want) - set(have), key=str):
                self.block(object_type, object_id, name, f"{prop}: {_credential_label(want[key_id])}",
                           "removed since the snapshot; a secret or key cannot be brought back (Graph never "
                           "returns one): add a new credential and give it to the app's clients")
            for key_id in sorted(set(have) - set(want), key=str):
                label = f"{prop}: {_credential_label(have[key_id])}"
                if not self.options.remove_new_credentials:
                    self.block(object_type, object_id, name, label,
                               "added since the snapshot; run again with --remove-new-credentials to remove it")
                elif action is None:
                    self.block(object_type, object_id, name, label,
                               "added since the snapshot, but Graph removes a key only with a proof signed by "
                               "another of the app's keys; remove it in the portal")
                else:
                    self.step(StepKind.REMOVE_CREDENTIAL, object_type, object_id, name, "POST",
                              f"{object_type.item_path(object_id)}/{action}", {"keyId": key_id}, detail=label)

