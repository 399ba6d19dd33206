"""The servers a benchmark run starts and stops: `pica serve` (SQLite or PostgreSQL, N workers)
and moto's `moto_server`; CPU time of a server's process tree; PostgreSQL's durability settings.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import psycopg
from botocore.config import Config
from tests.support.postgres import PostgresServer, postgres_server
from tests.support.server import LiveServer, free_port
from tests.support.worker_sockets import connections_per_worker

from pica.serving import KEEP_ALIVE_SECONDS

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                found += [int(child) for child in text.split()]
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (uvicorn's supervisor and its worker processes)."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending += _children(current)
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by `pid` and its live descendants."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{member}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def worker_pids(pid: int) -> list[int]:
    """The processes that serve requests: the server itself with one worker, else its children
    (uvicorn's supervisor only starts, watches and restarts them)."""
    children = [child for child in process_tree(pid) if child != pid]
    return children or [pid]


def drained(port: int, pid: int, timeout: float = KEEP_ALIVE_SECONDS + 2) -> None:
    """Wait until the server's workers hold no connection, so that a replay's connections are
    the only ones `pica.worker_balance` spreads: an idle setup connection would take a share,
    then be closed by the keep-alive timeout mid-phase, leaving the replay split 3 + 1."""
    deadline = time.monotonic() + timeout
    workers = worker_pids(pid)
    while any(connections_per_worker(port, workers).values()):
        if time.monotonic() > deadline:
            return  # measured anyway; the split is then whatever it is
        time.sleep(0.02)


@dataclass
class PicaServer:
    """`python -m pica serve` in `data_dir` with `workers` processes, SQLite or `database_url`."""

    data_dir: Path
    workers: int = 1
    database_url: str | None = None
    live: LiveServer | None = None
    # `pica serve --tls` (bench/tls.py), and PICA_* variables such as PICA_THROTTLING.
    tls: bool = False
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        extra: tuple[str, ...] = ("--workers", str(self.workers), "--log-level", "warning")
        if self.database_url:
            extra += ("--database-url", self.database_url)
        if self.tls:
            extra += ("--tls",)
        self.live = LiveServer(
            self.data_dir, free_port(), extra_args=extra, tls=self.tls, env=self.env
        )
        self.live.start(timeout=60)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        """Until an API call succeeds (the port answers before the workers have started)."""
        assert self.live is not None
        deadline = time.monotonic() + timeout
        pca = self.client()
        while True:
            try:
                pca.list_certificate_authorities(MaxResults=1)
                pca.close()  # an idle connection would count in how the workers share the load
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    @property
    def port(self) -> int:
        assert self.live is not None
        return self.live.port

    @property
    def endpoint(self) -> str:
        assert self.live is not None
        return self.live.endpoint

    @property
    def pid(self) -> int:
        assert self.live is not None and self.live.process is not None
        return self.live.process.pid

    def credentials(self) -> tuple[str, str]:
        assert self.live is not None
        return self.live.credentials()

    def client(self) -> Any:
        assert self.live is not None
        return self.live.client()

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def log_tail(self, lines: int = 40) -> str:
        if self.live is None:
            return ""
        return "\n".join(self.live.log_text().splitlines()[-lines:])


@dataclass
class MotoServer:
    """moto's standalone server (`moto_server`, from `moto[server]`) on a free port."""

    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    @staticmethod
    def command() -> str | None:
        beside = Path(sys.executable).with_name("moto_server")
        return str(beside) if beside.exists() else shutil.which("moto_server")

    def start(self, timeout: float = 60.0) -> None:
        command = self.command()
        if command is None:
            raise RuntimeError("moto_server is not installed (pip install 'moto[server]')")
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [command, "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited early:\n{self.log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"moto_server did not start:\n{self.log_path.read_text()}")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def credentials(self) -> tuple[str, str]:
        return "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    def client(self) -> Any:
        key, secret = self.credentials()
        return boto3.session.Session().client(
            "acm-pca",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@dataclass(frozen=True)
class BenchDatabase:
    """A database of its own on the PostgreSQL server the tests use, dropped afterwards."""

    server: PostgresServer
    name: str

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def settings(self) -> str:
        """The server settings that decide what a commit costs."""
        with psycopg.connect(
            host=self.server.host, port=self.server.port, user=self.server.user, dbname=self.name
        ) as connection:
            values = [
                f"{name}={connection.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
                for name in ("fsync", "synchronous_commit")
            ]
            version = connection.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        return f"PostgreSQL {version} on {self.server.host}:{self.server.port}, " + ", ".join(
            values
        )


@contextlib.contextmanager
def bench_database() -> Iterator[BenchDatabase]:
    server = postgres_server()
    name = f"pica_bench_{secrets.token_hex(6)}"
    with psycopg.connect(
        host=server.host, port=server.port, user=server.user, dbname="postgres", autocommit=True
    ) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield BenchDatabase(server, name)
    finally:
        server.drop_database(name)
