"""Hashes of a public key as OCSP names an issuer (RFC 6960 `issuerKeyHash`).

The hash covers the value of the subjectPublicKey BIT STRING, without tag, length or the
unused-bits octet; that is also the SHA-1 of RFC 5280's key identifier method 1.
"""

from __future__ import annotations

import hashlib

from asn1crypto import core as asn1_core
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes


def subject_public_key_bits(public_key: CertificatePublicKeyTypes) -> bytes:
    """The subjectPublicKey BIT STRING's value (without the unused-bits octet, always 0)."""
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Read generically: asn1crypto's `keys.PublicKeyInfo` refuses algorithms it predates
    # (ML-DSA). The BIT STRING is the second member; as an OctetBitString it reads as bytes.
    bits: bytes = asn1_core.load(spki)[1].cast(asn1_core.OctetBitString).native
    return bits


def public_key_hashes(public_key: CertificatePublicKeyTypes) -> tuple[bytes, bytes]:
    """(SHA-1, SHA-256) of the public key bit string."""
    bits = subject_public_key_bits(public_key)
    return hashlib.sha1(bits).digest(), hashlib.sha256(bits).digest()
