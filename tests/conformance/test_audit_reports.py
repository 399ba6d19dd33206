"""Audit reports through boto3, on both object stores (pica's local folder and a real
S3-compatible server): the report is written at AWS's key, in AWS's fields and column order,
one record per certificate the CA issued; DescribeCertificateAuthorityAuditReport and the
`audit_report_created` waiter follow it from CREATING to SUCCESS (or FAILED)."""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.conftest import S3_BUCKET
from tests.support.pki import ROOT_TEMPLATE, issue, make_csr, new_root
from tests.support.seaweedfs import SeaweedFs
from tests.support.server import LiveServer

COLUMNS = [
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
]
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000")
SERIAL = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2})*")
FAST = {"Delay": 1, "MaxAttempts": 30}


@dataclass(frozen=True)
class Backend:
    server: LiveServer
    bucket: str
    read: Callable[[str, str], bytes | None]


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    code: str = excinfo.value.response["Error"]["Code"]
    return code


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "local":
        server: LiveServer = request.getfixturevalue("server")

        def read_local(bucket: str, key: str) -> bytes | None:
            path = server.data_dir / "buckets" / bucket / key
            return path.read_bytes() if path.exists() else None

        # A bucket of its own per test: its first user owns it.
        return Backend(server, f"audit-{uuid.uuid4().hex[:12]}", read_local)
    s3: SeaweedFs = request.getfixturevalue("s3")
    s3_server: LiveServer = request.getfixturevalue("s3_server")

    def read_s3(bucket: str, key: str) -> bytes | None:
        client = s3.client()
        try:
            stored = client.get_object(Bucket=bucket, Key=key)
            body: bytes = stored["Body"].read()
            stored["Body"].close()
            return body
        finally:
            client.close()

    return Backend(s3_server, S3_BUCKET, read_s3)


@pytest.fixture(scope="module")
def second_accounts() -> dict[int, tuple[str, Any]]:
    """One second account per server for the module (`pica accounts create` is a process)."""
    return {}


@pytest.fixture
def second(backend: Backend, second_accounts: dict[int, tuple[str, Any]]) -> tuple[str, Any]:
    known = second_accounts.get(id(backend.server))
    if known is None:
        account, key, secret = backend.server.new_account()
        known = second_accounts[id(backend.server)] = (account, backend.server.client(key, secret))
    return known


def create(pca: Any, ca: str, bucket: str, format: str = "JSON") -> dict[str, Any]:
    created: dict[str, Any] = pca.create_certificate_authority_audit_report(
        CertificateAuthorityArn=ca, S3BucketName=bucket, AuditReportResponseFormat=format
    )
    return created


def test_json_report_lists_every_certificate_in_aws_fields(
    backend: Backend, second: tuple[str, Any]
) -> None:
    owner = backend.server.client()
    other_account, other = second
    ca = new_root(owner)
    owner_account = ca.split(":")[4]
    owner.put_policy(
        ResourceArn=ca,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": other_account},
                        "Action": ["acm-pca:IssueCertificate", "acm-pca:GetCertificate"],
                        "Resource": ca,
                    }
                ],
            }
        ),
    )
    kept, _ = issue(owner, ca, make_csr(common_name="kept.example.com"))
    revoked, _ = issue(owner, ca, make_csr(common_name="revoked.example.com"))
    shared, _ = issue(other, ca, make_csr(common_name="shared.example.com"))
    owner.revoke_certificate(
        CertificateAuthorityArn=ca,
        CertificateSerial=f"{revoked.serial_number:x}",
        RevocationReason="KEY_COMPROMISE",
    )

    created = create(owner, ca, backend.bucket)
    report_id = created["AuditReportId"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", report_id)
    assert created["S3Key"] == f"audit-report/{ca.rsplit('/', 1)[1]}/{report_id}.json"
    first = owner.describe_certificate_authority_audit_report(
        CertificateAuthorityArn=ca, AuditReportId=report_id
    )
    assert first["AuditReportStatus"] in ("CREATING", "SUCCESS")
    assert first["S3BucketName"] == backend.bucket
    assert first["S3Key"] == created["S3Key"]
    assert first["CreatedAt"].tzinfo is not None
    owner.get_waiter("audit_report_created").wait(
        CertificateAuthorityArn=ca, AuditReportId=report_id, WaiterConfig=FAST
    )
    done = owner.describe_certificate_authority_audit_report(
        CertificateAuthorityArn=ca, AuditReportId=report_id
    )
    assert done["AuditReportStatus"] == "SUCCESS"
    assert done["CreatedAt"] == first["CreatedAt"]

    body = backend.read(backend.bucket, created["S3Key"])
    assert body is not None
    records = json.loads(body)
    by_serial = {int(r["serial"].replace(":", ""), 16): r for r in records}
    # The root's own certificate, issued by the CA before it was installed, is one of them.
    assert len(records) == 4
    assert {kept.serial_number, revoked.serial_number, shared.serial_number} < set(by_serial)
    record = by_serial[kept.serial_number]
    # AWS's field order; empty fields (requestedByServicePrincipal, revokedAt, ...) left out.
    assert list(record) == [c for c in COLUMNS if c in record]
    assert len(record) == len(COLUMNS) - 3
    assert record["awsAccountId"] == owner_account
    assert record["certificateArn"] == f"{ca}/certificate/{kept.serial_number:x}"
    assert SERIAL.fullmatch(record["serial"])
    assert record["subject"] == "CN=kept.example.com"
    for field in ("notBefore", "notAfter", "issuedAt"):
        assert TIME.fullmatch(record[field]), record[field]
    assert record["notBefore"] == kept.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert "revokedAt" not in record and "revocationReason" not in record
    assert record["templateArn"] == "arn:aws:acm-pca:::template/EndEntityCertificate/V1"
    gone = by_serial[revoked.serial_number]
    assert TIME.fullmatch(gone["revokedAt"]) and gone["revocationReason"] == "KEY_COMPROMISE"
    assert by_serial[shared.serial_number]["awsAccountId"] == other_account
    root_record = next(r for r in records if r["templateArn"] == ROOT_TEMPLATE)
    assert root_record["subject"].startswith("CN=pica test CA")

    # AWS's limit: one report every 30 minutes per CA.
    with pytest.raises(ClientError) as excinfo:
        create(owner, ca, backend.bucket, "CSV")
    assert code_of(excinfo) == "RequestInProgressException"
    # Unknown report ids and CAs, and another account's view of the owner's report.
    with pytest.raises(ClientError) as excinfo:
        owner.describe_certificate_authority_audit_report(
            CertificateAuthorityArn=ca, AuditReportId=str(uuid.uuid4())
        )
    assert code_of(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        other.describe_certificate_authority_audit_report(
            CertificateAuthorityArn=ca, AuditReportId=report_id
        )
    assert code_of(excinfo) == "AccessDeniedException"
    with pytest.raises(ClientError) as excinfo:
        other.create_certificate_authority_audit_report(
            CertificateAuthorityArn=ca,
            S3BucketName=backend.bucket,
            AuditReportResponseFormat="JSON",
        )
    assert code_of(excinfo) == "AccessDeniedException"


def test_csv_report_has_aws_columns_in_order(backend: Backend) -> None:
    pca = backend.server.client()
    ca = new_root(pca)
    issued = [issue(pca, ca)[0] for _ in range(3)]
    created = create(pca, ca, backend.bucket, "CSV")
    assert created["S3Key"].endswith(f"/{created['AuditReportId']}.csv")
    pca.get_waiter("audit_report_created").wait(
        CertificateAuthorityArn=ca, AuditReportId=created["AuditReportId"], WaiterConfig=FAST
    )
    body = backend.read(backend.bucket, created["S3Key"])
    assert body is not None
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0] == COLUMNS
    assert len(rows) == 1 + 1 + len(issued)
    serials = {int(row[3].replace(":", ""), 16) for row in rows[1:]}
    assert {c.serial_number for c in issued} < serials
    for row in rows[1:]:
        assert len(row) == len(COLUMNS)
        assert row[0] == ca.split(":")[4] and row[1] == ""
        assert row[8] == row[9] == ""  # not revoked


def test_unknown_ca_and_bad_buckets(backend: Backend, second: tuple[str, Any]) -> None:
    pca = backend.server.client()
    ca = new_root(pca)
    unknown = ca.rsplit("/", 1)[0] + f"/{uuid.uuid4()}"
    with pytest.raises(ClientError) as excinfo:
        create(pca, unknown, backend.bucket)
    assert code_of(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        pca.describe_certificate_authority_audit_report(
            CertificateAuthorityArn=unknown, AuditReportId=str(uuid.uuid4())
        )
    assert code_of(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        create(pca, ca, "Not_A_Bucket")
    assert code_of(excinfo) == "InvalidArgsException"
    # A bucket another account already uses is refused with AWS's permission error.
    create(pca, ca, backend.bucket)
    intruder = second[1]
    theirs = new_root(intruder)
    with pytest.raises(ClientError) as excinfo:
        create(intruder, theirs, backend.bucket)
    assert code_of(excinfo) == "InvalidArgsException"
    assert "Permission error with your S3 bucket" in excinfo.value.response["Error"]["Message"]


def test_a_report_the_store_refuses_is_failed(s3_server: LiveServer) -> None:
    pca = s3_server.client()
    ca = new_root(pca)
    created = create(pca, ca, f"no-such-bucket-{uuid.uuid4().hex[:8]}")
    with pytest.raises(WaiterError):
        pca.get_waiter("audit_report_created").wait(
            CertificateAuthorityArn=ca, AuditReportId=created["AuditReportId"], WaiterConfig=FAST
        )
    described = pca.describe_certificate_authority_audit_report(
        CertificateAuthorityArn=ca, AuditReportId=created["AuditReportId"]
    )
    assert described["AuditReportStatus"] == "FAILED"


def test_local_reports_are_private_and_never_served(server: LiveServer) -> None:
    pca = server.client()
    ca = new_root(pca)
    bucket = f"audit-{uuid.uuid4().hex[:12]}"
    created = create(pca, ca, bucket)
    pca.get_waiter("audit_report_created").wait(
        CertificateAuthorityArn=ca, AuditReportId=created["AuditReportId"], WaiterConfig=FAST
    )
    path = server.data_dir / "buckets" / bucket / created["S3Key"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for target in (f"/{bucket}/{created['S3Key']}", f"/{created['S3Key']}"):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request("GET", target)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        assert response.status == 404, target
        assert b"certificateArn" not in body
