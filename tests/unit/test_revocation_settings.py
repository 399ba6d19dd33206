"""Revocation configuration rules that are checked when a configuration is set."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pica.authority.model import (
    CrlConfiguration,
    CrlType,
    OcspConfiguration,
    RevocationConfiguration,
    S3ObjectAcl,
)
from pica.authority.revocation_settings import (
    PERMISSION_TEST_KEY,
    check_bucket_name,
    check_custom_path,
    normalise,
    probe_bucket,
)
from pica.errors import InvalidArgs, RequestFailed


@dataclass
class BlockPublicAccessBucket:
    """An object store whose bucket refuses public-read objects, as S3 Block Public Access does."""

    written: list[tuple[str, str, bool]] = field(default_factory=list)

    def put_object(
        self, bucket: str, key: str, body: bytes, *, content_type: str, public_read: bool
    ) -> None:
        if public_read:
            raise RequestFailed("AccessDenied (HTTP 403) public ACLs are blocked")
        self.written.append((bucket, key, public_read))

    def get_object(self, bucket: str, key: str) -> bytes | None:
        return None

    def object_url(self, bucket: str, key: str) -> str:
        return f"http://store/{bucket}/{key}"


def crl(**members: object) -> CrlConfiguration:
    config = RevocationConfiguration(
        crl=CrlConfiguration(enabled=True, s3_bucket_name="crls", **members)  # type: ignore[arg-type]
    )
    return normalise(config).crl


def test_the_permission_test_is_written_with_the_acl_the_crls_will_get() -> None:
    """S3ObjectAcl is checked when set: PUBLIC_READ into a bucket that blocks public objects
    is refused up front (AWS refuses such a CA), not at the first publication."""
    store = BlockPublicAccessBucket()
    with pytest.raises(InvalidArgs, match="Permission error with your S3 bucket 'crls'"):
        probe_bucket(store, crl())
    with pytest.raises(InvalidArgs):
        probe_bucket(store, crl(s3_object_acl=S3ObjectAcl.PUBLIC_READ))
    probe_bucket(store, crl(s3_object_acl=S3ObjectAcl.BUCKET_OWNER_FULL_CONTROL))
    assert store.written == [("crls", PERMISSION_TEST_KEY, False)]


def test_the_refusal_does_not_show_the_stores_own_error_to_the_caller() -> None:
    with pytest.raises(InvalidArgs) as excinfo:
        probe_bucket(BlockPublicAccessBucket(), crl())
    assert "HTTP 403" not in excinfo.value.message


@pytest.mark.parametrize(
    "path", ["crl", "pki/crl", "/", "a/b/c", "x.crl", "%41", "...", "a..b", ".well-known"]
)
def test_custom_paths_without_dot_segments_are_accepted(path: str) -> None:
    check_custom_path(path)
    assert crl(custom_path=path).custom_path == path


@pytest.mark.parametrize(
    "path", [".", "..", "../../..", "a/../../b", "a/.", "%2e", "%2E%2e/x", "a%2F..%2Fb", "a//b"]
)
def test_dot_segments_are_refused_however_spelt(path: str) -> None:
    with pytest.raises(InvalidArgs, match="CustomPath"):
        crl(custom_path=path)


@given(st.lists(st.sampled_from(["a", ".", "..", "%2e", "%2E", "b.c", "%2F"]), min_size=1))
@settings(max_examples=200, database=None)
def test_an_accepted_custom_path_never_leaves_its_prefix(segments: list[str]) -> None:
    """Whatever is accepted resolves (RFC 3986 dot-segment removal) to the same path."""
    path = "/".join(segments)
    try:
        check_custom_path(path)
    except InvalidArgs:
        return
    decoded = unquote(path).split("/")
    assert all(part not in ("", ".", "..") for part in decoded)


@pytest.mark.parametrize("bucket", ["crls", "my.crl.bucket", "a-b", "123", "x" * 63])
def test_bucket_names_s3_accepts(bucket: str) -> None:
    check_bucket_name(bucket)


@pytest.mark.parametrize(
    ("bucket", "reason"),
    [
        ("ab", "3 to 63"),
        ("x" * 64, "3 to 63"),
        ("-abc", "begin and end"),
        ("abc-", "begin and end"),
        ("ABC", "lower-case"),
        ("a_b", "lower-case"),
        ("a..b", "adjacent periods"),
        ("10.0.0.1", "IP address"),
        ("xn--abc", "xn--"),
        ("sthree-configurator", "sthree-"),
        ("amzn-s3-demo-bucket", "amzn-s3-demo-"),
        ("abc-s3alias", "-s3alias"),
        ("abc--ol-s3", "--ol-s3"),
        ("abc.mrap", ".mrap"),
        ("abc--x-s3", "--x-s3"),
        ("abc--table-s3", "--table-s3"),
    ],
)
def test_bucket_names_s3_refuses(bucket: str, reason: str) -> None:
    with pytest.raises(InvalidArgs, match="not a valid bucket name") as excinfo:
        check_bucket_name(bucket)
    assert reason in excinfo.value.message


def test_revocation_defaults_and_rules() -> None:
    enabled = normalise(
        RevocationConfiguration(crl=CrlConfiguration(enabled=True, s3_bucket_name="my-bucket"))
    )
    assert enabled.crl.expiration_in_days == 7
    assert enabled.crl.s3_object_acl is S3ObjectAcl.PUBLIC_READ
    assert enabled.crl.crl_type is CrlType.COMPLETE
    assert enabled.crl.omit_extension is False
    for bad in [
        RevocationConfiguration(crl=CrlConfiguration(enabled=False, expiration_in_days=7)),
        RevocationConfiguration(crl=CrlConfiguration(enabled=True)),
        RevocationConfiguration(
            crl=CrlConfiguration(enabled=True, s3_bucket_name="b-1", custom_cname="http://x")
        ),
        RevocationConfiguration(
            crl=CrlConfiguration(
                enabled=True, s3_bucket_name="b-1", custom_cname="x.example", omit_extension=True
            )
        ),
        RevocationConfiguration(ocsp=OcspConfiguration(enabled=False, ocsp_custom_cname="x")),
        RevocationConfiguration(
            ocsp=OcspConfiguration(enabled=True, ocsp_custom_cname="https://x")
        ),
    ]:
        with pytest.raises(InvalidArgs):
            normalise(bad)
