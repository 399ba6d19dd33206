"""Reading a request body with a size cap, for every endpoint that takes one.

The declared Content-Length is refused before anything is read, and a body sent without one
(chunked) is cut off as soon as it passes the cap, so an oversized request never sits in memory.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request


class BodyTooLarge(Exception):
    """The request body is larger than the endpoint accepts."""


class BodyIncomplete(Exception):
    """The client went away (or was cut off by the read deadline) before its body was complete.

    Nobody is left to answer, so endpoints reply with a bare 400 and log nothing alarming.
    """


async def read_limited(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
    except ClientDisconnect:
        raise BodyIncomplete from None
    return b"".join(chunks)
