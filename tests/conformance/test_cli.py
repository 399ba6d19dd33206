"""The real aws CLI (v1) against pica: file:// and fileb:// inputs, waiters, auto-pagination."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from cryptography import x509

from tests.support.pki import ROOT_TEMPLATE, create_ca, make_csr, new_root
from tests.support.server import LiveServer

CA_CONFIG = {
    "KeyAlgorithm": "EC_prime256v1",
    "SigningAlgorithm": "SHA256WITHECDSA",
    "Subject": {"Country": "US", "Organization": "pica cli", "CommonName": "cli root"},
}


def test_root_ca_through_the_cli(server: LiveServer, tmp_path: Path) -> None:
    (tmp_path / "ca.json").write_text(json.dumps(CA_CONFIG))
    arn = server.aws(
        "acm-pca",
        "create-certificate-authority",
        "--certificate-authority-configuration",
        "file://ca.json",
        "--certificate-authority-type",
        "ROOT",
        "--tags",
        "Key=made-by,Value=cli",
        cwd=tmp_path,
    )["CertificateAuthorityArn"]
    ca = ["--certificate-authority-arn", arn]

    server.aws("acm-pca", "wait", "certificate-authority-csr-created", *ca)
    csr = server.aws("acm-pca", "get-certificate-authority-csr", *ca)["Csr"]
    assert csr.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    parsed_csr = x509.load_pem_x509_csr(csr.encode())
    assert parsed_csr.is_signature_valid
    (tmp_path / "ca.csr").write_text(csr)

    cert_arn = server.aws(
        "acm-pca",
        "issue-certificate",
        *ca,
        "--csr",
        "fileb://ca.csr",
        "--signing-algorithm",
        "SHA256WITHECDSA",
        "--template-arn",
        ROOT_TEMPLATE,
        "--validity",
        "Value=5,Type=YEARS",
        "--idempotency-token",
        "cli-root",
        cwd=tmp_path,
    )["CertificateArn"]
    assert cert_arn.startswith(arn + "/certificate/")
    server.aws("acm-pca", "wait", "certificate-issued", *ca, "--certificate-arn", cert_arn)
    got = server.aws("acm-pca", "get-certificate", *ca, "--certificate-arn", cert_arn)
    certificate = x509.load_pem_x509_certificate(got["Certificate"].encode())
    assert certificate.subject == parsed_csr.subject
    assert certificate.issuer == certificate.subject
    (tmp_path / "ca.pem").write_text(got["Certificate"])

    server.aws(
        "acm-pca",
        "import-certificate-authority-certificate",
        *ca,
        "--certificate",
        "fileb://ca.pem",
        cwd=tmp_path,
    )
    described = server.aws("acm-pca", "describe-certificate-authority", *ca)
    authority = described["CertificateAuthority"]
    assert authority["Status"] == "ACTIVE"
    assert authority["Type"] == "ROOT"
    assert authority["CertificateAuthorityConfiguration"] == CA_CONFIG
    # aws-cli v1 prints timestamps as they travel: epoch seconds.
    assert isinstance(authority["CreatedAt"], int | float)
    assert isinstance(authority["NotAfter"], int | float)
    assert int(authority["Serial"]) == certificate.serial_number

    ca_certificate = server.aws("acm-pca", "get-certificate-authority-certificate", *ca)
    assert ca_certificate["Certificate"].strip() == got["Certificate"].strip()
    assert "CertificateChain" not in ca_certificate

    # The CA now issues an end-entity certificate from a file:// CSR (CLI v1 base64s it too).
    (tmp_path / "leaf.csr").write_bytes(make_csr(dns_names=("cli.example.com",)))
    leaf_arn = server.aws(
        "acm-pca",
        "issue-certificate",
        *ca,
        "--csr",
        "file://leaf.csr",
        "--signing-algorithm",
        "SHA256WITHECDSA",
        "--validity",
        "Value=30,Type=DAYS",
        cwd=tmp_path,
    )["CertificateArn"]
    server.aws("acm-pca", "wait", "certificate-issued", *ca, "--certificate-arn", leaf_arn)
    leaf = server.aws("acm-pca", "get-certificate", *ca, "--certificate-arn", leaf_arn)
    assert x509.load_pem_x509_certificate(leaf["Certificate"].encode()).issuer == (
        certificate.subject
    )
    assert leaf["CertificateChain"].strip() == got["Certificate"].strip()


def test_list_auto_paginates(server: LiveServer, pca: Any) -> None:
    created = {create_ca(pca) for _ in range(3)}
    # --page-size makes the CLI ask for a few CAs per call and follow NextToken to the end.
    listed = server.aws("acm-pca", "list-certificate-authorities", "--page-size", "2")
    arns = [ca["Arn"] for ca in listed["CertificateAuthorities"]]
    assert "NextToken" not in listed
    assert len(arns) == len(set(arns))
    assert created <= set(arns)
    pages = pca.get_paginator("list_certificate_authorities").paginate()
    everything = [ca for page in pages for ca in page["CertificateAuthorities"]]
    assert set(arns) == {ca["Arn"] for ca in everything}
    first_page = server.aws(
        "acm-pca", "list-certificate-authorities", "--max-items", "2", "--page-size", "1"
    )
    assert len(first_page["CertificateAuthorities"]) == 2
    assert first_page["NextToken"]


def test_update_delete_restore_through_the_cli(server: LiveServer, pca: Any) -> None:
    ca = ["--certificate-authority-arn", new_root(pca)]

    def status() -> str:
        value: str = server.aws("acm-pca", "describe-certificate-authority", *ca)[
            "CertificateAuthority"
        ]["Status"]
        return value

    assert server.aws("acm-pca", "update-certificate-authority", *ca, "--status", "DISABLED") == {}
    assert status() == "DISABLED"
    server.aws(
        "acm-pca",
        "delete-certificate-authority",
        *ca,
        "--permanent-deletion-time-in-days",
        "7",
    )
    deleted = server.aws("acm-pca", "describe-certificate-authority", *ca)["CertificateAuthority"]
    assert deleted["Status"] == "DELETED"
    assert deleted["RestorableUntil"] > deleted["LastStateChangeAt"]
    server.aws("acm-pca", "restore-certificate-authority", *ca)
    assert status() == "DISABLED"
    server.aws("acm-pca", "update-certificate-authority", *ca, "--status", "ACTIVE")
    assert status() == "ACTIVE"


def test_tags_through_the_cli(server: LiveServer, pca: Any) -> None:
    ca = ["--certificate-authority-arn", create_ca(pca)]
    server.aws(
        "acm-pca",
        "tag-certificate-authority",
        *ca,
        "--tags",
        "Key=team,Value=pki",
        "Key=env,Value=dev",
        "Key=flag",
    )
    server.aws("acm-pca", "untag-certificate-authority", *ca, "--tags", "Key=env")
    tags = server.aws("acm-pca", "list-tags", *ca, "--page-size", "1")["Tags"]
    # A tag set without a value may come back with no Value or an empty one.
    assert {t["Key"]: t.get("Value", "") for t in tags} == {"flag": "", "team": "pki"}
    assert len(tags) == 2


def test_errors_print_the_code_and_exit_non_zero(server: LiveServer, root_ca: str) -> None:
    unknown = root_ca.rsplit("/", 1)[0] + f"/{uuid.uuid4()}"
    completed = server.aws(
        "acm-pca",
        "describe-certificate-authority",
        "--certificate-authority-arn",
        unknown,
        check=False,
    )
    assert completed.returncode != 0
    assert "ResourceNotFoundException" in completed.stderr
    assert completed.stdout.strip() == ""

    completed = server.aws(
        "acm-pca",
        "delete-certificate-authority",
        "--certificate-authority-arn",
        root_ca,
        check=False,
    )
    assert completed.returncode != 0
    assert "InvalidStateException" in completed.stderr

    completed = server.aws(
        "acm-pca",
        "list-certificate-authorities",
        "--max-results",
        "1001",
        check=False,
    )
    assert completed.returncode != 0
    assert "ValidationException" in completed.stderr
