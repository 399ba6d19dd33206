"""Post-quantum CAs (ML-DSA), SM2's clean refusal, and short-lived certificate mode."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.x509.verification import PolicyBuilder, Store

from tests.support.pki import (
    activate_root,
    cdp_url,
    create_ca,
    issue,
    make_csr,
    new_root,
    new_subordinate,
)
from tests.support.revocation import revoke, wait_for_crl

LEVELS = ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"]


def verify_chain(leaf: x509.Certificate, chain_pem: str) -> list[x509.Certificate]:
    """cryptography's RFC 5280 path validation (the openssl CLI on Debian 12 lacks ML-DSA)."""
    chain = x509.load_pem_x509_certificates(chain_pem.encode())
    verifier = (
        PolicyBuilder()
        .store(Store([chain[-1]]))
        .time(datetime.now(UTC))
        .build_server_verifier(x509.DNSName("leaf.example"))
    )
    return verifier.verify(leaf, chain[:-1])


@pytest.mark.parametrize("level", LEVELS)
def test_ml_dsa_root_issues_verifiable_certificates(pca: Any, level: str) -> None:
    root = new_root(pca, level, level)
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=root)["Csr"]
    assert x509.load_pem_x509_csr(csr.encode()).is_signature_valid
    certificate, chain = issue(
        pca, root, make_csr(dns_names=("leaf.example",)), signing_algorithm=level
    )
    path = verify_chain(certificate, chain)
    assert isinstance(
        path[-1].public_key(),
        (mldsa.MLDSA44PublicKey, mldsa.MLDSA65PublicKey, mldsa.MLDSA87PublicKey),
    )
    with pytest.raises(pca.exceptions.InvalidArgsException):
        issue(pca, root, signing_algorithm="SHA256WITHECDSA")


def test_ml_dsa_root_over_an_ecdsa_subordinate(pca: Any) -> None:
    root = new_root(pca, "ML_DSA_65", "ML_DSA_65")
    sub = new_subordinate(pca, root, 0, parent_signing_algorithm="ML_DSA_65")
    certificate, chain = issue(pca, sub, make_csr(dns_names=("leaf.example",)))
    path = verify_chain(certificate, chain)
    assert [c.signature_algorithm_oid.dotted_string for c in path] == [
        "1.2.840.10045.4.3.2",  # the leaf: ECDSA with SHA-256 by the subordinate
        "2.16.840.1.101.3.4.3.18",  # the subordinate: ML-DSA-65 by the root
        "2.16.840.1.101.3.4.3.18",  # the self-signed root
    ]


def test_ml_dsa_crls_are_signed_with_ml_dsa(pca: Any) -> None:
    root = create_ca(pca, "ROOT", key_algorithm="ML_DSA_44", signing_algorithm="ML_DSA_44")

    activate_root(pca, root, "ML_DSA_44")
    pca.update_certificate_authority(
        CertificateAuthorityArn=root,
        RevocationConfiguration={"CrlConfiguration": {"Enabled": True, "S3BucketName": "pq-crl"}},
    )
    certificate, chain = issue(pca, root, signing_algorithm="ML_DSA_44")
    revoke(pca, root, certificate)
    crl = wait_for_crl(
        cdp_url(certificate),
        lambda c: c.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None,
    )
    issuer = x509.load_pem_x509_certificates(chain.encode())[0]
    assert crl.signature_algorithm_oid.dotted_string == "2.16.840.1.101.3.4.3.17"
    assert crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]


def test_sm2_gets_the_out_of_region_error(pca: Any) -> None:
    with pytest.raises(pca.exceptions.InvalidArgsException) as error:
        pca.create_certificate_authority(
            CertificateAuthorityConfiguration={
                "KeyAlgorithm": "SM2",
                "SigningAlgorithm": "SM3WITHSM2",
                "Subject": {"CommonName": "sm2"},
            },
            CertificateAuthorityType="ROOT",
        )
    assert "China" in str(error.value)


def test_short_lived_mode_caps_validity_at_seven_days(pca: Any) -> None:
    arn = pca.create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "EC_prime256v1",
            "SigningAlgorithm": "SHA256WITHECDSA",
            "Subject": {"CommonName": "short-lived"},
        },
        CertificateAuthorityType="ROOT",
        UsageMode="SHORT_LIVED_CERTIFICATE",
    )["CertificateAuthorityArn"]

    activate_root(pca, arn, "SHA256WITHECDSA")
    issue(pca, arn, validity={"Value": 7, "Type": "DAYS"})
    with pytest.raises(pca.exceptions.InvalidArgsException):
        issue(pca, arn, validity={"Value": 8, "Type": "DAYS"})
