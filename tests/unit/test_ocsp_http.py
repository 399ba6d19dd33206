"""ocsp_http: which trailing part of a GET path is a DER request (RFC 6960 Appendix A.1)."""

from __future__ import annotations

import base64

import pytest

from pica.wire.ocsp_http import request_from_path


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
