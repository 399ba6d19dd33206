"""A PostgreSQL server for the tests: the one on 127.0.0.1:5432 if it answers, else a private one.

Order of preference:
1. a server on 127.0.0.1:5432 accepting user `postgres` without a password (CI, dev machines);
2. a throw-away cluster: `initdb` into a temporary directory, started on a free port bound to
   127.0.0.1 only (its unix socket also in the temporary directory), stopped at interpreter exit.
   If PostgreSQL is not installed and we run as root, `apt-get install postgresql` first.

Each test session then works in its own database (`create_database` / `drop_database`), so
parallel sessions and leftovers of earlier runs never meet.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be found or started."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        """The SQLAlchemy URL (psycopg 3 driver) of `database` on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self) -> str:
        """Create a fresh, uniquely named database; its name."""
        name = f"pica_test_{secrets.token_hex(6)}"
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def empty_database(self, name: str) -> None:
        """Drop everything in `name` (its public schema), so a test starts from nothing."""
        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname=name, autocommit=True
        ) as connection:
            connection.execute("DROP SCHEMA public CASCADE")
            connection.execute("CREATE SCHEMA public")

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return _connect(self.host, self.port, self.user)


def _connect(host: str, port: int, user: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=host, port=port, user=user, dbname="postgres", autocommit=True, connect_timeout=3
    )


def _answers(host: str, port: int, user: str) -> bool:
    try:
        with _connect(host, port, user) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


_server: PostgresServer | None = None


def postgres_server(*, may_start: bool = True) -> PostgresServer:
    """The server the tests use, found (or, if `may_start`, started) once per process."""
    global _server
    if _server is None:
        if _answers("127.0.0.1", 5432, "postgres"):
            _server = PostgresServer("127.0.0.1", 5432, "postgres")
        elif may_start:
            _server = start_private_server()
        else:
            raise PostgresUnavailable("no PostgreSQL answers on 127.0.0.1:5432 as user postgres")
    return _server


def _binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql."""
    initdb = shutil.which("initdb")
    candidates = [Path(os.path.realpath(initdb)).parent] if initdb else []
    versions = [
        Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin") if p.split("/")[-2].isdigit()
    ]
    candidates += sorted(versions, key=lambda p: int(p.parent.name), reverse=True)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


def _install() -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (no initdb/pg_ctl) and cannot be installed here; "
            "install it, start one on 127.0.0.1:5432, or set PICA_TEST_SKIP_POSTGRES=1"
        )
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for arguments in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        subprocess.run(arguments, check=True, env=environment, capture_output=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_private_server() -> PostgresServer:
    """initdb + pg_ctl start a private cluster on 127.0.0.1; stopped and removed at exit."""
    binaries = _binaries()
    if binaries is None:
        _install()
        binaries = _binaries()
        if binaries is None:
            raise PostgresUnavailable("apt-get installed postgresql but no initdb was found")
    # initdb refuses to run as root: run the cluster as the `postgres` account then.
    run_as = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="pica-pg-"))
    if run_as is not None:
        account = pwd.getpwnam(run_as)
        os.chown(root, account.pw_uid, account.pw_gid)
    data, log = root / "data", root / "server.log"
    port = _free_port()

    def run(*arguments: str) -> None:
        subprocess.run(arguments, check=True, capture_output=True, user=run_as, cwd=root)

    try:
        run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-N")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -F"
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
    except subprocess.CalledProcessError as error:
        shutil.rmtree(root, ignore_errors=True)
        detail = error.stderr.decode(errors="replace") if error.stderr else ""
        raise PostgresUnavailable(f"could not start a private PostgreSQL: {detail}") from error

    def stop() -> None:
        subprocess.run(
            [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            user=run_as,
            cwd=root,
        )
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    if not _answers("127.0.0.1", port, "postgres"):
        raise PostgresUnavailable(f"the private PostgreSQL did not answer; see {log}")
    return PostgresServer("127.0.0.1", port, "postgres")
