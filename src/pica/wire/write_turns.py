"""Driving a domain operation's steps on the event loop (`pica.authority.write_turns`).

At each write turn the loop awaits `until_writable` (the store's writers' queue free, waited
for off the loop), then runs the next step inline. A worker whose write would queue behind
another process's commit thus serves its other connections meanwhile instead of blocking in
flock(2) with its whole loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pica.authority.write_turns import Steps

_T = TypeVar("_T")

UntilWritable = Callable[[], Awaitable[None]]


async def drive_steps(steps: Steps[_T], until_writable: UntilWritable) -> _T:
    """Run `steps` on the loop, awaiting `until_writable` at each write turn; its answer."""
    try:
        while True:
            next(steps)
            await until_writable()
    except StopIteration as done:
        result: _T = done.value
        return result
