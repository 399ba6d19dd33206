"""`SqlStore`: the `Store` port on SQLAlchemy Core, for SQLite (embedded default) and PostgreSQL.

URLs: `sqlite:////abs/path/pica.db` (a file; in-memory databases are refused because every
pooled connection would see a different one) and `postgresql+psycopg://user@host:5432/dbname`
(a bare `postgresql://` means the same: psycopg 3 is the driver pica depends on).

Transactions: one `engine.begin()` per `transaction()` block, so one commit per request.
- SQLite: the driver's own transaction handling is switched off and the store emits
  `BEGIN IMMEDIATE`, which takes the write lock up front. Writers from several processes then
  queue on `busy_timeout` instead of failing with SQLITE_BUSY when a read lock cannot be upgraded.
  WAL with `synchronous=NORMAL`: a committed transaction survives a killed process; only a power
  loss can lose the last few commits. `transaction(read_only=True)` emits `BEGIN DEFERRED`, so
  readers (OCSP, Describe*) run alongside a writer under WAL.
- PostgreSQL: READ COMMITTED; `get_ca(for_update=True)` is `SELECT ... FOR UPDATE`.

Conflicts never poison the transaction: single-row inserts are `INSERT ... ON CONFLICT DO
NOTHING` plus a row count check, and `put_tags` runs in a SAVEPOINT; so after `Conflict` the
caller may go on (retry with another serial, re-read a token) and still commit.
"""

from __future__ import annotations

import enum
import fcntl
import os
import sqlite3
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Engine,
    Executable,
    Row,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    select,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlalchemy.pool import ConnectionPoolEntry

from pica.adapters.storage import documents, tables
from pica.adapters.storage.tables import (
    access_keys,
    accounts,
    bucket_owners,
    certificate_authorities,
    certificates,
    crl_state,
    idempotency_tokens,
    serial_from_text,
    serial_to_text,
)
from pica.authority.model import (
    AccessKey,
    Account,
    CaStatus,
    CaType,
    CertificateAuthority,
    CrlState,
    FailureReason,
    IssuedCertificate,
    KeyStorageSecurityStandard,
    RevocationReason,
    RevokedEntry,
    SealedKey,
    Tag,
    UsageMode,
)
from pica.errors import ConcurrentModification, Conflict

if TYPE_CHECKING:
    from pica.authority.ports import Store, Transaction

MIGRATIONS = Path(__file__).parent / "migrations"

# An idempotency record is live for this long (age < window, as the domain reads it); once its
# age reaches the window a new result may replace it.
IDEMPOTENCY_WINDOW = timedelta(minutes=5)

SQLITE_BUSY_TIMEOUT_MS = 10_000

# Rows fetched per round trip when streaming a CA's revoked certificates.
_CRL_BATCH = 10_000

E = TypeVar("E", bound=enum.Enum)

# pg_advisory_xact_lock key serialising `migrate()` across processes ("pica" + 1).
_MIGRATION_LOCK_KEY = 0x7069_6361_0000_0001

# Execution option carried from `transaction(read_only=True)` to the SQLite `begin` hook.
_READ_ONLY = "pica_read_only"

# sqlite3 extended result codes of a violated PRIMARY KEY / UNIQUE constraint.
_SQLITE_UNIQUE_CODES = frozenset({1555, 2067})


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
                event.listen(self._engine, "connect", _configure_sqlite_connection)
                event.listen(self._engine, "begin", _begin_sqlite_transaction)
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
        keys, access-key secrets): start-up checks that the key store holds every one of them.

        One narrow query over the two `*_key_ref` columns; no row is loaded.
        """
        query = union(
            select(certificate_authorities.c.private_key_ref).where(
                certificate_authorities.c.private_key_ref.is_not(None)
            ),
            select(access_keys.c.secret_key_ref),
        )
        with self._reaching(), self._read_only_connection() as connection:
            return frozenset(connection.execute(query).scalars())

    @contextmanager
    def _read_only_connection(self) -> Iterator[Connection]:
        with self._engine.connect() as connection:
            connection.execution_options(**{_READ_ONLY: True})
            with connection.begin():
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

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown, and in tests)."""
        self._engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[SqlTransaction]:
        """Begin; commit when the block exits normally, roll back when it raises.

        `read_only=True` promises no writes (they raise `RuntimeError`); on SQLite the
        transaction then does not take the write lock. A SQLite write transaction first takes
        this store's `WriteLock`, so writers queue there (woken the moment the holder commits)
        instead of in SQLite's busy handler, which sleeps in growing steps.
        """
        if read_only or self._write_lock is None:
            with self._transaction(read_only=read_only) as tx:
                yield tx
            return
        with self._write_lock.held(), self._transaction(read_only=False) as tx:
            yield tx

    @contextmanager
    def _transaction(self, *, read_only: bool) -> Iterator[SqlTransaction]:
        with self._engine.connect() as connection:
            if read_only:
                connection.execution_options(**{_READ_ONLY: True})
            with connection.begin():
                yield SqlTransaction(connection, self.dialect, self._ca_cache, read_only=read_only)


class WriteLock:
    """The queue of a SQLite database's writers: a thread lock for this process's threads, then
    flock(2) on a lock file beside the database (`pica.db-lock`) for the other processes (the
    workers of `pica serve --workers N`, the admin commands).

    SQLite lets one writer in at a time; the others wait in its busy handler, which polls
    with sleeps of 1, 2, 5, 10 ... ms, so at a few hundred writes per second a waiting writer
    sleeps longer than the holder's whole transaction. A blocked flock(2) or lock acquire wakes
    as soon as the holder lets go. `BEGIN IMMEDIATE` still takes SQLite's own lock after it (a
    writer that does not use this queue, such as a migration, is still waited for there).
    The file is opened once per process (flock locks belong to the open file, so a forked
    process opens its own); a database named by a `file:` URI gets the thread lock only.
    """

    def __init__(self, path: Path | None) -> None:
        self._threads = threading.Lock()
        self._path = path
        self._descriptor: int | None = None
        self._pid = 0

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            descriptor = self._file()
            if descriptor is None:
                yield
                return
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._threads:
            if self._descriptor is not None and self._pid == os.getpid():
                os.close(self._descriptor)
            self._descriptor = None

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._descriptor is None or self._pid != os.getpid():
            try:
                flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
                self._descriptor = os.open(self._path, flags, 0o600)
            except OSError:
                # A read-only directory, say: SQLite's own lock still serialises writers.
                self._path = None
                return None
            self._pid = os.getpid()
        return self._descriptor


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


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


def _configure_sqlite_connection(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
    connection = cast(sqlite3.Connection, dbapi_connection)
    # Let the `begin` hook emit BEGIN itself (the driver would emit a plain, deferred BEGIN).
    connection.isolation_level = None
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the database file to WAL (a persistent setting: a no-op once done).

    The switch needs an exclusive lock, and SQLite answers SQLITE_BUSY at once, without the
    busy handler, when waiting could deadlock (several processes opening a new file together);
    so retry here until one of them has switched it or the busy timeout has passed.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            (mode,) = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
            break
        except sqlite3.OperationalError as error:
            busy = getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.005)
    if str(mode).lower() != "wal":
        raise RuntimeError(f"SQLite refused WAL mode (got {mode!r}); pica needs it")


def _begin_sqlite_transaction(connection: Connection) -> None:
    read_only = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def _is_unique_violation(error: IntegrityError) -> bool:
    original = error.orig
    if getattr(original, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return getattr(original, "sqlite_errorcode", None) in _SQLITE_UNIQUE_CODES


class CaCache:
    """Decoded CA records of one store, each under the row version it was read at.

    Decoding a CA row (two JSON documents, a dozen columns) costs more than the query; issuance
    reads the same CA on every request. `get_ca` reads the row's `version` in its own
    transaction and takes the cached record only when the versions agree, so a change committed
    by any process or node (every change bumps the version, see `update_ca`) is seen at once.
    Only records read in read-only transactions are cached: they are committed data, whereas a
    write transaction may read its own change and then roll back.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self._records: OrderedDict[str, CertificateAuthority] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, arn: str, version: int) -> CertificateAuthority | None:
        with self._lock:
            ca = self._records.get(arn)
            if ca is None or ca.version != version:
                return None
            self._records.move_to_end(arn)
            return ca

    def put(self, ca: CertificateAuthority) -> None:
        with self._lock:
            self._records[ca.arn] = ca
            self._records.move_to_end(ca.arn)
            while len(self._records) > self._capacity:
                self._records.popitem(last=False)


# Statements of the hot paths (issuance, GetCertificate, OCSP), built once: SQLAlchemy then
# finds their compiled form in its cache without rebuilding or re-keying them per request.
_CA_VERSION = select(certificate_authorities.c.version).where(
    certificate_authorities.c.arn == bindparam("arn")
)
_CA_ROW = select(certificate_authorities).where(certificate_authorities.c.arn == bindparam("arn"))
_CERTIFICATE_ROW = select(certificates).where(
    certificates.c.ca_arn == bindparam("ca_arn"), certificates.c.serial == bindparam("serial")
)
_IDEMPOTENT_RESULT = select(idempotency_tokens.c.result, idempotency_tokens.c.created_at).where(
    idempotency_tokens.c.scope == bindparam("scope"),
    idempotency_tokens.c.token == bindparam("token"),
)
_CRL_STATE_ROW = select(crl_state).where(crl_state.c.ca_arn == bindparam("ca_arn"))
_NEXT_ISSUE_SEQUENCE = (
    update(crl_state)
    .where(crl_state.c.ca_arn == bindparam("of_ca"))
    .values(issued_count=crl_state.c.issued_count + 1)
    .returning(crl_state.c.issued_count)
)
_INSERTS: dict[tuple[str, str], Executable] = {}


def _insert_statement(dialect: str, table: Table) -> Executable:
    """`INSERT ... ON CONFLICT DO NOTHING` into `table`, built once per dialect."""
    key = (dialect, table.name)
    statement = _INSERTS.get(key)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # Without preserve_rowcount SQLAlchemy does not keep an INSERT's row count.
        statement = _INSERTS[key] = (
            insert(table).on_conflict_do_nothing().execution_options(preserve_rowcount=True)
        )
    return statement


class SqlTransaction:
    """One unit of work on one connection; implements the `Transaction` port."""

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

    # --- accounts and access keys ------------------------------------------------------------

    def insert_account(self, account: Account) -> None:
        values = {"account_id": account.account_id, "created_at": account.created_at}
        self._insert_unique(accounts, values, f"account {account.account_id}")

    def get_account(self, account_id: str) -> Account | None:
        row = self._one(select(accounts).where(accounts.c.account_id == account_id))
        return None if row is None else Account(row.account_id, row.created_at)

    def list_accounts(self) -> list[Account]:
        rows = self._all(select(accounts).order_by(accounts.c.account_id))
        return [Account(row.account_id, row.created_at) for row in rows]

    def insert_access_key(self, key: AccessKey, sealed_secret: SealedKey) -> None:
        values = {
            "access_key_id": key.access_key_id,
            "account_id": key.account_id,
            "created_at": key.created_at,
            "secret_key_ref": sealed_secret.key_ref,
            "secret_ciphertext": sealed_secret.ciphertext,
        }
        self._insert_unique(access_keys, values, f"access key {key.access_key_id}")

    def get_access_key(self, access_key_id: str) -> tuple[AccessKey, SealedKey] | None:
        query = select(access_keys).where(access_keys.c.access_key_id == access_key_id)
        row = self._one(query)
        if row is None:
            return None
        sealed = SealedKey(row.secret_key_ref, bytes(row.secret_ciphertext))
        return _access_key(row), sealed

    def list_access_keys(self, account_id: str | None = None) -> list[AccessKey]:
        query = select(access_keys).order_by(
            access_keys.c.account_id, access_keys.c.created_at, access_keys.c.access_key_id
        )
        if account_id is not None:
            query = query.where(access_keys.c.account_id == account_id)
        return [_access_key(row) for row in self._all(query)]

    def delete_access_key(self, access_key_id: str) -> bool:
        self._writable()
        statement = delete(access_keys).where(access_keys.c.access_key_id == access_key_id)
        return self._connection.execute(statement).rowcount > 0

    # --- certificate authorities --------------------------------------------------------------

    def insert_ca(self, ca: CertificateAuthority) -> None:
        self._insert_unique(certificate_authorities, _ca_values(ca), f"CA {ca.arn}")

    def get_ca(self, arn: str, *, for_update: bool = False) -> CertificateAuthority | None:
        """The CA; its version is read first, and a record cached at that version is reused."""
        version_query = _CA_VERSION
        if for_update:
            self._writable()
            # PostgreSQL locks the row; SQLite renders nothing (BEGIN IMMEDIATE already holds
            # the database's write lock, which serialises every writer).
            version_query = version_query.with_for_update()
        parameters = {"arn": arn}
        version = self._connection.execute(version_query, parameters).scalar_one_or_none()
        if version is None:
            return None
        cached = self._cas.get(arn, version)
        if cached is not None:
            return cached
        row = self._connection.execute(_CA_ROW, parameters).one_or_none()
        if row is None:
            return None
        ca = _ca(row)
        if self._read_only:
            self._cas.put(ca)
        return ca

    def update_ca(self, ca: CertificateAuthority) -> None:
        self._writable()
        values = _ca_values(ca)
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
        return [_ca(row) for row in self._all(query)]

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

    # --- issued certificates ------------------------------------------------------------------

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
            "revocation_reason": _value(cert.revocation_reason),
            "crl_partition": cert.crl_partition,
        }
        self._insert_unique(certificates, values, f"certificate {cert.arn}")

    def get_certificate(self, ca_arn: str, serial: int) -> IssuedCertificate | None:
        parameters = {"ca_arn": ca_arn, "serial": serial_to_text(serial)}
        row = self._connection.execute(_CERTIFICATE_ROW, parameters).one_or_none()
        return None if row is None else _issued(row)

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
                serial_from_text(serial), revoked_at, _enum(RevocationReason, reason)
            )

    def find_cas_by_key_hash(self, algorithm: str, key_hash: bytes) -> list[CertificateAuthority]:
        table = certificate_authorities
        column = {"sha1": table.c.public_key_sha1, "sha256": table.c.public_key_sha256}.get(
            algorithm
        )
        if column is None:
            return []
        return [_ca(row) for row in self._all(select(table).where(column == key_hash.hex()))]

    # --- CRL publication state ----------------------------------------------------------------

    def get_crl_state(self, ca_arn: str) -> CrlState | None:
        row = self._connection.execute(_CRL_STATE_ROW, {"ca_arn": ca_arn}).one_or_none()
        return None if row is None else _crl_state(row)

    def save_crl_state(self, state: CrlState) -> None:
        self._writable()
        values = {
            "crl_number": state.crl_number,
            "dirty_since": state.dirty_since,
            "this_update": state.this_update,
            "next_update": state.next_update,
            "next_refresh_at": state.next_refresh_at,
            "lease_until": state.lease_until,
            "issued_count": state.issued_count,
        }
        updated = self._connection.execute(
            update(crl_state).where(crl_state.c.ca_arn == state.ca_arn).values(values)
        ).rowcount
        if updated == 0:
            self._insert_unique(crl_state, {"ca_arn": state.ca_arn, **values}, "CRL state")

    def mark_crl_dirty(self, ca_arn: str, at: datetime) -> None:
        self._writable()
        self._ensure_crl_state(ca_arn)
        self._connection.execute(
            update(crl_state)
            .where(crl_state.c.ca_arn == ca_arn, crl_state.c.dirty_since.is_(None))
            .values(dirty_since=at)
        )

    def claim_crl_work(self, now: datetime, lease_until: datetime, limit: int) -> list[str]:
        self._writable()
        due = ((crl_state.c.dirty_since.is_not(None)) | (crl_state.c.next_refresh_at <= now)) & (
            (crl_state.c.lease_until.is_(None)) | (crl_state.c.lease_until < now)
        )
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

    def find_ca_by_id(self, ca_id: str) -> CertificateAuthority | None:
        table = certificate_authorities
        # Ids are uuid4s; should two ARNs ever share one, the URL names neither.
        rows = self._all(select(table).where(table.c.ca_id == ca_id).limit(2))
        return _ca(rows[0]) if len(rows) == 1 else None

    # --- CRL buckets ----------------------------------------------------------------------------

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

    # --- idempotency tokens -------------------------------------------------------------------

    def get_idempotent_result(self, scope: str, token: str) -> tuple[str, datetime] | None:
        parameters = {"scope": scope, "token": token}
        row = self._connection.execute(_IDEMPOTENT_RESULT, parameters).one_or_none()
        return None if row is None else (row.result, row.created_at)

    def put_idempotent_result(self, scope: str, token: str, result: str, at: datetime) -> None:
        """Record `result`; replace a record only if it is at least 5 minutes older than `at`.

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
                table.c.created_at <= at - IDEMPOTENCY_WINDOW,
            )
            .values(result=result, created_at=at)
        )
        if self._connection.execute(statement).rowcount != 1:
            raise Conflict(f"idempotency token {token!r} is already in use for {scope}")

    # --- tags ---------------------------------------------------------------------------------

    def get_tags(self, ca_arn: str) -> list[Tag]:
        query = select(tables.tags.c.key, tables.tags.c.value).where(tables.tags.c.ca_arn == ca_arn)
        rows = self._all(query.order_by(tables.tags.c.position))
        return [Tag(row.key, row.value) for row in rows]

    def put_tags(self, ca_arn: str, tags: list[Tag]) -> None:
        self._writable()
        keys = [tag.key for tag in tags]
        if len(set(keys)) != len(keys):
            raise Conflict(f"duplicate tag keys for {ca_arn}")
        rows = [
            {"ca_arn": ca_arn, "position": position, "key": tag.key, "value": tag.value}
            for position, tag in enumerate(tags)
        ]
        try:
            # A concurrent put_tags on PostgreSQL can collide on (ca_arn, key); the savepoint
            # keeps this transaction usable when it does.
            with self._connection.begin_nested():
                self._connection.execute(delete(tables.tags).where(tables.tags.c.ca_arn == ca_arn))
                if rows:
                    self._connection.execute(tables.tags.insert(), rows)
        except IntegrityError as error:
            if _is_unique_violation(error):
                raise Conflict(f"tags of {ca_arn} changed concurrently") from error
            raise

    # --- helpers ------------------------------------------------------------------------------

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
        statement = _insert_statement(self._dialect, table)
        return self._connection.execute(statement, dict(values)).rowcount


def _value(member: Any) -> str | None:
    return None if member is None else str(member.value)


def _enum(cls: type[E], value: str | None) -> E | None:
    return None if value is None else cls(value)


def _issued(row: Row[Any]) -> IssuedCertificate:
    return IssuedCertificate(
        ca_arn=row.ca_arn,
        serial=serial_from_text(row.serial),
        certificate_der=bytes(row.certificate_der),
        not_before=row.not_before,
        not_after=row.not_after,
        issued_at=row.issued_at,
        template_arn=row.template_arn,
        revoked_at=row.revoked_at,
        revocation_reason=_enum(RevocationReason, row.revocation_reason),
        crl_partition=row.crl_partition,
    )


def _crl_state(row: Row[Any]) -> CrlState:
    return CrlState(
        ca_arn=row.ca_arn,
        crl_number=int(row.crl_number),
        dirty_since=row.dirty_since,
        this_update=row.this_update,
        next_update=row.next_update,
        next_refresh_at=row.next_refresh_at,
        lease_until=row.lease_until,
        issued_count=int(row.issued_count),
    )


def _access_key(row: Row[Any]) -> AccessKey:
    return AccessKey(
        access_key_id=row.access_key_id, account_id=row.account_id, created_at=row.created_at
    )


def _ca_values(ca: CertificateAuthority) -> dict[str, object]:
    return {
        "arn": ca.arn,
        "account_id": ca.account_id,
        "type": ca.type.value,
        "status": ca.status.value,
        "configuration": documents.dump_ca_configuration(ca.configuration),
        "revocation_configuration": documents.dump_revocation_configuration(
            ca.revocation_configuration
        ),
        "usage_mode": ca.usage_mode.value,
        "key_storage_security_standard": ca.key_storage_security_standard.value,
        "created_at": ca.created_at,
        "last_state_change_at": ca.last_state_change_at,
        "private_key_ref": None if ca.sealed_key is None else ca.sealed_key.key_ref,
        "private_key_ciphertext": None if ca.sealed_key is None else ca.sealed_key.ciphertext,
        "csr_pem": ca.csr_pem,
        "certificate_pem": ca.certificate_pem,
        "certificate_chain_pem": ca.certificate_chain_pem,
        "serial": None if ca.serial is None else serial_to_text(ca.serial),
        "not_before": ca.not_before,
        "not_after": ca.not_after,
        "failure_reason": _value(ca.failure_reason),
        "restorable_until": ca.restorable_until,
        "status_before_deletion": _value(ca.status_before_deletion),
        "public_key_sha1": None if ca.public_key_sha1 is None else ca.public_key_sha1.hex(),
        "public_key_sha256": None if ca.public_key_sha256 is None else ca.public_key_sha256.hex(),
        "version": ca.version,
        "ca_id": ca.ca_id,
    }


def _ca(row: Row[Any]) -> CertificateAuthority:
    sealed_key = None
    if row.private_key_ref is not None:
        sealed_key = SealedKey(row.private_key_ref, bytes(row.private_key_ciphertext))
    return CertificateAuthority(
        arn=row.arn,
        account_id=row.account_id,
        type=CaType(row.type),
        status=CaStatus(row.status),
        configuration=documents.load_ca_configuration(row.configuration),
        revocation_configuration=documents.load_revocation_configuration(
            row.revocation_configuration
        ),
        usage_mode=UsageMode(row.usage_mode),
        key_storage_security_standard=KeyStorageSecurityStandard(row.key_storage_security_standard),
        created_at=row.created_at,
        last_state_change_at=row.last_state_change_at,
        sealed_key=sealed_key,
        csr_pem=row.csr_pem,
        certificate_pem=row.certificate_pem,
        certificate_chain_pem=row.certificate_chain_pem,
        serial=None if row.serial is None else serial_from_text(row.serial),
        not_before=row.not_before,
        not_after=row.not_after,
        failure_reason=_enum(FailureReason, row.failure_reason),
        restorable_until=row.restorable_until,
        status_before_deletion=_enum(CaStatus, row.status_before_deletion),
        public_key_sha1=None if row.public_key_sha1 is None else bytes.fromhex(row.public_key_sha1),
        public_key_sha256=(
            None if row.public_key_sha256 is None else bytes.fromhex(row.public_key_sha256)
        ),
        version=row.version,
    )


if TYPE_CHECKING:
    # mypy proves the adapter satisfies the ports (tests are not type-checked).
    def _store_conforms(store: SqlStore) -> Store:
        return store

    def _transaction_conforms(transaction: SqlTransaction) -> Transaction:
        return transaction
