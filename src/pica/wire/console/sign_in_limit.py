"""Sign-in attempts per source address: a token bucket, so guessing secrets costs time.

Each address may try `capacity` times at once and then once every `refill_seconds`. The buckets
live in the process (each worker counts its own attempts), which bounds guessing per worker
without a database write per attempt; the table is cleared when it grows past `max_sources`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SIGN_IN_CAPACITY = 20
SIGN_IN_REFILL_SECONDS = 3.0


class SignInLimit:
    def __init__(
        self,
        capacity: int = SIGN_IN_CAPACITY,
        refill_seconds: float = SIGN_IN_REFILL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_sources: int = 10_000,
    ) -> None:
        self._capacity = capacity
        self._refill = refill_seconds
        self._clock = clock
        self._max_sources = max_sources
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, source: str) -> bool:
        """Take one attempt from `source`'s bucket; False when it is empty."""
        now = self._clock()
        with self._lock:
            tokens, since = self._buckets.get(source, (float(self._capacity), now))
            tokens = min(float(self._capacity), tokens + (now - since) / self._refill)
            if tokens < 1.0:
                self._buckets[source] = (tokens, now)
                return False
            if len(self._buckets) >= self._max_sources and source not in self._buckets:
                self._buckets.clear()
            self._buckets[source] = (tokens - 1.0, now)
            return True
