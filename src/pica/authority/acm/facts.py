"""What DescribeCertificate and ListCertificates report of a certificate, read from the
certificate itself (so an imported one is described exactly as a pica-issued one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID

from pica.authority.acm.keys import key_algorithm_of
from pica.authority.acm.model import AcmKeyAlgorithm

_KEY_USAGES = (
    ("digital_signature", "DIGITAL_SIGNATURE"),
    ("content_commitment", "NON_REPUDIATION"),
    ("key_encipherment", "KEY_ENCIPHERMENT"),
    ("data_encipherment", "DATA_ENCIPHERMENT"),
    ("key_agreement", "KEY_AGREEMENT"),
    ("key_cert_sign", "CERTIFICATE_SIGNING"),
    ("crl_sign", "CRL_SIGNING"),
)
_EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "TLS_WEB_SERVER_AUTHENTICATION",
    ExtendedKeyUsageOID.CLIENT_AUTH: "TLS_WEB_CLIENT_AUTHENTICATION",
    ExtendedKeyUsageOID.CODE_SIGNING: "CODE_SIGNING",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "EMAIL_PROTECTION",
    ExtendedKeyUsageOID.TIME_STAMPING: "TIME_STAMPING",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSP_SIGNING",
    x509.ObjectIdentifier("1.3.6.1.5.5.7.3.5"): "IPSEC_END_SYSTEM",
    x509.ObjectIdentifier("1.3.6.1.5.5.7.3.6"): "IPSEC_TUNNEL",
    x509.ObjectIdentifier("1.3.6.1.5.5.7.3.7"): "IPSEC_USER",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "ANY",
}


@dataclass(frozen=True)
class ExtendedKeyUsageName:
    name: str
    oid: str


@dataclass(frozen=True)
class CertificateFacts:
    serial: int
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    key_algorithm: AcmKeyAlgorithm
    signature_algorithm: str
    key_usages: tuple[str, ...]
    extended_key_usages: tuple[ExtendedKeyUsageName, ...]
    common_name: str | None
    dns_names: tuple[str, ...]


def _acm_name(name: x509.Name) -> str:
    """ACM's spelling of a name: its attributes most significant first (`C=US,CN=x`)."""
    return ",".join(rdn.rfc4514_string() for rdn in name.rdns)


_SIGNATURE_ALGORITHMS = {
    SignatureAlgorithmOID.RSA_WITH_SHA256: "SHA256WITHRSA",
    SignatureAlgorithmOID.RSA_WITH_SHA384: "SHA384WITHRSA",
    SignatureAlgorithmOID.RSA_WITH_SHA512: "SHA512WITHRSA",
    SignatureAlgorithmOID.RSASSA_PSS: "RSASSA_PSS",
    SignatureAlgorithmOID.ECDSA_WITH_SHA256: "SHA256WITHECDSA",
    SignatureAlgorithmOID.ECDSA_WITH_SHA384: "SHA384WITHECDSA",
    SignatureAlgorithmOID.ECDSA_WITH_SHA512: "SHA512WITHECDSA",
}


def _signature_algorithm(certificate: x509.Certificate) -> str:
    """ACM's names (SHA256WITHRSA, SHA384WITHECDSA, ...); the dotted OID for others."""
    oid = certificate.signature_algorithm_oid
    return _SIGNATURE_ALGORITHMS.get(oid, oid.dotted_string)


@lru_cache(maxsize=4096)
def certificate_facts(pem: str) -> CertificateFacts:
    certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    key_usages: list[str] = []
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        key_usages = [name for attribute, name in _KEY_USAGES if getattr(usage, attribute)]
        if usage.key_agreement:
            key_usages += [
                n
                for a, n in (("encipher_only", "ENCIPHER_ONLY"), ("decipher_only", "DECIPHER_ONLY"))
                if getattr(usage, a)
            ]
    except x509.ExtensionNotFound:
        pass
    ekus: list[ExtendedKeyUsageName] = []
    try:
        for oid in certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value:
            ekus.append(ExtendedKeyUsageName(_EKU_NAMES.get(oid, "CUSTOM"), oid.dotted_string))
    except x509.ExtensionNotFound:
        pass
    dns_names: tuple[str, ...] = ()
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = tuple(san.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        pass
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(common_names[0].value) if common_names else None
    return CertificateFacts(
        serial=certificate.serial_number,
        subject=_acm_name(certificate.subject),
        issuer=_acm_name(certificate.issuer),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        key_algorithm=key_algorithm_of(certificate.public_key()),
        signature_algorithm=_signature_algorithm(certificate),
        key_usages=tuple(key_usages),
        extended_key_usages=tuple(ekus),
        common_name=common_name,
        dns_names=dns_names,
    )
