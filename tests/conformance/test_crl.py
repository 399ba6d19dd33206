"""CRLs as clients see them: fetched from the CDP URL in the certificate, checked by openssl."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID

from tests.conftest import S3_BUCKET
from tests.support.pki import (
    cdp_url,
    issue,
    new_root,
    new_root_with_revocation,
    new_subordinate,
)
from tests.support.revocation import revoke, wait_for_crl
from tests.support.server import LiveServer


@dataclass(frozen=True)
class Target:
    """A pica publishing to one kind of object store, and how its CAs name their bucket."""

    server: LiveServer
    pca: Any
    store: str

    def crl_ca(self, bucket: str, **crl: Any) -> str:
        if self.store == "s3":
            # The S3 server wants signed reads, so clients fetch through pica's CNAME path.
            bucket = S3_BUCKET
            crl.setdefault("CustomCname", f"127.0.0.1:{self.server.port}")
        return new_root_with_revocation(
            self.pca,
            {
                "CrlConfiguration": {
                    "Enabled": True,
                    "S3BucketName": bucket,
                    "ExpirationInDays": 3,
                    **crl,
                }
            },
        )


@pytest.fixture(params=["local", "s3"])
def target(request: pytest.FixtureRequest, server: LiveServer, pca: Any) -> Target:
    if request.param == "local":
        return Target(server, pca, "local")
    s3_server: LiveServer = request.getfixturevalue("s3_server")
    return Target(s3_server, s3_server.client(), "s3")


def test_crl_published_at_the_cdp_url_and_updated_within_seconds(target: Target) -> None:
    pca = target.pca
    ca = target.crl_ca("crl-basic")
    good, _ = issue(pca, ca)
    bad, _ = issue(pca, ca)
    url = cdp_url(good)
    first = wait_for_crl(url, lambda crl: True)
    ca_cert = x509.load_pem_x509_certificate(
        pca.get_certificate_authority_certificate(CertificateAuthorityArn=ca)[
            "Certificate"
        ].encode()
    )
    assert first.issuer == ca_cert.subject
    assert first.is_signature_valid(ca_cert.public_key())  # type: ignore[arg-type]
    assert first.next_update_utc - first.last_update_utc == timedelta(days=3)
    aki = first.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER).value
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    number = first.extensions.get_extension_for_oid(ExtensionOID.CRL_NUMBER).value.crl_number

    started = time.monotonic()
    revoke(pca, ca, bad, "KEY_COMPROMISE")
    second = wait_for_crl(
        url, lambda crl: crl.get_revoked_certificate_by_serial_number(bad.serial_number) is not None
    )
    assert time.monotonic() - started < 10
    entry = second.get_revoked_certificate_by_serial_number(bad.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.key_compromise
    )
    assert second.get_revoked_certificate_by_serial_number(good.serial_number) is None
    newer = second.extensions.get_extension_for_oid(ExtensionOID.CRL_NUMBER).value.crl_number
    assert newer > number


def test_openssl_crl_check_with_the_crl_from_the_cdp(target: Target, tmp_path: Path) -> None:
    pca = target.pca
    ca = target.crl_ca("crl-openssl")
    good, chain = issue(pca, ca)
    bad, _ = issue(pca, ca)
    revoke(pca, ca, bad)
    url = cdp_url(good)
    crl = wait_for_crl(
        url, lambda c: c.get_revoked_certificate_by_serial_number(bad.serial_number) is not None
    )
    (tmp_path / "ca.pem").write_text(chain)
    (tmp_path / "crl.pem").write_bytes(crl.public_bytes(Encoding.PEM))
    for name, cert in (("good", good), ("bad", bad)):
        (tmp_path / f"{name}.pem").write_bytes(cert.public_bytes(Encoding.PEM))

    def verify(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
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

    ok = verify("good")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    revoked = verify("bad")
    assert revoked.returncode != 0
    assert "certificate revoked" in revoked.stdout + revoked.stderr


def test_pkilint_lint_crl_reports_no_errors(target: Target, tmp_path: Path) -> None:
    pca = target.pca
    ca = target.crl_ca("crl-lint")
    good, _ = issue(pca, ca)
    for reason in ("UNSPECIFIED", "SUPERSEDED"):
        victim, _ = issue(pca, ca)
        revoke(pca, ca, victim, reason)
    crl = wait_for_crl(cdp_url(good), lambda c: len(c) == 2)
    path = tmp_path / "crl.der"
    path.write_bytes(crl.public_bytes(Encoding.DER))
    lint = Path(sys.executable).with_name("lint_crl")
    result = subprocess.run(
        [str(lint), "lint", "-t", "CRL", "-p", "PKIX", "-s", "ERROR", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() == "" and result.returncode == 0, result.stdout + result.stderr


def test_a_burst_of_revocations_is_covered_by_few_crls(target: Target) -> None:
    pca, server = target.pca, target.server
    ca = target.crl_ca("crl-burst")
    certificates = [issue(pca, ca)[0] for _ in range(12)]
    url = cdp_url(certificates[0])
    wait_for_crl(url, lambda crl: True)

    def publications() -> int:
        return sum(
            1 for line in server.log_text().splitlines() if "published CRL" in line and ca in line
        )

    before = publications()
    for certificate in certificates:
        revoke(pca, ca, certificate)
    wait_for_crl(url, lambda crl: len(crl) == len(certificates))
    # Twelve revocations in quick succession must not cost twelve signatures of the CRL.
    assert publications() - before <= 4


def test_crl_served_at_the_custom_cname_path_when_it_points_at_pica(target: Target) -> None:
    pca = target.pca
    host = f"127.0.0.1:{target.server.port}"
    ca = target.crl_ca("crl-cname", CustomCname=host, CustomPath="pki/crl")
    certificate, _ = issue(pca, ca)
    url = cdp_url(certificate)
    assert url == f"http://{host}/pki/crl/{ca.rsplit('/', 1)[1]}.crl"
    revoke(pca, ca, certificate)
    wait_for_crl(
        url,
        lambda c: c.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None,
    )


def test_partitioned_crls_carry_a_critical_idp_matching_the_cdp(target: Target) -> None:
    pca = target.pca
    ca = target.crl_ca("crl-partitioned", CrlType="PARTITIONED")
    certificate, _ = issue(pca, ca)
    url = cdp_url(certificate)
    assert url.endswith(".crl") and f"/{ca.rsplit('/', 1)[1]}/" in url
    revoke(pca, ca, certificate)
    crl = wait_for_crl(
        url,
        lambda c: c.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None,
    )
    idp = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)
    assert idp.critical
    assert idp.value.full_name is not None
    assert [n.value for n in idp.value.full_name] == [url]


def test_subordinate_crls_verify_through_the_chain(target: Target) -> None:
    pca = target.pca
    root = new_root(pca)
    sub = new_subordinate(pca, root, 0)
    crl: dict[str, Any] = {"Enabled": True, "S3BucketName": "crl-sub"}
    if target.store == "s3":
        crl |= {"S3BucketName": S3_BUCKET, "CustomCname": f"127.0.0.1:{target.server.port}"}
    pca.update_certificate_authority(
        CertificateAuthorityArn=sub, RevocationConfiguration={"CrlConfiguration": crl}
    )
    certificate, chain = issue(pca, sub)
    revoke(pca, sub, certificate)
    crl = wait_for_crl(
        cdp_url(certificate),
        lambda c: c.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None,
    )
    issuer = x509.load_pem_x509_certificates(chain.encode())[0]
    assert crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
