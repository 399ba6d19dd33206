"""Hot statements: SQLAlchemy Core statements compiled once per dialect and run on the DBAPI
cursor of the transaction's connection.

Why: a Core `Connection.execute` of an already compiled statement still costs ~15-50 µs of
Python (cache key, execution context, events, result set-up) against ~2-4 µs for the same
statement on the driver's cursor; IssueCertificate runs four or five of them per request, and
the audit sealer one per certificate (bench/README.md). The statement is still written in Core
(the one schema in `tables`, both dialects), compiled by SQLAlchemy for the connection's dialect,
and its parameters and results go through the same type processors SQLAlchemy applies
(`UtcDateTime`, `LargeBinary`, ...): only the per-execution machinery is skipped.

It runs inside the connection's current SQLAlchemy transaction (same DBAPI connection), so
commit and rollback stay SQLAlchemy's. Driver errors leave as SQLAlchemy's `DBAPIError`
subclasses (`IntegrityError`, `OperationalError`, ...), exactly as from `Connection.execute`,
and a disconnect invalidates the connection as SQLAlchemy would.

Only for statements with plain bound parameters (no expanding IN lists, no Python-side column
defaults: every parameter must be given).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Form:
    """One statement as one dialect runs it."""

    sql: str
    positional: bool
    names: tuple[str, ...]
    binds: tuple[_Processor, ...]
    results: tuple[_Processor, ...]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        try:
            processed = [
                value if process is None else process(value)
                for value, process in zip(
                    (values[name] for name in self.names), self.binds, strict=True
                )
            ]
        except Exception as error:
            # What `Connection.execute` raises for a value a type refuses (a naive datetime).
            message = f"({type(error).__module__}.{type(error).__name__}) {error}"
            raise exc.StatementError(message, self.sql, dict(values), error) from error
        return processed if self.positional else dict(zip(self.names, processed, strict=True))

    def row(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(row, self.results, strict=True)
        )


class DriverStatement:
    """A Core statement, compiled once per dialect, run on the DBAPI cursor (module doc)."""

    def __init__(self, statement: Executable, column_keys: Iterable[str] | None = None) -> None:
        self._statement = statement
        self._column_keys = None if column_keys is None else list(column_keys)
        self._forms: dict[tuple[str, str], _Form] = {}
        self._lock = threading.Lock()

    def _form(self, dialect: Dialect) -> _Form:
        key = (dialect.name, dialect.driver)
        form = self._forms.get(key)
        if form is not None:
            return form
        with self._lock:
            form = self._forms.get(key)
            if form is None:
                form = self._forms[key] = self._compile(dialect)
        return form

    def _compile(self, dialect: Dialect) -> _Form:
        assert isinstance(self._statement, ClauseElement)
        compiled = self._statement.compile(dialect=dialect, column_keys=self._column_keys)
        assert isinstance(compiled, SQLCompiler)
        if compiled.positional:
            names = tuple(compiled.positiontup or ())
        else:
            names = tuple(dict.fromkeys(compiled.bind_names.values()))
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a driver statement takes plain bound parameters only")
        binds = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names
        )
        columns = getattr(self._statement, "exported_columns", ())
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        return _Form(str(compiled), compiled.positional, names, binds, results)

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> int:
        """Run with `values` (one per bound parameter); the driver's row count."""
        form = self._form(connection.dialect)
        cursor = _run(connection, form, form.parameters(values), many=False)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def execute_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per mapping in `rows`, with the driver's `executemany`."""
        if not rows:
            return
        form = self._form(connection.dialect)
        _run(connection, form, [form.parameters(values) for values in rows], many=True).close()

    def first(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row (its values through the columns' result processors), or None."""
        form = self._form(connection.dialect)
        cursor = _run(connection, form, form.parameters(values), many=False)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else form.row(row)


def _run(connection: Connection, form: _Form, parameters: Any, *, many: bool) -> DBAPICursor:
    # The connection's transaction has begun already when a record method runs, so this is
    # the DBAPI connection SQLAlchemy will commit.
    fairy = connection.connection
    cursor = fairy.cursor()
    try:
        if many:
            cursor.executemany(form.sql, parameters)
        else:
            cursor.execute(form.sql, parameters)
    except connection.dialect.loaded_dbapi.Error as error:
        cursor.close()
        dialect = connection.dialect
        disconnected = dialect.is_disconnect(error, fairy.dbapi_connection, cursor)
        if disconnected:
            connection.invalidate(error)
        raise exc.DBAPIError.instance(
            form.sql,
            parameters,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=disconnected,
            dialect=dialect,
        ) from error
    return cursor
