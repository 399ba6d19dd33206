"""The response writer of pica's httptools protocol: head and first body chunk in one write."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pica import http_protocol

pytestmark = pytest.mark.skipif(not http_protocol.FAST, reason="httptools/uvloop not installed")


@dataclass
class FakeTransport:
    writes: list[bytes] = field(default_factory=list)
    closed: bool = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


@dataclass
class FakeCycle:
    response_started: bool = False


def writer() -> tuple[http_protocol._HeadWithBody, FakeTransport, FakeCycle]:
    transport, cycle = FakeTransport(), FakeCycle()
    return http_protocol._HeadWithBody(transport, cycle), transport, cycle  # type: ignore[arg-type]


def test_the_head_leaves_with_the_first_body_chunk() -> None:
    wrapped, transport, cycle = writer()
    cycle.response_started = True
    wrapped.write(b"HEAD\r\n\r\n")
    assert transport.writes == []
    wrapped.write(b"body")
    wrapped.write(b"more")
    assert transport.writes == [b"HEAD\r\n\r\nbody", b"more"]


def test_writes_before_the_response_starts_pass_straight_through() -> None:
    wrapped, transport, cycle = writer()
    wrapped.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    cycle.response_started = True
    wrapped.write(b"HEAD")
    wrapped.write(b"")
    assert transport.writes[1:] == [b"HEAD"]


def test_a_held_head_is_written_at_flush_and_before_a_close() -> None:
    wrapped, transport, cycle = writer()
    cycle.response_started = True
    wrapped.write(b"HEAD")
    wrapped.flush()
    wrapped.flush()
    assert transport.writes == [b"HEAD"]

    wrapped, transport, cycle = writer()
    cycle.response_started = True
    wrapped.write(b"HEAD")
    wrapped.close()
    assert transport.writes == [b"HEAD"] and transport.closed and wrapped.is_closing()


def test_everything_else_is_the_transport() -> None:
    wrapped, _, _ = writer()
    assert wrapped.get_extra_info("socket") == "info:socket"
