"""key_hashes: the subjectPublicKey bits OCSP's issuerKeyHash and RFC 5280 key IDs hash."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from pica.authority.key_hashes import public_key_hashes, subject_public_key_bits

# A fixed P-256 key, so the expected hashes can be written down.
FIXED_EC = ec.derive_private_key(0x1234567890ABCDEF, ec.SECP256R1()).public_key()


def test_a_fixed_key_hashes_to_known_values() -> None:
    sha1, sha256 = public_key_hashes(FIXED_EC)
    assert sha1.hex() == "bdb2f7bb432a72dca50a26503a0bf6e0b44d4d04"
    assert sha256.hex() == "6101794fd26a8fa7755b7382f8025bb2c00eba3be36723c7e0f26bec502169a5"


def test_an_ec_key_bit_string_is_the_uncompressed_point() -> None:
    bits = subject_public_key_bits(FIXED_EC)
    numbers = FIXED_EC.public_numbers()
    assert bits == b"\x04" + numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")


@pytest.mark.parametrize(
    "public_key",
    [
        pytest.param(FIXED_EC, id="ec"),
        pytest.param(
            rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(), id="rsa"
        ),
        pytest.param(
            ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key(),
            id="ed25519",
        ),
        pytest.param(mldsa.MLDSA44PrivateKey.from_seed_bytes(bytes(32)).public_key(), id="mldsa"),
    ],
)
def test_the_sha1_is_rfc5280_key_identifier_method_1(public_key: CertificatePublicKeyTypes) -> None:
    """cryptography computes the same identifier independently (in Rust)."""
    sha1, sha256 = public_key_hashes(public_key)
    assert sha1 == x509.SubjectKeyIdentifier.from_public_key(public_key).digest
    assert sha256 == hashlib.sha256(subject_public_key_bits(public_key)).digest()
