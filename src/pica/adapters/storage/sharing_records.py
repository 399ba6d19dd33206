"""The store side of sharing and oversight (`pica.authority.sharing_ports`): a mixin that
`SqlTransaction` inherits, on the same connection and in the same transaction.

It keeps to its own tables (`tables.py`, revisions 0004 and 0005) and its own small helpers, so
that the rest of the adapter can change around it.

Past ~400 lines because it maps five record families of one feature (permissions, policies,
requesters, audit reports, the audit trail) that share its helpers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Row, Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from pica.adapters.storage.driver_statements import DriverStatement
from pica.adapters.storage.tables import (
    audit_chain_head,
    audit_reports,
    audit_trail,
    ca_permissions,
    ca_policies,
    ca_policy_principals,
    certificate_authorities,
    certificate_requesters,
    certificates,
    serial_from_text,
    serial_to_text,
)
from pica.authority.model import RevocationReason
from pica.authority.sharing import (
    AUDIT_GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    AuditReport,
    AuditReportFormat,
    AuditReportStatus,
    AuditSeal,
    Permission,
    StoredAuditRecord,
)
from pica.errors import Conflict

# Rows fetched per round trip when streaming an audit report's certificates.
_AUDIT_BATCH = 5_000
# The audit trail's chain head row.
_HEAD = "trail"
# One per audited action and one per record sealed: on the driver's cursor (`driver_statements`).
_APPEND_AUDIT = DriverStatement(
    audit_trail.insert(),
    column_keys=(
        "at",
        "request_id",
        "account_id",
        "access_key_id",
        "action",
        "resource",
        "result",
        "detail",
    ),
)
_SEAL_AUDIT = DriverStatement(
    update(audit_trail)
    .where(audit_trail.c.id == bindparam("record_id"), audit_trail.c.position.is_(None))
    .values(
        position=bindparam("position"),
        prev_hash=bindparam("prev_hash"),
        hash=bindparam("hash"),
    )
)


class SharingRecordsMixin:
    """Implements `SharingRecords` for `SqlTransaction` (which provides the attributes)."""

    _connection: Connection
    _dialect: str
    _read_only: bool

    # --- permissions --------------------------------------------------------------------------

    def insert_permission(self, permission: Permission) -> None:
        values = {
            "ca_arn": permission.ca_arn,
            "principal": permission.principal,
            "source_account": permission.source_account or "",
            "actions": json.dumps(list(permission.actions)),
            "created_at": permission.created_at,
        }
        if self._sharing_insert(ca_permissions, values) != 1:
            raise Conflict(f"a permission for {permission.principal} already exists")

    def get_permission(
        self, ca_arn: str, principal: str, source_account: str | None
    ) -> Permission | None:
        table = ca_permissions
        row = self._connection.execute(
            select(table).where(
                table.c.ca_arn == ca_arn,
                table.c.principal == principal,
                table.c.source_account == (source_account or ""),
            )
        ).one_or_none()
        return None if row is None else _permission(row)

    def list_permissions(self, ca_arn: str) -> list[Permission]:
        table = ca_permissions
        rows = self._connection.execute(
            select(table)
            .where(table.c.ca_arn == ca_arn)
            .order_by(table.c.principal, table.c.source_account)
        ).all()
        return [_permission(row) for row in rows]

    def delete_permission(self, ca_arn: str, principal: str, source_account: str | None) -> bool:
        self._sharing_writable()
        table = ca_permissions
        statement = delete(table).where(
            table.c.ca_arn == ca_arn,
            table.c.principal == principal,
            table.c.source_account == (source_account or ""),
        )
        return self._connection.execute(statement).rowcount > 0

    # --- resource policies --------------------------------------------------------------------

    def get_policy(self, ca_arn: str) -> str | None:
        query = select(ca_policies.c.policy).where(ca_policies.c.ca_arn == ca_arn)
        policy: str | None = self._connection.execute(query).scalar_one_or_none()
        return policy

    def put_policy(
        self, ca_arn: str, policy: str, shared_with: frozenset[str], at: datetime
    ) -> None:
        self._sharing_writable()
        updated = self._connection.execute(
            update(ca_policies)
            .where(ca_policies.c.ca_arn == ca_arn)
            .values(policy=policy, updated_at=at)
        ).rowcount
        if updated == 0 and (
            self._sharing_insert(
                ca_policies, {"ca_arn": ca_arn, "policy": policy, "updated_at": at}
            )
            != 1
        ):
            raise Conflict(f"the policy of {ca_arn} changed concurrently")
        self._replace_principals(ca_arn, shared_with)

    def delete_policy(self, ca_arn: str) -> bool:
        self._sharing_writable()
        self._replace_principals(ca_arn, frozenset())
        statement = delete(ca_policies).where(ca_policies.c.ca_arn == ca_arn)
        return self._connection.execute(statement).rowcount > 0

    def _replace_principals(self, ca_arn: str, principals: frozenset[str]) -> None:
        table = ca_policy_principals
        self._connection.execute(delete(table).where(table.c.ca_arn == ca_arn))
        if principals:
            rows = [{"ca_arn": ca_arn, "principal": p} for p in sorted(principals)]
            self._connection.execute(table.insert(), rows)

    def list_cas_shared_with(
        self, account_id: str, *, limit: int, after_arn: str | None = None
    ) -> list[str]:
        shared = ca_policy_principals
        cas = certificate_authorities
        query = (
            select(shared.c.ca_arn)
            .join(cas, cas.c.arn == shared.c.ca_arn)
            .where(shared.c.principal.in_([account_id, "*"]), cas.c.account_id != account_id)
            .distinct()
        )
        if after_arn is not None:
            query = query.where(shared.c.ca_arn > after_arn)
        query = query.order_by(shared.c.ca_arn).limit(limit)
        return list(self._connection.execute(query).scalars())

    # --- who asked for a certificate ----------------------------------------------------------

    def record_requester(self, ca_arn: str, serial: int, account_id: str) -> None:
        self._sharing_writable()
        self._connection.execute(
            certificate_requesters.insert().values(
                ca_arn=ca_arn, serial=serial_to_text(serial), account_id=account_id
            )
        )

    # --- audit reports ------------------------------------------------------------------------

    def insert_audit_report(self, report: AuditReport) -> None:
        self._sharing_writable()
        self._connection.execute(
            audit_reports.insert().values(
                report_id=report.report_id,
                ca_arn=report.ca_arn,
                bucket=report.bucket,
                s3_key=report.key,
                format=report.format.value,
                status=report.status.value,
                created_at=report.created_at,
            )
        )

    def get_audit_report(self, ca_arn: str, report_id: str) -> AuditReport | None:
        table = audit_reports
        row = self._connection.execute(
            select(table).where(table.c.report_id == report_id, table.c.ca_arn == ca_arn)
        ).one_or_none()
        return None if row is None else _audit_report(row)

    def last_audit_report_at(self, ca_arn: str) -> datetime | None:
        table = audit_reports
        query = (
            select(table.c.created_at)
            .where(table.c.ca_arn == ca_arn)
            .order_by(table.c.created_at.desc())
            .limit(1)
        )
        last: datetime | None = self._connection.execute(query).scalar_one_or_none()
        return last

    def claim_audit_reports(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[AuditReport]:
        self._sharing_writable()
        table = audit_reports
        due = (table.c.status == AuditReportStatus.CREATING.value) & (
            table.c.lease_until.is_(None) | (table.c.lease_until < now)
        )
        rows = self._connection.execute(
            select(table).where(due).order_by(table.c.created_at).limit(limit)
        ).all()
        claimed = []
        for row in rows:
            # The WHERE re-checks the lease, so of two racing nodes exactly one takes it.
            taken = self._connection.execute(
                update(table)
                .where(table.c.report_id == row.report_id, due)
                .values(lease_until=lease_until)
            ).rowcount
            if taken == 1:
                claimed.append(_audit_report(row))
        return claimed

    def finish_audit_report(self, report_id: str, status: AuditReportStatus) -> None:
        self._sharing_writable()
        self._connection.execute(
            update(audit_reports)
            .where(audit_reports.c.report_id == report_id)
            .values(status=status.value, lease_until=None)
        )

    def audit_entries(self, ca_arn: str) -> Iterator[AuditEntry]:
        cert = certificates
        who = certificate_requesters
        query = (
            select(
                cert.c.serial,
                cert.c.certificate_der,
                cert.c.not_before,
                cert.c.not_after,
                cert.c.issued_at,
                cert.c.template_arn,
                cert.c.revoked_at,
                cert.c.revocation_reason,
                who.c.account_id,
            )
            .select_from(
                cert.outerjoin(
                    who, (who.c.ca_arn == cert.c.ca_arn) & (who.c.serial == cert.c.serial)
                )
            )
            .where(cert.c.ca_arn == ca_arn)
            .order_by(cert.c.issued_at, cert.c.serial)
        )
        with self._connection.execute(query.execution_options(yield_per=_AUDIT_BATCH)) as rows:
            yield from (_audit_entry(row) for row in rows)

    # --- the audit trail ----------------------------------------------------------------------

    def append_audit(self, record: AuditRecord) -> None:
        self._sharing_writable()
        _APPEND_AUDIT.execute(
            self._connection,
            {
                "at": record.at,
                "request_id": record.request_id,
                "account_id": record.account_id,
                "access_key_id": record.access_key_id,
                "action": record.action,
                "resource": record.resource,
                "result": record.result,
                "detail": record.detail,
            },
        )

    def has_unsealed_audit(self) -> bool:
        query = select(audit_trail.c.id).where(audit_trail.c.position.is_(None)).limit(1)
        return self._connection.execute(query).first() is not None

    def lock_audit_head(self) -> tuple[int, str]:
        self._sharing_writable()
        self._sharing_insert(
            audit_chain_head, {"name": _HEAD, "position": 0, "hash": AUDIT_GENESIS_HASH}
        )
        row = self._connection.execute(
            select(audit_chain_head.c.position, audit_chain_head.c.hash)
            .where(audit_chain_head.c.name == _HEAD)
            .with_for_update()
        ).one()
        return int(row.position), str(row.hash)

    def unsealed_audit(self, limit: int) -> list[StoredAuditRecord]:
        query = (
            select(audit_trail)
            .where(audit_trail.c.position.is_(None))
            .order_by(audit_trail.c.id)
            .limit(limit)
        )
        return [_stored_audit(row) for row in self._connection.execute(query).all()]

    def seal_audit(self, seals: Sequence[AuditSeal]) -> None:
        self._sharing_writable()
        _SEAL_AUDIT.execute_many(
            self._connection,
            [
                {
                    "record_id": seal.record_id,
                    "position": seal.position,
                    "prev_hash": seal.prev_hash,
                    "hash": seal.hash,
                }
                for seal in seals
            ],
        )

    def set_audit_head(self, position: int, hash: str) -> None:
        self._sharing_writable()
        self._connection.execute(
            update(audit_chain_head)
            .where(audit_chain_head.c.name == _HEAD)
            .values(position=position, hash=hash)
        )

    def audit_head(self) -> tuple[int, str] | None:
        row = self._connection.execute(
            select(audit_chain_head.c.position, audit_chain_head.c.hash).where(
                audit_chain_head.c.name == _HEAD
            )
        ).one_or_none()
        return None if row is None else (int(row.position), str(row.hash))

    def audit_chain(self) -> Iterator[StoredAuditRecord]:
        query = (
            select(audit_trail)
            .where(audit_trail.c.position.is_not(None))
            .order_by(audit_trail.c.position)
        )
        with self._connection.execute(query.execution_options(yield_per=_AUDIT_BATCH)) as rows:
            yield from (_stored_audit(row) for row in rows)

    def list_audit(
        self,
        *,
        resource: str | None = None,
        account_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[StoredAuditRecord]:
        table = audit_trail
        query = select(table).order_by(table.c.id)
        if resource is not None:
            query = query.where(table.c.resource == resource)
        if account_id is not None:
            query = query.where(table.c.account_id == account_id)
        if action is not None:
            query = query.where(table.c.action == action)
        if since is not None:
            query = query.where(table.c.at >= since)
        if until is not None:
            query = query.where(table.c.at < until)
        if limit is not None:
            query = query.limit(limit)
        with self._connection.execute(query.execution_options(yield_per=_AUDIT_BATCH)) as rows:
            yield from (_stored_audit(row) for row in rows)

    # --- helpers ------------------------------------------------------------------------------

    def _sharing_writable(self) -> None:
        if self._read_only:
            raise RuntimeError("write attempted in a read-only transaction")

    def _sharing_insert(self, table: Table, values: Mapping[str, object]) -> int:
        """Insert one row unless it breaks a unique constraint (the transaction goes on)."""
        self._sharing_writable()
        statement: Executable
        if self._dialect == "postgresql":
            statement = postgresql.insert(table).values(values).on_conflict_do_nothing()
        else:
            statement = sqlite.insert(table).values(values).on_conflict_do_nothing()
        return self._connection.execute(
            statement.execution_options(preserve_rowcount=True)
        ).rowcount


def _permission(row: Row[Any]) -> Permission:
    return Permission(
        ca_arn=row.ca_arn,
        principal=row.principal,
        source_account=row.source_account or None,
        actions=tuple(json.loads(row.actions)),
        created_at=row.created_at,
    )


def _audit_report(row: Row[Any]) -> AuditReport:
    return AuditReport(
        report_id=row.report_id,
        ca_arn=row.ca_arn,
        bucket=row.bucket,
        key=row.s3_key,
        format=AuditReportFormat(row.format),
        status=AuditReportStatus(row.status),
        created_at=row.created_at,
    )


def _stored_audit(row: Row[Any]) -> StoredAuditRecord:
    return StoredAuditRecord(
        record_id=int(row.id),
        record=AuditRecord(
            at=row.at,
            action=row.action,
            result=row.result,
            account_id=row.account_id,
            access_key_id=row.access_key_id,
            request_id=row.request_id,
            resource=row.resource,
            detail=row.detail,
        ),
        position=None if row.position is None else int(row.position),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _audit_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        serial=serial_from_text(row.serial),
        certificate_der=bytes(row.certificate_der),
        not_before=row.not_before,
        not_after=row.not_after,
        issued_at=row.issued_at,
        template_arn=row.template_arn,
        revoked_at=row.revoked_at,
        revocation_reason=None
        if row.revocation_reason is None
        else RevocationReason(row.revocation_reason),
        requester_account=row.account_id,
    )
