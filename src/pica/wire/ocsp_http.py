"""OCSP over HTTP (RFC 6960 Appendix A, RFC 5019 section 5): POST a DER request, or GET it.

POST carries the DER request as the body with `Content-Type: application/ocsp-request`. GET
appends the URL-encoded base64 of the request to the responder URL; the responder URL may have
any path, and base64 itself contains `/`, so the request is the shortest trailing run of path
segments that decodes to one whole DER SEQUENCE (found in time linear in the path). GET
responses carry RFC 5019 caching headers so an HTTP cache can serve them until nextUpdate; POST
responses are not cacheable by HTTP.
"""

from __future__ import annotations

import binascii
import hashlib
from datetime import datetime
from email.utils import format_datetime

from asn1crypto import parser as asn1_parser
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from pica.authority.ocsp.answer import OcspAnswer
from pica.authority.ocsp.responder import OcspResponder
from pica.wire.blocking import run_blocking
from pica.wire.body import BodyIncomplete, BodyTooLarge, read_limited

REQUEST_CONTENT_TYPE = "application/ocsp-request"
RESPONSE_CONTENT_TYPE = "application/ocsp-response"
MAX_REQUEST_BYTES = 64 * 1024


_OCSP_MEDIA_TYPE = REQUEST_CONTENT_TYPE.encode("ascii")


def is_ocsp_request(request: Request) -> bool:
    """Whether a request says it carries an OCSP request (media type only, parameters ignored)."""
    return is_ocsp_scope(request.scope)


def is_ocsp_scope(scope: Scope) -> bool:
    """`is_ocsp_request` on an ASGI scope's raw headers: the first Content-Type decides."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type: bytes = value.split(b";", 1)[0].strip().lower()
            return media_type == _OCSP_MEDIA_TYPE
    return False


def _announced_sequence_length(data: bytes) -> int | None:
    """The total length the SEQUENCE header `data` starts with announces, or None if it is
    not a SEQUENCE header with a definite length of at most four octets.

    This reads a header without its contents, which no ASN.1 library does (asn1crypto's
    parser wants the whole element): it is what keeps `request_from_path` linear. Whole
    candidates are parsed by asn1crypto.
    """
    if len(data) < 2 or data[0] != 0x30:
        return None
    first = data[1]
    if first < 0x80:
        return 2 + first
    size = first & 0x7F
    if size == 0 or size > 4 or len(data) < 2 + size:
        return None
    return 2 + size + int.from_bytes(data[2 : 2 + size], "big")


def request_from_path(path: str, max_bytes: int = MAX_REQUEST_BYTES) -> bytes | None:
    """The DER request a GET path ends with, or None when no trailing part is one.

    `path` is percent-decoded already. A `+` that arrived unencoded may have become a space
    on the way (form-style encoding), so spaces are read as `+`.

    Linear in the path: a DER SEQUENCE announces its own length in its first bytes, so each
    segment boundary is tested by decoding 8 characters (the tag and up to four length bytes)
    and comparing the announced length with what is left of the path; only a boundary that
    passes is decoded in full. Boundaries further back than the largest request are never
    looked at.
    """
    longest = 4 * -(-max_bytes // 3)
    end = len(path)
    while True:
        slash = path.rfind("/", 0, end)
        begin = slash + 1  # 0 once no slash is left: the whole path
        if len(path) - begin > longest:
            return None
        if _announces_its_length(path[begin : begin + 8], len(path) - begin):
            try:
                der = binascii.a2b_base64(path[begin:].replace(" ", "+"), strict_mode=True)
            except ValueError:  # binascii.Error, or a non-ASCII character
                der = b""
            if der and _is_one_sequence(der):
                return der
        if slash < 0:
            return None
        end = slash


def _announces_its_length(head: str, length: int) -> bool:
    """Whether a candidate of `length` characters starting with `head` (its first 8) holds as
    much base64 as the DER SEQUENCE header encoded in `head` announces."""
    head = head.replace(" ", "+")
    if len(head) < 4 or head[0] != "M":  # "M": the first 6 bits of 0x30, a SEQUENCE
        return False
    try:
        header = binascii.a2b_base64(head[: len(head) // 4 * 4], strict_mode=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        return False
    # A short candidate has fewer than six header bytes; padding keeps the parse total, and a
    # wrong guess is caught by the full decode.
    total = _announced_sequence_length(header + b"\0" * 6)
    return total is not None and length == 4 * -(-total // 3)


def _is_one_sequence(der: bytes) -> bool:
    """Whether `der` is one whole universal SEQUENCE, nothing before or after it.

    Its header already passed `_announces_its_length` (definite length, at most four length
    octets), so asn1crypto's parse decides only whether the contents are all there.
    """
    try:
        class_, constructed, tag, _, _, _ = asn1_parser.parse(der, strict=True)
    except ValueError:
        return False
    return (class_, constructed, tag) == (0, 1, 16)


def _http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def _caching_headers(answer: OcspAnswer) -> dict[str, str]:
    """RFC 5019 6.2: let caches keep a response until its nextUpdate, and no longer."""
    if not answer.cacheable or answer.produced_at is None or answer.next_update is None:
        return {"Cache-Control": "no-store"}
    max_age = max(0, int((answer.next_update - answer.produced_at).total_seconds()))
    return {
        "Cache-Control": f"max-age={max_age}, public, no-transform, must-revalidate",
        "Last-Modified": _http_date(answer.produced_at),
        "Expires": _http_date(answer.next_update),
        "ETag": f'"{hashlib.sha256(answer.der).hexdigest()}"',
    }


class OcspEndpoints:
    """The two OCSP endpoints of one responder; the composition root decides where they live."""

    def __init__(
        self, responder: OcspResponder, *, max_body: int = MAX_REQUEST_BYTES, inline: bool = False
    ) -> None:
        self._responder = responder
        self._max_body = max_body
        self._inline = inline  # answer on the event loop, without the thread hop (`wire.inline`)

    async def _answer(self, der: bytes) -> OcspAnswer:
        if self._inline:
            return self._responder.answer(der)
        return await run_blocking(self._responder.answer, der)

    async def post(self, request: Request) -> Response:
        """POST: the body is the DER request."""
        if not is_ocsp_request(request):
            return Response(
                f"OCSP requests are sent as {REQUEST_CONTENT_TYPE}.\n",
                status_code=415,
                media_type="text/plain",
            )
        try:
            body = await read_limited(request, self._max_body)
        except BodyTooLarge:
            return Response(
                f"An OCSP request is at most {self._max_body} bytes.\n",
                status_code=413,
                media_type="text/plain",
            )
        except BodyIncomplete:
            return Response(status_code=400)  # nobody is left to read it
        answer = await self._answer(body)
        return Response(answer.der, media_type=RESPONSE_CONTENT_TYPE)

    async def get(self, request: Request, path: str | None = None) -> Response | None:
        """GET: the path ends with the base64 request; None when it does not (not OCSP).

        `path` defaults to the request's whole (percent-decoded) path.
        """
        der = request_from_path(request.url.path if path is None else path, self._max_body)
        if der is None:
            return None
        answer = await self._answer(der)
        return Response(
            answer.der, media_type=RESPONSE_CONTENT_TYPE, headers=_caching_headers(answer)
        )


def make_ocsp_endpoints(
    responder: OcspResponder, *, max_body: int = MAX_REQUEST_BYTES, inline: bool = False
) -> OcspEndpoints:
    return OcspEndpoints(responder, max_body=max_body, inline=inline)
