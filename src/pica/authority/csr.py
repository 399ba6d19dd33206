"""Parsing and checking certificate signing requests (PKCS#10) as AWS accepts them."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from pica.errors import MalformedCsr

_PEM_MARKERS = (b"-----BEGIN CERTIFICATE REQUEST-----", b"-----BEGIN NEW CERTIFICATE REQUEST-----")


@dataclass(frozen=True)
class LoadedCsr:
    """A parsed CSR with the parts issuance reads more than once, read once: cryptography
    builds new Python objects on every `public_key()` (~15 µs) and `subject`."""

    request: x509.CertificateSigningRequest
    public_key: CertificatePublicKeyTypes
    subject: x509.Name

    @classmethod
    def of(cls, request: x509.CertificateSigningRequest) -> LoadedCsr:
        return cls(request, request.public_key(), request.subject)


def load_csr(data: bytes) -> LoadedCsr:
    """Parse PEM (either header) or DER, and verify the request's self-signature."""
    try:
        stripped = data.strip()
        if stripped.startswith(b"-----BEGIN NEW CERTIFICATE REQUEST-----"):
            stripped = stripped.replace(b"NEW CERTIFICATE REQUEST", b"CERTIFICATE REQUEST")
        if stripped.startswith(_PEM_MARKERS[0]):
            csr = x509.load_pem_x509_csr(stripped)
        else:
            csr = x509.load_der_x509_csr(data)
        # Read the parts issuance needs so a malformed body fails here, not later.
        loaded = LoadedCsr.of(csr)
        csr.extensions  # noqa: B018
        valid = csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm, TypeError) as exc:
        raise MalformedCsr(f"The certificate signing request is invalid: {exc}") from exc
    if not valid:
        raise MalformedCsr("The certificate signing request signature is not valid.")
    return loaded
