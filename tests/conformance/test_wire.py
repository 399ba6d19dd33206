"""The AWS JSON 1.1 wire contract: error shape, body handling, model validation, SigV4, isolation.

Raw requests go through `http.client` (signed with botocore's own SigV4Auth when the test needs
the request to get past authentication); everything a client library can express goes through
boto3 as well, asserting the error code botocore extracts.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.auth
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from pica.wire.awsjson.dispatch import OPERATIONS
from tests.support.pki import make_csr, new_root
from tests.support.server import LiveServer

CONTENT_TYPE = "application/x-amz-json-1.1"
PREFIX = "ACMPrivateCA."
ARN_PATTERN = r"arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]*:[\w+=,.@-]+(/[\w+=,.@-]+)*"
SIGNING_ALGORITHMS = (
    "SHA256WITHECDSA",
    "SHA384WITHECDSA",
    "SHA512WITHECDSA",
    "SHA256WITHRSA",
    "SHA384WITHRSA",
    "SHA512WITHRSA",
)


# --- raw HTTP helpers -----------------------------------------------------------------------


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_code(self) -> str:
        code: str = self.json()["__type"]
        return code


def signed_headers(
    server: LiveServer,
    body: bytes,
    target: str | None,
    *,
    credentials: tuple[str, str] | None = None,
    service: str = "acm-pca",
    region: str = "us-east-1",
) -> dict[str, str]:
    """Headers of a request signed exactly as botocore signs it (Host comes from the URL)."""
    headers = {"Content-Type": CONTENT_TYPE}
    if target is not None:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=headers)
    key, secret = credentials or server.credentials()
    SigV4Auth(Credentials(key, secret), service, region).add_auth(request)
    return dict(request.headers.items())


def send(
    server: LiveServer,
    body: bytes | Iterator[bytes],
    headers: dict[str, str],
    *,
    chunked: bool = False,
) -> RawResponse:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        conn.request("POST", "/", body=body, headers=headers, encode_chunked=chunked)
        response = conn.getresponse()
        data = response.read()
        response.close()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


def post(
    server: LiveServer,
    body: bytes,
    target: str | None = PREFIX + "ListCertificateAuthorities",
    *,
    sign: bool = True,
) -> RawResponse:
    if sign:
        headers = signed_headers(server, body, target)
    else:
        headers = {"Content-Type": CONTENT_TYPE}
        if target is not None:
            headers["X-Amz-Target"] = target
    return send(server, body, headers)


def assert_json_error(response: RawResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, (response.status, response.body)
    assert response.headers["content-type"].startswith(CONTENT_TYPE)
    assert response.headers.get("x-amzn-requestid")
    body: dict[str, Any] = response.json()
    assert body["__type"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return body


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error.get("Message", "")


def client(server: LiveServer, **config: Any) -> Any:
    """A boto3 client like `server.client()`, with extra botocore Config options."""
    key, secret = server.credentials()
    return boto3.session.Session().client(
        "acm-pca",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


def unknown_arn(root_ca: str) -> str:
    account = root_ca.split(":")[4]
    return f"arn:aws:acm-pca:us-east-1:{account}:certificate-authority/{uuid.uuid4()}"


# --- response shape ---------------------------------------------------------------------------


def test_success_carries_request_id_and_content_type(server: LiveServer) -> None:
    response = post(server, b"{}")
    assert response.status == 200
    assert response.headers["content-type"].startswith(CONTENT_TYPE)
    assert response.headers.get("x-amzn-requestid")
    assert "CertificateAuthorities" in response.json()


def test_boto3_sees_the_request_id(pca: Any) -> None:
    metadata = pca.list_certificate_authorities(MaxResults=1)["ResponseMetadata"]
    assert metadata["HTTPStatusCode"] == 200
    assert metadata["RequestId"]


def test_error_is_400_json_with_type_message_and_request_id(server: LiveServer) -> None:
    body = json.dumps({"CertificateAuthorityArn": "arn:aws:acm-pca:us-east-1:1:x/y"}).encode()
    response = post(server, body, PREFIX + "DescribeCertificateAuthority")
    assert_json_error(response, 400, "ResourceNotFoundException")


def test_unknown_target_is_unknown_operation(server: LiveServer) -> None:
    response = post(server, b"{}", PREFIX + "MakeMeACertificate")
    body = assert_json_error(response, 400, "UnknownOperationException")
    assert "MakeMeACertificate" in body["message"]


def test_target_of_another_service_is_unknown_operation(server: LiveServer) -> None:
    response = post(server, b"{}", "CertificateManager.ListCertificates")
    assert_json_error(response, 400, "UnknownOperationException")


def test_missing_target_is_a_json_client_error(server: LiveServer) -> None:
    response = post(server, b"{}", target=None)
    assert 400 <= response.status < 500
    assert response.headers["content-type"].startswith(CONTENT_TYPE)
    assert response.headers.get("x-amzn-requestid")
    assert response.error_code


# --- body handling ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"MaxResults": 10',
        b"[]",
        b'[{"MaxResults": 10}]',
        b'"a string"',
        b"42",
        b"\xff\xfe{\x00}\x00",
        b'{"NextToken": "\xc3\x28"}',
    ],
    ids=[
        "garbage",
        "truncated",
        "empty-array",
        "array",
        "string",
        "number",
        "utf16-bom",
        "invalid-utf8",
    ],
)
def test_unreadable_body_is_serialization_exception(server: LiveServer, body: bytes) -> None:
    assert_json_error(post(server, body), 400, "SerializationException")


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("ListCertificateAuthorities", {"MaxResults": "ten"}),
        ("ListCertificateAuthorities", {"MaxResults": 1.5}),
        ("ListCertificateAuthorities", {"MaxResults": True}),
        ("ListCertificateAuthorities", {"NextToken": 17}),
        ("ListCertificateAuthorities", {"MaxResults": 2**40}),
        ("DescribeCertificateAuthority", {"CertificateAuthorityArn": ["a", "b"]}),
        ("TagCertificateAuthority", {"CertificateAuthorityArn": "arn:x", "Tags": {"Key": "k"}}),
        ("IssueCertificate", {"CertificateAuthorityArn": "arn:x", "Csr": "%%% not base64 %%%"}),
        (
            "CreateCertificateAuthority",
            {"CertificateAuthorityType": "ROOT", "CertificateAuthorityConfiguration": "RSA"},
        ),
    ],
    ids=[
        "int-as-string",
        "int-as-float",
        "int-as-bool",
        "string-as-number",
        "int-out-of-java-range",
        "string-as-list",
        "list-as-object",
        "blob-not-base64",
        "structure-as-string",
    ],
)
def test_wrong_member_type_is_serialization_exception(
    server: LiveServer, target: str, body: dict[str, Any]
) -> None:
    response = post(server, json.dumps(body).encode(), PREFIX + target)
    assert_json_error(response, 400, "SerializationException")


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"NextToken": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,
        b'{"MaxResults": ' + b"9" * 5_000 + b"}",
        b'{"MaxResults": NaN}',
        b'{"MaxResults": 1e400}',
    ],
    ids=["deeply-nested-array", "deeply-nested-object", "5000-digit-number", "nan", "inf"],
)
def test_json_that_cannot_be_deserialized_is_serialization_exception(
    server: LiveServer, body: bytes
) -> None:
    """Valid-looking JSON a parser chokes on is the caller's fault: never a 500."""
    assert_json_error(post(server, body), 400, "SerializationException")


def test_signed_chunked_body_is_accepted(server: LiveServer) -> None:
    body = b'{"MaxResults": 1}'
    headers = signed_headers(server, body, PREFIX + "ListCertificateAuthorities")
    response = send(server, iter([body[:7], body[7:]]), headers, chunked=True)
    assert response.status == 200, response.body


def test_empty_body_means_no_members(server: LiveServer) -> None:
    response = post(server, b"")
    assert response.status == 200, response.body
    assert "CertificateAuthorities" in response.json()


def test_huge_signed_body_is_413_and_answered(server: LiveServer) -> None:
    body = b'{"NextToken": "' + b"a" * (8 * 1024 * 1024) + b'"}'
    response = post(server, body)
    assert_json_error(response, 413, response.error_code)


def test_huge_unsigned_chunked_body_is_413_and_answered(server: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:
        block = b"x" * (256 * 1024)
        for _ in range(32):  # 8 MiB, no Content-Length
            yield block

    headers = {"Content-Type": CONTENT_TYPE, "X-Amz-Target": PREFIX + "ListCertificateAuthorities"}
    response = send(server, chunks(), headers, chunked=True)
    assert_json_error(response, 413, response.error_code)


def test_declared_length_above_limit_is_refused_without_reading_the_body(
    server: LiveServer,
) -> None:
    head = (
        "POST / HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: {CONTENT_TYPE}\r\n"
        f"X-Amz-Target: {PREFIX}ListCertificateAuthorities\r\n"
        "Content-Length: 104857600\r\n"
        "\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)  # and not one byte of the announced 100 MiB
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line.split()[1] == b"413", received
    head_part, _, payload = rest.partition(b"\r\n\r\n")
    assert CONTENT_TYPE.encode() in head_part.lower()
    assert b"x-amzn-requestid" in head_part.lower()
    assert json.loads(payload)["__type"]


def test_server_still_answers_after_oversized_requests(pca: Any) -> None:
    assert "CertificateAuthorities" in pca.list_certificate_authorities(MaxResults=1)


# --- model validation (botocore checks only required members and minimums) ---------------------


def test_bad_enum_names_member_and_lists_values(pca: Any, root_ca: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pca.issue_certificate(
            CertificateAuthorityArn=root_ca,
            Csr=make_csr(),
            SigningAlgorithm="BOGUS",
            Validity={"Value": 1, "Type": "DAYS"},
        )
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert "'signingAlgorithm'" in message
    assert "BOGUS" in message
    for algorithm in SIGNING_ALGORITHMS:
        assert algorithm in message
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_value_above_maximum_is_validation_exception(pca: Any, root_ca: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pca.delete_certificate_authority(
            CertificateAuthorityArn=unknown_arn(root_ca), PermanentDeletionTimeInDays=31
        )
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert "permanentDeletionTimeInDays" in message
    assert "30" in message


def test_max_results_above_1000_is_validation_exception(pca: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        pca.list_certificate_authorities(MaxResults=1001)
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert "maxResults" in message


def test_arn_longer_than_200_is_validation_exception(pca: Any) -> None:
    arn = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
    arn += "a" * (201 - len(arn))
    assert len(arn) == 201
    with pytest.raises(ClientError) as excinfo:
        pca.describe_certificate_authority(CertificateAuthorityArn=arn)
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert "certificateAuthorityArn" in message
    assert "200" in message


def test_non_arn_is_validation_exception_with_the_pattern(pca: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        pca.describe_certificate_authority(CertificateAuthorityArn="not an arn at all")
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert "certificateAuthorityArn" in message
    assert ARN_PATTERN in message


def test_more_than_50_tags_in_a_request_is_validation_exception(pca: Any, root_ca: str) -> None:
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    with pytest.raises(ClientError) as excinfo:
        pca.tag_certificate_authority(CertificateAuthorityArn=root_ca, Tags=tags)
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert "tags" in message


def test_missing_nested_required_member_is_validation_exception(server: LiveServer) -> None:
    body = {
        "CertificateAuthorityType": "ROOT",
        "CertificateAuthorityConfiguration": {
            "KeyAlgorithm": "EC_prime256v1",
            "SigningAlgorithm": "SHA256WITHECDSA",
        },
    }
    response = post(server, json.dumps(body).encode(), PREFIX + "CreateCertificateAuthority")
    error = assert_json_error(response, 400, "ValidationException")
    assert "certificateAuthorityConfiguration.subject" in error["message"]
    assert "Member must not be null" in error["message"]


def test_missing_top_level_required_member_is_validation_exception(server: LiveServer) -> None:
    response = post(server, b"{}", PREFIX + "DescribeCertificateAuthority")
    error = assert_json_error(response, 400, "ValidationException")
    assert "certificateAuthorityArn" in error["message"]
    assert "Member must not be null" in error["message"]


def test_several_violations_are_counted(server: LiveServer) -> None:
    body = {"MaxResults": 5000, "ResourceOwner": "EVERYONE"}
    response = post(server, json.dumps(body).encode())
    error = assert_json_error(response, 400, "ValidationException")
    assert error["message"].startswith("2 validation errors detected")


# --- SigV4 ------------------------------------------------------------------------------------


def test_unsigned_request_is_missing_authentication_token(server: LiveServer) -> None:
    response = post(server, b"{}", sign=False)
    assert_json_error(response, 400, "MissingAuthenticationTokenException")


def test_unsigned_boto3_request_is_missing_authentication_token(server: LiveServer) -> None:
    anonymous = boto3.session.Session().client(
        "acm-pca",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as excinfo:
        anonymous.list_certificate_authorities()
    assert error_of(excinfo)[0] == "MissingAuthenticationTokenException"


def test_unknown_access_key_is_unrecognized_client(server: LiveServer) -> None:
    stranger = server.client("PICAUNKNOWNKEY000000", "x" * 40)
    with pytest.raises(ClientError) as excinfo:
        stranger.list_certificate_authorities()
    assert error_of(excinfo)[0] == "UnrecognizedClientException"


def test_wrong_secret_is_invalid_signature(server: LiveServer) -> None:
    key, _ = server.credentials()
    impostor = server.client(key, "wrong-secret-" + "x" * 27)
    with pytest.raises(ClientError) as excinfo:
        impostor.list_certificate_authorities()
    assert error_of(excinfo)[0] == "InvalidSignatureException"


def test_body_changed_after_signing_is_invalid_signature(server: LiveServer) -> None:
    headers = signed_headers(server, b'{"MaxResults": 1}', PREFIX + "ListCertificateAuthorities")
    response = send(server, b'{"MaxResults": 2}', headers)
    assert_json_error(response, 400, "InvalidSignatureException")


def test_target_changed_after_signing_is_invalid_signature(server: LiveServer) -> None:
    headers = signed_headers(server, b"{}", PREFIX + "ListCertificateAuthorities")
    headers["X-Amz-Target"] = PREFIX + "ListTags"
    assert_json_error(send(server, b"{}", headers), 400, "InvalidSignatureException")


def test_body_changed_after_signing_through_boto3_is_invalid_signature(
    server: LiveServer,
) -> None:
    tampering = client(server)

    def tamper(request: Any, **_: Any) -> None:
        request.body = request.body.replace(b'"MaxResults": 1', b'"MaxResults": 9')

    tampering.meta.events.register("before-send.acm-pca.ListCertificateAuthorities", tamper)
    with pytest.raises(ClientError) as excinfo:
        tampering.list_certificate_authorities(MaxResults=1)
    assert error_of(excinfo)[0] == "InvalidSignatureException"


def test_signature_older_than_5_minutes_is_expired(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    twenty_minutes_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=20)
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: twenty_minutes_ago
    )
    late = server.client()
    with pytest.raises(ClientError) as excinfo:
        late.list_certificate_authorities()
    code, message = error_of(excinfo)
    assert code == "InvalidSignatureException"
    assert "expired" in message.lower()


def test_signature_from_the_future_is_rejected(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_twenty_minutes = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=20)
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: in_twenty_minutes
    )
    early = server.client()
    with pytest.raises(ClientError) as excinfo:
        early.list_certificate_authorities()
    assert error_of(excinfo)[0] == "InvalidSignatureException"


def test_signature_within_the_skew_window_is_accepted(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    four_minutes_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=4)
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: four_minutes_ago
    )
    assert "CertificateAuthorities" in server.client().list_certificate_authorities()


@pytest.mark.parametrize(
    "authorization",
    [
        "garbage",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=abc",
        "AWS4-HMAC-SHA256 Credential=K/20260101/us-east-1/acm-pca/aws4_request, Signature=00",
        "AWS4-HMAC-SHA256 Credential=K/bad-date/us-east-1/acm-pca/aws4_request, "
        "SignedHeaders=host, Signature=00",
    ],
    ids=["word", "algorithm-only", "credential-only", "no-signed-headers", "bad-scope-date"],
)
def test_garbage_authorization_is_incomplete_signature(
    server: LiveServer, authorization: str
) -> None:
    headers = signed_headers(server, b"{}", PREFIX + "ListCertificateAuthorities")
    headers["Authorization"] = authorization
    assert_json_error(send(server, b"{}", headers), 400, "IncompleteSignatureException")


def test_garbage_authorization_through_boto3_is_incomplete_signature(server: LiveServer) -> None:
    garbling = client(server)

    def garble(request: Any, **_: Any) -> None:
        request.headers["Authorization"] = "not a signature"

    garbling.meta.events.register("before-send.acm-pca.ListCertificateAuthorities", garble)
    with pytest.raises(ClientError) as excinfo:
        garbling.list_certificate_authorities()
    assert error_of(excinfo)[0] == "IncompleteSignatureException"


def test_credential_scoped_to_another_service_is_invalid_signature(server: LiveServer) -> None:
    headers = signed_headers(server, b"{}", PREFIX + "ListCertificateAuthorities", service="acm")
    response = send(server, b"{}", headers)
    body = assert_json_error(response, 400, "InvalidSignatureException")
    assert "acm-pca" in body["message"]


def test_a_scope_naming_another_region_is_invalid_signature(server: LiveServer) -> None:
    headers = signed_headers(
        server, b"{}", PREFIX + "ListCertificateAuthorities", region="eu-west-3"
    )
    body = assert_json_error(send(server, b"{}", headers), 400, "InvalidSignatureException")
    assert body["message"] == "Credential should be scoped to a valid region, not 'eu-west-3'."


def test_auth_is_checked_before_the_body(server: LiveServer) -> None:
    """An unsigned request learns nothing about the operation or its input."""
    response = post(server, b"{not json", PREFIX + "NoSuchOperation", sign=False)
    assert response.error_code == "MissingAuthenticationTokenException"


# --- dispatch table ---------------------------------------------------------------------------


def test_dispatch_table_matches_botocore_model() -> None:
    model = boto3.session.Session().client("acm-pca", region_name="us-east-1").meta.service_model
    assert set(OPERATIONS) == set(model.operation_names)
    assert len(OPERATIONS) == 29


NOT_BUILT: dict[str, dict[str, Any]] = {
    "PutPolicy": {"Policy": '{"Version": "2012-10-17", "Statement": []}'},
    "GetPolicy": {},
    "DeletePolicy": {},
    "CreatePermission": {"Principal": "acm.amazonaws.com", "Actions": ["IssueCertificate"]},
    "ListPermissions": {},
    "DeletePermission": {"Principal": "acm.amazonaws.com"},
    "CreateCertificateAuthorityAuditReport": {
        "S3BucketName": "audit-bucket",
        "AuditReportResponseFormat": "JSON",
    },
    "DescribeCertificateAuthorityAuditReport": {
        "AuditReportId": "11111111-2222-3333-4444-555555555555",
    },
    "CreateCertificateAuthorityReplica": {"ReplicaRegion": "eu-west-1"},
    "BatchCreateCertificateAuthorityReplica": {
        "Replicas": [{"ReplicaRegion": "eu-west-1", "IdempotencyToken": "t1"}]
    },
    "ListCertificateAuthorityReplicas": {},
    "CreateCertificateAuthorityAssociation": {
        "AssociatedResourceArn": "arn:aws:s3:::some-bucket-of-mine"
    },
    "DeleteCertificateAuthorityAssociation": {
        "AssociatedResourceArn": "arn:aws:s3:::some-bucket-of-mine"
    },
    "ListCertificateAuthorityAssociations": {},
}


def _not_built_params(operation: str, ca_arn: str) -> dict[str, Any]:
    arn_member = "ResourceArn" if operation.endswith("Policy") else "CertificateAuthorityArn"
    return {arn_member: ca_arn, **NOT_BUILT[operation]}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize(
    "operation", sorted(name for name, handler in OPERATIONS.items() if handler is None)
)
def test_operation_not_built_yet_is_501_naming_it(
    server: LiveServer, root_ca: str, operation: str
) -> None:
    if operation not in NOT_BUILT:
        pytest.fail(f"{operation} has no handler and no parameters in this test; add them")
    body = json.dumps(_not_built_params(operation, root_ca)).encode()
    response = post(server, body, PREFIX + operation)
    error = assert_json_error(response, 501, "NotImplementedException")
    assert operation in error["message"]


@pytest.mark.parametrize("operation", ["PutPolicy", "CreatePermission", "ListPermissions"])
def test_operation_not_built_yet_through_boto3(pca: Any, root_ca: str, operation: str) -> None:
    if OPERATIONS[operation] is not None:
        pytest.skip(f"{operation} is implemented now")
    with pytest.raises(ClientError) as excinfo:
        getattr(pca, _snake(operation))(**_not_built_params(operation, root_ca))
    code, message = error_of(excinfo)
    assert code == "NotImplementedException"
    assert operation in message
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_other_paths_and_methods_are_json_errors(server: LiveServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read()
        response.close()
    finally:
        conn.close()
    assert 400 <= response.status < 500
    assert response.getheader("content-type", "").startswith(CONTENT_TYPE)
    assert json.loads(body)["__type"]


# --- accounts are isolated --------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_account(server: LiveServer) -> Any:
    created = server.pica("accounts", "create", "--json")
    assert created.returncode == 0, created.stderr
    account_id = json.loads(created.stdout)["AccountId"]
    key = server.pica("keys", "create", "--account", account_id, "--json")
    assert key.returncode == 0, key.stderr
    credentials = json.loads(key.stdout)
    assert credentials["AccountId"] == account_id
    return server.client(credentials["AccessKeyId"], credentials["SecretAccessKey"])


@pytest.mark.parametrize(
    "call",
    [
        "describe_certificate_authority",
        "get_certificate_authority_csr",
        "get_certificate_authority_certificate",
        "list_tags",
        "issue_certificate",
        "update_certificate_authority",
        "tag_certificate_authority",
    ],
)
def test_another_account_cannot_see_the_ca(other_account: Any, root_ca: str, call: str) -> None:
    extras: dict[str, dict[str, Any]] = {
        "issue_certificate": {
            "Csr": make_csr(),
            "SigningAlgorithm": "SHA256WITHECDSA",
            "Validity": {"Value": 1, "Type": "DAYS"},
        },
        "update_certificate_authority": {"Status": "DISABLED"},
        "tag_certificate_authority": {"Tags": [{"Key": "owned", "Value": "by-me"}]},
    }
    with pytest.raises(ClientError) as excinfo:
        getattr(other_account, call)(CertificateAuthorityArn=root_ca, **extras.get(call, {}))
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_another_account_does_not_list_the_ca(pca: Any, other_account: Any, root_ca: str) -> None:
    own = other_account.create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "EC_prime256v1",
            "SigningAlgorithm": "SHA256WITHECDSA",
            "Subject": {"CommonName": "other account CA"},
        },
        CertificateAuthorityType="ROOT",
    )["CertificateAuthorityArn"]
    seen = [
        ca["Arn"]
        for page in other_account.get_paginator("list_certificate_authorities").paginate()
        for ca in page["CertificateAuthorities"]
    ]
    assert root_ca not in seen
    assert own in seen
    assert own.split(":")[4] != root_ca.split(":")[4]
    mine = [
        ca["Arn"]
        for page in pca.get_paginator("list_certificate_authorities").paginate()
        for ca in page["CertificateAuthorities"]
    ]
    assert own not in mine
    with pytest.raises(ClientError) as excinfo:
        pca.describe_certificate_authority(CertificateAuthorityArn=own)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


# --- bad input changes nothing -----------------------------------------------------------------


def test_rejected_requests_change_nothing(server: LiveServer, pca: Any) -> None:
    arn = new_root(pca)
    pca.tag_certificate_authority(CertificateAuthorityArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    before = pca.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"]
    tags_before = pca.list_tags(CertificateAuthorityArn=arn)["Tags"]

    unchecked = client(server, parameter_validation=False)
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("update_certificate_authority", {"Status": "DELETED"}),
        ("update_certificate_authority", {"Status": "PENDING_CERTIFICATE"}),
        ("update_certificate_authority", {"Status": "BOGUS"}),
        (
            "update_certificate_authority",
            {
                "Status": "DISABLED",
                "RevocationConfiguration": {"CrlConfiguration": {"Enabled": "yes"}},
            },
        ),
        (
            "update_certificate_authority",
            {
                "Status": "DISABLED",
                "RevocationConfiguration": {
                    "CrlConfiguration": {"Enabled": True, "ExpirationInDays": 0}
                },
            },
        ),
        ("delete_certificate_authority", {}),
        ("delete_certificate_authority", {"PermanentDeletionTimeInDays": 31}),
        ("delete_certificate_authority", {"PermanentDeletionTimeInDays": 3}),
        ("restore_certificate_authority", {}),
        ("tag_certificate_authority", {"Tags": [{"Key": "aws:reserved", "Value": "x"}]}),
        ("tag_certificate_authority", {"Tags": [{"Key": "k", "Value": "new"}] * 51}),
        ("tag_certificate_authority", {"Tags": [{"Key": "bad\u0000key", "Value": "x"}]}),
        ("tag_certificate_authority", {"Tags": [{"Key": "k" * 129, "Value": "x"}]}),
        ("tag_certificate_authority", {"Tags": [{"Key": "k", "Value": "v" * 257}]}),
        ("untag_certificate_authority", {"Tags": [{"Key": "aws:reserved"}]}),
    ]
    for call, params in attempts:
        with pytest.raises(ClientError):
            getattr(unchecked, call)(CertificateAuthorityArn=arn, **params)

    after = pca.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"]
    assert after == before
    assert pca.list_tags(CertificateAuthorityArn=arn)["Tags"] == tags_before
