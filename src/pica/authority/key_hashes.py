"""Hashes of a public key as OCSP names an issuer (RFC 6960 `issuerKeyHash`).

The hash covers the value of the subjectPublicKey BIT STRING, without tag, length or the
unused-bits octet; that is also the SHA-1 of RFC 5280's key identifier method 1.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes


def _tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER element at `offset`."""
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(data[start : start + size], "big")
        start += size
    return tag, start, start + length


def subject_public_key_bits(public_key: CertificatePublicKeyTypes) -> bytes:
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, body, _ = _tlv(spki, 0)  # SubjectPublicKeyInfo SEQUENCE
    _, _, algorithm_end = _tlv(spki, body)  # AlgorithmIdentifier
    tag, start, end = _tlv(spki, algorithm_end)
    if tag != 0x03:
        raise ValueError("SubjectPublicKeyInfo without a BIT STRING")
    return spki[start + 1 : end]  # skip the unused-bits octet


def public_key_hashes(public_key: CertificatePublicKeyTypes) -> tuple[bytes, bytes]:
    """(SHA-1, SHA-256) of the public key bit string."""
    bits = subject_public_key_bits(public_key)
    return hashlib.sha1(bits).digest(), hashlib.sha256(bits).digest()
