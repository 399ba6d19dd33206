"""A cap on the length of the request target (path and query), checked before any routing.

Every GET route parses the path: OCSP GET looks for a base64 request in its trailing segments,
the CRL route for a CA id. Refusing an over-long target up front, by its length alone, keeps
that work bounded whatever a client sends; and none of pica's URLs comes near the cap (an OCSP
GET request over a few KiB should be POSTed, as RFC 5019 says).
"""

from __future__ import annotations

import uuid
from typing import Final

from starlette.responses import Response
from starlette.types import Scope

from pica.wire.awsjson.endpoint import error_response

MAX_TARGET_BYTES: Final = 8 * 1024  # what common proxies (nginx, Apache) accept by default
URI_TOO_LONG: Final = "RequestUriTooLongException"


def target_refusal(scope: Scope, max_bytes: int = MAX_TARGET_BYTES) -> Response | None:
    """A 414 JSON error for an HTTP scope whose path plus query string exceed `max_bytes`,
    else None. `pica.wire.api_first.ApiFirst` asks before anything routes the request.

    Only lengths are compared, so the answer costs the same whatever the target holds.
    """
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8")
    length = len(raw_path) + len(scope.get("query_string", b""))
    if length <= max_bytes:
        return None
    return error_response(
        414,
        URI_TOO_LONG,
        f"The request target is {length} bytes long; pica accepts at most {max_bytes}.",
        str(uuid.uuid4()),
    )
