"""The fields of a certificate before it is serialised, kept so they can be read without a parse.

cryptography's `CertificateBuilder` keeps what it is given private and serialises only by
signing. Issuance keeps the same fields here: the builder is made from them, and the lint gate's
structural rules read them directly instead of parsing the serialised draft's extensions back
(~100 µs a certificate, the largest share of the gate's cost).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes


@dataclass(frozen=True)
class CertificateParts:
    """Everything a to-be-signed certificate holds but its signature algorithm."""

    subject: x509.Name
    issuer: x509.Name
    public_key: CertificatePublicKeyTypes
    serial: int
    not_before: datetime
    not_after: datetime
    extensions: tuple[x509.Extension[x509.ExtensionType], ...]

    def builder(self) -> x509.CertificateBuilder:
        builder = (
            x509.CertificateBuilder()
            .subject_name(self.subject)
            .issuer_name(self.issuer)
            .public_key(self.public_key)
            .serial_number(self.serial)
            .not_valid_before(self.not_before)
            .not_valid_after(self.not_after)
        )
        for extension in self.extensions:
            builder = builder.add_extension(extension.value, critical=extension.critical)
        return builder
