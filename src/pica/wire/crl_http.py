"""Serving published CRLs over HTTP at the URLs pica writes into certificates.

`GET /<bucket>/<key>` is the path-style URL of the local object store; `GET /<key>` is what a
CustomCname pointing at pica resolves to. Only the CRLs pica publishes are served (see
`CrlPublisher.crl_for_path`): the same buckets may hold audit reports and, with an S3 store,
anything else pica's credentials can read, none of which is public.
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
