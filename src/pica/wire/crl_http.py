"""Serving published CRLs over HTTP at the URLs pica writes into certificates.

`GET /<bucket>/<key>` is the path-style URL of the local object store; `GET /<key>` is what a
CustomCname pointing at pica resolves to. Only `.crl` objects are served: the same buckets may
later hold audit reports, which are not public.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pica.authority.revocation import CRL_CONTENT_TYPE, CrlPublisher


class CrlEndpoint:
    def __init__(self, publisher: CrlPublisher) -> None:
        self._publisher = publisher

    async def get(self, request: Request, path: str) -> Response | None:
        """The CRL at `path`, or None when `path` names no CRL (the caller answers 404)."""
        body = await run_in_threadpool(self._publisher.crl_for_path, path)
        if body is None:
            return None
        return Response(
            body,
            media_type=CRL_CONTENT_TYPE,
            headers={"Cache-Control": "no-cache", "Content-Disposition": "inline"},
        )
