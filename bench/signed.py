"""Pre-signed requests to replay: exactly the bytes boto3 puts on the wire, signed by botocore.

A boto3 client makes the call as usual; a `before-send` hook takes the prepared, SigV4-signed
request (all of botocore's headers: `X-Amz-Target`, `Content-Type`, `User-Agent`,
`amz-sdk-invocation-id`, `amz-sdk-request`, `X-Amz-Date`, `Authorization`, `Content-Length`)
and stops the call before anything is sent. The raw HTTP/1.1 message is then written the way
http.client (under urllib3, under botocore) writes it: the request line, `Host` and
`Accept-Encoding: identity` first, then botocore's headers in order, then the body.
`tests/bench/test_bench_smoke.py` checks this against what boto3 really sends to a socket.

A SigV4 signature is valid only inside the server's clock-skew window (AWS: 5 minutes), so sign
right before each phase that replays it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
from botocore.config import Config


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


@dataclass(frozen=True)
class RawRequest:
    """One complete HTTP/1.1 request message, ready to be written to a socket again and again."""

    label: str
    data: bytes

    @property
    def head(self) -> str:
        return self.data.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def client(
    endpoint: str, access_key: str, secret_key: str, region: str = "us-east-1", **config: Any
) -> Any:
    """A plain boto3 acm-pca client (default retry settings, as a user's would be)."""
    return boto3.session.Session().client(
        "acm-pca",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(**config) if config else None,
    )


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def wire_bytes(prepared: Any) -> bytes:
    """The message http.client sends for botocore's prepared request `prepared`."""
    url = urlsplit(prepared.url)
    target = url.path or "/"
    if url.query:
        target += "?" + url.query
    headers = {_text(k): _text(v) for k, v in prepared.headers.items()}
    lower = {k.lower() for k in headers}
    lines = [f"{prepared.method} {target} HTTP/1.1"]
    if "host" not in lower:
        lines.append(f"Host: {url.netloc}")
    if "accept-encoding" not in lower:
        lines.append("Accept-Encoding: identity")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def signed(pca: Any, method: str, **params: Any) -> RawRequest:
    """Sign `pca.<method>(**params)` now with `pca`'s credentials; the bytes boto3 would send."""
    operation = pca.meta.method_to_api_mapping[method]

    def capture(request: Any, **_: Any) -> None:
        raise _Captured(request)

    event = f"before-send.{pca.meta.service_model.service_id.hyphenize()}.{operation}"
    pca.meta.events.register(event, capture, unique_id="pica-bench-capture")
    try:
        getattr(pca, method)(**params)
    except _Captured as captured:
        return RawRequest(operation, wire_bytes(captured.request))
    finally:
        pca.meta.events.unregister(event, unique_id="pica-bench-capture")
    raise RuntimeError(f"botocore sent {operation} instead of handing it to the capture hook")


def ocsp_post(host: str, path: str, der: bytes) -> RawRequest:
    """An OCSP POST as openssl and most clients send it (RFC 6960 appendix A.1)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/ocsp-request\r\n"
        f"Accept: */*\r\nContent-Length: {len(der)}\r\n\r\n"
    )
    return RawRequest("OCSP POST", head.encode("latin-1") + der)


def ocsp_get(host: str, path: str, der: bytes) -> RawRequest:
    """An OCSP GET: the URL-encoded base64 DER appended to the responder URL (RFC 5019 5)."""
    encoded = quote(base64.b64encode(der).decode("ascii"), safe="")
    head = f"GET {path.rstrip('/')}/{encoded} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\r\n"
    return RawRequest("OCSP GET", head.encode("latin-1"))
