"""`--profile`: where a pica worker's time goes, sampled with py-spy while wrk replays a request.

For IssueCertificate, GetCertificate and OCSP POST (1 worker, 4 connections, SQLite), py-spy
records the server process (`py-spy record --format raw --nolineno`, all threads, idle threads
left out) while the replay runs. Each profile becomes three files under `bench/out/<time>/`:

- `<op>.collapsed.txt`: the folded stacks (flamegraph.pl, speedscope and inferno read them);
- `<op>.speedscope.json`: open it at speedscope.app (or `npx speedscope FILE`) for a flame graph;
- `<op>.summary.txt`: the time in each stage of a request (rules below) and the top functions.

A sample belongs to the first stage in `STAGES` whose rule matches a frame of its stack, so
nested work lands in the most specific stage (the lint gate's throwaway signature is lint, not
signing). Samples that are waits (thread-pool workers parked on their queue, the event loop in
epoll, a thread waiting for SQLite's write lock) are reported apart from the work: py-spy counts
a thread that is runnable but not running (waiting for a core or the GIL) as active, so on a
busy machine waits show up. Milliseconds per request are the stage's share of the work samples
times the server CPU per request measured during the same replay (from /proc).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bench.replay import Replay
from bench.servers import PicaServer
from bench.signed import client, ocsp_post, signed

if TYPE_CHECKING:
    from bench.issuance import Bench

SAMPLE_RATE = 100  # py-spy's default; each sample briefly stops the process

# (stage, kind, substrings; a frame matches when it contains any of them). Order is priority.
WAIT, WORK = "wait", "work"
STAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("background tasks (CRL publisher, purge)", WORK, ("publish_loop", "purge_loop")),
    ("SQLite write lock wait (BEGIN IMMEDIATE)", WAIT, ("_begin_sqlite_transaction",)),
    ("SigV4: access-key lookup (SQL)", WORK, ("AccountService.secret_for",)),
    ("SigV4 (botocore signer, HMAC)", WORK, ("SigV4Verifier.",)),
    ("lint gate (structural rules + throwaway signature)", WORK, ("LintGate.",)),
    ("signing with the CA key", WORK, ("sign (pica/authority/issuance.py)",)),
    ("CSR parse + signature check", WORK, ("load_csr (",)),
    ("profile composition (template, extensions)", WORK, ("compose (pica/authority/profiles",)),
    (
        "certificate builder + SKI/AKI",
        WORK,
        ("certificate_builder (", "issuer_key_identifier ("),
    ),
    ("CA certificate PEM parse (per request)", WORK, ("parse_certificate_pem (",)),
    ("OCSP: sign the response", WORK, ("_sign (pica/authority/ocsp.py)",)),
    ("SQL commit", WORK, ("_commit_impl (sqlalchemy", "do_commit (sqlalchemy")),
    ("SQL: load the CA record", WORK, ("load_ca (pica/authority",)),
    ("SQL: insert the certificate", WORK, ("insert_certificate (pica/adapters",)),
    ("SQL: read the certificate", WORK, ("get_certificate (pica/adapters",)),
    (
        "SQL: other statements, pool (SQLAlchemy)",
        WORK,
        ("pica/adapters/storage/", "sqlalchemy/", "sqlite3"),
    ),
    ("OCSP: parse request, build response (asn1crypto)", WORK, ("pica/authority/ocsp.py",)),
    ("model validation (botocore model)", WORK, ("RequestValidator.", "awsjson/validation.py")),
    (
        "JSON decode/encode",
        WORK,
        ("loads (json/", "dumps (json/", "without_nulls (", "json_response ("),
    ),
    ("pica domain (other)", WORK, ("pica/authority/",)),
    ("handler: wire -> domain request", WORK, ("pica/wire/awsjson/handlers.py",)),
    (
        "thread pool: parked workers",
        WAIT,
        ("Condition.wait (threading.py)",),
    ),
    (
        "thread hop (run_in_threadpool, anyio, wake-ups)",
        WORK,
        (
            "run_in_threadpool",
            "anyio/",
            "call_soon_threadsafe",
            "_write_to_self",
            "Condition.notify",
            "queue.py",
            "threading.py",
        ),
    ),
    ("request body read", WORK, ("read_limited (", "starlette/requests.py")),
    (
        "HTTP response write (uvicorn, h11, socket)",
        WORK,
        (
            "RequestResponseCycle.send (",
            "_SelectorSocketTransport.write",
        ),
    ),
    ("HTTP parsing (uvicorn h11)", WORK, ("h11/", "uvicorn/protocols/")),
    ("Starlette routing + middleware", WORK, ("starlette/", "uvicorn/middleware")),
    ("pica wire (other)", WORK, ("pica/wire/", "pica/app.py")),
    ("event loop: waiting in epoll", WAIT, ("EpollSelector.select",)),
    ("asyncio event loop", WORK, ("asyncio/",)),
    ("other", WORK, ("",)),
)


def stage_of(frames: list[str]) -> tuple[str, str]:
    for name, kind, needles in STAGES:
        for needle in needles:
            if any(needle in frame for frame in frames):
                return name, kind
    return "other", WORK


@dataclass
class Profile:
    operation: str
    stacks: list[tuple[list[str], int]]
    replay: Replay | None

    @classmethod
    def load(cls, operation: str, path: Path, replay: Replay | None) -> Profile:
        stacks = []
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                stacks.append((stack.split(";"), int(count)))
        return cls(operation, stacks, replay)

    @property
    def total(self) -> int:
        return sum(count for _, count in self.stacks)

    def stages(self) -> tuple[Counter[str], Counter[str]]:
        work: Counter[str] = Counter()
        wait: Counter[str] = Counter()
        for frames, count in self.stacks:
            name, kind = stage_of(frames)
            (work if kind == WORK else wait)[name] += count
        return work, wait

    def summary(self, top: int = 25) -> str:
        total = self.total or 1
        work, wait = self.stages()
        work_total = sum(work.values()) or 1
        cpu_ms = self.replay.server_cpu_ms_per_request if self.replay else None
        lines = [f"{self.operation}: {self.total} samples at {SAMPLE_RATE} Hz"]
        if self.replay is not None:
            lines[0] += (
                f"; replay {self.replay.rate:,.0f} req/s over {self.replay.connections} "
                f"connections, p50 {self.replay.p50_ms:.2f} ms, p99 {self.replay.p99_ms:.2f} ms, "
                f"server CPU {cpu_ms:.2f} ms/request"
                if cpu_ms is not None
                else ""
            )
        lines += [
            "",
            f"  {'stage (work)':<52} {'% work':>7} {'% all':>6} {'ms/req':>7}",
        ]
        for name, count in work.most_common():
            share = count / work_total
            ms = f"{share * cpu_ms:7.3f}" if cpu_ms is not None else "      -"
            lines.append(f"  {name:<52} {100 * share:6.1f}% {100 * count / total:5.1f}% {ms}")
        lines += ["", f"  {'waits (not CPU work)':<52} {'':>7} {'% all':>6}"]
        for name, count in wait.most_common():
            lines.append(f"  {name:<52} {'':>7} {100 * count / total:5.1f}%")
        lines += ["", f"  top {top} functions by own time (% of work samples):"]
        own: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        for frames, count in self.stacks:
            if stage_of(frames)[1] == WAIT:
                continue
            own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
        for frame, count in own.most_common(top):
            lines.append(f"    {100 * count / work_total:5.1f}%  {frame}")
        lines += ["", f"  top {top} pica functions by inclusive time (% of work samples):"]
        pica = [(f, c) for f, c in inclusive.most_common() if "pica/" in f]
        for frame, count in pica[:top]:
            lines.append(f"    {100 * count / work_total:5.1f}%  {frame}")
        return "\n".join(lines)

    def speedscope(self) -> dict[str, object]:
        frames: dict[str, int] = {}
        samples, weights = [], []
        for stack, count in self.stacks:
            samples.append([frames.setdefault(frame, len(frames)) for frame in stack])
            weights.append(count)
        shared = []
        for frame in frames:
            name, _, file = frame.partition(" (")
            shared.append({"name": name, "file": file.rstrip(")")})
        return {
            "$schema": "https://www.speedscope.app/file-format-schema.json",
            "exporter": "pica bench/profile.py (py-spy raw samples)",
            "name": f"pica {self.operation}",
            "activeProfileIndex": 0,
            "shared": {"frames": shared},
            "profiles": [
                {
                    "type": "sampled",
                    "name": f"pica serve, 1 worker: {self.operation}",
                    "unit": "none",
                    "startValue": 0,
                    "endValue": sum(weights),
                    "samples": samples,
                    "weights": weights,
                }
            ],
        }


def find_py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Recording:
    """`py-spy record` on a process for a while; started when a phase's replay starts."""

    def __init__(self, py_spy: str, pid: int, seconds: float, output: Path) -> None:
        self.output = output
        self.log = output.with_suffix(".py-spy.log")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(max(1, int(seconds))),
                    "--rate",
                    str(SAMPLE_RATE),
                    "--format",
                    "raw",
                    "--nolineno",
                    "--output",
                    str(output),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        time.sleep(0.2)  # let it attach before the load starts

    def finish(self, _: Replay) -> None:
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def profile_server(bench: Bench) -> list[str]:
    """Profile a fresh 1-worker SQLite server; the summary lines for the report."""
    from bench.issuance import (
        GET_CERTIFICATE,
        ISSUE,
        OCSP_POST,
        issue_params,
        make_fixture,
    )

    py_spy = find_py_spy()
    if py_spy is None:
        return ["  py-spy is not installed (pip install py-spy): no profile"]
    options = bench.options
    folder = options.out_dir / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    connections = 4
    seconds = options.profile_seconds
    server = PicaServer(bench.tmp / "profile", 1)
    bench.log(f"profile: pica serve --workers 1, py-spy {seconds:g} s per operation")
    server.start()
    lines = []
    try:
        fixture = make_fixture(server.client(), bench.csr)
        key, secret = server.credentials()
        pca = client(server.endpoint, key, secret)
        host = f"127.0.0.1:{server.port}"
        plan = (
            (
                ISSUE,
                "issue",
                lambda: signed(
                    pca, "issue_certificate", **issue_params(fixture.issuing_ca, bench.csr)
                ),
            ),
            (
                GET_CERTIFICATE,
                "get-certificate",
                lambda: signed(
                    pca,
                    "get_certificate",
                    CertificateAuthorityArn=fixture.issuing_ca,
                    CertificateArn=fixture.leaf_arn,
                ),
            ),
            (OCSP_POST, "ocsp-post", lambda: ocsp_post(host, fixture.ocsp_path, fixture.ocsp_der)),
        )
        for operation, slug, sign in plan:
            collapsed = folder / f"{slug}.collapsed.txt"
            replay = bench.measure(
                "profile",
                1,
                operation,
                server.port,
                server.pid,
                connections,
                sign,
                duration=seconds + 2,
                during=lambda s, out=collapsed: Recording(py_spy, server.pid, s - 2, out),
            )
            if not collapsed.exists():
                lines.append(f"  {operation}: py-spy wrote nothing; see {collapsed}.py-spy.log")
                continue
            profile = Profile.load(operation, collapsed, replay)
            summary = profile.summary()
            (folder / f"{slug}.summary.txt").write_text(summary + "\n")
            (folder / f"{slug}.speedscope.json").write_text(json.dumps(profile.speedscope()))
            lines += ["", *[f"  {line}" for line in summary.splitlines()[:40]]]
        lines += ["", f"  files: {folder}"]
    finally:
        server.stop()
    return lines
