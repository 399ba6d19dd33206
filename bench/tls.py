"""IssueCertificate over plain HTTP, with throttling on, and over TLS, in one run and one table.

    python -m bench tls [--duration S] [--connections 1,4] [--workers N]

Three `pica serve` on SQLite, one after the other (never two at once): plain HTTP; plain HTTP
with `throttling` on at a rate no call reaches (every call pays the bucket, none is refused);
`--tls` with the internal TLS CA. Each replays one botocore-signed IssueCertificate with wrk
over keep-alive connections (`https://` for TLS: wrk's TLS handshake happens once per
connection, as a keep-alive SDK client's does), and prints requests per second, p50/p99 and the
ratio to plain HTTP. Exits 1 when a row saw a non-2xx answer or a socket error. Needs wrk.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.pki import new_root

from bench import ceiling
from bench.issuance import issue_params
from bench.replay import Replay, find_wrk, run_wrk
from bench.servers import PicaServer
from bench.signed import signed

# A rate no benchmark reaches: the bucket is consulted on every call, never empty.
UNREACHABLE_RATE = "IssueCertificate=1000000"


@dataclass(frozen=True)
class Variant:
    name: str
    tls: bool
    env: dict[str, str]


VARIANTS = (
    Variant("plain HTTP", False, {}),
    Variant("HTTP + throttling", False, {"PICA_THROTTLING": UNREACHABLE_RATE}),
    Variant("TLS", True, {}),
)


def _measure(
    variant: Variant, workers: int, connections: list[int], duration: int, wrk: str
) -> list[Replay]:
    with tempfile.TemporaryDirectory(prefix="pica-bench-tls-") as folder:
        server = PicaServer(Path(folder) / "data", workers, tls=variant.tls, env=variant.env)
        server.start()
        try:
            pca = server.client()
            csr = ceiling.subject_csr()
            root = new_root(pca)
            for _ in range(20):  # caches warm, in every worker
                pca.issue_certificate(**issue_params(root, csr))
            request = signed(pca, "issue_certificate", **issue_params(root, csr))
            scheme = "https" if variant.tls else "http"
            return [
                run_wrk(wrk, server.port, request, count, duration, scheme) for count in connections
            ]
        finally:
            server.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench tls", description=__doc__)
    parser.add_argument("--duration", type=int, default=5, help="seconds per row (default 5)")
    parser.add_argument("--connections", default="1,4", help="keep-alive connections per row")
    parser.add_argument("--workers", type=int, default=1, help="pica worker processes")
    args = parser.parse_args(argv)
    wrk = find_wrk(install=True)
    if wrk is None:
        print("bench tls needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    connections = [int(c) for c in args.connections.split(",")]
    results = {v.name: _measure(v, args.workers, connections, args.duration, wrk) for v in VARIANTS}
    plain = results[VARIANTS[0].name]
    print(f"IssueCertificate, SQLite, {args.workers} worker(s), wrk, {args.duration} s per row")
    print(f"{'variant':<20}{'conns':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs plain':>10}")
    clean = True
    for name, replays in results.items():
        for replay, base in zip(replays, plain, strict=True):
            ratio = replay.rate / base.rate if base.rate else 0.0
            flag = "" if replay.clean else f"  ({replay.failed} failed)"
            clean = clean and replay.clean
            print(
                f"{name:<20}{replay.connections:>6}{replay.rate:>9.0f}{replay.p50_ms:>9.1f}"
                f"{replay.p99_ms:>9.1f}{ratio:>10.2f}{flag}"
            )
    return 0 if clean else 1
