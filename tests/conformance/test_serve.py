"""`pica serve` as an operator meets it: first start, files on disk, restarts, crashes, keys.

Every test here runs its own server in its own data dir (never the session server), because
they look at the files a server writes, or stop and restart it.
"""

from __future__ import annotations

import base64
import configparser
import json
import os
import re
import shlex
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.pki import create_ca, issue, make_csr, new_root
from tests.support.polling import wait_until
from tests.support.server import LiveServer, free_port


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server started once on an empty data dir, shared by the read-mostly tests below."""
    live = LiveServer(tmp_path_factory.mktemp("serve") / "data", free_port())
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server this test may stop, kill and start again."""
    live = LiveServer(tmp_path / "data", free_port())
    live.start()
    try:
        yield live
    finally:
        live.stop()


def exported_variables(log: str) -> dict[str, str]:
    variables: dict[str, str] = {}
    for line in log.splitlines():
        if line.startswith("export "):
            for word in shlex.split(line)[1:]:
                name, _, value = word.partition("=")
                variables[name] = value
    return variables


def database_bytes(data_dir: Path) -> bytes:
    return b"".join(
        path.read_bytes()
        for path in (data_dir / "pica.db", data_dir / "pica.db-wal")
        if path.exists()
    )


def query(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(f"file:{data_dir / 'pica.db'}?mode=ro", uri=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def pica_json(server: LiveServer, *args: str) -> Any:
    completed = server.pica(*args, "--json")
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


# --- first start ------------------------------------------------------------------------------


def test_first_start_creates_database_kek_and_client_files(fresh: LiveServer) -> None:
    data = fresh.data_dir
    assert (data / "pica.db").is_file()
    assert query(data, "PRAGMA journal_mode") == [("wal",)]

    kek = data / "kek"
    assert kek.is_file()
    assert stat.S_IMODE(kek.stat().st_mode) & 0o077 == 0, oct(kek.stat().st_mode)
    assert stat.S_IMODE(data.stat().st_mode) & 0o077 == 0, oct(data.stat().st_mode)

    credentials = configparser.ConfigParser()
    credentials.read(data / "credentials")
    assert re.fullmatch(r"[A-Z0-9]{16,128}", credentials["pica"]["aws_access_key_id"])
    assert len(credentials["pica"]["aws_secret_access_key"]) >= 32
    assert stat.S_IMODE((data / "credentials").stat().st_mode) & 0o077 == 0

    config = configparser.ConfigParser()
    config.read(data / "config")
    assert config["profile pica"]["region"] == "us-east-1"
    assert config["profile pica"]["endpoint_url"] == fresh.endpoint


def test_first_start_prints_the_exports(fresh: LiveServer) -> None:
    log = fresh.log_text()
    _, secret = fresh.credentials()
    assert secret not in log
    variables = exported_variables(log)
    assert variables == {
        "AWS_CONFIG_FILE": str(fresh.data_dir / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(fresh.data_dir / "credentials"),
        "AWS_PROFILE": "pica",
    }


def test_the_exports_alone_are_enough_for_the_aws_cli(fresh: LiveServer, tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    env.update(exported_variables(fresh.log_text()))
    aws = Path(sys.executable).with_name("aws")
    completed = subprocess.run(
        [str(aws), "acm-pca", "list-certificate-authorities"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert "CertificateAuthorities" in json.loads(completed.stdout)


def test_no_secret_is_stored_in_plaintext(fresh: LiveServer) -> None:
    pca = fresh.client()
    arns = [
        create_ca(pca),
        create_ca(pca, key_algorithm="RSA_2048", signing_algorithm="SHA256WITHRSA"),
    ]
    public_keys = {
        arn: x509.load_pem_x509_csr(
            pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"].encode()
        ).public_key()
        for arn in arns
    }

    raw = database_bytes(fresh.data_dir)
    assert b"PRIVATE KEY" not in raw
    rows = query(
        fresh.data_dir,
        "SELECT arn, private_key_ciphertext FROM certificate_authorities",
    )
    sealed = {arn: blob for arn, blob in rows}
    assert set(arns) <= set(sealed)
    for arn, public_key in public_keys.items():
        blob = sealed[arn]
        assert isinstance(blob, bytes) and len(blob) > 32
        for loader in (
            serialization.load_der_private_key,
            serialization.load_pem_private_key,
        ):
            with pytest.raises((ValueError, TypeError)):
                loader(blob, password=None)
        # A plaintext private key (PKCS#8, SEC 1 or PKCS#1) carries its public half.
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public = public_key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        else:
            assert isinstance(public_key, rsa.RSAPublicKey)
            modulus = public_key.public_numbers().n
            public = modulus.to_bytes((modulus.bit_length() + 7) // 8, "big")
        assert public not in blob

    kek_lines = [
        line.split()
        for line in (fresh.data_dir / "kek").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert kek_lines
    for _label, encoded, *_fields in kek_lines:  # a third field: created=
        assert encoded.encode() not in raw
        assert base64.b64decode(encoded) not in raw

    _, secret = fresh.credentials()
    assert secret.encode() not in raw


# --- restarts and crashes ---------------------------------------------------------------------


def test_restart_keeps_credentials_cas_and_certificates(own_server: LiveServer) -> None:
    credentials_before = (own_server.data_dir / "credentials").read_text()
    pca = own_server.client()
    ca_arn = new_root(pca)
    cert_arn = pca.issue_certificate(
        CertificateAuthorityArn=ca_arn,
        Csr=make_csr(),
        SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 10, "Type": "DAYS"},
    )["CertificateArn"]
    before = pca.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=cert_arn)

    process = own_server.process
    assert process is not None
    own_server.stop(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught (exit by SIGTERM).
    assert process.returncode in (0, -signal.SIGTERM), own_server.log_text()[-2000:]
    assert "Application shutdown complete" in own_server.log_text()
    own_server.start()

    assert (own_server.data_dir / "credentials").read_text() == credentials_before
    assert len(pica_json(own_server, "accounts", "list")["Accounts"]) == 1
    pca = own_server.client()
    ca = pca.describe_certificate_authority(CertificateAuthorityArn=ca_arn)["CertificateAuthority"]
    assert ca["Status"] == "ACTIVE"
    after = pca.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=cert_arn)
    assert after["Certificate"] == before["Certificate"]
    assert after["CertificateChain"] == before["CertificateChain"]
    # Issuing needs the CA key: it must still open under the KEK after a restart.
    certificate, chain = issue(pca, ca_arn)
    root = x509.load_pem_x509_certificate(chain.encode())
    certificate.verify_directly_issued_by(root)


def test_a_certificate_survives_kill_9(own_server: LiveServer) -> None:
    pca = own_server.client()
    ca_arn = new_root(pca)
    cert_arn = pca.issue_certificate(
        CertificateAuthorityArn=ca_arn,
        Csr=make_csr(),
        SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 10, "Type": "DAYS"},
    )["CertificateArn"]
    own_server.stop(signal.SIGKILL)
    own_server.start()

    pca = own_server.client()
    got = pca.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=cert_arn)
    certificate = x509.load_pem_x509_certificate(got["Certificate"].encode())
    assert certificate.serial_number == int(cert_arn.rsplit("/", 1)[1], 16)
    issue(pca, ca_arn)


def test_state_changes_survive_kill_9(own_server: LiveServer) -> None:
    pca = own_server.client()
    ca_arn = new_root(pca)
    pca.update_certificate_authority(CertificateAuthorityArn=ca_arn, Status="DISABLED")
    pca.tag_certificate_authority(
        CertificateAuthorityArn=ca_arn, Tags=[{"Key": "durable", "Value": "yes"}]
    )
    own_server.stop(signal.SIGKILL)
    own_server.start()

    pca = own_server.client()
    ca = pca.describe_certificate_authority(CertificateAuthorityArn=ca_arn)["CertificateAuthority"]
    assert ca["Status"] == "DISABLED"
    assert pca.list_tags(CertificateAuthorityArn=ca_arn)["Tags"] == [
        {"Key": "durable", "Value": "yes"}
    ]


def test_a_kek_file_readable_by_others_is_refused(own_server: LiveServer) -> None:
    own_server.stop()
    kek = own_server.data_dir / "kek"
    kek.chmod(0o644)
    with pytest.raises(RuntimeError) as excinfo:
        own_server.start(timeout=20)
    assert "kek" in str(excinfo.value).lower()
    assert "Traceback" not in str(excinfo.value)
    kek.chmod(0o600)
    own_server.start()
    assert "CertificateAuthorities" in own_server.client().list_certificate_authorities()


# --- accounts and keys ------------------------------------------------------------------------


def test_accounts_and_keys_are_managed_while_serving(fresh: LiveServer) -> None:
    account = pica_json(fresh, "accounts", "create")
    assert set(account) == {"AccountId"}
    account_id = account["AccountId"]
    assert re.fullmatch(r"[0-9]{12}", account_id)
    listed_accounts = pica_json(fresh, "accounts", "list")["Accounts"]
    assert account_id in {a["AccountId"] for a in listed_accounts}

    key = pica_json(fresh, "keys", "create", "--account", account_id)
    assert key["AccountId"] == account_id
    assert key["AccessKeyId"] and key["SecretAccessKey"]

    client = fresh.client(key["AccessKeyId"], key["SecretAccessKey"])
    assert client.list_certificate_authorities()["CertificateAuthorities"] == []
    arn = client.create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "EC_prime256v1",
            "SigningAlgorithm": "SHA256WITHECDSA",
            "Subject": {"CommonName": "new account CA"},
        },
        CertificateAuthorityType="ROOT",
    )["CertificateAuthorityArn"]
    assert arn.split(":")[4] == account_id

    keys = pica_json(fresh, "keys", "list")["AccessKeys"]
    assert {"AccessKeyId": key["AccessKeyId"], "AccountId": account_id} in [
        {"AccessKeyId": k["AccessKeyId"], "AccountId": k["AccountId"]} for k in keys
    ]
    only_this = pica_json(fresh, "keys", "list", "--account", account_id)["AccessKeys"]
    assert [k["AccessKeyId"] for k in only_this] == [key["AccessKeyId"]]

    deleted = fresh.pica("keys", "delete", key["AccessKeyId"])
    assert deleted.returncode == 0, deleted.stderr

    def refusal() -> str | None:
        """The error code once the server's secret cache has let the deleted key go."""
        try:
            client.list_certificate_authorities()
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return None

    code = wait_until(refusal, timeout=10, interval=0.1, what="the deleted key to be refused")
    assert code == "UnrecognizedClientException"
    remaining = pica_json(fresh, "keys", "list")["AccessKeys"]
    assert key["AccessKeyId"] not in {k["AccessKeyId"] for k in remaining}
    # The bootstrap key is untouched.
    assert "CertificateAuthorities" in fresh.client().list_certificate_authorities()


def test_key_for_an_unknown_account_is_refused(fresh: LiveServer) -> None:
    completed = fresh.pica("keys", "create", "--account", "000000000000", "--json")
    assert completed.returncode != 0
    assert "000000000000" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stdout.strip() == ""


def test_deleting_an_unknown_key_is_refused(fresh: LiveServer) -> None:
    completed = fresh.pica("keys", "delete", "PICANOSUCHKEY0000000")
    assert completed.returncode != 0
    assert "PICANOSUCHKEY0000000" in completed.stderr
    assert "Traceback" not in completed.stderr
