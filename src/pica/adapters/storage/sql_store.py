"""`SqlStore`: the `Store` port on SQLAlchemy Core, for SQLite (embedded default) and PostgreSQL.

URLs: `sqlite:////abs/path/pica.db` (a file; in-memory databases are refused because every
pooled connection would see a different one) and `postgresql+psycopg://user@host:5432/dbname`
(a bare `postgresql://` means the same: psycopg 3 is the driver pica depends on).

Transactions: one `Connection.begin()` per `transaction()` block, so one commit per request, on
a connection kept open between transactions (`_IdleConnections`: no pool checkout per request).
The statements of the hot path run on the driver's cursor (`driver_statements`).
- SQLite: the driver's own transaction handling is switched off and the store emits
  `BEGIN IMMEDIATE`, which takes the write lock up front (a read lock is never upgraded into
  SQLITE_BUSY). Before it, writers queue on `sqlite_engine.WriteLock` (threads, then processes
  through flock(2)), so SQLite's sleeping busy handler is rarely met. WAL with
  `synchronous=NORMAL`: a committed transaction survives a killed process; only a power loss
  can lose the last few commits. `transaction(read_only=True)` emits `BEGIN DEFERRED`, so
  readers (OCSP, Describe*) run alongside a writer under WAL.
- PostgreSQL: READ COMMITTED; `get_ca(for_update=True)` is `SELECT ... FOR UPDATE`.

Conflicts never poison the transaction: single-row inserts are `INSERT ... ON CONFLICT DO
NOTHING` plus a row count check, and `put_tags` runs in a SAVEPOINT; so after `Conflict` the
caller may go on (retry with another serial, re-read a token) and still commit.

The adapter's modules: this one (the engine: opening, migrating, transactions), `sqlite_engine`
(SQLite's connection set-up and the writers' queue), `sql_transaction` (the `Transaction` port,
composed of one `*_records` mixin per record family over `sql_records`), `rows` (row mapping),
`ca_cache`, `tables` (the schema) and `documents` (JSON columns).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Engine,
    create_engine,
    event,
    select,
    union,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from pica.adapters.storage.ca_cache import CaCache
from pica.adapters.storage.sql_transaction import SqlTransaction
from pica.adapters.storage.sqlite_engine import (
    READ_ONLY_KEY,
    WriteLock,
    begin_sqlite_transaction,
    configure_sqlite_connection,
)
from pica.adapters.storage.tables import access_keys, acm_certificates, certificate_authorities
from pica.authority.model import CertificateAuthority

if TYPE_CHECKING:
    from pica.authority.ports import AcmStore, Store

MIGRATIONS = Path(__file__).parent / "migrations"

# Connections kept open between transactions (`_IdleConnections`): SQLAlchemy's default pool
# size, so the pool's own limits stay what they were.
_IDLE_CONNECTIONS = 5

# pg_advisory_xact_lock key serialising `migrate()` across processes ("pica" + 1).
_MIGRATION_LOCK_KEY = 0x7069_6361_0000_0001


class DatabaseUnavailable(Exception):
    """The database cannot be used as configured: a malformed or unsupported URL, a SQLite file
    that is missing (and may not be created) or unreadable, a server that does not answer, a
    schema that is missing or out of date. A fault of the installation, reported at start-up."""


class SqlStore:
    """The `Store` port on one SQLAlchemy engine; cheap to share, one per process."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        """Open (no connection yet) the database at `url`.

        A SQLite file that does not exist is created empty with mode 0600 when `create` is
        true (SQLite gives its -wal and -shm files the database file's mode), and is an error
        otherwise; an existing one loses any group or world permission bits.
        """
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise DatabaseUnavailable(f"database URL {url!r} is not a valid URL") from error
        self._shown_url = parsed.render_as_string(hide_password=True)
        self.dialect = parsed.get_backend_name()
        try:
            if self.dialect == "sqlite":
                database = parsed.database or ""
                if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
                    raise DatabaseUnavailable(
                        f"pica needs a SQLite file (sqlite:////path/pica.db), not {url!r}"
                    )
                if "uri" not in parsed.query:
                    _prepare_sqlite_file(Path(database), create=create)
                self._engine = create_engine(parsed)
                event.listen(self._engine, "connect", configure_sqlite_connection)
                event.listen(self._engine, "begin", begin_sqlite_transaction)
            elif self.dialect == "postgresql":
                if parsed.drivername == "postgresql":
                    # psycopg 3 is the driver pica ships with; the bare scheme means psycopg2.
                    parsed = parsed.set(drivername="postgresql+psycopg")
                # An unreachable host fails within seconds rather than after TCP's retries.
                connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
                self._engine = create_engine(parsed, connect_args=connect_args)
            else:
                raise DatabaseUnavailable(
                    f"unsupported database {parsed.drivername!r} in {self._shown_url} "
                    "(pica speaks sqlite and postgresql)"
                )
        except ArgumentError as error:  # an unknown driver, a malformed option
            raise DatabaseUnavailable(f"database URL {self._shown_url}: {error}") from error
        self._write_lock: WriteLock | None = None
        if self.dialect == "sqlite":
            database = parsed.database or ""
            plain_file = "uri" not in parsed.query
            self._write_lock = WriteLock(Path(database + "-lock") if plain_file else None)
        self._ca_cache = CaCache()
        self._idle = _IdleConnections(self._engine, _IDLE_CONNECTIONS)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def display_url(self) -> str:
        """The database URL with any password hidden, for messages."""
        return self._shown_url

    def migrate(self) -> None:
        """Bring the schema to the newest revision (a no-op when it is already there).

        Runs in one transaction, so a failed migration leaves nothing behind. Several processes
        may call it at once: PostgreSQL serialises them on an advisory lock, SQLite on the write
        lock `BEGIN IMMEDIATE` takes; the later ones then find the schema current.
        """
        config = _alembic_config()
        with self._reaching(), self._engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def schema_is_current(self) -> bool:
        """Whether the schema is at the newest revision (false for an empty database)."""
        heads = ScriptDirectory.from_config(_alembic_config()).get_heads()
        with self._reaching(), self._read_only_connection() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
        return set(current) == set(heads)

    def key_refs_in_use(self) -> frozenset[str]:
        """The ids of the key-encryption keys that sealed something stored here (CA private
        keys, access-key secrets, ACM certificate keys): start-up checks that the key store
        holds every one of them.

        One narrow query over the three `*_key_ref` columns; no row is loaded.
        """
        query = union(
            select(certificate_authorities.c.private_key_ref).where(
                certificate_authorities.c.private_key_ref.is_not(None)
            ),
            select(access_keys.c.secret_key_ref),
            select(acm_certificates.c.private_key_ref).where(
                acm_certificates.c.private_key_ref.is_not(None)
            ),
        )
        with self._reaching(), self._read_only_connection() as connection:
            return frozenset(connection.execute(query).scalars())

    @contextmanager
    def _read_only_connection(self) -> Iterator[Connection]:
        with self._engine.connect() as connection:
            connection.info[READ_ONLY_KEY] = True
            try:
                transaction = connection.begin()
            finally:
                connection.info.pop(READ_ONLY_KEY, None)
            with transaction:
                yield connection

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        """Turn the driver's "cannot connect / cannot read" errors into `DatabaseUnavailable`."""
        try:
            yield
        except (DBAPIError, sqlite3.Error) as error:
            text = str(getattr(error, "orig", None) or error).strip()
            reason = (text.splitlines() or [type(error).__name__])[0]
            raise DatabaseUnavailable(
                f"cannot use the database {self._shown_url}: {reason}"
            ) from error

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only connection (no write lock on SQLite) for installation-level queries made
        outside the `Transaction` port (health checks, metrics, backups); the driver's errors
        leave as `DatabaseUnavailable`."""
        with self._reaching(), self._read_only_connection() as connection:
            yield connection

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A short write transaction for installation-level changes made outside the
        `Transaction` port (re-wrapping sealed secrets under a new KEK); it queues on the
        same SQLite write lock as every request's transaction."""
        with self._reaching(), self._write_held(), self._engine.begin() as connection:
            yield connection

    @contextmanager
    def _write_held(self) -> Iterator[None]:
        if self._write_lock is None:
            yield
            return
        with self._write_lock.held():
            yield

    async def until_writable(self) -> None:
        """Until no writer holds SQLite's queue (`WriteLock.until_free`); at once elsewhere."""
        if self._write_lock is not None:
            await self._write_lock.until_free()

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown, and in tests)."""
        self._idle.close()
        self._engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()

    @contextmanager
    def transaction(
        self, *, read_only: bool = False, snapshot: bool = True
    ) -> Iterator[SqlTransaction]:
        """Begin; commit when the block exits normally, roll back when it raises.

        `read_only=True` promises no writes (they raise `RuntimeError`); on SQLite the
        transaction then does not take the write lock. A SQLite write transaction first takes
        this store's `WriteLock`, so writers queue there (woken the moment the holder commits)
        instead of in SQLite's busy handler, which sleeps in growing steps. `snapshot=False`
        with `read_only` (the port's promise: no common snapshot needed, no streamed rows):
        on PostgreSQL the reads run in autocommit, one round trip each instead of a BEGIN and
        a COMMIT around them (on SQLite both are local calls, so nothing changes).
        """
        if read_only or self._write_lock is None:
            with self._transaction(read_only=read_only, snapshot=snapshot) as tx:
                yield tx
            return
        with self._write_lock.held(), self._transaction(read_only=False) as tx:
            yield tx

    def recent_ca(self, arn: str) -> CertificateAuthority | None:
        """The CA as the cache last decoded it (`CaCache.latest`): no query."""
        return self._ca_cache.latest(arn)

    @contextmanager
    def _transaction(self, *, read_only: bool, snapshot: bool = True) -> Iterator[SqlTransaction]:
        connection = self._idle.take()
        try:
            if self.dialect == "sqlite":
                with _sqlite_transaction(connection, read_only=read_only):
                    yield SqlTransaction(
                        connection, self.dialect, self._ca_cache, read_only=read_only
                    )
                return
            if read_only and not snapshot:
                with _autocommit(connection):
                    yield SqlTransaction(connection, self.dialect, self._ca_cache, read_only=True)
                return
            with connection.begin():
                yield SqlTransaction(connection, self.dialect, self._ca_cache, read_only=read_only)
        finally:
            self._idle.give_back(connection)


@contextmanager
def _sqlite_transaction(connection: Connection, *, read_only: bool) -> Iterator[None]:
    """BEGIN and COMMIT (or ROLLBACK) sent to the sqlite3 connection itself.

    SQLAlchemy's begin and commit (transaction objects, event dispatch) cost more Python than
    the hot statements themselves, twice per issuance. A statement run through SQLAlchemy in
    the block makes it begin its own transaction object on top (the `begin` hook sees the
    driver's transaction open and sends nothing); that one is then committed or rolled back
    through SQLAlchemy, which ends the driver's transaction too.
    """
    driver = cast(sqlite3.Connection, connection.connection.driver_connection)
    driver.execute("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE").close()
    try:
        yield
    except BaseException:
        if connection.in_transaction():
            connection.rollback()
        elif not connection.invalidated and driver.in_transaction:
            driver.rollback()
        raise
    if connection.in_transaction():
        connection.commit()
    elif driver.in_transaction:
        driver.commit()


@contextmanager
def _autocommit(connection: Connection) -> Iterator[None]:
    """Statements in the block each commit on their own (psycopg sends no BEGIN): for reads
    that need no common snapshot. SQLAlchemy's own transaction, begun by a statement run
    through it, is ended too (a no-op on the server, nothing being open there)."""
    driver = connection.connection.driver_connection
    driver.autocommit = True  # type: ignore[union-attr]
    try:
        yield
    except BaseException:
        if connection.in_transaction():
            connection.rollback()
        raise
    else:
        if connection.in_transaction():
            connection.commit()
    finally:
        if not connection.invalidated:
            driver.autocommit = False  # type: ignore[union-attr]


class _IdleConnections:
    """Connections kept open between transactions, each used by one thread at a time.

    A transaction takes one (the last one given back, else a new one from the engine's pool)
    and gives it back when it ends. Checking a connection out of SQLAlchemy's pool and back in
    (events, reset-on-return rollback) for every transaction cost about as much as the
    statements of an issuance. The connections stay checked out of the pool while idle here,
    at most `limit` of them (the pool's size), so the pool's overflow still serves bursts; a
    connection that was invalidated (a lost server) or closed is dropped, not kept, and an
    invalidated one takes the idle ones with it.
    """

    def __init__(self, engine: Engine, limit: int) -> None:
        self._engine = engine
        self._limit = limit
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    def take(self) -> Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._engine.connect()

    def give_back(self, connection: Connection) -> None:
        if connection.invalidated:
            # A lost server (a restart, a failover): the idle connections went with it. Drop
            # them now, or each would fail one more request before being found out.
            self.close()
        elif not (connection.closed or connection.in_transaction()):
            with self._lock:
                if len(self._idle) < self._limit:
                    self._idle.append(connection)
                    return
        connection.close()

    def close(self) -> None:
        """Close the idle connections (at dispose)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def _prepare_sqlite_file(path: Path, *, create: bool) -> None:
    """Make sure the database file exists (when allowed) and is private; see `SqlStore`."""
    if path.exists():
        for item in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            with suppress(OSError):  # gone meanwhile, or not ours: nothing to tighten
                mode = stat.S_IMODE(item.stat().st_mode)
                if mode & 0o077:
                    item.chmod(mode & 0o700)
        return
    if not create:
        raise DatabaseUnavailable(f"no pica database at {path}")
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return  # another process created it first
    except OSError as error:
        reason = error.strerror or str(error)
        raise DatabaseUnavailable(f"cannot create the SQLite database {path}: {reason}") from error
    os.close(descriptor)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


if TYPE_CHECKING:
    # mypy proves the adapter satisfies the port (tests are not type-checked).
    def _store_conforms(store: SqlStore) -> Store:
        return store

    def _acm_store_conforms(store: SqlStore) -> AcmStore:
        return store
