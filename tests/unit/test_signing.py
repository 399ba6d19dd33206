"""`pica.authority.signing`: every kind of object pica signs, through the `Signer` port.

The signer here is the file store's `SoftwareSigner` behind a wrapper that records what it was
asked to sign: the module must produce exactly what cryptography's own `builder.sign(key)`
produces (same TBS, same AlgorithmIdentifier, a signature that verifies) while the key itself
is only ever reached through `sign(data, scheme)`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from pica.adapters.keystore.file_signer import SoftwareSigner
from pica.authority.algorithms import KeyFamily, SignatureScheme, signature_scheme
from pica.authority.model import SigningAlgorithm
from pica.authority.signing import (
    sign_certificate,
    sign_crl,
    sign_csr,
    sign_data,
    signature_algorithm_identifier,
    signs_builders,
)
from pica.authority.throwaway import FAST_SCHEME, throwaway_sign

NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signing test")])
NOW = datetime(2026, 12, 7, tzinfo=UTC)
DATA = b"the DER of an OCSP response's TBS"
ALGORITHMS = [a for a in SigningAlgorithm if a is not SigningAlgorithm.SM3WITHSM2]

_KEYS: dict[KeyFamily, CertificateIssuerPrivateKeyTypes] = {
    KeyFamily.RSA: rsa.generate_private_key(65537, 2048),
    KeyFamily.ECDSA: ec.generate_private_key(ec.SECP384R1()),
    KeyFamily.ML_DSA_44: mldsa.MLDSA44PrivateKey.generate(),
    KeyFamily.ML_DSA_65: mldsa.MLDSA65PrivateKey.generate(),
    KeyFamily.ML_DSA_87: mldsa.MLDSA87PrivateKey.generate(),
}


class RecordingSigner:
    """A `Signer` that records every message it signs (and only signs through its key)."""

    def __init__(self, key: CertificateIssuerPrivateKeyTypes) -> None:
        self._inner = SoftwareSigner(key)
        self.signed: list[bytes] = []

    def sign(self, data: bytes, scheme: SignatureScheme) -> bytes:
        self.signed.append(data)
        return self._inner.sign(data, scheme)

    def key_in_memory(self) -> None:
        return None  # as a token's: every signature goes through `sign`


def verify(
    key: CertificateIssuerPrivateKeyTypes, scheme: SignatureScheme, sig: bytes, data: bytes
) -> None:
    public: Any = key.public_key()
    if scheme.family is KeyFamily.RSA:
        public.verify(sig, data, scheme.rsa_padding(), scheme.hash_algorithm)
    elif scheme.family is KeyFamily.ECDSA:
        assert scheme.hash_algorithm is not None
        public.verify(sig, data, ec.ECDSA(scheme.hash_algorithm))
    else:
        public.verify(sig, data)


def certificate_builder(key: CertificateIssuerPrivateKeyTypes) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(NAME)
        .issuer_name(NAME)
        .public_key(key.public_key())
        .serial_number(0x1234567890ABCDEF)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )


def outer_identifier(der: bytes) -> bytes:
    identifier: bytes = asn1_x509.Certificate.load(der)["signature_algorithm"].dump()
    return identifier


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_certificate_is_what_cryptography_would_sign_and_verifies(
    algorithm: SigningAlgorithm,
) -> None:
    scheme = signature_scheme(algorithm)
    key = _KEYS[scheme.family]
    builder = certificate_builder(key)
    real = builder.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())
    signer = RecordingSigner(key)
    for unsigned in (
        builder,
        throwaway_sign(builder, scheme),
        throwaway_sign(builder, FAST_SCHEME),
    ):
        signer.signed.clear()
        certificate = sign_certificate(unsigned, signer, scheme)
        assert certificate.tbs_certificate_bytes == real.tbs_certificate_bytes
        assert signer.signed == [real.tbs_certificate_bytes]  # one signature, over the TBS
        der = certificate.public_bytes(Encoding.DER)
        assert outer_identifier(der) == outer_identifier(real.public_bytes(Encoding.DER))
        assert outer_identifier(der) == signature_algorithm_identifier(scheme)
        verify(key, scheme, certificate.signature, certificate.tbs_certificate_bytes)
        assert certificate.signature_algorithm_oid == real.signature_algorithm_oid


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_key_in_memory_signs_the_builder_itself(algorithm: SigningAlgorithm) -> None:
    """The file store's RSA and EC keys sign a builder in one step: the same TBS the two-step
    path signs, verifying under the same key; other keys (ML-DSA) keep the two steps."""
    scheme = signature_scheme(algorithm)
    key = _KEYS[scheme.family]
    builder = certificate_builder(key)
    two_steps = sign_certificate(builder, RecordingSigner(key), scheme)
    signer = SoftwareSigner(key)
    one_step = sign_certificate(builder, signer, scheme)
    assert signs_builders(signer, scheme) == isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    )
    assert not signs_builders(RecordingSigner(key), scheme)
    assert one_step.tbs_certificate_bytes == two_steps.tbs_certificate_bytes
    assert outer_identifier(one_step.public_bytes(Encoding.DER)) == outer_identifier(
        two_steps.public_bytes(Encoding.DER)
    )
    verify(key, scheme, one_step.signature, one_step.tbs_certificate_bytes)


@pytest.mark.parametrize(
    "algorithm",
    [
        SigningAlgorithm.SHA256WITHRSA_PSS,
        SigningAlgorithm.SHA512WITHECDSA,
        SigningAlgorithm.ML_DSA_65,
    ],
)
def test_csrs_carry_the_signers_public_key_and_verify(algorithm: SigningAlgorithm) -> None:
    scheme = signature_scheme(algorithm)
    key = _KEYS[scheme.family]
    builder = x509.CertificateSigningRequestBuilder().subject_name(NAME)
    real = builder.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())
    csr = sign_csr(builder, key.public_key(), RecordingSigner(key), scheme)
    assert csr.is_signature_valid
    assert csr.tbs_certrequest_bytes == real.tbs_certrequest_bytes
    assert csr.public_key() == key.public_key()


@pytest.mark.parametrize("algorithm", [SigningAlgorithm.SHA384WITHRSA, SigningAlgorithm.ML_DSA_44])
def test_crls_are_what_cryptography_would_sign_and_verify(algorithm: SigningAlgorithm) -> None:
    scheme = signature_scheme(algorithm)
    key = _KEYS[scheme.family]
    revoked = x509.RevokedCertificateBuilder().serial_number(7).revocation_date(NOW).build()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(NAME)
        .last_update(NOW)
        .next_update(NOW + timedelta(days=1))
        .add_revoked_certificate(revoked)
    )
    real = builder.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())
    crl = sign_crl(builder, RecordingSigner(key), scheme)
    assert crl.tbs_certlist_bytes == real.tbs_certlist_bytes
    assert crl.is_signature_valid(key.public_key())  # type: ignore[arg-type]
    assert crl.get_revoked_certificate_by_serial_number(7) is not None


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_data_signatures_verify_with_the_public_key(algorithm: SigningAlgorithm) -> None:
    scheme = signature_scheme(algorithm)
    key = _KEYS[scheme.family]
    verify(key, scheme, sign_data(DATA, SoftwareSigner(key), scheme), DATA)


def test_a_key_of_another_family_than_the_scheme_is_refused() -> None:
    signer = SoftwareSigner(_KEYS[KeyFamily.ECDSA])
    with pytest.raises(ValueError, match="cannot sign"):
        sign_data(DATA, signer, signature_scheme(SigningAlgorithm.SHA256WITHRSA))
