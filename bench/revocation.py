"""CRL size and signing time for 10k, 100k and 1M revoked entries, and OCSP responses/second.

Run: `.venv/bin/python -m bench.revocation [max_entries] [ocsp_requests]`.
"""

from __future__ import annotations

import http.client
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from pica.adapters.keystore.file_signer import SoftwareSigner
from pica.authority.crl import build_crl
from pica.authority.issuance import new_serial
from pica.authority.model import RevocationReason, RevokedEntry, SigningAlgorithm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.pki import ec_key, make_csr, new_root
from tests.support.revocation import der_request
from tests.support.server import LiveServer, free_port

NOW = datetime.now(UTC).replace(microsecond=0)
REASONS = list(RevocationReason)


def entries(count: int) -> list[RevokedEntry]:
    return [
        RevokedEntry(new_serial(), NOW - timedelta(seconds=i % 86400), REASONS[i % len(REASONS)])
        for i in range(count)
    ]


def crl_figures(max_entries: int) -> None:
    print("CRL build + sign (in-process, cryptography):")
    keys = {
        "EC P-256 / SHA256WITHECDSA": (ec.generate_private_key(ec.SECP256R1()), "SHA256WITHECDSA"),
        "RSA-2048 / SHA256WITHRSA": (rsa.generate_private_key(65537, 2048), "SHA256WITHRSA"),
    }
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench CA")])
    for count in (n for n in (10_000, 100_000, 1_000_000) if n <= max_entries):
        revoked = entries(count)
        for label, (key, algorithm) in keys.items():
            start = time.perf_counter()
            crl = build_crl(
                issuer=issuer,
                issuer_key_identifier=b"\x01" * 20,
                signer=SoftwareSigner(key),
                signing_algorithm=SigningAlgorithm(algorithm),
                crl_number=1,
                this_update=NOW,
                next_update=NOW + timedelta(days=7),
                revoked=revoked,
            )
            der = crl.public_bytes(serialization.Encoding.DER)
            elapsed = time.perf_counter() - start
            print(
                f"  {count:>9,} entries  {label:<28} {elapsed:7.2f} s  {len(der) / 1e6:8.2f} MB"
                f"  ({1e6 * elapsed / count:5.1f} µs/entry)"
            )


def ocsp_figures(requests: int) -> None:
    print(f"OCSP against a live pica (POST, {requests} requests, one client, one worker):")
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "data", free_port())
        server.start()
        try:
            pca = server.client()
            root = new_root_with_ocsp(pca, server)
            issuer_pem = pca.get_certificate_authority_certificate(CertificateAuthorityArn=root)
            issuer = x509.load_pem_x509_certificate(issuer_pem["Certificate"].encode())
            arn = pca.issue_certificate(
                CertificateAuthorityArn=root,
                Csr=make_csr(ec_key()),
                SigningAlgorithm="SHA256WITHECDSA",
                Validity={"Value": 30, "Type": "DAYS"},
            )["CertificateArn"]
            leaf_pem = pca.get_certificate(CertificateAuthorityArn=root, CertificateArn=arn)
            leaf = x509.load_pem_x509_certificate(leaf_pem["Certificate"].encode())
            body = der_request(issuer, leaf)
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            headers = {"Content-Type": "application/ocsp-request"}
            start = time.perf_counter()
            for _ in range(requests):
                connection.request("POST", "/ocsp", body=body, headers=headers)
                response = connection.getresponse()
                answer = ocsp.load_der_ocsp_response(response.read())
                assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
            elapsed = time.perf_counter() - start
            connection.close()
            per_request = 1000 * elapsed / requests
            print(f"  {requests / elapsed:8.1f} responses/s  ({per_request:.2f} ms each)")
        finally:
            server.stop()


def new_root_with_ocsp(pca: object, server: LiveServer) -> str:
    arn = new_root(pca)
    pca.update_certificate_authority(  # type: ignore[attr-defined]
        CertificateAuthorityArn=arn,
        RevocationConfiguration={"OcspConfiguration": {"Enabled": True}},
    )
    return arn


def main() -> None:
    max_entries = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    crl_figures(max_entries)
    ocsp_figures(requests)


if __name__ == "__main__":
    main()
