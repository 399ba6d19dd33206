"""What a fuzz run aims at, and how it talks to the server.

`build_targets` makes a fresh account on a live pica with a few CAs (one with CRLs and OCSP),
certificates (one revoked), CSRs and OCSP requests, so generated requests name real things.
`Sender` sends requests over one keep-alive connection and reports each answer's status; a
connection the server drops without answering is status 0, which counts as a failure.
"""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from tests.fuzz.strategies import HttpRequest, Targets
from tests.support.pki import issue, make_csr, new_root, new_root_with_revocation, rsa_key
from tests.support.server import LiveServer

DROPPED = 0


def build_targets(server: LiveServer) -> Targets:
    """A fresh account of `server` and real things in it for requests to name."""
    _, key, secret = server.new_account()
    pca = server.client(key, secret)
    bucket = f"fuzz-{uuid.uuid4().hex[:10]}"
    plain = new_root(pca)
    revoking = new_root_with_revocation(
        pca,
        {
            "CrlConfiguration": {"Enabled": True, "S3BucketName": bucket},
            "OcspConfiguration": {"Enabled": True},
        },
    )
    certificates: list[tuple[str, x509.Certificate, str]] = []
    for ca in (plain, revoking, revoking):
        certificate, chain = issue(pca, ca)
        certificates.append((ca, certificate, chain))
    revoked_ca, revoked, _ = certificates[-1]
    pca.revoke_certificate(
        CertificateAuthorityArn=revoked_ca,
        CertificateSerial=f"{revoked.serial_number:x}",
        RevocationReason="KEY_COMPROMISE",
    )
    blobs = [make_csr(), make_csr(rsa_key()), make_csr(common_name=None, dns_names=("a.test",))]
    blobs += [c.public_bytes(Encoding.PEM) for _, c, _ in certificates]
    blobs += [chain.encode() for _, _, chain in certificates]
    for ca in (plain, revoking):
        blobs.append(pca.get_certificate_authority_csr(CertificateAuthorityArn=ca)["Csr"].encode())
    requests = []
    for _, certificate, chain in certificates:
        issuer = x509.load_pem_x509_certificates(chain.encode())[0]
        builder = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA1())
        requests.append(builder.build().public_bytes(Encoding.DER))
    ca_id = revoking.rsplit("/", 1)[1]
    return Targets(
        endpoint=server.endpoint,
        region="us-east-1",
        access_key=key,
        secret_key=secret,
        ca_arns=(plain, revoking, f"{plain[:-12]}000000000000"),
        certificate_arns=tuple(
            f"{ca}/certificate/{c.serial_number:x}" for ca, c, _ in certificates
        ),
        serials=(*(f"{c.serial_number:x}" for _, c, _ in certificates), "01", "zz"),
        blobs=tuple(blobs),
        buckets=(bucket, "another-bucket", "pica-crls"),
        crl_paths=(f"/{bucket}/crl/{ca_id}.crl", f"/crl/{ca_id}.crl"),
        ocsp_requests=tuple(requests),
    )


class Sender:
    """One keep-alive HTTP connection to the server, reopened when the server closes it."""

    def __init__(self, port: int, timeout: float = 60.0) -> None:
        self._port = port
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def send(self, request: HttpRequest) -> int:
        """The answer's status, or DROPPED when the connection ended without one."""
        return self.exchange(request)[0]

    def exchange(self, request: HttpRequest) -> tuple[int, str]:
        """The answer's status and its `__type` ("" for a body that is not an AWS error)."""
        for attempt in range(2):
            connection = self._connect()
            try:
                connection.putrequest(request.method, request.path, skip_accept_encoding=True)
                for name, value in request.headers.items():
                    connection.putheader(name, value.encode("latin-1", "replace"))
                connection.putheader("Content-Length", str(len(request.body)))
                connection.endheaders(request.body)
                response = connection.getresponse()
                body = response.read()
                if response.will_close:
                    self.close()
                return response.status, _error_code(response.status, body)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server had closed: retry once on a new one.
                self.close()
                if attempt == 1:
                    return DROPPED, ""
            except (http.client.HTTPException, OSError, ValueError):
                self.close()
                return DROPPED, ""
        return DROPPED, ""

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                "127.0.0.1", self._port, timeout=self._timeout
            )
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _error_code(status: int, body: bytes) -> str:
    if status < 400 or not body.startswith(b"{"):
        return ""
    try:
        code = json.loads(body).get("__type", "")
    except ValueError:
        return ""
    return code if isinstance(code, str) else ""


def is_server_error(status: int) -> bool:
    """5xx other than 501 (an operation pica does not build yet), or no answer at all."""
    return status == DROPPED or (status >= 500 and status != 501)


def server_errors_in(log_lines: Iterable[str]) -> list[str]:
    """Lines of a server log that record an unexpected exception."""
    return [line for line in log_lines if "internal failure" in line or "Traceback" in line]
