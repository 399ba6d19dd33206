"""A cap on the length of the request target (path and query), checked before any routing.

Every GET route parses the path: OCSP GET looks for a base64 request in its trailing segments,
the CRL route for a CA id. Refusing an over-long target up front, by its length alone, keeps
that work bounded whatever a client sends; and none of pica's URLs comes near the cap (an OCSP
GET request over a few KiB should be POSTed, as RFC 5019 says).
"""

from __future__ import annotations

import uuid
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from pica.wire.awsjson.endpoint import error_response

MAX_TARGET_BYTES: Final = 8 * 1024  # what common proxies (nginx, Apache) accept by default
URI_TOO_LONG: Final = "RequestUriTooLongException"


class RequestTargetLimit:
    """ASGI middleware: a 414 JSON error for a path plus query string over `max_bytes`.

    Only lengths are compared, so the answer costs the same whatever the target holds.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_TARGET_BYTES) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8")
            length = len(raw_path) + len(scope.get("query_string", b""))
            if length > self._max_bytes:
                refusal = error_response(
                    414,
                    URI_TOO_LONG,
                    f"The request target is {length} bytes long; pica accepts at most "
                    f"{self._max_bytes}.",
                    str(uuid.uuid4()),
                )
                await refusal(scope, receive, send)
                return
        await self._app(scope, receive, send)
