"""Sealed mode against a live two-worker server, through boto3, the aws CLI, openssl and curl-like
HTTP: `pica kek protect` while the server issues, a restart that comes up sealed (reads work,
signing answers a retryable 503, OCSP says tryLater, `/readyz` says sealed, nothing is stored),
`pica unseal` refusing a wrong passphrase and then opening every worker without a restart, a
rotation of the protected file, and starts with the passphrase file (right and wrong).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509

from pica.adapters.keystore.kek_file import read_file
from tests.support.acm import acm_client
from tests.support.pki import ca_certificate, issue, make_csr, new_root_with_revocation
from tests.support.polling import wait_until
from tests.support.revocation import openssl_ocsp
from tests.support.server import LiveServer, free_port

PASSPHRASE = "a long enough passphrase for tests"
SEALED = "pica is sealed"


def passphrase_file(folder: Path, text: str = PASSPHRASE, name: str = "passphrase") -> Path:
    path = folder / name
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


def readyz(live: LiveServer) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{live.endpoint}/readyz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def assert_one_line(completed: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def assert_sealed_refusal(error: ClientError) -> None:
    assert error.response["Error"]["Code"] == "ServiceUnavailableException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert SEALED in error.response["Error"]["Message"]


def test_protect_restart_sealed_unseal_rotate(live: LiveServer, tmp_path: Path) -> None:
    pca = live.raw_client()
    root = new_root_with_revocation(pca, {"OcspConfiguration": {"Enabled": True}})
    first_arn = pca.issue_certificate(
        CertificateAuthorityArn=root,
        Csr=make_csr(),
        SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 3, "Type": "DAYS"},
    )["CertificateArn"]
    pca.get_waiter("certificate_issued").wait(
        CertificateAuthorityArn=root, CertificateArn=first_arn, WaiterConfig={"Delay": 1}
    )
    first = x509.load_pem_x509_certificate(
        pca.get_certificate(CertificateAuthorityArn=root, CertificateArn=first_arn)[
            "Certificate"
        ].encode()
    )
    _, tenant_key, tenant_secret = live.new_account()
    secret_file = passphrase_file(tmp_path)

    # Protecting while the server issues: no call fails, and the workers keep signing.
    stop, errors = threading.Event(), []

    def keep_issuing() -> None:
        client = live.raw_client()
        while not stop.is_set():
            try:
                issue(client, root, make_csr())
            except BaseException as error:
                errors.append(error)
                return

    thread = threading.Thread(target=keep_issuing, daemon=True)
    thread.start()
    try:
        protected = live.pica("kek", "protect", "--passphrase-file", str(secret_file), "--json")
    finally:
        stop.set()
        thread.join(timeout=60)
    assert protected.returncode == 0, protected.stderr
    assert errors == []
    answer = json.loads(protected.stdout)
    assert answer["Protected"] is True and answer["Rewrapped"] == 2  # both access keys moved
    content = read_file(live.data_dir / "kek")
    assert content.protected and [e.ref for e in content.credentials] == [answer["CredentialKekId"]]
    # No key of the protected part is in the file in the clear any more.
    assert all(ref not in {e.ref for e in content.credentials} for ref in content.envelope.refs)
    issue(pca, root, make_csr())  # still unsealed: it held the keys, and was told the passphrase

    live.stop()
    live.start()
    assert SEALED in live.log_text()
    status, body = readyz(live)
    assert status == 503 and body["status"] == "sealed" and body["checks"]["key_store"] == "sealed"

    # Reads work, for the owner and for the second tenant.
    pca = live.raw_client()
    listed = pca.list_certificate_authorities()["CertificateAuthorities"]
    assert [ca["Arn"] for ca in listed] == [root]
    got = pca.get_certificate(CertificateAuthorityArn=root, CertificateArn=first_arn)
    assert "BEGIN CERTIFICATE" in got["Certificate"]
    pca.get_certificate_authority_certificate(CertificateAuthorityArn=root)
    live.raw_client(tenant_key, tenant_secret).list_certificate_authorities()

    # Everything that needs a key answers 503 ServiceUnavailableException, and stores nothing.
    with pytest.raises(ClientError) as refused:
        pca.issue_certificate(
            CertificateAuthorityArn=root,
            Csr=make_csr(),
            SigningAlgorithm="SHA256WITHECDSA",
            Validity={"Value": 3, "Type": "DAYS"},
            IdempotencyToken="sealed-1",
        )
    assert_sealed_refusal(refused.value)
    with pytest.raises(ClientError) as refused:
        pca.create_certificate_authority(
            CertificateAuthorityConfiguration={
                "KeyAlgorithm": "EC_prime256v1",
                "SigningAlgorithm": "SHA256WITHECDSA",
                "Subject": {"CommonName": "sealed"},
            },
            CertificateAuthorityType="ROOT",
        )
    assert_sealed_refusal(refused.value)
    assert len(pca.list_certificate_authorities()["CertificateAuthorities"]) == 1
    with pytest.raises(ClientError) as refused:
        acm_client(live).request_certificate(
            DomainName="sealed.example.com", CertificateAuthorityArn=root
        )
    assert_sealed_refusal(refused.value)
    assert acm_client(live).list_certificates()["CertificateSummaryList"] == []

    # The aws CLI prints the same refusal (one attempt, no retries).
    env = {**live.cli_env(), "AWS_MAX_ATTEMPTS": "1"}
    cli = subprocess.run(
        [str(Path(sys.executable).with_name("aws")), "acm-pca", "issue-certificate",
         "--certificate-authority-arn", root, "--csr", f"fileb://{write_csr(tmp_path)}",
         "--signing-algorithm", "SHA256WITHECDSA", "--validity", "Value=3,Type=DAYS"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert cli.returncode != 0 and "ServiceUnavailableException" in cli.stderr
    assert SEALED in cli.stderr

    # OCSP answers tryLater (unsigned) while nothing can be signed.
    issuer = ca_certificate(pca, root)
    completed, _ = openssl_ocsp(tmp_path, issuer, first, url=f"{live.endpoint}/ocsp")
    assert "trylater" in (completed.stdout + completed.stderr).lower().replace(" ", "")

    # A wrong passphrase is refused in one line and changes nothing.
    wrong = live.pica("unseal", "--passphrase-file", str(passphrase_file(tmp_path, "w" * 20, "w")))
    assert_one_line(wrong, "does not open")
    assert readyz(live)[1]["status"] == "sealed"

    unsealed = live.pica("unseal", "--passphrase-file", str(secret_file), "--json")
    assert unsealed.returncode == 0, unsealed.stderr
    processes = json.loads(unsealed.stdout)["Processes"]
    assert len(processes) == 2 and {p["result"] for p in processes} == {"unsealed"}
    wait_until(lambda: readyz(live)[0] == 200, what="/readyz ready after pica unseal")
    # Every worker signs now: fresh clients (fresh connections) land on both.
    for _ in range(6):
        issue(live.raw_client(), root, make_csr())
    retried = pca.issue_certificate(
        CertificateAuthorityArn=root,
        Csr=make_csr(),
        SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 3, "Type": "DAYS"},
        IdempotencyToken="sealed-1",
    )
    assert retried["CertificateArn"]
    again = live.pica("unseal", "--passphrase-file", str(secret_file), "--json")
    assert {p["result"] for p in json.loads(again.stdout)["Processes"]} == {"unsealed-already"}

    # Rotating the protected file needs the passphrase, and runs while the server issues.
    assert_one_line(live.pica("kek", "rotate"), "--passphrase-file")
    rotated = live.pica("kek", "rotate", "--passphrase-file", str(secret_file), "--json")
    assert rotated.returncode == 0, rotated.stderr
    for ref in json.loads(rotated.stdout)["Retirable"]:
        retired = live.pica("kek", "retire", ref, "--passphrase-file", str(secret_file))
        assert retired.returncode == 0, retired.stderr
    assert len(read_file(live.data_dir / "kek").refs) == 2  # one protected, one credential key
    issue(live.raw_client(), root, make_csr())

    # Started with the passphrase file, pica is unsealed from the first request.
    live.stop()
    live.env = {"PICA_KEK_PASSPHRASE_FILE": str(secret_file)}
    live.start()
    assert readyz(live)[0] == 200
    issue(live.raw_client(), root, make_csr())
    live.raw_client(tenant_key, tenant_secret).list_certificate_authorities()


def test_a_wrong_passphrase_file_stops_the_start_in_one_line(
    live: LiveServer, tmp_path: Path
) -> None:
    secret_file = passphrase_file(tmp_path)
    assert live.pica("kek", "protect", "--passphrase-file", str(secret_file)).returncode == 0
    live.stop()
    wrong = passphrase_file(tmp_path, "not the passphrase at all", "wrong")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PICA_"))}
    for path, needle in (
        (wrong, "does not open the KEK file"),
        (tmp_path / "missing", "cannot open the passphrase file"),
    ):
        started = subprocess.run(
            [sys.executable, "-m", "pica", "serve", "--data-dir", str(live.data_dir),
             "--port", str(free_port())],
            env={**env, "PICA_KEK_PASSPHRASE_FILE": str(path)},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert_one_line(started, needle)
    open_to_all = passphrase_file(tmp_path, PASSPHRASE, "loose")
    open_to_all.chmod(0o644)
    assert_one_line(live.pica("unseal", "--passphrase-file", str(open_to_all)), "chmod 600")
    short = passphrase_file(tmp_path, "short", "short")
    assert_one_line(live.pica("kek", "unprotect", "--passphrase-file", str(short)), "does not open")
    assert live.pica("kek", "unprotect", "--passphrase-file", str(secret_file)).returncode == 0
    assert not read_file(live.data_dir / "kek").protected
    live.start()
    assert readyz(live)[0] == 200


def test_protect_refuses_a_short_passphrase_and_a_protected_file(
    live: LiveServer, tmp_path: Path
) -> None:
    short = passphrase_file(tmp_path, "too short", "short")
    assert_one_line(live.pica("kek", "protect", "--passphrase-file", str(short)), "shorter than")
    assert not read_file(live.data_dir / "kek").protected
    secret_file = passphrase_file(tmp_path)
    assert live.pica("kek", "protect", "--passphrase-file", str(secret_file)).returncode == 0
    assert_one_line(
        live.pica("kek", "protect", "--passphrase-file", str(secret_file)), "protected already"
    )
    listed = json.loads(live.pica("kek", "list", "--json").stdout)
    assert listed["Protected"] is True
    assert {row["Role"] for row in listed["Keks"]} == {"keys", "credentials"}


def write_csr(folder: Path) -> Path:
    path = folder / "cli.csr"
    path.write_bytes(make_csr())
    return path
