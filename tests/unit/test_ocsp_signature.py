"""ocsp.signature: the AlgorithmIdentifier a response declares, as cryptography writes it."""

from __future__ import annotations

from typing import Any

import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import csr as asn1_csr
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import mldsa, padding
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from pica.authority.algorithms import signature_scheme
from pica.authority.model import (
    SigningAlgorithm,
)
from pica.authority.ocsp.signature import signature_algorithm_identifier
from tests.support.pki import ec_key, rsa_key

# --- signature algorithm identifiers ----------------------------------------------------


@pytest.mark.parametrize("algorithm", [a for a in SigningAlgorithm if a.name != "SM3WITHSM2"])
def test_signature_algorithm_identifier_matches_cryptographys(algorithm: SigningAlgorithm) -> None:
    """The identifier a response declares is the one cryptography writes into certificates."""
    scheme = signature_scheme(algorithm)
    key: Any = {
        "RSA": lambda: rsa_key(),
        "ECDSA": lambda: ec_key(),
        "ML_DSA_44": mldsa.MLDSA44PrivateKey.generate,
        "ML_DSA_65": mldsa.MLDSA65PrivateKey.generate,
        "ML_DSA_87": mldsa.MLDSA87PrivateKey.generate,
    }[scheme.family.value]()
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alg")])
    )
    signed = csr.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())
    parsed = asn1_csr.CertificationRequest.load(signed.public_bytes(Encoding.DER))
    assert parsed["signature_algorithm"].dump() == signature_algorithm_identifier(algorithm)


def test_pss_padding_matches_the_declared_salt_length() -> None:
    assert isinstance(
        signature_scheme(SigningAlgorithm.SHA384WITHRSA_PSS).rsa_padding(), padding.PSS
    )
    identifier = asn1_algos.SignedDigestAlgorithm.load(
        signature_algorithm_identifier(SigningAlgorithm.SHA384WITHRSA_PSS)
    )
    assert identifier["parameters"]["salt_length"].native == 48
