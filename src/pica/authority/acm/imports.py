"""ImportCertificate's checks: one PEM certificate, an unencrypted PEM private key of a type ACM
supports that belongs to it, and an optional PEM chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pica.authority.acm.keys import AcmPrivateKey, key_algorithm_of
from pica.authority.acm.model import AcmKeyAlgorithm
from pica.authority.ca_certificate import same_public_key
from pica.authority.pem import certificate_pem
from pica.errors import InvalidArgs, InvalidRequest


@dataclass(frozen=True)
class ImportedMaterial:
    certificate_pem: str
    chain_pem: str | None
    key: AcmPrivateKey
    key_algorithm: AcmKeyAlgorithm


def _certificates(data: bytes, what: str) -> list[x509.Certificate]:
    try:
        found = x509.load_pem_x509_certificates(data)
    except ValueError:
        found = []
    if not found:
        raise InvalidRequest(f"The {what} is not a PEM-encoded X.509 certificate.")
    return found


def check_import(certificate: bytes, private_key: bytes, chain: bytes | None) -> ImportedMaterial:
    certificates = _certificates(certificate, "certificate")
    if len(certificates) != 1:
        raise InvalidRequest("The certificate field contains more than one certificate.")
    leaf = certificates[0]
    try:
        key = serialization.load_pem_private_key(private_key, password=None)
    except TypeError:
        raise InvalidRequest("The private key must not be encrypted.") from None
    except ValueError:
        raise InvalidRequest("The private key is not a PEM-encoded private key.") from None
    try:
        algorithm = key_algorithm_of(key)
    except InvalidArgs as error:
        raise InvalidRequest(f"The private key is not supported: {error.message}") from None
    if not same_public_key(key.public_key(), leaf.public_key()):  # type: ignore[arg-type]
        raise InvalidRequest("The private key does not match the public key in the certificate.")
    chain_pem = None
    if chain is not None:
        chain_pem = "".join(certificate_pem(c) for c in _certificates(chain, "certificate chain"))
    return ImportedMaterial(certificate_pem(leaf), chain_pem, cast(AcmPrivateKey, key), algorithm)
