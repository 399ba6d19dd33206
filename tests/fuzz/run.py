"""A long fuzz run against a live pica (`python -m tests.fuzz`, `make fuzz`).

Starts `pica serve` in a temporary data dir, makes the targets (`tests.fuzz.world`), then runs P
client processes, each drawing its share of N requests from `tests.fuzz.strategies.any_request`
with hypothesis (generation only: a run counts every answer instead of stopping at the first
failure) and sending them over one keep-alive connection. At the end it prints the totals by
kind and status, checks that the server still answers and that a CA of another account (made
before the run, with a published CRL) is unchanged and its CRL still served, and looks for
unexpected exceptions in the server's log. Exit status 1 when any request got a 5xx (501
aside), went unanswered, or the server stopped answering.

The workers live in this module, not in `__main__`, so that spawned processes can import them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.fuzz.strategies import HttpRequest, ModelStrategies, Targets, any_request
from tests.fuzz.world import Sender, build_targets, is_server_error, server_errors_in
from tests.support.pki import cdp_url, issue, new_root_with_revocation
from tests.support.revocation import wait_for_crl
from tests.support.server import LiveServer, free_port

MAX_LISTED_FAILURES = 20


@dataclass
class Tally:
    counts: Counter[tuple[str, int]] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.operations.update(other.operations)
        self.codes.update(other.codes)
        self.failures.extend(other.failures[: MAX_LISTED_FAILURES - len(self.failures)])
        self.seconds = max(self.seconds, other.seconds)


def _kind(request: HttpRequest) -> str:
    return request.kind.split(":", 1)[0]


def run_worker(targets: Targets, port: int, examples: int, worker_seed: int) -> Tally:
    """One client process: `examples` generated requests over one keep-alive connection."""
    tally = Tally()
    sender = Sender(port)
    strategy = any_request(ModelStrategies(targets))

    @seed(worker_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def drive(request: HttpRequest) -> None:
        status, code = sender.exchange(request)
        tally.counts[(_kind(request), status)] += 1
        if code:
            tally.codes[code] += 1
        if request.kind.startswith("api:"):
            tally.operations[request.kind[4:]] += 1
        if is_server_error(status) and len(tally.failures) < MAX_LISTED_FAILURES:
            tally.failures.append(f"{status} {request.kind}: {request.describe()}")

    started = time.monotonic()
    try:
        drive()
    finally:
        sender.close()
    tally.seconds = time.monotonic() - started
    return tally


@dataclass(frozen=True)
class Sentinel:
    """A CA of another account than the fuzzer's, with a published CRL: after the run it must
    be unchanged and its CRL still served."""

    ca_arn: str
    crl_url: str
    described: dict[str, object]


def make_sentinel(server: LiveServer) -> Sentinel:
    pca = server.client()
    ca = new_root_with_revocation(
        pca, {"CrlConfiguration": {"Enabled": True, "S3BucketName": "sentinel-crls"}}
    )
    certificate, _ = issue(pca, ca)
    url = cdp_url(certificate)
    wait_for_crl(url, lambda crl: True)
    described = pca.describe_certificate_authority(CertificateAuthorityArn=ca)
    return Sentinel(ca, url, described["CertificateAuthority"])


def still_answers(server: LiveServer, sentinel: Sentinel) -> list[str]:
    """Problems with the server after the run (empty when it answers as it should)."""
    problems = []
    pca = server.client()
    started = time.monotonic()
    try:
        described = pca.describe_certificate_authority(CertificateAuthorityArn=sentinel.ca_arn)
        if described["CertificateAuthority"] != sentinel.described:
            problems.append(f"the other account's CA changed: {described}")
    except Exception as error:
        problems.append(f"DescribeCertificateAuthority failed after the run: {error}")
    latency = time.monotonic() - started
    if latency > 2:
        problems.append(f"DescribeCertificateAuthority took {latency:.1f} s after the run")
    try:
        with urllib.request.urlopen(sentinel.crl_url, timeout=10) as answer:
            answer.read()
    except Exception as error:
        problems.append(f"the CRL at {sentinel.crl_url} is not served: {error}")
    problems += server_errors_in(server.log_text().splitlines())[:MAX_LISTED_FAILURES]
    return problems


def report(tally: Tally, requests: int, elapsed: float) -> None:
    total = sum(tally.counts.values())
    print(f"\n{total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s), asked for {requests}")
    by_status: Counter[int] = Counter()
    for (_, status), count in tally.counts.items():
        by_status[status] += count
    print("by status: " + ", ".join(f"{s or 'dropped'}: {c}" for s, c in sorted(by_status.items())))
    for kind in sorted({k for k, _ in tally.counts}):
        statuses = sorted((s, c) for (k, s), c in tally.counts.items() if k == kind)
        print(f"  {kind:9} " + ", ".join(f"{s or 'dropped'}: {c}" for s, c in statuses))
    if tally.operations:
        fewest, most = min(tally.operations.values()), max(tally.operations.values())
        print(f"  {len(tally.operations)} operations, {fewest} to {most} requests each")
    print("error codes: " + ", ".join(f"{c}: {n}" for c, n in tally.codes.most_common()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    arguments = parser.parse_args(argv)

    data = Path(tempfile.mkdtemp(prefix="pica-fuzz-")) / "data"
    data.mkdir()
    # Valid CreateCertificateAuthority requests cost a key generation each: keep them bounded.
    (data / "pica.toml").write_text('max_cas_per_account = 25\nlog_level = "warning"\n')
    server = LiveServer(data, free_port())
    server.start()
    try:
        sentinel = make_sentinel(server)
        targets = build_targets(server)
        share = -(-arguments.requests // arguments.processes)
        print(
            f"fuzzing {server.endpoint}: {arguments.processes} processes x {share} requests, "
            f"seeds {arguments.seed}..{arguments.seed + arguments.processes - 1}",
            flush=True,
        )
        started = time.monotonic()
        jobs = [
            (targets, server.port, share, arguments.seed + n) for n in range(arguments.processes)
        ]
        total = Tally()
        with multiprocessing.get_context("spawn").Pool(arguments.processes) as pool:
            for tally in pool.starmap(run_worker, jobs):
                total.add(tally)
        elapsed = time.monotonic() - started
        report(total, arguments.requests, elapsed)
        problems = [*total.failures, *still_answers(server, sentinel)]
    finally:
        server.stop()
    if problems:
        print("\nFAILED:\n" + "\n".join(problems))
        return 1
    print("no 5xx, no dropped connection, and the server still answers")
    return 0
