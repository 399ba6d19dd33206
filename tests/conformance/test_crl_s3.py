"""The CRL path end to end with the S3 adapter: pica publishes to a real S3-compatible server
(SeaweedFS on 127.0.0.1), and the CRL URL in the certificate (a CustomCname pointing at pica)
serves it, revocations included, for openssl to check."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tests.conformance.test_crl import revoke, wait_for_crl
from tests.conftest import S3_BUCKET
from tests.support.pki import cdp_url, issue, new_root_with_revocation
from tests.support.seaweedfs import SeaweedFs
from tests.support.server import LiveServer


def test_crl_published_to_s3_and_checked_by_openssl(
    s3_server: LiveServer, s3: SeaweedFs, tmp_path: Path
) -> None:
    pca: Any = s3_server.client()
    host = f"127.0.0.1:{s3_server.port}"
    ca = new_root_with_revocation(
        pca, {"CrlConfiguration": {"Enabled": True, "S3BucketName": S3_BUCKET, "CustomCname": host}}
    )
    good, chain = issue(pca, ca)
    bad, _ = issue(pca, ca)
    revoke(pca, ca, bad)
    url = cdp_url(good)
    ca_id = ca.rsplit("/", 1)[1]
    assert url == f"http://{host}/crl/{ca_id}.crl"
    crl = wait_for_crl(
        url, lambda c: c.get_revoked_certificate_by_serial_number(bad.serial_number) is not None
    )
    # The object really is in the S3 bucket, at the key AWS uses.
    client = s3.client()
    try:
        stored = client.get_object(Bucket=S3_BUCKET, Key=f"crl/{ca_id}.crl")
        body = stored["Body"].read()
        stored["Body"].close()
    finally:
        client.close()
    assert x509.load_der_x509_crl(body).get_revoked_certificate_by_serial_number(bad.serial_number)

    (tmp_path / "ca.pem").write_text(chain)
    (tmp_path / "crl.pem").write_bytes(crl.public_bytes(Encoding.PEM))
    results = {}
    for name, cert in (("good", good), ("bad", bad)):
        (tmp_path / f"{name}.pem").write_bytes(cert.public_bytes(Encoding.PEM))
        results[name] = subprocess.run(
            [
                "openssl",
                "verify",
                "-crl_check",
                "-CAfile",
                str(tmp_path / "ca.pem"),
                "-CRLfile",
                str(tmp_path / "crl.pem"),
                str(tmp_path / f"{name}.pem"),
            ],
            capture_output=True,
            text=True,
        )
    assert results["good"].returncode == 0, results["good"].stdout + results["good"].stderr
    assert results["bad"].returncode != 0
    assert "certificate revoked" in results["bad"].stdout + results["bad"].stderr


def test_default_cdp_points_at_the_s3_endpoint(s3_server: LiveServer, s3: SeaweedFs) -> None:
    pca: Any = s3_server.client()
    ca = new_root_with_revocation(
        pca, {"CrlConfiguration": {"Enabled": True, "S3BucketName": S3_BUCKET}}
    )
    certificate, _ = issue(pca, ca)
    assert cdp_url(certificate) == f"{s3.endpoint_url}/{S3_BUCKET}/crl/{ca.rsplit('/', 1)[1]}.crl"
