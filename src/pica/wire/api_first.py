"""`ApiFirst`: the ASGI app pica serves; AWS JSON calls (`POST /`) skip Starlette's stack.

Nearly every request a pica server answers is an API call on `POST /`. Going through
Starlette's middleware stack and router (error middleware, exception middleware, the route
table's regular expressions, the request/response wrapper) cost ~3% of the CPU of an
IssueCertificate (bench/README.md, fourth round), for a route that needs none of it: the
endpoint answers every failure itself, as an AWS-shaped error. Everything else (OCSP POSTed to
`/`, the console, CRLs, health, metrics, lifespan) goes to the Starlette app unchanged, and the
request-target limit applies to both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pica.wire.ocsp_http import is_ocsp_scope
from pica.wire.request_target import target_refusal


class ApiFirst:
    """`POST /` (not OCSP) straight to `handle`; every other scope to `app`."""

    def __init__(self, app: ASGIApp, handle: Callable[[Request], Awaitable[Response]]) -> None:
        self._app = app
        self._handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = target_refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            if scope["method"] == "POST" and scope["path"] == "/" and not is_ocsp_scope(scope):
                response = await self._handle(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)
