"""Smithy RPC v2 CBOR against a live pica, through botocore's own CBOR serializer and parser.

botocore picks a protocol from the model's `metadata.protocols`; the client here loads the
pinned acm-pca model with only `smithy-rpc-v2-cbor` listed, so every call is
`POST /service/ACMPrivateCA/operation/<Op>` with a CBOR body, exactly what a Smithy-generated SDK
that switched to CBOR sends. The same requests through the JSON client must get the same answers.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import cbor2
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.pki import ROOT_TEMPLATE, ca_config, make_csr, new_root
from tests.support.server import LiveServer

CBOR_PATH = "/service/ACMPrivateCA/operation/"


def _cbor_only_model(data_dir: Path) -> None:
    """A botocore data path whose acm-pca model offers RPC v2 CBOR alone."""
    source = Path(botocore.__file__).parent / "data/acm-pca/2017-08-22/service-2.json.gz"
    model = json.loads(gzip.decompress(source.read_bytes()))
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    model["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
    target = data_dir / "acm-pca/2017-08-22"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))


@pytest.fixture(scope="module")
def cbor_session(tmp_path_factory: pytest.TempPathFactory) -> boto3.session.Session:
    data_dir = tmp_path_factory.mktemp("botocore-data")
    _cbor_only_model(data_dir)
    core = botocore.session.Session()
    core.get_component("data_loader").search_paths.insert(0, str(data_dir))
    return boto3.session.Session(botocore_session=core)


class Wire:
    """The requests a client sent: path and headers, to prove which protocol was spoken."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []

    def record(self, request: Any, **_: Any) -> None:
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        self.requests.append((request.url, headers))


@pytest.fixture(scope="module")
def wire() -> Wire:
    return Wire()


@pytest.fixture(scope="module")
def cbor_pca(server: LiveServer, cbor_session: boto3.session.Session, wire: Wire) -> Any:
    key, secret = server.credentials()
    client = cbor_session.client(
        "acm-pca",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    client.meta.events.register("before-send.acm-pca", wire.record)
    return client


@pytest.fixture(scope="module")
def json_pca(server: LiveServer) -> Any:
    return server.raw_client()


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    code: str = exc.value.response["Error"]["Code"]
    return code


def test_the_client_speaks_cbor(cbor_pca: Any, wire: Wire) -> None:
    cbor_pca.list_certificate_authorities(MaxResults=1)
    url, headers = wire.requests[-1]
    assert url.endswith(CBOR_PATH + "ListCertificateAuthorities")
    assert headers["smithy-protocol"] == "rpc-v2-cbor"
    assert headers["Content-Type"] == "application/cbor"
    assert "X-Amz-Target" not in headers


def test_ca_lifecycle_issuance_and_revocation(cbor_pca: Any) -> None:
    pca = cbor_pca
    arn = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=ca_config(common_name="cbor root"),
        CertificateAuthorityType="ROOT",
        Tags=[{"Key": "via", "Value": "cbor"}],
    )["CertificateAuthorityArn"]
    pca.get_waiter("certificate_authority_csr_created").wait(
        CertificateAuthorityArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    described = pca.describe_certificate_authority(CertificateAuthorityArn=arn)
    ca = described["CertificateAuthority"]
    assert ca["Status"] == "PENDING_CERTIFICATE"
    # Timestamps travel as CBOR tag 1 and come out as datetimes.
    assert ca["CreatedAt"].tzinfo is not None
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    root_arn = pca.issue_certificate(
        CertificateAuthorityArn=arn,
        Csr=csr.encode(),  # a blob: a CBOR byte string on the wire
        SigningAlgorithm="SHA256WITHECDSA",
        TemplateArn=ROOT_TEMPLATE,
        Validity={"Value": 5, "Type": "YEARS"},
    )["CertificateArn"]
    pca.get_waiter("certificate_issued").wait(
        CertificateAuthorityArn=arn,
        CertificateArn=root_arn,
        WaiterConfig={"Delay": 1, "MaxAttempts": 10},
    )
    root_pem = pca.get_certificate(CertificateAuthorityArn=arn, CertificateArn=root_arn)[
        "Certificate"
    ]
    pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=arn, Certificate=root_pem.encode()
    )
    assert pca.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"][
        "Status"
    ] == ("ACTIVE")
    assert (
        pca.get_certificate_authority_certificate(CertificateAuthorityArn=arn)["Certificate"]
        == root_pem
    )

    leaf_arn = pca.issue_certificate(
        CertificateAuthorityArn=arn,
        Csr=make_csr(dns_names=("cbor.example.com",)),
        SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 7, "Type": "DAYS"},
        IdempotencyToken="cbor-1",
    )["CertificateArn"]
    got = pca.get_certificate(CertificateAuthorityArn=arn, CertificateArn=leaf_arn)
    assert got["Certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert got["CertificateChain"].strip() == root_pem.strip()

    serial = leaf_arn.rsplit("/", 1)[1]
    pca.revoke_certificate(
        CertificateAuthorityArn=arn, CertificateSerial=serial, RevocationReason="KEY_COMPROMISE"
    )
    with pytest.raises(ClientError) as again:
        pca.revoke_certificate(
            CertificateAuthorityArn=arn,
            CertificateSerial=serial,
            RevocationReason="KEY_COMPROMISE",
        )
    assert code_of(again) == "RequestAlreadyProcessedException"

    assert pca.list_tags(CertificateAuthorityArn=arn)["Tags"] == [{"Key": "via", "Value": "cbor"}]
    pca.update_certificate_authority(CertificateAuthorityArn=arn, Status="DISABLED")
    pca.delete_certificate_authority(CertificateAuthorityArn=arn, PermanentDeletionTimeInDays=7)
    deleted = pca.describe_certificate_authority(CertificateAuthorityArn=arn)
    assert deleted["CertificateAuthority"]["Status"] == "DELETED"
    assert deleted["CertificateAuthority"]["RestorableUntil"] > ca["CreatedAt"]
    pca.restore_certificate_authority(CertificateAuthorityArn=arn)


def test_pagination(cbor_pca: Any) -> None:
    for _ in range(2):
        cbor_pca.create_certificate_authority(
            CertificateAuthorityConfiguration=ca_config(), CertificateAuthorityType="ROOT"
        )
    pages = list(
        cbor_pca.get_paginator("list_certificate_authorities").paginate(
            PaginationConfig={"PageSize": 1}
        )
    )
    assert len(pages) >= 2
    assert all(len(page["CertificateAuthorities"]) == 1 for page in pages)
    arns = [page["CertificateAuthorities"][0]["Arn"] for page in pages]
    assert len(set(arns)) == len(arns)


def test_modelled_errors(cbor_pca: Any, root_ca: str) -> None:
    missing = root_ca.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as not_found:
        cbor_pca.describe_certificate_authority(CertificateAuthorityArn=missing)
    assert code_of(not_found) == "ResourceNotFoundException"
    assert not_found.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert not_found.value.response["ResponseMetadata"]["HTTPHeaders"]["smithy-protocol"] == (
        "rpc-v2-cbor"
    )
    pending = cbor_pca.create_certificate_authority(
        CertificateAuthorityConfiguration=ca_config(), CertificateAuthorityType="ROOT"
    )["CertificateAuthorityArn"]
    with pytest.raises(ClientError) as bad_state:
        cbor_pca.get_certificate_authority_certificate(CertificateAuthorityArn=pending)
    assert code_of(bad_state) == "InvalidStateException"
    with pytest.raises(ClientError) as bad_csr:
        cbor_pca.issue_certificate(
            CertificateAuthorityArn=root_ca,
            Csr=b"not a csr",
            SigningAlgorithm="SHA256WITHECDSA",
            Validity={"Value": 1, "Type": "DAYS"},
        )
    assert code_of(bad_csr) == "MalformedCSRException"


def test_validation_errors_match_json(server: LiveServer, cbor_session: Any) -> None:
    key, secret = server.credentials()
    unchecked = {
        "endpoint_url": server.endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": key,
        "aws_secret_access_key": secret,
        "config": Config(parameter_validation=False, retries={"max_attempts": 1}),
    }
    cbor = cbor_session.client("acm-pca", **unchecked)
    plain = boto3.session.Session().client("acm-pca", **unchecked)
    answers = []
    for client in (cbor, plain):
        with pytest.raises(ClientError) as refused:
            client.list_certificate_authorities(MaxResults=5000, ResourceOwner="NOBODY")
        answers.append(refused.value.response["Error"])
    assert answers[0]["Code"] == "ValidationException"
    assert answers[0] == answers[1]


def _comparable(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def test_json_and_cbor_answers_agree(cbor_pca: Any, json_pca: Any) -> None:
    arn = new_root(json_pca)
    json_pca.tag_certificate_authority(
        CertificateAuthorityArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}]
    )
    cert_arn = json_pca.issue_certificate(
        CertificateAuthorityArn=arn,
        Csr=make_csr(),
        SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 3, "Type": "DAYS"},
    )["CertificateArn"]
    json_pca.create_permission(
        CertificateAuthorityArn=arn,
        Principal="acm.amazonaws.com",
        Actions=["IssueCertificate", "GetCertificate", "ListPermissions"],
    )
    calls: list[tuple[str, dict[str, Any]]] = [
        ("describe_certificate_authority", {"CertificateAuthorityArn": arn}),
        ("get_certificate_authority_certificate", {"CertificateAuthorityArn": arn}),
        ("get_certificate", {"CertificateAuthorityArn": arn, "CertificateArn": cert_arn}),
        ("list_tags", {"CertificateAuthorityArn": arn}),
        ("list_permissions", {"CertificateAuthorityArn": arn}),
        ("list_certificate_authorities", {"MaxResults": 3}),
        ("get_certificate_authority_csr", {"CertificateAuthorityArn": arn}),
        (
            "revoke_certificate",
            {
                "CertificateAuthorityArn": arn,
                "CertificateSerial": "00",
                "RevocationReason": "UNSPECIFIED",
            },
        ),
        (
            "issue_certificate",
            {
                "CertificateAuthorityArn": arn,
                "Csr": b"junk",
                "SigningAlgorithm": "SHA256WITHECDSA",
                "Validity": {"Value": 1, "Type": "DAYS"},
            },
        ),
        ("get_policy", {"ResourceArn": arn}),
        (
            "describe_certificate_authority_audit_report",
            {
                "CertificateAuthorityArn": arn,
                "AuditReportId": "00000000-0000-0000-0000-000000000000",
            },
        ),
    ]
    for operation, params in calls:
        outcomes = []
        for client in (json_pca, cbor_pca):
            try:
                outcomes.append(("ok", _comparable(getattr(client, operation)(**params))))
            except ClientError as exc:
                outcomes.append(("error", exc.response["Error"]))
        assert outcomes[0] == outcomes[1], operation
        if operation == "describe_certificate_authority":
            ca = outcomes[0][1]["CertificateAuthority"]
            assert {"CreatedAt", "NotBefore", "NotAfter", "LastStateChangeAt"} <= set(ca)


# --- hand-made requests: what no well-behaved client sends -------------------------------------


def _signed_post(server: LiveServer, path: str, body: bytes, headers: dict[str, str]) -> Any:
    key, secret = server.credentials()
    request = AWSRequest("POST", server.endpoint + path, data=body, headers=headers)
    SigV4Auth(Credentials(key, secret), "acm-pca", "us-east-1").add_auth(request)
    return requests.post(
        server.endpoint + path, data=body, headers=dict(request.headers), timeout=10
    )


CBOR_HEADERS = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"\xff\xff", "not valid CBOR"),
        (b"\xa1\x63abc", "not valid CBOR"),  # a map cut short
        (cbor2.dumps({}) + b"\x00", "follow the data item"),
        (b"\x81" * 5000 + b"\x00", "not valid CBOR"),
        (cbor2.dumps({1: "x"}), "not a text string"),
        (cbor2.dumps({"MaxResults": cbor2.CBORTag(999, 1)}), "not readable"),
        (cbor2.dumps({"MaxResults": cbor2.undefined}), "not readable"),
    ],
)
def test_unreadable_cbor_is_a_400(server: LiveServer, body: bytes, fragment: str) -> None:
    answer = _signed_post(server, CBOR_PATH + "ListCertificateAuthorities", body, CBOR_HEADERS)
    assert answer.status_code == 400, answer.content
    assert answer.headers["content-type"] == "application/cbor"
    assert answer.headers["smithy-protocol"] == "rpc-v2-cbor"
    error = cbor2.loads(answer.content)
    assert error["__type"].rsplit("#", 1)[1] == "SerializationException"
    assert fragment in error["message"]


def test_blob_sent_as_text_is_refused(server: LiveServer, root_ca: str) -> None:
    body = cbor2.dumps(
        {
            "CertificateAuthorityArn": root_ca,
            "Csr": make_csr().decode(),
            "SigningAlgorithm": "SHA256WITHECDSA",
            "Validity": {"Value": 1, "Type": "DAYS"},
        }
    )
    answer = _signed_post(server, CBOR_PATH + "IssueCertificate", body, CBOR_HEADERS)
    assert answer.status_code == 400
    assert "byte string" in cbor2.loads(answer.content)["message"]


def test_string_sent_as_bytes_is_refused(server: LiveServer) -> None:
    body = cbor2.dumps({"CertificateAuthorityArn": b"arn:aws:acm-pca:x"})
    answer = _signed_post(server, CBOR_PATH + "DescribeCertificateAuthority", body, CBOR_HEADERS)
    assert answer.status_code == 400
    assert cbor2.loads(answer.content)["__type"].endswith("#SerializationException")


def test_protocol_header_is_required(server: LiveServer) -> None:
    headers = {"Content-Type": "application/cbor"}
    answer = _signed_post(server, CBOR_PATH + "ListCertificateAuthorities", b"\xa0", headers)
    assert answer.status_code == 400
    assert "smithy-protocol" in cbor2.loads(answer.content)["message"]


def test_unknown_operation_and_service(server: LiveServer) -> None:
    unknown = _signed_post(server, CBOR_PATH + "MakeCoffee", b"\xa0", CBOR_HEADERS)
    assert unknown.status_code == 400
    assert cbor2.loads(unknown.content)["__type"].endswith("#UnknownOperationException")
    other = _signed_post(
        server, "/service/CertificateManager/operation/ListCertificates", b"\xa0", CBOR_HEADERS
    )
    assert other.status_code == 404
    assert cbor2.loads(other.content)["__type"].endswith("#UnknownOperationException")


def test_unsigned_and_badly_signed(server: LiveServer) -> None:
    unsigned = requests.post(
        server.endpoint + CBOR_PATH + "ListCertificateAuthorities",
        data=b"\xa0",
        headers=CBOR_HEADERS,
        timeout=10,
    )
    assert unsigned.status_code == 400
    assert cbor2.loads(unsigned.content)["__type"].endswith("#MissingAuthenticationTokenException")
    key, secret = server.credentials()
    request = AWSRequest(
        "POST",
        server.endpoint + CBOR_PATH + "ListCertificateAuthorities",
        data=b"\xa0",
        headers=CBOR_HEADERS,
    )
    SigV4Auth(Credentials(key, secret), "acm-pca", "us-east-1").add_auth(request)
    # The operation is in the signed path: moving the signature to another operation fails.
    moved = requests.post(
        server.endpoint + CBOR_PATH + "DeleteCertificateAuthority",
        data=b"\xa0",
        headers=dict(request.headers),
        timeout=10,
    )
    assert moved.status_code == 400  # as pica answers the same failure over JSON
    assert cbor2.loads(moved.content)["__type"].endswith("#InvalidSignatureException")


@pytest.fixture(autouse=True)
def _no_stray_wire_records(wire: Wire) -> Iterator[None]:
    yield
    del wire.requests[:-1]


def test_null_members_are_absent(server: LiveServer) -> None:
    body = cbor2.dumps({"MaxResults": None, "NextToken": None, "ResourceOwner": None})
    answer = _signed_post(server, CBOR_PATH + "ListCertificateAuthorities", body, CBOR_HEADERS)
    assert answer.status_code == 200, cbor2.loads(answer.content)
    assert answer.headers["content-type"] == "application/cbor"
    assert isinstance(cbor2.loads(answer.content)["CertificateAuthorities"], list)


def test_empty_output_is_an_empty_body(cbor_pca: Any, root_ca: str, server: LiveServer) -> None:
    body = cbor2.dumps({"CertificateAuthorityArn": root_ca, "Tags": [{"Key": "k", "Value": "v"}]})
    answer = _signed_post(server, CBOR_PATH + "TagCertificateAuthority", body, CBOR_HEADERS)
    assert answer.status_code == 200
    assert answer.content == b""
    assert "content-type" not in answer.headers
    assert answer.headers["smithy-protocol"] == "rpc-v2-cbor"


def test_response_timestamps_are_tag_1(server: LiveServer, root_ca: str) -> None:
    body = cbor2.dumps({"CertificateAuthorityArn": root_ca})
    answer = _signed_post(server, CBOR_PATH + "DescribeCertificateAuthority", body, CBOR_HEADERS)
    assert b"\xc1\xfb" in answer.content  # tag 1 on a float64: epoch seconds
    ca = cbor2.loads(answer.content)["CertificateAuthority"]
    assert ca["CreatedAt"].tzinfo is not None  # cbor2 turns tag 1 into an aware datetime
    assert not any(isinstance(v, str) and v[:1].isdigit() and "T" in v for v in ca.values())


def test_oversized_body_is_a_cbor_413(server: LiveServer) -> None:
    body = cbor2.dumps({"Junk": b"x" * (5 * 1024 * 1024)})
    answer = requests.post(
        server.endpoint + CBOR_PATH + "ListCertificateAuthorities",
        data=body,
        headers=CBOR_HEADERS,
        timeout=30,
    )
    assert answer.status_code == 413
    assert cbor2.loads(answer.content)["__type"].endswith("#RequestEntityTooLargeException")


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.datetimes(timezones=st.just(dt.UTC)),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12) | st.integers(), children, max_size=4)
    ),
    max_leaves=12,
)
_members = st.dictionaries(
    st.sampled_from(
        ["CertificateAuthorityArn", "MaxResults", "NextToken", "Csr", "Validity", "Tags", "Junk"]
    ),
    _values,
    max_size=4,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    operation=st.sampled_from(
        ["ListCertificateAuthorities", "IssueCertificate", "TagCertificateAuthority", "ListTags"]
    ),
    body=st.one_of(_members.map(cbor2.dumps), st.binary(max_size=64)),
)
def test_any_body_gets_an_aws_shaped_answer(
    server: LiveServer, operation: str, body: bytes
) -> None:
    answer = _signed_post(server, CBOR_PATH + operation, body, CBOR_HEADERS)
    assert answer.status_code in (200, 400), answer.content
    if answer.status_code == 400:
        error = cbor2.loads(answer.content)
        assert error["__type"].startswith("com.amazonaws.acmpca#") and error["message"]
