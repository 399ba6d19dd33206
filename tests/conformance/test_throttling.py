"""Throttling as AWS does it (`throttling` setting): ThrottlingException over the rate, shared
buckets across worker processes, boto3's retry modes getting through, off by default.

Two servers with two workers each: one with `throttling = "aws"`, one with a custom table in
pica.toml. Calls over the quota come from several connections at once, so they land on both
workers: one bucket per account and operation holds across them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.pki import issue, make_csr
from tests.support.server import LiveServer, free_port


@pytest.fixture(scope="module")
def aws_rates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(
        tmp_path_factory.mktemp("throttle-aws") / "data",
        free_port(),
        extra_args=("--workers", "2"),
        env={"PICA_THROTTLING": "aws"},
    )
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def custom_rates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("throttle-custom") / "data"
    data.mkdir()
    (data / "pica.toml").write_text(
        '[throttling]\nListCertificateAuthorities = 2\n"acm:ListCertificates" = 1\n'
    )
    live = LiveServer(data, free_port(), extra_args=("--workers", "2"))
    live.start()
    try:
        yield live
    finally:
        live.stop()


def _client(server: LiveServer, service: str = "acm-pca", **retries: Any) -> Any:
    key, secret = server.credentials()
    return boto3.session.Session().client(
        service,
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries=retries or {"max_attempts": 1, "mode": "standard"}),
    )


def _until_throttled(call: Any, limit: int = 10) -> list[str]:
    """Outcomes of `call()` made one after another, up to the first error (or `limit` calls)."""
    outcomes: list[str] = []
    while len(outcomes) < limit and (not outcomes or outcomes[-1] == "ok"):
        try:
            call()
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
    return outcomes


def _timed(run: Any, call: Any) -> tuple[list[str], float]:
    start = time.monotonic()
    outcomes = run(call)
    return outcomes, time.monotonic() - start


def _assert_within_rate(outcomes: list[str], seconds: float, rate: float) -> None:
    """At most a full bucket (`rate` tokens) plus what `seconds` refill passed: on a fast machine
    that means a refusal within the 10 calls; on a loaded one, where each call is slow, the
    bucket may refill in time, but never more than the rate allows."""
    passed = outcomes.count("ok")
    assert passed <= rate + rate * seconds + 1, (outcomes, seconds)
    if seconds < (10 - rate) / rate:  # too fast for the bucket to keep up: one was refused
        assert outcomes[-1] == "ThrottlingException", (outcomes, seconds)


def _burst(
    server: LiveServer, calls: int, threads: int = 8
) -> tuple[int, list[ClientError], float]:
    """`calls` ListCertificateAuthorities from `threads` connections at once, no retries:
    (calls answered, the refusals, seconds the burst took)."""
    clients = [_client(server) for _ in range(threads)]
    for client in clients:  # connections open and requests signed before the clock starts
        client.list_certificate_authorities()
    time.sleep(1.2)  # every bucket full again

    def call(index: int) -> ClientError | None:
        try:
            clients[index % threads].list_certificate_authorities()
        except ClientError as error:
            return error
        return None

    with ThreadPoolExecutor(threads) as pool:
        started = time.monotonic()
        results = list(pool.map(call, range(calls)))
        elapsed = time.monotonic() - started
    refused = [r for r in results if r is not None]
    return calls - len(refused), refused, elapsed


def test_a_burst_over_the_aws_quota_is_throttled_as_aws_answers(aws_rates: LiveServer) -> None:
    # ListCertificateAuthorities: 20 per second.
    answered, refused, elapsed = _burst(aws_rates, 80)
    assert refused, "80 calls at once passed a quota of 20 per second"
    for error in refused:
        assert error.response["Error"]["Code"] == "ThrottlingException"
        assert error.response["Error"]["Message"] == "Rate exceeded"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        headers = error.response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["x-amzn-errortype"] == "ThrottlingException"
    # One bucket for both workers: at most its 20 tokens plus what refilled meanwhile (the
    # per-worker buckets would let about twice as many through.
    assert answered <= 20 + 20 * elapsed + 2, (answered, elapsed)


def test_boto3_retry_modes_get_every_call_through(aws_rates: LiveServer) -> None:
    for mode in ("standard", "adaptive"):
        client = _client(aws_rates, mode=mode, max_attempts=10)
        time.sleep(1.1)

        def call(_: int, client: Any = client) -> int:
            answer = client.list_certificate_authorities()
            retries: int = answer["ResponseMetadata"]["RetryAttempts"]
            return retries

        with ThreadPoolExecutor(4) as pool:
            retries = list(pool.map(call, range(40)))
        assert len(retries) == 40, mode
        if mode == "standard":  # 40 calls at once over a quota of 20: some were retried
            assert sum(retries) > 0


def test_operations_without_a_quota_in_the_table_keep_aws_defaults(
    custom_rates: LiveServer,
) -> None:
    # Sequential calls, up to the first refusal: at 2 per second it comes within 10 calls unless
    # each takes 0.4 s; AWS's 20 per second (a burst of 20) would let all 10 through.
    client = _client(custom_rates)
    time.sleep(1.1)
    outcomes, seconds = _timed(_until_throttled, client.list_certificate_authorities)
    assert outcomes[:2] == ["ok", "ok"]
    _assert_within_rate(outcomes, seconds, rate=2)
    # ACM's ListCertificates at 1 per second, from the table's acm: entry.
    acm = _client(custom_rates, "acm")
    time.sleep(1.1)
    outcomes, seconds = _timed(_until_throttled, acm.list_certificates)
    assert outcomes[0] == "ok"
    _assert_within_rate(outcomes, seconds, rate=1)
    # GetCertificateAuthorityCertificate keeps AWS's 20 per second: 8 calls in a row pass.
    for _ in range(8):
        with pytest.raises(ClientError) as missing:
            client.describe_certificate_authority(
                CertificateAuthorityArn="arn:aws:acm-pca:us-east-1:123456789012:"
                "certificate-authority/00000000-0000-0000-0000-000000000000"
            )
        assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_off_by_default_nothing_is_throttled(server: LiveServer, root_ca: str) -> None:
    answered, refused, _ = _burst(server, 80)
    assert not refused and answered == 80
    # IssueCertificate (25 per second on AWS) from one client, 30 in a row.
    client = _client(server)
    csr = make_csr()
    for _ in range(30):
        issue(client, root_ca, csr)


def _serve_fails(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PICA_"))}
    environment.update(env)
    data = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-m", "pica", "serve", "--port", str(free_port()), "--data-dir", data],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("fast", "throttling must be off, aws or Operation=rate"),
        ("IssueCertificat=5", "'IssueCertificat' is not an operation pica serves"),
        ("IssueCertificate=-1", "the rate of IssueCertificate must be a positive number"),
        ("IssueCertificate=lots", "the rate of IssueCertificate must be a positive number"),
        ('{"IssueCertificate": true}', "the rate of IssueCertificate must be a positive number"),
    ],
)
def test_bad_throttling_settings_stop_the_start_with_one_line(
    tmp_path: Path, value: str, named: str
) -> None:
    done = _serve_fails(tmp_path, PICA_THROTTLING=value)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("pica: "), done.stderr
    assert named in done.stderr
    assert "Traceback" not in done.stderr
