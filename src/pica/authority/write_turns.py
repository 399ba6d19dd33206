"""Write turns: the point in a request where its next step opens a write transaction.

A domain operation written as steps (`Steps`) yields `WRITE_TURN` right before its write
transaction and returns its answer. Called synchronously (`run_steps`) the yields are passed
straight through and the transaction queues for the store's write lock as always. A server
that runs requests on its event loop drives the steps itself and, at each turn, waits until
the store's writers' queue is free without blocking the loop (`pica.wire.write_turns`), so
the loop serves its other connections while another process commits. The turn is only a
hint: the transaction still takes the lock, so nothing about isolation or durability depends
on it.
"""

from __future__ import annotations

import enum
from collections.abc import Generator
from typing import TypeVar

_T = TypeVar("_T")


class WriteTurn(enum.Enum):
    """What a step yields: its next part writes."""

    WRITE_TURN = "write turn"


WRITE_TURN = WriteTurn.WRITE_TURN

# A domain operation as steps: yields a WriteTurn before each write transaction, returns T.
Steps = Generator[WriteTurn, None, _T]


def run_steps(steps: Steps[_T]) -> _T:
    """Run `steps` to the end in the calling thread; its answer."""
    try:
        while True:
            next(steps)
    except StopIteration as done:
        result: _T = done.value
        return result
