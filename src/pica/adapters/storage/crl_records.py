"""CRL publication state (dirty marks, leases, the issue sequence of partitions) and CRL buckets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, select, update

from pica.adapters.storage.rows import crl_state_from
from pica.adapters.storage.sql_records import SqlRecords
from pica.adapters.storage.tables import (
    bucket_owners,
    crl_state,
)
from pica.authority.model import (
    CrlState,
)

# Built once: SQLAlchemy then finds the compiled form in its cache (see sql_records).
_CRL_STATE_ROW = select(crl_state).where(crl_state.c.ca_arn == bindparam("ca_arn"))
_NEXT_ISSUE_SEQUENCE = (
    update(crl_state)
    .where(crl_state.c.ca_arn == bindparam("of_ca"))
    .values(issued_count=crl_state.c.issued_count + 1)
    .returning(crl_state.c.issued_count)
)


class SqlCrlRecords(SqlRecords):
    """CRL publication state (dirty marks, leases, the partitions' issue sequence), CRL buckets."""

    def get_crl_state(self, ca_arn: str) -> CrlState | None:
        row = self._connection.execute(_CRL_STATE_ROW, {"ca_arn": ca_arn}).one_or_none()
        return None if row is None else crl_state_from(row)

    def mark_crl_dirty(self, ca_arn: str, at: datetime) -> None:
        self._writable()
        self._ensure_crl_state(ca_arn)
        self._connection.execute(
            update(crl_state)
            .where(crl_state.c.ca_arn == ca_arn, crl_state.c.dirty_since.is_(None))
            .values(dirty_since=at)
        )

    def has_crl_work(self, now: datetime) -> bool:
        query = select(crl_state.c.ca_arn).where(_crl_due(now)).limit(1)
        return self._connection.execute(query).first() is not None

    def claim_crl_work(self, now: datetime, lease_until: datetime, limit: int) -> list[str]:
        self._writable()
        due = _crl_due(now)
        candidates = list(
            self._connection.execute(
                select(crl_state.c.ca_arn).where(due).order_by(crl_state.c.ca_arn).limit(limit)
            ).scalars()
        )
        claimed = []
        for arn in candidates:
            # The WHERE re-checks the lease, so of two racing nodes exactly one takes the CA.
            taken = self._connection.execute(
                update(crl_state)
                .where(crl_state.c.ca_arn == arn, due)
                .values(lease_until=lease_until)
            ).rowcount
            if taken == 1:
                claimed.append(arn)
        return claimed

    def start_crl_publication(self, ca_arn: str, retry_at: datetime) -> None:
        self._writable()
        self._connection.execute(
            update(crl_state)
            .where(crl_state.c.ca_arn == ca_arn)
            .values(dirty_since=None, next_refresh_at=retry_at)
        )

    def record_crl_publication(
        self,
        ca_arn: str,
        *,
        crl_number: int,
        this_update: datetime,
        next_update: datetime,
        next_refresh_at: datetime | None,
    ) -> None:
        self._writable()
        self._connection.execute(
            update(crl_state)
            .where(crl_state.c.ca_arn == ca_arn)
            .values(
                crl_number=crl_number,
                this_update=this_update,
                next_update=next_update,
                next_refresh_at=next_refresh_at,
                lease_until=None,
            )
        )

    def reschedule_crl_publication(self, ca_arn: str, next_refresh_at: datetime | None) -> None:
        self._writable()
        self._connection.execute(
            update(crl_state)
            .where(crl_state.c.ca_arn == ca_arn)
            .values(next_refresh_at=next_refresh_at, lease_until=None)
        )

    def get_bucket_owner(self, bucket: str) -> str | None:
        query = select(bucket_owners.c.account_id).where(bucket_owners.c.bucket == bucket)
        owner: str | None = self._connection.execute(query).scalar_one_or_none()
        return owner

    def claim_bucket(self, bucket: str, account_id: str, at: datetime) -> str:
        self._writable()
        self._insert_or_ignore(
            bucket_owners, {"bucket": bucket, "account_id": account_id, "claimed_at": at}
        )
        owner = self.get_bucket_owner(bucket)
        assert owner is not None
        return owner

    def next_issue_sequence(self, ca_arn: str) -> int:
        self._writable()
        parameters = {"of_ca": ca_arn}
        count = self._connection.execute(_NEXT_ISSUE_SEQUENCE, parameters).scalar_one_or_none()
        if count is None:  # the CA's first certificate: no CRL state row yet
            self._ensure_crl_state(ca_arn)
            count = self._connection.execute(_NEXT_ISSUE_SEQUENCE, parameters).scalar_one()
        return int(count) - 1

    def _ensure_crl_state(self, ca_arn: str) -> None:
        self._insert_or_ignore(crl_state, {"ca_arn": ca_arn, "crl_number": 0, "issued_count": 0})


def _crl_due(now: datetime) -> ColumnElement[bool]:
    """CRL state rows dirty or due for refresh, and leased by no live publication."""
    return ((crl_state.c.dirty_since.is_not(None)) | (crl_state.c.next_refresh_at <= now)) & (
        (crl_state.c.lease_until.is_(None)) | (crl_state.c.lease_until < now)
    )
