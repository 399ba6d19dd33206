"""An OCSP request (RFC 6960 4.1) parsed with asn1crypto: its CertIDs and its nonce.

asn1crypto, because cryptography's request parser accepts one certificate per request while a
client may ask about several at once. Anything that cannot be read is `Malformed`, which the
responder answers with malformedRequest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asn1crypto import ocsp as asn1_ocsp

# RFC 8954: a nonce is 1 to 32 octets; a responder rejects other lengths as malformedRequest.
_NONCE_MAX = 32


class Malformed(Exception):
    """The request cannot be understood; answered with malformedRequest."""


@dataclass(frozen=True)
class Query:
    """One CertID of the request, kept as parsed so the response echoes it byte for byte."""

    cert_id: Any
    hash_algorithm: str
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    serial: int

    @property
    def issuer_key(self) -> tuple[str, bytes, bytes]:
        return self.hash_algorithm, self.issuer_name_hash, self.issuer_key_hash


@dataclass(frozen=True)
class Request:
    queries: list[Query]
    nonce: bytes | None


def parse_request(der: bytes) -> Request:
    try:
        request = asn1_ocsp.OCSPRequest.load(der, strict=True)
        # asn1crypto parses lazily; `.native` walks the whole structure once, so any encoding
        # error surfaces here and not halfway through building the response.
        _ = request.native
        tbs = request["tbs_request"]
        queries = [
            Query(
                cert_id=single["req_cert"],
                hash_algorithm=single["req_cert"]["hash_algorithm"]["algorithm"].native,
                issuer_name_hash=single["req_cert"]["issuer_name_hash"].native,
                issuer_key_hash=single["req_cert"]["issuer_key_hash"].native,
                serial=single["req_cert"]["serial_number"].native,
            )
            for single in tbs["request_list"]
        ]
        nonce: bytes | None = None
        for extension in tbs["request_extensions"]:
            if extension["extn_id"].native == "nonce":
                nonce = extension["extn_value"].parsed.native
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError, ... alike
        raise Malformed(str(exc)) from exc
    if not queries:
        raise Malformed("the request lists no certificates")
    if nonce is not None and not 1 <= len(nonce) <= _NONCE_MAX:
        raise Malformed(f"a nonce of {len(nonce)} octets (RFC 8954 allows 1 to 32)")
    return Request(queries, nonce)
