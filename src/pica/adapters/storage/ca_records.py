"""Certificate authorities: one row each, read through the store's `CaCache`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update

from pica.adapters.storage import tables
from pica.adapters.storage.driver_statements import DriverStatement
from pica.adapters.storage.rows import ca_from, ca_values
from pica.adapters.storage.sql_records import SqlRecords
from pica.adapters.storage.tables import (
    certificate_authorities,
    certificates,
    crl_state,
)
from pica.authority.model import (
    CaStatus,
    CertificateAuthority,
)
from pica.errors import ConcurrentModification

# Built once: SQLAlchemy then finds the compiled form in its cache (see sql_records); the
# version read, in every CA lookup, runs on the driver's cursor (`driver_statements`).
_VERSION_QUERY = select(certificate_authorities.c.version).where(
    certificate_authorities.c.arn == bindparam("arn")
)
CA_VERSION = DriverStatement(_VERSION_QUERY)
# PostgreSQL locks the row; SQLite renders nothing (BEGIN IMMEDIATE already holds the
# database's write lock, which serialises every writer).
_CA_VERSION_FOR_UPDATE = DriverStatement(_VERSION_QUERY.with_for_update())
_CA_ROW = select(certificate_authorities).where(certificate_authorities.c.arn == bindparam("arn"))


class SqlCaRecords(SqlRecords):
    """Certificate authorities: one row each, read through the store's `CaCache`."""

    def insert_ca(self, ca: CertificateAuthority) -> None:
        self._insert_unique(certificate_authorities, ca_values(ca), f"CA {ca.arn}")

    def get_ca(self, arn: str, *, for_update: bool = False) -> CertificateAuthority | None:
        """The CA; its version is read first, and a record cached at that version is reused."""
        version_query = CA_VERSION
        if for_update:
            self._writable()
            version_query = _CA_VERSION_FOR_UPDATE
        parameters = {"arn": arn}
        found = version_query.first(self._connection, parameters)
        if found is None:
            return None
        (version,) = found
        cached = self._cas.get(arn, version)
        if cached is not None:
            return cached
        row = self._connection.execute(_CA_ROW, parameters).one_or_none()
        if row is None:
            return None
        ca = ca_from(row)
        if self._read_only:
            self._cas.put(ca)
        return ca

    def update_ca(self, ca: CertificateAuthority) -> None:
        self._writable()
        values = ca_values(ca)
        del values["arn"]
        statement = (
            update(certificate_authorities)
            .where(
                certificate_authorities.c.arn == ca.arn,
                certificate_authorities.c.version == ca.version - 1,
            )
            .values(values)
        )
        if self._connection.execute(statement).rowcount != 1:
            raise ConcurrentModification(
                f"CA {ca.arn} changed (or vanished) since version {ca.version - 1} was read"
            )

    def list_cas(
        self, account_id: str, *, limit: int, after_arn: str | None = None
    ) -> list[CertificateAuthority]:
        table = certificate_authorities
        query = select(table).where(table.c.account_id == account_id)
        if after_arn is not None:
            query = query.where(table.c.arn > after_arn)
        query = query.order_by(table.c.arn).limit(limit)
        return [ca_from(row) for row in self._all(query)]

    def count_cas(self, account_id: str) -> int:
        table = certificate_authorities
        query = select(func.count()).select_from(table).where(table.c.account_id == account_id)
        return int(self._connection.execute(query).scalar_one())

    def delete_ca(self, arn: str) -> None:
        self._writable()
        # Children first: the foreign keys are enforced on both engines.
        self._connection.execute(delete(certificates).where(certificates.c.ca_arn == arn))
        self._connection.execute(delete(tables.tags).where(tables.tags.c.ca_arn == arn))
        self._connection.execute(delete(crl_state).where(crl_state.c.ca_arn == arn))
        table = certificate_authorities
        self._connection.execute(delete(table).where(table.c.arn == arn))

    def list_cas_due_for_purge(self, now: datetime, limit: int) -> list[str]:
        table = certificate_authorities
        query = (
            select(table.c.arn)
            .where(table.c.status == CaStatus.DELETED.value, table.c.restorable_until <= now)
            .order_by(table.c.restorable_until, table.c.arn)
            .limit(limit)
        )
        return list(self._connection.execute(query).scalars())

    def find_cas_by_key_hash(self, algorithm: str, key_hash: bytes) -> list[CertificateAuthority]:
        table = certificate_authorities
        column = {"sha1": table.c.public_key_sha1, "sha256": table.c.public_key_sha256}.get(
            algorithm
        )
        if column is None:
            return []
        return [ca_from(row) for row in self._all(select(table).where(column == key_hash.hex()))]

    def find_ca_by_id(self, ca_id: str) -> CertificateAuthority | None:
        table = certificate_authorities
        # Ids are uuid4s; should two ARNs ever share one, the URL names neither.
        rows = self._all(select(table).where(table.c.ca_id == ca_id).limit(2))
        return ca_from(rows[0]) if len(rows) == 1 else None
