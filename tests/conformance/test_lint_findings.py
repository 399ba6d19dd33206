"""`lint_findings = "record"`: pica signs what AWS signs and records what its lint found.

The default server (`pca`) refuses these requests; a second server in record mode signs them,
writes one `pica.lint` line per certificate (CA ARN, serial, findings), and still refuses what
breaks AWS's own rules: name constraints, the issuer's NotAfter, path length.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from prometheus_client.parser import text_string_to_metric_families

from tests.support.pki import (
    ec_key,
    issue,
    make_csr,
    new_constrained_root,
    new_root,
    new_subordinate,
    template,
)
from tests.support.server import LiveServer, free_port


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("pica-record") / "data"
    data.mkdir()
    (data / "pica.toml").write_text('lint_findings = "record"\n')
    # It signs what RFC 5280 forbids, so OpenSSL judges its chains without -x509_strict.
    live = LiveServer(data, free_port(), strict_chains=False)
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def record_pca(recording: LiveServer) -> Any:
    return recording.client()


@pytest.fixture(scope="module")
def record_root(record_pca: Any) -> str:
    return new_root(record_pca)


def csr_without_key_usage() -> bytes:
    """A CA's CSR as some tools make it: a subject and nothing else (no keyUsage)."""
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "Issuing CA from a CSR")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(ec_key(), hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


BLANK_SUBORDINATE = "BlankSubordinateCACertificate_PathLen0_CSRPassthrough"


def lint_lines(server: LiveServer, serial: int, timeout: float = 5.0) -> list[str]:
    """The server's `pica.lint` lines naming `serial` (the log is written asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [
            line
            for line in server.log_text().splitlines()
            if "pica.lint" in line and f"serial={serial:032x}" in line
        ]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def recorded_findings(server: LiveServer) -> dict[str, float]:
    """`pica_lint_findings_recorded_total` by finding code, scraped from /metrics."""
    with urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {
        sample.labels["code"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "pica_lint_findings_recorded_total"
    }


def test_refuse_mode_refuses_a_ca_certificate_without_key_usage(pca: Any, root_ca: str) -> None:
    with pytest.raises(pca.exceptions.InvalidArgsException) as error:
        issue(pca, root_ca, csr=csr_without_key_usage(), template_name=BLANK_SUBORDINATE)
    assert "pica.ca_requires_key_cert_sign" in str(error.value)


def test_record_mode_signs_it_and_records_every_finding(
    recording: LiveServer, record_pca: Any, record_root: str
) -> None:
    before = recorded_findings(recording).get("pica.ca_requires_key_cert_sign", 0.0)
    certificate, _ = issue(
        record_pca, record_root, csr=csr_without_key_usage(), template_name=BLANK_SUBORDINATE
    )
    after = recorded_findings(recording).get("pica.ca_requires_key_cert_sign", 0.0)
    assert after == before + 1
    basic = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length == 0
    with pytest.raises(x509.ExtensionNotFound):
        certificate.extensions.get_extension_for_class(x509.KeyUsage)
    (line,) = lint_lines(recording, certificate.serial_number)
    assert "WARNING" in line
    assert f"ca={record_root}" in line
    assert f"template={template(BLANK_SUBORDINATE)}" in line
    assert "pica.ca_requires_key_cert_sign (ERROR)" in line
    # The audit trail keeps them with the issuance's own record.
    completed = recording.pica("audit", "list", "--action", "IssueCertificate", "--json")
    assert completed.returncode == 0, completed.stderr
    arn = f"{record_root}/certificate/{certificate.serial_number:x}"
    (record,) = [r for r in json.loads(completed.stdout)["Records"] if arn in (r["Detail"] or "")]
    assert record["Result"] == "Success"
    assert "pica.ca_requires_key_cert_sign (ERROR)" in record["Detail"]


def test_record_mode_signs_the_aws_docs_end_entity_name_constraints(
    recording: LiveServer, record_pca: Any, record_root: str
) -> None:
    # AWS's own example puts nameConstraints on an end-entity certificate (RFC 5280 reserves
    # them for CAs): refused by default, signed and recorded in record mode.
    passthrough = {
        "Extensions": {
            "CustomExtensions": [
                {
                    "ObjectIdentifier": "2.5.29.30",
                    "Value": "MBWgEzARgg8ucGVybWl0dGVkLnRlc3Q=",
                    "Critical": True,
                }
            ]
        }
    }
    certificate, _ = issue(
        record_pca,
        record_root,
        template_name="EndEntityCertificate_APIPassthrough",
        ApiPassthrough=passthrough,
    )
    assert certificate.extensions.get_extension_for_class(x509.NameConstraints).critical
    (line,) = lint_lines(recording, certificate.serial_number)
    assert "pkix.name_constraints_in_ee_certificate" in line


def test_a_clean_certificate_records_nothing(
    recording: LiveServer, record_pca: Any, record_root: str
) -> None:
    certificate, _ = issue(record_pca, record_root)
    assert lint_lines(recording, certificate.serial_number, timeout=0.5) == []


def test_record_mode_still_enforces_name_constraints(record_pca: Any) -> None:
    root = new_constrained_root(
        record_pca,
        x509.NameConstraints(
            permitted_subtrees=[x509.DNSName("example.com")], excluded_subtrees=None
        ),
    )
    with pytest.raises(record_pca.exceptions.InvalidArgsException) as error:
        issue(record_pca, root, csr=make_csr(common_name="evil.com", dns_names=("evil.com",)))
    assert "'evil.com'" in str(error.value) and "name constraints" in str(error.value)
    issue(record_pca, root, csr=make_csr(dns_names=("www.example.com",)))


def test_record_mode_still_enforces_not_after_and_path_length(
    record_pca: Any, record_root: str
) -> None:
    ca = record_pca.describe_certificate_authority(CertificateAuthorityArn=record_root)
    not_after = ca["CertificateAuthority"]["NotAfter"]
    with pytest.raises(record_pca.exceptions.InvalidArgsException):
        issue(
            record_pca,
            record_root,
            validity={"Value": int(not_after.timestamp()) + 86400, "Type": "ABSOLUTE"},
        )
    sub = new_subordinate(record_pca, record_root, path_len=0)
    with pytest.raises(record_pca.exceptions.InvalidArgsException) as error:
        issue(record_pca, sub, template_name="SubordinateCACertificate_PathLen0")
    assert "path length" in str(error.value)
