"""Parsing and checking certificate signing requests (PKCS#10) as AWS accepts them."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from pica.errors import MalformedCsr

_PEM_MARKERS = (b"-----BEGIN CERTIFICATE REQUEST-----", b"-----BEGIN NEW CERTIFICATE REQUEST-----")


def load_csr(data: bytes) -> x509.CertificateSigningRequest:
    """Parse PEM (either header) or DER, and verify the request's self-signature."""
    try:
        stripped = data.strip()
        if stripped.startswith(b"-----BEGIN NEW CERTIFICATE REQUEST-----"):
            stripped = stripped.replace(b"NEW CERTIFICATE REQUEST", b"CERTIFICATE REQUEST")
        if stripped.startswith(_PEM_MARKERS[0]):
            csr = x509.load_pem_x509_csr(stripped)
        else:
            csr = x509.load_der_x509_csr(data)
        # Touch the parts issuance needs so a malformed body fails here, not later.
        csr.subject  # noqa: B018
        csr.extensions  # noqa: B018
        valid = csr.is_signature_valid
        csr.public_key()
    except (ValueError, UnsupportedAlgorithm, TypeError) as exc:
        raise MalformedCsr(f"The certificate signing request is invalid: {exc}") from exc
    if not valid:
        raise MalformedCsr("The certificate signing request signature is not valid.")
    return csr
