"""The JSON documents stored in a CA row: exact round trips, and a pinned format.

The pinned documents are what existing databases hold: if a model rename changes them, these
tests fail, and the rename needs a data migration (or a compatible reader) first.
"""

from __future__ import annotations

import json

import pytest

from pica.adapters.storage import documents
from pica.authority.model import (
    AccessDescription,
    AccessMethod,
    AccessMethodType,
    CaConfiguration,
    CrlConfiguration,
    CrlType,
    CsrExtensions,
    CustomAttribute,
    GeneralName,
    KeyAlgorithm,
    KeyUsageFlags,
    RevocationConfiguration,
    SigningAlgorithm,
    Subject,
)

from .test_store import full_configuration, full_revocation

PINNED_CONFIGURATION = CaConfiguration(
    KeyAlgorithm.EC_prime256v1,
    SigningAlgorithm.SHA256WITHECDSA,
    Subject(common_name="Example", custom_attributes=(CustomAttribute("1.2.3", "x"),)),
    CsrExtensions(
        key_usage=KeyUsageFlags(key_cert_sign=True, crl_sign=True),
        subject_information_access=(
            AccessDescription(
                AccessMethod(AccessMethodType.CA_REPOSITORY),
                GeneralName(uniform_resource_identifier="http://x"),
            ),
        ),
    ),
)
PINNED_CONFIGURATION_JSON = (
    '{"csr_extensions":{"key_usage":{"crl_sign":true,"data_encipherment":false,'
    '"decipher_only":false,"digital_signature":false,"encipher_only":false,'
    '"key_agreement":false,"key_cert_sign":true,"key_encipherment":false,'
    '"non_repudiation":false},"subject_information_access":[{"access_location":'
    '{"uniform_resource_identifier":"http://x"},"access_method":{"access_method_type":'
    '"CA_REPOSITORY"}}]},"key_algorithm":"EC_prime256v1","signing_algorithm":"SHA256WITHECDSA",'
    '"subject":{"common_name":"Example","custom_attributes":[{"object_identifier":"1.2.3",'
    '"value":"x"}]}}'
)
PINNED_REVOCATION = RevocationConfiguration(
    crl=CrlConfiguration(enabled=True, expiration_in_days=7, crl_type=CrlType.COMPLETE)
)
PINNED_REVOCATION_JSON = (
    '{"crl":{"crl_type":"COMPLETE","enabled":true,"expiration_in_days":7},"ocsp":{"enabled":false}}'
)


def test_every_member_round_trips() -> None:
    configuration = full_configuration()
    assert documents.load_ca_configuration(documents.dump_ca_configuration(configuration)) == (
        configuration
    )
    revocation = full_revocation()
    loaded = documents.load_revocation_configuration(
        documents.dump_revocation_configuration(revocation)
    )
    assert loaded == revocation


def test_defaults_round_trip() -> None:
    minimal = CaConfiguration(
        KeyAlgorithm.ML_DSA_65, SigningAlgorithm.ML_DSA_65, Subject(common_name="pq")
    )
    assert documents.load_ca_configuration(documents.dump_ca_configuration(minimal)) == minimal
    default = RevocationConfiguration()
    text = documents.dump_revocation_configuration(default)
    assert documents.load_revocation_configuration(text) == default


def test_the_stored_format_is_pinned() -> None:
    assert documents.dump_ca_configuration(PINNED_CONFIGURATION) == PINNED_CONFIGURATION_JSON
    assert documents.load_ca_configuration(PINNED_CONFIGURATION_JSON) == PINNED_CONFIGURATION
    assert documents.dump_revocation_configuration(PINNED_REVOCATION) == PINNED_REVOCATION_JSON
    assert documents.load_revocation_configuration(PINNED_REVOCATION_JSON) == PINNED_REVOCATION


def test_a_missing_optional_member_reads_as_its_default() -> None:
    # What a document written before a new optional field existed looks like.
    assert documents.load_revocation_configuration('{"crl":{"enabled":false}}') == (
        RevocationConfiguration()
    )


@pytest.mark.parametrize(
    "document",
    [
        '{"crl":{"enabled":true,"renamed_member":1}}',  # unknown member: never silently dropped
        '{"crl":{"enabled":1}}',  # an int where a bool belongs
        '{"crl":{"enabled":true,"expiration_in_days":true}}',  # a bool where an int belongs
        '{"crl":{"enabled":true,"crl_type":"NOT_A_TYPE"}}',
        '{"crl":[]}',
    ],
)
def test_a_corrupt_document_fails_loudly(document: str) -> None:
    json.loads(document)  # well-formed JSON: the codec, not the parser, must refuse it
    with pytest.raises(ValueError):
        documents.load_revocation_configuration(document)
