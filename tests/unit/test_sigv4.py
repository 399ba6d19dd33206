"""Unit tests for SigV4 verification (pica.wire.awsjson.sigv4).

Requests are signed by botocore itself — the signer boto3 and the aws CLI use — and, end to
end, captured from a real boto3 client talking to a local HTTP server.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from pica.wire.awsjson.sigv4 import (
    SIGNATURE_MISMATCH_MESSAGE,
    AuthenticationError,
    SigV4Verifier,
    VerifiedCaller,
)
from tests.fuzz.strategies import HEADER_TEXT, SIGV4_HEADERS, authorization_values

ACCESS_KEY = "AKIDPICAEXAMPLE00001"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ACCOUNT = "123456789012"
HOST = "127.0.0.1:8080"
URL = f"http://{HOST}/"
BODY = json.dumps(
    {"CertificateAuthorityArn": f"arn:aws:acm-pca:us-east-1:{ACCOUNT}:certificate-authority/x"}
).encode()
KEYS = {ACCESS_KEY: (SECRET_KEY, ACCOUNT)}


@dataclass
class Signed:
    """A request as it reaches the server: what the verifier is given."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    signed_at: dt.datetime = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0)
    )

    def header(self, name: str) -> str:
        return next(value for key, value in self.headers if key.lower() == name.lower())

    def replace_header(self, name: str, value: str) -> None:
        self.headers = [
            (key, value if key.lower() == name.lower() else old) for key, old in self.headers
        ]

    def without_header(self, name: str) -> None:
        self.headers = [(key, value) for key, value in self.headers if key.lower() != name.lower()]


def sign(
    body: bytes = BODY,
    *,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
    service: str = "acm-pca",
    region: str = "us-east-1",
    extra_headers: dict[str, str] | None = None,
    token: str | None = None,
    url: str = URL,
) -> Signed:
    """Sign like boto3 does and return the request as the server would receive it."""
    headers = {
        "X-Amz-Target": "ACMPrivateCA.DescribeCertificateAuthority",
        "Content-Type": "application/x-amz-json-1.1",
        "User-Agent": "Boto3/1.44.5 md/Botocore#1.44.5 ua/2.1 os/linux",
        "amz-sdk-invocation-id": str(uuid.uuid4()),
        "amz-sdk-request": "attempt=1; max=3",
        "Content-Length": str(len(body)),
    }
    headers.update(extra_headers or {})
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(Credentials(access_key, secret_key, token), service, region).add_auth(request)
    wire_headers = [("Host", url.split("/")[2]), *request.headers.items()]
    path, _, query = url.split("/", 3)[3].partition("?")
    signed = Signed("POST", "/" + path, query, wire_headers, body)
    if "X-Amz-Date" in request.headers:
        signed.signed_at = dt.datetime.strptime(
            request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ"
        ).replace(tzinfo=dt.UTC)
    return signed


REGION = "us-east-1"


def verifier_at(moment: dt.datetime, max_skew: dt.timedelta | None = None) -> SigV4Verifier:
    if max_skew is None:
        return SigV4Verifier(KEYS.get, region=REGION, now=lambda: moment)
    return SigV4Verifier(KEYS.get, region=REGION, now=lambda: moment, max_skew=max_skew)


def verify(signed: Signed, *, now: dt.datetime | None = None) -> VerifiedCaller:
    verifier = verifier_at(now or signed.signed_at)
    return verifier.verify(signed.method, signed.path, signed.query, signed.headers, signed.body)


def failure(signed: Signed, *, now: dt.datetime | None = None) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as info:
        verify(signed, now=now)
    assert info.value.status == 400
    return info.value


# --- success ----------------------------------------------------------------------------------


def test_botocore_signed_request_verifies() -> None:
    caller = verify(sign())
    assert caller == VerifiedCaller(
        access_key_id=ACCESS_KEY, account_id=ACCOUNT, region="us-east-1"
    )


def test_the_configured_region_is_reported() -> None:
    assert verify(sign(region=REGION)).region == REGION


@pytest.mark.parametrize("region", ["eu-west-3", "US-EAST-1", "us-east-1 ", "aws-global"])
def test_a_credential_scoped_to_another_region_is_refused(region: str) -> None:
    """AWS refuses a signature made for another region; so does pica, for its own region."""
    error = failure(sign(region=region))
    assert error.code == "InvalidSignatureException"
    assert error.message == f"Credential should be scoped to a valid region, not '{region}'."


def test_a_verifier_for_another_region_accepts_that_region_only() -> None:
    signed = sign(region="eu-west-3")
    verifier = SigV4Verifier(KEYS.get, region="eu-west-3", now=lambda: signed.signed_at)
    caller = verifier.verify(signed.method, signed.path, signed.query, signed.headers, signed.body)
    assert caller.region == "eu-west-3"
    with pytest.raises(AuthenticationError, match="valid region, not 'us-east-1'"):
        us = sign()
        verifier.verify(us.method, us.path, us.query, us.headers, us.body)


def test_header_names_in_any_case() -> None:
    signed = sign()
    signed.headers = [(name.lower(), value) for name, value in signed.headers]
    verify(signed)
    signed.headers = [(name.upper(), value) for name, value in signed.headers]
    verify(signed)


def test_empty_body_verifies() -> None:
    verify(sign(b""))


def test_unsigned_headers_may_change() -> None:
    signed = sign()
    signed.replace_header("User-Agent", "something else")
    signed.headers.append(("X-Forwarded-For", "192.0.2.1"))
    verify(signed)


def test_signed_user_agent_is_honoured() -> None:
    """botocore never signs User-Agent, but other SigV4 clients may; the verifier follows
    the client's SignedHeaders, not botocore's client-side choice of headers."""
    signed = sign()
    request = AWSRequest(method="POST", url=URL, data=BODY)
    for name in ("content-type", "user-agent", "x-amz-target"):
        request.headers[name] = signed.header(name)
    request.headers["host"] = HOST
    request.headers["x-amz-date"] = signed.header("X-Amz-Date")
    request.context["timestamp"] = signed.header("X-Amz-Date")
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "acm-pca", "us-east-1")
    signer.headers_to_sign = lambda req: req.headers
    canonical = signer.canonical_request(request)
    assert "user-agent:" in canonical
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    scope = f"{ACCESS_KEY}/{signed.header('X-Amz-Date')[:8]}/us-east-1/acm-pca/aws4_request"
    signed.replace_header(
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential={scope}, "
        f"SignedHeaders=content-type;host;user-agent;x-amz-date;x-amz-target, "
        f"Signature={signature}",
    )
    verify(signed)
    signed.replace_header("User-Agent", "tampered")
    assert failure(signed).code == "InvalidSignatureException"


def test_security_token_unsigned_is_ignored_and_signed_is_accepted() -> None:
    signed = sign()
    signed.headers.append(("X-Amz-Security-Token", "session-token"))
    verify(signed)
    verify(sign(token="session-token"))
    assert "x-amz-security-token" in sign(token="t").header("Authorization")


def test_content_sha256_header_when_signed() -> None:
    digest = hashlib.sha256(BODY).hexdigest()
    signed = sign(extra_headers={"X-Amz-Content-SHA256": digest})
    assert "x-amz-content-sha256" in signed.header("Authorization")
    verify(signed)


def test_content_sha256_header_must_match_the_body() -> None:
    other = b'{"CertificateAuthorityArn": "tampered"}'
    signed = sign(extra_headers={"X-Amz-Content-SHA256": hashlib.sha256(BODY).hexdigest()})
    signed.body = other
    error = failure(signed)
    assert error.code == "InvalidSignatureException"
    assert "x-amz-content-sha256" in error.message


def test_unsigned_payload_is_refused() -> None:
    signed = sign(extra_headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert failure(signed).code == "InvalidSignatureException"


def test_date_header_is_used_when_there_is_no_x_amz_date() -> None:
    signed = sign(extra_headers={"Date": "Thu, 01 Jan 1970 00:00:00 GMT"})
    assert not any(name.lower() == "x-amz-date" for name, _ in signed.headers)
    signed_at = email.utils.parsedate_to_datetime(signed.header("Date")).replace(tzinfo=dt.UTC)
    verify(signed, now=signed_at + dt.timedelta(minutes=1))
    signed.replace_header("Date", email.utils.format_datetime(signed_at + dt.timedelta(seconds=1)))
    assert failure(signed, now=signed_at).message == SIGNATURE_MISMATCH_MESSAGE


def test_query_string_and_path_are_part_of_the_signature() -> None:
    signed = sign(url=f"http://{HOST}/some/path?b=2&a=1")
    verify(signed)
    signed.query = "b=2&a=3"
    assert failure(signed).code == "InvalidSignatureException"


def test_within_clock_skew() -> None:
    signed = sign()
    verify(signed, now=signed.signed_at + dt.timedelta(minutes=5))
    verify(signed, now=signed.signed_at - dt.timedelta(minutes=5))


@pytest.mark.parametrize("offset", [dt.timedelta(minutes=5, seconds=1), dt.timedelta(minutes=6)])
def test_the_skew_window_is_five_minutes_as_on_aws(offset: dt.timedelta) -> None:
    signed = sign()
    late = failure(signed, now=signed.signed_at + offset)
    assert late.code == "InvalidSignatureException"
    assert late.message.startswith(f"Signature expired: {signed.header('X-Amz-Date')} is now ")
    assert late.message.endswith(" - 5 min.)")
    early = failure(signed, now=signed.signed_at - offset)
    assert early.message.startswith("Signature not yet current: ")
    assert early.message.endswith(" + 5 min.)")


def test_repeated_signed_header_values_are_combined_like_botocore() -> None:
    request = AWSRequest(method="POST", url=URL, data=BODY)
    request.headers["Content-Type"] = "application/x-amz-json-1.1"
    request.headers["X-Amz-Target"] = "ACMPrivateCA.DescribeCertificateAuthority"
    request.headers["X-Custom"] = "one"
    request.headers["X-Custom"] = "two"  # HTTPHeaders appends
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "acm-pca", "us-east-1").add_auth(request)
    assert "x-custom" in request.headers["Authorization"]
    signed = Signed("POST", "/", "", [("host", HOST), *request.headers.items()], BODY)
    signed.signed_at = dt.datetime.strptime(
        request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ"
    ).replace(tzinfo=dt.UTC)
    verify(signed)


# --- failures ---------------------------------------------------------------------------------


def test_tampered_body() -> None:
    signed = sign()
    signed.body = BODY.replace(b"certificate-authority/x", b"certificate-authority/y")
    error = failure(signed)
    assert error.code == "InvalidSignatureException"
    assert error.message == SIGNATURE_MISMATCH_MESSAGE
    assert error.message == (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )


def test_tampered_signed_header() -> None:
    signed = sign()
    signed.replace_header("X-Amz-Target", "ACMPrivateCA.DeleteCertificateAuthority")
    assert failure(signed).message == SIGNATURE_MISMATCH_MESSAGE


def test_different_host() -> None:
    signed = sign()
    signed.replace_header("Host", "127.0.0.1:9090")
    assert failure(signed).code == "InvalidSignatureException"


def test_signed_header_missing_from_the_request() -> None:
    signed = sign()
    signed.without_header("X-Amz-Target")
    assert failure(signed).code == "InvalidSignatureException"


def test_wrong_secret() -> None:
    error = failure(sign(secret_key="not-the-secret"))
    assert (error.code, error.message) == ("InvalidSignatureException", SIGNATURE_MISMATCH_MESSAGE)


def test_garbled_signature_value() -> None:
    signed = sign()
    authorization = signed.header("Authorization")
    signed.replace_header("Authorization", authorization[:-64] + "é" * 64)
    assert failure(signed).message == SIGNATURE_MISMATCH_MESSAGE


def test_unknown_access_key() -> None:
    error = failure(sign(access_key="AKIDUNKNOWN000000000"))
    assert error.code == "UnrecognizedClientException"
    assert error.message == "The security token included in the request is invalid."


def test_expired_signature() -> None:
    signed = sign()
    signed.replace_header("X-Amz-Date", "20260101T000000Z")
    # The scope date must still agree for the expiry check to be the one that fails.
    signed.replace_header(
        "Authorization",
        signed.header("Authorization").replace(f"/{signed.signed_at:%Y%m%d}/", "/20260101/"),
    )
    now = dt.datetime(2026, 1, 1, 0, 5, 1, tzinfo=dt.UTC)
    error = failure(signed, now=now)
    assert error.code == "InvalidSignatureException"
    assert error.message == (
        "Signature expired: 20260101T000000Z is now earlier than 20260101T000001Z "
        "(20260101T000501Z - 5 min.)"
    )


def test_signature_from_the_future() -> None:
    signed = sign()
    now = signed.signed_at - dt.timedelta(minutes=6)
    error = failure(signed, now=now)
    assert error.code == "InvalidSignatureException"
    amz_date = signed.header("X-Amz-Date")
    assert error.message == (
        f"Signature not yet current: {amz_date} is still later than "
        f"{now + dt.timedelta(minutes=5):%Y%m%dT%H%M%SZ} ({now:%Y%m%dT%H%M%SZ} + 5 min.)"
    )


def test_custom_skew_is_named_in_the_message() -> None:
    signed = sign()
    verifier = verifier_at(
        signed.signed_at + dt.timedelta(minutes=3), max_skew=dt.timedelta(seconds=90)
    )
    with pytest.raises(AuthenticationError, match=r"- 90 sec\.\)$"):
        verifier.verify("POST", "/", "", signed.headers, signed.body)


def test_wrong_service() -> None:
    error = failure(sign(service="acm"))
    assert error.code == "InvalidSignatureException"
    assert error.message == "Credential should be scoped to correct service: 'acm-pca'."


def test_missing_authorization_header() -> None:
    signed = sign()
    signed.without_header("Authorization")
    error = failure(signed)
    assert (error.code, error.message) == (
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )


def test_missing_date_headers() -> None:
    signed = sign()
    signed.without_header("X-Amz-Date")
    error = failure(signed)
    assert error.code == "IncompleteSignatureException"
    assert error.message == (
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    )


def test_malformed_x_amz_date() -> None:
    signed = sign()
    signed.replace_header("X-Amz-Date", "2026-01-01T00:00:00Z")
    error = failure(signed)
    assert error.code == "IncompleteSignatureException"
    assert "ISO-8601" in error.message


def test_scope_date_differs_from_x_amz_date() -> None:
    signed = sign()
    amz_date = signed.header("X-Amz-Date")
    signed.replace_header(
        "Authorization",
        signed.header("Authorization").replace(f"/{amz_date[:8]}/", "/20000101/"),
    )
    error = failure(signed)
    assert error.code == "InvalidSignatureException"
    assert error.message == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        f"HTTP: '20000101' != '{amz_date[:8]}', from '{amz_date}'."
    )


@pytest.mark.parametrize(
    ("authorization", "fragment"),
    [
        ("Bearer abc.def", "Unsupported AWS 'algorithm': 'Bearer'"),
        ("garbage", "Unsupported AWS 'algorithm': 'garbage'"),
        ("", "Unsupported AWS 'algorithm': ''"),
        ("AWS4-HMAC-SHA256", "requires 'Credential' parameter"),
        ("AWS4-HMAC-SHA256 garbage", "not a valid key=value pair (missing equal-sign)"),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/acm-pca/aws4_request, "
            "SignedHeaders=host;x-amz-date",
            "Authorization header requires 'Signature' parameter.",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/acm-pca/aws4_request, "
            "Signature=abc",
            "Authorization header requires 'SignedHeaders' parameter.",
        ),
        (
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc",
            "Authorization header requires 'Credential' parameter.",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/acm-pca/aws4_request, "
            "SignedHeaders=host, Signature=abc",
            "Credential must have the form",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/2026-1-1/us-east-1/acm-pca/aws4_request, "
            "SignedHeaders=host, Signature=abc",
            "valid date",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20260101//acm-pca/aws4_request, "
            "SignedHeaders=host, Signature=abc",
            "valid region",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/acm-pca/aws5_request, "
            "SignedHeaders=host, Signature=abc",
            "valid terminator: 'aws4_request', not 'aws5_request'",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/acm-pca/aws4_request, "
            "SignedHeaders=content-type;x-amz-date, Signature=abc",
            "'Host' or ':authority' must be a 'SignedHeader'",
        ),
    ],
)
def test_malformed_authorization_header(authorization: str, fragment: str) -> None:
    signed = sign()
    signed.replace_header("Authorization", authorization)
    error = failure(signed)
    assert error.code == "IncompleteSignatureException"
    assert fragment in error.message


def test_two_authorization_headers() -> None:
    signed = sign()
    signed.headers.append(("authorization", signed.header("Authorization")))
    assert failure(signed).code == "IncompleteSignatureException"


def test_an_unsigned_target_is_refused() -> None:
    """Left out of SignedHeaders, X-Amz-Target could be swapped for another operation."""
    request = AWSRequest(method="POST", url=URL, data=BODY)
    request.headers["Content-Type"] = "application/x-amz-json-1.1"
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "acm-pca", REGION).add_auth(request)
    signed = Signed("POST", "/", "", [("Host", HOST), *request.headers.items()], BODY)
    signed.signed_at = dt.datetime.strptime(
        request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ"
    ).replace(tzinfo=dt.UTC)
    signed.headers.append(("X-Amz-Target", "ACMPrivateCA.DeleteCertificateAuthority"))
    error = failure(signed)
    assert error.code == "IncompleteSignatureException"
    assert error.message == "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("Fri, 31 Dec 9999 23:59:59 -1400", "Signature not yet current: Fri, 31 Dec 9999"),
        ("Mon, 01 Jan 0001 00:00:00 +1400", "Date in Credential scope does not match"),
        ("Fri, 31 Dec 9999 23:59:59 GMT", "Date in Credential scope does not match"),
        ("Fri, 31 Dec 99999999999999999999 23:59:59 GMT", "Date must be in RFC 1123 format"),
        ("Fri, 31 Dec 2025 23:59:59 +9900", "Date must be in RFC 1123 format"),
        ("Fri, 32 Dec 2025 23:59:59 GMT", "Date must be in RFC 1123 format"),
    ],
)
def test_dates_at_the_edge_of_the_calendar_are_refused_not_crashed(date: str, message: str) -> None:
    """The audit's `Date: Fri, 31 Dec 9999 23:59:59 -1400` overflowed into a 500."""
    signed = sign(extra_headers={"Date": "Thu, 01 Jan 1970 00:00:00 GMT"})
    signed.replace_header("Date", date)
    error = failure(signed, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert error.code in ("InvalidSignatureException", "IncompleteSignatureException")
    assert message in error.message


@settings(max_examples=300, deadline=None, database=None)
@given(
    mutations=st.lists(
        st.tuples(
            st.sampled_from(SIGV4_HEADERS),
            st.sampled_from(["replace", "add", "remove"]),
            st.one_of(HEADER_TEXT, authorization_values(ACCESS_KEY, REGION)),
        ),
        min_size=1,
        max_size=4,
    ),
    body=st.binary(max_size=64),
)
def test_any_header_values_end_in_a_caller_or_an_authentication_error(
    mutations: list[tuple[str, str, str]], body: bytes
) -> None:
    """Whatever the signature headers hold, the verifier answers with an AWS error code."""
    signed = sign()
    for name, action, value in mutations:
        if action == "remove":
            signed.without_header(name)
        elif action == "add":
            signed.headers.append((name, value))
        else:
            signed.without_header(name)
            signed.headers.append((name, value))
    try:
        verifier_at(signed.signed_at).verify("POST", "/", "", signed.headers, body)
    except AuthenticationError as error:
        assert error.status == 400
        assert error.code in (
            "MissingAuthenticationTokenException",
            "IncompleteSignatureException",
            "InvalidSignatureException",
            "UnrecognizedClientException",
        )
        assert error.message


# --- end to end: what a real boto3 client puts on the wire -------------------------------------


@dataclass
class _Captured:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    captured: list[_Captured]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        path, _, query = self.path.partition("?")
        self.captured.append(_Captured("POST", path, query, list(self.headers.items()), body))
        reply = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def recording_server() -> Iterator[tuple[str, list[_Captured]]]:
    captured: list[_Captured] = []
    handler = type("Handler", (_RecordingHandler,), {"captured": captured})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}", captured
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_real_boto3_requests_verify(recording_server: tuple[str, list[_Captured]]) -> None:
    endpoint, captured = recording_server
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="ap-southeast-2",
    )
    client = session.client("acm-pca", endpoint_url=endpoint)
    try:
        client.list_certificate_authorities()
        client.issue_certificate(
            CertificateAuthorityArn=f"arn:aws:acm-pca:ap-southeast-2:{ACCOUNT}:certificate-authority/x",
            Csr=b"-----BEGIN CERTIFICATE REQUEST-----\n...\n",
            SigningAlgorithm="SHA256WITHRSA",
            Validity={"Value": 365, "Type": "DAYS"},
            IdempotencyToken="1234",
        )
    finally:
        client.close()

    assert len(captured) == 2
    verifier = SigV4Verifier(KEYS.get, region="ap-southeast-2")
    for request in captured:
        assert request.method == "POST"
        assert request.path == "/"
        caller = verifier.verify(
            request.method, request.path, request.query, request.headers, request.body
        )
        assert caller == VerifiedCaller(ACCESS_KEY, ACCOUNT, "ap-southeast-2")
    assert json.loads(captured[0].body) == {}
    assert json.loads(captured[1].body)["Validity"] == {"Value": 365, "Type": "DAYS"}

    tampered = captured[1]
    with pytest.raises(AuthenticationError) as info:
        verifier.verify(
            tampered.method,
            tampered.path,
            tampered.query,
            tampered.headers,
            tampered.body.replace(b"365", b"999"),
        )
    assert info.value.code == "InvalidSignatureException"

    wrong_service = SigV4Verifier(KEYS.get, region="ap-southeast-2", service="acm")
    with pytest.raises(AuthenticationError) as info:
        wrong_service.verify(
            captured[0].method, captured[0].path, captured[0].query, captured[0].headers, b"{}"
        )
    assert info.value.message == "Credential should be scoped to correct service: 'acm'."


def test_an_operation_in_the_path_needs_no_signed_target() -> None:
    """RPC v2 CBOR names the operation in the path, which every signature covers."""
    path = "/service/ACMPrivateCA/operation/ListCertificateAuthorities"
    request = AWSRequest(method="POST", url=f"http://{HOST}{path}", data=b"\xa0")
    request.headers["Content-Type"] = "application/cbor"
    request.headers["smithy-protocol"] = "rpc-v2-cbor"
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "acm-pca", REGION).add_auth(request)
    signed = Signed("POST", path, "", [("Host", HOST), *request.headers.items()], b"\xa0")
    signed.signed_at = dt.datetime.strptime(
        request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ"
    ).replace(tzinfo=dt.UTC)
    verifier = verifier_at(signed.signed_at)
    args = (signed.method, signed.path, signed.query, signed.headers, signed.body)
    assert verifier.verify(*args, operation_in_path=True).account_id == ACCOUNT
    with pytest.raises(AuthenticationError) as refused:
        verifier.verify(*args)
    assert refused.value.message.startswith("'X-Amz-Target' must be a 'SignedHeader'")
    moved = (signed.method, path.replace("List", "Delete"), *args[2:])
    with pytest.raises(AuthenticationError) as elsewhere:
        verifier.verify(*moved, operation_in_path=True)
    assert elsewhere.value.code == "InvalidSignatureException"
