"""The per-API-call record and the two access-log formats written from it."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

import pytest

from pica.errors import NotFound
from pica.wire.access_log import AccessLog, json_line, logfmt_line
from pica.wire.api_call import ApiCall

CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/5f0e2a3c-1111-2222-3333-4444"
SERIAL = "6707447683a9b7f4055627ffd55cebcc"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[ApiCall] = []

    def api_call(self, call: ApiCall) -> None:
        self.calls.append(call)


class Broken:
    def api_call(self, call: ApiCall) -> None:
        raise RuntimeError("observer failed")


def call() -> ApiCall:
    return ApiCall("req-1", "awsJson1_1", started_at=datetime(2026, 1, 2, 3, 4, 5, 678000, UTC))


def test_resources_come_from_parameters_and_results() -> None:
    issued = call()
    issued.note_parameters({"CertificateAuthorityArn": CA, "Csr": b"-----BEGIN..."})
    issued.note_result({"CertificateArn": f"{CA}/certificate/{SERIAL}"})
    assert (issued.ca_arn, issued.certificate_arn, issued.serial) == (
        CA,
        f"{CA}/certificate/{SERIAL}",
        SERIAL,
    )
    revoked = call()
    revoked.note_parameters(
        {"CertificateAuthorityArn": CA, "CertificateSerial": "67:07:44:76:83:A9:B7:F4"}
    )
    assert revoked.serial == "670744768" + "3a9b7f4"
    created = call()
    created.note_result({"CertificateAuthorityArn": CA})
    assert created.ca_arn == CA and created.certificate_arn is None


def test_finish_tells_every_observer_once_even_after_one_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    record = call()
    with caplog.at_level(logging.ERROR, logger="pica.api"):
        record.finish(400, "ResourceNotFoundException", (Broken(), recorder))
    assert recorder.calls == [record]
    assert record.status == 400 and record.error_code == "ResourceNotFoundException"
    assert record.duration >= 0
    assert "recording API call req-1 failed" in caplog.text


def test_json_and_logfmt_carry_the_same_fields_in_order() -> None:
    record = call()
    record.operation = "RevokeCertificate"
    record.note_caller("123456789012", "PICAEXAMPLEKEY000000")
    record.note_parameters({"CertificateAuthorityArn": CA, "CertificateSerial": SERIAL})
    record.error = NotFound("no such certificate")
    record.status, record.error_code, record.duration = 400, "ResourceNotFoundException", 0.0042
    as_json = json.loads(json_line(record))
    assert list(as_json) == [
        "time", "request_id", "account", "access_key_id", "operation", "ca_arn", "serial",
        "status", "error", "duration_ms",
    ]  # fmt: skip
    assert as_json["time"] == "2026-01-02T03:04:05.678Z"
    assert as_json["status"] == 400 and as_json["duration_ms"] == 4.2
    assert "no such certificate" not in json_line(record)  # messages are not logged
    assert logfmt_line(record) == (
        f"time=2026-01-02T03:04:05.678Z request_id=req-1 account=123456789012 "
        f"access_key_id=PICAEXAMPLEKEY000000 operation=RevokeCertificate ca_arn={CA} "
        f"serial={SERIAL} status=400 error=ResourceNotFoundException duration_ms=4.2"
    )


def test_logfmt_quotes_what_could_forge_a_field_or_a_line() -> None:
    record = call()
    record.operation = 'Evil op="x"\nstatus=200'
    line = logfmt_line(record)
    assert "\n" not in line
    assert re.search(r'operation="Evil op=\\"x\\"\\nstatus=200"', line)


def test_access_log_writes_one_line_at_info(caplog: pytest.LogCaptureFixture) -> None:
    record = call()
    record.finish(200, None, ())
    with caplog.at_level(logging.INFO, logger="pica.access"):
        AccessLog("json").api_call(record)
    assert [json.loads(r.getMessage())["request_id"] for r in caplog.records] == ["req-1"]
    with pytest.raises(ValueError, match="json or logfmt"):
        AccessLog("xml")
