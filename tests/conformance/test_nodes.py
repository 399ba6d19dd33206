"""Several pica nodes on one PostgreSQL database: any node answers any request.

Two `pica serve` processes share the database, the key-encryption key and the bucket folder (the
data dir); a CA made through one node issues through the other, a revocation made on one is seen
at once by the other's OCSP responder, and the CRL is published exactly as with one node.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.x509 import ocsp

from tests.support.pki import ca_certificate, cdp_url, issue, new_root_with_revocation
from tests.support.postgres import PostgresServer, PostgresUnavailable, postgres_server
from tests.support.revocation import der_request, http, revoke, wait_for_crl
from tests.support.server import LiveServer, free_port


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    try:
        server: PostgresServer = postgres_server(
            may_start=os.environ.get("PICA_TEST_SKIP_POSTGRES") != "1"
        )
    except PostgresUnavailable as error:
        if os.environ.get("PICA_TEST_SKIP_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL unavailable: {error}")
        raise
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[list[LiveServer]]:
    data = tmp_path_factory.mktemp("nodes") / "data"
    data.mkdir()
    (data / "pica.toml").write_text(f'database_url = "{database}"\n')
    first = LiveServer(data, free_port())
    first.start()
    # The second node shares the data dir (KEK, buckets, credentials) but has its own log.
    second = LiveServer(data, free_port())
    second.output = data.parent / "second-server.log"
    second.start()
    try:
        yield [first, second]
    finally:
        second.stop()
        first.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_any_node_answers_any_request(nodes: list[LiveServer], tmp_path: Path) -> None:
    first, second = nodes
    via_first: Any = first.client()
    via_second: Any = second.client()
    ca = new_root_with_revocation(
        via_first,
        {
            "CrlConfiguration": {"Enabled": True, "S3BucketName": "shared-crls"},
            "OcspConfiguration": {"Enabled": True},
        },
    )
    described = via_second.describe_certificate_authority(CertificateAuthorityArn=ca)
    assert described["CertificateAuthority"]["Status"] == "ACTIVE"
    certificate, _ = issue(via_second, ca)
    issuer = ca_certificate(via_first, ca)

    revoke(via_second, ca, certificate)
    answer = ocsp.load_der_ocsp_response(
        http(
            f"{first.endpoint}/ocsp",
            der_request(issuer, certificate),
            "application/ocsp-request",
        )[2]
    )
    assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED

    crl = wait_for_crl(
        cdp_url(certificate),
        lambda c: c.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None,
    )
    assert crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
