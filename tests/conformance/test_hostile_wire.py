"""Hostile input on the wire (issue 7): each request here once froze, crashed or fooled pica.

Every test sends what an attacker (or a broken client) would, against a live `pica serve`, and
checks three things: the answer is an AWS-shaped 4xx at once, the server keeps answering others,
and nothing stored changed. Two tenants are two accounts of the same pica, each with its own
boto3 client.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conformance.test_wire import (
    CONTENT_TYPE,
    PREFIX,
    RawResponse,
    assert_json_error,
    error_of,
    post,
    send,
    signed_headers,
)
from tests.conftest import S3_BUCKET
from tests.support.pki import cdp_url, issue, new_root, new_root_with_revocation
from tests.support.revocation import revoke, wait_for_crl
from tests.support.seaweedfs import SeaweedFs
from tests.support.server import LiveServer, free_port

_AMZ = r"\d{8}T\d{6}Z"


def get(server: LiveServer, path: str, timeout: float = 30) -> tuple[RawResponse, float]:
    """A raw GET of `path` (sent as is) and how long the answer took."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    started = time.monotonic()
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        elapsed = time.monotonic() - started
        headers = {k.lower(): v for k, v in response.getheaders()}
        return RawResponse(response.status, headers, body), elapsed
    finally:
        conn.close()


def crl_config(bucket: str, **extra: Any) -> dict[str, Any]:
    return {"CrlConfiguration": {"Enabled": True, "S3BucketName": bucket, **extra}}


def unique_bucket(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def tenant_a(server: LiveServer) -> Any:
    """An account of its own on the session's pica, so the CAs made here crowd no other test."""
    return server.new_account_client()


@pytest.fixture(scope="module")
def tenant_b(server: LiveServer) -> Any:
    """A second account: tenant A's neighbour."""
    return server.new_account_client()


# --- 1. the request line: a long path is refused at once, in constant time ---------------------


def test_a_50000_slash_get_is_refused_at_once_while_the_api_keeps_answering(
    server: LiveServer, pca: Any
) -> None:
    """The OCSP GET parser once tried every trailing run of segments as base64: 9 s of a
    frozen event loop for this one unauthenticated request."""
    answers: list[tuple[RawResponse, float]] = []
    hostile = threading.Thread(target=lambda: answers.append(get(server, "/" * 50_000)))
    hostile.start()
    started = time.monotonic()
    pca.list_certificate_authorities(MaxResults=1)
    api_latency = time.monotonic() - started
    hostile.join(timeout=30)
    assert answers, "the long GET was never answered"
    response, elapsed = answers[0]
    assert response.status in (404, 414), response
    assert response.headers["content-type"].startswith(CONTENT_TYPE)
    assert json.loads(response.body)["__type"]
    # Bounds with room for a loaded machine; the old parser took 9 s (20 s here).
    assert elapsed < 3.0
    assert api_latency < 3.0


@pytest.mark.parametrize(
    "path",
    [
        "/" + "M" * 60_000,
        "/ocsp/" + "MA/" * 20_000,
        "/bucket/" + "a/" * 30_000 + "x.crl",
        "/?" + "a=b&" * 20_000,
    ],
    ids=["one-long-segment", "many-ocsp-looking-segments", "deep-crl-path", "long-query"],
)
def test_long_request_targets_are_refused_quickly(server: LiveServer, path: str) -> None:
    response, elapsed = get(server, path)
    assert response.status in (404, 414), response
    assert json.loads(response.body)["__type"]
    assert elapsed < 3.0


def test_a_path_just_under_the_cap_is_still_parsed_quickly(server: LiveServer) -> None:
    """Below the cap the OCSP parser still runs; it must be linear in the path length."""
    response, elapsed = get(server, "/ocsp/" + "MA/" * 2_000)
    assert response.status == 404, response
    assert elapsed < 2.0


# --- 4. SigV4 dates at the edge of the calendar --------------------------------------------------


@pytest.mark.parametrize(
    "date",
    ["Fri, 31 Dec 9999 23:59:59 -1400", "Fri, 31 Dec 99999999999999999999 23:59:59 GMT"],
)
def test_an_http_date_beyond_the_calendar_is_a_4xx_not_a_500(server: LiveServer, date: str) -> None:
    headers = signed_headers(server, b"{}", PREFIX + "ListCertificateAuthorities")
    del headers["X-Amz-Date"]
    headers["Date"] = date
    response = send(server, b"{}", headers)
    assert response.status == 400, response
    assert response.error_code in ("InvalidSignatureException", "IncompleteSignatureException")


# --- 5. JSON nesting ------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [40, 500, 5_000])
def test_an_unknown_member_nested_deep_is_a_serialization_exception(
    server: LiveServer, depth: int
) -> None:
    """Unknown members are ignored by validation, so only a depth cap stops the recursion."""
    body = b'{"MaxResults": 1, "Junk": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"
    response = post(server, body)
    error = assert_json_error(response, 400, "SerializationException")
    assert "deep" in error["message"]


def test_a_request_at_a_realistic_depth_still_works(server: LiveServer) -> None:
    body = json.dumps({"MaxResults": 1, "Junk": {"a": {"b": {"c": {"d": [[[{"e": 1}]]]}}}}})
    assert post(server, body.encode()).status == 200


# --- 8. SigV4 scope, skew and signed headers ------------------------------------------------------


def test_a_signature_six_minutes_old_is_expired_with_awss_message(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    six_minutes_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=6)
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: six_minutes_ago
    )
    with pytest.raises(ClientError) as excinfo:
        server.client().list_certificate_authorities()
    code, message = error_of(excinfo)
    assert code == "InvalidSignatureException"
    assert re.fullmatch(
        f"Signature expired: {_AMZ} is now earlier than {_AMZ} \\({_AMZ} - 5 min\\.\\)", message
    ), message


def test_a_target_outside_the_signed_headers_is_refused(server: LiveServer) -> None:
    """Unsigned, the target of a captured request could be swapped for another operation."""
    request = AWSRequest(
        method="POST",
        url=server.endpoint + "/",
        data=b"{}",
        headers={"Content-Type": CONTENT_TYPE},
    )
    SigV4Auth(Credentials(*server.credentials()), "acm-pca", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    assert "x-amz-target" not in headers["Authorization"]
    headers["X-Amz-Target"] = PREFIX + "ListCertificateAuthorities"
    response = send(server, b"{}", headers)
    error = assert_json_error(response, 400, "IncompleteSignatureException")
    assert error["message"] == "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."


@pytest.mark.parametrize("region", ["eu-west-3", "us-east-2", "US-EAST-1"])
def test_a_signature_for_another_region_is_refused(server: LiveServer, region: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        server.client(region=region).list_certificate_authorities()
    code, message = error_of(excinfo)
    assert code == "InvalidSignatureException"
    assert message == f"Credential should be scoped to a valid region, not '{region}'."


@pytest.fixture(scope="module")
def paris(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A pica configured for another region than the default."""
    live = LiveServer(
        tmp_path_factory.mktemp("paris") / "data", free_port(), ("--region", "eu-west-3")
    )
    live.start()
    try:
        yield live
    finally:
        live.stop()


def test_clients_set_to_picas_region_work_and_others_are_refused(paris: LiveServer) -> None:
    # The aws CLI reads the region from the config file pica writes.
    assert paris.aws("acm-pca", "list-certificate-authorities")["CertificateAuthorities"] == []
    paris_client = paris.client(region="eu-west-3")
    arn = new_root(paris_client)
    assert arn.startswith("arn:aws:acm-pca:eu-west-3:")
    with pytest.raises(ClientError) as excinfo:
        paris.client(region="us-east-1").describe_certificate_authority(CertificateAuthorityArn=arn)
    assert error_of(excinfo) == (
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'us-east-1'.",
    )


# --- 7. CustomPath values that break issuance -----------------------------------------------------

BAD_PATHS = [".", "..", "../../..", "a/../../b", "pki/./crl", "%2e%2e/x", "a/%2E"]


@pytest.mark.parametrize("custom_path", BAD_PATHS)
def test_a_dot_segment_custom_path_is_refused_at_create(tenant_a: Any, custom_path: str) -> None:
    before = {ca["Arn"] for ca in tenant_a.list_certificate_authorities()["CertificateAuthorities"]}
    with pytest.raises(tenant_a.exceptions.InvalidArgsException) as excinfo:
        new_root_with_revocation(
            tenant_a, crl_config(unique_bucket("dots"), CustomPath=custom_path)
        )
    assert "CustomPath" in str(excinfo.value)
    after = {ca["Arn"] for ca in tenant_a.list_certificate_authorities()["CertificateAuthorities"]}
    assert after == before


def test_a_dot_segment_custom_path_is_refused_at_update_and_issuance_goes_on(tenant_a: Any) -> None:
    ca = new_root_with_revocation(tenant_a, crl_config(unique_bucket("dots-update")))
    before = tenant_a.describe_certificate_authority(CertificateAuthorityArn=ca)
    for custom_path in BAD_PATHS:
        bucket = before["CertificateAuthority"]["RevocationConfiguration"]["CrlConfiguration"][
            "S3BucketName"
        ]
        with pytest.raises(tenant_a.exceptions.InvalidArgsException):
            tenant_a.update_certificate_authority(
                CertificateAuthorityArn=ca,
                RevocationConfiguration=crl_config(bucket, CustomPath=custom_path),
            )
    after = tenant_a.describe_certificate_authority(CertificateAuthorityArn=ca)
    assert after["CertificateAuthority"] == before["CertificateAuthority"]
    issue(tenant_a, ca)


# --- 3. buckets belong to the account that first used them --------------------------------------

BAD_BUCKETS = [
    "192.168.5.4",
    "xn--bucket",
    "sthree-bucket",
    "amzn-s3-demo-bucket",
    "bucket-s3alias",
    "bucket--ol-s3",
    "bucket.mrap",
    "bucket--x-s3",
    "bucket--table-s3",
    "bucket..name",
    "Bucket",
    "a/b",
]


@pytest.mark.parametrize("bucket", BAD_BUCKETS)
def test_bucket_names_follow_the_s3_naming_rules(tenant_a: Any, bucket: str) -> None:
    with pytest.raises((tenant_a.exceptions.InvalidArgsException, ClientError)) as excinfo:
        new_root_with_revocation(tenant_a, crl_config(bucket))
    assert error_of(excinfo)[0] in ("InvalidArgsException", "ValidationException")


def test_another_account_cannot_name_a_bucket_in_use(tenant_a: Any, tenant_b: Any) -> None:
    """The audit's attack: B names A's bucket with a CustomPath that turns A's CRL file into a
    folder, and A's CRL publication fails for ever."""
    bucket = unique_bucket("owned")
    ca_a = new_root_with_revocation(tenant_a, crl_config(bucket))
    certificate, _ = issue(tenant_a, ca_a)
    url = cdp_url(certificate)
    wait_for_crl(url, lambda crl: True)

    hijack = crl_config(bucket, CustomPath=f"crl/{ca_a.rsplit('/', 1)[1]}.crl")
    with pytest.raises(tenant_b.exceptions.InvalidArgsException) as excinfo:
        new_root_with_revocation(tenant_b, hijack)
    assert f"Permission error with your S3 bucket '{bucket}'" in str(excinfo.value)
    own = new_root(tenant_b)
    with pytest.raises(tenant_b.exceptions.InvalidArgsException):
        tenant_b.update_certificate_authority(
            CertificateAuthorityArn=own, RevocationConfiguration=hijack
        )
    described = tenant_b.describe_certificate_authority(CertificateAuthorityArn=own)
    assert described["CertificateAuthority"]["RevocationConfiguration"]["CrlConfiguration"] == {
        "Enabled": False
    }

    # A's CRL keeps being published.
    revoke(tenant_a, ca_a, certificate)
    wait_for_crl(
        url,
        lambda crl: (
            crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None
        ),
    )
    # ...and A may go on naming its own bucket, for another CA too.
    new_root_with_revocation(tenant_a, crl_config(bucket, CustomPath="second"))


def test_pica_serves_only_the_crl_a_ca_publishes(server: LiveServer, tenant_a: Any) -> None:
    bucket = unique_bucket("served")
    ca = new_root_with_revocation(tenant_a, crl_config(bucket))
    certificate, _ = issue(tenant_a, ca)
    url = cdp_url(certificate)
    wait_for_crl(url, lambda crl: True)
    ca_id = ca.rsplit("/", 1)[1]
    for path in (
        f"/{bucket}/crl/{uuid.uuid4()}.crl",
        f"/{bucket}/other/{ca_id}.crl",
        f"/{bucket}/crl/{ca_id}/{uuid.uuid4()}.crl",
        f"/another-bucket/crl/{ca_id}.crl",
        f"/{bucket}/crl/%25.crl",
        f"/{bucket}/crl/{ca_id[:-1]}_.crl",
    ):
        response, _ = get(server, path)
        assert response.status == 404, (path, response)


# --- 3. the S3 store: only CRLs pica published, only into buckets the tenant owns ---------------


def test_s3_objects_pica_did_not_publish_are_not_served(
    s3_server: LiveServer, s3: SeaweedFs
) -> None:
    pca = s3_server.client()
    host = f"127.0.0.1:{s3_server.port}"
    ca = new_root_with_revocation(pca, crl_config(S3_BUCKET, CustomCname=host))
    certificate, _ = issue(pca, ca)
    url = cdp_url(certificate)
    wait_for_crl(url, lambda crl: True)
    client = s3.client()
    planted = {
        "private/payroll.crl": b"not for the public",
        f"crl/{uuid.uuid4()}.crl": b"not published by pica",
    }
    try:
        for key, body in planted.items():
            client.put_object(Bucket=S3_BUCKET, Key=key, Body=body)
    finally:
        client.close()
    for key in planted:
        for path in (f"/{S3_BUCKET}/{key}", f"/{key}"):
            response, _ = get(s3_server, path)
            assert response.status == 404, (path, response)
    response, _ = get(s3_server, "/" + url.split("/", 3)[3])
    assert response.status == 200


def test_another_tenant_cannot_make_pica_write_into_a_bucket_in_use(s3_server: LiveServer) -> None:
    owner = s3_server.client()
    new_root_with_revocation(owner, crl_config(S3_BUCKET))
    intruder = s3_server.new_account_client()
    with pytest.raises(intruder.exceptions.InvalidArgsException) as excinfo:
        new_root_with_revocation(intruder, crl_config(S3_BUCKET))
    assert f"Permission error with your S3 bucket '{S3_BUCKET}'" in str(excinfo.value)
