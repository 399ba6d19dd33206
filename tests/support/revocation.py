"""Test-side revocation helpers: revoke through the API, read the CRL and the OCSP answer.

A relying party sees a revocation in two places, the CRL at the certificate's CDP URL (published
within about one poll interval) and the OCSP responder (at once); these read both the way a
client does, over plain HTTP.
"""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from tests.support.polling import wait_until

PUBLISH_DEADLINE = 15.0  # seconds; pica publishes within about one poll interval
OCSP_REQUEST = "application/ocsp-request"
OCSP_RESPONSE = "application/ocsp-response"

# Each AWS RevocationReason and the reasonCode (RFC 5280 5.3.1) a relying party reads for it,
# written out here rather than taken from pica, so that a wrong mapping in pica fails a test.
REASON_CODES = {
    "UNSPECIFIED": x509.ReasonFlags.unspecified,
    "KEY_COMPROMISE": x509.ReasonFlags.key_compromise,
    "CERTIFICATE_AUTHORITY_COMPROMISE": x509.ReasonFlags.ca_compromise,
    "AFFILIATION_CHANGED": x509.ReasonFlags.affiliation_changed,
    "SUPERSEDED": x509.ReasonFlags.superseded,
    "CESSATION_OF_OPERATION": x509.ReasonFlags.cessation_of_operation,
    "PRIVILEGE_WITHDRAWN": x509.ReasonFlags.privilege_withdrawn,
    "A_A_COMPROMISE": x509.ReasonFlags.aa_compromise,
}


def revoke(
    pca: Any, ca: str, certificate: x509.Certificate, reason: str = "KEY_COMPROMISE"
) -> None:
    pca.revoke_certificate(
        CertificateAuthorityArn=ca,
        CertificateSerial=f"{certificate.serial_number:x}",
        RevocationReason=reason,
    )


def fetch_crl(url: str) -> bytes | None:
    """The DER CRL at `url`, or None while there is none (404)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body: bytes = response.read()
            assert response.headers["Content-Type"] == "application/pkix-crl"
            return body
    except urllib.error.HTTPError as error:
        error.close()
        return None


def wait_for_crl(
    url: str, condition: Callable[[x509.CertificateRevocationList], bool]
) -> x509.CertificateRevocationList:
    """Poll the CRL at `url` until one satisfies `condition` (AssertionError past the deadline)."""

    # Wrapped in a tuple: a CRL with no entries has length 0, so it is itself falsy.
    def satisfying() -> tuple[x509.CertificateRevocationList] | None:
        body = fetch_crl(url)
        crl = None if body is None else x509.load_der_x509_crl(body)
        return (crl,) if crl is not None and condition(crl) else None

    (found,) = wait_until(
        satisfying, timeout=PUBLISH_DEADLINE, interval=0.1, what=f"a CRL at {url} to satisfy it"
    )
    return found


def crl_reason(entry: x509.RevokedCertificate) -> x509.ReasonFlags | None:
    """The entry's reasonCode, None when it has none (RFC 5280: left out for unspecified)."""
    try:
        return entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return None


def der_request(issuer: x509.Certificate, certificate: x509.Certificate) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA1())
    return builder.build().public_bytes(Encoding.DER)


def http(
    url: str, body: bytes | None = None, content_type: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request (POST when there is a body): status, headers and body."""
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if content_type is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def ocsp_answer(url: str, issuer: x509.Certificate, certificate: x509.Certificate) -> Any:
    """The responder's answer about `certificate`, asked by POST as `openssl ocsp` asks."""
    status, _, body = http(url, der_request(issuer, certificate), OCSP_REQUEST)
    assert status == 200
    return ocsp.load_der_ocsp_response(body)


def write_pem(path: Path, certificate: x509.Certificate) -> Path:
    path.write_bytes(certificate.public_bytes(Encoding.PEM))
    return path


def openssl_ocsp(
    workdir: Path, issuer: x509.Certificate, *certificates: x509.Certificate, url: str
) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """Run `openssl ocsp` (POST, with a nonce) for the certificates; its output and response."""
    ca = write_pem(workdir / "ca.pem", issuer)
    args = ["openssl", "ocsp", "-issuer", str(ca), "-CAfile", str(ca), "-url", url]
    for index, certificate in enumerate(certificates):
        args += ["-cert", str(write_pem(workdir / f"cert{index}.pem", certificate))]
    response = workdir / "response.der"
    args += ["-resp_text", "-respout", str(response), "-timeout", "20"]
    completed = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return completed, response.read_bytes() if response.exists() else b""
