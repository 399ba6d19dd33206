"""A live pica server for tests: `python -m pica serve` on a free 127.0.0.1 port in a temp dir."""

from __future__ import annotations

import configparser
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from tests.support.validators import watch_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_answers(port: int, *, tls: bool = False) -> bool:
    """Whether pica on 127.0.0.1:`port` answers HTTP (its port is bound before it is ready);
    over TLS with `tls`, trusting any certificate (only readiness is asked here)."""
    connection: http.client.HTTPConnection = (
        http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=2, context=ssl._create_unverified_context()
        )
        if tls
        else http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    )
    try:
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@dataclass
class LiveServer:
    data_dir: Path
    port: int
    extra_args: tuple[str, ...] = ()
    # Extra environment variables (PICA_* included) and the umask the server starts with.
    env: dict[str, str] = field(default_factory=dict)
    umask: int | None = None
    # False for a server that signs what RFC 5280 forbids (lint_findings = "record"): its
    # chains are then checked without OpenSSL's -x509_strict.
    strict_chains: bool = True
    # Serves HTTPS (`--tls`): readiness is asked over TLS and `endpoint` is https.
    tls: bool = False
    process: subprocess.Popen[bytes] | None = None
    output: Path = field(init=False)

    def __post_init__(self) -> None:
        self.output = self.data_dir.parent / f"{self.data_dir.name}-server.log"

    @property
    def endpoint(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PICA_"))}
        env.update(self.env)
        with self.output.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pica",
                    "serve",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                    *self.extra_args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                umask=-1 if self.umask is None else self.umask,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pica exited early:\n{self.output.read_text()}")
            if http_answers(self.port, tls=self.tls):
                return
            time.sleep(0.05)
        raise RuntimeError(f"pica did not start:\n{self.output.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_text(self) -> str:
        return self.output.read_text() if self.output.exists() else ""

    # --- clients -----------------------------------------------------------------------------

    def credentials(self) -> tuple[str, str]:
        parser = configparser.ConfigParser()
        parser.read(self.data_dir / "credentials")
        return parser["pica"]["aws_access_key_id"], parser["pica"]["aws_secret_access_key"]

    def client(
        self,
        access_key: str | None = None,
        secret_key: str | None = None,
        *,
        region: str = "us-east-1",
    ) -> Any:
        """A boto3 acm-pca client whose every GetCertificate chain is checked by three
        validators (`tests.support.validators`)."""
        client = self.raw_client(access_key, secret_key, region=region)
        return watch_client(client, strict=self.strict_chains)

    def raw_client(
        self,
        access_key: str | None = None,
        secret_key: str | None = None,
        *,
        region: str = "us-east-1",
        **config: Any,
    ) -> Any:
        """A plain boto3 acm-pca client (no chain checks), with extra botocore Config options
        (`parameter_validation=False` lets values below a model minimum reach the server)."""
        default_key, default_secret = self.credentials()
        return boto3.session.Session().client(
            "acm-pca",
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=access_key or default_key,
            aws_secret_access_key=secret_key or default_secret,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
            # Over TLS, the internal CA's bundle that `pica serve --tls` wrote.
            verify=str(self.data_dir / "tls" / "ca-bundle.pem") if self.tls else None,
        )

    def new_account(self) -> tuple[str, str, str]:
        """A fresh account and an access key for it: (account id, key id, secret)."""
        created = self.pica("accounts", "create", "--json")
        assert created.returncode == 0, created.stderr
        account_id: str = json.loads(created.stdout)["AccountId"]
        key = self.pica("keys", "create", "--account", account_id, "--json")
        assert key.returncode == 0, key.stderr
        credentials = json.loads(key.stdout)
        return account_id, credentials["AccessKeyId"], credentials["SecretAccessKey"]

    def new_account_client(self) -> Any:
        """A boto3 client signed by a fresh account: another tenant of the same pica."""
        _, key, secret = self.new_account()
        return self.client(key, secret)

    def cli_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_CONFIG_FILE=str(self.data_dir / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(self.data_dir / "credentials"),
            AWS_PROFILE="pica",
        )
        return env

    def aws(self, *args: str, cwd: Path | None = None, check: bool = True) -> Any:
        """Run the real aws CLI (the one installed beside this Python) against the server."""
        aws = Path(sys.executable).with_name("aws")
        completed = subprocess.run(
            [str(aws), *args, "--output", "json"],
            env=self.cli_env(),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and completed.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {completed.stderr}")
        if not check:
            return completed
        return json.loads(completed.stdout) if completed.stdout.strip() else {}

    def pica(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a `pica` management command on this server's data dir."""
        return subprocess.run(
            [sys.executable, "-m", "pica", *args, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )
