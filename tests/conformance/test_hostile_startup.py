"""Hostile start-up: how `pica serve` and the admin commands meet a lost key-encryption key, a
taken port, bad settings, a permissive umask and slow or greedy clients.

Each test reproduces a finding of the hardening audit (issue 7: a KEK silently replaced, no read
timeouts, world-readable database files, tracebacks and files written before failing; issue 8:
the Nagle stall with several workers). Every test runs its own pica, never the session server:
they look at files and exit codes, stop servers, or hold connections open.
"""

from __future__ import annotations

import base64
import dataclasses
import http.client
import json
import os
import secrets
import select
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from pica.adapters.keystore.kek_file import key_ref_for
from pica.settings import Settings
from tests.support.pki import cdp_url, issue, new_root, new_root_with_revocation
from tests.support.postgres import PostgresUnavailable, postgres_server
from tests.support.revocation import wait_for_crl
from tests.support.server import LiveServer, free_port, http_answers

README = Path(__file__).resolve().parents[2] / "README.md"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PICA_"))}
    env.update(extra)
    return env


def run_pica(
    *args: str, cwd: Path, env: dict[str, str] | None = None, umask: int = -1
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pica", *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        umask=umask,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line_error(completed: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit code 2 and exactly one line on stderr, `pica: ...`, naming each of `needles`."""
    assert "Traceback" not in completed.stderr, completed.stderr
    assert completed.returncode == 2, (completed.returncode, completed.stderr)
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("pica: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def serve_expecting_refusal(
    data_dir: Path, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Start `pica serve`, which must exit with an error; fail at once if it serves instead."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "pica",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *args,
    ]
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env if env is not None else clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    try:
        while process.poll() is None:
            assert not http_answers(port), "pica serves where it must refuse to start"
            assert time.monotonic() < deadline, "pica neither refused nor served"
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.kill()
        stdout, stderr = process.communicate()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


# --- a lost key-encryption key (finding 2) ------------------------------------------------------


@pytest.fixture(scope="module")
def sealed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stopped pica's data dir whose database holds sealed data (an access key and a CA key)."""
    live = LiveServer(tmp_path_factory.mktemp("sealed") / "data", free_port())
    live.start()
    try:
        new_root(live.client())
    finally:
        live.stop()
    return live.data_dir


@pytest.fixture
def sealed(sealed_template: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(sealed_template, data)
    return data


def kek_ref(data: Path) -> str:
    (line,) = [
        line
        for line in (data / "kek").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return line.split()[0]


def test_serve_refuses_when_the_kek_beside_sealed_data_is_gone(sealed: Path) -> None:
    ref = kek_ref(sealed)
    credentials = (sealed / "credentials").read_bytes()
    (sealed / "kek").unlink()
    completed = serve_expecting_refusal(sealed, cwd=sealed.parent)
    assert_one_line_error(completed, str(sealed / "kek"), ref)
    assert not (sealed / "kek").exists()
    assert (sealed / "credentials").read_bytes() == credentials
    assert "serves" not in completed.stdout


def test_serve_refuses_a_mistyped_kek_file_setting(sealed: Path) -> None:
    typo = sealed / "kek.bak"
    completed = serve_expecting_refusal(
        sealed, cwd=sealed.parent, env=clean_env(PICA_KEK_FILE=str(typo))
    )
    assert_one_line_error(completed, str(typo))
    assert not typo.exists()


def test_serve_refuses_a_kek_file_without_the_key_the_database_uses(sealed: Path) -> None:
    ref = kek_ref(sealed)
    other = secrets.token_bytes(32)
    kek = sealed / "kek"
    kek.write_text(f"{key_ref_for(other)} {base64.b64encode(other).decode()}\n")
    completed = serve_expecting_refusal(sealed, cwd=sealed.parent)
    assert_one_line_error(completed, str(kek), ref)
    assert key_ref_for(other) in kek.read_text()


@pytest.mark.parametrize(
    "command",
    [("accounts", "list"), ("keys", "list"), ("keys", "create", "--account", "123456789012")],
)
def test_admin_commands_never_create_a_kek(sealed: Path, command: tuple[str, ...]) -> None:
    (sealed / "kek").unlink()
    completed = run_pica(*command, "--data-dir", str(sealed), cwd=sealed.parent)
    assert_one_line_error(completed, str(sealed / "kek"))
    assert not (sealed / "kek").exists()


def test_a_migrated_database_without_sealed_data_gets_a_new_kek(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    migrated = run_pica("migrate", "--data-dir", str(data), cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert not (data / "kek").exists()
    live = LiveServer(data, free_port())
    live.start()
    try:
        assert (data / "kek").is_file()
        assert "CertificateAuthorities" in live.client().list_certificate_authorities()
    finally:
        live.stop()


def test_credentials_are_never_overwritten_by_a_fresh_database(sealed: Path) -> None:
    # The database is gone (or --database-url points elsewhere) but its client files remain.
    credentials = (sealed / "credentials").read_bytes()
    for name in ("pica.db", "pica.db-wal", "pica.db-shm"):
        (sealed / name).unlink(missing_ok=True)
    completed = serve_expecting_refusal(sealed, cwd=sealed.parent)
    assert_one_line_error(completed, str(sealed / "credentials"))
    assert (sealed / "credentials").read_bytes() == credentials


# --- start-up errors: one line, exit 2, nothing written first (finding 11) ----------------------


def test_a_taken_port_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = run_pica(
            "serve", "--port", str(port), "--data-dir", str(tmp_path / "data"), cwd=tmp_path
        )
    assert_one_line_error(completed, str(port))
    assert "serves" not in completed.stdout
    assert "export" not in completed.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (("--log-level", "loud"), {}, "loud"),
        ((), {"PICA_LOG_LEVEL": "loud"}, "loud"),
        (("--port", "http"), {}, "http"),
        (("--port", "70000"), {}, "70000"),
        ((), {"PICA_WORKERS": "many"}, "many"),
        (("--workers", "0"), {}, "workers"),
        (("--database-url", "not a url"), {}, "not a url"),
        (("--database-url", "mysql://pica@127.0.0.1/pica"), {}, "mysql"),
        (("--database-url", "postgresql+psycopg://postgres@127.0.0.1:1/pica"), {}, ":1/"),
        (("--public-url", "ftp://pica.example"), {}, "ftp://pica.example"),
        (("--host", "no-such-host.invalid"), {}, "no-such-host.invalid"),
    ],
)
def test_bad_settings_are_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], needle: str
) -> None:
    data = tmp_path / "data"
    completed = run_pica(
        "serve",
        "--port",
        str(free_port()),
        "--data-dir",
        str(data),
        *args,
        cwd=tmp_path,
        env=clean_env(**env),
    )
    assert_one_line_error(completed, needle)
    assert "serves" not in completed.stdout
    assert not (data / "credentials").exists()
    assert not (data / "kek").exists()


def test_a_data_dir_under_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory\n")
    data = tmp_path / "file" / "data"
    completed = run_pica("serve", "--port", str(free_port()), "--data-dir", str(data), cwd=tmp_path)
    assert_one_line_error(completed, str(data))
    for command in (("accounts", "list"), ("migrate",)):
        assert_one_line_error(run_pica(*command, "--data-dir", str(data), cwd=tmp_path))


@pytest.mark.parametrize(
    "command",
    [
        ("accounts", "list"),
        ("accounts", "create"),
        ("keys", "list"),
        ("keys", "create", "--account", "123456789012"),
        ("migrate",),
    ],
)
def test_admin_commands_never_create_a_data_dir(tmp_path: Path, command: tuple[str, ...]) -> None:
    completed = run_pica(*command, cwd=tmp_path)
    assert_one_line_error(completed, str(tmp_path / "pica-data"))
    assert list(tmp_path.iterdir()) == []
    elsewhere = tmp_path / "elsewhere"
    assert_one_line_error(run_pica(*command, "--data-dir", str(elsewhere), cwd=tmp_path))
    assert not elsewhere.exists()


def test_serve_help_lists_every_setting_with_its_variable_and_default(tmp_path: Path) -> None:
    completed = run_pica("serve", "--help", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    text = " ".join(completed.stdout.split())
    assert "--public-url" in text
    for field in dataclasses.fields(Settings):
        row = next(
            (
                line
                for line in completed.stdout.splitlines()
                if f"PICA_{field.name.upper()}" in line
            ),
            None,
        )
        assert row is not None, field.name
        default = field.default
        shown = "-" if default is None else str(default)
        assert shown in row.split() or f"./{shown}" in row.split(), (field.name, row)


def test_the_readme_names_every_setting() -> None:
    readme = README.read_text()
    for field in dataclasses.fields(Settings):
        assert f"PICA_{field.name.upper()}" in readme, field.name


def test_listening_beyond_loopback_without_a_public_url_warns(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "data", free_port(), extra_args=("--host", "0.0.0.0"))
    live.start()
    try:
        warnings = [line for line in live.log_text().splitlines() if "--public-url" in line]
        assert warnings, live.log_text()
        assert "127.0.0.1" in warnings[0]
    finally:
        live.stop()

    public = f"http://pica.example:{live.port}"
    again = LiveServer(
        tmp_path / "data", live.port, extra_args=("--host", "0.0.0.0", "--public-url", public)
    )
    again.output = tmp_path / "second.log"
    again.start()
    try:
        assert "--public-url" not in again.log_text()
        pca = again.client()
        ca = new_root_with_revocation(pca, {"OcspConfiguration": {"Enabled": True}})
        certificate, _ = issue(pca, ca)
        aia = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
        assert [d.access_location.value for d in aia.value] == [f"{public}/ocsp"]
    finally:
        again.stop()


# --- files are private whatever the umask (finding 9) -------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "data", free_port(), umask=0)
    live.start()
    try:
        pca = live.client()
        ca = new_root_with_revocation(
            pca, {"CrlConfiguration": {"Enabled": True, "S3BucketName": "crls"}}
        )
        certificate, _ = issue(pca, ca)
        wait_for_crl(cdp_url(certificate), lambda crl: True)
        data = live.data_dir
        assert mode(data) == 0o700
        for name in ("pica.db", "pica.db-wal", "pica.db-shm", "kek", "credentials", "config"):
            assert mode(data / name) == 0o600, (name, oct(mode(data / name)))
        folders = [data / "buckets", *(p for p in (data / "buckets").rglob("*") if p.is_dir())]
        assert len(folders) >= 3  # buckets/, crls/, crls/crl/
        for folder in folders:
            assert mode(folder) == 0o700, (folder, oct(mode(folder)))
        crl_files = list((data / "buckets").rglob("*.crl"))
        assert crl_files
        for crl_file in crl_files:
            assert mode(crl_file) == 0o644  # public by design, never writable by others
    finally:
        live.stop()


def test_migrate_creates_a_private_database_whatever_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    completed = run_pica("migrate", "--data-dir", str(data), cwd=tmp_path, umask=0)
    assert completed.returncode == 0, completed.stderr
    for path in data.iterdir():
        assert mode(path) == 0o600, (path.name, oct(mode(path)))


# --- slow and greedy clients (finding 6) --------------------------------------------------------

READ_TIMEOUT = 1.5
SLACK = 1.5


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A pica that closes a connection which has not sent a whole request in 1.5 s."""
    data = tmp_path_factory.mktemp("guarded") / "data"
    data.mkdir()
    (data / "pica.toml").write_text(f"request_read_timeout = {READ_TIMEOUT}\n")
    live = LiveServer(data, free_port())
    live.start()
    try:
        yield live
    finally:
        live.stop()


def closed_after(sock: socket.socket, trickle: list[bytes], interval: float = 0.25) -> float:
    """Send `trickle` one piece per `interval` (then nothing); seconds until the server hangs up.

    Whatever the server writes before hanging up (a 408, say) is read and ignored.
    """
    start = time.monotonic()
    pieces = iter(trickle)
    while time.monotonic() - start < READ_TIMEOUT + 8:
        readable, _, _ = select.select([sock], [], [], interval)
        if readable:
            try:
                if not sock.recv(65536):
                    return time.monotonic() - start
            except ConnectionResetError:
                return time.monotonic() - start
            continue
        piece = next(pieces, None)
        if piece is not None:
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start
    raise AssertionError("the server kept a connection open that never sent a whole request")


def assert_prompt_api_call(server: LiveServer) -> None:
    pca = server.client()
    start = time.monotonic()
    assert "CertificateAuthorities" in pca.list_certificate_authorities()
    assert time.monotonic() - start < 2


def slowly(server: LiveServer, trickle: list[bytes], head: bytes = b"") -> float:
    """Open a connection, send `head` at once and `trickle` slowly; check that the server still
    answers an API call on another connection meanwhile; seconds until it hung up."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        elapsed: list[float] = []
        worker = threading.Thread(target=lambda: elapsed.append(closed_after(sock, trickle)))
        worker.start()
        try:
            assert_prompt_api_call(server)
        finally:
            worker.join()
    assert elapsed, "the slow connection's watcher failed"
    return elapsed[0]


def test_half_sent_headers_are_cut_off(guarded: LiveServer) -> None:
    head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{guarded.port}\r\n".encode()
    trickle = [f"X-Slow-{n}: {'a' * 10}\r\n".encode() for n in range(100)]
    assert slowly(guarded, trickle, head) < READ_TIMEOUT + SLACK


def test_a_half_sent_body_is_cut_off(guarded: LiveServer) -> None:
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{guarded.port}\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        "X-Amz-Target: ACMPrivateCA.ListCertificateAuthorities\r\n"
        "Content-Length: 1000\r\n\r\n{"
    ).encode()
    assert slowly(guarded, [b" "] * 200, head) < READ_TIMEOUT + SLACK


def test_a_silent_connection_is_closed(guarded: LiveServer) -> None:
    assert slowly(guarded, []) < READ_TIMEOUT + SLACK


def test_a_body_cut_off_by_the_deadline_is_not_an_internal_failure(guarded: LiveServer) -> None:
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{guarded.port}\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        "Content-Length: 500\r\n\r\n{"
    ).encode()
    slowly(guarded, [b" "] * 50, head)
    time.sleep(0.5)  # the server logs after it hung up
    log = guarded.output.read_text()
    assert "internal failure" not in log and "Traceback" not in log


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"POST /\x00 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        # A head still incomplete after 16 KiB (h11's limit, kept with httptools).
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 20_000,
    ],
)
def test_unparsable_http_gets_an_aws_shaped_400(guarded: LiveServer, raw: bytes) -> None:
    with socket.create_connection(("127.0.0.1", guarded.port), timeout=10) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), received
    assert b"x-amzn-errortype: BadRequestException" in head.lower().replace(
        b"badrequestexception", b"BadRequestException"
    )
    error = json.loads(body)
    assert error["__type"] == "BadRequestException"
    assert error["message"].startswith("The request is not valid HTTP/1.1")


def test_a_slow_second_request_on_a_kept_alive_connection_is_cut_off(
    guarded: LiveServer,
) -> None:
    with socket.create_connection(("127.0.0.1", guarded.port), timeout=10) as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{guarded.port}\r\n\r\n".encode())
        response = http.client.HTTPResponse(sock)
        response.begin()
        response.read()
        assert response.status == 200
        trickle = [b"GET /healthz HTTP/1.1\r\n", *(b"X-Slow: 1\r\n" for _ in range(100))]
        assert closed_after(sock, trickle) < READ_TIMEOUT + SLACK


def test_a_request_sent_in_pieces_within_the_timeout_is_answered(guarded: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", guarded.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        time.sleep(READ_TIMEOUT / 3)
        sock.sendall(f"Host: 127.0.0.1:{guarded.port}\r\n".encode())
        time.sleep(READ_TIMEOUT / 3)
        sock.sendall(b"\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}


def test_connections_beyond_the_cap_get_a_fast_503(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "pica.toml").write_text("max_connections = 3\nrequest_read_timeout = 20\n")
    live = LiveServer(data, free_port())
    live.start()
    idle = [socket.create_connection(("127.0.0.1", live.port), timeout=10) for _ in range(3)]
    try:
        time.sleep(0.3)  # let the server accept them
        connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=5)
        start = time.monotonic()
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        assert response.status == 503
        assert time.monotonic() - start < 1
        connection.close()
    finally:
        for sock in idle:
            sock.close()
    try:
        deadline = time.monotonic() + 5
        status = 503
        while status == 503 and time.monotonic() < deadline:
            connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=5)
            connection.request("GET", "/healthz")
            status = connection.getresponse().status
            connection.close()
        assert status == 200
    finally:
        live.stop()


# --- every response leaves without a Nagle stall (issue 8) --------------------------------------


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh database on the tests' PostgreSQL server (tests.support.postgres)."""
    skip = os.environ.get("PICA_TEST_SKIP_POSTGRES") == "1"
    try:
        server = postgres_server(may_start=not skip)
    except PostgresUnavailable as error:
        if skip:
            pytest.skip(f"PostgreSQL unavailable: {error}")
        raise
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.mark.parametrize(
    ("workers", "database"),
    [(1, "sqlite"), (2, "sqlite"), pytest.param(2, "postgres", marks=pytest.mark.postgres)],
)
def test_kept_alive_responses_leave_without_a_nagle_stall(
    tmp_path: Path, request: pytest.FixtureRequest, workers: int, database: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    if database == "postgres":
        (data / "pica.toml").write_text(
            f'database_url = "{request.getfixturevalue("postgres_url")}"\n'
        )
    live = LiveServer(data, free_port(), extra_args=("--workers", str(workers)))
    live.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=5)
        connection.request("GET", "/healthz")
        connection.getresponse().read()  # the connection is up and kept alive
        latencies: list[float] = []
        for _ in range(50):
            start = time.perf_counter()
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - start)
            assert response.status == 200
            assert not response.will_close
        connection.close()
    finally:
        live.stop()
    latencies.sort()
    # A Nagle stall waits for the client's delayed ACK: 40 ms on Linux, on every response.
    assert latencies[25] < 0.020, latencies
    assert latencies[40] < 0.038, latencies
