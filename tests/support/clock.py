"""`FrozenClock`: the `Clock` port standing still until a test sets or advances it.

Why not real time plus an offset: a frozen clock makes every timestamp a test sees (issued_at,
restorable_until, idempotency ages, CRL thisUpdate) exact and repeatable, so a test can assert
the value instead of a range, and crossing a boundary is one `advance`, never a sleep.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# A fixed, second-aligned start: certificates encode times to the second.
EPOCH = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


class FrozenClock:
    """Returns the same instant on every call until moved."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self._now = _aware(start)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = _aware(instant)

    def advance(self, by: timedelta) -> datetime:
        """Move forward by `by` (never backwards: time in a store only grows); the new now."""
        if by < timedelta():
            raise ValueError("a frozen clock only advances")
        self._now += by
        return self._now


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("a clock tells aware UTC time")
    return instant.astimezone(UTC)
