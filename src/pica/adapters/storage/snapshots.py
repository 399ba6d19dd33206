"""Consistent copies of a live database, and putting one back: what `pica backup` and `pica
restore` ask of the storage.

- SQLite: the stdlib online backup API (`sqlite3.Connection.backup`) in one step, which reads
  the whole database inside one read transaction: under WAL, writers go on meanwhile and the
  copy is the database as of one commit. The copy is checked (`PRAGMA integrity_check`).
- PostgreSQL: `pg_dump --format=custom`, which dumps inside one repeatable-read transaction (a
  snapshot of one instant), and `pg_restore --single-transaction` into an empty database. The
  password travels in `PGPASSWORD`, never on a command line other users can read.

Every failure leaves as `SnapshotError`, one line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import datetime
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, update
from sqlalchemy.engine import URL, make_url

from pica.adapters.storage.sql_store import MIGRATIONS, SqlStore
from pica.adapters.storage.tables import crl_state

PG_TIMEOUT_SECONDS = 3600


class SnapshotError(Exception):
    """A backup or restore step failed; the message is one line."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for any other database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def copy_sqlite(source: Path, destination: Path) -> None:
    """Copy the live database at `source` into the new file `destination` (mode 0600)."""
    if not source.is_file():
        raise SnapshotError(f"no pica database at {source}")
    descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    try:
        # Not `mode=ro`: a read-only connection cannot recover a WAL left by a killed writer.
        with (
            closing(sqlite3.connect(source, timeout=30)) as live,
            closing(sqlite3.connect(destination)) as copy,
        ):
            live.backup(copy)  # pages=-1: one step, one read transaction
            _check_integrity(copy, destination)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    except sqlite3.Error as error:
        raise SnapshotError(f"cannot copy the SQLite database {source}: {error}") from error


def check_sqlite_file(path: Path) -> None:
    """A restored file must be a sound SQLite database."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            _check_integrity(connection, path)
    except sqlite3.Error as error:
        raise SnapshotError(f"{path} is not a usable SQLite database: {error}") from error


def schema_revision(store: SqlStore) -> str | None:
    """The Alembic revision the database is at (None before any migration)."""
    with store.reading() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        value = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return None if value is None else str(value)


def known_revision(revision: str) -> bool:
    """Whether this pica's migrations know `revision` (a newer pica's schema is unknown)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except CommandError:
        return False


def has_tables(store: SqlStore) -> bool:
    with store.reading() as connection:
        return bool(inspect(connection).get_table_names())


def dump_postgresql(url: str, destination: Path) -> None:
    """`pg_dump` the database at `url` (custom format) into the new file `destination`."""
    target, env = _libpq(url)
    descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    _run_pg(
        "pg_dump",
        [
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={destination}",
            f"--dbname={target}",
        ],
        env,
    )


def restore_postgresql(url: str, dump: Path) -> None:
    """`pg_restore` `dump` into the (empty) database at `url`, all or nothing."""
    target, env = _libpq(url)
    _run_pg(
        "pg_restore",
        [
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={target}",
            str(dump),
        ],
        env,
    )


def mark_crls_for_publication(store: SqlStore, now: datetime) -> int:
    """Ask for a new CRL of every CA that publishes one, and drop any lease: published files
    are not in a backup, so the first server on the restored database writes them afresh."""
    statement = update(crl_state).where(crl_state.c.dirty_since.is_(None)).values(dirty_since=now)
    with store.engine.begin() as connection:
        changed = connection.execute(statement).rowcount
        connection.execute(update(crl_state).values(lease_until=None))
    return int(changed or 0)


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    (verdict,) = connection.execute("PRAGMA integrity_check").fetchone()
    if verdict != "ok":
        raise SnapshotError(f"the SQLite database {path} fails its integrity check: {verdict}")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment that carries it."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run_pg(program: str, arguments: list[str], env: dict[str, str]) -> None:
    binary = shutil.which(program)
    if binary is None:
        raise SnapshotError(
            f"{program} is not installed: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client)"
        )
    try:
        completed = subprocess.run(
            [binary, *arguments],
            env=env,
            capture_output=True,
            text=True,
            timeout=PG_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise SnapshotError(f"{program} did not finish within {PG_TIMEOUT_SECONDS} s") from error
    if completed.returncode != 0:
        lines = [line for line in completed.stderr.splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit code {completed.returncode}"
        raise SnapshotError(f"{program} failed: {reason}")
