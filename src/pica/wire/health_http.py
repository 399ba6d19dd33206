"""`GET /healthz` and `GET /readyz`: unauthenticated, cheap, JSON.

- `/healthz`: the process is up and its event loop answers. No I/O, so an orchestrator that
  restarts on failure restarts only a process that is really stuck.
- `/readyz`: pica can serve API calls: each readiness check (the database answers, the key
  store seals and opens, the object store answers) passed. 503 with the failing check's reason
  otherwise, so a load balancer sends traffic elsewhere without restarting anything. A sealed
  pica (`pica kek protect`, not unsealed yet) answers 503 with `"status": "sealed"`.

The checks run off the event loop, one after the other, and their verdict is kept for
`READY_CACHE_SECONDS`, so probes from several balancers cost at most one round of checks per
interval. A reason is one line; it may name a file or a database host (the operator's own
facts), never a secret.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pica.errors import Sealed

log = logging.getLogger("pica.health")

READY_CACHE_SECONDS = 1.0
CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class ReadinessCheck:
    """One thing pica needs in order to serve: `check` returns when it is usable, raises when
    not (the exception's text is the reason)."""

    name: str
    check: Callable[[], None]


def _json(status: int, body: dict[str, object]) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type=CONTENT_TYPE,
        headers={"Cache-Control": "no-store"},
    )


class HealthEndpoints:
    def __init__(self, checks: Sequence[ReadinessCheck]) -> None:
        self._checks = tuple(checks)
        self._verdict: tuple[float, int, dict[str, object]] | None = None
        self._lock = asyncio.Lock()

    async def healthz(self, request: Request) -> Response:
        return _json(200, {"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        async with self._lock:
            now = time.monotonic()
            if self._verdict is None or now - self._verdict[0] >= READY_CACHE_SECONDS:
                status, body = await run_in_threadpool(self._run_checks)
                self._verdict = (time.monotonic(), status, body)
            _, status, body = self._verdict
        return _json(status, body)

    def _run_checks(self) -> tuple[int, dict[str, object]]:
        results: dict[str, str] = {}
        for item in self._checks:
            try:
                item.check()
            except Sealed as error:
                results[item.name] = "sealed"
                return 503, {"status": "sealed", "reason": error.message, "checks": results}
            except Exception as error:
                reason = " ".join(str(error).split()) or type(error).__name__
                results[item.name] = "failing"
                log.warning("not ready: %s: %s", item.name, reason)
                return 503, {
                    "status": "unavailable",
                    "reason": f"{item.name}: {reason}",
                    "checks": results,
                }
            results[item.name] = "ok"
        return 200, {"status": "ready", "checks": results}
