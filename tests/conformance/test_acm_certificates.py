"""ACM private certificates on pica: RequestCertificate through the issuance path, Describe,
List, Get, Export (with the key), Import, Delete, tags, account configuration, isolation.

Everything goes through boto3's `acm` client (and the aws CLI for the documented flow) against
the session's live server.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.acm import acm_client, grant_acm_renewal
from tests.support.pki import activate_root, create_ca, new_constrained_root, new_root
from tests.support.server import LiveServer

ARN = re.compile(
    r"arn:aws:acm:us-east-1:\d{12}:certificate/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
PASSPHRASE = b"correct horse battery"


@pytest.fixture(scope="module")
def acm(server: LiveServer) -> Any:
    return acm_client(server)


@pytest.fixture(scope="module")
def other_acm(server: LiveServer) -> Any:
    _, key, secret = server.new_account()
    return acm_client(server, key, secret)


def request(acm: Any, ca_arn: str, domain: str = "www.example.com", **extra: Any) -> str:
    arn: str = acm.request_certificate(DomainName=domain, CertificateAuthorityArn=ca_arn, **extra)[
        "CertificateArn"
    ]
    return arn


def issued(acm: Any, ca_arn: str, domain: str = "www.example.com", **extra: Any) -> str:
    arn = request(acm, ca_arn, domain, **extra)
    acm.get_waiter("certificate_validated").wait(
        CertificateArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    return arn


def describe(acm: Any, arn: str) -> dict[str, Any]:
    detail: dict[str, Any] = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    return detail


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    code: str = excinfo.value.response["Error"]["Code"]
    return code


def self_signed(common_name: str, key: Any | None = None) -> tuple[Any, x509.Certificate]:
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    return key, certificate


def pem(key: Any) -> bytes:
    data: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return data


# --- RequestCertificate ---------------------------------------------------------------------


def test_request_issues_through_the_ca(acm: Any, pca: Any, rsa_root_ca: str) -> None:
    arn = issued(acm, rsa_root_ca, "www.example.com", SubjectAlternativeNames=["api.example.com"])
    assert ARN.fullmatch(arn)
    detail = describe(acm, arn)
    assert detail["Status"] == "ISSUED"
    assert detail["Type"] == "PRIVATE"
    assert detail["KeyAlgorithm"] == "RSA_2048"
    assert detail["CertificateAuthorityArn"] == rsa_root_ca
    assert detail["DomainName"] == "www.example.com"
    assert detail["SubjectAlternativeNames"] == ["www.example.com", "api.example.com"]
    assert detail["Subject"] == "CN=www.example.com"
    assert detail["RenewalEligibility"] == "INELIGIBLE"
    assert {"Name": "TLS_WEB_SERVER_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.1"} in detail[
        "ExtendedKeyUsages"
    ]

    got = acm.get_certificate(CertificateArn=arn)
    certificate = x509.load_pem_x509_certificate(got["Certificate"].encode())
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "www.example.com"
    )
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.example.com", "api.example.com"]
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(certificate.public_key(), rsa.RSAPublicKey)
    lifetime = certificate.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=394) < lifetime <= dt.timedelta(days=395)
    serial = detail["Serial"].replace(":", "")
    assert int(serial, 16) == certificate.serial_number

    # The very certificate IssueCertificate's path stored: ACM PCA serves it too.
    pca_arn = f"{rsa_root_ca}/certificate/{certificate.serial_number:x}"
    same = pca.get_certificate(CertificateAuthorityArn=rsa_root_ca, CertificateArn=pca_arn)
    assert same["Certificate"] == got["Certificate"]
    assert got["CertificateChain"] == same["CertificateChain"]


@pytest.mark.parametrize(
    ("algorithm", "curve"), [("EC_prime256v1", "secp256r1"), ("EC_secp384r1", "secp384r1")]
)
def test_request_with_an_ec_key(acm: Any, root_ca: str, algorithm: str, curve: str) -> None:
    arn = issued(acm, root_ca, "ec.example.com", KeyAlgorithm=algorithm)
    assert describe(acm, arn)["KeyAlgorithm"] == algorithm
    key = x509.load_pem_x509_certificate(
        acm.get_certificate(CertificateArn=arn)["Certificate"].encode()
    ).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == curve


@pytest.mark.parametrize("algorithm", ["RSA_1024", "RSA_3072", "RSA_4096", "EC_secp521r1"])
def test_key_algorithms_for_imports_only_are_refused(
    acm: Any, root_ca: str, algorithm: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        request(acm, root_ca, KeyAlgorithm=algorithm)
    assert code_of(excinfo) == "InvalidParameterException"
    assert algorithm in excinfo.value.response["Error"]["Message"]


def test_a_public_certificate_is_refused_clearly(acm: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        acm.request_certificate(DomainName="www.example.com", ValidationMethod="DNS")
    assert code_of(excinfo) == "InvalidParameterException"
    assert "private certificates only" in excinfo.value.response["Error"]["Message"]


def test_idempotency_token_replays_the_first_certificate(acm: Any, root_ca: str) -> None:
    token = uuid.uuid4().hex[:32]
    first = request(acm, root_ca, IdempotencyToken=token)
    assert request(acm, root_ca, IdempotencyToken=token) == first
    assert request(acm, root_ca, IdempotencyToken=token[::-1]) != first


def test_a_disabled_ca_gives_failed_pca_invalid_state(acm: Any, pca: Any) -> None:
    ca = create_ca(pca, common_name="pica acm disabled")
    activate_root(pca, ca, "SHA256WITHECDSA")
    pca.update_certificate_authority(CertificateAuthorityArn=ca, Status="DISABLED")
    arn = request(acm, ca)
    with pytest.raises(WaiterError):
        acm.get_waiter("certificate_validated").wait(
            CertificateArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 3}
        )
    detail = describe(acm, arn)
    assert detail["Status"] == "FAILED"
    assert detail["FailureReason"] == "PCA_INVALID_STATE"
    with pytest.raises(ClientError) as excinfo:
        acm.get_certificate(CertificateArn=arn)
    assert code_of(excinfo) == "ValidationException"


def test_an_unknown_ca_gives_failed_pca_resource_not_found(acm: Any, root_ca: str) -> None:
    unknown = root_ca.rsplit("/", 1)[0] + f"/{uuid.uuid4()}"
    detail = describe(acm, request(acm, unknown))
    assert (detail["Status"], detail["FailureReason"]) == ("FAILED", "PCA_RESOURCE_NOT_FOUND")


def test_another_accounts_ca_gives_failed_pca_access_denied(other_acm: Any, root_ca: str) -> None:
    detail = describe(other_acm, request(other_acm, root_ca))
    assert (detail["Status"], detail["FailureReason"]) == ("FAILED", "PCA_ACCESS_DENIED")


def test_a_ca_ending_before_the_validity_gives_pca_invalid_duration(acm: Any, pca: Any) -> None:
    ca = create_ca(pca, common_name="pica acm short-lived root")
    activate_root(pca, ca, "SHA256WITHECDSA", years=1)  # 365 days < 395
    detail = describe(acm, request(acm, ca))
    assert (detail["Status"], detail["FailureReason"]) == ("FAILED", "PCA_INVALID_DURATION")


def test_name_constraints_give_pca_name_constraints_validation(acm: Any, pca: Any) -> None:
    ca = new_constrained_root(
        pca,
        x509.NameConstraints(
            permitted_subtrees=[x509.DNSName("example.com")], excluded_subtrees=None
        ),
        "pica acm constrained root",
    )
    assert describe(acm, issued(acm, ca, "ok.example.com"))["Status"] == "ISSUED"
    detail = describe(acm, request(acm, ca, "www.evil.com"))
    assert detail["Status"] == "FAILED"
    assert detail["FailureReason"] == "PCA_NAME_CONSTRAINTS_VALIDATION"


# --- Export ---------------------------------------------------------------------------------


def test_export_returns_the_key_encrypted_and_makes_it_eligible(acm: Any, root_ca: str) -> None:
    arn = issued(acm, root_ca, "export.example.com", KeyAlgorithm="EC_prime256v1")
    exported = acm.export_certificate(CertificateArn=arn, Passphrase=PASSPHRASE)
    assert "ENCRYPTED PRIVATE KEY" in exported["PrivateKey"]
    key = serialization.load_pem_private_key(exported["PrivateKey"].encode(), PASSPHRASE)
    certificate = x509.load_pem_x509_certificate(exported["Certificate"].encode())
    assert key.public_key() == certificate.public_key()
    assert exported["CertificateChain"]
    detail = describe(acm, arn)
    assert detail["RenewalEligibility"] == "ELIGIBLE"
    listed = acm.list_certificates(Includes={"keyTypes": ["EC_prime256v1"]})
    summary = next(s for s in listed["CertificateSummaryList"] if s["CertificateArn"] == arn)
    assert summary["Exported"] is True


def test_export_passphrase_length_is_checked(acm: Any, root_ca: str) -> None:
    arn = issued(acm, root_ca, "short.example.com", KeyAlgorithm="EC_prime256v1")
    for passphrase in (b"abc", b"x" * 129):
        with pytest.raises(ClientError) as excinfo:
            acm.export_certificate(CertificateArn=arn, Passphrase=passphrase)
        assert code_of(excinfo) == "ValidationException"


def test_cli_request_wait_export_and_openssl_decrypts(
    server: LiveServer, rsa_root_ca: str, tmp_path: Path
) -> None:
    arn = server.aws(
        "acm",
        "request-certificate",
        "--domain-name",
        "cli.example.com",
        "--certificate-authority-arn",
        rsa_root_ca,
    )["CertificateArn"]
    server.aws("acm", "wait", "certificate-validated", "--certificate-arn", arn)
    (tmp_path / "passphrase").write_bytes(PASSPHRASE)
    exported = server.aws(
        "acm",
        "export-certificate",
        "--certificate-arn",
        arn,
        "--passphrase",
        f"fileb://{tmp_path / 'passphrase'}",
    )
    (tmp_path / "key.pem").write_text(exported["PrivateKey"])
    (tmp_path / "cert.pem").write_text(exported["Certificate"])
    (tmp_path / "chain.pem").write_text(exported["CertificateChain"])

    def openssl(*args: str) -> str:
        return subprocess.run(
            ["openssl", *args], check=True, capture_output=True, text=True, cwd=tmp_path
        ).stdout

    key_public = openssl(
        "pkey", "-in", "key.pem", "-passin", f"pass:{PASSPHRASE.decode()}", "-pubout"
    )
    cert_public = openssl("x509", "-in", "cert.pem", "-noout", "-pubkey")
    assert key_public == cert_public
    assert "cert.pem: OK" in openssl("verify", "-CAfile", "chain.pem", "cert.pem")


# --- List, Get, Delete, tags ------------------------------------------------------------------


@pytest.fixture(scope="module")
def lister(server: LiveServer, pca: Any) -> tuple[Any, dict[str, str]]:
    """A fresh account with its own CA and three certificates: two RSA (one FAILED), one EC."""
    _, key, secret = server.new_account()
    own_pca = server.client(key, secret)
    client = acm_client(server, key, secret)
    ca = create_ca(own_pca, key_algorithm="RSA_2048", signing_algorithm="SHA256WITHRSA")
    activate_root(own_pca, ca, "SHA256WITHRSA")
    arns = {
        "rsa": issued(client, ca, "one.example.com"),
        "ec": issued(client, ca, "two.example.com", KeyAlgorithm="EC_secp384r1"),
        "failed": request(client, ca.rsplit("/", 1)[0] + f"/{uuid.uuid4()}"),
        "rsa2": issued(client, ca, "three.example.com"),
    }
    return client, arns


def test_list_shows_rsa_2048_by_default(lister: tuple[Any, dict[str, str]]) -> None:
    client, arns = lister
    listed = [s["CertificateArn"] for s in client.list_certificates()["CertificateSummaryList"]]
    assert listed == [arns["rsa"], arns["failed"], arns["rsa2"]]


def test_list_filters_by_status_and_key_type(lister: tuple[Any, dict[str, str]]) -> None:
    client, arns = lister
    summaries = client.list_certificates(
        CertificateStatuses=["ISSUED"], Includes={"keyTypes": ["RSA_2048", "EC_secp384r1"]}
    )["CertificateSummaryList"]
    assert [s["CertificateArn"] for s in summaries] == [arns["rsa"], arns["ec"], arns["rsa2"]]
    ec_only = client.list_certificates(Includes={"keyTypes": ["EC_secp384r1"]})
    assert [s["CertificateArn"] for s in ec_only["CertificateSummaryList"]] == [arns["ec"]]
    summary = ec_only["CertificateSummaryList"][0]
    assert summary["Status"] == "ISSUED" and summary["Type"] == "PRIVATE"
    assert "TLS_WEB_CLIENT_AUTHENTICATION" in summary["ExtendedKeyUsages"]
    failed = client.list_certificates(CertificateStatuses=["FAILED"])["CertificateSummaryList"]
    assert [s["CertificateArn"] for s in failed] == [arns["failed"]]
    imported = client.list_certificates(CertificateKeyPairOrigins=["CUSTOMER_PROVIDED"])
    assert imported["CertificateSummaryList"] == []
    managed = client.list_certificates(CertificateKeyPairOrigins=["AWS_MANAGED"])
    assert len(managed["CertificateSummaryList"]) == 3


def test_list_filters_by_extended_key_usage(lister: tuple[Any, dict[str, str]]) -> None:
    client, arns = lister
    code_signing = client.list_certificates(Includes={"extendedKeyUsage": ["CODE_SIGNING"]})
    assert code_signing["CertificateSummaryList"] == []
    server_auth = client.list_certificates(
        Includes={"extendedKeyUsage": ["TLS_WEB_SERVER_AUTHENTICATION"]}
    )
    assert [s["CertificateArn"] for s in server_auth["CertificateSummaryList"]] == [
        arns["rsa"],
        arns["rsa2"],
    ]


def test_list_sorts_and_pages(lister: tuple[Any, dict[str, str]]) -> None:
    client, arns = lister
    newest_first = client.list_certificates(SortBy="CREATED_AT", SortOrder="DESCENDING")
    assert [s["CertificateArn"] for s in newest_first["CertificateSummaryList"]] == [
        arns["rsa2"],
        arns["failed"],
        arns["rsa"],
    ]
    first = client.list_certificates(MaxItems=2)
    assert len(first["CertificateSummaryList"]) == 2
    second = client.list_certificates(MaxItems=2, NextToken=first["NextToken"])
    assert [s["CertificateArn"] for s in second["CertificateSummaryList"]] == [arns["rsa2"]]
    assert "NextToken" not in second
    paged = [
        s["CertificateArn"]
        for page in client.get_paginator("list_certificates").paginate(
            PaginationConfig={"PageSize": 1}
        )
        for s in page["CertificateSummaryList"]
    ]
    assert paged == [arns["rsa"], arns["failed"], arns["rsa2"]]
    with pytest.raises(ClientError) as excinfo:
        client.list_certificates(NextToken="not-a-token")
    assert code_of(excinfo) == "InvalidArgsException"


def test_tags_are_added_listed_and_removed(acm: Any, root_ca: str) -> None:
    arn = issued(acm, root_ca, Tags=[{"Key": "team", "Value": "pki"}])
    acm.add_tags_to_certificate(
        CertificateArn=arn, Tags=[{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "sec"}]
    )
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == [
        {"Key": "team", "Value": "sec"},
        {"Key": "env", "Value": "test"},
    ]
    acm.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": "team"}])
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == [
        {"Key": "env", "Value": "test"}
    ]
    with pytest.raises(ClientError) as excinfo:
        acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "aws:reserved"}])
    assert code_of(excinfo) == "InvalidTagException"


def test_delete_removes_the_certificate(acm: Any, root_ca: str) -> None:
    arn = issued(acm, root_ca, "gone.example.com")
    acm.delete_certificate(CertificateArn=arn)
    for call in (acm.describe_certificate, acm.get_certificate, acm.delete_certificate):
        with pytest.raises(ClientError) as excinfo:
            call(CertificateArn=arn)
        assert code_of(excinfo) == "ResourceNotFoundException"


def test_a_malformed_arn_is_invalid_arn(acm: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        acm.describe_certificate(CertificateArn="arn:aws:acm:us-east-1:123456789012:thing/x")
    assert code_of(excinfo) == "InvalidArnException"


def test_account_configuration_round_trips(server: LiveServer) -> None:
    _, key, secret = server.new_account()
    client = acm_client(server, key, secret)
    assert client.get_account_configuration()["ExpiryEvents"] == {"DaysBeforeExpiry": 45}
    client.put_account_configuration(ExpiryEvents={"DaysBeforeExpiry": 30}, IdempotencyToken="t1")
    assert client.get_account_configuration()["ExpiryEvents"] == {"DaysBeforeExpiry": 30}


# --- Import ---------------------------------------------------------------------------------


def test_import_and_reimport_keep_the_arn(acm: Any) -> None:
    key, certificate = self_signed("imported.example.com")
    arn = acm.import_certificate(
        Certificate=certificate.public_bytes(serialization.Encoding.PEM),
        PrivateKey=pem(key),
        Tags=[{"Key": "origin", "Value": "elsewhere"}],
    )["CertificateArn"]
    detail = describe(acm, arn)
    assert detail["Type"] == "IMPORTED" and detail["Status"] == "ISSUED"
    assert detail["DomainName"] == "imported.example.com"
    assert detail["KeyAlgorithm"] == "EC_prime256v1"
    assert detail["RenewalEligibility"] == "INELIGIBLE"
    assert "ImportedAt" in detail

    new_key, renewed = self_signed("imported.example.com")
    again = acm.import_certificate(
        CertificateArn=arn,
        Certificate=renewed.public_bytes(serialization.Encoding.PEM),
        PrivateKey=pem(new_key),
        CertificateChain=renewed.public_bytes(serialization.Encoding.PEM),
    )["CertificateArn"]
    assert again == arn
    got = acm.get_certificate(CertificateArn=arn)
    assert x509.load_pem_x509_certificate(got["Certificate"].encode()) == renewed
    assert "CertificateChain" in got

    for call in (
        lambda: acm.export_certificate(CertificateArn=arn, Passphrase=PASSPHRASE),
        lambda: acm.renew_certificate(CertificateArn=arn),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert code_of(excinfo) == "ValidationException"


@pytest.mark.parametrize(
    "problem", ["mismatch", "bad-pem", "encrypted", "two-certificates", "ed25519"]
)
def test_import_refusals(acm: Any, problem: str) -> None:
    key, certificate = self_signed(
        "bad.example.com", ed25519.Ed25519PrivateKey.generate() if problem == "ed25519" else None
    )
    body = certificate.public_bytes(serialization.Encoding.PEM)
    private = pem(key)
    if problem == "mismatch":
        private = pem(ec.generate_private_key(ec.SECP256R1()))
    elif problem == "bad-pem":
        body = b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
    elif problem == "encrypted":
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    else:
        body = body + body
    with pytest.raises(ClientError) as excinfo:
        acm.import_certificate(Certificate=body, PrivateKey=private)
    assert code_of(excinfo) == "ValidationException"


def test_reimport_onto_a_private_certificate_is_refused(acm: Any, root_ca: str) -> None:
    arn = issued(acm, root_ca, "private.example.com")
    key, certificate = self_signed("private.example.com")
    with pytest.raises(ClientError) as excinfo:
        acm.import_certificate(
            CertificateArn=arn,
            Certificate=certificate.public_bytes(serialization.Encoding.PEM),
            PrivateKey=pem(key),
        )
    assert code_of(excinfo) == "ValidationException"


# --- RenewCertificate -------------------------------------------------------------------------


def test_renew_needs_an_eligible_certificate_and_keeps_the_arn(acm: Any, pca: Any) -> None:
    ca = new_root(pca)
    arn = issued(acm, ca, "renew.example.com", KeyAlgorithm="EC_prime256v1")
    with pytest.raises(ClientError) as excinfo:
        acm.renew_certificate(CertificateArn=arn)
    assert code_of(excinfo) == "ValidationException"
    before = describe(acm, arn)
    acm.export_certificate(CertificateArn=arn, Passphrase=PASSPHRASE)
    # The CA has not let ACM renew from it: the renewal fails, the certificate stays.
    acm.renew_certificate(CertificateArn=arn)
    refused = describe(acm, arn)
    assert refused["Serial"] == before["Serial"]
    assert refused["RenewalSummary"]["RenewalStatus"] == "FAILED"
    assert refused["RenewalSummary"]["RenewalStatusReason"] == "PCA_ACCESS_DENIED"
    grant_acm_renewal(pca, ca)
    acm.renew_certificate(CertificateArn=arn)
    after = describe(acm, arn)
    assert after["CertificateArn"] == arn
    assert after["Serial"] != before["Serial"]
    assert after["RenewalSummary"]["RenewalStatus"] == "SUCCESS"
    assert after["Status"] == "ISSUED"
    exported = acm.export_certificate(CertificateArn=arn, Passphrase=PASSPHRASE)
    key = serialization.load_pem_private_key(exported["PrivateKey"].encode(), PASSPHRASE)
    certificate = x509.load_pem_x509_certificate(exported["Certificate"].encode())
    assert key.public_key() == certificate.public_key()
    assert f"{certificate.serial_number:x}" == after["Serial"].replace(":", "").lstrip("0")


# --- isolation --------------------------------------------------------------------------------


def test_another_account_never_reaches_a_certificate(
    acm: Any, other_acm: Any, root_ca: str
) -> None:
    arn = issued(acm, root_ca, "mine.example.com")
    acm.export_certificate(CertificateArn=arn, Passphrase=PASSPHRASE)
    for call in (
        lambda: other_acm.describe_certificate(CertificateArn=arn),
        lambda: other_acm.get_certificate(CertificateArn=arn),
        lambda: other_acm.export_certificate(CertificateArn=arn, Passphrase=PASSPHRASE),
        lambda: other_acm.renew_certificate(CertificateArn=arn),
        lambda: other_acm.delete_certificate(CertificateArn=arn),
        lambda: other_acm.list_tags_for_certificate(CertificateArn=arn),
        lambda: other_acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "k"}]),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert code_of(excinfo) == "ResourceNotFoundException"
    listed = other_acm.list_certificates(
        Includes={"keyTypes": ["RSA_2048", "EC_prime256v1", "EC_secp384r1"]}
    )
    assert arn not in [s["CertificateArn"] for s in listed["CertificateSummaryList"]]
    assert describe(acm, arn)["Status"] == "ISSUED"
