"""Keep-alive connections spread evenly over `pica serve --workers N`.

All workers accept on the same listening socket. Left to the event loop, the worker that wakes
first accepts every connection pending at that moment, so four connections opened together
land 4 + 0 or 3 + 1 as often as 2 + 2 (bench/README.md), and a kept-alive connection stays on its
worker for its life: the loaded worker is the bottleneck while the other idles. SDK connection
pools and load generators open their connections exactly like that.

So each worker accepts one connection at a time, and only while it holds no more open
connections than the least loaded of the other workers; otherwise it steps back for a
millisecond and looks again, leaving the connection to the peer. A peer that does not take it
within `MAX_DEFERRAL` seconds (busy with a long request, or gone) loses the turn: the worker
accepts anyway, so a connection waits at most that long.

The counts live in a small shared file (`worker_slots`, made by the supervisor): one slot per
worker, claimed by pid when the worker starts serving and reclaimed from dead pids, so a
respawned worker takes over its predecessor's. Each worker writes only its own slot and reads
the others'; a count read a moment stale only makes one decision slightly off.

The accepting is done by `BalancedServer`, which the event loops of this module return from
`create_server(sock=...)` when the supervisor asked for balancing: uvicorn makes its servers
that way, and everything else it does (protocols, limits, shutdown) stays as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import mmap
import os
import select
import socket
import ssl
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SLOTS_ENV = "PICA_WORKER_SLOTS"
# Seconds a worker over its share waits before looking again, and at most in all.
RETRY_DELAY = 0.001
MAX_DEFERRAL = 0.02
# Seconds accepting pauses when the process is out of file descriptors (as asyncio does).
_ACCEPT_PAUSE = 0.1

_SLOT = struct.Struct("<qq")  # pid, open connections


class WorkerSlots:
    """The shared per-worker connection counts (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        descriptor = os.open(path, os.O_RDWR)
        try:
            size = os.fstat(descriptor).st_size
            self._map = mmap.mmap(descriptor, size)
        finally:
            os.close(descriptor)
        self._slots = size // _SLOT.size
        self._mine: int | None = None

    @staticmethod
    def create(path: Path, workers: int) -> None:
        """The zeroed file for `workers` processes, with room for respawns overlapping."""
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, bytes(_SLOT.size * max(2, 2 * workers)))
        finally:
            os.close(descriptor)

    def claim(self, pid: int | None = None) -> None:
        """Take a free slot (never used, or left by a dead process) for this process."""
        pid = os.getpid() if pid is None else pid
        with open(self._path, "rb") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for index in range(self._slots):
                owner, _ = _SLOT.unpack_from(self._map, index * _SLOT.size)
                if owner == pid or owner == 0 or not _alive(owner):
                    _SLOT.pack_into(self._map, index * _SLOT.size, pid, 0)
                    self._mine = index
                    return
        raise RuntimeError("no free worker slot")  # more live workers than the file was made for

    def add(self, delta: int) -> None:
        if self._mine is None:
            return
        offset = self._mine * _SLOT.size
        pid, count = _SLOT.unpack_from(self._map, offset)
        _SLOT.pack_into(self._map, offset, pid, max(0, count + delta))

    def counts(self) -> tuple[int, list[int]]:
        """This worker's open connections, and those of every other live worker."""
        mine = 0
        others: list[int] = []
        for index in range(self._slots):
            pid, count = _SLOT.unpack_from(self._map, index * _SLOT.size)
            if index == self._mine:
                mine = count
            elif pid and _alive(pid):
                others.append(count)
        return mine, others

    def over_share(self) -> bool:
        """More open connections here than at the least loaded other worker."""
        mine, others = self.counts()
        return bool(others) and mine > min(others)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# This process's slots, once its first balanced server starts (None: not balancing), and
# whether they were looked for (a worker that cannot have them says so once and serves anyway).
_slots: WorkerSlots | None = None
_looked = False


def connection_closed() -> None:
    """Called by pica's HTTP protocols when a connection ends."""
    if _slots is not None:
        _slots.add(-1)


def _process_slots() -> WorkerSlots | None:
    global _slots, _looked
    path = os.environ.get(SLOTS_ENV)
    if _looked or not path:
        return _slots
    _looked = True
    try:
        slots = WorkerSlots(Path(path))
        slots.claim()
    except (OSError, ValueError, RuntimeError) as error:  # the file removed, or no slot left
        log.warning("this worker accepts connections unbalanced: slots file %s: %s", path, error)
        return None
    _slots = slots
    return _slots


@contextlib.contextmanager
def worker_slots(workers: int) -> Iterator[Path]:
    """The slots file for the worker processes started inside the block (named in
    `SLOTS_ENV`), in a private folder removed after it."""
    folder = Path(tempfile.mkdtemp(prefix="pica-workers-"))
    path = folder / "slots"
    WorkerSlots.create(path, workers)
    os.environ[SLOTS_ENV] = str(path)
    try:
        yield path
    finally:
        os.environ.pop(SLOTS_ENV, None)
        with contextlib.suppress(OSError):
            path.unlink()
            folder.rmdir()


class BalancedServer:
    """Accepts on `sock` one connection at a time while this worker is not over its share;
    the part of `asyncio.Server` uvicorn uses (`close`, `wait_closed`, `sockets`)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        slots: WorkerSlots,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._loop = loop
        self._sock = sock
        self._factory = protocol_factory
        self._slots = slots
        self._ssl = ssl_context
        self._serving = True
        self._waiting_since: float | None = None  # deferring to a peer since (monotonic)
        self._retry: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._readable)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return (self._sock,) if self._serving else ()

    def is_serving(self) -> bool:
        return self._serving

    def close(self) -> None:
        if not self._serving:
            return
        self._serving = False
        self._loop.remove_reader(self._sock.fileno())
        if self._retry is not None:
            self._retry.cancel()

    async def wait_closed(self) -> None:
        return None

    def _readable(self) -> None:
        if self._slots.over_share():
            now = time.monotonic()
            if self._waiting_since is None:
                self._waiting_since = now
            if now - self._waiting_since < MAX_DEFERRAL:
                self._pause(RETRY_DELAY)
                return
        try:
            connection, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError):
            self._waiting_since = None  # a peer took it
            return
        except OSError as error:  # EMFILE, ENFILE, ENOBUFS: let connections close first
            log.warning("accepting a connection failed: %s", error)
            self._pause(_ACCEPT_PAUSE)
            return
        self._waiting_since = None
        self._slots.add(1)
        task = self._loop.create_task(self._serve(connection))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _pause(self, seconds: float) -> None:
        self._loop.remove_reader(self._sock.fileno())
        self._retry = self._loop.call_later(seconds, self._resume)

    def _resume(self) -> None:
        self._retry = None
        if not self._serving:
            return
        if not select.select([self._sock], [], [], 0)[0]:
            self._waiting_since = None  # a peer took the connection: the next one starts anew
        self._loop.add_reader(self._sock.fileno(), self._readable)

    async def _serve(self, connection: socket.socket) -> None:
        connection.setblocking(False)
        try:
            await self._loop.connect_accepted_socket(self._factory, connection, ssl=self._ssl)
        except Exception as error:  # a failed TLS handshake: no protocol, nothing to count
            self._slots.add(-1)
            connection.close()
            log.debug("connection dropped before HTTP: %s", error)


class _BalancedCreateServer:
    """The event loop method uvicorn calls for each listening socket."""

    async def create_server(  # type: ignore[no-untyped-def]
        self, protocol_factory, host=None, port=None, *, sock=None, ssl=None, **options
    ):
        slots = _process_slots() if sock is not None else None
        if slots is None:
            return await super().create_server(  # type: ignore[misc]
                protocol_factory, host, port, sock=sock, ssl=ssl, **options
            )
        return BalancedServer(self, sock, protocol_factory, slots, ssl)  # type: ignore[arg-type]


class BalancedSelectorLoop(_BalancedCreateServer, asyncio.SelectorEventLoop):
    """asyncio's own loop, where uvloop is missing."""


def asyncio_loop() -> asyncio.AbstractEventLoop:
    return BalancedSelectorLoop()


try:
    import uvloop

    class BalancedUvloop(_BalancedCreateServer, uvloop.Loop):  # type: ignore[misc]
        """uvloop's loop (the default)."""

    def uvloop_loop() -> asyncio.AbstractEventLoop:
        return BalancedUvloop()

except ImportError:  # pragma: no cover - uvloop is a dependency
    uvloop_loop = asyncio_loop
