"""Idempotency tokens and their results (the rule: `pica.authority.idempotency`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update

from pica.adapters.storage.sql_records import SqlRecords
from pica.adapters.storage.tables import (
    idempotency_tokens,
)
from pica.authority import idempotency
from pica.errors import Conflict

# Built once: SQLAlchemy then finds the compiled form in its cache (see sql_records).
_IDEMPOTENT_RESULT = select(idempotency_tokens.c.result, idempotency_tokens.c.created_at).where(
    idempotency_tokens.c.scope == bindparam("scope"),
    idempotency_tokens.c.token == bindparam("token"),
)


class SqlIdempotencyRecords(SqlRecords):
    """Idempotency tokens and their results (the rule: `pica.authority.idempotency`)."""

    def get_idempotent_result(self, scope: str, token: str) -> tuple[str, datetime] | None:
        parameters = {"scope": scope, "token": token}
        row = self._connection.execute(_IDEMPOTENT_RESULT, parameters).one_or_none()
        return None if row is None else (row.result, row.created_at)

    def put_idempotent_result(self, scope: str, token: str, result: str, at: datetime) -> None:
        """Record `result`; replace a record only once it is no longer live (`idempotency`).

        Both steps are race-safe: the insert is ON CONFLICT DO NOTHING, and the replacement
        re-checks the age in its WHERE clause, so of two racing callers exactly one wins.
        """
        self._writable()
        table = idempotency_tokens
        values = {"scope": scope, "token": token, "result": result, "created_at": at}
        if self._insert_or_ignore(table, values) == 1:
            return
        statement = (
            update(table)
            .where(
                table.c.scope == scope,
                table.c.token == token,
                table.c.created_at <= idempotency.replaceable_before(at),
            )
            .values(result=result, created_at=at)
        )
        if self._connection.execute(statement).rowcount != 1:
            raise Conflict(f"idempotency token {token!r} is already in use for {scope}")
