"""`python -m bench alternate`: two versions of pica served side by side, their phases alternated.

    python -m bench alternate --a REV [--b REV] [--rounds 6] [--duration 5] [--connections 4]
                              [--workers 2] [--postgres] [--b-env K=V,...]

On a shared 2-core VM the same code runs 25% faster or slower from one minute to the next, so
two `make bench` runs a minute apart cannot tell a 10% change from noise. Here both versions
run at once (each `pica serve` in its own data dir, each from its own source tree: `--a`/`--b`
are git revisions exported with `git archive`, or `.` for the working tree) and the wrk phases
alternate A B, B A, A B, ...: each pair shares the machine's minute. It prints every phase,
then the means, and how many pairs each version won. IssueCertificate, P-256 CA, as
`python -m bench issuance` measures it (bench/README.md, "How a phase is measured").
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.pki import new_root

from bench import ceiling
from bench.issuance import CHECKS, ISSUE
from bench.replay import choose, warm_up
from bench.servers import PicaServer, bench_database, cpu_seconds, drained
from bench.signed import signed

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Version:
    label: str
    revision: str
    server: PicaServer
    pca: Any
    ca_arn: str
    phases: list[tuple[float, float, float]]  # rate, p99 ms, server CPU ms per request


def source_tree(revision: str, into: Path) -> Path:
    """The `src` folder of `revision` (`.`: this working tree, as it is)."""
    if revision == ".":
        return REPO / "src"
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def _env_pairs(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split(",") if pair)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench alternate", description=__doc__)
    parser.add_argument("--a", required=True, help="git revision of version A (. = work tree)")
    parser.add_argument("--b", default=".", help="git revision of version B (default: .)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", action="store_true", help="both on PostgreSQL")
    parser.add_argument("--b-env", default="", help="extra environment of B's server: K=V,...")
    options = parser.parse_args(argv)
    replayer = choose("auto")
    csr = ceiling.subject_csr()
    with ExitStack() as stack:
        versions: list[Version] = []
        for label, revision, extra in (
            ("A", options.a, {}),
            ("B", options.b, _env_pairs(options.b_env)),
        ):
            tree = source_tree(revision, Path(stack.enter_context(tempfile.TemporaryDirectory())))
            url = stack.enter_context(bench_database()).url if options.postgres else None
            server = PicaServer(
                Path(stack.enter_context(tempfile.TemporaryDirectory())),
                workers=options.workers,
                database_url=url,
                env={"PYTHONPATH": str(tree), **extra},
            )
            server.start()
            stack.callback(server.stop)
            pca = server.client()
            versions.append(Version(label, revision, server, pca, new_root(pca), []))
            pca.close()  # it only signs from now on: its idle connection would take a share
        for round_number in range(options.rounds):
            order = versions if round_number % 2 == 0 else versions[::-1]
            for version in order:
                request = signed(
                    version.pca,
                    "issue_certificate",
                    CertificateAuthorityArn=version.ca_arn,
                    Csr=csr,
                    SigningAlgorithm="SHA256WITHECDSA",
                    Validity={"Value": 30, "Type": "DAYS"},
                )
                port = version.server.port
                warm_up(port, request, options.connections, 50, CHECKS[ISSUE])
                if options.workers > 1:
                    drained(port, version.server.pid)
                before = cpu_seconds(version.server.pid)
                replay = replayer.run(port, request, options.connections, options.duration)
                cpu_ms = 1000 * (cpu_seconds(version.server.pid) - before)
                per_request = cpu_ms / max(1.0, replay.rate * options.duration)
                version.phases.append((replay.rate, replay.p99_ms, per_request))
                flag = "" if replay.clean else f"  {replay.failed} FAILED"
                print(
                    f"round {round_number} {version.label}: {replay.rate:7.0f}/s  "
                    f"p99 {replay.p99_ms:6.2f} ms  srv CPU {per_request:.3f} ms{flag}",
                    flush=True,
                )
    a, b = versions
    pairs = zip(a.phases, b.phases, strict=True)
    wins = sum(1 for (rate_a, _, _), (rate_b, _, _) in pairs if rate_b > rate_a)
    for version in versions:
        phases = version.phases
        print(
            f"{version.label} ({version.revision}): mean {_mean(p[0] for p in phases):7.0f}/s  "
            f"p99 {_mean(p[1] for p in phases):6.2f} ms  "
            f"srv CPU {_mean(p[2] for p in phases):.3f} ms per request"
        )
    print(
        f"B/A: {_mean(p[0] for p in b.phases) / _mean(p[0] for p in a.phases):.2f}x the rate; "
        f"B faster in {wins} of {len(a.phases)} rounds"
    )
    return 0


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
