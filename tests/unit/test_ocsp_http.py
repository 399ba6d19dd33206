"""ocsp_http: which trailing part of a GET path is a DER request (RFC 6960 Appendix A.1)."""

from __future__ import annotations

import base64
import secrets
import time

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pica.wire.ocsp_http import request_from_path
from tests.support.ocsp_world import (
    World,
    cert_id,
    ocsp_request,
)


def _path(der: bytes) -> str:
    return "ocsp/" + base64.b64encode(der).decode()


@pytest.mark.parametrize(
    "der",
    [
        pytest.param(bytes.fromhex("3003020101"), id="short length"),
        pytest.param(bytes.fromhex("3000"), id="empty SEQUENCE"),
        pytest.param(bytes.fromhex("308103020101"), id="long form for a short length"),
        pytest.param(bytes.fromhex("3082012c04820128") + b"a" * 296, id="two length octets"),
    ],
)
def test_one_whole_sequence_is_the_request(der: bytes) -> None:
    assert request_from_path(_path(der)) == der


@pytest.mark.parametrize(
    "der",
    [
        pytest.param(bytes.fromhex("300302010100"), id="trailing octet"),
        pytest.param(bytes.fromhex("30050201"), id="truncated"),
        pytest.param(bytes.fromhex("30800201010000"), id="indefinite length"),
        pytest.param(bytes.fromhex("30850000000003020101"), id="five length octets"),
        pytest.param(bytes.fromhex("3103020101"), id="a SET"),
    ],
)
def test_anything_else_is_not_a_request(der: bytes) -> None:
    assert request_from_path(_path(der)) is None


def test_request_from_path_finds_base64_containing_slashes(world: World) -> None:
    ca = world.ca()
    # Find a request whose base64 has a "/" in it, as a real one often does.
    while True:
        der = ocsp_request([cert_id(ca.certificate, secrets.randbits(64) | 1)])
        encoded = base64.b64encode(der).decode()
        if "/" in encoded and "+" in encoded:
            break
    for prefix in ("", "ocsp/", "some/deep/prefix/"):
        assert request_from_path(prefix + encoded) == der
        assert request_from_path("/" + prefix + encoded) == der
    # A "+" decoded to a space on the way is still read as "+".
    assert request_from_path("ocsp/" + encoded.replace("+", " ")) == der


@pytest.mark.parametrize(
    "path",
    ["", "ocsp", "ocsp/", "favicon.ico", "ocsp/bm90IGRlcg==", "ocsp/MAA", "crl/x.crl", "MA/\x80"],
)
def test_request_from_path_rejects_what_is_not_a_der_request(path: str) -> None:
    assert request_from_path(path) is None


@pytest.mark.parametrize(
    "path",
    [
        "/" * 20_000,
        "MA/" * 20_000,
        "ocsp/" + "MIIB/" * 20_000,
        "/".join("MAA" + "A" * i for i in range(300)),
    ],
    ids=["slashes", "tiny-sequences", "long-form-headers", "growing-segments"],
)
def test_request_from_path_is_linear_in_the_path(path: str) -> None:
    """The parser once tried every trailing run of segments as base64: quadratic, and 9 s on
    the event loop for a 50,000-slash GET."""
    started = time.perf_counter()
    assert request_from_path(path) is None
    assert time.perf_counter() - started < 1.0  # the old parser: 4 to 10 s


def test_request_from_path_finds_the_request_after_a_long_prefix(world: World) -> None:
    der = ocsp_request([cert_id(world.ca().certificate, 7)])
    encoded = base64.b64encode(der).decode()
    assert request_from_path("x/" * 20_000 + encoded) == der
    # A request is found whatever a crafted prefix claims about its own length.
    assert request_from_path("MIIB/" * 1_000 + encoded) == der


@given(path=st.text(alphabet="MIAB/+= ab\x80é", max_size=300))
@hypothesis.settings(max_examples=300, deadline=None, database=None)
def test_request_from_path_returns_a_whole_der_sequence_or_none(path: str) -> None:
    der = request_from_path(path)
    if der is not None:
        assert der[0] == 0x30 and base64.b64encode(der).decode() in path.replace(" ", "+")
