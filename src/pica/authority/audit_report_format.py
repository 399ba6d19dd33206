"""The body of an audit report: one record per certificate a CA issued, in AWS's shape.

Fields, casing and CSV column order are those of the AWS Private CA user guide ("Use audit
reports with your private CA"): awsAccountId, requestedByServicePrincipal, certificateArn,
serial (colon-separated lower-case hex bytes), subject (RFC 2253 order, unknown attributes as
`<oid>=#<DER hex>`), notBefore, notAfter, issuedAt, revokedAt, revocationReason, templateArn;
times as `2020-03-02T21:43:57+0000`. JSON is one array of objects that leave out empty fields;
CSV has a header line and an empty column for an empty field.

The body is produced as chunks of about 64 KiB from a stream of entries, so a report over
millions of certificates never sits in memory whole.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from cryptography import x509

from pica.authority.sharing import AuditEntry, AuditReportFormat

COLUMNS = (
    "awsAccountId",
    "requestedByServicePrincipal",
    "certificateArn",
    "serial",
    "subject",
    "notBefore",
    "notAfter",
    "issuedAt",
    "revokedAt",
    "revocationReason",
    "templateArn",
)
CONTENT_TYPES = {AuditReportFormat.JSON: "application/json", AuditReportFormat.CSV: "text/csv"}
_CHUNK = 64 * 1024


def report_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def colon_hex(serial: int) -> str:
    raw = serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big")
    return ":".join(f"{byte:02x}" for byte in raw)


def _subject(der: bytes) -> str:
    try:
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except ValueError:
        return ""


def record(entry: AuditEntry, ca_arn: str, owner: str) -> dict[str, str | None]:
    """One certificate as a report record (None for an empty field), in column order."""
    return {
        "awsAccountId": entry.requester_account or owner,
        "requestedByServicePrincipal": None,
        "certificateArn": f"{ca_arn}/certificate/{entry.serial:x}",
        "serial": colon_hex(entry.serial),
        "subject": _subject(entry.certificate_der),
        "notBefore": report_time(entry.not_before),
        "notAfter": report_time(entry.not_after),
        "issuedAt": report_time(entry.issued_at),
        "revokedAt": report_time(entry.revoked_at),
        "revocationReason": None
        if entry.revocation_reason is None
        else entry.revocation_reason.value,
        "templateArn": entry.template_arn,
    }


def _json_chunks(records: Iterable[dict[str, str | None]]) -> Iterator[str]:
    yield "["
    separator = ""
    for item in records:
        yield separator + json.dumps(
            {k: v for k, v in item.items() if v is not None}, separators=(",", ":")
        )
        separator = ","
    yield "]"


def _csv_chunks(records: Iterable[dict[str, str | None]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in records:
        writer.writerow(["" if item[c] is None else item[c] for c in COLUMNS])
        if buffer.tell() >= _CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def report_body(
    entries: Iterable[AuditEntry], ca_arn: str, owner: str, format: AuditReportFormat
) -> Iterator[bytes]:
    """The report as UTF-8 chunks of about 64 KiB."""
    records = (record(entry, ca_arn, owner) for entry in entries)
    pieces = _json_chunks(records) if format is AuditReportFormat.JSON else _csv_chunks(records)
    pending: list[str] = []
    size = 0
    for piece in pieces:
        pending.append(piece)
        size += len(piece)
        if size >= _CHUNK:
            yield "".join(pending).encode("utf-8")
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode("utf-8")
