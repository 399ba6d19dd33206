"""The CA state machine: which operations each (effective) status allows, and transitions.

Every status change in the domain goes through `transition()`; any other change is
InvalidState. The capability rules follow the AWS page "Understand AWS Private CA CA status".
"""

from __future__ import annotations

import enum

from pica.authority.model import CaStatus
from pica.errors import InvalidState


class Action(enum.Enum):
    ISSUE = "issue certificates"
    IMPORT_CA_CERTIFICATE = "import a certificate authority certificate"
    UPDATE = "be updated"
    DELETE = "be deleted"
    RESTORE = "be restored"
    REVOKE = "revoke certificates"
    GET_CA_CERTIFICATE = "have a certificate authority certificate"
    GET_CERTIFICATE = "have issued certificates"
    GET_CSR = "have a certificate signing request"


S = CaStatus

# Which effective statuses allow each action.
ALLOWED: dict[Action, frozenset[CaStatus]] = {
    Action.ISSUE: frozenset({S.ACTIVE}),
    Action.IMPORT_CA_CERTIFICATE: frozenset({S.PENDING_CERTIFICATE, S.ACTIVE, S.EXPIRED}),
    Action.UPDATE: frozenset({S.ACTIVE, S.DISABLED}),
    Action.DELETE: frozenset({S.PENDING_CERTIFICATE, S.CREATING, S.EXPIRED, S.DISABLED, S.FAILED}),
    Action.RESTORE: frozenset({S.DELETED}),
    Action.REVOKE: frozenset({S.ACTIVE, S.DISABLED}),
    Action.GET_CA_CERTIFICATE: frozenset({S.ACTIVE, S.DISABLED, S.EXPIRED}),
    Action.GET_CERTIFICATE: frozenset({S.PENDING_CERTIFICATE, S.ACTIVE, S.DISABLED, S.EXPIRED}),
    Action.GET_CSR: frozenset(
        {S.CREATING, S.PENDING_CERTIFICATE, S.ACTIVE, S.DISABLED, S.EXPIRED, S.FAILED}
    ),
}

# Stored-status transitions. EXPIRED is never stored: it is derived from the CA certificate.
TRANSITIONS: dict[CaStatus, frozenset[CaStatus]] = {
    S.CREATING: frozenset({S.PENDING_CERTIFICATE, S.FAILED, S.DELETED}),
    S.PENDING_CERTIFICATE: frozenset({S.ACTIVE, S.DISABLED, S.DELETED}),
    S.ACTIVE: frozenset({S.ACTIVE, S.DISABLED, S.DELETED}),
    S.DISABLED: frozenset({S.ACTIVE, S.DISABLED, S.DELETED}),
    S.FAILED: frozenset({S.DELETED}),
    S.DELETED: frozenset({S.PENDING_CERTIFICATE, S.ACTIVE, S.DISABLED}),
    S.EXPIRED: frozenset(),
}


def require(action: Action, effective_status: CaStatus, arn: str) -> None:
    """Raise InvalidState unless a CA in `effective_status` may perform `action`."""
    if effective_status not in ALLOWED[action]:
        if action is Action.UPDATE:
            # AWS's wording, which the Terraform provider matches to tolerate disabling a
            # PENDING_CERTIFICATE CA before deleting it.
            raise InvalidState(
                "The certificate authority must be in the ACTIVE or DISABLED state to be "
                f"updated. {arn} is {effective_status}."
            )
        raise InvalidState(
            f"The certificate authority {arn} is not in the correct state to {action.value}. "
            f"Current status: {effective_status}."
        )


def transition(current: CaStatus, target: CaStatus, arn: str) -> CaStatus:
    """Check a stored-status change and return the new status."""
    if target not in TRANSITIONS[current]:
        raise InvalidState(
            f"The certificate authority {arn} cannot change from {current} to {target}."
        )
    return target
