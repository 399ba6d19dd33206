"""Fixtures for the contract suites: a migrated `store` per test, on SQLite and on PostgreSQL.

PostgreSQL comes from `tests.support.postgres` (the server on 127.0.0.1:5432, or a private one
started for the session); the session works in its own database, emptied before every test and
dropped at the end. Without PostgreSQL the postgres cases FAIL, unless PICA_TEST_SKIP_POSTGRES=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pica.adapters.storage.sql_store import SqlStore
from tests.support.memory_store import MemoryStore
from tests.support.postgres import PostgresServer, PostgresUnavailable, postgres_server

SKIP_POSTGRES = os.environ.get("PICA_TEST_SKIP_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres() -> Iterator[tuple[PostgresServer, str]]:
    """The server and the name of this session's own database."""
    try:
        # With the skip switch on, use a running server but never start or install one.
        server = postgres_server(may_start=not SKIP_POSTGRES)
    except PostgresUnavailable as error:
        if SKIP_POSTGRES:
            pytest.skip(f"PostgreSQL unavailable and PICA_TEST_SKIP_POSTGRES=1: {error}")
        pytest.fail(f"PostgreSQL unavailable: {error} (PICA_TEST_SKIP_POSTGRES=1 skips these)")
    name = server.create_database()
    yield server, name
    server.drop_database(name)


@pytest.fixture(scope="session")
def postgres_url(postgres: tuple[PostgresServer, str]) -> str:
    server, name = postgres
    return server.url(name)


def _empty_database(request: pytest.FixtureRequest, engine: str, tmp_path: Path) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'pica.db'}"
    server: PostgresServer
    server, name = request.getfixturevalue("postgres")
    server.empty_database(name)
    return server.url(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database (no tables yet)."""
    return _empty_database(request, request.param, tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A migrated, empty store; its engine is disposed after the test.

    "memory" is the in-memory fake of the service tests (`tests.support.memory_store`): every
    test of port semantics must pass on it too, which keeps the fake honest. A test about the
    SQL adapter itself says so with `@pytest.mark.sql_only("why")` and is skipped there.
    """
    if request.param == "memory":
        marker = request.node.get_closest_marker("sql_only")
        if marker is not None:
            pytest.skip(f"SQL adapter only: {marker.args[0]}")
        # Typed as SqlStore so the suites keep their annotations; it offers every port method.
        yield MemoryStore()  # type: ignore[misc]
        return
    store = SqlStore(_empty_database(request, request.param, tmp_path))
    try:
        store.migrate()
        yield store
    finally:
        store.dispose()
