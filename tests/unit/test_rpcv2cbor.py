"""The RPC v2 CBOR translation against the acm-pca and acm models: CBOR in, JSON shapes out."""

from __future__ import annotations

import base64
import datetime as dt

import cbor2
import pytest

from pica.wire.awsjson.rpcv2cbor import CborCodec, decode, operation_from_path
from pica.wire.awsjson.service_model import ACM_SERVICE_NAME, load_service_model
from pica.wire.awsjson.validation import RequestValidationError

PCA = CborCodec(load_service_model())


def test_paths() -> None:
    assert operation_from_path("/service/ACMPrivateCA/operation/ListTags") == (
        "ACMPrivateCA",
        "ListTags",
    )
    assert operation_from_path("/service/ACMPrivateCA/operation/") is None
    assert operation_from_path("/service/ACMPrivateCA/operation/A/B") is None


def test_blobs_become_base64_text() -> None:
    body = cbor2.dumps({"Csr": b"-----BEGIN", "Validity": {"Value": 3, "Type": "DAYS"}})
    params = PCA.request("IssueCertificate", body)
    assert params == {
        "Csr": base64.b64encode(b"-----BEGIN").decode(),
        "Validity": {"Value": 3, "Type": "DAYS"},
    }


def test_blobs_nested_in_lists_and_the_acm_model() -> None:
    acm = CborCodec(load_service_model(ACM_SERVICE_NAME))
    body = cbor2.dumps({"Certificate": b"c", "PrivateKey": b"k", "Tags": [{"Key": "a"}]})
    assert acm.request("ImportCertificate", body) == {
        "Certificate": "Yw==",
        "PrivateKey": "aw==",
        "Tags": [{"Key": "a"}],
    }


def test_a_text_blob_is_a_serialization_error() -> None:
    with pytest.raises(RequestValidationError) as refused:
        PCA.request("IssueCertificate", cbor2.dumps({"Csr": "text"}))
    assert refused.value.code == "SerializationException"
    assert "'/Csr'" in refused.value.message


def test_timestamps_both_ways() -> None:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    result = {"CertificateAuthority": {"Arn": "a", "CreatedAt": moment.timestamp()}}
    encoded = PCA.result("DescribeCertificateAuthority", result)
    assert cbor2.loads(encoded)["CertificateAuthority"]["CreatedAt"] == moment
    assert b"\xc1\xfb" in encoded


def test_no_output_shape_is_an_empty_body() -> None:
    assert PCA.result("RevokeCertificate", {}) == b""
    assert PCA.result("ListTags", {"Tags": []}) != b""


def test_null_members_are_kept_for_the_shared_null_removal() -> None:
    assert PCA.request("ListTags", cbor2.dumps({"NextToken": None})) == {"NextToken": None}


@pytest.mark.parametrize(
    "body",
    [b"\x9f", b"\xa0\xa0", cbor2.dumps({b"k": 1}), cbor2.dumps({"X": cbor2.CBORTag(77, 1)})],
)
def test_unreadable(body: bytes) -> None:
    with pytest.raises(RequestValidationError):
        PCA.request("ListTags", body)


def test_an_empty_body_is_an_empty_structure() -> None:
    assert decode(b"") == {}
