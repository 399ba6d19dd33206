"""What an operator watches: /healthz, /readyz, /metrics (scraped by a real Prometheus when one
is installed) and the access log, against live servers.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from tests.support.acm import acm_client
from tests.support.pki import make_csr, new_root_with_revocation, template
from tests.support.polling import wait_until
from tests.support.server import LiveServer, free_port

LOGFMT_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """One GET on a fresh connection (so that, with several workers, any of them may answer)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    wait_until(condition, timeout=seconds, interval=0.1)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def access_lines(log: str) -> dict[str, dict[str, str]]:
    """The logfmt access-log lines of a server log, by request id."""
    lines: dict[str, dict[str, str]] = {}
    for line in log.splitlines():
        if not line.startswith("time="):
            continue
        fields = {
            name: json.loads(value) if value.startswith('"') else value
            for name, value in LOGFMT_FIELD.findall(line)
        }
        lines[fields["request_id"]] = fields
    return lines


def request_id(response: dict[str, Any]) -> str:
    value: str = response["ResponseMetadata"]["RequestId"]
    return value


# --- health -----------------------------------------------------------------------------------


def test_healthz_and_readyz_answer_without_credentials(server: LiveServer) -> None:
    status, headers, body = get(server.port, "/healthz")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body) == {"status": "ok"}
    status, _, body = get(server.port, "/readyz")
    assert status == 200
    assert json.loads(body) == {
        "status": "ready",
        "checks": {"database": "ok", "key_store": "ok", "object_store": "ok"},
    }


def test_readyz_names_an_unusable_object_store(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "data", free_port())
    live.start()
    buckets = live.data_dir / "buckets"
    try:
        shutil.rmtree(buckets, ignore_errors=True)
        buckets.write_text("not a folder")
        wait_for(lambda: get(live.port, "/readyz")[0] == 503)
        status, headers, body = get(live.port, "/readyz")
        assert status == 503
        assert headers["content-type"].startswith("application/json")
        answer = json.loads(body)
        assert answer["status"] == "unavailable"
        assert answer["reason"] == f"object_store: {buckets} is not a folder"
        assert get(live.port, "/healthz")[0] == 200  # up, just not ready
        buckets.unlink()
        wait_for(lambda: get(live.port, "/readyz")[0] == 200)
    finally:
        live.stop()


# --- the access log ---------------------------------------------------------------------------


def test_one_access_log_line_per_api_call(server: LiveServer, pca: Any, root_ca: str) -> None:
    csr = make_csr()
    issued = pca.issue_certificate(
        CertificateAuthorityArn=root_ca,
        Csr=csr,
        SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 7, "Type": "DAYS"},
    )
    certificate_arn = issued["CertificateArn"]
    fetched = pca.get_certificate(CertificateAuthorityArn=root_ca, CertificateArn=certificate_arn)
    missing_ca = root_ca.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as missing:
        pca.describe_certificate_authority(CertificateAuthorityArn=missing_ca)
    stranger = server.client("PICAUNKNOWNKEY0000000", "x" * 40)
    with pytest.raises(ClientError) as unknown_key:
        stranger.list_certificate_authorities()

    key_id, secret = server.credentials()
    account = root_ca.split(":")[4]
    serial = certificate_arn.rsplit("/", 1)[1]
    wanted = {
        request_id(issued): {
            "operation": "IssueCertificate", "status": "200", "ca_arn": root_ca,
            "certificate_arn": certificate_arn, "serial": serial,
        },
        request_id(fetched): {
            "operation": "GetCertificate", "status": "200", "certificate_arn": certificate_arn,
        },
        request_id(missing.value.response): {
            "operation": "DescribeCertificateAuthority", "status": "400",
            "error": "ResourceNotFoundException", "ca_arn": missing_ca,
        },
    }  # fmt: skip
    for rid in wanted:
        wait_for(lambda rid=rid: rid in access_lines(server.log_text()), 10)  # type: ignore[misc]
    lines = access_lines(server.log_text())
    for rid, fields in wanted.items():
        line = lines[rid]
        assert {name: line.get(name) for name in fields} == fields
        assert line["account"] == account
        assert line["access_key_id"] == key_id
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
        assert float(line["duration_ms"]) > 0
    refused = lines[request_id(unknown_key.value.response)]
    assert refused["operation"] == "ListCertificateAuthorities"
    assert refused["error"] == "UnrecognizedClientException"
    assert "account" not in refused and "access_key_id" not in refused

    log = server.log_text()
    assert secret not in log
    assert "BEGIN CERTIFICATE" not in log
    assert csr.decode().splitlines()[1] not in log  # no CSR body, plain or base64


# --- metrics across worker processes ----------------------------------------------------------


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(
        tmp_path / "data",
        free_port(),
        extra_args=("--workers", "2"),
        env={"PICA_ACCESS_LOG": "json"},
    )
    live.start()
    try:
        yield live
    finally:
        live.stop()


def multiprocess_folder(server: LiveServer) -> Path:
    """The PROMETHEUS_MULTIPROC_DIR the server's worker processes were started with."""
    assert server.process is not None
    children = subprocess.run(
        ["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    folders = set()
    for pid in children:
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            if item.startswith(b"PROMETHEUS_MULTIPROC_DIR="):
                folders.add(Path(item.split(b"=", 1)[1].decode()))
    assert len(folders) == 1, children
    (folder,) = folders
    return folder


def prometheus_query(port: int, query: str) -> list[dict[str, Any]]:
    path = "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    status, _, body = get(port, path)
    assert status == 200, body
    result: list[dict[str, Any]] = json.loads(body)["data"]["result"]
    return result


def test_metrics_sum_every_worker_and_prometheus_scrapes_them(
    two_workers: LiveServer, tmp_path: Path
) -> None:
    pca = two_workers.client()
    ca = new_root_with_revocation(
        pca,
        {
            "CrlConfiguration": {"Enabled": True, "S3BucketName": "metrics-crls"},
            "OcspConfiguration": {"Enabled": True},
        },
    )
    arns = [
        pca.issue_certificate(
            CertificateAuthorityArn=ca,
            Csr=make_csr(),
            SigningAlgorithm="SHA256WITHECDSA",
            Validity={"Value": 7, "Type": "DAYS"},
        )["CertificateArn"]
        for _ in range(6)
    ]
    pca.revoke_certificate(
        CertificateAuthorityArn=ca,
        CertificateSerial=arns[0].rsplit("/", 1)[1],
        RevocationReason="KEY_COMPROMISE",
    )
    # keyCertSign on an end-entity certificate: the lint gate refuses to sign it.
    with pytest.raises(pca.exceptions.InvalidArgsException):
        pca.issue_certificate(
            CertificateAuthorityArn=ca,
            Csr=make_csr(),
            SigningAlgorithm="SHA256WITHECDSA",
            Validity={"Value": 7, "Type": "DAYS"},
            TemplateArn=template("BlankEndEntityCertificate_APIPassthrough"),
            ApiPassthrough={
                "Extensions": {"KeyUsage": {"DigitalSignature": True, "KeyCertSign": True}}
            },
        )
    not_after = pca.describe_certificate_authority(CertificateAuthorityArn=ca)[
        "CertificateAuthority"
    ]["NotAfter"]
    acm = acm_client(two_workers)
    acm_arn = acm.request_certificate(DomainName="metrics.example.com", CertificateAuthorityArn=ca)[
        "CertificateArn"
    ]
    acm_not_after = acm.describe_certificate(CertificateArn=acm_arn)["Certificate"]["NotAfter"]

    def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        status, headers, body = get(two_workers.port, "/metrics")
        assert status == 200
        assert headers["content-type"].startswith("text/plain; version=0.0.4")
        return samples(body.decode())

    crl_key = ("pica_crl_next_update_timestamp_seconds", (("ca", ca),))
    wait_for(lambda: crl_key in scrape())
    # Fresh connections land on either worker; every scrape must show the sum of both.
    for _ in range(6):
        found = scrape()
        assert found[("pica_certificates_issued_total", (("ca", ca),))] == 7  # 6 + the root
        assert found[("pica_certificates_revoked_total", (("ca", ca),))] == 1
        assert found[("pica_lint_rejections_total", ())] >= 1
        issue_200 = (("code", "200"), ("operation", "IssueCertificate"))
        assert found[("pica_requests_total", issue_200)] >= 7
        assert (
            found[("pica_request_duration_seconds_count", (("operation", "IssueCertificate"),))]
            >= 8
        )
        assert found[("pica_ca_expiry_timestamp_seconds", (("ca", ca),))] == pytest.approx(
            not_after.timestamp(), abs=1
        )
        assert found[crl_key] > time.time()
        acm_key = ("pica_acm_certificate_expiry_timestamp_seconds", (("certificate", acm_arn),))
        assert found[acm_key] == pytest.approx(acm_not_after.timestamp(), abs=1)

    # The JSON access log: one object per line, each naming its operation.
    entries = [
        json.loads(line)
        for line in two_workers.log_text().splitlines()
        if line.startswith('{"time"')
    ]
    issues = [e for e in entries if e["operation"] == "IssueCertificate" and e["status"] == 200]
    assert {e["certificate_arn"] for e in issues} >= set(arns)
    assert any(e.get("error") == "InvalidArgsException" for e in entries)

    # The workers' shared folder is private, and goes with the server.
    folder = multiprocess_folder(two_workers)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert any(folder.iterdir())
    prometheus = shutil.which("prometheus")
    if prometheus is not None:
        scrape_with_prometheus(prometheus, two_workers, tmp_path, ca, not_after.timestamp())
    two_workers.stop()
    assert not folder.exists()
    if prometheus is None:
        pytest.skip("no prometheus binary (Debian: apt-get install prometheus); parsed only")


def scrape_with_prometheus(
    prometheus: str, server: LiveServer, tmp_path: Path, ca: str, not_after: float
) -> None:
    """A real Prometheus scrapes pica and answers queries over what it stored."""
    port = free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: pica\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{server.port}']\n"
    )
    with (tmp_path / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                prometheus,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        query = f'pica_certificates_issued_total{{ca="{ca}"}}'

        def scraped() -> bool:
            try:
                result = prometheus_query(port, query)
            except (OSError, http.client.HTTPException):
                return False
            return bool(result) and float(result[0]["value"][1]) == 7

        wait_for(scraped, 30)
        up = prometheus_query(port, 'up{job="pica"}')
        assert [float(r["value"][1]) for r in up] == [1.0]
        expiry = prometheus_query(port, f'pica_ca_expiry_timestamp_seconds{{ca="{ca}"}}')
        assert float(expiry[0]["value"][1]) == pytest.approx(not_after, abs=1)
    finally:
        process.terminate()
        process.wait(timeout=15)
