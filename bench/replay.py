"""Replay one pre-built request over N keep-alive connections for a while; rate and latencies.

Two clients, same measurement:
- `wrk` (Debian's package; installed with apt-get when missing and running as root) with
  `bench/replay.lua`, which sends the request bytes as they are and counts every status code;
- a fallback of N Python processes, one keep-alive connection each, used when wrk is missing
  (or asked for with `--client python`). It costs more client CPU per request than wrk, which
  on a small machine takes CPU from the server: prefer wrk for figures.

Both report every response's status: a phase is clean only when every response was 2xx and no
connection failed, read or timed out. A benchmark that counts errors as throughput is worthless.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.signed import RawRequest

LUA_SCRIPT = Path(__file__).with_name("replay.lua")
RESULT_MARKER = "PICA_BENCH_RESULT "
REQUEST_TIMEOUT_S = 10


@dataclass
class Replay:
    """What one phase measured."""

    label: str
    client: str
    connections: int
    requests: int
    duration_s: float
    statuses: dict[int, int]
    socket_errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_s: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)

    @property
    def failed(self) -> int:
        """Responses that were not 2xx plus requests that got no response at all."""
        return self.non_2xx + sum(self.socket_errors.values())

    @property
    def clean(self) -> bool:
        return self.requests > 0 and self.failed == 0

    @property
    def server_cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_s is None or self.requests == 0:
            return None
        return 1000 * self.server_cpu_s / self.requests

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Replay:
        """The inverse of `to_json` (rate and CPU per request are derived again)."""
        requests = int(data["requests"])
        cpu = data.get("server_cpu_ms_per_request")
        return cls(
            label=data["label"],
            client=data["client"],
            connections=int(data["connections"]),
            requests=requests,
            duration_s=float(data["duration_s"]),
            statuses={int(k): int(v) for k, v in data["statuses"].items()},
            socket_errors={k: int(v) for k, v in data["socket_errors"].items()},
            p50_ms=float(data["p50_ms"]),
            p90_ms=float(data["p90_ms"]),
            p99_ms=float(data["p99_ms"]),
            max_ms=float(data["max_ms"]),
            server_cpu_s=None if cpu is None else cpu * requests / 1000,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "client": self.client,
            "connections": self.connections,
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "rate": round(self.rate, 1),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "non_2xx": self.non_2xx,
            "socket_errors": self.socket_errors,
            "p50_ms": round(self.p50_ms, 3),
            "p90_ms": round(self.p90_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "server_cpu_ms_per_request": self.server_cpu_ms_per_request,
        }


# --- wrk -------------------------------------------------------------------------------------


def find_wrk(install: bool = True) -> str | None:
    """wrk's path; installs Debian's package first when missing, allowed and running as root."""
    found = shutil.which("wrk")
    if found or not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt(*arguments: str) -> None:
        subprocess.run(
            ["apt-get", *arguments], env=env, capture_output=True, timeout=600, check=False
        )

    apt("install", "-y", "wrk")
    if shutil.which("wrk") is None:  # the package lists may be missing or stale
        apt("update")
        apt("install", "-y", "wrk")
    return shutil.which("wrk")


def wrk_version(wrk: str) -> str:
    completed = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    first = (completed.stdout + completed.stderr).strip().splitlines()
    return first[0].split(" [")[0] if first else "wrk"


def run_wrk(
    wrk: str,
    port: int,
    request: RawRequest,
    connections: int,
    duration_s: int,
    scheme: str = "http",
) -> Replay:
    """wrk replaying `request`; `scheme="https"` measures over TLS (wrk verifies nothing)."""
    with tempfile.NamedTemporaryFile(prefix="pica-bench-", suffix=".http") as handle:
        handle.write(request.data)
        handle.flush()
        completed = subprocess.run(
            [
                wrk,
                "-t1",  # one client thread: the server gets the rest of the machine
                f"-c{connections}",
                f"-d{max(1, int(duration_s))}s",
                f"--timeout={REQUEST_TIMEOUT_S}s",
                "-s",
                str(LUA_SCRIPT),
                f"{scheme}://127.0.0.1:{port}/",
            ],
            env={**os.environ, "PICA_BENCH_REQUEST": handle.name},
            capture_output=True,
            text=True,
            timeout=duration_s + 60,
            check=False,
        )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(
            f"wrk failed (exit {completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
        )
    data = json.loads(lines[-1][len(RESULT_MARKER) :])
    errors = data["errors"]
    latency = data["latency_us"]
    return Replay(
        label=request.label,
        client="wrk",
        connections=connections,
        requests=int(data["requests"]),
        duration_s=data["duration_us"] / 1e6,
        statuses={int(k): int(v) for k, v in data["statuses"].items()},
        socket_errors={k: int(errors[k]) for k in ("connect", "read", "write", "timeout")},
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
    )


# --- Python fallback -------------------------------------------------------------------------


class _Closed(Exception):
    """The server closed the connection in the middle of a response."""


def read_response(sock: socket.socket, buffer: bytearray) -> tuple[int, bytes, bool]:
    """Read one response from `sock` (leftovers in `buffer`): its status, its body and whether
    the server will close the connection."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise _Closed
        buffer += chunk
    end = buffer.index(b"\r\n\r\n")
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    del buffer[: end + 4]
    status = int(head[0].split(" ", 2)[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    closing = headers.get("connection") == "close" or head[0].startswith("HTTP/1.0")
    body = bytearray()
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(buffer) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise _Closed
            buffer += chunk
        body += buffer[:length]
        del buffer[:length]
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            while b"\r\n" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    raise _Closed
                buffer += chunk
            line_end = buffer.index(b"\r\n")
            size = int(bytes(buffer[:line_end]).split(b";")[0], 16)
            while len(buffer) < line_end + 2 + size + 2:
                chunk = sock.recv(65536)
                if not chunk:
                    raise _Closed
                buffer += chunk
            body += buffer[line_end + 2 : line_end + 2 + size]
            del buffer[: line_end + 2 + size + 2]
            if size == 0:
                break
    else:  # the body runs to the end of the connection
        body += buffer
        buffer.clear()
        while chunk := sock.recv(65536):
            body += chunk
        closing = True
    return status, bytes(body), closing


def _client_process(
    port: int, data: bytes, duration_s: float, barrier: Any, results: Any, index: int
) -> None:
    latencies = array("d")
    statuses: dict[int, int] = {}
    errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    sock: socket.socket | None = None
    buffer = bytearray()
    barrier.wait()
    deadline = time.perf_counter() + duration_s
    while time.perf_counter() < deadline:
        if sock is None:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT_S)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                buffer.clear()
            except OSError:
                errors["connect"] += 1
                time.sleep(0.01)
                continue
        start = time.perf_counter()
        try:
            sock.sendall(data)
        except OSError:
            errors["write"] += 1
            sock.close()
            sock = None
            continue
        try:
            status, _, closing = read_response(sock, buffer)
        except TimeoutError:
            errors["timeout"] += 1
            closing = True
        except (OSError, _Closed, ValueError, IndexError):
            errors["read"] += 1
            closing = True
        else:
            latencies.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1
        if closing:
            sock.close()
            sock = None
    if sock is not None:
        sock.close()
    results.put((index, latencies.tobytes(), statuses, errors))


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def run_python(port: int, request: RawRequest, connections: int, duration_s: float) -> Replay:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(connections + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=_client_process,
            args=(port, request.data, duration_s, barrier, results, index),
            daemon=True,
        )
        for index in range(connections)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=60)
    started = time.perf_counter()
    collected = [results.get(timeout=duration_s + 4 * REQUEST_TIMEOUT_S) for _ in processes]
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join(timeout=10)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    for _, raw, seen, failed in collected:
        chunk = array("d")
        chunk.frombytes(raw)
        latencies.extend(chunk)
        for status, count in seen.items():
            statuses[status] = statuses.get(status, 0) + count
        for kind, count in failed.items():
            errors[kind] += count
    latencies.sort()
    return Replay(
        label=request.label,
        client="python",
        connections=connections,
        requests=len(latencies),
        duration_s=elapsed,
        statuses=statuses,
        socket_errors=errors,
        p50_ms=1000 * _percentile(latencies, 0.50),
        p90_ms=1000 * _percentile(latencies, 0.90),
        p99_ms=1000 * _percentile(latencies, 0.99),
        max_ms=1000 * (latencies[-1] if latencies else 0.0),
    )


@dataclass(frozen=True)
class Replayer:
    """The client chosen for a run: wrk when it is there, else the Python processes."""

    wrk: str | None

    @property
    def name(self) -> str:
        return "wrk" if self.wrk else "python"

    def describe(self) -> str:
        if self.wrk:
            return f"{wrk_version(self.wrk)} (1 thread, Lua replay of the pre-signed bytes)"
        return "Python keep-alive clients (one process per connection; wrk unavailable)"

    def run(self, port: int, request: RawRequest, connections: int, duration_s: float) -> Replay:
        if self.wrk:
            return run_wrk(self.wrk, port, request, connections, int(max(1, round(duration_s))))
        return run_python(port, request, connections, duration_s)


def choose(client: str) -> Replayer:
    """`client` is "auto" (wrk, installed if possible, else Python), "wrk" or "python"."""
    if client == "python":
        return Replayer(None)
    wrk = find_wrk(install=True)
    if wrk is None and client == "wrk":
        raise SystemExit("wrk is not installed and could not be installed (apt-get, as root)")
    return Replayer(wrk)


class WarmUpFailed(RuntimeError):
    """A response during the warm-up was not the expected answer: measuring would be pointless."""


def warm_up(
    port: int,
    request: RawRequest,
    connections: int,
    per_connection: int,
    check: Callable[[bytes], str | None],
) -> None:
    """Send `request` `per_connection` times on each of `connections` keep-alive connections at
    once (so every worker process opens its caches), checking every answer: a status other than
    200, or a body `check` objects to (it returns what is wrong), raises WarmUpFailed."""
    problems: list[str] = []

    def one_connection() -> None:
        buffer = bytearray()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for _ in range(per_connection):
                    sock.sendall(request.data)
                    status, body, closing = read_response(sock, buffer)
                    wrong = f"HTTP {status}: {body[:600]!r}" if status != 200 else check(body)
                    if wrong:
                        problems.append(wrong)
                        return
                    if closing:
                        return
        except (OSError, _Closed) as exc:
            problems.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=one_connection) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if problems:
        raise WarmUpFailed(f"{request.label}: {problems[0]}")
