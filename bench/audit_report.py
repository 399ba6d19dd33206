"""Audit report time and peak memory for 10k and 100k issued certificates (JSON and CSV).

Run: `.venv/bin/python -m bench audit [max_certificates]` (default 100000).

A SQLite store is filled with one CA's certificates (the same real DER under distinct serials,
so each record costs a real parse of its subject), then `AuditReportService` makes each report
into a local object store in a child process of its own: the child's peak RSS is the whole
cost of one report, and a second run under tracemalloc gives the Python heap's peak. Bounded
memory shows as peaks that do not grow with the number of certificates.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from pica.adapters.objectstore.local_dir import LocalDirObjectStore
from pica.adapters.storage.sql_store import SqlStore
from pica.adapters.storage.tables import certificates, serial_to_text
from pica.authority.audit_reports import AuditReportService
from pica.authority.ca_access import Caller
from pica.authority.clock import SystemClock
from pica.authority.model import (
    Account,
    CaConfiguration,
    CaStatus,
    CaType,
    CertificateAuthority,
    KeyAlgorithm,
    KeyStorageSecurityStandard,
    RevocationConfiguration,
    SigningAlgorithm,
    Subject,
    UsageMode,
)
from pica.authority.sharing import AuditReportFormat

ACCOUNT = "111122223333"
NOW = datetime.now(UTC).replace(microsecond=0)
TEMPLATE = "arn:aws:acm-pca:::template/EndEntityCertificate/V1"


def ca_arn(count: int) -> str:
    suffix = f"{count:08d}-0000-4000-8000-000000000000"
    return f"arn:aws:acm-pca:us-east-1:{ACCOUNT}:certificate-authority/{suffix}"


def sample_der() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Company"),
            x509.NameAttribute(NameOID.COMMON_NAME, "www.example.com"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=30))
        .sign(key, hashes.SHA256())
        .public_bytes(Encoding.DER)
    )


def fill(store: SqlStore, count: int, der: bytes) -> None:
    arn = ca_arn(count)
    ca = CertificateAuthority(
        arn=arn,
        account_id=ACCOUNT,
        type=CaType.ROOT,
        status=CaStatus.ACTIVE,
        configuration=CaConfiguration(
            KeyAlgorithm.EC_prime256v1, SigningAlgorithm.SHA256WITHECDSA, Subject(common_name="b")
        ),
        revocation_configuration=RevocationConfiguration(),
        usage_mode=UsageMode.GENERAL_PURPOSE,
        key_storage_security_standard=KeyStorageSecurityStandard.FIPS_140_2_LEVEL_3_OR_HIGHER,
        created_at=NOW,
        last_state_change_at=NOW,
    )
    with store.transaction() as tx:
        if tx.get_account(ACCOUNT) is None:
            tx.insert_account(Account(ACCOUNT, NOW))
        tx.insert_ca(ca)
    rows = [
        {
            "ca_arn": arn,
            "serial": serial_to_text((1 << 127) | n),
            "certificate_der": der,
            "not_before": NOW,
            "not_after": NOW + timedelta(days=30),
            "issued_at": NOW + timedelta(microseconds=n),
            "template_arn": TEMPLATE,
            "revoked_at": NOW if n % 10 == 0 else None,
            "revocation_reason": "KEY_COMPROMISE" if n % 10 == 0 else None,
        }
        for n in range(count)
    ]
    with store.engine.begin() as connection:
        for start in range(0, count, 10_000):
            connection.execute(certificates.insert(), rows[start : start + 10_000])


def make_report(
    url: str, buckets: str, count: int, format: str, trace: bool, out: multiprocessing.Queue[str]
) -> None:
    store = SqlStore(url, create=False)
    service = AuditReportService(
        store,
        LocalDirObjectStore(Path(buckets), "http://127.0.0.1"),
        SystemClock(),
        interval=timedelta(0),
    )
    report = service.create(Caller(ACCOUNT), ca_arn(count), "bench", AuditReportFormat(format))
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    service.make_due()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    size = (Path(buckets) / "bench" / report.key).stat().st_size
    out.put(f"{elapsed}\t{peak}\t{size}")


def run_child(
    url: str, buckets: str, count: int, format: str, trace: bool
) -> tuple[float, int, int, int]:
    queue: multiprocessing.Queue[str] = multiprocessing.Queue()
    child = multiprocessing.get_context("fork").Process(
        target=make_report, args=(url, buckets, count, format, trace, queue)
    )
    child.start()
    line = queue.get()
    child.join()
    elapsed, peak, size = line.split("\t")
    # Children's maxrss is the largest child's so far: runs go from small to large.
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return float(elapsed), int(peak), int(size), rss_kib


def main() -> None:
    largest = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    counts = [n for n in (10_000, 100_000, 1_000_000) if n <= largest] or [largest]
    der = sample_der()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'pica.db'}"
        store = SqlStore(url)
        store.migrate()
        for count in counts:
            fill(store, count, der)
        store.dispose()
        print("Audit report (SQLite, local object store, one CA, 10% revoked):")
        print(
            f"  {'certificates':>12}  fmt   {'time':>8}  {'µs/cert':>7}  {'report':>9}"
            f"  {'peak RSS':>9}  {'py heap peak':>12}"
        )
        for format in ("JSON", "CSV"):
            for count in counts:
                elapsed, _, size, rss = run_child(
                    url, str(Path(tmp) / "buckets"), count, format, False
                )
                _, peak, _, _ = run_child(url, str(Path(tmp) / "buckets"), count, format, True)
                print(
                    f"  {count:>12,}  {format:<4}  {elapsed:7.2f}s  {1e6 * elapsed / count:7.1f}"
                    f"  {size / 1e6:7.1f}MB  {rss / 1024:7.1f}MB  {peak / 1e6:10.2f}MB"
                )


if __name__ == "__main__":
    main()
