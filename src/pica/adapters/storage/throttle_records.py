"""Token buckets shared by every worker and node: the `RateLimiter` port in one SQL statement.

A bucket is one row per (account, service, operation) holding its tokens and when it was last
touched. `take` refills it for the time elapsed (at `rate` per second, up to `rate` tokens, at
least 1) and spends a token when one is there, in a single `INSERT ... ON CONFLICT DO UPDATE
... RETURNING`: one round trip, atomic under the row's lock, whatever the number of processes.
A refused call spends nothing, so a client retrying after a ThrottlingException gets through as
soon as the bucket refills.

- PostgreSQL (several nodes): the `throttle_buckets` table of the shared database (revision
  0010, UNLOGGED: buckets are worth nothing after a crash, so they skip the WAL), timed by the
  database server's clock so that nodes with skewed clocks still share one bucket.
- SQLite (one host, several workers): a separate small SQLite file beside the database
  (`pica.db-throttle`, synchronous=OFF), so a throttled call never queues behind the main
  database's writers; its writers queue on the same kind of thread lock + flock(2) as the main
  database (`sqlite_engine.WriteLock`), not in SQLite's sleeping busy handler.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import Engine

from pica.adapters.storage.sqlite_engine import SQLITE_BUSY_TIMEOUT_MS, WriteLock

Key = tuple[str, str, str]

# The refill, written once per dialect: `{least}`/`{greatest}` are min/max of two values.
_REFILLED = (
    "{least}(:capacity, throttle_buckets.tokens + "
    "{greatest}(0, {now} - throttle_buckets.updated_at) * :rate)"
)
_UPSERT = """
INSERT INTO throttle_buckets (account_id, service, operation, tokens, updated_at, granted)
VALUES (:account, :service, :operation, :capacity - 1, {now}, 1)
ON CONFLICT (account_id, service, operation) DO UPDATE SET
  tokens = CASE WHEN {refilled} >= 1 THEN {refilled} - 1 ELSE {refilled} END,
  granted = CASE WHEN {refilled} >= 1 THEN 1 ELSE 0 END,
  updated_at = {now}
RETURNING granted
"""


def _statement(least: str, greatest: str, now: str) -> str:
    refilled = _REFILLED.format(least=least, greatest=greatest, now=now)
    return _UPSERT.format(refilled=refilled, now=now)


_SQLITE_UPSERT = _statement("min", "max", ":now")
_POSTGRES_UPSERT = _statement("LEAST", "GREATEST", "extract(epoch from clock_timestamp())")
_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS throttle_buckets (
  account_id TEXT NOT NULL, service TEXT NOT NULL, operation TEXT NOT NULL,
  tokens REAL NOT NULL, updated_at REAL NOT NULL, granted INTEGER NOT NULL,
  PRIMARY KEY (account_id, service, operation)
)
"""


def _capacity(rate: float) -> float:
    return max(rate, 1.0)


class PostgresBuckets:
    """The buckets in the shared PostgreSQL database (`throttle_buckets`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # psycopg's placeholders, so the statement goes to the driver as it is.
        self._sql = _POSTGRES_UPSERT
        for name in ("capacity", "rate", "account", "service", "operation"):
            self._sql = self._sql.replace(f":{name}", f"%({name})s")

    def take(self, key: Key, rate: float) -> bool:
        account, service, operation = key
        with self._engine.begin() as connection:
            granted = connection.exec_driver_sql(
                self._sql,
                {
                    "account": account,
                    "service": service,
                    "operation": operation,
                    "capacity": _capacity(rate),
                    "rate": rate,
                },
            ).scalar_one()
        return bool(granted)


class SqliteBuckets:
    """The buckets in a SQLite file of their own, shared by the processes of one host."""

    # A take costs ~15 us (one local UPSERT under an flock): the endpoint calls it on the event
    # loop rather than paying a thread-pool hop that costs more than the work.
    inline = True

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = WriteLock(Path(f"{path}-lock"))
        self._local = threading.local()
        if not path.exists():
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        with self._lock.held():
            self._connection().execute(_SQLITE_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA journal_mode = WAL")
            # Buckets are worth nothing after a crash: no fsync on the hot path.
            connection.execute("PRAGMA synchronous = OFF")
            self._local.connection = connection
            self._local.pid = os.getpid()
        return connection

    def take(self, key: Key, rate: float) -> bool:
        account, service, operation = key
        parameters = {
            "account": account,
            "service": service,
            "operation": operation,
            "capacity": _capacity(rate),
            "rate": rate,
            "now": time.time(),
        }
        connection = self._connection()
        with self._lock.held():
            granted = connection.execute(_SQLITE_UPSERT, parameters).fetchone()[0]
        return bool(granted)


def buckets_for(engine: Engine) -> PostgresBuckets | SqliteBuckets:
    """The buckets that go with the store's database: in it (PostgreSQL) or beside it."""
    if engine.dialect.name == "postgresql":
        return PostgresBuckets(engine)
    database = engine.url.database or ""
    return SqliteBuckets(Path(f"{database}-throttle"))
