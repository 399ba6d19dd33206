"""RevokeCertificate and RevocationConfiguration through boto3, as AWS documents them."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from cryptography.x509 import ocsp

from tests.support.pki import (
    ca_certificate,
    cdp_url,
    extension_or_none,
    issue,
    make_csr,
    new_root_with_revocation,
    ocsp_url,
)
from tests.support.revocation import REASON_CODES, crl_reason, ocsp_answer, revoke, wait_for_crl
from tests.support.server import LiveServer


def crl_and_ocsp_root(pca: Any, server: LiveServer) -> str:
    """An ACTIVE root publishing its CRL to a bucket pica serves and answering OCSP itself."""
    return new_root_with_revocation(
        pca,
        {
            "CrlConfiguration": {"Enabled": True, "S3BucketName": "revocation-outcomes"},
            "OcspConfiguration": {"Enabled": True, "OcspCustomCname": f"127.0.0.1:{server.port}"},
        },
    )


def assert_revoked_everywhere(
    pca: Any, ca: str, revoked: dict[x509.ReasonFlags, x509.Certificate]
) -> None:
    """OCSP answers each certificate revoked with its reason at once; the CRL at the CDP lists
    each with its reasonCode (none for unspecified, as RFC 5280 5.3.1 asks) once published."""
    issuer = ca_certificate(pca, ca)
    for reason, certificate in revoked.items():
        answer = ocsp_answer(ocsp_url(certificate), issuer, certificate)
        assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
        assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED, reason
        assert answer.revocation_reason is reason
    serials = {certificate.serial_number for certificate in revoked.values()}
    crl = wait_for_crl(
        cdp_url(next(iter(revoked.values()))),
        lambda crl: {entry.serial_number for entry in crl} >= serials,
    )
    for reason, certificate in revoked.items():
        entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        assert entry is not None
        expected = None if reason is x509.ReasonFlags.unspecified else reason
        assert crl_reason(entry) is expected, reason


def colon_hex(serial: int) -> str:
    text = f"{serial:x}"
    text = "0" * (len(text) % 2) + text
    return ":".join(text[i : i + 2] for i in range(0, len(text), 2))


@pytest.mark.parametrize(
    "spelling",
    [
        lambda s: f"{s:x}",
        lambda s: f"{s:X}",
        colon_hex,
        lambda s: colon_hex(s).upper(),
        lambda s: f"00{s:x}",
    ],
    ids=["hex", "HEX", "colons", "COLONS", "leading-zeros"],
)
def test_revoke_accepts_the_serial_spellings_aws_accepts(
    pca: Any, root_ca: str, spelling: Any
) -> None:
    certificate, _ = issue(pca, root_ca)
    pca.revoke_certificate(
        CertificateAuthorityArn=root_ca,
        CertificateSerial=spelling(certificate.serial_number),
        RevocationReason="SUPERSEDED",
    )
    with pytest.raises(pca.exceptions.RequestAlreadyProcessedException):
        pca.revoke_certificate(
            CertificateAuthorityArn=root_ca,
            CertificateSerial=f"{certificate.serial_number:x}",
            RevocationReason="SUPERSEDED",
        )


def test_every_revocation_reason_reaches_the_crl_entry_and_the_ocsp_answer(
    pca: Any, server: LiveServer
) -> None:
    ca = crl_and_ocsp_root(pca, server)
    revoked: dict[x509.ReasonFlags, x509.Certificate] = {}
    for reason, flag in REASON_CODES.items():
        certificate, _ = issue(pca, ca)
        pca.revoke_certificate(
            CertificateAuthorityArn=ca,
            CertificateSerial=colon_hex(certificate.serial_number),
            RevocationReason=reason,
        )
        revoked[flag] = certificate
    assert_revoked_everywhere(pca, ca, revoked)


def test_revoked_certificates_stay_retrievable(pca: Any, root_ca: str) -> None:
    arn = pca.issue_certificate(
        CertificateAuthorityArn=root_ca,
        Csr=make_csr(),
        SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 10, "Type": "DAYS"},
    )["CertificateArn"]
    serial = arn.rsplit("/", 1)[1]
    pca.revoke_certificate(
        CertificateAuthorityArn=root_ca, CertificateSerial=serial, RevocationReason="KEY_COMPROMISE"
    )
    got = pca.get_certificate(CertificateAuthorityArn=root_ca, CertificateArn=arn)
    assert x509.load_pem_x509_certificate(got["Certificate"].encode()).serial_number == int(
        serial, 16
    )


def test_unknown_and_malformed_serials(pca: Any, root_ca: str) -> None:
    with pytest.raises(pca.exceptions.ResourceNotFoundException):
        pca.revoke_certificate(
            CertificateAuthorityArn=root_ca,
            CertificateSerial="0123456789abcdef",
            RevocationReason="UNSPECIFIED",
        )
    for bad in ("not-hex", "12:345:6", ":"):
        with pytest.raises(pca.exceptions.InvalidRequestException):
            pca.revoke_certificate(
                CertificateAuthorityArn=root_ca,
                CertificateSerial=bad,
                RevocationReason="UNSPECIFIED",
            )
    with pytest.raises(pca.exceptions.ClientError) as error:
        pca.revoke_certificate(
            CertificateAuthorityArn=root_ca, CertificateSerial="01", RevocationReason="BOGUS"
        )
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_a_disabled_ca_can_still_revoke(pca: Any, server: LiveServer) -> None:
    ca = crl_and_ocsp_root(pca, server)
    certificate, _ = issue(pca, ca)
    pca.update_certificate_authority(CertificateAuthorityArn=ca, Status="DISABLED")
    revoke(pca, ca, certificate, "CESSATION_OF_OPERATION")
    assert_revoked_everywhere(pca, ca, {x509.ReasonFlags.cessation_of_operation: certificate})


def test_a_root_cannot_revoke_its_own_certificate(pca: Any, root_ca: str) -> None:
    described = pca.describe_certificate_authority(CertificateAuthorityArn=root_ca)
    serial = int(described["CertificateAuthority"]["Serial"])
    with pytest.raises(pca.exceptions.InvalidRequestException):
        pca.revoke_certificate(
            CertificateAuthorityArn=root_ca,
            CertificateSerial=f"{serial:x}",
            RevocationReason="UNSPECIFIED",
        )


def test_describe_echoes_revocation_configuration_with_defaults(pca: Any) -> None:
    ca = new_root_with_revocation(
        pca,
        {
            "CrlConfiguration": {"Enabled": True, "S3BucketName": "echo-bucket"},
            "OcspConfiguration": {"Enabled": True, "OcspCustomCname": "ocsp.example.com"},
        },
    )
    config = pca.describe_certificate_authority(CertificateAuthorityArn=ca)["CertificateAuthority"][
        "RevocationConfiguration"
    ]
    assert config["CrlConfiguration"] == {
        "Enabled": True,
        "ExpirationInDays": 7,
        "S3BucketName": "echo-bucket",
        "S3ObjectAcl": "PUBLIC_READ",
        "CrlDistributionPointExtensionConfiguration": {"OmitExtension": False},
        "CrlType": "COMPLETE",
    }
    assert config["OcspConfiguration"] == {"Enabled": True, "OcspCustomCname": "ocsp.example.com"}


@pytest.mark.parametrize(
    "revocation",
    [
        {"CrlConfiguration": {"Enabled": False, "ExpirationInDays": 7}},
        {"CrlConfiguration": {"Enabled": False, "S3BucketName": "b-1"}},
        {"OcspConfiguration": {"Enabled": False, "OcspCustomCname": "x.example.com"}},
        {
            "CrlConfiguration": {
                "Enabled": True,
                "S3BucketName": "b-1",
                "CustomCname": "http://x.example",
            }
        },
        {"OcspConfiguration": {"Enabled": True, "OcspCustomCname": "https://x.example"}},
        {
            "CrlConfiguration": {
                "Enabled": True,
                "S3BucketName": "b-1",
                "CustomCname": "x.example",
                "CrlDistributionPointExtensionConfiguration": {"OmitExtension": True},
            }
        },
        {"CrlConfiguration": {"Enabled": True}},
        {"CrlConfiguration": {"Enabled": True, "S3BucketName": "Not_A_Bucket"}},
    ],
)
def test_invalid_revocation_configurations_are_refused(
    pca: Any, root_ca: str, revocation: dict[str, Any]
) -> None:
    before = pca.describe_certificate_authority(CertificateAuthorityArn=root_ca)
    with pytest.raises(pca.exceptions.InvalidArgsException):
        pca.update_certificate_authority(
            CertificateAuthorityArn=root_ca, RevocationConfiguration=revocation
        )
    after = pca.describe_certificate_authority(CertificateAuthorityArn=root_ca)
    assert after["CertificateAuthority"] == before["CertificateAuthority"]


def test_issued_certificates_carry_cdp_and_aia(pca: Any, server: LiveServer) -> None:
    ca = new_root_with_revocation(
        pca,
        {
            "CrlConfiguration": {"Enabled": True, "S3BucketName": "cdp-bucket"},
            "OcspConfiguration": {"Enabled": True},
        },
    )
    certificate, _ = issue(pca, ca)
    ca_id = ca.rsplit("/", 1)[1]
    assert cdp_url(certificate) == f"{server.endpoint}/cdp-bucket/crl/{ca_id}.crl"
    assert ocsp_url(certificate) == f"{server.endpoint}/ocsp"


def test_custom_cname_and_path_shape_the_urls(pca: Any) -> None:
    ca = new_root_with_revocation(
        pca,
        {
            "CrlConfiguration": {
                "Enabled": True,
                "S3BucketName": "cname-bucket",
                "CustomCname": "crl.example.com",
                "CustomPath": "pki/crls",
            },
            "OcspConfiguration": {"Enabled": True, "OcspCustomCname": "ocsp.example.com"},
        },
    )
    certificate, _ = issue(pca, ca)
    ca_id = ca.rsplit("/", 1)[1]
    assert cdp_url(certificate) == f"http://crl.example.com/pki/crls/{ca_id}.crl"
    assert ocsp_url(certificate) == "http://ocsp.example.com"


def test_omit_extension_and_disabled_revocation_leave_the_extensions_out(
    pca: Any, root_ca: str
) -> None:
    ca = new_root_with_revocation(
        pca,
        {
            "CrlConfiguration": {
                "Enabled": True,
                "S3BucketName": "omit-bucket",
                "CrlDistributionPointExtensionConfiguration": {"OmitExtension": True},
            }
        },
    )
    certificate, _ = issue(pca, ca)
    assert extension_or_none(certificate, x509.CRLDistributionPoints) is None
    plain, _ = issue(pca, root_ca)
    assert extension_or_none(plain, x509.CRLDistributionPoints) is None
    assert extension_or_none(plain, x509.AuthorityInformationAccess) is None
