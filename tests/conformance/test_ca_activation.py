"""CA activation through the live server: create, CSR, root self-issue, import, hierarchies.

Covers CreateCertificateAuthority, GetCertificateAuthorityCsr, the RootCACertificate/V1 flow,
ImportCertificateAuthorityCertificate (pica parents, an external openssl parent, and every
rejection the AWS docs name) and GetCertificateAuthorityCertificate.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID

from tests.support.pki import (
    ROOT_TEMPLATE,
    activate_root,
    ca_certificate,
    ca_config,
    create_ca,
    issue,
    make_csr,
    new_root,
    new_subordinate,
    openssl_verify,
    pkilint_findings,
    self_signed_ca,
    template,
)

# --- helpers ---------------------------------------------------------------------------------

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}
_CLASSIC_SIGNATURE_OIDS = {
    "SHA256WITHRSA": SignatureAlgorithmOID.RSA_WITH_SHA256,
    "SHA384WITHRSA": SignatureAlgorithmOID.RSA_WITH_SHA384,
    "SHA512WITHRSA": SignatureAlgorithmOID.RSA_WITH_SHA512,
    "SHA256WITHECDSA": SignatureAlgorithmOID.ECDSA_WITH_SHA256,
    "SHA384WITHECDSA": SignatureAlgorithmOID.ECDSA_WITH_SHA384,
    "SHA512WITHECDSA": SignatureAlgorithmOID.ECDSA_WITH_SHA512,
}
_RSA_BITS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
_EC_CURVES = {
    "EC_prime256v1": "secp256r1",
    "EC_secp384r1": "secp384r1",
    "EC_secp521r1": "secp521r1",
}

# Each key algorithm is created at least once, each signing algorithm is used at least once.
KEY_AND_SIGNING = [
    ("RSA_2048", "SHA256WITHRSA"),
    ("RSA_2048", "SHA256WITHRSA_PSS"),
    ("RSA_2048", "SHA512WITHRSA_PSS"),
    ("RSA_3072", "SHA384WITHRSA"),
    ("RSA_3072", "SHA384WITHRSA_PSS"),
    ("RSA_4096", "SHA512WITHRSA"),
    ("EC_prime256v1", "SHA256WITHECDSA"),
    ("EC_prime256v1", "SHA512WITHECDSA"),
    ("EC_secp384r1", "SHA384WITHECDSA"),
    ("EC_secp521r1", "SHA512WITHECDSA"),
]


def describe(pca: Any, arn: str) -> dict[str, Any]:
    ca: dict[str, Any] = pca.describe_certificate_authority(CertificateAuthorityArn=arn)[
        "CertificateAuthority"
    ]
    return ca


def ca_csr(pca: Any, arn: str) -> x509.CertificateSigningRequest:
    pem: str = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    return x509.load_pem_x509_csr(pem.encode())


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def assert_signed_with(
    signed: x509.Certificate | x509.CertificateSigningRequest, signing_algorithm: str
) -> None:
    """The signature algorithm on the wire is the one the CA was configured with."""
    assert signed.signature_hash_algorithm is not None
    assert isinstance(signed.signature_hash_algorithm, _HASHES[signing_algorithm[:6]])
    if signing_algorithm.endswith("_PSS"):
        assert signed.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS
        assert isinstance(signed.signature_algorithm_parameters, padding.PSS)
    else:
        assert signed.signature_algorithm_oid == _CLASSIC_SIGNATURE_OIDS[signing_algorithm]


def assert_key_matches(public_key: Any, key_algorithm: str) -> None:
    if key_algorithm.startswith("RSA"):
        assert isinstance(public_key, rsa.RSAPublicKey)
        assert public_key.key_size == _RSA_BITS[key_algorithm]
    else:
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        assert public_key.curve.name == _EC_CURVES[key_algorithm]


def assert_ca_extensions(certificate: x509.Certificate, path_length: int | None) -> None:
    bc = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical
    assert bc.value.ca is True
    assert bc.value.path_length == path_length
    ku = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert ku.value.digital_signature and ku.value.key_cert_sign and ku.value.crl_sign
    assert not (
        ku.value.content_commitment
        or ku.value.key_encipherment
        or ku.value.data_encipherment
        or ku.value.key_agreement
    )


def assert_describe_matches(ca: dict[str, Any], certificate: x509.Certificate) -> None:
    assert ca["Status"] == "ACTIVE"
    assert ca["Serial"] == str(certificate.serial_number)
    assert ca["NotBefore"].timestamp() == certificate.not_valid_before_utc.timestamp()
    assert ca["NotAfter"].timestamp() == certificate.not_valid_after_utc.timestamp()


def issue_for_csr(
    pca: Any,
    issuer_arn: str,
    csr_pem: str,
    template_name: str,
    signing_algorithm: str = "SHA256WITHECDSA",
    years: int = 3,
) -> dict[str, str]:
    """Have `issuer_arn` sign a CA's CSR; returns GetCertificate's Certificate/CertificateChain."""
    cert_arn = pca.issue_certificate(
        CertificateAuthorityArn=issuer_arn,
        Csr=csr_pem.encode(),
        SigningAlgorithm=signing_algorithm,
        TemplateArn=template(template_name),
        Validity={"Value": years, "Type": "YEARS"},
    )["CertificateArn"]
    got: dict[str, str] = pca.get_certificate(
        CertificateAuthorityArn=issuer_arn, CertificateArn=cert_arn
    )
    return got


def assert_import_rejected(
    pca: Any,
    arn: str,
    exception: Callable[[Any], type[Exception]],
    certificate: bytes,
    chain: bytes | None = None,
) -> None:
    """The import fails with exactly `exception`, and leaves the CA exactly as it was."""
    before = describe(pca, arn)
    cert_before = (
        pca.get_certificate_authority_certificate(CertificateAuthorityArn=arn)
        if before["Status"] == "ACTIVE"
        else None
    )
    kwargs: dict[str, Any] = {"CertificateAuthorityArn": arn, "Certificate": certificate}
    if chain is not None:
        kwargs["CertificateChain"] = chain
    expected = exception(pca.exceptions)
    with pytest.raises(expected) as info:
        pca.import_certificate_authority_certificate(**kwargs)
    error = info.value
    assert type(error) is expected
    assert isinstance(error, ClientError)
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert describe(pca, arn) == before
    if cert_before is not None:
        cert_after = pca.get_certificate_authority_certificate(CertificateAuthorityArn=arn)
        assert cert_after["Certificate"] == cert_before["Certificate"]
        assert cert_after.get("CertificateChain") == cert_before.get("CertificateChain")


@pytest.fixture(scope="module")
def hierarchy(pca: Any, root_ca: str) -> tuple[str, str]:
    """root_ca -> sub (PathLen1) -> sub (PathLen0), all EC P-256."""
    sub1 = new_subordinate(pca, root_ca, path_len=1, validity_years=5)
    sub0 = new_subordinate(pca, sub1, path_len=0, validity_years=4)
    return sub1, sub0


# --- root activation for every key and signing algorithm -------------------------------------


@pytest.mark.parametrize(("key_algorithm", "signing_algorithm"), KEY_AND_SIGNING)
def test_root_activation(
    pca: Any, tmp_path: Path, key_algorithm: str, signing_algorithm: str
) -> None:
    common_name = f"pica root {key_algorithm} {signing_algorithm}"
    arn = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=ca_config(
            key_algorithm, signing_algorithm, common_name=common_name
        ),
        CertificateAuthorityType="ROOT",
    )["CertificateAuthorityArn"]
    pca.get_waiter("certificate_authority_csr_created").wait(
        CertificateAuthorityArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    pending = describe(pca, arn)
    assert pending["Status"] == "PENDING_CERTIFICATE"
    assert pending["Type"] == "ROOT"
    assert pending["UsageMode"] == "GENERAL_PURPOSE"
    assert pending["KeyStorageSecurityStandard"] == "FIPS_140_2_LEVEL_3_OR_HIGHER"
    assert pending["CertificateAuthorityConfiguration"]["KeyAlgorithm"] == key_algorithm
    assert pending["CertificateAuthorityConfiguration"]["SigningAlgorithm"] == signing_algorithm

    csr = ca_csr(pca, arn)
    assert csr.subject == x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pica tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    assert csr.is_signature_valid
    assert_key_matches(csr.public_key(), key_algorithm)
    assert_signed_with(csr, signing_algorithm)

    root_pem = activate_root(pca, arn, signing_algorithm)
    root = x509.load_pem_x509_certificate(root_pem.encode())
    assert root.public_key() == csr.public_key()
    assert root.subject == csr.subject == root.issuer
    root.verify_directly_issued_by(root)
    assert_signed_with(root, signing_algorithm)
    assert_ca_extensions(root, path_length=None)

    active = describe(pca, arn)
    assert_describe_matches(active, root)
    assert active["UsageMode"] == "GENERAL_PURPOSE"
    assert active["KeyStorageSecurityStandard"] == "FIPS_140_2_LEVEL_3_OR_HIGHER"

    got = pca.get_certificate_authority_certificate(CertificateAuthorityArn=arn)
    assert x509.load_pem_x509_certificate(got["Certificate"].encode()) == root
    assert "CertificateChain" not in got

    result = openssl_verify(tmp_path, root, root_pem)
    assert result.returncode == 0, result.stdout + result.stderr
    assert pkilint_findings(root, tmp_path) == ""


# --- CreateCertificateAuthority options --------------------------------------------------------


def test_usage_mode_and_key_storage_standard_are_echoed(pca: Any) -> None:
    arn = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=ca_config(common_name="pica explicit options"),
        CertificateAuthorityType="ROOT",
        UsageMode="SHORT_LIVED_CERTIFICATE",
        KeyStorageSecurityStandard="FIPS_140_2_LEVEL_2_OR_HIGHER",
    )["CertificateAuthorityArn"]
    pca.get_waiter("certificate_authority_csr_created").wait(
        CertificateAuthorityArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    ca = describe(pca, arn)
    assert ca["UsageMode"] == "SHORT_LIVED_CERTIFICATE"
    assert ca["KeyStorageSecurityStandard"] == "FIPS_140_2_LEVEL_2_OR_HIGHER"
    listed = [
        item
        for page in pca.get_paginator("list_certificate_authorities").paginate()
        for item in page["CertificateAuthorities"]
        if item["Arn"] == arn
    ]
    assert len(listed) == 1
    assert listed[0]["UsageMode"] == "SHORT_LIVED_CERTIFICATE"
    assert listed[0]["KeyStorageSecurityStandard"] == "FIPS_140_2_LEVEL_2_OR_HIGHER"


def test_short_lived_root_activates_with_a_long_lived_root_certificate(pca: Any) -> None:
    """The 7-day limit of SHORT_LIVED_CERTIFICATE applies to what the CA issues, not to its own
    root certificate: "AWS Private CA does not perform validity checks on root CA
    certificates" (AWS page "Understand AWS Private CA CA modes")."""
    arn = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=ca_config(common_name="pica short-lived root"),
        CertificateAuthorityType="ROOT",
        UsageMode="SHORT_LIVED_CERTIFICATE",
    )["CertificateAuthorityArn"]
    pca.get_waiter("certificate_authority_csr_created").wait(
        CertificateAuthorityArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    root_pem = activate_root(pca, arn, "SHA256WITHECDSA", years=2)
    ca = describe(pca, arn)
    assert_describe_matches(ca, x509.load_pem_x509_certificate(root_pem.encode()))
    assert ca["UsageMode"] == "SHORT_LIVED_CERTIFICATE"
    # What it issues is limited to seven days.
    issue(pca, arn, validity={"Value": 7, "Type": "DAYS"})
    with pytest.raises(pca.exceptions.InvalidArgsException):
        issue(pca, arn, validity={"Value": 8, "Type": "DAYS"})


def test_create_idempotency_token_returns_the_same_ca(pca: Any) -> None:
    def all_arns() -> list[str]:
        return [
            item["Arn"]
            for page in pca.get_paginator("list_certificate_authorities").paginate()
            for item in page["CertificateAuthorities"]
        ]

    before = all_arns()
    token = uuid.uuid4().hex[:32]
    kwargs: dict[str, Any] = {
        "CertificateAuthorityConfiguration": ca_config(common_name="pica idempotent CA"),
        "CertificateAuthorityType": "ROOT",
        "IdempotencyToken": token,
    }
    first = pca.create_certificate_authority(**kwargs)["CertificateAuthorityArn"]
    second = pca.create_certificate_authority(**kwargs)["CertificateAuthorityArn"]
    assert first == second
    after = all_arns()
    assert after.count(first) == 1
    assert len(after) == len(before) + 1

    # A different token is a different request: a second CA.
    kwargs["IdempotencyToken"] = uuid.uuid4().hex[:32]
    third = pca.create_certificate_authority(**kwargs)["CertificateAuthorityArn"]
    assert third != first


def test_csr_extensions_appear_in_the_csr(pca: Any) -> None:
    config = ca_config(common_name="pica CSR extensions")
    config["CsrExtensions"] = {
        "KeyUsage": {"DigitalSignature": True, "KeyCertSign": True, "CRLSign": True},
        "SubjectInformationAccess": [
            {
                "AccessMethod": {"AccessMethodType": "CA_REPOSITORY"},
                "AccessLocation": {"UniformResourceIdentifier": "http://pki.example.com/repo"},
            },
            {
                "AccessMethod": {"CustomObjectIdentifier": "1.3.6.1.4.1.99999.1"},
                "AccessLocation": {"DnsName": "repo.example.com"},
            },
        ],
    }
    arn = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=config, CertificateAuthorityType="SUBORDINATE"
    )["CertificateAuthorityArn"]
    pca.get_waiter("certificate_authority_csr_created").wait(
        CertificateAuthorityArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    csr = ca_csr(pca, arn)
    assert csr.is_signature_valid
    ku = csr.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.key_cert_sign and ku.crl_sign
    assert not (ku.key_encipherment or ku.content_commitment or ku.key_agreement)
    sia = csr.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_INFORMATION_ACCESS).value
    assert isinstance(sia, x509.SubjectInformationAccess)
    descriptions = list(sia)
    assert descriptions == [
        x509.AccessDescription(
            x509.ObjectIdentifier("1.3.6.1.5.5.7.48.5"),
            x509.UniformResourceIdentifier("http://pki.example.com/repo"),
        ),
        x509.AccessDescription(
            x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), x509.DNSName("repo.example.com")
        ),
    ]
    described = describe(pca, arn)["CertificateAuthorityConfiguration"]
    assert described["CsrExtensions"]["KeyUsage"]["KeyCertSign"] is True


# --- subordinates signed by a pica parent ----------------------------------------------------


@pytest.mark.parametrize("path_len", [0, 1, 2, 3])
def test_subordinate_activated_by_pica_parent(
    pca: Any, root_ca: str, tmp_path: Path, path_len: int
) -> None:
    arn = new_subordinate(pca, root_ca, path_len=path_len, validity_years=2)
    ca = describe(pca, arn)
    assert ca["Type"] == "SUBORDINATE"
    sub = ca_certificate(pca, arn)
    assert_describe_matches(ca, sub)
    assert_ca_extensions(sub, path_length=path_len)
    root = ca_certificate(pca, root_ca)
    assert sub.issuer == root.subject
    sub.verify_directly_issued_by(root)

    got = pca.get_certificate_authority_certificate(CertificateAuthorityArn=arn)
    chain = x509.load_pem_x509_certificates(got["CertificateChain"].encode())
    assert chain == [root]
    assert pkilint_findings(sub, tmp_path) == ""


def test_three_level_hierarchy_verifies(
    pca: Any, root_ca: str, hierarchy: tuple[str, str], tmp_path: Path
) -> None:
    sub1, sub0 = hierarchy
    root = ca_certificate(pca, root_ca)
    sub1_cert = ca_certificate(pca, sub1)
    sub0_cert = ca_certificate(pca, sub0)
    assert_ca_extensions(sub1_cert, path_length=1)
    assert_ca_extensions(sub0_cert, path_length=0)

    # GetCertificateAuthorityCertificate: chain excludes the CA itself, parent first, root last.
    got1 = pca.get_certificate_authority_certificate(CertificateAuthorityArn=sub1)
    assert x509.load_pem_x509_certificates(got1["CertificateChain"].encode()) == [root]
    got0 = pca.get_certificate_authority_certificate(CertificateAuthorityArn=sub0)
    assert x509.load_pem_x509_certificate(got0["Certificate"].encode()) == sub0_cert
    assert x509.load_pem_x509_certificates(got0["CertificateChain"].encode()) == [
        sub1_cert,
        root,
    ]

    leaf, chain_pem = issue(pca, sub0, make_csr(dns_names=("deep.example.com",)))
    chain = x509.load_pem_x509_certificates(chain_pem.encode())
    assert chain == [sub0_cert, sub1_cert, root]
    for child, parent in zip([leaf, *chain[:-1]], chain, strict=True):
        child.verify_directly_issued_by(parent)
    result = openssl_verify(tmp_path, leaf, chain_pem)
    assert result.returncode == 0, result.stdout + result.stderr
    assert pkilint_findings(leaf, tmp_path) == ""


# --- a subordinate signed by an external (openssl) CA ----------------------------------------

_EXTERNAL_ROOT_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_root
[dn]
C = US
O = Elsewhere Inc
CN = External Root CA
[v3_root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
"""

_EXTERNAL_SUB_EXTENSIONS = """\
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


def _openssl(*args: str, cwd: Path) -> None:
    completed = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


def test_subordinate_activated_by_external_openssl_ca(pca: Any, tmp_path: Path) -> None:
    (tmp_path / "root.cnf").write_text(_EXTERNAL_ROOT_CONFIG)
    (tmp_path / "sub.ext").write_text(_EXTERNAL_SUB_EXTENSIONS)
    _openssl(
        "req", "-x509", "-config", "root.cnf", "-newkey", "ec",
        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "root.key",
        "-out", "root.pem", "-days", "3650",
        cwd=tmp_path,
    )  # fmt: skip

    arn = create_ca(pca, "SUBORDINATE", common_name="pica sub of external root")
    (tmp_path / "sub.csr").write_text(
        pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    )
    _openssl(
        "x509", "-req", "-in", "sub.csr", "-CA", "root.pem", "-CAkey", "root.key",
        "-set_serial", "0x" + uuid.uuid4().hex, "-days", "1825", "-sha256",
        "-extfile", "sub.ext", "-out", "sub.pem",
        cwd=tmp_path,
    )  # fmt: skip
    external_root = (tmp_path / "root.pem").read_bytes()
    sub_pem = (tmp_path / "sub.pem").read_bytes()
    pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=arn, Certificate=sub_pem, CertificateChain=external_root
    )

    sub = x509.load_pem_x509_certificate(sub_pem)
    root = x509.load_pem_x509_certificate(external_root)
    assert_describe_matches(describe(pca, arn), sub)
    got = pca.get_certificate_authority_certificate(CertificateAuthorityArn=arn)
    assert x509.load_pem_x509_certificate(got["Certificate"].encode()) == sub
    assert x509.load_pem_x509_certificates(got["CertificateChain"].encode()) == [root]

    leaf, chain_pem = issue(pca, arn, make_csr(dns_names=("ext.example.com",)))
    assert x509.load_pem_x509_certificates(chain_pem.encode()) == [sub, root]
    # Trust only the external root, which pica never saw the key of.
    (tmp_path / "leaf.pem").write_bytes(pem(leaf))
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", "root.pem", "-untrusted", "sub.pem", "leaf.pem"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    result = openssl_verify(tmp_path, leaf, chain_pem)
    assert result.returncode == 0, result.stdout + result.stderr


_EXTERNAL_ROOT_PATHLEN0_CONFIG = _EXTERNAL_ROOT_CONFIG.replace(
    "basicConstraints = critical,CA:TRUE", "basicConstraints = critical,CA:TRUE,pathlen:0"
)


@pytest.mark.parametrize(
    ("root_config", "sub_extensions", "exception"),
    [
        # AWS rejects a CA certificate that marks cRLDistributionPoints / AIA critical.
        (
            _EXTERNAL_ROOT_CONFIG,
            _EXTERNAL_SUB_EXTENSIONS + "crlDistributionPoints = critical,URI:http://crl.example\n",
            "MalformedCertificateException",
        ),
        (
            _EXTERNAL_ROOT_CONFIG,
            _EXTERNAL_SUB_EXTENSIONS
            + "authorityInfoAccess = critical,caIssuers;URI:http://ca.example/root.der\n",
            "MalformedCertificateException",
        ),
        # The external root allows no CA below it (pathlen:0): the chain forbids this one.
        (_EXTERNAL_ROOT_PATHLEN0_CONFIG, _EXTERNAL_SUB_EXTENSIONS, "CertificateMismatchException"),
    ],
    ids=["critical-cdp", "critical-aia", "parent-pathlen-0"],
)
def test_external_ca_certificate_rejected(
    pca: Any, tmp_path: Path, root_config: str, sub_extensions: str, exception: str
) -> None:
    (tmp_path / "root.cnf").write_text(root_config)
    (tmp_path / "sub.ext").write_text(sub_extensions)
    _openssl(
        "req", "-x509", "-config", "root.cnf", "-newkey", "ec",
        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "root.key",
        "-out", "root.pem", "-days", "3650",
        cwd=tmp_path,
    )  # fmt: skip
    arn = create_ca(pca, "SUBORDINATE", common_name="pica sub, rejected external cert")
    (tmp_path / "sub.csr").write_text(
        pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    )
    _openssl(
        "x509", "-req", "-in", "sub.csr", "-CA", "root.pem", "-CAkey", "root.key",
        "-set_serial", "0x" + uuid.uuid4().hex, "-days", "1825", "-sha256",
        "-extfile", "sub.ext", "-out", "sub.pem",
        cwd=tmp_path,
    )  # fmt: skip
    assert_import_rejected(
        pca,
        arn,
        lambda x: getattr(x, exception),
        (tmp_path / "sub.pem").read_bytes(),
        (tmp_path / "root.pem").read_bytes(),
    )


# --- GetCertificateAuthorityCertificate ------------------------------------------------------


def test_get_ca_certificate_of_root_has_no_chain(pca: Any, root_ca: str) -> None:
    got = pca.get_certificate_authority_certificate(CertificateAuthorityArn=root_ca)
    root = x509.load_pem_x509_certificate(got["Certificate"].encode())
    assert root.issuer == root.subject
    assert "CertificateChain" not in got


# --- rejected imports ------------------------------------------------------------------------


def _foreign_ca_certificate() -> bytes:
    """A valid self-signed CA certificate whose key no pica CA has."""
    _, certificate = self_signed_ca("pica tests")
    return pem(certificate)


def test_import_certificate_for_another_key_is_a_mismatch(pca: Any, root_ca: str) -> None:
    arn = create_ca(pca, "ROOT", common_name="pica mismatch")
    assert_import_rejected(
        pca, arn, lambda x: x.CertificateMismatchException, _foreign_ca_certificate()
    )
    # Another pica CA's certificate: same story.
    other = pca.get_certificate_authority_certificate(CertificateAuthorityArn=root_ca)
    assert_import_rejected(
        pca, arn, lambda x: x.CertificateMismatchException, other["Certificate"].encode()
    )


@pytest.mark.parametrize(
    "garbage",
    [
        b"this is not a certificate",
        bytes(range(256)),
        b"-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAA\n-----END CERTIFICATE-----\n",
    ],
    ids=["text", "binary", "bad-pem-body"],
)
def test_import_garbage_is_malformed(pca: Any, garbage: bytes) -> None:
    arn = create_ca(pca, "ROOT", common_name="pica garbage import")
    assert_import_rejected(pca, arn, lambda x: x.MalformedCertificateException, garbage)


def test_import_non_self_signed_certificate_for_root(pca: Any, root_ca: str) -> None:
    arn = create_ca(pca, "ROOT", common_name="pica root signed by another")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    # A perfectly good CA certificate for this key, but issued by another CA.
    issued = issue_for_csr(pca, root_ca, csr, "SubordinateCACertificate_PathLen0")
    assert_import_rejected(
        pca, arn, lambda x: x.InvalidRequestException, issued["Certificate"].encode()
    )
    assert_import_rejected(
        pca,
        arn,
        lambda x: x.InvalidRequestException,
        issued["Certificate"].encode(),
        issued["CertificateChain"].encode(),
    )


def test_import_self_signed_certificate_for_subordinate(
    pca: Any, root_ca: str, hierarchy: tuple[str, str]
) -> None:
    sub1, _ = hierarchy
    # The PathLen1 subordinate signs its own CSR with a PathLen0 template: the result carries
    # the subordinate's key, and its issuer is its subject -> a self-signed CA certificate.
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=sub1)["Csr"]
    issued = issue_for_csr(pca, sub1, csr, "SubordinateCACertificate_PathLen0", years=1)
    self_signed = x509.load_pem_x509_certificate(issued["Certificate"].encode())
    assert self_signed.issuer == self_signed.subject
    self_signed.verify_directly_issued_by(self_signed)
    root_pem = pca.get_certificate_authority_certificate(CertificateAuthorityArn=root_ca)[
        "Certificate"
    ]
    assert_import_rejected(
        pca, sub1, lambda x: x.InvalidRequestException, pem(self_signed), root_pem.encode()
    )
    assert_import_rejected(pca, sub1, lambda x: x.InvalidRequestException, pem(self_signed))


def test_import_root_with_a_chain_is_invalid_request(pca: Any, root_ca: str) -> None:
    arn = create_ca(pca, "ROOT", common_name="pica root with chain")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    own = issue_for_csr(pca, arn, csr, "RootCACertificate")
    other_root = pca.get_certificate_authority_certificate(CertificateAuthorityArn=root_ca)
    assert_import_rejected(
        pca,
        arn,
        lambda x: x.InvalidRequestException,
        own["Certificate"].encode(),
        other_root["Certificate"].encode(),
    )
    # Without the chain the very same certificate activates the root.
    pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=arn, Certificate=own["Certificate"].encode()
    )
    assert describe(pca, arn)["Status"] == "ACTIVE"


def test_import_subordinate_without_chain(pca: Any, root_ca: str) -> None:
    arn = create_ca(pca, "SUBORDINATE", common_name="pica sub without chain")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    issued = issue_for_csr(pca, root_ca, csr, "SubordinateCACertificate_PathLen0")
    assert_import_rejected(
        pca, arn, lambda x: x.InvalidRequestException, issued["Certificate"].encode()
    )
    # The same certificate with its chain is accepted afterwards.
    pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=arn,
        Certificate=issued["Certificate"].encode(),
        CertificateChain=issued["CertificateChain"].encode(),
    )
    assert describe(pca, arn)["Status"] == "ACTIVE"


def test_import_chain_that_did_not_sign_the_certificate(
    pca: Any, root_ca: str, rsa_root_ca: str
) -> None:
    arn = create_ca(pca, "SUBORDINATE", common_name="pica sub wrong chain")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    issued = issue_for_csr(pca, root_ca, csr, "SubordinateCACertificate_PathLen0")
    wrong_root = pca.get_certificate_authority_certificate(CertificateAuthorityArn=rsa_root_ca)[
        "Certificate"
    ]
    assert_import_rejected(
        pca,
        arn,
        lambda x: x.CertificateMismatchException,
        issued["Certificate"].encode(),
        wrong_root.encode(),
    )


def test_import_without_critical_basic_constraints_is_malformed(pca: Any, root_ca: str) -> None:
    arn = create_ca(pca, "SUBORDINATE", common_name="pica sub end-entity cert")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    # EndEntityCertificate/V1: basicConstraints CA:FALSE and not critical.
    issued = issue_for_csr(pca, root_ca, csr, "EndEntityCertificate")
    bc = x509.load_pem_x509_certificate(
        issued["Certificate"].encode()
    ).extensions.get_extension_for_class(x509.BasicConstraints)
    assert not bc.critical
    assert_import_rejected(
        pca,
        arn,
        lambda x: x.MalformedCertificateException,
        issued["Certificate"].encode(),
        issued["CertificateChain"].encode(),
    )


def test_import_into_disabled_ca_is_invalid_state(pca: Any) -> None:
    arn = create_ca(pca, "ROOT", common_name="pica disabled import")
    root_pem = activate_root(pca, arn, "SHA256WITHECDSA")
    pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="DISABLED")
    assert describe(pca, arn)["Status"] == "DISABLED"
    assert_import_rejected(pca, arn, lambda x: x.InvalidStateException, root_pem.encode())


def test_import_into_deleted_ca_is_invalid_state(pca: Any) -> None:
    arn = create_ca(pca, "ROOT", common_name="pica deleted import")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    # Its own root certificate, issued while PENDING_CERTIFICATE, then the CA is deleted.
    cert_arn = pca.issue_certificate(
        CertificateAuthorityArn=arn,
        Csr=csr.encode(),
        SigningAlgorithm="SHA256WITHECDSA",
        TemplateArn=ROOT_TEMPLATE,
        Validity={"Value": 5, "Type": "YEARS"},
    )["CertificateArn"]
    root_pem = pca.get_certificate(CertificateAuthorityArn=arn, CertificateArn=cert_arn)[
        "Certificate"
    ]
    pca.delete_certificate_authority(CertificateAuthorityArn=arn, PermanentDeletionTimeInDays=7)
    assert describe(pca, arn)["Status"] == "DELETED"
    assert_import_rejected(pca, arn, lambda x: x.InvalidStateException, root_pem.encode())


def test_failed_import_leaves_active_ca_unchanged(pca: Any) -> None:
    """A rejected re-import into an ACTIVE root keeps its certificate, serial and dates."""
    arn = new_root(pca)
    assert_import_rejected(
        pca, arn, lambda x: x.CertificateMismatchException, _foreign_ca_certificate()
    )
    assert_import_rejected(pca, arn, lambda x: x.MalformedCertificateException, b"garbage")
    assert describe(pca, arn)["Status"] == "ACTIVE"
