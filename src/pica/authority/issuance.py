"""Building and signing certificates: the one place where a CA private key signs a TBS.

The template decides the basic constraints, key usage and extended key usage; the CSR supplies
the subject, the public key and the subject alternative names; the CA supplies the issuer name
and authority key identifier. Serial numbers are 128-bit CSPRNG values (RFC 5280: positive, at
most 20 octets); the store's unique constraint backs up the randomness.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)

from pica.authority.algorithms import signature_scheme
from pica.authority.model import KeyUsageFlags, SigningAlgorithm
from pica.authority.templates import Template
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


def _template_key_usage(template: Template, public_key: CertificatePublicKeyTypes) -> KeyUsageFlags:
    """keyEncipherment only makes sense for RSA keys (RFC 5480 forbids it for EC keys)."""
    flags = template.key_usage
    if flags.key_encipherment and not isinstance(public_key, rsa.RSAPublicKey):
        return dataclasses.replace(flags, key_encipherment=False)
    return flags


@dataclass(frozen=True)
class IssuerIdentity:
    """Who signs: the issuer's name, key and key identifier (for the AKI)."""

    name: x509.Name
    private_key: CertificateIssuerPrivateKeyTypes
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


def sign_certificate(
    *,
    issuer: IssuerIdentity,
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    serial: int,
    window: ValidityWindow,
    template: Template,
    signing_algorithm: SigningAlgorithm,
    subject_alternative_names: x509.SubjectAlternativeName | None,
    extra_extensions: tuple[x509.Extension[x509.ExtensionType], ...] = (),
) -> x509.Certificate:
    """Assemble the certificate the template describes and sign it with the issuer's key."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.name)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(window.not_before)
        .not_valid_after(window.not_after)
        .add_extension(
            x509.BasicConstraints(ca=template.is_ca, path_length=template.path_length),
            critical=template.basic_constraints_critical,
        )
        .add_extension(
            key_usage_extension(_template_key_usage(template, public_key)), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier(
                key_identifier=issuer.key_identifier,
                authority_cert_issuer=None,
                authority_cert_serial_number=None,
            ),
            critical=False,
        )
    )
    if template.extended_key_usage:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(list(template.extended_key_usage)),
            critical=template.extended_key_usage_critical,
        )
    if subject_alternative_names is not None:
        # RFC 5280 4.2.1.6: with an empty subject the SAN extension must be critical.
        builder = builder.add_extension(subject_alternative_names, critical=len(subject) == 0)
    for extension in extra_extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    scheme = signature_scheme(signing_algorithm)
    return builder.sign(issuer.private_key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())


def sign_csr(
    *,
    subject: x509.Name,
    private_key: CertificateIssuerPrivateKeyTypes,
    signing_algorithm: SigningAlgorithm,
    extensions: tuple[x509.Extension[x509.ExtensionType], ...] = (),
) -> x509.CertificateSigningRequest:
    """The CA's own CSR, signed with its key and the configured signing algorithm."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    for extension in extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    scheme = signature_scheme(signing_algorithm)
    return builder.sign(private_key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())
