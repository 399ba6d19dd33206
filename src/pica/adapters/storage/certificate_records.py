"""Issued certificates and their revocation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pica.adapters.storage.ca_records import CA_VERSION
from pica.adapters.storage.driver_statements import DriverStatement
from pica.adapters.storage.rows import enum_of, issued_from, value_of
from pica.adapters.storage.sql_records import SqlRecords
from pica.adapters.storage.tables import (
    certificate_authorities,
    certificates,
    serial_from_text,
    serial_to_text,
)
from pica.authority.model import (
    IssuedCertificate,
    RevocationReason,
    RevokedEntry,
)
from pica.errors import Conflict

# Rows fetched per round trip when streaming a CA's revoked certificates.
_CRL_BATCH = 10_000
# Built once: SQLAlchemy then finds the compiled form in its cache (see sql_records).
_CERTIFICATE_ROW = select(certificates).where(
    certificates.c.ca_arn == bindparam("ca_arn"), certificates.c.serial == bindparam("serial")
)

# The certificate's row, inserted only while its CA's row is at the version issuance read: the
# version check and the insert in one statement, one round trip fewer in every issuance.
_ROW_WHILE_CA_AT = select(
    *(bindparam(column.name, type_=column.type) for column in certificates.columns)
).where(
    exists().where(
        certificate_authorities.c.arn == bindparam("ca_arn"),
        certificate_authorities.c.version == bindparam("ca_version"),
    )
)
_INSERT_WHILE_CA_AT = {
    dialect: DriverStatement(
        insert(certificates)
        .from_select([column.name for column in certificates.columns], _ROW_WHILE_CA_AT)
        .on_conflict_do_nothing()
    )
    for dialect, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}


class SqlCertificateRecords(SqlRecords):
    """Issued certificates and their revocation."""

    def insert_certificate(
        self, cert: IssuedCertificate, *, while_ca_at: int | None = None
    ) -> bool:
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
        if while_ca_at is None:
            self._insert_unique(certificates, values, f"certificate {cert.arn}")
            return True
        self._writable()
        statement = _INSERT_WHILE_CA_AT[self._dialect]
        if statement.execute(self._connection, {**values, "ca_version": while_ca_at}) == 1:
            return True
        # Nothing inserted: the CA moved on (or vanished), or the serial is taken.
        found = CA_VERSION.first(self._connection, {"arn": cert.ca_arn})
        if found is None or found[0] != while_ca_at:
            return False
        raise Conflict(f"certificate {cert.arn} already exists")

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
