"""ocsp.request: what an OCSP request (RFC 6960 4.1) is read as, and what is malformed."""

from __future__ import annotations

from typing import Any

import pytest
from asn1crypto import ocsp as asn1_ocsp

from pica.authority.ocsp.request import Malformed, parse_request

NAME_HASH = bytes(range(20))
KEY_HASH = bytes(range(20, 40))


def cert_id(serial: int, algorithm: str = "sha1") -> Any:
    return asn1_ocsp.CertId(
        {
            "hash_algorithm": {"algorithm": algorithm},
            "issuer_name_hash": NAME_HASH,
            "issuer_key_hash": KEY_HASH,
            "serial_number": serial,
        }
    )


def request(*serials: int, nonce: bytes | None = None) -> bytes:
    tbs: dict[str, Any] = {"request_list": [{"req_cert": cert_id(s)} for s in serials]}
    if nonce is not None:
        tbs["request_extensions"] = [{"extn_id": "nonce", "extn_value": nonce}]
    der: bytes = asn1_ocsp.OCSPRequest({"tbs_request": tbs}).dump()
    return der


def test_each_cert_id_is_read_and_kept_as_sent() -> None:
    parsed = parse_request(request(5, 7, nonce=b"n" * 16))
    assert [query.serial for query in parsed.queries] == [5, 7]
    query = parsed.queries[0]
    assert query.issuer_key == ("sha1", NAME_HASH, KEY_HASH)
    assert query.cert_id.dump() == cert_id(5).dump()  # echoed byte for byte in the response
    assert parsed.nonce == b"n" * 16


def test_a_request_without_a_nonce_has_none() -> None:
    assert parse_request(request(1)).nonce is None


@pytest.mark.parametrize("nonce", [b"", b"x" * 33])
def test_a_nonce_outside_1_to_32_octets_is_malformed(nonce: bytes) -> None:
    with pytest.raises(Malformed, match="RFC 8954"):
        parse_request(request(1, nonce=nonce))


def test_a_request_for_no_certificate_is_malformed() -> None:
    with pytest.raises(Malformed, match="lists no certificates"):
        parse_request(request())


@pytest.mark.parametrize(
    "der", [b"", b"\x30\x03junk", request(1) + b"\x00", request(1)[:-1]], ids=repr
)
def test_what_is_not_one_ocsp_request_is_malformed(der: bytes) -> None:
    with pytest.raises(Malformed):
        parse_request(der)
