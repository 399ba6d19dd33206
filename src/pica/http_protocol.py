"""uvicorn's h11 protocol plus what pica needs at the connection level and uvicorn lacks.

- A request read deadline. uvicorn times out idle kept-alive connections but not slow ones:
  half-sent headers, or a body that trickles in, keep a connection (and a file descriptor) for
  ever. Here a deadline is armed when a connection opens and again when a response is complete,
  and cleared once the whole request (headers and body) has arrived; when it passes, the
  connection is closed, after a `408 Request Timeout` when the request head was in and no
  answer had started. The application never waits on a slow client longer than that.
- TCP_NODELAY on every accepted socket. asyncio sets it only when the listening socket's
  `proto` is IPPROTO_TCP, which sockets handed to worker processes may not be; without it the
  response body (a second small write after the head) waits for the client's delayed ACK:
  about 40 ms per response on a kept-alive connection.

- An AWS-shaped answer to a request h11 cannot parse (two Host headers, a broken request line,
  an oversized head): `400` with `{"__type": "BadRequestException", "message": ...}` instead of
  uvicorn's plain-text "Invalid HTTP request received.", so every client sees the error shape of
  every other refusal.

The read timeout travels in `ServerConfig`, uvicorn's Config plus one field, so it reaches
worker processes with the rest of the configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import uuid
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

DEFAULT_READ_TIMEOUT = 30.0
BAD_REQUEST = "BadRequestException"

log = logging.getLogger("pica.http")

# The peer's h11 states in which its request (head and body) has fully arrived.
_REQUEST_IN = frozenset({h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR})


class ServerConfig(Config):
    """uvicorn's Config with pica's request read timeout (seconds)."""

    def __init__(
        self, *args: Any, request_read_timeout: float = DEFAULT_READ_TIMEOUT, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.request_read_timeout = request_read_timeout


class GuardedH11Protocol(H11Protocol):
    """One HTTP/1.1 connection: uvicorn's, with a read deadline and TCP_NODELAY (see above)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._read_timeout = (
            config.request_read_timeout
            if isinstance(config, ServerConfig)
            else DEFAULT_READ_TIMEOUT
        )
        self._read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _set_nodelay(transport)
        self._start_read_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state in _REQUEST_IN:
            self._stop_read_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            self._stop_read_deadline()
        elif self.conn.their_state not in _REQUEST_IN:
            # Waiting for the next request, or for the rest of a body the app did not read.
            self._start_read_deadline()

    def send_400_response(self, msg: str) -> None:
        request_id = str(uuid.uuid4())
        body = json.dumps(
            {"__type": BAD_REQUEST, "message": f"The request is not valid HTTP/1.1: {msg}."},
            separators=(",", ":"),
        ).encode("utf-8")
        head = h11.Response(
            status_code=400,
            reason=b"Bad Request",
            headers=[
                (b"content-type", b"application/x-amz-json-1.1"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"x-amzn-requestid", request_id.encode("ascii")),
                (b"x-amzn-errortype", BAD_REQUEST.encode("ascii")),
                (b"connection", b"close"),
            ],
        )
        with contextlib.suppress(h11.LocalProtocolError):
            self.transport.write(
                self.conn.send(head)
                + self.conn.send(h11.Data(data=body))
                + self.conn.send(h11.EndOfMessage())
            )
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_read_deadline()
        super().connection_lost(exc)

    def _start_read_deadline(self) -> None:
        self._stop_read_deadline()
        self._read_deadline = self.loop.call_later(self._read_timeout, self._read_timed_out)

    def _stop_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing():
            return
        log.debug("closing a connection that sent no whole request in %ss", self._read_timeout)
        answering = self.cycle is not None and self.cycle.response_started
        if self.conn.our_state is h11.SEND_RESPONSE and not answering:
            with contextlib.suppress(h11.LocalProtocolError):
                head = h11.Response(
                    status_code=408,
                    reason=b"Request Timeout",
                    headers=[(b"content-length", b"0"), (b"connection", b"close")],
                )
                self.transport.write(self.conn.send(head) + self.conn.send(h11.EndOfMessage()))
        self.transport.close()


def _set_nodelay(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
