"""The base of the SQL record families: the transaction's connection and the statement helpers.

Conflicts never poison the transaction: single-row inserts are `INSERT ... ON CONFLICT DO
NOTHING` plus a row count check, so after `Conflict` the caller may go on and still commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable, Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from pica.adapters.storage.ca_cache import CaCache
from pica.adapters.storage.driver_statements import DriverStatement
from pica.errors import Conflict

# sqlite3 extended result codes of a violated PRIMARY KEY / UNIQUE constraint.
_SQLITE_UNIQUE_CODES = frozenset({1555, 2067})


def is_unique_violation(error: IntegrityError) -> bool:
    original = error.orig
    if getattr(original, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return getattr(original, "sqlite_errorcode", None) in _SQLITE_UNIQUE_CODES


_INSERTS: dict[tuple[str, str, tuple[str, ...]], DriverStatement] = {}


def _insert_statement(dialect: str, table: Table, columns: tuple[str, ...]) -> DriverStatement:
    """`INSERT ... ON CONFLICT DO NOTHING` of `columns` into `table`, built once per dialect,
    run on the driver's cursor (`driver_statements`)."""
    key = (dialect, table.name, columns)
    statement = _INSERTS.get(key)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = _INSERTS[key] = DriverStatement(
            insert(table).on_conflict_do_nothing(), column_keys=columns
        )
    return statement


class SqlRecords:
    """What every record family's mixin works with: one connection in one transaction, the
    dialect, the store's CA cache, whether writes are allowed; and the shared statement helpers."""

    def __init__(
        self,
        connection: Connection,
        dialect: str,
        cas: CaCache | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self._connection = connection
        self._dialect = dialect
        self._cas = CaCache() if cas is None else cas
        self._read_only = read_only

    def _writable(self) -> None:
        if self._read_only:
            raise RuntimeError("write attempted in a read-only transaction")

    def _one(self, query: Executable) -> Row[Any] | None:
        return self._connection.execute(query).one_or_none()

    def _all(self, query: Executable) -> Sequence[Row[Any]]:
        return self._connection.execute(query).all()

    def _insert_unique(self, table: Table, values: Mapping[str, object], what: str) -> None:
        self._writable()
        if self._insert_or_ignore(table, values) != 1:
            raise Conflict(f"{what} already exists")

    def _insert_or_ignore(self, table: Table, values: Mapping[str, object]) -> int:
        """Insert one row unless it would violate a unique constraint; the rows inserted."""
        statement = _insert_statement(self._dialect, table, tuple(values))
        return statement.execute(self._connection, values)
