"""The ACM API (`CertificateManager.`) on pica's endpoint: its own dispatch table, model, SigV4
scope and errors, beside ACM Private CA on the same port."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from pica.wire.awsjson.acm_dispatch import OPERATIONS
from tests.conformance.test_wire import assert_json_error, send, signed_headers
from tests.support.acm import acm_client
from tests.support.server import LiveServer

PREFIX = "CertificateManager."


@pytest.fixture(scope="module")
def acm(server: LiveServer) -> Any:
    return acm_client(server)


def test_dispatch_table_matches_botocore_acm_model() -> None:
    model = boto3.session.Session().client("acm", region_name="us-east-1").meta.service_model
    assert model.api_version == "2015-12-08"
    assert set(OPERATIONS) == set(model.operation_names)


def test_boto3_acm_client_is_served(acm: Any) -> None:
    listed = acm.list_certificates()
    assert listed["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "CertificateSummaryList" in listed


def test_aws_cli_acm_works_with_the_pica_profile(server: LiveServer) -> None:
    listed = server.aws("acm", "list-certificates")
    assert "CertificateSummaryList" in listed


def test_request_signed_for_acm_pca_is_refused_on_an_acm_target(server: LiveServer) -> None:
    headers = signed_headers(server, b"{}", PREFIX + "ListCertificates", service="acm-pca")
    body = assert_json_error(send(server, b"{}", headers), 400, "InvalidSignatureException")
    assert body["message"] == "Credential should be scoped to correct service: 'acm'."


def test_request_signed_for_acm_is_refused_on_an_acm_pca_target(server: LiveServer) -> None:
    headers = signed_headers(
        server, b"{}", "ACMPrivateCA.ListCertificateAuthorities", service="acm"
    )
    body = assert_json_error(send(server, b"{}", headers), 400, "InvalidSignatureException")
    assert "'acm-pca'" in body["message"]


def test_unknown_acm_operation_is_unknown_operation(server: LiveServer) -> None:
    headers = signed_headers(server, b"{}", PREFIX + "MakeMeACertificate", service="acm")
    body = assert_json_error(send(server, b"{}", headers), 400, "UnknownOperationException")
    assert "MakeMeACertificate" in body["message"]
    assert "ACM operation" in body["message"]


def test_acm_model_validation_applies(acm: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        acm.list_certificates(MaxItems=5000)
    error = excinfo.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "maxItems" in error["Message"]


def _not_built_without_required_members() -> list[str]:
    """Unbuilt operations an empty body is a valid input for (the others fail validation first;
    the boto3 case below covers one of those)."""
    model = boto3.session.Session().client("acm", region_name="us-east-1").meta.service_model
    names = []
    for name, handler in sorted(OPERATIONS.items()):
        shape = model.operation_model(name).input_shape
        if handler is None and (shape is None or not shape.required_members):
            names.append(name)
    return names


@pytest.mark.parametrize("operation", _not_built_without_required_members())
def test_operation_not_built_is_501_naming_it(server: LiveServer, operation: str) -> None:
    headers = signed_headers(server, b"{}", PREFIX + operation, service="acm")
    error = assert_json_error(send(server, b"{}", headers), 501, "NotImplementedException")
    assert operation in error["message"]


def test_operation_not_built_through_boto3(acm: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        acm.resend_validation_email(
            CertificateArn="arn:aws:acm:us-east-1:123456789012:certificate/"
            "11111111-2222-3333-4444-555555555555",
            Domain="example.com",
            ValidationDomain="example.com",
        )
    assert excinfo.value.response["Error"]["Code"] == "NotImplementedException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert json.dumps(excinfo.value.response["Error"]).count("ResendValidationEmail") == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "SerializationException"),
        (b"[" * 100 + b"]" * 100, "SerializationException"),
        (b'{"CertificateArn": 7}', "SerializationException"),
        (b"{}", "ValidationException"),
    ],
)
def test_hostile_acm_bodies_get_aws_shaped_4xx(server: LiveServer, body: bytes, code: str) -> None:
    headers = signed_headers(server, body, PREFIX + "DescribeCertificate", service="acm")
    assert_json_error(send(server, body, headers), 400, code)
