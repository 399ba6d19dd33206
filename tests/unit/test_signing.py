"""`pica.authority.signing`: every kind of object pica signs, with each key family."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, padding, rsa
from cryptography.x509.oid import NameOID

from pica.authority.algorithms import signature_scheme
from pica.authority.model import SigningAlgorithm
from pica.authority.signing import sign_certificate, sign_crl, sign_csr, sign_data

NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signing test")])
NOW = datetime(2026, 12, 7, tzinfo=UTC)
DATA = b"the DER of an OCSP response's TBS"


def test_data_signatures_verify_with_the_public_key_of_each_family() -> None:
    rsa_key = rsa.generate_private_key(65537, 2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ml_key = mldsa.MLDSA44PrivateKey.generate()
    rsa_scheme = signature_scheme(SigningAlgorithm.SHA256WITHRSA)
    ec_scheme = signature_scheme(SigningAlgorithm.SHA256WITHECDSA)
    ml_scheme = signature_scheme(SigningAlgorithm.ML_DSA_44)
    rsa_key.public_key().verify(
        sign_data(rsa_key, rsa_scheme, DATA), DATA, padding.PKCS1v15(), rsa_scheme.hash_algorithm
    )
    assert ec_scheme.hash_algorithm is not None
    ec_key.public_key().verify(
        sign_data(ec_key, ec_scheme, DATA), DATA, ec.ECDSA(ec_scheme.hash_algorithm)
    )
    ml_key.public_key().verify(sign_data(ml_key, ml_scheme, DATA), DATA)


def test_a_key_of_another_family_than_the_scheme_is_refused() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ValueError, match="cannot sign"):
        sign_data(ec_key, signature_scheme(SigningAlgorithm.SHA256WITHRSA), DATA)


def test_certificates_csrs_and_crls_carry_the_schemes_algorithm_and_verify() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    scheme = signature_scheme(SigningAlgorithm.SHA384WITHECDSA)
    certificate = sign_certificate(
        x509.CertificateBuilder()
        .subject_name(NAME)
        .issuer_name(NAME)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1)),
        key,
        scheme,
    )
    certificate.verify_directly_issued_by(certificate)
    assert certificate.signature_hash_algorithm is not None
    assert certificate.signature_hash_algorithm.name == "sha384"
    csr = sign_csr(x509.CertificateSigningRequestBuilder().subject_name(NAME), key, scheme)
    assert csr.is_signature_valid
    crl = sign_crl(
        x509.CertificateRevocationListBuilder()
        .issuer_name(NAME)
        .last_update(NOW)
        .next_update(NOW + timedelta(days=1)),
        key,
        scheme,
    )
    assert crl.is_signature_valid(key.public_key())
