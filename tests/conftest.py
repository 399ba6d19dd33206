"""Shared fixtures: one live pica server per test session, and boto3 clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.seaweedfs import SeaweedFs, start_seaweedfs
from tests.support.server import LiveServer, free_port
from tests.support.softhsm import SoftHsmToken, SoftHsmUnavailable, new_token

S3_BUCKET = "pica-crls"


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


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsmToken]:
    """A SoftHSM2 token initialised for this test session in a temporary directory.

    `SOFTHSM2_CONF` is set for this process too (SoftHSM2 reads it once, when the module is
    first loaded), so in-process tests and the servers they start see this token only.
    """
    import os

    try:
        token = new_token(tmp_path_factory.mktemp("softhsm"))
    except SoftHsmUnavailable as error:
        pytest.fail(str(error))
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ.update(token.env)
    try:
        yield token
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFs]:
    """A real S3-compatible server (SeaweedFS) on 127.0.0.1 with the bucket `S3_BUCKET`."""
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    try:
        client = server.client()
        client.create_bucket(Bucket=S3_BUCKET)
        client.close()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory, s3: SeaweedFs) -> Iterator[LiveServer]:
    """A second pica that publishes CRLs to the S3 server (object_store = "s3")."""
    data = tmp_path_factory.mktemp("pica-s3") / "data"
    data.mkdir()
    (data / "pica.toml").write_text(
        'object_store = "s3"\n'
        f's3_endpoint_url = "{s3.endpoint_url}"\n'
        f's3_access_key_id = "{s3.access_key}"\n'
        f's3_secret_access_key = "{s3.secret_key}"\n'
        f's3_region = "{s3.region}"\n'
    )
    live = LiveServer(data, free_port())
    live.start()
    try:
        yield live
    finally:
        live.stop()
