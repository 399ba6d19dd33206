"""The web console's rows: `ConsoleRecords` is a mixin of `SqlTransaction` implementing
`pica.authority.console_ports.ConsoleRecords` (sessions, and a CA's certificates listed)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, Table, delete, select

from pica.adapters.storage.rows import issued_from
from pica.adapters.storage.tables import certificates, console_sessions
from pica.authority.console_ports import ConsoleSession
from pica.authority.model import IssuedCertificate
from pica.errors import Conflict


class ConsoleRecords:
    """Uses the host class's connection, write guard and conflict-free insert (these stubs
    only type them; `SqlTransaction` takes the real ones from `SqlRecords`)."""

    _connection: Connection

    def _writable(self) -> None:
        raise NotImplementedError

    def _insert_or_ignore(self, table: Table, values: Mapping[str, object]) -> int:
        raise NotImplementedError

    def insert_console_session(self, session: ConsoleSession) -> None:
        self._writable()
        values = {
            "session_hash": session.session_hash,
            "account_id": session.account_id,
            "access_key_id": session.access_key_id,
            "csrf_token": session.csrf_token,
            "created_at": session.created_at,
            "expires_at": session.expires_at,
        }
        if self._insert_or_ignore(console_sessions, values) != 1:
            raise Conflict("console session already exists")

    def get_console_session(self, session_hash: str) -> ConsoleSession | None:
        table = console_sessions
        row = self._connection.execute(
            select(table).where(table.c.session_hash == session_hash)
        ).one_or_none()
        if row is None:
            return None
        return ConsoleSession(
            session_hash=row.session_hash,
            account_id=row.account_id,
            access_key_id=row.access_key_id,
            csrf_token=row.csrf_token,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    def delete_console_session(self, session_hash: str) -> bool:
        self._writable()
        table = console_sessions
        result = self._connection.execute(delete(table).where(table.c.session_hash == session_hash))
        return result.rowcount == 1

    def delete_expired_console_sessions(self, now: datetime) -> int:
        self._writable()
        table = console_sessions
        result = self._connection.execute(delete(table).where(table.c.expires_at <= now))
        return result.rowcount

    def list_issued_certificates(self, ca_arn: str, *, limit: int) -> list[IssuedCertificate]:
        table = certificates
        query = (
            select(table)
            .where(table.c.ca_arn == ca_arn)
            .order_by(table.c.issued_at.desc(), table.c.serial)
            .limit(limit)
        )
        return [issued_from(row) for row in self._connection.execute(query)]
