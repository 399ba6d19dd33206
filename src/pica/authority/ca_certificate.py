"""Checks on a CA certificate (and chain) being imported, per the rules of
ImportCertificateAuthorityCertificate: the key must be the CA's, a root is self-signed with no
chain, a subordinate is not self-signed and comes with a chain that links up to a self-signed
root, basicConstraints is present, critical and CA:TRUE, only the extensions AWS allows may be
critical, and the path lengths and name constraints of the chain are respected.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtensionOID

from pica.authority.model import CaType
from pica.authority.name_constraints import path_violation
from pica.errors import CertificateMismatch, InvalidRequest, MalformedCertificate

# Extensions AWS accepts as critical in an imported CA certificate.
_CRITICAL_ALLOWED = frozenset(
    {
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.CERTIFICATE_POLICIES,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.INHIBIT_ANY_POLICY,
        ExtensionOID.ISSUER_ALTERNATIVE_NAME,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.NAME_CONSTRAINTS,
        ExtensionOID.POLICY_MAPPINGS,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.SUBJECT_DIRECTORY_ATTRIBUTES,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.SUBJECT_INFORMATION_ACCESS,
    }
)


def load_certificates(data: bytes, what: str) -> list[x509.Certificate]:
    """Parse one or more PEM certificates (or a single DER one)."""
    try:
        if b"-----BEGIN" in data:
            certificates = x509.load_pem_x509_certificates(data)
        else:
            certificates = [x509.load_der_x509_certificate(data)]
        for certificate in certificates:
            certificate.extensions  # noqa: B018  (parse them now, fail here)
            certificate.public_key()
    except (
        ValueError,
        UnsupportedAlgorithm,
        TypeError,
        # Extensions cryptography cannot read (a name form it has no type for, an extension
        # twice): pica could not use such a certificate, so it is refused here, not a 500 later.
        x509.DuplicateExtension,
        x509.UnsupportedGeneralNameType,
    ) as exc:
        raise MalformedCertificate(f"The {what} could not be parsed: {exc}") from exc
    if not certificates:
        raise MalformedCertificate(f"The {what} contains no certificate.")
    return certificates


def same_public_key(a: CertificatePublicKeyTypes, b: CertificatePublicKeyTypes) -> bool:
    encoding, fmt = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_bytes(encoding, fmt) == b.public_bytes(encoding, fmt)


def is_self_signed(certificate: x509.Certificate) -> bool:
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def basic_constraints(
    certificate: x509.Certificate,
) -> x509.Extension[x509.BasicConstraints] | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return None


def path_length(certificate: x509.Certificate) -> int | None:
    ext = basic_constraints(certificate)
    return None if ext is None else ext.value.path_length


@dataclass(frozen=True)
class ImportedCaCertificate:
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def _check_ca_structure(certificate: x509.Certificate, what: str) -> None:
    bc = basic_constraints(certificate)
    if bc is None or not bc.critical or not bc.value.ca:
        raise MalformedCertificate(
            f"The {what} must contain a critical basicConstraints extension with CA:TRUE."
        )
    for extension in certificate.extensions:
        if extension.critical and extension.oid not in _CRITICAL_ALLOWED:
            raise MalformedCertificate(
                f"The {what} marks the extension {extension.oid.dotted_string} critical, "
                "which is not allowed."
            )


def _check_issued_by(child: x509.Certificate, parent: x509.Certificate) -> None:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm) as exc:
        raise CertificateMismatch(
            "The certificate authority certificate you are importing does not comply with "
            f"conditions specified in the certificate that signed it: {exc or 'bad signature'}"
        ) from exc


def validate_import(
    *,
    ca_type: CaType,
    ca_public_key: CertificatePublicKeyTypes,
    certificate_data: bytes,
    chain_data: bytes | None,
    now: datetime,
) -> ImportedCaCertificate:
    """Validate an imported CA certificate and chain; return them parsed."""
    certificates = load_certificates(certificate_data, "certificate")
    if len(certificates) != 1:
        raise MalformedCertificate("The Certificate member must contain exactly one certificate.")
    certificate = certificates[0]
    chain: list[x509.Certificate] = (
        load_certificates(chain_data, "certificate chain")
        if chain_data and chain_data.strip()
        else []
    )
    if not same_public_key(certificate.public_key(), ca_public_key):
        raise CertificateMismatch(
            "The public key of the certificate does not match the private key of the "
            "certificate authority."
        )
    _check_ca_structure(certificate, "certificate")
    if certificate.not_valid_after_utc <= now:
        raise InvalidRequest("The certificate authority certificate has expired.")
    self_signed = is_self_signed(certificate)
    if ca_type is CaType.ROOT:
        if not self_signed:
            raise InvalidRequest(
                "The certificate for a ROOT certificate authority must be self-signed."
            )
        if chain:
            raise InvalidRequest(
                "A certificate chain must not be provided for a ROOT certificate authority."
            )
        return ImportedCaCertificate(certificate, ())
    if self_signed:
        raise InvalidRequest(
            "A self-signed certificate cannot be imported for a SUBORDINATE certificate authority."
        )
    if not chain:
        raise InvalidRequest(
            "A certificate chain is required for a SUBORDINATE certificate authority."
        )
    if any(c == certificate for c in chain):
        raise InvalidRequest("The certificate chain must not contain the certificate itself.")
    for index, parent in enumerate(chain):
        _check_ca_structure(parent, f"certificate chain entry {index + 1}")
    links = [certificate, *chain]
    for depth, (child, parent) in enumerate(itertools.pairwise(links)):
        _check_issued_by(child, parent)
        limit = path_length(parent)
        # Below `parent` sit `depth + 1` CA certificates, the imported one included.
        if limit is not None and depth + 1 > limit:
            raise CertificateMismatch(
                "The certificate authority certificate exceeds the path length allowed by "
                "its issuer chain."
            )
    if not is_self_signed(chain[-1]):
        raise InvalidRequest(
            "The certificate chain must end with the self-signed root certificate."
        )
    violation = path_violation(links)
    if violation is not None:
        raise CertificateMismatch(
            "The certificate authority certificate you are importing does not comply with "
            f"conditions specified in the certificate that signed it: {violation}"
        )
    return ImportedCaCertificate(certificate, tuple(chain))
