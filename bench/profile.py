"""`--profile`: where a pica worker's time goes, sampled with py-spy while wrk replays a request.

For IssueCertificate, GetCertificate and OCSP POST (1 worker, 4 connections, SQLite), py-spy
records the server process twice while the replay runs (`py-spy record --format raw
--nolineno`): once with `--gil` (only the thread holding the GIL: the Python work, which one
worker does serially), once for every active thread. Each operation leaves under
`bench/out/<time>/`:

- `<op>.gil.collapsed.txt`, `<op>.threads.collapsed.txt`: folded stacks (flamegraph.pl,
  speedscope and inferno read them);
- `<op>.speedscope.json`: both recordings; open it at speedscope.app (or `npx speedscope FILE`)
  for flame graphs;
- `<op>.summary.txt`: the time in each stage of a request (rules below) and the top functions.

A sample belongs to the first stage in `STAGES` whose rule matches a frame of its stack, so
nested work lands in the most specific stage (the lint gate's throwaway signature is lint, not
signing). Some samples are waits (thread-pool workers parked on their queue, the event loop in
epoll, a thread waiting for SQLite's write lock) and are reported apart from the work: py-spy
counts a thread that is runnable but not running (waiting for a core or the GIL) as active, so
on a busy machine waits show up in the all-threads recording.
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
    ("SQLite BEGIN (IMMEDIATE: waiting for the write lock)", WAIT, ("_begin_sqlite_transaction",)),
    # A writer queued behind another (thread lock, then flock(2)): blocked in C under `held`.
    ("SQLite writers' queue (WriteLock: waiting)", WAIT, ("$WriteLock.held (",)),
    ("SigV4: access-key lookup (SQL)", WORK, ("AccountService.secret_for",)),
    ("SigV4 (botocore signer, HMAC)", WORK, ("SigV4Verifier.",)),
    ("lint gate (structural rules + throwaway signature)", WORK, ("LintGate.",)),
    ("signing with the CA key", WORK, ("sign (pica/authority/issuance.py)",)),
    ("CSR parse + signature check", WORK, ("load_csr (",)),
    ("profile composition (template, extensions)", WORK, ("compose (pica/authority/profiles",)),
    (
        "certificate builder + SKI/AKI",
        WORK,
        ("certificate_parts (", "CertificateParts.builder (", "issuer_key_identifier ("),
    ),
    ("CA certificate PEM parse (per request)", WORK, ("parse_certificate_pem (",)),
    ("OCSP: sign the response", WORK, ("sign_response (pica/authority/ocsp/signature.py)",)),
    ("SQL commit", WORK, ("_commit_impl (sqlalchemy", "do_commit (sqlalchemy")),
    ("SQL: SQLite BEGIN / COMMIT", WORK, ("_sqlite_transaction (pica/adapters",)),
    ("SQL: load the CA record", WORK, ("load_ca (pica/authority",)),
    ("SQL: insert the certificate", WORK, ("insert_certificate (pica/adapters",)),
    ("SQL: read the certificate", WORK, ("get_certificate (pica/adapters",)),
    (
        "SQL: other statements, pool (SQLAlchemy)",
        WORK,
        ("pica/adapters/storage/", "sqlalchemy/", "sqlite3"),
    ),
    ("OCSP: parse request, build response (asn1crypto)", WORK, ("pica/authority/ocsp/",)),
    (
        "model validation (botocore model)",
        WORK,
        ("RequestValidator.", "awsjson/validation.py", "awsjson/violations.py"),
    ),
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
        # anyio's workers wait in a Condition; an idle ThreadPoolExecutor worker (run_blocking)
        # sits in the C queue's get, under `_worker`.
        ("Condition.wait (threading.py)", "$_worker (concurrent/futures/thread.py)"),
    ),
    (
        "thread hop (run_blocking / run_in_threadpool, wake-ups)",
        WORK,
        (
            "run_blocking (",
            "run_in_executor (",
            "concurrent/futures/",
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
        "HTTP response write (uvicorn, socket)",
        WORK,
        (
            "RequestResponseCycle.send (",
            "_SelectorSocketTransport.write",
        ),
    ),
    # The ASGI app runs under uvicorn's RequestResponseCycle.run_asgi: the app's own frames
    # (pica's wire layer, Starlette) must be matched before uvicorn's protocol frames.
    ("pica wire (other: endpoint, request id)", WORK, ("pica/wire/", "pica/app.py")),
    ("Starlette routing + middleware", WORK, ("starlette/", "uvicorn/middleware")),
    ("HTTP parsing (uvicorn protocol: httptools or h11)", WORK, ("h11/", "uvicorn/protocols/")),
    ("event loop: waiting in epoll", WAIT, ("EpollSelector.select",)),
    ("asyncio event loop", WORK, ("asyncio/",)),
    ("other", WORK, ("",)),
)


def stage_of(frames: list[str]) -> tuple[str, str]:
    """The first stage with a needle in a frame of the stack (a needle starting with `$`:
    in the innermost frame only)."""
    for name, kind, needles in STAGES:
        for needle in needles:
            if needle.startswith("$"):
                if frames and needle[1:] in frames[-1]:
                    return name, kind
            elif any(needle in frame for frame in frames):
                return name, kind
    return "other", WORK


@dataclass
class Samples:
    """One py-spy recording: folded stacks with their sample counts."""

    stacks: list[tuple[list[str], int]]

    @classmethod
    def load(cls, path: Path) -> Samples:
        stacks = []
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                stacks.append((stack.split(";"), int(count)))
        return cls(stacks)

    @property
    def total(self) -> int:
        return sum(count for _, count in self.stacks)

    def stages(self) -> tuple[Counter[str], Counter[str]]:
        """Samples per stage: (work, waits)."""
        work: Counter[str] = Counter()
        wait: Counter[str] = Counter()
        for frames, count in self.stacks:
            name, kind = stage_of(frames)
            (work if kind == WORK else wait)[name] += count
        return work, wait

    def functions(self) -> tuple[Counter[str], Counter[str]]:
        """Work samples per function: (own time, inclusive time)."""
        own: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        for frames, count in self.stacks:
            if stage_of(frames)[1] == WAIT:
                continue
            own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
        return own, inclusive


@dataclass
class Recorded:
    """A recording and the replay that ran while it was made."""

    samples: Samples
    replay: Replay | None
    seconds: float

    def ms_per_request(self, count: int) -> float | None:
        """Sampled time per request: `count` samples spread over the requests served."""
        if self.replay is None or self.replay.rate <= 0:
            return None
        return 1000 * count / SAMPLE_RATE / (self.replay.rate * self.seconds)


def _replay_line(label: str, replay: Replay | None) -> str:
    if replay is None:
        return f"  {label}: no replay"
    cpu = replay.server_cpu_ms_per_request
    return (
        f"  {label}: {replay.rate:,.0f} req/s, p50 {replay.p50_ms:.2f} ms, p99 "
        f"{replay.p99_ms:.2f} ms" + (f", server CPU {cpu:.2f} ms/request" if cpu else "")
    )


@dataclass
class Profile:
    """The two recordings of one operation: the GIL holder only, and every active thread.

    `--gil` samples are time the interpreter was running pica (or anything holding the GIL, the
    CA signature included); with one worker that is the serial bottleneck, and its samples per
    request are milliseconds per request. All-thread samples also see C code that releases the
    GIL (SQLite's own work) and threads waiting for a core or the GIL (see the module notes);
    their work stages are scaled to the server CPU per request measured from /proc.
    """

    operation: str
    gil: Recorded | None
    threads: Recorded | None

    def summary(self, top: int = 25) -> str:
        lines = [f"{self.operation} (pica serve, 1 worker, SQLite)"]
        gil_work: Counter[str] = Counter()
        gil_total = 1
        if self.gil is not None:
            gil_work, _ = self.gil.samples.stages()
            gil_total = sum(gil_work.values()) or 1
            held = self.gil.ms_per_request(self.gil.samples.total)
            lines.append(_replay_line("replay during the --gil recording", self.gil.replay))
            if held is not None and self.gil.replay is not None:
                busy = self.gil.samples.total / (SAMPLE_RATE * self.gil.seconds)
                lines.append(f"  GIL held {100 * busy:.0f}% of the time: {held:.2f} ms per request")
        threads_work: Counter[str] = Counter()
        threads_wait: Counter[str] = Counter()
        threads_total, threads_work_total = 1, 1
        cpu_ms = None
        if self.threads is not None:
            threads_work, threads_wait = self.threads.samples.stages()
            threads_total = self.threads.samples.total or 1
            threads_work_total = sum(threads_work.values()) or 1
            replay = self.threads.replay
            cpu_ms = replay.server_cpu_ms_per_request if replay else None
            lines.append(_replay_line("replay during the all-threads recording", replay))
        lines += [
            "",
            f"  {'stage':<52} {'GIL %':>6} {'GIL ms':>7} {'thr %':>6} {'CPU ms':>7}",
        ]
        names = [n for n, _ in gil_work.most_common()]
        names += [n for n, _ in threads_work.most_common() if n not in gil_work]
        for name in names:
            gil_share = gil_work[name] / gil_total
            gil_ms = self.gil.ms_per_request(gil_work[name]) if self.gil else None
            threads_share = threads_work[name] / threads_work_total
            lines.append(
                f"  {name:<52} {100 * gil_share:5.1f}% "
                + (f"{gil_ms:7.3f}" if gil_ms is not None else "      -")
                + f" {100 * threads_share:5.1f}% "
                + (f"{threads_share * cpu_ms:7.3f}" if cpu_ms is not None else "      -")
            )
        if threads_wait:
            lines += ["", "  waits in the all-threads recording (% of its samples):"]
            for name, count in threads_wait.most_common():
                lines.append(f"    {100 * count / threads_total:5.1f}%  {name}")
        chosen = self.gil or self.threads
        if chosen is not None:
            which = "--gil" if chosen is self.gil else "all-threads"
            own, inclusive = chosen.samples.functions()
            total = sum(own.values()) or 1
            lines += ["", f"  top {top} functions by own time ({which} samples):"]
            for frame, count in own.most_common(top):
                lines.append(f"    {100 * count / total:5.1f}%  {frame}")
            lines += ["", f"  top {top} pica functions by inclusive time ({which} samples):"]
            pica = [(f, c) for f, c in inclusive.most_common() if "pica/" in f]
            for frame, count in pica[:top]:
                lines.append(f"    {100 * count / total:5.1f}%  {frame}")
        return "\n".join(lines)

    def speedscope(self) -> dict[str, object]:
        """Both recordings as one speedscope file (two profiles, shared frames)."""
        frames: dict[str, int] = {}
        profiles = []
        for label, recorded in (("GIL holder", self.gil), ("all threads", self.threads)):
            if recorded is None:
                continue
            samples, weights = [], []
            for stack, count in recorded.samples.stacks:
                samples.append([frames.setdefault(frame, len(frames)) for frame in stack])
                weights.append(count)
            profiles.append(
                {
                    "type": "sampled",
                    "name": f"pica serve, 1 worker: {self.operation} ({label})",
                    "unit": "none",
                    "startValue": 0,
                    "endValue": sum(weights),
                    "samples": samples,
                    "weights": weights,
                }
            )
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
            "profiles": profiles,
        }


def write_outputs(folder: Path, slug: str, profile: Profile) -> str:
    """`<slug>.summary.txt` and `<slug>.speedscope.json` in `folder`; the summary."""
    summary = profile.summary()
    (folder / f"{slug}.summary.txt").write_text(summary + "\n")
    (folder / f"{slug}.speedscope.json").write_text(json.dumps(profile.speedscope()))
    return summary


def _load_recorded(collapsed: Path) -> Recorded | None:
    if not collapsed.exists():
        return None
    meta_path = collapsed.with_suffix(".replay.json")
    replay, seconds = None, 0.0
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        seconds = float(meta["seconds"])
        replay = Replay.from_json(meta)
    return Recorded(Samples.load(collapsed), replay, seconds)


def resummarize(folder: Path) -> str:
    """Summaries of a profile folder again (after changing STAGES, say); rewrites the files."""
    texts = []
    for gil_file in sorted(folder.glob("*.gil.collapsed.txt")):
        slug = gil_file.name.removesuffix(".gil.collapsed.txt")
        gil = _load_recorded(gil_file)
        threads = _load_recorded(folder / f"{slug}.threads.collapsed.txt")
        chosen = gil or threads
        operation = chosen.replay.label if chosen and chosen.replay else slug
        texts.append(write_outputs(folder, slug, Profile(operation, gil, threads)))
    return "\n\n".join(texts)


def find_py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Recording:
    """`py-spy record` on a process for a while; started when a phase's replay starts."""

    def __init__(self, py_spy: str, pid: int, seconds: float, output: Path, gil: bool) -> None:
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
                    *(["--gil"] if gil else []),
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
            recorded: dict[bool, Recorded | None] = {}
            for gil in (True, False):
                collapsed = folder / f"{slug}.{'gil' if gil else 'threads'}.collapsed.txt"

                def record(length: float, out: Path = collapsed, gil: bool = gil) -> Recording:
                    return Recording(py_spy, server.pid, length - 2, out, gil)

                replay = bench.measure(
                    "profile",
                    1,
                    operation,
                    server.port,
                    server.pid,
                    connections,
                    sign,
                    duration=seconds + 2,
                    during=record,
                )
                recorded[gil] = (
                    Recorded(Samples.load(collapsed), replay, seconds)
                    if collapsed.exists()
                    else None
                )
                if not collapsed.exists():
                    log = collapsed.with_suffix(".py-spy.log")
                    lines.append(f"  {operation}: py-spy wrote nothing; see {log}")
                if replay is not None:
                    meta = {"operation": operation, "seconds": seconds, **replay.to_json()}
                    collapsed.with_suffix(".replay.json").write_text(json.dumps(meta, indent=2))
            summary = write_outputs(
                folder, slug, Profile(operation, recorded[True], recorded[False])
            )
            lines += ["", *[f"  {line}" for line in summary.splitlines()[:45]]]
        lines += ["", f"  files: {folder}"]
    finally:
        server.stop()
    return lines


if __name__ == "__main__":
    # python -m bench.profile bench/out/<time>: summarise that folder's recordings again.
    for argument in sys.argv[1:]:
        print(resummarize(Path(argument)))
