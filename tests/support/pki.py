"""Test-side PKI helpers: keys, CSRs and whole CA hierarchies made through the real API."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"


# The keyUsage bits in RFC 5280 order, as cryptography's x509.KeyUsage names them.
KEY_USAGE_BITS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def key_usage(**bits: bool) -> x509.KeyUsage:
    """A KeyUsage asserting the bits given as True (cryptography wants all nine named)."""
    return x509.KeyUsage(**{name: bits.get(name, False) for name in KEY_USAGE_BITS})


def asserted_bits(usage: x509.KeyUsage) -> set[str]:
    """The bits a KeyUsage asserts (cryptography reads encipherOnly/decipherOnly only with
    keyAgreement)."""
    names = KEY_USAGE_BITS if usage.key_agreement else KEY_USAGE_BITS[:-2]
    return {name for name in names if getattr(usage, name)}


def template(name: str) -> str:
    return f"arn:aws:acm-pca:::template/{name}/V1"


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_csr(
    key: CertificateIssuerPrivateKeyTypes | None = None,
    common_name: str | None = "www.example.com",
    dns_names: tuple[str, ...] = (),
) -> bytes:
    key = key or ec_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])
    builder = x509.CertificateSigningRequestBuilder().subject_name(name)
    if dns_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(d) for d in dns_names]), critical=False
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def ca_config(
    key_algorithm: str = "EC_prime256v1",
    signing_algorithm: str = "SHA256WITHECDSA",
    common_name: str = "pica test CA",
    organization: str = "pica tests",
) -> dict[str, Any]:
    return {
        "KeyAlgorithm": key_algorithm,
        "SigningAlgorithm": signing_algorithm,
        "Subject": {"Country": "US", "Organization": organization, "CommonName": common_name},
    }


def create_ca(pca: Any, ca_type: str = "ROOT", **config: str) -> str:
    response = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=ca_config(**config),
        CertificateAuthorityType=ca_type,
    )
    arn: str = response["CertificateAuthorityArn"]
    pca.get_waiter("certificate_authority_csr_created").wait(
        CertificateAuthorityArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    return arn


def activate_root(pca: Any, arn: str, signing_algorithm: str, years: int = 10) -> str:
    """The documented root flow: issue RootCACertificate/V1 on the CA's own CSR, then import."""
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    cert_arn = pca.issue_certificate(
        CertificateAuthorityArn=arn,
        Csr=csr.encode(),
        SigningAlgorithm=signing_algorithm,
        TemplateArn=ROOT_TEMPLATE,
        Validity={"Value": years, "Type": "YEARS"},
    )["CertificateArn"]
    pca.get_waiter("certificate_issued").wait(
        CertificateAuthorityArn=arn,
        CertificateArn=cert_arn,
        WaiterConfig={"Delay": 1, "MaxAttempts": 10},
    )
    certificate: str = pca.get_certificate(CertificateAuthorityArn=arn, CertificateArn=cert_arn)[
        "Certificate"
    ]
    pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=arn, Certificate=certificate.encode()
    )
    return certificate


def new_root(
    pca: Any, key_algorithm: str = "EC_prime256v1", signing_algorithm: str = "SHA256WITHECDSA"
) -> str:
    arn = create_ca(pca, "ROOT", key_algorithm=key_algorithm, signing_algorithm=signing_algorithm)
    activate_root(pca, arn, signing_algorithm)
    return arn


def new_subordinate(
    pca: Any,
    parent_arn: str,
    path_len: int = 0,
    key_algorithm: str = "EC_prime256v1",
    signing_algorithm: str = "SHA256WITHECDSA",
    parent_signing_algorithm: str = "SHA256WITHECDSA",
    validity_years: int = 5,
    api_passthrough: dict[str, Any] | None = None,
    **subject: str,
) -> str:
    """A subordinate signed by a pica parent, activated with the parent's certificate chain.

    With `api_passthrough` the parent uses the template's _APIPassthrough variety; `subject`
    (common_name, organization) shapes the subordinate's own subject."""
    arn = create_ca(
        pca,
        "SUBORDINATE",
        key_algorithm=key_algorithm,
        signing_algorithm=signing_algorithm,
        **subject,
    )
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    name = f"SubordinateCACertificate_PathLen{path_len}"
    passthrough: dict[str, Any] = {}
    if api_passthrough is not None:
        name += "_APIPassthrough"
        passthrough["ApiPassthrough"] = api_passthrough
    cert_arn = pca.issue_certificate(
        CertificateAuthorityArn=parent_arn,
        Csr=csr.encode(),
        SigningAlgorithm=parent_signing_algorithm,
        TemplateArn=template(name),
        Validity={"Value": validity_years, "Type": "YEARS"},
        **passthrough,
    )["CertificateArn"]
    issued = pca.get_certificate(CertificateAuthorityArn=parent_arn, CertificateArn=cert_arn)
    pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=arn,
        Certificate=issued["Certificate"].encode(),
        CertificateChain=issued["CertificateChain"].encode(),
    )
    return arn


def self_signed_ca(
    common_name: str, *extensions: x509.ExtensionType
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """An external root (a CA pica knows nothing of): P-256, critical basicConstraints and
    keyUsage, an SKI, and `extensions` (critical)."""
    key = ec_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=True)
    return key, builder.sign(key, hashes.SHA256())


def issue(
    pca: Any,
    ca_arn: str,
    csr: bytes | None = None,
    signing_algorithm: str = "SHA256WITHECDSA",
    template_name: str | None = None,
    validity: dict[str, Any] | None = None,
    **extra: Any,
) -> tuple[x509.Certificate, str]:
    """Issue and fetch a certificate; returns it parsed, and its chain PEM."""
    kwargs: dict[str, Any] = {
        "CertificateAuthorityArn": ca_arn,
        "Csr": csr or make_csr(),
        "SigningAlgorithm": signing_algorithm,
        "Validity": validity or {"Value": 30, "Type": "DAYS"},
        **extra,
    }
    if template_name:
        kwargs["TemplateArn"] = template(template_name)
    cert_arn = pca.issue_certificate(**kwargs)["CertificateArn"]
    got = pca.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=cert_arn)
    return x509.load_pem_x509_certificate(got["Certificate"].encode()), got["CertificateChain"]


def openssl_verify(
    tmp: Path, certificate: x509.Certificate, chain_pem: str
) -> subprocess.CompletedProcess[str]:
    """`openssl verify` with the chain's last (root) certificate as the trust anchor."""
    chain = x509.load_pem_x509_certificates(chain_pem.encode())
    root, intermediates = chain[-1], chain[:-1]
    (tmp / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    (tmp / "untrusted.pem").write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in intermediates)
    )
    (tmp / "leaf.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    args = ["openssl", "verify", "-CAfile", str(tmp / "root.pem")]
    if intermediates:
        args += ["-untrusted", str(tmp / "untrusted.pem")]
    return subprocess.run([*args, str(tmp / "leaf.pem")], capture_output=True, text=True)


def pkilint_findings(certificate: x509.Certificate, tmp: Path) -> str:
    """Run pkilint's `lint_pkix_cert` (the real CLI) and return findings of severity ERROR+."""
    import sys

    path = tmp / "lint.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    lint = Path(sys.executable).with_name("lint_pkix_cert")
    completed = subprocess.run(
        [str(lint), "lint", "-s", "ERROR", "-f", "TEXT", str(path)], capture_output=True, text=True
    )
    # pkilint prints one line per finding at or above the threshold, nothing when clean.
    return (completed.stdout + completed.stderr).strip()


def new_root_with_revocation(
    pca: Any, revocation: dict[str, Any], key_algorithm: str = "EC_prime256v1"
) -> str:
    """An ACTIVE root whose RevocationConfiguration is set at creation."""
    signing = "SHA256WITHECDSA" if key_algorithm.startswith("EC") else "SHA256WITHRSA"
    arn: str = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=ca_config(key_algorithm, signing),
        CertificateAuthorityType="ROOT",
        RevocationConfiguration=revocation,
    )["CertificateAuthorityArn"]
    activate_root(pca, arn, signing)
    return arn


def ca_certificate(pca: Any, arn: str) -> x509.Certificate:
    """The CA's own certificate, as GetCertificateAuthorityCertificate returns it."""
    pem: str = pca.get_certificate_authority_certificate(CertificateAuthorityArn=arn)["Certificate"]
    return x509.load_pem_x509_certificate(pem.encode())


def extension_or_none(certificate: x509.Certificate, kind: type[x509.ExtensionType]) -> Any:
    try:
        return certificate.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None


def cdp_url(certificate: x509.Certificate) -> str:
    cdp = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    (point,) = list(cdp)
    assert point.full_name is not None
    (name,) = point.full_name
    return str(name.value)


def ocsp_url(certificate: x509.Certificate) -> str:
    aia = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    (description,) = [d for d in aia if d.access_method.dotted_string == "1.3.6.1.5.5.7.48.1"]
    return str(description.access_location.value)


def name_constraints_passthrough(constraints: x509.NameConstraints) -> dict[str, Any]:
    """ApiPassthrough carrying a critical NameConstraints extension as a CustomExtension
    (2.5.29.30), as the AWS docs show it."""
    value = base64.b64encode(constraints.public_bytes()).decode()
    return {
        "Extensions": {
            "CustomExtensions": [
                {"ObjectIdentifier": "2.5.29.30", "Value": value, "Critical": True}
            ]
        }
    }


def new_constrained_root(
    pca: Any, constraints: x509.NameConstraints, common_name: str = "pica constrained root"
) -> str:
    """An ACTIVE EC root whose certificate carries `constraints`, self-issued with
    RootCACertificate_APIPassthrough/V1 and a NameConstraints CustomExtension."""
    arn = create_ca(pca, "ROOT", common_name=common_name)
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    cert_arn = pca.issue_certificate(
        CertificateAuthorityArn=arn,
        Csr=csr.encode(),
        SigningAlgorithm="SHA256WITHECDSA",
        TemplateArn=template("RootCACertificate_APIPassthrough"),
        Validity={"Value": 10, "Type": "YEARS"},
        ApiPassthrough=name_constraints_passthrough(constraints),
    )["CertificateArn"]
    certificate = pca.get_certificate(CertificateAuthorityArn=arn, CertificateArn=cert_arn)
    pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=arn, Certificate=certificate["Certificate"].encode()
    )
    return arn
