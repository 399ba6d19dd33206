"""The local channel `pica unseal` speaks to every process of a running `pica serve`.

Each serving process (one, or each of `--workers N`) listens on its own Unix socket,
`<data-dir>/unseal/<pid>.sock` (`socket_folder`): the folder is 0700 and the socket 0600, and
the process also checks the peer's user id (SO_PEERCRED) against its own, so only the user pica
runs as (or root) can talk to it. Nothing listens on the network for this, ever.

One request per connection, one JSON line each way:

    -> {"passphrase": "<base64>"}
    <- {"pid": 1234, "result": "unsealed" | "unsealed-already" | "refused", "message": "..."}

"unsealed-already" still teaches the process the passphrase (so a process that served while the
file was being protected follows later rotations). A socket whose process is gone is removed by
the next `pica unseal` that finds it. A process started afresh by uvicorn's supervisor (after a
crash) starts sealed again: `/readyz` on it says so until the next `pica unseal`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import socket
import stat
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("pica.unseal")

FOLDER = "unseal"
MAX_LINE = 8192
READ_TIMEOUT_SECONDS = 10.0
# Unsealing derives the scrypt key (about half a second, longer on a busy machine).
ANSWER_TIMEOUT_SECONDS = 60.0

# (passphrase) -> True if the process was sealed; raises an exception when refused.
Unseal = Callable[[bytes], bool]


# Unix socket paths are limited to 107 bytes; a pid takes up to 7 digits, ".sock" 5 more.
_MAX_FOLDER_BYTES = 107 - 1 - 7 - 5


def socket_folder(data_dir: Path) -> Path:
    """`<data-dir>/unseal`, or where its path is too long for a Unix socket, a private folder
    named after the data dir under $XDG_RUNTIME_DIR (or the temporary folder)."""
    folder = data_dir / FOLDER
    if len(os.fsencode(folder)) <= _MAX_FOLDER_BYTES:
        return folder
    runtime = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    digest = hashlib.sha256(os.fsencode(data_dir.resolve())).hexdigest()[:16]
    return runtime / f"pica-{os.geteuid()}" / digest


def _make_folder(folder: Path) -> None:
    """Create the socket folder (and a fallback's parent) 0700, refusing one another user owns."""
    for path in (folder.parent, folder) if folder.name != FOLDER else (folder,):
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.lstat()
        if info.st_uid != os.geteuid() or not stat.S_ISDIR(info.st_mode):
            raise OSError(f"{path} is not a folder of this user")
        os.chmod(path, 0o700)


class UnsealListener:
    """This process's end of the channel: a Unix socket server, started and closed with the app."""

    def __init__(self, data_dir: Path, unseal: Unseal) -> None:
        self._folder = socket_folder(data_dir)
        self._path = self._folder / f"{os.getpid()}.sock"
        self._unseal = unseal
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        try:
            _make_folder(self._folder)
            self._path.unlink(missing_ok=True)  # a socket left by an earlier process of this pid
            self._server = await asyncio.start_unix_server(self._serve, path=str(self._path))
            os.chmod(self._path, 0o600)
        except OSError as error:
            # pica serves without it; only `pica unseal` cannot reach this process.
            log.warning("cannot listen for `pica unseal` at %s: %s", self._path, error)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not _peer_is_owner(writer):
                await _answer(writer, "refused", "only the user pica runs as may unseal it")
                return
            try:
                line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT_SECONDS)
                passphrase = base64.b64decode(json.loads(line)["passphrase"], validate=True)
            except (TimeoutError, ValueError, KeyError, TypeError):
                await _answer(writer, "refused", "not an unseal request")
                return
            try:
                was_sealed = await asyncio.to_thread(self._unseal, passphrase)
            except Exception as error:
                await _answer(writer, "refused", str(error))
                return
            if was_sealed:
                log.warning("unsealed: CA keys can be used again")
            await _answer(writer, "unsealed" if was_sealed else "unsealed-already", "")
        finally:
            with contextlib.suppress(Exception):
                writer.close()
                await writer.wait_closed()


@dataclass(frozen=True)
class ProcessAnswer:
    """What one serving process answered (or that it was gone)."""

    pid: int
    result: str  # unsealed, unsealed-already, refused
    message: str


def unseal_all(data_dir: Path, passphrase: bytes) -> list[ProcessAnswer]:
    """Send `passphrase` to every process listening under `data_dir`; their answers, by pid.

    Sockets of processes that are gone are removed. All are asked at once: each one derives
    the scrypt key itself, so N workers unseal in the time of one.
    """
    folder = socket_folder(data_dir)
    paths = sorted(folder.glob("*.sock")) if folder.is_dir() else []
    request = json.dumps({"passphrase": base64.b64encode(passphrase).decode("ascii")}) + "\n"

    async def ask_all() -> list[ProcessAnswer | None]:
        return list(await asyncio.gather(*(_ask(path, request) for path in paths)))

    return [answer for answer in asyncio.run(ask_all()) if answer is not None]


async def _ask(path: Path, request: str) -> ProcessAnswer | None:
    try:
        reader, writer = await asyncio.open_unix_connection(str(path), limit=MAX_LINE)
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)  # its process is gone
        return None
    try:
        writer.write(request.encode("ascii"))
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), ANSWER_TIMEOUT_SECONDS)
        data = json.loads(line)
        return ProcessAnswer(int(data["pid"]), str(data["result"]), str(data.get("message", "")))
    except (TimeoutError, ValueError, KeyError, OSError) as error:
        return ProcessAnswer(_pid_of(path), "refused", f"no answer ({error or 'timed out'})")
    finally:
        with contextlib.suppress(Exception):
            writer.close()
            await writer.wait_closed()


async def _answer(writer: asyncio.StreamWriter, result: str, message: str) -> None:
    body = {"pid": os.getpid(), "result": result, "message": message}
    writer.write((json.dumps(body) + "\n").encode("utf-8"))
    await writer.drain()


def _peer_is_owner(writer: asyncio.StreamWriter) -> bool:
    sock = writer.get_extra_info("socket")
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return True  # the 0700 folder and 0600 socket are the guard where SO_PEERCRED is absent
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return uid in (os.geteuid(), 0)


def _pid_of(path: Path) -> int:
    try:
        return int(path.stem)
    except ValueError:
        return 0
