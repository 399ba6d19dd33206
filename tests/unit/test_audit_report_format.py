"""The audit report body: AWS's field spellings, CSV quoting, JSON shape, chunking."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from pica.authority.audit_report_format import COLUMNS, colon_hex, report_body, report_time
from pica.authority.model import RevocationReason
from pica.authority.sharing import AuditEntry, AuditReportFormat

CA = (
    "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/"
    "11111111-2222-3333-4444-555555555555"
)
T0 = datetime(2025, 3, 2, 21, 43, 57, tzinfo=UTC)


def certificate_der() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example, Inc."),
            x509.NameAttribute(NameOID.COMMON_NAME, "www.example.com"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(T0)
        .not_valid_after(T0 + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


def entry(serial: int, der: bytes, **changes: object) -> AuditEntry:
    values: dict[str, object] = {
        "serial": serial,
        "certificate_der": der,
        "not_before": T0,
        "not_after": T0 + timedelta(days=30),
        "issued_at": T0 + timedelta(seconds=1),
        "template_arn": "arn:aws:acm-pca:::template/EndEntityCertificate/V1",
        "revoked_at": None,
        "revocation_reason": None,
        "requester_account": None,
        **changes,
    }
    return AuditEntry(**values)  # type: ignore[arg-type]


def test_spellings() -> None:
    assert (
        colon_hex(0xE8CBD2BEDB122329F97706BCFEC990F8)
        == "e8:cb:d2:be:db:12:23:29:f9:77:06:bc:fe:c9:90:f8"
    )
    assert colon_hex(0x0102) == "01:02"
    assert report_time(T0.astimezone(timezone(timedelta(hours=2)))) == "2025-03-02T21:43:57+0000"


def test_csv_quotes_subjects_with_commas_and_keeps_the_column_order() -> None:
    der = certificate_der()
    revoked = entry(
        0xFF,
        der,
        revoked_at=T0 + timedelta(hours=1),
        revocation_reason=RevocationReason.KEY_COMPROMISE,
        requester_account="444455556666",
    )
    body = b"".join(
        report_body([entry(0x10, der), revoked], CA, "111122223333", AuditReportFormat.CSV)
    )
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0] == list(COLUMNS)
    assert rows[1] == [
        "111122223333",
        "",
        f"{CA}/certificate/10",
        "10",
        r"CN=www.example.com,O=Example\, Inc.,C=US",
        "2025-03-02T21:43:57+0000",
        "2025-04-01T21:43:57+0000",
        "2025-03-02T21:43:58+0000",
        "",
        "",
        "arn:aws:acm-pca:::template/EndEntityCertificate/V1",
    ]
    assert rows[2][0] == "444455556666"
    assert rows[2][8:10] == ["2025-03-02T22:43:57+0000", "KEY_COMPROMISE"]


def test_json_is_one_array_in_bounded_chunks() -> None:
    der = certificate_der()
    entries = (entry(serial, der) for serial in range(1, 2001))
    chunks = list(report_body(entries, CA, "111122223333", AuditReportFormat.JSON))
    assert len(chunks) > 5
    assert max(len(c) for c in chunks) < 80 * 1024
    records = json.loads(b"".join(chunks))
    assert len(records) == 2000
    assert "revokedAt" not in records[0]
    assert records[0]["subject"] == r"CN=www.example.com,O=Example\, Inc.,C=US"
    assert json.loads(b"".join(report_body([], CA, "1", AuditReportFormat.JSON))) == []
