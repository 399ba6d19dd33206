"""Unit tests for the model-driven request validator (pica.wire.awsjson.validation)."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from pica.wire.awsjson.service_model import load_service_model
from pica.wire.awsjson.validation import (
    MAX_LISTED_VIOLATIONS,
    RequestValidationError,
    RequestValidator,
    compile_java_pattern,
    translate_java_pattern,
)

CA_ARN = (
    "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
    "12345678-1234-1234-1234-123456789012"
)
CSR_B64 = base64.b64encode(b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n").decode()
SIGNING_ALGORITHMS = (
    "SHA256WITHECDSA, SHA384WITHECDSA, SHA512WITHECDSA, SHA256WITHRSA, SHA384WITHRSA, "
    "SHA512WITHRSA, SHA256WITHRSA_PSS, SHA384WITHRSA_PSS, SHA512WITHRSA_PSS, SM3WITHSM2, "
    "ML_DSA_44, ML_DSA_65, ML_DSA_87"
)
ARN_PATTERN = r"arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]*:[\w+=,.@-]+(/[\w+=,.@-]+)*"


@pytest.fixture(scope="module")
def validator() -> RequestValidator:
    return RequestValidator(load_service_model())


def issue_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "CertificateAuthorityArn": CA_ARN,
        "Csr": CSR_B64,
        "SigningAlgorithm": "SHA256WITHRSA",
        "Validity": {"Value": 365, "Type": "DAYS"},
        "IdempotencyToken": "1234",
    }
    body.update(overrides)
    return body


def create_ca_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "CertificateAuthorityType": "ROOT",
        "CertificateAuthorityConfiguration": {
            "KeyAlgorithm": "EC_prime256v1",
            "SigningAlgorithm": "SHA256WITHECDSA",
            "Subject": {"CommonName": "Example Root CA", "Country": "US"},
        },
    }
    body.update(overrides)
    return body


def error_of(validator: RequestValidator, operation: str, params: object) -> RequestValidationError:
    with pytest.raises(RequestValidationError) as info:
        validator.validate(operation, params)
    return info.value


def validation_message(validator: RequestValidator, operation: str, params: object) -> str:
    error = error_of(validator, operation, params)
    assert error.code == "ValidationException", error.message
    return error.message


def serialization_message(validator: RequestValidator, operation: str, params: object) -> str:
    error = error_of(validator, operation, params)
    assert error.code == "SerializationException", error.message
    return error.message


# --- coverage of the model ------------------------------------------------------------------


def test_built_for_every_operation_of_the_model(validator: RequestValidator) -> None:
    model = load_service_model()
    # botocore 1.44.18: the 23 operations of 2017-08-22 and six replica/association ones.
    assert len(model.operation_names) == 29
    assert validator.operation_names == frozenset(model.operation_names)


def test_service_model_is_acm_pca_json() -> None:
    model = load_service_model()
    assert model is load_service_model()
    assert model.service_name == "acm-pca"
    assert model.signing_name == "acm-pca"
    assert model.metadata["targetPrefix"] == "ACMPrivateCA"
    assert model.resolved_protocol == "json"


def test_every_model_pattern_translates_and_compiles() -> None:
    model = load_service_model()
    patterns = {
        shape.metadata["pattern"]
        for name in model.shape_names
        if "pattern" in (shape := model.shape_for(name)).metadata
    }
    assert patterns
    for pattern in patterns:
        compile_java_pattern(pattern)


def test_unknown_operation_is_refused(validator: RequestValidator) -> None:
    error = error_of(validator, "ExplodeCertificateAuthority", {})
    assert error.code == "UnknownOperationException"


# --- valid bodies -----------------------------------------------------------------------------


def test_full_issue_certificate_body_is_accepted(validator: RequestValidator) -> None:
    validator.validate(
        "IssueCertificate",
        issue_body(
            TemplateArn="arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1",
            ValidityNotBefore={"Value": 1_700_000_000, "Type": "ABSOLUTE"},
            ApiPassthrough={
                "Subject": {
                    "CommonName": "www.example.com",
                    "Organization": "Example",
                    "SerialNumber": "ABC-123",
                    "CustomAttributes": [{"ObjectIdentifier": "2.5.4.3", "Value": "x"}],
                },
                "Extensions": {
                    "CertificatePolicies": [
                        {
                            "CertPolicyId": "2.23.140.1.2.1",
                            "PolicyQualifiers": [
                                {
                                    "PolicyQualifierId": "CPS",
                                    "Qualifier": {"CpsUri": "https://example.com/cps"},
                                }
                            ],
                        }
                    ],
                    "ExtendedKeyUsage": [
                        {"ExtendedKeyUsageType": "SERVER_AUTH"},
                        {"ExtendedKeyUsageObjectIdentifier": "1.3.6.1.5.5.7.3.2"},
                    ],
                    "KeyUsage": {"DigitalSignature": True, "KeyEncipherment": False},
                    "SubjectAlternativeNames": [
                        {"DnsName": "www.example.com"},
                        {"IpAddress": "192.0.2.1"},
                        {"Rfc822Name": "admin@example.com"},
                        {"OtherName": {"TypeId": "1.3.6.1.4.1.311.20.2.3", "Value": "u@x"}},
                        {"DirectoryName": {"CommonName": "dir"}},
                        {"EdiPartyName": {"PartyName": "party"}},
                        {"RegisteredId": "1.2.3.4"},
                    ],
                    "CustomExtensions": [
                        {"ObjectIdentifier": "1.2.3.4.5", "Value": "BQA=", "Critical": True}
                    ],
                },
            },
        ),
    )


def test_full_create_certificate_authority_body_is_accepted(validator: RequestValidator) -> None:
    validator.validate(
        "CreateCertificateAuthority",
        create_ca_body(
            CertificateAuthorityConfiguration={
                "KeyAlgorithm": "RSA_2048",
                "SigningAlgorithm": "SHA256WITHRSA",
                "Subject": {
                    "Country": "US",
                    "Organization": "Example Corp",
                    "OrganizationalUnit": "PKI",
                    "State": "WA",
                    "Locality": "Seattle",
                    "CommonName": "Example Root CA",
                    "DistinguishedNameQualifier": "qualifier",
                },
                "CsrExtensions": {
                    "KeyUsage": {"KeyCertSign": True, "CRLSign": True},
                    "SubjectInformationAccess": [
                        {
                            "AccessMethod": {"AccessMethodType": "CA_REPOSITORY"},
                            "AccessLocation": {"UniformResourceIdentifier": "https://x/repo"},
                        }
                    ],
                },
            },
            RevocationConfiguration={
                "CrlConfiguration": {
                    "Enabled": True,
                    "ExpirationInDays": 7,
                    "CustomCname": "crl.example.com",
                    "S3BucketName": "my-crl-bucket",
                    "S3ObjectAcl": "BUCKET_OWNER_FULL_CONTROL",
                    "CrlDistributionPointExtensionConfiguration": {"OmitExtension": False},
                    "CrlType": "COMPLETE",
                    "CustomPath": "crls/root",
                },
                "OcspConfiguration": {"Enabled": True, "OcspCustomCname": "ocsp.example.com"},
            },
            IdempotencyToken="create-1",
            KeyStorageSecurityStandard="FIPS_140_2_LEVEL_3_OR_HIGHER",
            Tags=[{"Key": "team", "Value": "pki"}, {"Key": "env"}],
            UsageMode="GENERAL_PURPOSE",
        ),
    )


def test_operation_without_arguments_accepts_empty_object(validator: RequestValidator) -> None:
    validator.validate("ListCertificateAuthorities", {})
    validator.validate("ListCertificateAuthorities", {"MaxResults": 1000, "ResourceOwner": "SELF"})


def test_unknown_members_are_ignored(validator: RequestValidator) -> None:
    validator.validate("IssueCertificate", issue_body(Bogus={"x": [1, 2]}, Validity2="nope"))


def test_null_optional_member_counts_as_absent(validator: RequestValidator) -> None:
    validator.validate("IssueCertificate", issue_body(TemplateArn=None, ApiPassthrough=None))


def test_tag_key_with_unicode_letters_numbers_and_spaces_is_accepted(
    validator: RequestValidator,
) -> None:
    tags = [
        {"Key": "Ünïcödé 名前", "Value": "значение ٣ four"},
        {"Key": "κλειδί_.:/=+-@", "Value": "\u3000ideographic space"},
        {"Key": "x", "Value": ""},
    ]
    validator.validate("TagCertificateAuthority", {"CertificateAuthorityArn": CA_ARN, "Tags": tags})


# --- constraint violations and the exact message format --------------------------------------


def test_enum_violation_message(validator: RequestValidator) -> None:
    message = validation_message(
        validator, "IssueCertificate", issue_body(SigningAlgorithm="SOMETHING")
    )
    assert message == (
        "1 validation error detected: Value 'SOMETHING' at 'signingAlgorithm' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{SIGNING_ALGORITHMS}]"
    )


def test_two_violations_are_joined_by_semicolon(validator: RequestValidator) -> None:
    message = validation_message(
        validator,
        "IssueCertificate",
        issue_body(SigningAlgorithm="SOMETHING", IdempotencyToken="x" * 37),
    )
    assert message == (
        "2 validation errors detected: Value 'SOMETHING' at 'signingAlgorithm' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{SIGNING_ALGORITHMS}]; "
        f"Value '{'x' * 37}' at 'idempotencyToken' failed to satisfy constraint: "
        "Member must have length less than or equal to 36"
    )


def test_max_length_nested(validator: RequestValidator) -> None:
    body = create_ca_body()
    body["CertificateAuthorityConfiguration"]["Subject"]["CommonName"] = "c" * 65
    message = validation_message(validator, "CreateCertificateAuthority", body)
    assert message == (
        f"1 validation error detected: Value '{'c' * 65}' at "
        "'certificateAuthorityConfiguration.subject.commonName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64"
    )


def test_length_is_counted_in_characters_not_bytes(validator: RequestValidator) -> None:
    body = create_ca_body()
    body["CertificateAuthorityConfiguration"]["Subject"]["CommonName"] = "é" * 64
    validator.validate("CreateCertificateAuthority", body)


def test_min_length(validator: RequestValidator) -> None:
    message = validation_message(
        validator, "DescribeCertificateAuthority", {"CertificateAuthorityArn": "arn"}
    )
    assert message == (
        "2 validation errors detected: Value 'arn' at 'certificateAuthorityArn' failed to "
        "satisfy constraint: Member must have length greater than or equal to 5; "
        "Value 'arn' at 'certificateAuthorityArn' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {ARN_PATTERN}"
    )


def test_arn_pattern_violation(validator: RequestValidator) -> None:
    message = validation_message(
        validator, "DescribeCertificateAuthority", {"CertificateAuthorityArn": "not-an-arn-at-all"}
    )
    assert message == (
        "1 validation error detected: Value 'not-an-arn-at-all' at 'certificateAuthorityArn' "
        f"failed to satisfy constraint: Member must satisfy regular expression pattern: "
        f"{ARN_PATTERN}"
    )


def test_pattern_must_match_the_whole_string(validator: RequestValidator) -> None:
    with pytest.raises(RequestValidationError):
        validator.validate(
            "DescribeCertificateAuthority", {"CertificateAuthorityArn": CA_ARN + " "}
        )
    with pytest.raises(RequestValidationError):
        validator.validate(
            "DescribeCertificateAuthorityAuditReport",
            {
                "CertificateAuthorityArn": CA_ARN,
                "AuditReportId": "12345678-1234-1234-1234-12345678901\n",
            },
        )


def test_java_word_class_is_ascii_only(validator: RequestValidator) -> None:
    """Java's \\w is [a-zA-Z0-9_]; Python's would also match 'é' unless translated."""
    arn = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/caf\u00e9"
    with pytest.raises(RequestValidationError):
        validator.validate("DescribeCertificateAuthority", {"CertificateAuthorityArn": arn})


def test_required_missing_top_level(validator: RequestValidator) -> None:
    message = validation_message(validator, "IssueCertificate", {})
    assert message == (
        "4 validation errors detected: "
        "Value null at 'certificateAuthorityArn' failed to satisfy constraint: "
        "Member must not be null; "
        "Value null at 'csr' failed to satisfy constraint: Member must not be null; "
        "Value null at 'signingAlgorithm' failed to satisfy constraint: Member must not be null; "
        "Value null at 'validity' failed to satisfy constraint: Member must not be null"
    )


def test_required_missing_nested(validator: RequestValidator) -> None:
    body = create_ca_body()
    del body["CertificateAuthorityConfiguration"]["Subject"]
    message = validation_message(validator, "CreateCertificateAuthority", body)
    assert message == (
        "1 validation error detected: Value null at 'certificateAuthorityConfiguration.subject' "
        "failed to satisfy constraint: Member must not be null"
    )


def test_required_given_as_null(validator: RequestValidator) -> None:
    message = validation_message(validator, "IssueCertificate", issue_body(Csr=None))
    assert message == (
        "1 validation error detected: Value null at 'csr' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_required_inside_list_element(validator: RequestValidator) -> None:
    message = validation_message(
        validator,
        "TagCertificateAuthority",
        {"CertificateAuthorityArn": CA_ARN, "Tags": [{"Key": "a"}, {"Value": "v"}]},
    )
    assert message == (
        "1 validation error detected: Value null at 'tags.2.member.key' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_list_too_long_tags(validator: RequestValidator) -> None:
    tags = [{"Key": f"k{i}"} for i in range(51)]
    message = validation_message(
        validator, "TagCertificateAuthority", {"CertificateAuthorityArn": CA_ARN, "Tags": tags}
    )
    assert message.startswith("1 validation error detected: Value '[{Key=k0}, {Key=k1}, ")
    assert message.endswith(
        "{Key=k50}]' at 'tags' failed to satisfy constraint: "
        "Member must have length less than or equal to 50"
    )


def test_list_too_long_actions(validator: RequestValidator) -> None:
    actions = ["IssueCertificate", "GetCertificate", "ListPermissions", "IssueCertificate"] * 2
    message = validation_message(
        validator,
        "CreatePermission",
        {"CertificateAuthorityArn": CA_ARN, "Principal": "acm.amazonaws.com", "Actions": actions},
    )
    assert message == (
        "1 validation error detected: Value '[IssueCertificate, GetCertificate, ListPermissions, "
        "IssueCertificate, IssueCertificate, GetCertificate, ListPermissions, "
        "IssueCertificate]' at 'actions' failed to satisfy constraint: "
        "Member must have length less than or equal to 4"
    )


def test_empty_list_below_minimum(validator: RequestValidator) -> None:
    message = validation_message(
        validator, "TagCertificateAuthority", {"CertificateAuthorityArn": CA_ARN, "Tags": []}
    )
    assert message == (
        "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def test_enum_inside_list_uses_member_path(validator: RequestValidator) -> None:
    message = validation_message(
        validator,
        "CreatePermission",
        {"CertificateAuthorityArn": CA_ARN, "Principal": "acm.amazonaws.com", "Actions": ["Nope"]},
    )
    assert message == (
        "1 validation error detected: Value 'Nope' at 'actions.1.member' failed to satisfy "
        "constraint: Member must satisfy enum value set: "
        "[IssueCertificate, GetCertificate, ListPermissions, "
        "CreateCertificateAuthorityAssociation, DescribeCertificateAuthority, "
        "GetCertificateAuthorityCertificate, DeleteCertificateAuthorityAssociation]"
    )


def test_deep_list_path(validator: RequestValidator) -> None:
    passthrough = {
        "Extensions": {"SubjectAlternativeNames": [{"DnsName": "a"}, {"DnsName": "d" * 254}]}
    }
    message = validation_message(
        validator, "IssueCertificate", issue_body(ApiPassthrough=passthrough)
    )
    assert message == (
        f"1 validation error detected: Value '{'d' * 254}' at "
        "'apiPassthrough.extensions.subjectAlternativeNames.2.member.dnsName' failed to "
        "satisfy constraint: Member must have length less than or equal to 253"
    )


def test_null_list_element(validator: RequestValidator) -> None:
    message = validation_message(
        validator, "TagCertificateAuthority", {"CertificateAuthorityArn": CA_ARN, "Tags": [None]}
    )
    assert message == (
        "1 validation error detected: Value null at 'tags.1.member' failed to satisfy "
        "constraint: Member must not be null"
    )


@pytest.mark.parametrize(
    ("days", "constraint"),
    [
        (31, "Member must have value less than or equal to 30"),
        (6, "Member must have value greater than or equal to 7"),
    ],
)
def test_permanent_deletion_time_range(
    validator: RequestValidator, days: int, constraint: str
) -> None:
    message = validation_message(
        validator,
        "DeleteCertificateAuthority",
        {"CertificateAuthorityArn": CA_ARN, "PermanentDeletionTimeInDays": days},
    )
    assert message == (
        f"1 validation error detected: Value '{days}' at 'permanentDeletionTimeInDays' failed "
        f"to satisfy constraint: {constraint}"
    )


@pytest.mark.parametrize(
    ("max_results", "constraint"),
    [
        (0, "Member must have value greater than or equal to 1"),
        (1001, "Member must have value less than or equal to 1000"),
    ],
)
def test_max_results_range(validator: RequestValidator, max_results: int, constraint: str) -> None:
    message = validation_message(
        validator, "ListCertificateAuthorities", {"MaxResults": max_results}
    )
    assert message == (
        f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy "
        f"constraint: {constraint}"
    )


def test_number_range_bounds_are_inclusive(validator: RequestValidator) -> None:
    for days in (7, 30):
        validator.validate(
            "DeleteCertificateAuthority",
            {"CertificateAuthorityArn": CA_ARN, "PermanentDeletionTimeInDays": days},
        )


def test_violations_listed_are_capped_but_counted(validator: RequestValidator) -> None:
    tags = [{"Key": f"bad*{i}"} for i in range(MAX_LISTED_VIOLATIONS + 2)]
    message = validation_message(
        validator, "TagCertificateAuthority", {"CertificateAuthorityArn": CA_ARN, "Tags": tags}
    )
    assert message.startswith(f"{MAX_LISTED_VIOLATIONS + 2} validation errors detected: ")
    assert message.count("failed to satisfy constraint") == MAX_LISTED_VIOLATIONS
    assert "'tags.10.member.key'" in message
    assert "'tags.11.member.key'" not in message


# --- deserialization failures (wrong JSON types, bad base64) ---------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "Start of list found where not expected"),
        ([{"CertificateAuthorityArn": CA_ARN}], "Start of list found where not expected"),
        ("{}", "The request body must be a JSON object, found a string"),
        (None, "The request body must be a JSON object, found null"),
        (3, "The request body must be a JSON object, found a number"),
    ],
)
def test_body_that_is_not_an_object(
    validator: RequestValidator, body: object, message: str
) -> None:
    assert serialization_message(validator, "ListCertificateAuthorities", body) == message


@pytest.mark.parametrize(
    ("operation", "params", "path"),
    [
        ("IssueCertificate", issue_body(Validity="365 DAYS"), "validity"),
        (
            "IssueCertificate",
            issue_body(Validity={"Value": "365", "Type": "DAYS"}),
            "validity.value",
        ),
        (
            "IssueCertificate",
            issue_body(Validity={"Value": 365.5, "Type": "DAYS"}),
            "validity.value",
        ),
        (
            "IssueCertificate",
            issue_body(Validity={"Value": True, "Type": "DAYS"}),
            "validity.value",
        ),
        ("IssueCertificate", issue_body(SigningAlgorithm=1), "signingAlgorithm"),
        ("IssueCertificate", issue_body(Csr=["QUJD"]), "csr"),
        ("ListCertificateAuthorities", {"MaxResults": True}, "maxResults"),
        ("ListCertificateAuthorities", {"MaxResults": "10"}, "maxResults"),
        (
            "CreatePermission",
            {"CertificateAuthorityArn": CA_ARN, "Principal": "p", "Actions": "IssueCertificate"},
            "actions",
        ),
        (
            "CreatePermission",
            {"CertificateAuthorityArn": CA_ARN, "Principal": "p", "Actions": [{"a": 1}]},
            "actions.1.member",
        ),
        (
            "TagCertificateAuthority",
            {"CertificateAuthorityArn": CA_ARN, "Tags": [{"Key": 5}]},
            "tags.1.member.key",
        ),
        (
            "UpdateCertificateAuthority",
            {
                "CertificateAuthorityArn": CA_ARN,
                "RevocationConfiguration": {"OcspConfiguration": {"Enabled": 1}},
            },
            "revocationConfiguration.ocspConfiguration.enabled",
        ),
        (
            "UpdateCertificateAuthority",
            {
                "CertificateAuthorityArn": CA_ARN,
                "RevocationConfiguration": {"CrlConfiguration": {"Enabled": "true"}},
            },
            "revocationConfiguration.crlConfiguration.enabled",
        ),
    ],
)
def test_wrong_json_type_names_the_member(
    validator: RequestValidator, operation: str, params: object, path: str
) -> None:
    message = serialization_message(validator, operation, params)
    assert f"'{path}'" in message


def test_long_outside_java_range_does_not_deserialize(validator: RequestValidator) -> None:
    message = serialization_message(
        validator, "IssueCertificate", issue_body(Validity={"Value": 2**63, "Type": "DAYS"})
    )
    assert "'validity.value'" in message
    assert "out of range of long" in message
    validator.validate(
        "IssueCertificate", issue_body(Validity={"Value": 2**63 - 1, "Type": "DAYS"})
    )


def test_integer_outside_java_range_does_not_deserialize(validator: RequestValidator) -> None:
    message = serialization_message(validator, "ListCertificateAuthorities", {"MaxResults": 2**31})
    assert "out of range of int" in message


def test_type_error_wins_over_collected_violations(validator: RequestValidator) -> None:
    error = error_of(
        validator, "IssueCertificate", issue_body(SigningAlgorithm="BOGUS", Validity=[])
    )
    assert error.code == "SerializationException"


@pytest.mark.parametrize(
    "csr",
    [
        "not base64!",
        "QUI",  # missing padding
        "QUJD\nQUJD",  # line breaks are not standard base64
        "QUI==",  # excess padding
        "QUJD-_==",  # URL-safe alphabet
        "Q\u00dcJD",  # non-ASCII
    ],
)
def test_invalid_base64_blob(validator: RequestValidator, csr: str) -> None:
    message = serialization_message(validator, "IssueCertificate", issue_body(Csr=csr))
    assert "'csr'" in message
    assert "base64" in message


def test_blob_length_is_measured_after_decoding(validator: RequestValidator) -> None:
    exactly_max = base64.b64encode(b"\0" * 32768).decode()
    assert len(exactly_max) > 32768  # the encoded form alone would already be too long
    validator.validate("IssueCertificate", issue_body(Csr=exactly_max))

    too_long = base64.b64encode(b"\0" * 32769).decode()
    message = validation_message(validator, "IssueCertificate", issue_body(Csr=too_long))
    assert message == (
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=32769 cap=32769]' "
        "at 'csr' failed to satisfy constraint: "
        "Member must have length less than or equal to 32768"
    )


def test_empty_blob_below_minimum(validator: RequestValidator) -> None:
    message = validation_message(
        validator,
        "ImportCertificateAuthorityCertificate",
        {"CertificateAuthorityArn": CA_ARN, "Certificate": ""},
    )
    assert message == (
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=0 cap=0]' at "
        "'certificate' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def test_empty_chain_blob_is_allowed(validator: RequestValidator) -> None:
    validator.validate(
        "ImportCertificateAuthorityCertificate",
        {"CertificateAuthorityArn": CA_ARN, "Certificate": CSR_B64, "CertificateChain": ""},
    )


# --- pattern translation ----------------------------------------------------------------------


def test_translation_of_unicode_properties() -> None:
    regex = compile_java_pattern(r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)")
    for good in ("abc", "Ünïcödé", "名前", "ελληνικά", "\u00a0", "٣", "Ⅻ", "a_b.c:d/e=f+g-h@i", ""):
        assert regex.fullmatch(good), good
    for bad in ("*", "a*b", "\t", "!", "#", "😀", "\u0301"):
        assert regex.fullmatch(bad) is None, bad


def test_translation_outside_a_class_and_negated() -> None:
    assert re.fullmatch(translate_java_pattern(r"\p{Lu}+"), "ÀB")
    assert re.fullmatch(translate_java_pattern(r"\p{Lu}+"), "Àb") is None
    assert re.fullmatch(translate_java_pattern(r"\P{N}+"), "abc")
    assert re.fullmatch(translate_java_pattern(r"\P{N}+"), "a1") is None


def test_translation_refuses_what_it_cannot_express() -> None:
    with pytest.raises(ValueError, match="nested"):
        translate_java_pattern(r"[a-z[0-9]]")
    with pytest.raises(ValueError, match="unsupported"):
        translate_java_pattern(r"[\P{L}]")
    with pytest.raises(ValueError, match="unsupported"):
        translate_java_pattern(r"\p{Qq}")


def test_escaped_backslash_before_p_is_not_a_property() -> None:
    assert translate_java_pattern(r"\\p{L}") == r"\\p{L}"


def test_rendering_a_deeply_nested_value_does_not_recurse_without_bound(
    validator: RequestValidator,
) -> None:
    deep: object = "leaf"
    for _ in range(5000):
        deep = [deep]
    tags = [{"Key": "k", "Extra": deep}] * 51
    message = validation_message(
        validator, "TagCertificateAuthority", {"CertificateAuthorityArn": CA_ARN, "Tags": tags}
    )
    assert "{Key=k, Extra=[[[...]]]}" in message
