"""The issuance benchmark of issue 8: one command, one run, one table.

    python -m bench issuance [--quick] [--duration S] [--only sqlite|postgres]
                             [--workers 1,2] [--connections 1,4] [--client auto|wrk|python]
                             [--no-moto] [--profile] [--json PATH]

(a) the in-process ceiling: pica's `CertificateService.issue` and bare pyca/cryptography
    build+sign (with and without CSR parse+verify) for P-256, P-384, RSA-2048, RSA-4096 CAs;
(b) durable IssueCertificate over HTTP: one botocore-signed request replayed over keep-alive
    connections against `pica serve --workers N` on SQLite and PostgreSQL;
(c) the same request against moto's server, and pica/moto;
(d) OCSP (POST and GET of one DER request) and GetCertificate over HTTP;
then the targets of issue 8 and whether each is met. `--profile` adds py-spy profiles of the
server under IssueCertificate, GetCertificate and OCSP (see bench/profile.py).

Every phase counts each response's status: rows with a non-2xx answer or a failed connection are
flagged, and the command exits 1 after printing the table. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cryptography
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from tests.support.pki import ca_config, new_root, new_root_with_revocation, ocsp_url

from bench import ceiling, report
from bench.replay import Replay, Replayer, WarmUpFailed, choose, warm_up
from bench.servers import (
    BenchDatabase,
    MotoServer,
    PicaServer,
    bench_database,
    cpu_seconds,
    drained,
)
from bench.signed import RawRequest, client, ocsp_get, ocsp_post, signed

ISSUE = "IssueCertificate"
GET_CERTIFICATE = "GetCertificate"
OCSP_POST = "OCSP POST"
OCSP_GET = "OCSP GET"
OUT_DIR = Path(__file__).resolve().parent / "out"


@dataclass(frozen=True)
class Options:
    duration: float
    backends: tuple[str, ...]
    workers: tuple[int, ...]
    connections: tuple[int, ...]
    client: str
    ca_keys: tuple[str, ...]
    moto: bool
    inprocess_seconds: float
    warm_up_requests: int
    profile: bool
    profile_only: bool
    profile_seconds: int
    out_dir: Path
    json_path: Path | None
    quick: bool


def _int_list(text: str) -> tuple[int, ...]:
    values = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers like 1,4: {text!r}")
    return values


def parse_args(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench issuance",
        description="pica issuance benchmark (issue 8): in-process ceiling, IssueCertificate over "
        "HTTP on SQLite and PostgreSQL with 1 and 2 workers, moto, OCSP, GetCertificate.",
    )
    parser.add_argument("--quick", action="store_true", help="short phases (the smoke test)")
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds per HTTP phase (default 5, quick 1)"
    )
    parser.add_argument("--only", choices=("sqlite", "postgres"), default=None)
    parser.add_argument(
        "--workers", type=_int_list, default=(1, 2), help="pica serve --workers (default 1,2)"
    )
    parser.add_argument(
        "--connections", type=_int_list, default=(1, 4), help="keep-alive connections (1,4)"
    )
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="replay client: wrk (installed with apt-get when missing, as root), python, or "
        "auto (wrk when possible)",
    )
    labels = [key.label for key in ceiling.KEY_TYPES]
    parser.add_argument(
        "--ca-keys",
        default=",".join(labels),
        help=f"CA keys of the in-process ceiling (default {','.join(labels)})",
    )
    parser.add_argument("--no-moto", action="store_true", help="skip the moto comparison")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the server with py-spy (1 worker, SQLite) under IssueCertificate, "
        "GetCertificate and OCSP; files under --out",
    )
    parser.add_argument(
        "--profile-only", action="store_true", help="only the profiles (implies --profile)"
    )
    parser.add_argument(
        "--profile-duration", type=float, default=None, help="seconds per profile (default 15)"
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"default {OUT_DIR}")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    ca_keys = tuple(part.strip() for part in args.ca_keys.split(",") if part.strip())
    unknown = set(ca_keys) - set(labels)
    if unknown or not ca_keys:
        parser.error(f"--ca-keys takes some of {','.join(labels)}, not {args.ca_keys!r}")
    return Options(
        duration=args.duration if args.duration is not None else (1.0 if quick else 5.0),
        backends=(args.only,) if args.only else ("sqlite", "postgres"),
        workers=args.workers,
        connections=args.connections,
        client=args.client,
        ca_keys=ca_keys,
        moto=not args.no_moto,
        inprocess_seconds=0.25 if quick else 1.5,
        warm_up_requests=5 if quick else 40,
        profile=bool(args.profile or args.profile_only),
        profile_only=bool(args.profile_only),
        profile_seconds=max(1, round(args.profile_duration or (3 if quick else 15))),
        out_dir=args.out,
        json_path=args.json,
        quick=quick,
    )


# --- what a phase needs ------------------------------------------------------------------------


@dataclass
class Fixture:
    """The CAs and certificates the phases use, made once per database through the real API."""

    issuing_ca: str  # P-256 root, no revocation configured: the IssueCertificate workload
    leaf_arn: str  # a certificate of issuing_ca, for GetCertificate
    ocsp_der: bytes  # a DER OCSP request for a certificate of a P-256 CA with OCSP enabled
    ocsp_path: str


@dataclass
class Phase:
    target: str  # "sqlite", "postgres" or "moto"
    workers: int | None
    operation: str
    replay: Replay

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "workers": self.workers,
            "operation": self.operation,
            **self.replay.to_json(),
        }


@dataclass
class Results:
    environment: dict[str, str] = field(default_factory=dict)
    ceilings: list[ceiling.Ceiling] = field(default_factory=list)
    inprocess_postgres: float | None = None
    phases: list[Phase] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)

    def find(
        self, target: str, operation: str, connections: int, workers: int | None = None
    ) -> Replay | None:
        for phase in self.phases:
            if (
                phase.target == target
                and phase.operation == operation
                and phase.replay.connections == connections
                and (workers is None or phase.workers == workers)
            ):
                return phase.replay
        return None


def issue_params(ca_arn: str, csr: bytes) -> dict[str, Any]:
    return {
        "CertificateAuthorityArn": ca_arn,
        "Csr": csr,
        "SigningAlgorithm": "SHA256WITHECDSA",
        "Validity": {"Value": 30, "Type": "DAYS"},
    }


def _json_has(member: str) -> Callable[[bytes], str | None]:
    def check(body: bytes) -> str | None:
        try:
            if member in json.loads(body):
                return None
        except ValueError:
            pass
        return f"expected a JSON body with {member}, got {body[:300]!r}"

    return check


def _ocsp_good(body: bytes) -> str | None:
    try:
        answer = ocsp.load_der_ocsp_response(body)
    except ValueError as exc:
        return f"not an OCSP response: {exc}"
    if answer.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        return f"OCSP responseStatus {answer.response_status.name}"
    if answer.certificate_status is not ocsp.OCSPCertStatus.GOOD:
        return f"OCSP certStatus {answer.certificate_status.name}"
    return None


CHECKS: dict[str, Callable[[bytes], str | None]] = {
    ISSUE: _json_has("CertificateArn"),
    GET_CERTIFICATE: _json_has("Certificate"),
    OCSP_POST: _ocsp_good,
    OCSP_GET: _ocsp_good,
}


def make_fixture(pca: Any, csr: bytes) -> Fixture:
    issuing = new_root(pca)
    leaf = pca.issue_certificate(**issue_params(issuing, csr))["CertificateArn"]
    ocsp_ca = new_root_with_revocation(pca, {"OcspConfiguration": {"Enabled": True}})
    ocsp_leaf_arn = pca.issue_certificate(**issue_params(ocsp_ca, csr))["CertificateArn"]
    got = pca.get_certificate(CertificateAuthorityArn=ocsp_ca, CertificateArn=ocsp_leaf_arn)
    leaf_certificate = x509.load_pem_x509_certificate(got["Certificate"].encode())
    issuer = x509.load_pem_x509_certificate(got["CertificateChain"].encode())
    der = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(leaf_certificate, issuer, hashes.SHA1())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    return Fixture(issuing, leaf, der, urlsplit(ocsp_url(leaf_certificate)).path or "/")


# --- the run -----------------------------------------------------------------------------------


class Bench:
    def __init__(self, options: Options, replayer: Replayer, tmp: Path) -> None:
        self.options = options
        self.replayer = replayer
        self.tmp = tmp
        self.csr = ceiling.subject_csr()
        self.results = Results()
        self.started = time.monotonic()

    def log(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:5.0f} s] {text}", file=sys.stderr, flush=True)

    # HTTP phases ------------------------------------------------------------------------------

    def measure(
        self,
        target: str,
        workers: int | None,
        operation: str,
        port: int,
        pid: int,
        connections: int,
        sign: Callable[[], RawRequest],
        duration: float | None = None,
        during: Callable[[float], Any] | None = None,
    ) -> Replay:
        """Sign now, warm up (checking the answers), replay, record: one row of the table."""
        request = sign()
        warm_up(port, request, connections, self.options.warm_up_requests, CHECKS[operation])
        if workers is not None and workers > 1:
            drained(port, pid)
        seconds = duration or self.options.duration
        context = during(seconds) if during else None
        before = cpu_seconds(pid)
        replay = self.replayer.run(port, request, connections, seconds)
        replay.server_cpu_s = cpu_seconds(pid) - before
        if context is not None:
            context.finish(replay)
        self.results.phases.append(Phase(target, workers, operation, replay))
        where = f"{target} {workers}w" if workers else target
        mark = "" if replay.clean else f"  <-- {replay.failed} FAILED"
        self.log(
            f"  {where:<12} {connections}c {operation:<17} {replay.rate:9.1f}/s  "
            f"p50 {replay.p50_ms:7.2f} ms  p99 {replay.p99_ms:8.2f} ms{mark}"
        )
        return replay

    def pica_phases(self, backend: str, database: BenchDatabase | None) -> None:
        data_dir = self.tmp / backend
        fixture: Fixture | None = None
        for workers in self.options.workers:
            server = PicaServer(data_dir, workers, database.url if database else None)
            self.log(f"{backend}: pica serve --workers {workers}")
            server.start()
            try:
                key, secret = server.credentials()
                if fixture is None:
                    setup = server.client()
                    fixture = make_fixture(setup, self.csr)
                    setup.close()
                self._server_phases(
                    backend, workers, server, client(server.endpoint, key, secret), fixture
                )
            except WarmUpFailed as exc:
                raise SystemExit(
                    f"{backend} --workers {workers}: the warm-up got a wrong answer, so nothing "
                    f"was measured: {exc}\nserver log:\n{server.log_tail()}"
                ) from exc
            finally:
                server.stop()

    def _server_phases(
        self, backend: str, workers: int, server: PicaServer, pca: Any, fixture: Fixture
    ) -> None:
        host = f"127.0.0.1:{server.port}"
        for connections in self.options.connections:
            self.measure(
                backend,
                workers,
                ISSUE,
                server.port,
                server.pid,
                connections,
                lambda: signed(
                    pca, "issue_certificate", **issue_params(fixture.issuing_ca, self.csr)
                ),
            )
        most = max(self.options.connections)
        self.measure(
            backend,
            workers,
            OCSP_POST,
            server.port,
            server.pid,
            most,
            lambda: ocsp_post(host, fixture.ocsp_path, fixture.ocsp_der),
        )
        self.measure(
            backend,
            workers,
            OCSP_GET,
            server.port,
            server.pid,
            most,
            lambda: ocsp_get(host, fixture.ocsp_path, fixture.ocsp_der),
        )
        self.measure(
            backend,
            workers,
            GET_CERTIFICATE,
            server.port,
            server.pid,
            most,
            lambda: signed(
                pca,
                "get_certificate",
                CertificateAuthorityArn=fixture.issuing_ca,
                CertificateArn=fixture.leaf_arn,
            ),
        )

    def moto_phases(self) -> None:
        moto = MotoServer(self.tmp / "moto.log")
        self.log("moto: moto_server")
        moto.start()
        try:
            mpca = moto.client()
            arn = mpca.create_certificate_authority(
                CertificateAuthorityConfiguration=ca_config(),
                CertificateAuthorityType="ROOT",
            )["CertificateAuthorityArn"]
            key, secret = moto.credentials()
            pca = client(moto.endpoint, key, secret)
            for connections in self.options.connections:
                self.measure(
                    "moto",
                    None,
                    ISSUE,
                    moto.port,
                    moto.pid,
                    connections,
                    lambda: signed(pca, "issue_certificate", **issue_params(arn, self.csr)),
                )
        finally:
            moto.stop()

    # the whole run ---------------------------------------------------------------------------

    def run(self) -> Results:
        options = self.options
        self.results.environment = environment(self.replayer)
        if options.profile_only:
            from bench.profile import profile_server

            self.results.profiles = profile_server(self)
            return self.results
        self.log(f"(a) in-process ceilings ({options.inprocess_seconds:g} s each)")
        key_types = tuple(k for k in ceiling.KEY_TYPES if k.label in options.ca_keys)
        self.results.ceilings = ceiling.ceilings(
            self.tmp / "inprocess", self.csr, options.inprocess_seconds, key_types
        )
        for backend in options.backends:
            with ExitStack() as stack:
                database = None
                if backend == "postgres":
                    database = stack.enter_context(bench_database())
                    self.results.environment["postgres"] = database.settings()
                    self.results.inprocess_postgres = ceiling.pica_issue_rate(
                        self.tmp / backend, database.url, self.csr, options.inprocess_seconds
                    )
                self.pica_phases(backend, database)
        if options.moto:
            if MotoServer.command() is None:
                self.results.skipped.append("moto: moto_server is not installed (moto[server])")
            else:
                self.moto_phases()
        if options.profile:
            from bench.profile import profile_server

            self.results.profiles = profile_server(self)
        return self.results


def _git_commit() -> str:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        commit = completed.stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        return f"{commit}{' (modified)' if dirty else ''}" if commit else "unknown"
    except OSError:
        return "unknown"


def environment(replayer: Replayer) -> dict[str, str]:
    load = os.getloadavg()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "pica": _git_commit(),
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, Linux {platform.release()}",
        "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min) at start",
        "python": f"{platform.python_version()}, cryptography {cryptography.__version__}",
        "client": replayer.describe(),
        "sqlite": "pica's settings: WAL, synchronous=NORMAL (a commit survives a killed process)",
    }


@contextmanager
def _temporary_directory() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="pica-bench-") as name:
        yield Path(name)


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    replayer = choose(options.client)
    with _temporary_directory() as tmp:
        bench = Bench(options, replayer, tmp)
        results = bench.run()
    load = os.getloadavg()
    results.environment["load"] += f"; {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end"
    text = report.render(results, options)
    print(text, flush=True)
    if options.json_path is not None:
        options.json_path.write_text(json.dumps(report.as_json(results, options), indent=2))
    return 0 if all(phase.replay.clean for phase in results.phases) else 1


if __name__ == "__main__":
    started = time.monotonic()
    code = main(sys.argv[1:])
    print(f"(took {time.monotonic() - started:.0f} s)", file=sys.stderr)
    sys.exit(code)
