"""Contract of the `ObjectStore` port, run against every adapter, plus each adapter's own edges.

The S3 adapter runs against a real S3-compatible server (SeaweedFS, from `tests.support.
seaweedfs`, one per session) with a fresh bucket per test; the local-directory adapter against a
folder under `tmp_path`. The fixtures live here rather than in `tests/contract/conftest.py`
because only this suite uses them.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

import pytest

from pica.adapters.objectstore.local_dir import LocalDirObjectStore
from pica.adapters.objectstore.s3 import S3ObjectStore
from pica.authority.ports import ObjectStore
from pica.errors import InvalidArgs, RequestFailed
from tests.support.seaweedfs import SeaweedFs, start_seaweedfs
from tests.support.server import free_port

CRL = "application/pkix-crl"
LOCAL_BASE_URL = "http://127.0.0.1:8080/objects"
# Every byte value, so an adapter that decodes, strips or re-encodes anything is caught.
BINARY = bytes(range(256)) * 3 + b"\x00\r\n\x1a"


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFs]:
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_admin(seaweedfs: SeaweedFs) -> Iterator[Any]:
    """A plain boto3 client, to set the scene (buckets, policies) independently of the adapter."""
    client = seaweedfs.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def s3_bucket(s3_admin: Any) -> Iterator[str]:
    """A new, empty bucket, removed with its objects after the test."""
    name = f"pica-test-{secrets.token_hex(6)}"
    s3_admin.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        listed = s3_admin.list_objects_v2(Bucket=name).get("Contents", [])
        for entry in listed:
            s3_admin.delete_object(Bucket=name, Key=entry["Key"])
        s3_admin.delete_bucket(Bucket=name)


@pytest.fixture
def s3_store(seaweedfs: SeaweedFs) -> Iterator[S3ObjectStore]:
    store = S3ObjectStore(
        seaweedfs.endpoint_url, seaweedfs.region, seaweedfs.access_key, seaweedfs.secret_key
    )
    with store:
        yield store


@pytest.fixture
def local_root(tmp_path: Path) -> Path:
    return tmp_path / "public" / "objects"


@pytest.fixture
def local_store(local_root: Path) -> LocalDirObjectStore:
    return LocalDirObjectStore(local_root, LOCAL_BASE_URL + "/")


@dataclass(frozen=True)
class Target:
    """A store under test, a bucket it may write to, and the URL its objects should have."""

    store: ObjectStore
    bucket: str
    url_base: str


@pytest.fixture(params=["local_dir", "s3"])
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "local_dir":
        local: LocalDirObjectStore = request.getfixturevalue("local_store")
        return Target(local, "pica-crls", f"{LOCAL_BASE_URL}/pica-crls")
    s3: S3ObjectStore = request.getfixturevalue("s3_store")
    bucket: str = request.getfixturevalue("s3_bucket")
    server: SeaweedFs = request.getfixturevalue("seaweedfs")
    return Target(s3, bucket, f"{server.endpoint_url}/{bucket}")


# The contract: every adapter.


def test_round_trip_keeps_every_byte(target: Target) -> None:
    target.store.put_object(target.bucket, "crl/ca.crl", BINARY, content_type=CRL, public_read=True)
    assert target.store.get_object(target.bucket, "crl/ca.crl") == BINARY


def test_empty_object_is_not_a_missing_one(target: Target) -> None:
    target.store.put_object(target.bucket, "crl/empty", b"", content_type=CRL, public_read=False)
    assert target.store.get_object(target.bucket, "crl/empty") == b""


def test_overwrite_replaces_the_whole_body(target: Target) -> None:
    target.store.put_object(
        target.bucket, "crl/ca.crl", b"a" * 4096, content_type=CRL, public_read=True
    )
    target.store.put_object(
        target.bucket, "crl/ca.crl", b"short", content_type=CRL, public_read=True
    )
    assert target.store.get_object(target.bucket, "crl/ca.crl") == b"short"


def test_chunked_write_joins_the_chunks_and_replaces(target: Target) -> None:
    # Past S3's 8 MiB multipart threshold, so the S3 adapter uploads in parts.
    chunks = [bytes([n]) * (1024 * 1024) for n in range(9)] + [b"tail"]
    target.store.put_object_chunks(
        target.bucket, "audit-report/ca/r.json", iter(chunks), content_type="application/json"
    )
    assert target.store.get_object(target.bucket, "audit-report/ca/r.json") == b"".join(chunks)
    target.store.put_object_chunks(
        target.bucket, "audit-report/ca/r.json", iter([b"[", b"]"]), content_type="text/csv"
    )
    assert target.store.get_object(target.bucket, "audit-report/ca/r.json") == b"[]"


def test_s3_chunked_write_into_a_missing_bucket_fails(s3_store: S3ObjectStore) -> None:
    bucket = f"pica-absent-{secrets.token_hex(6)}"
    with pytest.raises(RequestFailed) as failed:
        s3_store.put_object_chunks(bucket, "audit-report/x.csv", [b"a"], content_type="text/csv")
    assert bucket in failed.value.message


def test_local_dir_chunked_objects_are_private(
    local_store: LocalDirObjectStore, local_root: Path
) -> None:
    local_store.put_object_chunks("b", "audit-report/x.csv", [b"a", b"b"], content_type="text/csv")
    path = local_root / "b" / "audit-report" / "x.csv"
    assert path.read_bytes() == b"ab"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_missing_key_reads_as_none(target: Target) -> None:
    assert target.store.get_object(target.bucket, "crl/nothing-here.crl") is None
    target.store.put_object(
        target.bucket, "crl/other.crl", b"x", content_type=CRL, public_read=True
    )
    assert target.store.get_object(target.bucket, "crl/nothing-here.crl") is None


def test_missing_bucket_reads_as_none(target: Target) -> None:
    bucket = f"pica-absent-{secrets.token_hex(6)}"
    assert target.store.get_object(bucket, "crl/ca.crl") is None


def test_nested_keys_are_independent_objects(target: Target) -> None:
    keys = {"crl/abc/def.crl": b"deep", "crl/abc.crl": b"shallow", "crl/abd/def.crl": b"sibling"}
    for key, body in keys.items():
        target.store.put_object(target.bucket, key, body, content_type=CRL, public_read=True)
    for key, body in keys.items():
        assert target.store.get_object(target.bucket, key) == body
    assert target.store.get_object(target.bucket, "crl/abc/other.crl") is None


def test_object_url_is_path_style_under_the_base(target: Target) -> None:
    url = target.store.object_url(target.bucket, "crl/0d0e8b4c-6f3e-4c83-9b1c-2f6a2f1b7e51.crl")
    assert url == f"{target.url_base}/crl/0d0e8b4c-6f3e-4c83-9b1c-2f6a2f1b7e51.crl"


@pytest.mark.parametrize("bucket", ["a/b", "pica/../etc"])
def test_bucket_names_with_a_slash_are_invalid(target: Target, bucket: str) -> None:
    with pytest.raises(InvalidArgs):
        target.store.put_object(bucket, "crl/ca.crl", b"x", content_type=CRL, public_read=True)
    with pytest.raises(InvalidArgs):
        target.store.get_object(bucket, "crl/ca.crl")


def test_empty_key_is_invalid(target: Target) -> None:
    with pytest.raises(InvalidArgs):
        target.store.put_object(target.bucket, "", b"x", content_type=CRL, public_read=True)
    with pytest.raises(InvalidArgs):
        target.store.get_object(target.bucket, "")


def test_readers_see_the_old_or_the_new_body_never_a_mix(target: Target) -> None:
    """The port promises atomic replacement; a reader racing the writer must never see a tear."""
    old, new = b"o" * 200_000, b"n" * 300_000
    store, bucket = target.store, target.bucket
    store.put_object(bucket, "crl/racy.crl", old, content_type=CRL, public_read=True)
    reads = 0
    torn: list[int | None] = []  # the lengths of bodies that were neither, kept small
    done = threading.Event()

    def read_until_done() -> None:
        nonlocal reads
        while not done.is_set():
            body = store.get_object(bucket, "crl/racy.crl")
            reads += 1
            if body not in (old, new):
                torn.append(None if body is None else len(body))

    reader = threading.Thread(target=read_until_done)
    reader.start()
    try:
        for round_ in range(10):
            body = new if round_ % 2 == 0 else old
            store.put_object(bucket, "crl/racy.crl", body, content_type=CRL, public_read=True)
    finally:
        done.set()
        reader.join()
    assert reads > 0
    assert torn == []


# LocalDirObjectStore's own edges.

ESCAPING_KEYS = [
    "../outside.crl",
    "crl/../../outside.crl",
    "..",
    "/etc/outside.crl",
    "crl//ca.crl",
    "crl/",
    "crl/./ca.crl",
    "..\\outside.crl",
    "crl\\ca.crl",
    "crl/ca\x00.crl",
]
ESCAPING_BUCKETS = ["..", ".", "", "a/b", "../public", "a\\b", "b\x00"]


def _files_outside(tmp_path: Path, root: Path) -> set[Path]:
    return {path for path in tmp_path.rglob("*") if root not in (path, *path.parents)}


@pytest.mark.parametrize("key", ESCAPING_KEYS)
def test_local_dir_rejects_keys_that_leave_the_bucket(
    local_store: LocalDirObjectStore, local_root: Path, tmp_path: Path, key: str
) -> None:
    before = _files_outside(tmp_path, local_root)
    with pytest.raises(InvalidArgs, match="object key"):
        local_store.put_object("pica-crls", key, b"x", content_type=CRL, public_read=True)
    with pytest.raises(InvalidArgs, match="object key"):
        local_store.get_object("pica-crls", key)
    with pytest.raises(InvalidArgs, match="object key"):
        local_store.object_url("pica-crls", key)
    assert _files_outside(tmp_path, local_root) == before
    assert not local_root.exists() or not any(local_root.rglob("*"))


@pytest.mark.parametrize("bucket", ESCAPING_BUCKETS)
def test_local_dir_rejects_buckets_that_leave_the_root(
    local_store: LocalDirObjectStore, local_root: Path, tmp_path: Path, bucket: str
) -> None:
    before = _files_outside(tmp_path, local_root)
    with pytest.raises(InvalidArgs, match="bucket name"):
        local_store.put_object(bucket, "crl/ca.crl", b"x", content_type=CRL, public_read=True)
    with pytest.raises(InvalidArgs, match="bucket name"):
        local_store.get_object(bucket, "crl/ca.crl")
    with pytest.raises(InvalidArgs, match="bucket name"):
        local_store.object_url(bucket, "crl/ca.crl")
    assert _files_outside(tmp_path, local_root) == before
    assert not local_root.exists() or not any(local_root.rglob("*"))


def test_local_dir_lays_objects_out_as_files_readable_by_all(
    local_store: LocalDirObjectStore, local_root: Path
) -> None:
    previous = os.umask(0o077)  # the files are public whatever the server's umask
    try:
        local_store.put_object(
            "pica-crls", "crl/a/b.crl", BINARY, content_type=CRL, public_read=False
        )
        local_store.put_object(
            "pica-crls", "crl/a/b.crl", b"new", content_type=CRL, public_read=False
        )
    finally:
        os.umask(previous)
    path = local_root / "pica-crls" / "crl" / "a" / "b.crl"
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.crl"]  # no temporary left behind


def test_local_dir_key_under_an_object_is_missing_and_unwritable(
    local_store: LocalDirObjectStore,
) -> None:
    """A file system cannot hold `crl/a` and `crl/a/b` at once; the store says so cleanly."""
    local_store.put_object("pica-crls", "crl/a", b"x", content_type=CRL, public_read=True)
    assert local_store.get_object("pica-crls", "crl/a/b") is None
    assert local_store.get_object("pica-crls", "crl") is None
    with pytest.raises(RequestFailed, match="'crl/a/b'"):
        local_store.put_object("pica-crls", "crl/a/b", b"y", content_type=CRL, public_read=True)


def test_local_dir_url_quotes_unusual_characters(local_store: LocalDirObjectStore) -> None:
    url = local_store.object_url("pica-crls", "audit-report/a b/r#1.json")
    assert url == f"{LOCAL_BASE_URL}/pica-crls/audit-report/a%20b/r%231.json"


# S3ObjectStore's own edges.


def test_s3_object_url_serves_the_object_when_the_bucket_is_public(
    s3_store: S3ObjectStore, s3_bucket: str, s3_admin: Any
) -> None:
    s3_store.put_object(s3_bucket, "crl/ca.crl", BINARY, content_type=CRL, public_read=True)
    url = s3_store.object_url(s3_bucket, "crl/ca.crl")
    # SeaweedFS ignores object ACLs: anonymous reads need a bucket policy, as on most stores.
    with pytest.raises(HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    refused.value.close()
    assert refused.value.code == 403
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{s3_bucket}/*",
            }
        ],
    }
    s3_admin.put_bucket_policy(Bucket=s3_bucket, Policy=json.dumps(policy))
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == BINARY
        assert response.headers["Content-Type"] == CRL


def test_s3_put_into_a_missing_bucket_fails_with_the_names(s3_store: S3ObjectStore) -> None:
    bucket = f"pica-absent-{secrets.token_hex(6)}"
    with pytest.raises(RequestFailed, match="NoSuchBucket") as failed:
        s3_store.put_object(bucket, "crl/ca.crl", b"x", content_type=CRL, public_read=True)
    assert bucket in failed.value.message
    assert "'crl/ca.crl'" in failed.value.message


def test_s3_wrong_secret_is_a_failure_not_a_missing_object(
    seaweedfs: SeaweedFs, s3_bucket: str
) -> None:
    with S3ObjectStore(
        seaweedfs.endpoint_url, seaweedfs.region, seaweedfs.access_key, "not-the-secret"
    ) as store:
        with pytest.raises(RequestFailed, match="SignatureDoesNotMatch"):
            store.get_object(s3_bucket, "crl/ca.crl")
        with pytest.raises(RequestFailed, match="SignatureDoesNotMatch"):
            store.put_object(s3_bucket, "crl/ca.crl", b"x", content_type=CRL, public_read=True)


def test_s3_unreachable_endpoint_is_a_request_failure() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with S3ObjectStore(
        closed,
        "us-east-1",
        "AKIDEXAMPLE",
        "secret",
        connect_timeout=1,
        read_timeout=1,
        max_attempts=1,
    ) as store:
        with pytest.raises(RequestFailed) as failed:
            store.put_object("pica-crls", "crl/ca.crl", b"x", content_type=CRL, public_read=True)
        assert "'pica-crls'" in failed.value.message
        assert "'crl/ca.crl'" in failed.value.message
        assert closed in failed.value.message
        with pytest.raises(RequestFailed, match="'pica-crls'"):
            store.get_object("pica-crls", "crl/ca.crl")


@pytest.mark.parametrize(
    ("send_acl", "public_read", "expected"),
    [
        (None, True, None),  # a custom endpoint: no ACL header by default
        (True, True, "public-read"),
        (True, False, "bucket-owner-full-control"),
        (False, True, None),
    ],
)
def test_s3_canned_acl_is_sent_only_when_asked(
    seaweedfs: SeaweedFs,
    s3_bucket: str,
    send_acl: bool | None,
    public_read: bool,
    expected: str | None,
) -> None:
    with S3ObjectStore(
        seaweedfs.endpoint_url,
        seaweedfs.region,
        seaweedfs.access_key,
        seaweedfs.secret_key,
        send_acl=send_acl,
    ) as store:
        sent = _record_put_headers(store)
        store.put_object(s3_bucket, "crl/ca.crl", b"x", content_type=CRL, public_read=public_read)
        assert store.get_object(s3_bucket, "crl/ca.crl") == b"x"
    assert len(sent) == 1
    assert sent[0].get("x-amz-acl") == expected
    assert sent[0]["Content-Type"] == CRL


def _record_put_headers(store: S3ObjectStore) -> list[dict[str, str]]:
    """The headers of each PutObject the store sends (SeaweedFS accepts ACLs but ignores them,
    so the server cannot tell us; botocore's event hook on the store's client can)."""
    sent: list[dict[str, str]] = []

    def record(request: Any, **_: Any) -> None:
        sent.append({name: _text(value) for name, value in request.headers.items()})

    client: Any = store._client  # test-only peek; the adapter exposes no client on purpose
    client.meta.events.register("before-send.s3.PutObject", record)
    return sent


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("eu-west-3", "http://pica-crls.s3.eu-west-3.amazonaws.com/crl/ca.crl"),
        ("us-east-1", "http://pica-crls.s3.us-east-1.amazonaws.com/crl/ca.crl"),
    ],
)
def test_s3_object_url_on_aws_is_the_acm_pca_distribution_point(region: str, expected: str) -> None:
    with S3ObjectStore(None, region, None, None) as store:
        assert store.object_url("pica-crls", "crl/ca.crl") == expected


def test_s3_object_url_on_a_custom_endpoint_is_path_style() -> None:
    with S3ObjectStore(
        "https://s3.example.test:9000/", "us-east-1", "AKIDEXAMPLE", "secret"
    ) as store:
        assert (
            store.object_url("pica-crls", "crl/ca.crl")
            == "https://s3.example.test:9000/pica-crls/crl/ca.crl"
        )


def test_half_s3_credentials_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="give both access_key_id and secret_access_key"):
        S3ObjectStore(None, "us-east-1", "AKIDEXAMPLE", None)
