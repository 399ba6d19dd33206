"""IssueCertificate / GetCertificate through the live server: templates, validity, CSR checks,
serials, idempotency, state rules, waiters, and the documented aws CLI command verbatim.
"""

from __future__ import annotations

import calendar
import datetime as dt
import ipaddress
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from tests.support.pki import (
    ROOT_TEMPLATE,
    asserted_bits,
    ca_certificate,
    create_ca,
    ec_key,
    issue,
    make_csr,
    new_root,
    new_subordinate,
    openssl_verify,
    pkilint_findings,
    rsa_key,
    template,
)
from tests.support.server import LiveServer

TOLERANCE = dt.timedelta(seconds=10)

# --- expectations per template ("AWS Private CA template definitions") -----------------------

_EE_KU = frozenset({"digital_signature", "key_encipherment"})
_SIGN_KU = frozenset({"digital_signature"})
_CA_KU = frozenset({"digital_signature", "key_cert_sign", "crl_sign"})


@dataclass(frozen=True)
class Profile:
    ca: bool
    path_length: int | None
    bc_critical: bool
    key_usage: frozenset[str]
    eku: tuple[ObjectIdentifier, ...] = ()
    eku_critical: bool = False


def _end_entity(ku: frozenset[str], *eku: ObjectIdentifier, eku_critical: bool = False) -> Profile:
    return Profile(False, None, False, ku, eku, eku_critical)


PROFILES: dict[str, Profile] = {
    "EndEntityCertificate": _end_entity(
        _EE_KU, ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    ),
    "EndEntityClientAuthCertificate": _end_entity(_EE_KU, ExtendedKeyUsageOID.CLIENT_AUTH),
    "EndEntityServerAuthCertificate": _end_entity(_EE_KU, ExtendedKeyUsageOID.SERVER_AUTH),
    "CodeSigningCertificate": _end_entity(
        _SIGN_KU, ExtendedKeyUsageOID.CODE_SIGNING, eku_critical=True
    ),
    "OCSPSigningCertificate": _end_entity(
        _SIGN_KU, ExtendedKeyUsageOID.OCSP_SIGNING, eku_critical=True
    ),
    **{f"SubordinateCACertificate_PathLen{n}": Profile(True, n, True, _CA_KU) for n in range(4)},
}
# None = TemplateArn omitted: EndEntityCertificate/V1 is the default.
TEMPLATE_CASES: list[str | None] = [None, *PROFILES]


# --- helpers ---------------------------------------------------------------------------------


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def add_months(start: dt.datetime, months: int) -> dt.datetime:
    """Calendar arithmetic: same day-of-month, clamped to the target month's last day."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    return start.replace(
        year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1])
    )


def rich_csr(key: CertificateIssuerPrivateKeyTypes, common_name: str = "app.example.com") -> bytes:
    """A CSR with a multi-attribute subject and several kinds of SAN."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pica tests"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "issuance"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    san = x509.SubjectAlternativeName(
        [
            x509.DNSName(common_name),
            x509.DNSName("alt.example.com"),
            x509.IPAddress(ipaddress.ip_address("192.0.2.10")),
            x509.RFC822Name("ops@example.com"),
            x509.UniformResourceIdentifier("https://app.example.com/id"),
        ]
    )
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(san, critical=False)
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )


def issue_arn(pca: Any, ca_arn: str, **kwargs: Any) -> str:
    request: dict[str, Any] = {
        "CertificateAuthorityArn": ca_arn,
        "Csr": make_csr(),
        "SigningAlgorithm": "SHA256WITHECDSA",
        "Validity": {"Value": 30, "Type": "DAYS"},
        **kwargs,
    }
    arn: str = pca.issue_certificate(**request)["CertificateArn"]
    return arn


def fetch(pca: Any, ca_arn: str, cert_arn: str) -> x509.Certificate:
    pem: str = pca.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=cert_arn)[
        "Certificate"
    ]
    return x509.load_pem_x509_certificate(pem.encode())


def issue_window(
    pca: Any, ca_arn: str, **kwargs: Any
) -> tuple[x509.Certificate, dt.datetime, dt.datetime]:
    """Issue a certificate; return it with the wall-clock interval the request ran in."""
    before = now_utc()
    arn = issue_arn(pca, ca_arn, **kwargs)
    after = now_utc()
    return fetch(pca, ca_arn, arn), before, after


def assert_rejected(pca: Any, name: str, **kwargs: Any) -> ClientError:
    """IssueCertificate fails with exactly the modelled exception `name` (HTTP 400)."""
    expected = getattr(pca.exceptions, name)
    with pytest.raises(expected) as info:
        pca.issue_certificate(**kwargs)
    error = info.value
    assert type(error) is expected
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error


def issue_request(ca_arn: str, **kwargs: Any) -> dict[str, Any]:
    return {
        "CertificateAuthorityArn": ca_arn,
        "Csr": make_csr(),
        "SigningAlgorithm": "SHA256WITHECDSA",
        "Validity": {"Value": 30, "Type": "DAYS"},
        **kwargs,
    }


@pytest.fixture(scope="module")
def subject_keys() -> dict[str, CertificateIssuerPrivateKeyTypes]:
    return {"rsa": rsa_key(), "ec": ec_key()}


@pytest.fixture(scope="module")
def hierarchy(pca: Any, root_ca: str) -> tuple[str, str]:
    """root_ca -> sub (PathLen1) -> sub (PathLen0)."""
    sub1 = new_subordinate(pca, root_ca, path_len=1, validity_years=5)
    sub0 = new_subordinate(pca, sub1, path_len=0, validity_years=4)
    return sub1, sub0


# --- templates -------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
@pytest.mark.parametrize("template_name", TEMPLATE_CASES, ids=lambda t: t or "default")
def test_template_profile(
    pca: Any,
    root_ca: str,
    rsa_root_ca: str,
    subject_keys: dict[str, CertificateIssuerPrivateKeyTypes],
    tmp_path: Path,
    template_name: str | None,
    key_type: str,
) -> None:
    key = subject_keys[key_type]
    # RSA subject keys go to the RSA root (RSA signatures), EC keys to the EC root.
    ca_arn, signing = (
        (rsa_root_ca, "SHA256WITHRSA") if key_type == "rsa" else (root_ca, "SHA256WITHECDSA")
    )
    csr_pem = rich_csr(key)
    csr = x509.load_pem_x509_csr(csr_pem)
    certificate, chain = issue(pca, ca_arn, csr_pem, signing, template_name)
    profile = PROFILES[template_name or "EndEntityCertificate"]
    issuer = ca_certificate(pca, ca_arn)
    ext = certificate.extensions

    bc = ext.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical is profile.bc_critical
    assert bc.value.ca is profile.ca
    assert bc.value.path_length == profile.path_length

    ku = ext.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    expected_ku = set(profile.key_usage)
    if not isinstance(key.public_key(), rsa.RSAPublicKey):
        # keyEncipherment is meaningless (and forbidden by RFC 5480) for EC keys.
        expected_ku.discard("key_encipherment")
    assert asserted_bits(ku.value) == expected_ku

    if profile.eku:
        eku = ext.get_extension_for_class(x509.ExtendedKeyUsage)
        assert eku.critical is profile.eku_critical
        assert sorted(o.dotted_string for o in eku.value) == sorted(
            o.dotted_string for o in profile.eku
        )
    else:
        with pytest.raises(x509.ExtensionNotFound):
            ext.get_extension_for_class(x509.ExtendedKeyUsage)

    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert not ski.critical
    assert ski.value.digest == x509.SubjectKeyIdentifier.from_public_key(csr.public_key()).digest
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert not aki.critical
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.value.key_identifier == issuer_ski.digest

    assert certificate.subject == csr.subject
    san = ext.get_extension_for_class(x509.SubjectAlternativeName)
    assert not san.critical
    assert san.value == csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert certificate.issuer == issuer.subject
    assert certificate.public_key() == csr.public_key()
    certificate.verify_directly_issued_by(issuer)

    assert x509.load_pem_x509_certificates(chain.encode()) == [issuer]
    result = openssl_verify(tmp_path, certificate, chain)
    assert result.returncode == 0, result.stdout + result.stderr
    assert pkilint_findings(certificate, tmp_path) == ""


@pytest.mark.parametrize("fixture", ["root_ca", "rsa_root_ca"])
def test_root_template_profile(
    pca: Any, request: pytest.FixtureRequest, tmp_path: Path, fixture: str
) -> None:
    """RootCACertificate/V1, as issued by the activation flow, for an EC and an RSA key."""
    root = ca_certificate(pca, request.getfixturevalue(fixture))
    bc = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length is None
    ku = root.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert asserted_bits(ku.value) == _CA_KU
    with pytest.raises(x509.ExtensionNotFound):
        root.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski.digest == x509.SubjectKeyIdentifier.from_public_key(root.public_key()).digest
    assert root.issuer == root.subject
    root.verify_directly_issued_by(root)
    assert pkilint_findings(root, tmp_path) == ""


# --- validity --------------------------------------------------------------------------------


def test_validity_days(pca: Any, root_ca: str) -> None:
    cert, before, after = issue_window(pca, root_ca, Validity={"Value": 45, "Type": "DAYS"})
    delta = dt.timedelta(days=45)
    assert before + delta - TOLERANCE <= cert.not_valid_after_utc <= after + delta + TOLERANCE


def test_validity_months(pca: Any, root_ca: str) -> None:
    cert, before, after = issue_window(pca, root_ca, Validity={"Value": 13, "Type": "MONTHS"})
    low, high = add_months(before, 13), add_months(after, 13)
    assert low - TOLERANCE <= cert.not_valid_after_utc <= high + TOLERANCE


def test_validity_years(pca: Any, root_ca: str) -> None:
    cert, before, after = issue_window(pca, root_ca, Validity={"Value": 2, "Type": "YEARS"})
    low, high = add_months(before, 24), add_months(after, 24)
    assert low - TOLERANCE <= cert.not_valid_after_utc <= high + TOLERANCE


@pytest.mark.parametrize("fmt", ["%y%m%d%H%M%S", "%Y%m%d%H%M%S"], ids=["utctime", "generalized"])
def test_validity_end_date(pca: Any, root_ca: str, fmt: str) -> None:
    target = (now_utc() + dt.timedelta(days=100, hours=5)).replace(microsecond=0)
    value = int(target.strftime(fmt))
    assert len(str(value)) == len(target.strftime(fmt))
    cert, _, _ = issue_window(pca, root_ca, Validity={"Value": value, "Type": "END_DATE"})
    assert cert.not_valid_after_utc == target


def test_validity_absolute(pca: Any, root_ca: str) -> None:
    target = (now_utc() + dt.timedelta(days=200)).replace(microsecond=0)
    cert, _, _ = issue_window(
        pca, root_ca, Validity={"Value": int(target.timestamp()), "Type": "ABSOLUTE"}
    )
    assert cert.not_valid_after_utc == target


def test_validity_not_before_absolute_is_honoured(pca: Any, root_ca: str) -> None:
    start = (now_utc() + dt.timedelta(days=1)).replace(microsecond=0)
    cert, _, _ = issue_window(
        pca,
        root_ca,
        Validity={"Value": 30, "Type": "DAYS"},
        ValidityNotBefore={"Value": int(start.timestamp()), "Type": "ABSOLUTE"},
    )
    assert cert.not_valid_before_utc == start


def test_default_not_before_is_an_hour_back(pca: Any, root_ca: str) -> None:
    cert, before, after = issue_window(pca, root_ca)
    hour = dt.timedelta(minutes=60)
    assert before - hour - TOLERANCE <= cert.not_valid_before_utc <= after - hour + TOLERANCE


@pytest.mark.parametrize("kind", ["DAYS", "MONTHS", "YEARS", "END_DATE"])
def test_validity_not_before_must_be_absolute(pca: Any, root_ca: str, kind: str) -> None:
    value = 491231235959 if kind == "END_DATE" else 1
    assert_rejected(
        pca,
        "InvalidArgsException",
        **issue_request(root_ca, ValidityNotBefore={"Value": value, "Type": kind}),
    )


@pytest.mark.parametrize(
    "validity",
    [
        {"Value": 11, "Type": "YEARS"},
        {"Value": 4000, "Type": "DAYS"},
        {"Value": 253402300799, "Type": "ABSOLUTE"},
        {"Value": 99991231235959, "Type": "END_DATE"},
    ],
    ids=["years", "days", "absolute", "end-date"],
)
def test_validity_beyond_ca_not_after(pca: Any, root_ca: str, validity: dict[str, Any]) -> None:
    """root_ca's certificate is valid for 10 years; nothing it issues may outlive it."""
    assert_rejected(pca, "InvalidArgsException", **issue_request(root_ca, Validity=validity))


@pytest.mark.parametrize(
    "value", [200101000000, 20200101000000, 500101000000], ids=["utctime", "generalized", "1950"]
)
def test_end_date_in_the_past(pca: Any, root_ca: str, value: int) -> None:
    assert_rejected(
        pca,
        "InvalidArgsException",
        **issue_request(root_ca, Validity={"Value": value, "Type": "END_DATE"}),
    )


@pytest.mark.parametrize(
    "value", [491331235959, 20491232000000, 4912312359, 1234567890123456], ids=str
)
def test_end_date_malformed(pca: Any, root_ca: str, value: int) -> None:
    assert_rejected(
        pca,
        "InvalidArgsException",
        **issue_request(root_ca, Validity={"Value": value, "Type": "END_DATE"}),
    )


# --- path length -----------------------------------------------------------------------------


def test_path_length_beyond_issuer_constraint(
    pca: Any, hierarchy: tuple[str, str], tmp_path: Path
) -> None:
    sub1, sub0 = hierarchy
    assert_rejected(
        pca,
        "InvalidArgsException",
        **issue_request(sub0, TemplateArn=template("SubordinateCACertificate_PathLen0")),
    )
    for n in (1, 2, 3):
        assert_rejected(
            pca,
            "InvalidArgsException",
            **issue_request(sub1, TemplateArn=template(f"SubordinateCACertificate_PathLen{n}")),
        )
    # Within the constraint it works, and the PathLen0 subordinate still issues end entities.
    certificate, chain = issue(pca, sub1, template_name="SubordinateCACertificate_PathLen0")
    assert openssl_verify(tmp_path, certificate, chain).returncode == 0
    leaf, chain = issue(pca, sub0)
    assert openssl_verify(tmp_path, leaf, chain).returncode == 0


# --- CSR checks ------------------------------------------------------------------------------


def _broken_signature_csr() -> bytes:
    csr = x509.load_pem_x509_csr(make_csr(rsa_key(), dns_names=("broken.example.com",)))
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-20] ^= 0x01  # inside the RSA signature value
    broken = x509.load_der_x509_csr(bytes(der))
    assert not broken.is_signature_valid
    return broken.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize(
    "csr",
    [
        b"garbage, not a CSR",
        bytes(range(256)),
        b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        _broken_signature_csr(),
        make_csr(common_name=None),
    ],
    ids=["text", "binary", "bad-pem-body", "broken-signature", "no-subject-no-san"],
)
def test_malformed_csr(pca: Any, root_ca: str, csr: bytes) -> None:
    assert_rejected(pca, "MalformedCSRException", **issue_request(root_ca, Csr=csr))


def test_new_certificate_request_pem_header_is_accepted(pca: Any, root_ca: str) -> None:
    """Older openssl writes `-----BEGIN NEW CERTIFICATE REQUEST-----`."""
    csr = make_csr(dns_names=("legacy.example.com",)).replace(
        b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"
    )
    certificate, _ = issue(pca, root_ca, csr)
    assert certificate.subject.rfc4514_string() == "CN=www.example.com"


def test_san_only_csr_gets_critical_san(pca: Any, root_ca: str, tmp_path: Path) -> None:
    certificate, chain = issue(
        pca, root_ca, make_csr(common_name=None, dns_names=("san-only.example.com",))
    )
    assert len(certificate.subject) == 0
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical
    assert san.value.get_values_for_type(x509.DNSName) == ["san-only.example.com"]
    result = openssl_verify(tmp_path, certificate, chain)
    assert result.returncode == 0, result.stdout + result.stderr
    assert pkilint_findings(certificate, tmp_path) == ""


# --- algorithm and template arguments --------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "signing_algorithm"),
    [
        ("root_ca", "SHA256WITHRSA"),
        ("root_ca", "SHA384WITHRSA_PSS"),
        ("root_ca", "ML_DSA_65"),
        ("root_ca", "ML_DSA_44"),
        ("rsa_root_ca", "SHA256WITHECDSA"),
        ("rsa_root_ca", "ML_DSA_87"),
    ],
)
def test_signing_algorithm_must_match_ca_key(
    pca: Any, request: pytest.FixtureRequest, fixture: str, signing_algorithm: str
) -> None:
    ca_arn = request.getfixturevalue(fixture)
    assert_rejected(
        pca, "InvalidArgsException", **issue_request(ca_arn, SigningAlgorithm=signing_algorithm)
    )


@pytest.mark.parametrize(
    "template_arn",
    [
        "arn:aws:acm-pca:::template/NoSuchTemplate/V1",
        "arn:aws:acm-pca:::template/EndEntityCertificate/V2",
    ],
)
def test_unknown_template(pca: Any, root_ca: str, template_arn: str) -> None:
    assert_rejected(pca, "InvalidArgsException", **issue_request(root_ca, TemplateArn=template_arn))


# --- serial numbers and ARNs -----------------------------------------------------------------


def test_serials_are_random_positive_unique_and_name_the_arn(pca: Any, root_ca: str) -> None:
    serials: set[int] = set()
    csr = make_csr()
    for _ in range(50):
        arn = issue_arn(pca, root_ca, Csr=csr)
        serial = fetch(pca, root_ca, arn).serial_number
        assert serial > 0
        assert serial.bit_length() > 64
        assert serial.bit_length() <= 159  # RFC 5280: at most 20 octets
        suffix = arn.rsplit("/", 1)[1]
        assert arn == f"{root_ca}/certificate/{suffix}"
        assert suffix == format(serial, "x")
        assert suffix == suffix.lower()
        serials.add(serial)
    assert len(serials) == 50


# --- idempotency -----------------------------------------------------------------------------


def test_idempotency_token(pca: Any, root_ca: str) -> None:
    token = uuid.uuid4().hex[:20]
    request = issue_request(
        root_ca, Csr=make_csr(dns_names=("idem.example.com",)), IdempotencyToken=token
    )
    first = pca.issue_certificate(**request)["CertificateArn"]
    second = pca.issue_certificate(**request)["CertificateArn"]
    assert first == second
    got1 = pca.get_certificate(CertificateAuthorityArn=root_ca, CertificateArn=first)
    got2 = pca.get_certificate(CertificateAuthorityArn=root_ca, CertificateArn=second)
    assert got1["Certificate"] == got2["Certificate"]
    assert got1["CertificateChain"] == got2["CertificateChain"]

    other = pca.issue_certificate(**{**request, "IdempotencyToken": uuid.uuid4().hex[:20]})[
        "CertificateArn"
    ]
    assert other != first
    assert fetch(pca, root_ca, other).serial_number != fetch(pca, root_ca, first).serial_number
    without = pca.issue_certificate(**{k: v for k, v in request.items() if k != "IdempotencyToken"})
    assert without["CertificateArn"] not in (first, other)


# --- CA state --------------------------------------------------------------------------------


def test_disabled_ca_cannot_issue(pca: Any) -> None:
    arn = new_root(pca)
    issue_arn(pca, arn)
    pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="DISABLED")
    assert_rejected(pca, "InvalidStateException", **issue_request(arn))
    pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="ACTIVE")
    issue_arn(pca, arn)


@pytest.mark.parametrize("ca_type", ["ROOT", "SUBORDINATE"])
def test_pending_certificate_ca_cannot_issue_end_entities(pca: Any, ca_type: str) -> None:
    arn = create_ca(pca, ca_type)
    for name in ("EndEntityCertificate", "SubordinateCACertificate_PathLen0"):
        assert_rejected(
            pca, "InvalidStateException", **issue_request(arn, TemplateArn=template(name))
        )
    assert_rejected(pca, "InvalidStateException", **issue_request(arn))


def test_subordinate_cannot_use_root_template(pca: Any, hierarchy: tuple[str, str]) -> None:
    _, active_sub = hierarchy
    pending_sub = create_ca(pca, "SUBORDINATE")
    for arn in (active_sub, pending_sub):
        own_csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
        assert_rejected(
            pca,
            "InvalidArgsException",
            **issue_request(
                arn,
                Csr=own_csr.encode(),
                TemplateArn=ROOT_TEMPLATE,
                Validity={"Value": 1, "Type": "YEARS"},
            ),
        )


# --- GetCertificate errors -------------------------------------------------------------------


def test_get_certificate_unknown_serial(pca: Any, root_ca: str) -> None:
    with pytest.raises(pca.exceptions.ResourceNotFoundException) as info:
        pca.get_certificate(
            CertificateAuthorityArn=root_ca,
            CertificateArn=f"{root_ca}/certificate/{uuid.uuid4().hex}",
        )
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_get_certificate_of_another_ca(pca: Any, root_ca: str, rsa_root_ca: str) -> None:
    cert_arn = issue_arn(pca, root_ca)
    with pytest.raises(ClientError) as info:
        pca.get_certificate(CertificateAuthorityArn=rsa_root_ca, CertificateArn=cert_arn)
    error = info.value
    # pica answers InvalidArnException: the certificate ARN does not belong to the CA.
    assert type(error) is pca.exceptions.InvalidArnException
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# --- waiters ---------------------------------------------------------------------------------


def test_certificate_issued_waiter_boto3(pca: Any, root_ca: str) -> None:
    arn = issue_arn(pca, root_ca)
    pca.get_waiter("certificate_issued").wait(
        CertificateAuthorityArn=root_ca,
        CertificateArn=arn,
        WaiterConfig={"Delay": 1, "MaxAttempts": 5},
    )
    # The waiter's success means GetCertificate answers with the certificate.
    got = pca.get_certificate(CertificateAuthorityArn=root_ca, CertificateArn=arn)
    assert got["Certificate"].startswith("-----BEGIN CERTIFICATE-----")


def test_certificate_issued_waiter_cli(server: LiveServer, pca: Any, root_ca: str) -> None:
    arn = issue_arn(pca, root_ca)
    completed = server.aws(
        "acm-pca",
        "wait",
        "certificate-issued",
        "--certificate-authority-arn",
        root_ca,
        "--certificate-arn",
        arn,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


# --- the documented aws CLI command, verbatim ------------------------------------------------


def test_documented_cli_issue_certificate(
    server: LiveServer, rsa_root_ca: str, tmp_path: Path
) -> None:
    subprocess.run(
        [
            "openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes",
            "-keyout", "cert_1.key", "-out", "cert_1.csr",
            "-subj", "/C=US/O=Example Corp/CN=www.example.com",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )  # fmt: skip
    # aws acm-pca issue-certificate --certificate-authority-arn ARN --csr fileb://cert_1.csr
    #   --signing-algorithm "SHA256WITHRSA" --validity Value=365,Type="DAYS"
    #   --idempotency-token 1234   (as the shell hands the tokens over)
    command = (
        "acm-pca", "issue-certificate",
        "--certificate-authority-arn", rsa_root_ca,
        "--csr", "fileb://cert_1.csr",
        "--signing-algorithm", "SHA256WITHRSA",
        "--validity", "Value=365,Type=DAYS",
        "--idempotency-token", "1234",
    )  # fmt: skip
    first = server.aws(*command, cwd=tmp_path)
    cert_arn = first["CertificateArn"]
    assert cert_arn.startswith(f"{rsa_root_ca}/certificate/")
    assert server.aws(*command, cwd=tmp_path)["CertificateArn"] == cert_arn

    got = server.aws(
        "acm-pca", "get-certificate",
        "--certificate-authority-arn", rsa_root_ca,
        "--certificate-arn", cert_arn,
    )  # fmt: skip
    certificate = x509.load_pem_x509_certificate(got["Certificate"].encode())
    assert format(certificate.serial_number, "x") == cert_arn.rsplit("/", 1)[1]
    assert certificate.subject.rfc4514_string() == "CN=www.example.com,O=Example Corp,C=US"
    csr = x509.load_pem_x509_csr((tmp_path / "cert_1.csr").read_bytes())
    assert certificate.public_key() == csr.public_key()
    validity = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert abs(validity - dt.timedelta(days=365, minutes=60)) <= TOLERANCE
    chain = x509.load_pem_x509_certificates(got["CertificateChain"].encode())
    assert len(chain) == 1
    certificate.verify_directly_issued_by(chain[0])

    described = server.aws(
        "acm-pca", "describe-certificate-authority", "--certificate-authority-arn", rsa_root_ca
    )["CertificateAuthority"]
    assert described["Arn"] == rsa_root_ca
    assert described["Status"] == "ACTIVE"
    assert described["Serial"] == str(chain[0].serial_number)
    assert described["CertificateAuthorityConfiguration"]["SigningAlgorithm"] == "SHA256WITHRSA"

    listed = server.aws("acm-pca", "list-certificate-authorities")["CertificateAuthorities"]
    assert [ca["Status"] for ca in listed if ca["Arn"] == rsa_root_ca] == ["ACTIVE"]

    ca_csr = server.aws(
        "acm-pca", "get-certificate-authority-csr", "--certificate-authority-arn", rsa_root_ca
    )["Csr"]
    parsed = x509.load_pem_x509_csr(ca_csr.encode())
    assert parsed.is_signature_valid
    assert parsed.public_key() == chain[0].public_key()
    assert parsed.subject == chain[0].subject
