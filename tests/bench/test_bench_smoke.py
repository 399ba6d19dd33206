"""A smoke run of the issuance benchmark (`python -m bench issuance --quick`), not a timed test.

One short configuration (SQLite, 1 worker, 1 connection, P-256 in-process ceiling) runs once
per session; the tests assert that the table prints and that every replayed response was a 2xx,
never how fast anything was. wrk and moto are used when installed and skipped (with the reason)
when not; the test never installs anything. The pieces the smoke run may not reach (the Python
replay client, the profile summariser, the signed request bytes) have quick tests of their own.
"""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench.profile import Profile, Recorded, Samples, stage_of
from bench.replay import Replay, run_python
from bench.servers import MotoServer
from bench.signed import RawRequest, client, ocsp_get, signed

ROOT = Path(__file__).resolve().parents[2]
HAVE_WRK = shutil.which("wrk") is not None
HAVE_MOTO = MotoServer.command() is not None


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    args = [
        sys.executable,
        "-m",
        "bench",
        "issuance",
        "--quick",
        "--only",
        "sqlite",
        "--workers",
        "1",
        "--connections",
        "1",
        "--ca-keys",
        "P-256",
        "--client",
        "wrk" if HAVE_WRK else "python",
        "--json",
        str(out / "result.json"),
        "--out",
        str(out / "profiles"),
    ]
    if not HAVE_MOTO:
        args.append("--no-moto")
    completed = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    result_file = out / "result.json"
    return {
        "completed": completed,
        "result": json.loads(result_file.read_text()) if result_file.exists() else None,
    }


def test_the_table_prints(smoke: dict[str, Any]) -> None:
    completed = smoke["completed"]
    assert completed.returncode == 0, completed.stdout + completed.stderr
    out = completed.stdout
    for text in (
        "pica issuance benchmark",
        "pica issue(), SQLite",
        "bare build+sign",
        "OCSP POST",
        "OCSP GET",
        "GetCertificate",
        "Targets (issue 8)",
    ):
        assert text in out, f"{text!r} missing from:\n{out}"
    rows = [line.split() for line in out.splitlines() if "sqlite, 1w, 1 conn" in line]
    assert ["(b)", "sqlite,", "1w,", "1", "conn", "IssueCertificate"] in [r[:6] for r in rows]


def test_every_response_was_2xx(smoke: dict[str, Any]) -> None:
    result = smoke["result"]
    assert result is not None, smoke["completed"].stderr
    phases = result["phases"]
    operations = {(p["target"], p["operation"]) for p in phases}
    assert {
        ("sqlite", "IssueCertificate"),
        ("sqlite", "OCSP POST"),
        ("sqlite", "OCSP GET"),
        ("sqlite", "GetCertificate"),
    } <= operations
    for phase in phases:
        assert phase["requests"] > 0, phase
        assert phase["non_2xx"] == 0, phase
        assert sum(phase["socket_errors"].values()) == 0, phase
        assert set(phase["statuses"]) == {"200"}, phase
    assert result["clean"] is True
    assert [c["key"] for c in result["ceilings"]] == ["P-256"]
    assert all(c["pica_issue"] > 0 and c["bare_sign"] > 0 for c in result["ceilings"])


@pytest.mark.skipif(not HAVE_WRK, reason="wrk is not installed (apt-get install wrk)")
def test_wrk_replayed_the_requests(smoke: dict[str, Any]) -> None:
    result = smoke["result"]
    assert result is not None
    assert {p["client"] for p in result["phases"]} == {"wrk"}
    assert "wrk" in result["environment"]["client"]


@pytest.mark.skipif(not HAVE_MOTO, reason="moto_server is not installed (moto[server])")
def test_moto_got_the_same_request(smoke: dict[str, Any]) -> None:
    result = smoke["result"]
    assert result is not None
    moto = [p for p in result["phases"] if p["target"] == "moto"]
    assert [p["operation"] for p in moto] == ["IssueCertificate"]
    assert "moto" in smoke["completed"].stdout


def test_the_signed_request_is_what_boto3_sends() -> None:
    """The replayed bytes equal what boto3 writes to the socket, but for the per-call id."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    received: list[bytes] = []

    def answer_once() -> None:
        connection, _ = listener.accept()
        with connection:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            head, body = data.split(b"\r\n\r\n", 1)
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(body) < length:
                body += connection.recv(65536)
            received.append(head + b"\r\n\r\n" + body)
            reply = b'{"CertificateArn": "arn:x"}'
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(reply), reply)
            )

    thread = threading.Thread(target=answer_once)
    thread.start()
    pca = client(f"http://127.0.0.1:{port}", "AKIDEXAMPLE", "secret")
    params = {
        "CertificateAuthorityArn": "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x",
        "Csr": b"-----BEGIN CERTIFICATE REQUEST-----\n...",
        "SigningAlgorithm": "SHA256WITHECDSA",
        "Validity": {"Value": 30, "Type": "DAYS"},
    }
    ours = signed(pca, "issue_certificate", **params)
    pca.issue_certificate(**params)
    thread.join(timeout=10)
    listener.close()

    def comparable(data: bytes) -> list[bytes]:
        # The invocation id is new on every call; the date may tick between the two calls.
        skip = (b"amz-sdk-invocation-id:", b"x-amz-date:", b"authorization:")
        return [line for line in data.split(b"\r\n") if not line.lower().startswith(skip)]

    assert comparable(ours.data) == comparable(received[0])
    assert [line.split(b":")[0] for line in ours.data.split(b"\r\n\r\n")[0].split(b"\r\n")] == [
        line.split(b":")[0] for line in received[0].split(b"\r\n\r\n")[0].split(b"\r\n")
    ]
    assert b"X-Amz-Target: ACMPrivateCA.IssueCertificate" in ours.data


class _KeepAliveHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status = 404 if "missing" in self.path else 200
        body = b"ok"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_the_python_client_counts_every_status(http_server: int) -> None:
    host = f"127.0.0.1:{http_server}"
    good = run_python(http_server, ocsp_get(host, "/ocsp", b"\x30\x00"), 2, 0.5)
    assert good.client == "python" and good.connections == 2
    assert good.requests > 0 and good.clean
    assert good.statuses == {200: good.requests}
    assert 0 < good.p50_ms <= good.p99_ms <= good.max_ms
    head = f"GET /missing HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    bad = run_python(http_server, RawRequest("missing", head), 1, 0.3)
    assert bad.requests > 0 and not bad.clean
    assert bad.non_2xx == bad.requests == bad.statuses[404]


def test_profile_summary_and_speedscope(tmp_path: Path) -> None:
    collapsed = tmp_path / "issue.gil.collapsed.txt"
    collapsed.write_text(
        "run (anyio/_backends/_asyncio.py);issue_certificate (pica/wire/awsjson/handlers.py);"
        "CertificateService.issue (pica/authority/certificates.py);"
        "sign (pica/authority/issuance.py);CertificateBuilder.sign (cryptography/x509/base.py) 30\n"
        "run (anyio/_backends/_asyncio.py);issue_certificate (pica/wire/awsjson/handlers.py);"
        "CertificateService.issue (pica/authority/certificates.py);"
        "LintGate.check (pica/authority/lint/gate.py);"
        "sign (pica/authority/issuance.py) 10\n"
        "_run_once (asyncio/base_events.py);EpollSelector.select (selectors.py) 60\n"
    )
    samples = Samples.load(collapsed)
    assert samples.total == 100
    work, wait = samples.stages()
    assert work == {
        "signing with the CA key": 30,
        "lint gate (structural rules + throwaway signature)": 10,
    }
    assert wait == {"event loop: waiting in epoll": 60}
    replay = Replay("IssueCertificate", "wrk", 4, 200, 2.0, {200: 200}, {}, 1, 2, 3, 4)
    recorded = Recorded(samples, replay, seconds=2)  # 100 requests/s for 2 s
    assert recorded.ms_per_request(30) == pytest.approx(1.5)  # 0.3 s over 200 requests
    summary = Profile("IssueCertificate", recorded, None).summary()
    assert "signing with the CA key" in summary and "75.0%" in summary and "1.500" in summary
    speedscope = Profile("IssueCertificate", recorded, recorded).speedscope()
    profiles = speedscope["profiles"]
    assert isinstance(profiles, list) and len(profiles) == 2
    assert profiles[0]["weights"] == [30, 10, 60]
    assert stage_of(["x (somewhere.py)"]) == ("other", "work")
