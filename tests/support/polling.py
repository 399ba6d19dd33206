"""`wait_until`: poll a condition until it holds or a deadline passes.

Why: a live-server test that must wait for something the server does in the background (a CRL
published, a key cache expired, a log line written) should wait exactly as long as that takes,
never a fixed sleep that is too long on a fast machine and too short on a loaded one; and it
should fail with what it was waiting for, not hang.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T | None],
    *,
    timeout: float = 20.0,
    interval: float = 0.05,
    what: str = "the condition",
) -> T:
    """The first truthy value `condition()` returns; AssertionError once `timeout` s passed.

    The condition is checked once more at the deadline, so a slow last check still counts.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for {what} (last: {value!r})"
            )
        time.sleep(interval)
