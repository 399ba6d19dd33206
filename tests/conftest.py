"""Shared fixtures: one live pica server per test session, and boto3 clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import LiveServer, free_port


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real `pica serve` process on 127.0.0.1 with its own data dir (SQLite default)."""
    live = LiveServer(tmp_path_factory.mktemp("pica") / "data", free_port())
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="session")
def pca(server: LiveServer) -> Any:
    """A boto3 acm-pca client signed with the bootstrap access key."""
    return server.client()


@pytest.fixture(scope="session")
def root_ca(pca: Any) -> str:
    """An ACTIVE EC P-256 root CA shared by tests that only need some issuer."""
    from tests.support.pki import new_root

    return new_root(pca)


@pytest.fixture(scope="session")
def rsa_root_ca(pca: Any) -> str:
    from tests.support.pki import new_root

    return new_root(pca, "RSA_2048", "SHA256WITHRSA")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
