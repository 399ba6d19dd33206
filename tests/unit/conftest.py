"""Fixtures shared by the unit tests of one package: the OCSP world, built once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.ocsp_world import World, open_world


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A runtime with an account and ACTIVE roots, shared by the OCSP responder tests."""
    with open_world(tmp_path_factory.mktemp("ocsp") / "data") as built:
        yield built
