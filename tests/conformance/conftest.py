"""Fixtures shared by the conformance suites (the session-wide `server` is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import LiveServer, free_port


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """Each test its own `pica serve --workers 2` (for tests that change its KEK file, seal or
    restart it: they run in random order and must not share one)."""
    server = LiveServer(tmp_path / "data", free_port(), extra_args=("--workers", "2"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
