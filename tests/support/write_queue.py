"""Another process holding a SQLite database's writers' queue (flock(2) on `pica.db-lock`),
as another `pica serve` worker does while it commits."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLD = """
import fcntl, os, sys
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(descriptor, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()  # until the test lets go (closes our stdin)
"""


@contextmanager
def held_by_another_process(lock_file: Path) -> Iterator[Callable[[], None]]:
    """The queue held by a child process once this is entered, until the function it yields
    is called or the block ends."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(lock_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdin is not None and holder.stdout is not None
        stdin = holder.stdin

        def release() -> None:
            if not stdin.closed:
                stdin.close()
            holder.wait(10)

        try:
            assert holder.stdout.readline() == "held\n", "the child never took the lock"
            yield release
        finally:
            if holder.poll() is None:
                holder.kill()
