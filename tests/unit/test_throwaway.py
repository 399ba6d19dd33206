"""throwaway: the throwaway signature declares the real signature algorithm."""

from __future__ import annotations

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from pica.authority.algorithms import KeyFamily, signature_scheme
from pica.authority.model import SigningAlgorithm
from pica.authority.throwaway import throwaway_key, throwaway_sign
from tests.support.lint_certificates import (
    Spec,
    build,
    issuer,
    private_key,
    real_sign,
)

# --- the throwaway signature -------------------------------------------------------------------

SIGNING_KEYS = {
    KeyFamily.RSA: "rsa-real",
    KeyFamily.ECDSA: "ec-real",
    KeyFamily.ML_DSA_44: "mldsa44-real",
    KeyFamily.ML_DSA_65: "mldsa65-real",
    KeyFamily.ML_DSA_87: "mldsa87-real",
}


@pytest.mark.parametrize(
    "algorithm", [a for a in SigningAlgorithm if a is not SigningAlgorithm.SM3WITHSM2]
)
def test_the_throwaway_signature_carries_the_real_signature_algorithm(
    algorithm: SigningAlgorithm,
) -> None:
    scheme = signature_scheme(algorithm)
    builder = build(Spec(), issuer())
    real = real_sign(builder, private_key(SIGNING_KEYS[scheme.family]), algorithm)
    throwaway = throwaway_sign(builder, scheme)

    def algorithm_identifiers(certificate: x509.Certificate) -> tuple[bytes, bytes]:
        parsed = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
        return (
            parsed["signature_algorithm"].dump(),
            parsed["tbs_certificate"]["signature"].dump(),
        )

    assert algorithm_identifiers(throwaway) == algorithm_identifiers(real)
    assert throwaway.tbs_certificate_bytes == real.tbs_certificate_bytes
    assert throwaway.signature != real.signature


def test_one_throwaway_key_per_family_per_process() -> None:
    for family in SIGNING_KEYS:
        assert throwaway_key(family) is throwaway_key(family)
    assert throwaway_key(KeyFamily.RSA) is not throwaway_key(KeyFamily.ECDSA)
