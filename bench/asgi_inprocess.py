"""`python -m bench asgi [N]`: what pica's wire costs on top of its domain, without sockets.

One process, one thread of requests at a time, no HTTP server: the same botocore-signed
IssueCertificate (P-256 CA) is handed N times to `pica.app.create_app`'s ASGI app as uvicorn
would hand it (scope, body, send), and N times straight to `CertificateService.issue`. Both
print CPU per request (process time, so the worker threads of the thread hop count), side by
side in one run: their difference is the wire (SigV4, JSON, validation, dispatch, the API-call
record and metrics, the access log when on, the thread hop when used). What the HTTP server
and the kernel add on top is the difference to `python -m bench issuance`'s `srv CPU ms`.
"""

from __future__ import annotations

import asyncio
import configparser
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.ceiling import KEY_TYPES, InProcessPica, subject_csr
from bench.signed import client, signed
from pica.app import create_app
from pica.authority.certificates import IssueRequest
from pica.authority.model import SigningAlgorithm, Validity, ValidityType

WARM_UP = 300


def _scope_and_body(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The ASGI scope uvicorn builds for the raw HTTP/1.1 request `data`, and its body."""
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ")
    headers = [
        (name.strip().lower().encode("latin-1"), value.strip().encode("latin-1"))
        for name, value in (line.split(":", 1) for line in lines[1:])
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": target,
        "raw_path": target.encode("latin-1"),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    return scope, body


async def _drive(app: Any, scope: dict[str, Any], body: bytes, count: int) -> float:
    """CPU seconds for `count` requests through `app`; every answer must be 200."""
    statuses: list[int] = []

    async def one() -> None:
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)  # a disconnect that never comes
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(dict(scope), receive, send)

    for _ in range(WARM_UP):
        await one()
    statuses.clear()
    started = time.process_time()
    for _ in range(count):
        await one()
    spent = time.process_time() - started
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses: {sorted(set(statuses))}")
    return spent


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 5000
    data_dir = Path(tempfile.mkdtemp(prefix="pica-bench-asgi-"))
    pica = InProcessPica(data_dir)
    try:
        key_type = KEY_TYPES[0]
        ca_arn = pica.active_root(key_type)
        csr = subject_csr()
        credentials = configparser.ConfigParser()
        credentials.read(data_dir / "credentials")
        profile = credentials["pica"]
        pca = client(
            "http://127.0.0.1:8080",
            profile["aws_access_key_id"],
            profile["aws_secret_access_key"],
        )
        request = signed(
            pca,
            "issue_certificate",
            CertificateAuthorityArn=ca_arn,
            Csr=csr,
            SigningAlgorithm=key_type.signing_algorithm,
            Validity={"Value": 30, "Type": "DAYS"},
        )
        scope, body = _scope_and_body(request.data)
        app = create_app(pica.runtime)
        gc.collect()
        gc.freeze()  # as each serving process does at start-up
        through_app = asyncio.run(_drive(app, scope, body, count))

        service = pica.runtime.services.certificates
        issue = IssueRequest(
            ca_arn=ca_arn,
            csr=csr,
            signing_algorithm=SigningAlgorithm(key_type.signing_algorithm),
            validity=Validity(30, ValidityType.DAYS),
        )
        for _ in range(WARM_UP):
            service.issue(pica.caller, issue)
        started = time.process_time()
        for _ in range(count):
            service.issue(pica.caller, issue)
        domain = time.process_time() - started
    finally:
        pica.close()
    app_ms, domain_ms = 1000 * through_app / count, 1000 * domain / count
    print(f"IssueCertificate, P-256 CA, SQLite, {count} requests each, CPU per request:")
    print(f"  through the ASGI app (wire + domain)   {app_ms:6.3f} ms")
    print(f"  CertificateService.issue (domain)      {domain_ms:6.3f} ms")
    print(f"  the wire                               {app_ms - domain_ms:6.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
