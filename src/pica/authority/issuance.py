"""Building certificates and CSRs, and signing them (through `pica.authority.signing`).

`pica.authority.profiles` decides the subject and extensions; this module adds what the CA
computes (SKI from the subject key, AKI from the issuer), serial and validity, and signs.
Serial numbers are 128-bit CSPRNG values (RFC 5280: positive, at most 20 octets); the store's
unique constraint backs up the randomness.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from pica.authority.algorithms import signature_scheme
from pica.authority.certificate_parts import CertificateParts
from pica.authority.model import KeyUsageFlags, SigningAlgorithm
from pica.authority.ports import Signer
from pica.authority.signing import sign_certificate
from pica.authority.signing import sign_csr as sign_signing_request
from pica.authority.validity import ValidityWindow

_SERIAL_FLOOR = 1 << 124


def new_serial() -> int:
    """A positive 128-bit random serial whose hex form always has 32 digits."""
    while True:
        serial = secrets.randbits(128)
        if serial >= _SERIAL_FLOOR:
            return serial


def key_usage_extension(flags: KeyUsageFlags) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=flags.digital_signature,
        content_commitment=flags.non_repudiation,
        key_encipherment=flags.key_encipherment,
        data_encipherment=flags.data_encipherment,
        key_agreement=flags.key_agreement,
        key_cert_sign=flags.key_cert_sign,
        crl_sign=flags.crl_sign,
        encipher_only=flags.encipher_only if flags.key_agreement else False,
        decipher_only=flags.decipher_only if flags.key_agreement else False,
    )


@dataclass(frozen=True)
class IssuerIdentity:
    """Who signs: the issuer's name, the signer of its key, and key identifier (for the AKI)."""

    name: x509.Name
    signer: Signer
    key_identifier: bytes


def issuer_key_identifier(
    ca_certificate: x509.Certificate | None, public_key: CertificatePublicKeyTypes
) -> bytes:
    """The CA's SKI as its certificate states it, else derived from the key (RFC 5280 method 1)."""
    if ca_certificate is not None:
        try:
            return ca_certificate.extensions.get_extension_for_class(
                x509.SubjectKeyIdentifier
            ).value.digest
        except x509.ExtensionNotFound:
            pass
    return x509.SubjectKeyIdentifier.from_public_key(public_key).digest


def certificate_parts(
    *,
    issuer: IssuerIdentity,
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    serial: int,
    window: ValidityWindow,
    extensions: tuple[x509.Extension[x509.ExtensionType], ...],
) -> CertificateParts:
    """The unsigned certificate: the given extensions plus the SKI and AKI the CA computes."""
    computed = (
        x509.Extension(
            x509.SubjectKeyIdentifier.oid,
            False,
            x509.SubjectKeyIdentifier.from_public_key(public_key),
        ),
        x509.Extension(
            x509.AuthorityKeyIdentifier.oid,
            False,
            x509.AuthorityKeyIdentifier(
                key_identifier=issuer.key_identifier,
                authority_cert_issuer=None,
                authority_cert_serial_number=None,
            ),
        ),
    )
    return CertificateParts(
        subject=subject,
        issuer=issuer.name,
        public_key=public_key,
        serial=serial,
        not_before=window.not_before,
        not_after=window.not_after,
        extensions=(*extensions, *computed),
    )


def sign(
    unsigned: x509.CertificateBuilder | x509.Certificate,
    signer: Signer,
    signing_algorithm: SigningAlgorithm,
) -> x509.Certificate:
    """`unsigned` (a builder, or the lint gate's draft of it) signed by the issuer's signer."""
    return sign_certificate(unsigned, signer, signature_scheme(signing_algorithm))


def sign_csr(
    *,
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    signer: Signer,
    signing_algorithm: SigningAlgorithm,
    extensions: tuple[x509.Extension[x509.ExtensionType], ...] = (),
) -> x509.CertificateSigningRequest:
    """A CSR for `public_key` (a CA's own, a delegated responder's), signed by its key."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    for extension in extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    return sign_signing_request(builder, public_key, signer, signature_scheme(signing_algorithm))
