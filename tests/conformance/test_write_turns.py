"""A worker waits for another process's commit off its event loop (issue 8).

On SQLite with file keys, `pica serve` runs IssueCertificate and RevokeCertificate on the
event loop. Their write transactions queue across processes on flock(2); a worker whose write
waited there inline stopped serving every other connection it held until the other process
committed. Here another process holds the writers' queue: the writes wait, and a read on
another connection to the same worker is still answered at once; let go, the writes finish.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.pki import make_csr, new_root
from tests.support.server import LiveServer, free_port
from tests.support.write_queue import held_by_another_process


@pytest.fixture
def one_worker(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "data", free_port(), extra_args=("--workers", "1"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_writes_waiting_for_another_process_leave_the_worker_serving(
    one_worker: LiveServer,
) -> None:
    pca = one_worker.client()
    ca_arn = new_root(pca)
    issued = pca.issue_certificate(
        CertificateAuthorityArn=ca_arn,
        Csr=make_csr(),
        SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 30, "Type": "DAYS"},
    )["CertificateArn"]
    serial = issued.rsplit("/", 1)[1]
    writers = [one_worker.client(), one_worker.client()]
    lock_file = one_worker.data_dir / "pica.db-lock"
    with held_by_another_process(lock_file) as release, ThreadPoolExecutor(3) as pool:
        try:
            issuing = pool.submit(
                writers[0].issue_certificate,
                CertificateAuthorityArn=ca_arn,
                Csr=make_csr(),
                SigningAlgorithm="SHA256WITHECDSA",
                Validity={"Value": 30, "Type": "DAYS"},
            )
            revoking = pool.submit(
                writers[1].revoke_certificate,
                CertificateAuthorityArn=ca_arn,
                CertificateSerial=serial,
                RevocationReason="SUPERSEDED",
            )
            # Reads on the same worker are answered while both writes wait for the queue.
            for _ in range(3):
                described = pool.submit(
                    pca.describe_certificate_authority, CertificateAuthorityArn=ca_arn
                ).result(timeout=10)
                assert described["CertificateAuthority"]["Status"] == "ACTIVE"
                got = pool.submit(
                    pca.get_certificate, CertificateAuthorityArn=ca_arn, CertificateArn=issued
                ).result(timeout=10)
                assert "BEGIN CERTIFICATE" in got["Certificate"]
            assert not issuing.done() and not revoking.done()
        finally:
            release()  # before the pool's exit waits for the writes
        arn = issuing.result(timeout=30)["CertificateArn"]
        revoking.result(timeout=30)
    got = pca.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=arn)
    assert "BEGIN CERTIFICATE" in got["Certificate"]
    with pytest.raises(pca.exceptions.RequestAlreadyProcessedException):
        pca.revoke_certificate(
            CertificateAuthorityArn=ca_arn, CertificateSerial=serial, RevocationReason="SUPERSEDED"
        )
