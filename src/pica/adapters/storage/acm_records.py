"""The ACM rows of the store: `AcmRecords` is a mixin of `SqlTransaction` (one connection, one
unit of work) implementing the ACM methods of `pica.authority.ports.AcmTransaction`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Executable, Row, Table, delete, select, update
from sqlalchemy.exc import IntegrityError

from pica.adapters.storage.sql_records import is_unique_violation
from pica.adapters.storage.tables import (
    acm_account_configurations,
    acm_certificates,
    acm_tags,
    serial_from_text,
    serial_to_text,
)
from pica.authority.acm.model import (
    AcmCertificate,
    AcmKeyAlgorithm,
    CertificateStatus,
    CertificateType,
    RenewalStatus,
    RenewalSummary,
)
from pica.authority.model import SealedKey, Tag
from pica.errors import ConcurrentModification, Conflict


class AcmRecords:
    """Uses the host class's connection, write guard and conflict-free insert (these stubs
    only type them; `SqlTransaction` overrides each)."""

    _connection: Connection

    def _writable(self) -> None:
        raise NotImplementedError

    def _insert_or_ignore(self, table: Table, values: Mapping[str, object]) -> int:
        raise NotImplementedError

    def _rows(self, query: Executable) -> Sequence[Row[Any]]:
        return self._connection.execute(query).all()

    def insert_acm_certificate(self, certificate: AcmCertificate) -> None:
        self._writable()
        if self._insert_or_ignore(acm_certificates, _values(certificate)) != 1:
            raise Conflict(f"ACM certificate {certificate.arn} already exists")

    def get_acm_certificate(self, arn: str) -> AcmCertificate | None:
        rows = self._rows(select(acm_certificates).where(acm_certificates.c.arn == arn))
        return _certificate(rows[0]) if rows else None

    def update_acm_certificate(self, certificate: AcmCertificate) -> None:
        self._writable()
        table = acm_certificates
        changed = self._connection.execute(
            update(table)
            .where(table.c.arn == certificate.arn, table.c.version == certificate.version - 1)
            .values(_values(certificate))
        ).rowcount
        if changed != 1:
            raise ConcurrentModification(
                f"The certificate {certificate.arn} was changed by another request; retry."
            )

    def delete_acm_certificate(self, arn: str) -> bool:
        self._writable()
        self._connection.execute(delete(acm_tags).where(acm_tags.c.certificate_arn == arn))
        removed = self._connection.execute(
            delete(acm_certificates).where(acm_certificates.c.arn == arn)
        ).rowcount
        return bool(removed == 1)

    def list_acm_certificates(self, account_id: str) -> list[AcmCertificate]:
        table = acm_certificates
        query = (
            select(table)
            .where(table.c.account_id == account_id)
            .order_by(table.c.created_at, table.c.arn)
        )
        return [_certificate(row) for row in self._rows(query)]

    def get_acm_tags(self, arn: str) -> list[Tag]:
        query = (
            select(acm_tags.c.key, acm_tags.c.value)
            .where(acm_tags.c.certificate_arn == arn)
            .order_by(acm_tags.c.position)
        )
        return [Tag(row.key, row.value) for row in self._rows(query)]

    def put_acm_tags(self, arn: str, tags: list[Tag]) -> None:
        self._writable()
        keys = [tag.key for tag in tags]
        if len(set(keys)) != len(keys):
            raise Conflict(f"duplicate tag keys for {arn}")
        rows = [
            {"certificate_arn": arn, "position": position, "key": tag.key, "value": tag.value}
            for position, tag in enumerate(tags)
        ]
        try:
            # A savepoint keeps the transaction usable when a concurrent writer collides.
            with self._connection.begin_nested():
                self._connection.execute(delete(acm_tags).where(acm_tags.c.certificate_arn == arn))
                if rows:
                    self._connection.execute(acm_tags.insert(), rows)
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict(f"tags of {arn} changed concurrently") from error
            raise

    def get_acm_days_before_expiry(self, account_id: str) -> int | None:
        table = acm_account_configurations
        rows = self._rows(
            select(table.c.days_before_expiry).where(table.c.account_id == account_id)
        )
        return int(rows[0].days_before_expiry) if rows else None

    def put_acm_days_before_expiry(self, account_id: str, days: int, at: datetime) -> None:
        self._writable()
        table = acm_account_configurations
        values = {"account_id": account_id, "days_before_expiry": days, "updated_at": at}
        if self._insert_or_ignore(table, values) != 1:
            self._connection.execute(
                update(table)
                .where(table.c.account_id == account_id)
                .values(days_before_expiry=days, updated_at=at)
            )

    def has_acm_renewal_work(self, now: datetime, created_before: datetime) -> bool:
        table = acm_certificates
        work = _renewal_due(now) | _stale_request(created_before)
        query = select(table.c.arn).where(work).limit(1)
        return self._connection.execute(query).first() is not None

    def claim_acm_renewals(self, now: datetime, lease_until: datetime, limit: int) -> list[str]:
        self._writable()
        table = acm_certificates
        due = _renewal_due(now)
        candidates = list(
            self._connection.execute(
                select(table.c.arn).where(due).order_by(table.c.next_renewal_at).limit(limit)
            ).scalars()
        )
        claimed = []
        for arn in candidates:
            # The WHERE re-checks the lease, so of two racing nodes exactly one takes it.
            taken = self._connection.execute(
                update(table).where(table.c.arn == arn, due).values(lease_until=lease_until)
            ).rowcount
            if taken == 1:
                claimed.append(arn)
        return claimed

    def fail_stale_acm_requests(self, created_before: datetime, reason: str) -> int:
        self._writable()
        table = acm_certificates
        marked = self._connection.execute(
            update(table)
            .where(_stale_request(created_before))
            .values(
                status=CertificateStatus.FAILED.value,
                failure_reason=reason,
                version=table.c.version + 1,
            )
        ).rowcount
        return int(marked)


def _renewal_due(now: datetime) -> ColumnElement[bool]:
    """Exported private certificates whose renewal has come, leased by no live renewal."""
    table = acm_certificates
    return (
        (table.c.type == CertificateType.PRIVATE.value)
        & (table.c.status == CertificateStatus.ISSUED.value)
        & table.c.exported.is_(True)
        & (table.c.next_renewal_at <= now)
        & (table.c.lease_until.is_(None) | (table.c.lease_until < now))
    )


def _stale_request(created_before: datetime) -> ColumnElement[bool]:
    """Requests left pending by a process that died mid-issuance."""
    table = acm_certificates
    return (table.c.status == CertificateStatus.PENDING_VALIDATION.value) & (
        table.c.created_at < created_before
    )


def _values(certificate: AcmCertificate) -> dict[str, object]:
    sealed = certificate.sealed_key
    renewal = certificate.renewal
    return {
        "arn": certificate.arn,
        "account_id": certificate.account_id,
        "type": certificate.type.value,
        "status": certificate.status.value,
        "domain_name": certificate.domain_name,
        "subject_alternative_names": json.dumps(list(certificate.subject_alternative_names)),
        "key_algorithm": certificate.key_algorithm.value,
        "created_at": certificate.created_at,
        "ca_arn": certificate.ca_arn,
        "private_key_ref": None if sealed is None else sealed.key_ref,
        "private_key_ciphertext": None if sealed is None else sealed.ciphertext,
        "certificate_pem": certificate.certificate_pem,
        "chain_pem": certificate.chain_pem,
        "serial": None if certificate.serial is None else serial_to_text(certificate.serial),
        "not_before": certificate.not_before,
        "not_after": certificate.not_after,
        "issued_at": certificate.issued_at,
        "imported_at": certificate.imported_at,
        "failure_reason": certificate.failure_reason,
        "exported": certificate.exported,
        "renewal_status": None if renewal is None else renewal.status.value,
        "renewal_reason": None if renewal is None else renewal.reason,
        "renewal_updated_at": None if renewal is None else renewal.updated_at,
        "next_renewal_at": certificate.next_renewal_at,
        "renewal_attempts": certificate.renewal_attempts,
        "lease_until": certificate.lease_until,
        "version": certificate.version,
    }


def _certificate(row: Row[Any]) -> AcmCertificate:
    sealed = None
    if row.private_key_ref is not None:
        sealed = SealedKey(row.private_key_ref, bytes(row.private_key_ciphertext))
    renewal = None
    if row.renewal_status is not None:
        renewal = RenewalSummary(
            RenewalStatus(row.renewal_status), row.renewal_updated_at, row.renewal_reason
        )
    return AcmCertificate(
        arn=row.arn,
        account_id=row.account_id,
        type=CertificateType(row.type),
        status=CertificateStatus(row.status),
        domain_name=row.domain_name,
        subject_alternative_names=tuple(json.loads(row.subject_alternative_names)),
        key_algorithm=AcmKeyAlgorithm(row.key_algorithm),
        created_at=row.created_at,
        ca_arn=row.ca_arn,
        sealed_key=sealed,
        certificate_pem=row.certificate_pem,
        chain_pem=row.chain_pem,
        serial=None if row.serial is None else serial_from_text(row.serial),
        not_before=row.not_before,
        not_after=row.not_after,
        issued_at=row.issued_at,
        imported_at=row.imported_at,
        failure_reason=row.failure_reason,
        exported=bool(row.exported),
        renewal=renewal,
        next_renewal_at=row.next_renewal_at,
        renewal_attempts=int(row.renewal_attempts),
        lease_until=row.lease_until,
        version=int(row.version),
    )
