"""`lint_findings`: the setting, and the log line that records a certificate signed with
findings."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pica.authority.lint.finding import ERROR, Finding
from pica.authority.lint_record import FindingsLog, SignedWithFindings
from pica.settings import SettingsError, build, load


def test_lint_findings_defaults_to_refuse_and_accepts_record(tmp_path: Path) -> None:
    assert build({"data_dir": str(tmp_path)}).lint_findings == "refuse"
    assert build({"data_dir": str(tmp_path), "lint_findings": "record"}).lint_findings == "record"
    with pytest.raises(SettingsError, match="lint_findings must be refuse or record"):
        build({"data_dir": str(tmp_path), "lint_findings": "warn"})


def test_lint_findings_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PICA_LINT_FINDINGS", "record")
    assert load({"data_dir": str(tmp_path)}).lint_findings == "record"


def test_one_warning_line_per_certificate(caplog: pytest.LogCaptureFixture) -> None:
    event = SignedWithFindings(
        ca_arn="arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x",
        certificate_arn="arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x/certificate/ab",
        serial=0xAB,
        template_arn="arn:aws:acm-pca:::template/BlankEndEntityCertificate_APIPassthrough/V1",
        findings=(
            Finding("pica.one", ERROR, "first"),
            Finding("pkix.two", ERROR, "second"),
        ),
    )
    with caplog.at_level(logging.WARNING, logger="pica.lint"):
        FindingsLog().signed_with_findings(event)
    (record,) = caplog.records
    assert record.name == "pica.lint" and record.levelno == logging.WARNING
    assert record.getMessage() == (
        "signed with lint findings: ca=arn:aws:acm-pca:us-east-1:123456789012:"
        f"certificate-authority/x serial={0xAB:032x} "
        "template=arn:aws:acm-pca:::template/BlankEndEntityCertificate_APIPassthrough/V1 "
        "findings=pica.one (ERROR): first; pkix.two (ERROR): second"
    )
