"""CreatePermission, ListPermissions and DeletePermission: what the ACM service principal
(`acm.amazonaws.com`) may do on a CA, so that ACM can issue and renew certificates from it in
the CA's own account. Only the owner grants and revokes them; ListPermissions is shareable.

Permissions are kept per (CA, principal, source account); `ca_access.service_may` is how the
domain (ACM-managed renewal) asks whether one allows an action.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pica.authority.ca_access import Caller, load_ca
from pica.authority.model import CaStatus
from pica.authority.pagination import decode_token, encode_token
from pica.authority.ports import Clock, Store
from pica.authority.sharing import ACM_PRINCIPAL, Permission
from pica.errors import (
    Conflict,
    InvalidNextToken,
    InvalidRequest,
    InvalidState,
    NotFound,
    PermissionAlreadyExists,
)

LIST_PAGE_LIMIT = 1000  # the model's MaxResults maximum
_NO_PERMISSIONS = (CaStatus.DELETED, CaStatus.FAILED)


@dataclass(frozen=True)
class PermissionPage:
    permissions: list[Permission]
    next_token: str | None


def permission_policy(permission: Permission) -> str:
    """The permission as the resource policy statement it amounts to (ListPermissions' Policy
    member, which AWS fills the same way)."""
    statement: dict[str, object] = {
        "Sid": "acm-pca-permission",
        "Effect": "Allow",
        "Principal": {"Service": permission.principal},
        "Action": [f"acm-pca:{action}" for action in permission.actions],
        "Resource": permission.ca_arn,
    }
    if permission.source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": permission.source_account}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _check_principal(principal: str) -> None:
    if principal != ACM_PRINCIPAL:
        raise InvalidRequest(
            f"The principal {principal!r} is not valid: permissions can only be granted to "
            f"{ACM_PRINCIPAL}."
        )


class PermissionService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def create(
        self,
        caller: Caller,
        ca_arn: str,
        principal: str,
        actions: list[str],
        source_account: str | None,
    ) -> None:
        _check_principal(principal)
        now = self._clock.now()
        with self._store.transaction() as tx:
            ca = load_ca(tx, caller, ca_arn, now, action="CreatePermission", for_update=True)
            status = ca.effective_status(now)
            if status in _NO_PERMISSIONS:
                raise InvalidState(
                    f"The certificate authority {ca_arn} is {status}: it cannot be given "
                    "permissions."
                )
            permission = Permission(
                ca_arn=ca_arn,
                principal=principal,
                source_account=source_account,
                actions=tuple(dict.fromkeys(actions)),
                created_at=now,
            )
            try:
                tx.insert_permission(permission)
            except Conflict:
                raise PermissionAlreadyExists(
                    f"The permission for {principal} on {ca_arn} already exists."
                ) from None

    def list(
        self, caller: Caller, ca_arn: str, max_results: int | None, next_token: str | None
    ) -> PermissionPage:
        now = self._clock.now()
        position = decode_token(f"permissions:{ca_arn}", next_token) or "0"
        if not position.isdigit():
            raise InvalidNextToken("The NextToken is not valid.")
        start = int(position)
        with self._store.transaction(read_only=True) as tx:
            load_ca(tx, caller, ca_arn, now, action="ListPermissions")
            permissions = tx.list_permissions(ca_arn)
        end = start + min(max_results or LIST_PAGE_LIMIT, LIST_PAGE_LIMIT)
        token = encode_token(f"permissions:{ca_arn}", str(end)) if end < len(permissions) else None
        return PermissionPage(permissions[start:end], token)

    def delete(
        self, caller: Caller, ca_arn: str, principal: str, source_account: str | None
    ) -> None:
        now = self._clock.now()
        with self._store.transaction() as tx:
            load_ca(tx, caller, ca_arn, now, action="DeletePermission", for_update=True)
            if not tx.delete_permission(ca_arn, principal, source_account):
                raise NotFound(f"Could not find a permission for {principal} on {ca_arn}.")
