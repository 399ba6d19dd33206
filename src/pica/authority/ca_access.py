"""Who may do what on a CA: the one place the domain decides it (design: "Authorization").

A caller (an authenticated account) asks for an action on a CA. The CA's owner may do
everything its status allows. Another account may take only the actions a resource policy can
share (`policy.document.SHAREABLE_ACTIONS`), and only those the CA's policy allows it, as the
evaluator decides (Allow/Deny, principals, actions, resources, conditions such as
`acm-pca:TemplateArn`). A CA whose policy shares nothing with the caller stays invisible
(ResourceNotFoundException, as if it did not exist); a CA shared with the caller answers a
refused action with AccessDeniedException. The policy is read on every such request, so
deleting it removes access at once.

The owner's path costs nothing beyond reading the CA: the policy is read only for callers of
another account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pica.authority.model import CaStatus, CertificateAuthority
from pica.authority.policy.document import SHAREABLE_ACTIONS, PolicyDocument, cached_policy
from pica.authority.policy.evaluator import (
    TEMPLATE_ARN_KEY,
    AccessRequest,
    Decision,
    decide,
    shares_with,
)
from pica.authority.ports import Transaction
from pica.authority.sharing import AUDIT_SUCCESS, AuditRecord
from pica.errors import AccessDenied, NotFound


@dataclass(frozen=True)
class Caller:
    """The authenticated account a request acts for, with the access key it signed with and
    the request's id (both go into the audit trail)."""

    account_id: str
    access_key_id: str | None = None
    request_id: str | None = None


# What the audit trail records: every administrative action and every use of a CA key.
AUDITED_ACTIONS = frozenset(
    {
        "CreateCertificateAuthority",
        "UpdateCertificateAuthority",
        "DeleteCertificateAuthority",
        "RestoreCertificateAuthority",
        "ImportCertificateAuthorityCertificate",
        "IssueCertificate",
        "RevokeCertificate",
        "TagCertificateAuthority",
        "UntagCertificateAuthority",
        "CreatePermission",
        "DeletePermission",
        "PutPolicy",
        "DeletePolicy",
        "CreateCertificateAuthorityAuditReport",
    }
)
# Audited actions that load their CA without a row lock (the others lock it: that is the load
# made in the transaction performing the action, not a read-only check before it).
_UNLOCKED_AUDITED = frozenset({"IssueCertificate", "RevokeCertificate"})


def is_purged(ca: CertificateAuthority, now: datetime) -> bool:
    """A DELETED CA past its restore window: gone for every purpose, even before the sweep
    removes its rows."""
    return (
        ca.status is CaStatus.DELETED
        and ca.restorable_until is not None
        and ca.restorable_until <= now
    )


def _not_found(arn: str) -> NotFound:
    return NotFound(f"Could not find certificate authority {arn}.")


def _policy_of(tx: Transaction, ca: CertificateAuthority) -> PolicyDocument | None:
    text = tx.get_policy(ca.arn)
    return None if text is None else cached_policy(text)


def load_ca(
    tx: Transaction,
    caller: Caller,
    arn: str,
    now: datetime,
    *,
    action: str,
    for_update: bool = False,
    template_arn: str | None = None,
) -> CertificateAuthority:
    """The CA if `caller` may take `action` (the operation's name) on it.

    NotFound for a CA that does not exist, is purged, or belongs to another account and is not
    shared with the caller; AccessDenied for a CA shared with the caller when the policy does
    not allow `action` (with `template_arn` as `acm-pca:TemplateArn`).
    """
    ca = authorize_ca(
        tx, caller, arn, now, action=action, for_update=for_update, template_arn=template_arn
    )
    if action in AUDITED_ACTIONS and (for_update or action in _UNLOCKED_AUDITED):
        # Same transaction as the action: the record exists exactly when the action committed.
        record_success(tx, caller, action, arn, now)
    return ca


def authorize_ca(
    tx: Transaction,
    caller: Caller,
    arn: str,
    now: datetime,
    *,
    action: str,
    for_update: bool = False,
    template_arn: str | None = None,
) -> CertificateAuthority:
    """`load_ca` without the audit record: for a check made before the action, in a read-only
    transaction (the action's own transaction records it)."""
    ca = tx.get_ca(arn, for_update=for_update)
    if ca is None or is_purged(ca, now):
        raise _not_found(arn)
    if ca.account_id != caller.account_id:
        _authorize_other(tx, caller, ca, action, template_arn)
    return ca


def record_success(
    tx: Transaction,
    caller: Caller,
    action: str,
    resource: str | None,
    at: datetime,
    detail: str | None = None,
) -> None:
    """Append the audit record of an action inside the transaction that performs it."""
    tx.append_audit(
        AuditRecord(
            at=at,
            action=action,
            result=AUDIT_SUCCESS,
            account_id=caller.account_id,
            access_key_id=caller.access_key_id,
            request_id=caller.request_id,
            resource=resource,
            detail=detail,
        )
    )


def _authorize_other(
    tx: Transaction,
    caller: Caller,
    ca: CertificateAuthority,
    action: str,
    template_arn: str | None,
) -> None:
    arn = ca.arn
    policy = _policy_of(tx, ca)
    if policy is None or not shares_with(policy, caller.account_id):
        raise _not_found(arn)
    context = {TEMPLATE_ARN_KEY: template_arn} if template_arn is not None else {}
    if (
        action not in SHAREABLE_ACTIONS
        or decide(policy, AccessRequest(caller.account_id, action, arn, context))
        is not Decision.ALLOW
    ):
        raise AccessDenied(
            f"User: arn:aws:iam::{caller.account_id}:root is not authorized to perform: "
            f"acm-pca:{action} on resource: {arn}"
        )


def shared_with_caller(tx: Transaction, caller: Caller, ca: CertificateAuthority) -> bool:
    """Whether another account's CA is shared with the caller (ResourceOwner=OTHER_ACCOUNTS)."""
    if ca.account_id == caller.account_id:
        return False
    policy = _policy_of(tx, ca)
    return policy is not None and shares_with(policy, caller.account_id)


def service_may(
    tx: Transaction, ca: CertificateAuthority, principal: str, action: str, source_account: str
) -> bool:
    """Whether a permission lets the service `principal` (acm.amazonaws.com) take `action` on
    the CA for certificates of `source_account`: ACM-managed issuance and renewal ask this.
    Permissions only work within the CA's own account (AWS: across accounts, a resource policy
    is needed)."""
    if source_account != ca.account_id:
        return False
    for candidate in (source_account, None):
        permission = tx.get_permission(ca.arn, principal, candidate)
        if permission is not None and action in permission.actions:
            return True
    return False
