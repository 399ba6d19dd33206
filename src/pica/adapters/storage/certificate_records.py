"""Issued certificates and their revocation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import bindparam, select, update

from pica.adapters.storage.rows import enum_of, issued_from, value_of
from pica.adapters.storage.sql_records import SqlRecords
from pica.adapters.storage.tables import (
    certificates,
    serial_from_text,
    serial_to_text,
)
from pica.authority.model import (
    IssuedCertificate,
    RevocationReason,
    RevokedEntry,
)

# Rows fetched per round trip when streaming a CA's revoked certificates.
_CRL_BATCH = 10_000
# Built once: SQLAlchemy then finds the compiled form in its cache (see sql_records).
_CERTIFICATE_ROW = select(certificates).where(
    certificates.c.ca_arn == bindparam("ca_arn"), certificates.c.serial == bindparam("serial")
)


class SqlCertificateRecords(SqlRecords):
    """Issued certificates and their revocation."""

    def insert_certificate(self, cert: IssuedCertificate) -> None:
        values = {
            "ca_arn": cert.ca_arn,
            "serial": serial_to_text(cert.serial),
            "certificate_der": cert.certificate_der,
            "not_before": cert.not_before,
            "not_after": cert.not_after,
            "issued_at": cert.issued_at,
            "template_arn": cert.template_arn,
            "revoked_at": cert.revoked_at,
            "revocation_reason": value_of(cert.revocation_reason),
            "crl_partition": cert.crl_partition,
        }
        self._insert_unique(certificates, values, f"certificate {cert.arn}")

    def get_certificate(self, ca_arn: str, serial: int) -> IssuedCertificate | None:
        parameters = {"ca_arn": ca_arn, "serial": serial_to_text(serial)}
        row = self._connection.execute(_CERTIFICATE_ROW, parameters).one_or_none()
        return None if row is None else issued_from(row)

    def revoke_certificate(
        self, ca_arn: str, serial: int, revoked_at: datetime, reason: RevocationReason
    ) -> bool:
        self._writable()
        statement = (
            update(certificates)
            .where(
                certificates.c.ca_arn == ca_arn,
                certificates.c.serial == serial_to_text(serial),
                certificates.c.revoked_at.is_(None),
            )
            .values(revoked_at=revoked_at, revocation_reason=reason.value)
        )
        return self._connection.execute(statement).rowcount == 1

    def revoked_entries(
        self, ca_arn: str, *, expiring_after: datetime, partition: str | None = None
    ) -> Iterator[RevokedEntry]:
        table = certificates
        # Only the three columns a CRL needs, fetched in batches: a CRL may list a million.
        query = select(table.c.serial, table.c.revoked_at, table.c.revocation_reason).where(
            table.c.ca_arn == ca_arn,
            table.c.revoked_at.is_not(None),
            table.c.not_after >= expiring_after,
        )
        if partition is not None:
            query = query.where(table.c.crl_partition == partition)
        rows = self._connection.execute(query.execution_options(yield_per=_CRL_BATCH))
        for serial, revoked_at, reason in rows:
            yield RevokedEntry(
                serial_from_text(serial), revoked_at, enum_of(RevocationReason, reason)
            )
