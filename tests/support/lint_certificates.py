"""Certificates for the lint gate's unit tests, built with cryptography directly (no pica
profile code): a clean end-entity by default (`Spec`), changed one defect at a time, so each test
names the rule it expects to fire. Issuers are self-signed roots signed with real keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from pica.authority.algorithms import signature_scheme
from pica.authority.certificate_parts import CertificateParts
from pica.authority.lint.finding import Finding
from pica.authority.lint.gate import LintGate, LintMode
from pica.authority.model import SigningAlgorithm
from tests.support.pki import key_usage

NOW = datetime(2030, 1, 1, tzinfo=UTC)
CA_NOT_BEFORE = NOW - timedelta(days=365)
CA_NOT_AFTER = NOW + timedelta(days=3650)

Ext = tuple[x509.ExtensionType, bool]


def cn(value: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, value)])


@cache
def private_key(kind: str) -> CertificateIssuerPrivateKeyTypes:
    """One key per kind for the whole module: key generation is not what is under test."""
    if kind.startswith("rsa"):
        return rsa.generate_private_key(65537, 2048)
    if kind.startswith("ec"):
        return ec.generate_private_key(ec.SECP256R1())
    if kind.startswith("mldsa44"):
        return mldsa.MLDSA44PrivateKey.generate()
    if kind.startswith("mldsa87"):
        return mldsa.MLDSA87PrivateKey.generate()
    return mldsa.MLDSA65PrivateKey.generate()


@dataclass(frozen=True)
class Issuer:
    """A self-signed root CA: its key, certificate and the algorithm it signs with."""

    key: CertificateIssuerPrivateKeyTypes
    certificate: x509.Certificate
    signing_algorithm: SigningAlgorithm


ISSUER_ALGORITHMS = {
    "rsa": SigningAlgorithm.SHA256WITHRSA,
    "ec": SigningAlgorithm.SHA256WITHECDSA,
    "mldsa": SigningAlgorithm.ML_DSA_65,
}


def real_sign(
    builder: x509.CertificateBuilder,
    key: CertificateIssuerPrivateKeyTypes,
    algorithm: SigningAlgorithm,
) -> x509.Certificate:
    scheme = signature_scheme(algorithm)
    return builder.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())


@cache
def issuer(kind: str = "ec") -> Issuer:
    key = private_key(f"{kind}-ca")
    name = cn(f"lint {kind} root")
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(1 << 100)
        .not_valid_before(CA_NOT_BEFORE)
        .not_valid_after(CA_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public),
            critical=False,
        )
    )
    algorithm = ISSUER_ALGORITHMS[kind]
    return Issuer(key, real_sign(builder, key, algorithm), algorithm)


def ca_key_usage() -> x509.KeyUsage:
    return key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True)


def aki_for(certificate: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


@dataclass
class Spec:
    """A certificate to build: a clean end-entity by default, each field overridable."""

    subject: x509.Name = field(default_factory=lambda: cn("leaf.example.com"))
    issuer_name: x509.Name | None = None  # default: the issuer's subject
    subject_key: str = "ec"
    not_before: datetime = NOW
    not_after: datetime = NOW + timedelta(days=30)
    serial: int = 1 << 120
    # Extensions by OID; None drops one of the defaults.
    extensions: dict[x509.ObjectIdentifier, Ext | None] = field(default_factory=dict)


def end_entity_extensions(
    public: CertificatePublicKeyTypes, ca: x509.Certificate | None
) -> dict[x509.ObjectIdentifier, Ext]:
    found: dict[x509.ObjectIdentifier, Ext] = {
        ExtensionOID.BASIC_CONSTRAINTS: (x509.BasicConstraints(ca=False, path_length=None), False),
        ExtensionOID.KEY_USAGE: (key_usage(digital_signature=True), True),
        ExtensionOID.EXTENDED_KEY_USAGE: (
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
            False,
        ),
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME: (
            x509.SubjectAlternativeName([x509.DNSName("leaf.example.com")]),
            False,
        ),
        ExtensionOID.SUBJECT_KEY_IDENTIFIER: (
            x509.SubjectKeyIdentifier.from_public_key(public),
            False,
        ),
    }
    if ca is not None:
        found[ExtensionOID.AUTHORITY_KEY_IDENTIFIER] = (aki_for(ca), False)
    return found


def parts(spec: Spec, ca: Issuer | None) -> CertificateParts:
    """The unsigned certificate's fields; `ca` None makes it self-signed (issuer name =
    subject)."""
    public = private_key(spec.subject_key).public_key()
    issuer_name = spec.issuer_name
    if issuer_name is None:
        issuer_name = ca.certificate.subject if ca is not None else spec.subject
    extensions: dict[x509.ObjectIdentifier, Ext | None] = {
        **end_entity_extensions(public, ca.certificate if ca else None),
        **spec.extensions,
    }
    return CertificateParts(
        subject=spec.subject,
        issuer=issuer_name,
        public_key=public,
        serial=spec.serial,
        not_before=spec.not_before,
        not_after=spec.not_after,
        extensions=tuple(
            x509.Extension(value[0].oid, value[1], value[0])
            for value in extensions.values()
            if value is not None
        ),
    )


def build(spec: Spec, ca: Issuer | None) -> x509.CertificateBuilder:
    """The unsigned certificate; `ca` None makes it self-signed (issuer name = subject)."""
    return parts(spec, ca).builder()


def subordinate_spec(path_length: int | None = 0) -> Spec:
    return Spec(
        subject=cn("lint subordinate"),
        extensions={
            ExtensionOID.BASIC_CONSTRAINTS: (
                x509.BasicConstraints(ca=True, path_length=path_length),
                True,
            ),
            ExtensionOID.KEY_USAGE: (ca_key_usage(), True),
            ExtensionOID.EXTENDED_KEY_USAGE: None,
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME: None,
        },
    )


def root_spec() -> Spec:
    spec = subordinate_spec(None)
    spec.subject = cn("lint self-signed root")
    return spec


def codes(found: tuple[Finding, ...] | list[Finding]) -> set[str]:
    return {finding.code for finding in found}


STRUCTURAL_ONLY = LintGate(LintMode.OFF)
SHAPED = LintGate(LintMode.SHAPED)
ALL = LintGate(LintMode.ALL)


def lint(
    gate: LintGate,
    spec: Spec,
    ca: Issuer | None,
    *,
    shaped: bool = False,
    is_ca: bool = False,
    algorithm: SigningAlgorithm | None = None,
) -> tuple[Finding, ...]:
    """The gate's findings on `spec`, which must be the same whether the gate parses the draft
    back, reads the parts with the draft beside them (issuance with a key in a token), or
    reads the parts of the builder alone (issuance with a key in memory)."""
    signing = algorithm or (ca.signing_algorithm if ca else SigningAlgorithm.SHA256WITHECDSA)
    issuer_certificate = ca.certificate if ca else None
    fields = parts(spec, ca)
    parsed = gate.findings(
        fields.builder(),
        signing_algorithm=signing,
        issuer=issuer_certificate,
        shaped=shaped,
        is_ca=is_ca,
    )
    read = gate.findings(
        gate.draft(fields.builder(), signing_algorithm=signing, shaped=shaped, is_ca=is_ca),
        signing_algorithm=signing,
        issuer=issuer_certificate,
        shaped=shaped,
        is_ca=is_ca,
        parts=fields,
    )
    alone = gate.findings(
        fields.builder(),
        signing_algorithm=signing,
        issuer=issuer_certificate,
        shaped=shaped,
        is_ca=is_ca,
        parts=fields,
    )
    assert read == parsed
    assert alone == parsed
    return parsed


def with_extensions(**extensions: Ext | None) -> dict[x509.ObjectIdentifier, Ext | None]:
    """Extensions by short name (bc, ku, eku, san, ski, aki) for `Spec.extensions`."""
    by_name = {
        "bc": ExtensionOID.BASIC_CONSTRAINTS,
        "ku": ExtensionOID.KEY_USAGE,
        "eku": ExtensionOID.EXTENDED_KEY_USAGE,
        "san": ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        "ski": ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        "aki": ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    }
    return {by_name[name]: value for name, value in extensions.items()}


# Empty SEQUENCEs: cryptography (>= 51) refuses to build an empty EKU or SAN, a custom extension
# still carries one.
EMPTY_EKU = x509.UnrecognizedExtension(ExtensionOID.EXTENDED_KEY_USAGE, b"\x30\x00")
EMPTY_SAN = x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x00")
# cryptography refuses EDIPartyName (which AWS's GeneralName allows); a SAN carrying one,
# hand-encoded: GeneralNames { ediPartyName { partyName [1] UTF8String "edi" } }.
EDI_SAN = x509.UnrecognizedExtension(
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x09\xa5\x07\xa1\x05\x0c\x03edi"
)
