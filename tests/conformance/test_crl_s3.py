"""What is specific to the S3 adapter (test_crl.py runs every CRL test against it as well): the
object pica publishes is in the bucket at the key AWS uses, and the default CDP names the
S3 endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509

from tests.conftest import S3_BUCKET
from tests.support.pki import cdp_url, issue, new_root_with_revocation
from tests.support.revocation import revoke, wait_for_crl
from tests.support.seaweedfs import SeaweedFs
from tests.support.server import LiveServer


def test_crl_object_lands_in_the_s3_bucket_at_the_aws_key(
    s3_server: LiveServer, s3: SeaweedFs
) -> None:
    pca: Any = s3_server.client()
    host = f"127.0.0.1:{s3_server.port}"
    ca = new_root_with_revocation(
        pca, {"CrlConfiguration": {"Enabled": True, "S3BucketName": S3_BUCKET, "CustomCname": host}}
    )
    good, _ = issue(pca, ca)
    bad, _ = issue(pca, ca)
    revoke(pca, ca, bad)
    url = cdp_url(good)
    ca_id = ca.rsplit("/", 1)[1]
    assert url == f"http://{host}/crl/{ca_id}.crl"
    wait_for_crl(
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


def test_default_cdp_points_at_the_s3_endpoint(s3_server: LiveServer, s3: SeaweedFs) -> None:
    pca: Any = s3_server.client()
    ca = new_root_with_revocation(
        pca, {"CrlConfiguration": {"Enabled": True, "S3BucketName": S3_BUCKET}}
    )
    certificate, _ = issue(pca, ca)
    assert cdp_url(certificate) == f"{s3.endpoint_url}/{S3_BUCKET}/crl/{ca.rsplit('/', 1)[1]}.crl"


def test_a_bucket_pica_cannot_write_to_is_refused_up_front(
    s3_server: LiveServer, s3: SeaweedFs
) -> None:
    pca: Any = s3_server.client()
    missing = {"CrlConfiguration": {"Enabled": True, "S3BucketName": "no-such-bucket"}}
    with pytest.raises(pca.exceptions.InvalidArgsException) as error:
        new_root_with_revocation(pca, missing)
    assert "no-such-bucket" in str(error.value)
    ca = new_root_with_revocation(pca, {})
    before = pca.describe_certificate_authority(CertificateAuthorityArn=ca)["CertificateAuthority"]
    with pytest.raises(pca.exceptions.InvalidArgsException):
        pca.update_certificate_authority(
            CertificateAuthorityArn=ca, RevocationConfiguration=missing
        )
    after = pca.describe_certificate_authority(CertificateAuthorityArn=ca)["CertificateAuthority"]
    assert after == before
    # A writable bucket gets the permission-test object AWS writes, at the same key.
    pca.update_certificate_authority(
        CertificateAuthorityArn=ca,
        RevocationConfiguration={"CrlConfiguration": {"Enabled": True, "S3BucketName": S3_BUCKET}},
    )
    client = s3.client()
    try:
        client.head_object(Bucket=S3_BUCKET, Key="acm-pca-permission-test-key")
    finally:
        client.close()
