"""`exclusive`: flock(2) on a lock file, for changes several pica processes may make at once
(the KEK file's edits, the internal TLS certificate's renewal)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (made 0600 if missing) for the block; closing the
    descriptor releases it, so a crashed holder never leaves it taken."""
    descriptor = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
