"""What `/readyz` and `/metrics` read from the database: a ping and three narrow queries.

Installation-level reads across every account, outside the domain's `Transaction` port (no
API call may see other accounts' CAs; the operator's monitoring sees them all). Each runs on a
read-only connection, so on SQLite it never waits for the write lock issuance holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from pica.adapters.storage.sql_store import SqlStore
from pica.adapters.storage.tables import acm_certificates, certificate_authorities, crl_state
from pica.authority.model import CaStatus

_LIVE = certificate_authorities.c.status != CaStatus.DELETED.value


class StoredState:
    """Implements the metrics' `StoredStateSource` on the SQL store."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def ping(self) -> None:
        """Return when the database answers a query; raise `DatabaseUnavailable` otherwise."""
        with self._store.reading() as connection:
            connection.exec_driver_sql("SELECT 1").scalar_one()

    def ca_not_after(self) -> Iterable[tuple[str, datetime]]:
        query = select(certificate_authorities.c.arn, certificate_authorities.c.not_after).where(
            certificate_authorities.c.not_after.is_not(None), _LIVE
        )
        with self._store.reading() as connection:
            return [(arn, not_after) for arn, not_after in connection.execute(query)]

    def crl_next_update(self) -> Iterable[tuple[str, datetime]]:
        query = (
            select(crl_state.c.ca_arn, crl_state.c.next_update)
            .join(certificate_authorities, certificate_authorities.c.arn == crl_state.c.ca_arn)
            .where(crl_state.c.next_update.is_not(None), _LIVE)
        )
        with self._store.reading() as connection:
            return [(arn, next_update) for arn, next_update in connection.execute(query)]

    def acm_not_after(self) -> Iterable[tuple[str, datetime]]:
        query = select(acm_certificates.c.arn, acm_certificates.c.not_after).where(
            acm_certificates.c.not_after.is_not(None)
        )
        with self._store.reading() as connection:
            return [(arn, not_after) for arn, not_after in connection.execute(query)]
