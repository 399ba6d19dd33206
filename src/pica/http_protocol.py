"""uvicorn's HTTP protocols plus what pica needs at the connection level and uvicorn lacks.

pica serves with `GuardedHttpToolsProtocol` (uvicorn's httptools protocol: llhttp, in C) on
uvloop; `GuardedH11Protocol` (uvicorn's pure-Python h11 protocol) is the fallback where those
two are not installed. The IssueCertificate profile put h11's parsing and response writing at
~15% of a request's Python time (bench/README.md); httptools and uvloop take most of it away.
Both protocols add the same guards:

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

- An AWS-shaped answer to a request that cannot be parsed (two Host headers, a broken request
  line, an oversized head): `400` with `{"__type": "BadRequestException", "message": ...}`
  instead of uvicorn's plain-text "Invalid HTTP request received.", so every client sees the
  error shape of every other refusal. h11 refuses those by itself; llhttp accepts a repeated
  Host and any head size, so the httptools protocol refuses them as h11 does (a head still
  incomplete after `MAX_HEAD_BYTES`: h11's limit).

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

from pica import worker_balance
from pica.wire.request_target import MAX_TARGET_BYTES, URI_TOO_LONG

try:
    import uvloop  # noqa: F401  (only its presence is checked here; uvicorn loads it)
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    FAST = True
except ImportError:  # pragma: no cover - both are dependencies; h11 is the fallback
    FAST = False

DEFAULT_READ_TIMEOUT = 30.0
BAD_REQUEST = "BadRequestException"
# A request head still incomplete beyond this many bytes is refused (h11's default limit).
MAX_HEAD_BYTES = 16 * 1024
# The longest request target httptools.parse_url can split (its offsets are 16-bit).
_MAX_PARSED_URL = 0xFFFF
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
)

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
        self.transport.write(_bad_request(msg))
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_read_deadline()
        worker_balance.connection_closed()
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


def _bad_request(reason: str) -> bytes:
    """A whole `400 BadRequestException` response (it closes the connection)."""
    message = f"The request is not valid HTTP/1.1: {reason.rstrip('.')}."
    return _error_response(400, "Bad Request", BAD_REQUEST, message)


def _error_response(status: int, phrase: str, code: str, message: str) -> bytes:
    body = json.dumps({"__type": code, "message": message}, separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 {status} {phrase}\r\n"
        "content-type: application/x-amz-json-1.1\r\n"
        f"content-length: {len(body)}\r\n"
        f"x-amzn-requestid: {uuid.uuid4()}\r\n"
        f"x-amzn-errortype: {code}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


if FAST:

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools connection with the guards of `GuardedH11Protocol` (above).

        The parser reports a request's progress through callbacks, so the connection counts
        requests begun, fully received and answered: a request "is in" (the read deadline is
        off) when every request begun has arrived whole and one of them awaits its answer.
        """

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
            self._begun = self._received = self._answered = 0
            self._head_bytes: int | None = None  # bytes seen while a head is incomplete
            # The answer a parser callback chose before stopping the parser by raising.
            self._refusal: bytes | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            _set_nodelay(transport)
            self._start_read_deadline()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.transport.is_closing():
                return
            if self._head_bytes is not None:
                self._head_bytes += len(data)
                if self._head_bytes > MAX_HEAD_BYTES:
                    self.send_400_response("the request head is too large")
                    return
            if self._request_in():
                self._stop_read_deadline()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._begun += 1
            self._head_bytes = 0

        def on_header(self, name: bytes, value: bytes) -> None:
            if name.lower() == b"host" and any(n == b"host" for n, _ in self.headers):
                # RFC 9112 3.2: a request with more than one Host field is answered 400.
                self._refuse(_bad_request("the request has more than one Host header"))
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._head_bytes = None
            if len(self.url) > _MAX_PARSED_URL:
                # llhttp's URL splitter stops at 64 KiB, far beyond the cap on request targets
                # (`pica.wire.request_target`): refuse as that cap does, without parsing.
                self._refuse(
                    _error_response(
                        414,
                        "URI Too Long",
                        URI_TOO_LONG,
                        f"The request target is {len(self.url)} bytes long; pica accepts at "
                        f"most {MAX_TARGET_BYTES}.",
                    )
                )
            super().on_headers_complete()
            if self.cycle is not None and not isinstance(self.cycle.transport, _HeadWithBody):
                self.cycle.transport = _HeadWithBody(self.transport, self.cycle)  # type: ignore[assignment]

        def _refuse(self, response: bytes) -> None:
            """Stop the parser; `send_400_response` (which uvicorn calls then) sends `response`."""
            self._refusal = response
            raise ValueError("refused")  # httptools reports it as HttpParserCallbackError

        def on_message_complete(self) -> None:
            self._received += 1
            super().on_message_complete()

        def on_response_complete(self) -> None:
            self._answered += 1
            cycle = self.cycle
            if cycle is not None and isinstance(cycle.transport, _HeadWithBody):
                cycle.transport.flush()
            super().on_response_complete()
            if self.transport.is_closing():
                self._stop_read_deadline()
            elif not self._request_in():
                # Waiting for the next request, or for the rest of a body the app did not read.
                self._start_read_deadline()

        def send_400_response(self, msg: str) -> None:
            self._stop_read_deadline()
            self.transport.write(self._refusal or _bad_request(msg))
            self.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_read_deadline()
            worker_balance.connection_closed()
            super().connection_lost(exc)

        def _request_in(self) -> bool:
            return self._received == self._begun > self._answered

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
            head_in = self._begun > self._answered and self._head_bytes is None
            answering = self.cycle is not None and self.cycle.response_started
            if head_in and not answering:
                self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()


class _HeadWithBody:
    """The transport as one response cycle of the httptools protocol sees it: the response
    head is held back and leaves in one write with the first body chunk (or when the response
    completes or the connection closes), instead of one write each.

    uvicorn writes the head and then the body, two `send` system calls holding the GIL (with
    uvloop), each a TCP segment the client has to read: the profile put them at a quarter of an
    IssueCertificate's Python time on the event loop (bench/README.md). Writes before the
    response starts (`100 Continue`) and after the first body chunk pass straight through, so
    streamed bodies keep their flow control.
    """

    def __init__(self, transport: asyncio.Transport, cycle: Any) -> None:
        self._transport = transport
        self._cycle = cycle
        self._head: bytes | None = None
        self._head_seen = False

    def write(self, data: bytes) -> None:
        if self._head is not None:
            data, self._head = self._head + data, None
        elif not self._head_seen and self._cycle.response_started:
            self._head_seen = True
            self._head = data
            return
        self._transport.write(data)

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _set_nodelay(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
