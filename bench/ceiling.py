"""The in-process ceiling: issuance with no HTTP, one thread, for four CA key types.

- `pica issue()`: pica's own issuance code, `CertificateService.issue` on a runtime built as
  `pica serve` builds it (SQLite in a temp dir, or PostgreSQL), CA key opened once: CSR parse and
  verification, CA load, profile composition, lint gate, signature, the durable commit.
- `bare build+sign`: pyca/cryptography alone building and signing the same kind of certificate
  (EndEntityCertificate/V1: basicConstraints, keyUsage, extendedKeyUsage, SAN, SKI, AKI) from a
  public key already in hand, DER-encoded: what no CA written on cryptography can beat.
- `bare +CSR`: the same, with the PEM CSR parsed and its signature verified first.

Every subject key is EC P-256 (the CSR the HTTP phases send); the CA key varies.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pica.app import bootstrap, build_runtime
from pica.authority.authorities import CreateCaRequest
from pica.authority.ca_access import Caller
from pica.authority.certificates import IssueRequest
from pica.authority.issuance import new_serial
from pica.authority.model import (
    CaConfiguration,
    CaType,
    KeyAlgorithm,
    SigningAlgorithm,
    Subject,
    Validity,
    ValidityType,
)
from pica.settings import build

ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"
WARM_UP = 10


@dataclass(frozen=True)
class KeyType:
    label: str
    key_algorithm: str  # ACM PCA's KeyAlgorithm
    signing_algorithm: str
    generate: Callable[[], CertificateIssuerPrivateKeyTypes]
    hash: Callable[[], hashes.SHA256 | hashes.SHA384]


KEY_TYPES = (
    KeyType(
        "P-256",
        "EC_prime256v1",
        "SHA256WITHECDSA",
        lambda: ec.generate_private_key(ec.SECP256R1()),
        hashes.SHA256,
    ),
    KeyType(
        "P-384",
        "EC_secp384r1",
        "SHA384WITHECDSA",
        lambda: ec.generate_private_key(ec.SECP384R1()),
        hashes.SHA384,
    ),
    KeyType(
        "RSA-2048",
        "RSA_2048",
        "SHA256WITHRSA",
        lambda: rsa.generate_private_key(65537, 2048),
        hashes.SHA256,
    ),
    KeyType(
        "RSA-4096",
        "RSA_4096",
        "SHA256WITHRSA",
        lambda: rsa.generate_private_key(65537, 4096),
        hashes.SHA256,
    ),
)


@dataclass(frozen=True)
class Ceiling:
    key: str
    pica_issue: float  # issuances per second
    bare_sign: float
    bare_with_csr: float


def per_second(action: Callable[[], object], seconds: float) -> float:
    """How many times per second `action` runs in this thread, after a short warm-up."""
    for _ in range(WARM_UP):
        action()
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        action()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def subject_csr() -> bytes:
    """The CSR every phase sends: an EC P-256 key, CN=www.example.com, no extensions."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.example.com")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


# --- bare cryptography -------------------------------------------------------------------------


def _bare_issuer(key_type: KeyType) -> tuple[CertificateIssuerPrivateKeyTypes, x509.Name, bytes]:
    key = key_type.generate()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pica bench"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"bench {key_type.label} CA"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest
    return key, name, ski


def _bare_certificate(
    key_type: KeyType,
    key: CertificateIssuerPrivateKeyTypes,
    issuer: x509.Name,
    issuer_ski: bytes,
    subject: x509.Name,
    public_key: Any,
) -> bytes:
    now = datetime.now(UTC)
    common_names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(new_serial())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(str(n.value)) for n in common_names]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier(issuer_ski, None, None),
            critical=False,
        )
    )
    rsa_padding = padding.PKCS1v15() if isinstance(key, rsa.RSAPrivateKey) else None
    certificate = builder.sign(key, key_type.hash(), rsa_padding=rsa_padding)
    return certificate.public_bytes(serialization.Encoding.DER)


def bare_rates(key_type: KeyType, csr_pem: bytes, seconds: float) -> tuple[float, float]:
    key, issuer, issuer_ski = _bare_issuer(key_type)
    parsed = x509.load_pem_x509_csr(csr_pem)
    subject, public_key = parsed.subject, parsed.public_key()

    def build_and_sign() -> object:
        return _bare_certificate(key_type, key, issuer, issuer_ski, subject, public_key)

    def with_csr() -> object:
        csr = x509.load_pem_x509_csr(csr_pem)
        if not csr.is_signature_valid:
            raise AssertionError("the benchmark CSR does not verify")
        return _bare_certificate(key_type, key, issuer, issuer_ski, csr.subject, csr.public_key())

    return per_second(build_and_sign, seconds), per_second(with_csr, seconds)


# --- pica in-process ---------------------------------------------------------------------------


class InProcessPica:
    """A pica runtime as a `pica serve` worker builds it, driven without HTTP."""

    def __init__(self, data_dir: Path, database_url: str | None = None) -> None:
        values = {"data_dir": str(data_dir)}
        if database_url:
            values["database_url"] = database_url
        self.runtime = build_runtime(build(values), initialise=True)
        bootstrap(self.runtime)
        self.caller = Caller(self.runtime.services.accounts.list_accounts()[0].account_id)

    def close(self) -> None:
        self.runtime.close()

    def active_root(self, key_type: KeyType) -> str:
        """A new ROOT CA with `key_type`'s key, self-signed and ACTIVE; its ARN."""
        services = self.runtime.services
        signing = SigningAlgorithm(key_type.signing_algorithm)
        arn: str = services.authorities.create(
            self.caller,
            CreateCaRequest(
                type=CaType.ROOT,
                configuration=CaConfiguration(
                    KeyAlgorithm(key_type.key_algorithm),
                    signing,
                    Subject(common_name=f"bench {key_type.label} CA"),
                ),
            ),
        )
        csr = services.authorities.get_csr(self.caller, arn).encode()
        root = services.certificates.issue(
            self.caller,
            IssueRequest(
                ca_arn=arn,
                csr=csr,
                signing_algorithm=signing,
                validity=Validity(10, ValidityType.YEARS),
                template_arn=ROOT_TEMPLATE,
            ),
        )
        got = services.certificates.get(self.caller, arn, root)
        services.authorities.import_certificate(self.caller, arn, got.certificate.encode(), None)
        return arn

    def issue_rate(self, key_type: KeyType, csr_pem: bytes, seconds: float) -> float:
        arn = self.active_root(key_type)
        request = IssueRequest(
            ca_arn=arn,
            csr=csr_pem,
            signing_algorithm=SigningAlgorithm(key_type.signing_algorithm),
            validity=Validity(30, ValidityType.DAYS),
        )
        certificates = self.runtime.services.certificates
        return per_second(lambda: certificates.issue(self.caller, request), seconds)


def ceilings(
    data_dir: Path, csr_pem: bytes, seconds: float, key_types: tuple[KeyType, ...] = KEY_TYPES
) -> list[Ceiling]:
    """pica issue() on SQLite and bare cryptography, for each key type."""
    pica = InProcessPica(data_dir)
    try:
        found = []
        for key_type in key_types:
            issued = pica.issue_rate(key_type, csr_pem, seconds)
            bare, with_csr = bare_rates(key_type, csr_pem, seconds)
            found.append(Ceiling(key_type.label, issued, bare, with_csr))
        return found
    finally:
        pica.close()


def pica_issue_rate(data_dir: Path, database_url: str, csr_pem: bytes, seconds: float) -> float:
    """pica issue() for a P-256 CA on another database (PostgreSQL)."""
    pica = InProcessPica(data_dir, database_url)
    try:
        return pica.issue_rate(KEY_TYPES[0], csr_pem, seconds)
    finally:
        pica.close()
