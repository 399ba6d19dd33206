"""How pica is served: listening sockets bound first, then uvicorn with pica's HTTP protocol.

Everything about the HTTP server lives here (its construction and options), so that replacing
or tuning it touches this module only.

- `listen` binds and listens before `pica serve` writes a file or prints anything, so a taken
  port fails the start cleanly instead of after credentials were written and "serving" printed.
- `run` hands those sockets to uvicorn: served in this process with one worker, by uvicorn's
  supervisor and spawned worker processes with more (each builds its app from the settings in
  the environment, `pica.app.app_from_environment`). Every worker speaks
  `GuardedHttpToolsProtocol` on uvloop (`GuardedH11Protocol` where httptools/uvloop are
  missing): request read deadline, TCP_NODELAY, AWS-shaped 400s, see `pica.http_protocol`.
- With several workers, connections are spread evenly over them (`pica.worker_balance`): each
  worker accepts only while it holds no more connections than the least loaded other one.
- `max_connections` is uvicorn's `limit_concurrency`, per worker: a request arriving while that
  many other connections are open gets an immediate 503 and the connection is closed.
- With several workers, `metrics_folder` gives prometheus_client's multiprocess mode a private
  folder before they start, so `/metrics` on any worker sums them all (`pica.wire.metrics`).
- uvicorn's own access log is off: pica writes one line per API call (`pica.wire.access_log`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from uvicorn import Server
from uvicorn.supervisors import Multiprocess

from pica import http_protocol, worker_balance
from pica.http_protocol import ServerConfig
from pica.settings import Settings
from pica.startup import StartupError
from pica.wire.metrics import MULTIPROCESS_ENV

APP_FACTORY = "pica.app:app_from_environment"
BACKLOG = 2048
# Seconds an idle kept-alive connection stays open between requests (uvicorn's default).
KEEP_ALIVE_SECONDS = 5


def listen(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address `host` resolves to, as asyncio's own server makes.

    Raises `StartupError` (one line) when the name does not resolve or an address is taken.
    """
    where = f"{host or '0.0.0.0'}:{port}"
    try:
        addresses = socket.getaddrinfo(
            host or "0.0.0.0", port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as error:
        raise StartupError(f"cannot listen on {where}: {error.strerror}") from error
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(addresses):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                # "::" and "0.0.0.0" side by side, as asyncio does.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.set_inheritable(True)  # passed on to worker processes
    except OSError as error:
        for sock in sockets:
            sock.close()
        reason = error.strerror or str(error)
        raise StartupError(f"cannot listen on {where}: {reason}") from error
    return sockets


def run(settings: Settings, sockets: list[socket.socket], log_config: dict[str, Any]) -> None:
    """Serve until stopped (SIGINT/SIGTERM), on the sockets from `listen`."""
    config = ServerConfig(
        APP_FACTORY,
        **_tls_options(settings),
        factory=True,
        http=_protocol(),
        loop=_loop(settings.workers),
        request_read_timeout=settings.request_read_timeout,
        # uvicorn answers 503 once open connections (this one included) reach the limit.
        limit_concurrency=settings.max_connections + 1,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        backlog=BACKLOG,
        workers=settings.workers,
        log_level=settings.log_level,
        log_config=log_config,
        # pica writes its own access log (`pica.wire.access_log`), one line per API call.
        access_log=False,
    )
    try:
        if settings.workers > 1:
            with metrics_folder(), worker_balance.worker_slots(settings.workers):
                Multiprocess(config, sockets=sockets).run()
        else:
            Server(config).run(sockets=sockets)
    except KeyboardInterrupt:
        pass


def _tls_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's TLS options for `--tls` (`pica.tls`): the files, and pica's context factory
    (TLS 1.2+, reloaded when the certificate is renewed). The protocol guards stay the same:
    they see the decrypted stream, and TCP_NODELAY is set on the socket under the TLS layer."""
    if not settings.tls:
        return {}
    from pica import tls

    certificate, key = tls.served_files(settings)
    return {
        "ssl_certfile": str(certificate),
        "ssl_keyfile": None if key is None else str(key),
        "ssl_context_factory": tls.server_context,
    }


def _loop(workers: int) -> str:
    """uvloop (asyncio's loop where it is missing); with several workers, its variant that
    spreads connections evenly over them (`pica.worker_balance`)."""
    if workers > 1:
        name = "uvloop_loop" if http_protocol.FAST else "asyncio_loop"
        return f"{worker_balance.__name__}:{name}"
    return "uvloop" if http_protocol.FAST else "asyncio"


def _protocol() -> type[asyncio.Protocol]:
    """httptools on uvloop when installed (they are dependencies), else uvicorn's h11."""
    if http_protocol.FAST:
        return http_protocol.GuardedHttpToolsProtocol
    return http_protocol.GuardedH11Protocol


@contextlib.contextmanager
def metrics_folder() -> Iterator[Path]:
    """A private (0700), empty folder for prometheus_client's multiprocess files, named in
    `PROMETHEUS_MULTIPROC_DIR` for the worker processes started inside the block, and
    removed after it. Always a new one: values of an earlier run (or of another pica on the
    same host) never mix into this one's, and nothing needs cleaning at start."""
    folder = Path(tempfile.mkdtemp(prefix="pica-metrics-"))
    os.environ[MULTIPROCESS_ENV] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop(MULTIPROCESS_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
