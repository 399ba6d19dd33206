"""SQLite as pica uses it: WAL, BEGIN IMMEDIATE for writers, and the queue of writers.

WAL with `synchronous=NORMAL`: a committed transaction survives a killed process; only a power
loss can lose the last few commits. Writers take `WriteLock`, then `BEGIN IMMEDIATE` (the write
lock up front, so a read lock is never upgraded into SQLITE_BUSY); readers `BEGIN DEFERRED`.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 10_000

# Key of `Connection.info` (the pooled DBAPI connection's dict) carrying `read_only=True` from
# the store to the SQLite `begin` hook; the hook takes it out, so every begin not marked
# read-only right before it is a writer's BEGIN IMMEDIATE.
READ_ONLY_KEY = "pica_read_only"


# Threads that wait for the writers' queue on behalf of event loops (`WriteLock.until_free`),
# made on first use in the process that waits: a worker rarely has more than a few waiting.
_WAITERS: ThreadPoolExecutor | None = None
_WAITERS_LOCK = threading.Lock()


def _waiters() -> ThreadPoolExecutor:
    global _WAITERS
    with _WAITERS_LOCK:
        if _WAITERS is None:
            _WAITERS = ThreadPoolExecutor(4, thread_name_prefix="pica-write-wait")
        return _WAITERS


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

    def is_free(self) -> bool:
        """Whether no writer holds the queue at this instant (taken and let go at once)."""
        if not self._threads.acquire(blocking=False):
            return False
        try:
            descriptor = self._file()
            if descriptor is None:
                return True
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            return True
        finally:
            self._threads.release()

    def wait_free(self) -> None:
        """Block until the current holder lets go (taken and let go at once)."""
        with self.held():
            pass

    async def until_free(self) -> None:
        """Until no writer holds the queue, without blocking the event loop: a worker that
        serves its requests on the loop waits here, not in `held`, while another process
        commits, and serves its other connections meanwhile. Nothing is held on return; the
        transaction takes the queue as always (rarely still busy by then)."""
        if self.is_free():
            return
        await asyncio.get_running_loop().run_in_executor(_waiters(), self.wait_free)

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


def configure_sqlite_connection(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
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


def begin_sqlite_transaction(connection: Connection) -> None:
    read_only = connection.info.pop(READ_ONLY_KEY, False)
    # Straight to the driver: SQLAlchemy's execution machinery costs more than BEGIN itself,
    # and there is no result to process.
    driver = cast(sqlite3.Connection, connection.connection.driver_connection)
    if driver.in_transaction:
        # The store began it on the driver (`sql_store._sqlite_transaction`) and a statement
        # run through SQLAlchemy is now opening SQLAlchemy's side of it.
        return
    driver.execute("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE").close()
