"""CA keys in a PKCS#11 token: a live pica with `key_store = pkcs11` on a SoftHSM2 token.

The same flows the other suites check on the file store, through the same helpers: a root and a
subordinate made, activated, disabled, deleted and restored; certificates issued under RSA
(PKCS#1 v1.5 and PSS) and ECDSA and checked by `openssl verify` (and by every GetCertificate's
three validators); a CRL checked by `openssl crl -verify`; OCSP answers checked by
`openssl ocsp`. Then what only the token shows: `pkcs11-tool` lists each CA key with its ARN as
label, sensitive and never extractable, able to sign and nothing else; no private-key encoding
is anywhere in the data dir or in a dump of the database; ML-DSA is refused; two worker
processes sign concurrently; a wrong PIN, an absent token or a missing module stop `pica serve`
with one line.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.pki import (
    ca_certificate,
    cdp_url,
    create_ca,
    issue,
    make_csr,
    new_root,
    new_root_with_revocation,
    new_subordinate,
    ocsp_url,
    openssl_verify,
)
from tests.support.revocation import http, openssl_ocsp, revoke, wait_for_crl, write_pem
from tests.support.server import LiveServer, free_port
from tests.support.softhsm import SoftHsmToken


@pytest.fixture(scope="module")
def hsm_server(
    tmp_path_factory: pytest.TempPathFactory, softhsm: SoftHsmToken
) -> Iterator[LiveServer]:
    """pica with its CA keys in the session's SoftHSM2 token, served by two worker processes."""
    live = LiveServer(
        tmp_path_factory.mktemp("pica-pkcs11") / "data",
        free_port(),
        extra_args=("--workers", "2"),
        env=softhsm.pica_env(),
    )
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def hsm(hsm_server: LiveServer) -> Any:
    return hsm_server.client()


def ca_id(arn: str) -> str:
    return uuid.UUID(arn.rsplit("/", 1)[1]).hex


def token_private_keys(softhsm: SoftHsmToken) -> dict[str, dict[str, str]]:
    """`pkcs11-tool --list-objects --type privkey`, by label: each key's ID, Usage and Access."""
    listing = softhsm.pkcs11_tool("--list-objects", "--type", "privkey")
    keys: dict[str, dict[str, str]] = {}
    for block in listing.split("Private Key Object")[1:]:
        fields = dict(re.findall(r"^\s+(\w+):\s+(.*)$", block, flags=re.MULTILINE))
        keys[fields["label"]] = fields
    return keys


# --- the CA lifecycle and issuance, keys in the token ------------------------------------------


def test_a_root_and_a_subordinate_sign_certificates_that_openssl_verifies(
    hsm: Any, softhsm: SoftHsmToken, tmp_path: Path
) -> None:
    root = new_root(hsm, "RSA_2048", "SHA256WITHRSA")
    sub = new_subordinate(
        hsm,
        root,
        key_algorithm="EC_secp384r1",
        signing_algorithm="SHA384WITHECDSA",
        parent_signing_algorithm="SHA256WITHRSA_PSS",
    )
    leaf, chain = issue(hsm, sub, signing_algorithm="SHA384WITHECDSA")
    verified = openssl_verify(tmp_path, leaf, chain)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert isinstance(ca_certificate(hsm, root).public_key(), rsa.RSAPublicKey)
    assert isinstance(ca_certificate(hsm, sub).public_key(), ec.EllipticCurvePublicKey)
    # The leaf's issuer key is the one in the token labelled with the subordinate's ARN.
    keys = token_private_keys(softhsm)
    assert keys[sub]["ID"] == ca_id(sub) and keys[root]["ID"] == ca_id(root)
    leaf.verify_directly_issued_by(ca_certificate(hsm, sub))


@pytest.mark.parametrize(
    ("key_algorithm", "signing_algorithm"),
    [
        ("RSA_3072", "SHA384WITHRSA"),
        ("RSA_2048", "SHA512WITHRSA_PSS"),
        ("EC_prime256v1", "SHA256WITHECDSA"),
        ("EC_secp521r1", "SHA512WITHECDSA"),
    ],
)
def test_each_key_algorithm_the_token_holds_issues(
    hsm: Any, tmp_path: Path, key_algorithm: str, signing_algorithm: str
) -> None:
    root = new_root(hsm, key_algorithm, signing_algorithm)
    leaf, chain = issue(hsm, root, signing_algorithm=signing_algorithm)
    verified = openssl_verify(tmp_path, leaf, chain)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_disable_delete_restore_and_the_key_still_signs(hsm: Any, tmp_path: Path) -> None:
    root = new_root(hsm)
    hsm.update_certificate_authority(CertificateAuthorityArn=root, Status="DISABLED")
    hsm.delete_certificate_authority(CertificateAuthorityArn=root, PermanentDeletionTimeInDays=7)
    described = hsm.describe_certificate_authority(CertificateAuthorityArn=root)
    assert described["CertificateAuthority"]["Status"] == "DELETED"
    hsm.restore_certificate_authority(CertificateAuthorityArn=root)
    hsm.update_certificate_authority(CertificateAuthorityArn=root, Status="ACTIVE")
    leaf, chain = issue(hsm, root)
    assert openssl_verify(tmp_path, leaf, chain).returncode == 0


@pytest.mark.parametrize("key_algorithm", ["ML_DSA_65", "ML_DSA_44"])
def test_a_key_algorithm_the_token_cannot_hold_is_refused(
    hsm: Any, softhsm: SoftHsmToken, key_algorithm: str
) -> None:
    before = token_private_keys(softhsm)
    with pytest.raises(ClientError) as raised:
        create_ca(hsm, key_algorithm=key_algorithm, signing_algorithm=key_algorithm)
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidArgsException"
    assert (
        f"The key algorithm {key_algorithm} cannot be held in the PKCS#11 token"
        in (error["Message"])
    )
    assert token_private_keys(softhsm).keys() == before.keys()
    listed = hsm.list_certificate_authorities()["CertificateAuthorities"]
    assert all(
        ca["CertificateAuthorityConfiguration"]["KeyAlgorithm"] != key_algorithm for ca in listed
    )


# --- CRL and OCSP signed in the token ----------------------------------------------------------


def test_the_crl_is_signed_in_the_token_and_openssl_verifies_it(hsm: Any, tmp_path: Path) -> None:
    root = new_root_with_revocation(
        hsm,
        {"CrlConfiguration": {"Enabled": True, "S3BucketName": "hsm-crl", "ExpirationInDays": 3}},
        key_algorithm="RSA_2048",
    )
    good, _ = issue(hsm, root, signing_algorithm="SHA256WITHRSA")
    bad, _ = issue(hsm, root, signing_algorithm="SHA256WITHRSA")
    revoke(hsm, root, bad, "SUPERSEDED")
    crl = wait_for_crl(
        cdp_url(good), lambda c: c.get_revoked_certificate_by_serial_number(bad.serial_number)
    )
    entry = crl.get_revoked_certificate_by_serial_number(bad.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.superseded
    )
    assert crl.get_revoked_certificate_by_serial_number(good.serial_number) is None
    issuer = write_pem(tmp_path / "ca.pem", ca_certificate(hsm, root))
    (tmp_path / "crl.der").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    checked = subprocess.run(
        [
            "openssl",
            "crl",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "crl.der"),
            "-noout",
            "-CAfile",
            str(issuer),
        ],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0 and "verify OK" in checked.stderr + checked.stdout, checked


def test_ocsp_answers_are_signed_in_the_token_and_openssl_checks_them(
    hsm: Any, hsm_server: LiveServer, tmp_path: Path
) -> None:
    root = new_root_with_revocation(
        hsm,
        {"OcspConfiguration": {"Enabled": True, "OcspCustomCname": f"127.0.0.1:{hsm_server.port}"}},
    )
    leaf, _ = issue(hsm, root)
    issuer = ca_certificate(hsm, root)
    completed, _ = openssl_ocsp(tmp_path, issuer, leaf, url=ocsp_url(leaf))
    assert "Response verify OK" in completed.stderr, completed.stderr
    assert ": good" in completed.stdout
    revoke(hsm, root, leaf, "KEY_COMPROMISE")
    completed, _ = openssl_ocsp(tmp_path, issuer, leaf, url=ocsp_url(leaf))
    assert "Response verify OK" in completed.stderr, completed.stderr
    assert ": revoked" in completed.stdout
    assert "Reason: keyCompromise" in completed.stdout


def test_two_workers_sign_concurrently(hsm: Any, hsm_server: LiveServer) -> None:
    root = new_root(hsm)
    clients = [hsm_server.raw_client() for _ in range(6)]
    csr = make_csr()

    def issue_some(client: Any) -> list[str]:
        return [
            client.issue_certificate(
                CertificateAuthorityArn=root,
                Csr=csr,
                SigningAlgorithm="SHA256WITHECDSA",
                Validity={"Value": 1, "Type": "DAYS"},
            )["CertificateArn"]
            for _ in range(8)
        ]

    with ThreadPoolExecutor(len(clients)) as pool:
        arns = [arn for batch in pool.map(issue_some, clients) for arn in batch]
    assert len(set(arns)) == 48
    issuer = ca_certificate(hsm, root)
    for arn in arns[::8]:
        pem = hsm.get_certificate(CertificateAuthorityArn=root, CertificateArn=arn)["Certificate"]
        x509.load_pem_x509_certificate(pem.encode()).verify_directly_issued_by(issuer)


# --- what the token shows, and what is nowhere else ------------------------------------------


def test_pkcs11_tool_shows_ca_keys_sensitive_never_extractable_sign_only(
    hsm: Any, softhsm: SoftHsmToken
) -> None:
    cas = [new_root(hsm, "RSA_2048", "SHA256WITHRSA"), new_root(hsm)]
    keys = token_private_keys(softhsm)
    for arn in cas:
        key = keys[arn]
        assert key["ID"] == ca_id(arn)
        access = {word.strip() for word in key["Access"].split(",")}
        assert {"sensitive", "always sensitive", "never extractable", "local"} <= access
        assert "extractable" not in access
        assert key["Usage"].strip() == "sign"


def private_key_patterns(public_key: Any) -> list[bytes]:
    """DER fragments that only an encoding of the private key would contain.

    RSA (PKCS#1 RSAPrivateKey, bare or in PKCS#8): version 0 followed by the modulus. EC
    (RFC 5915 ECPrivateKey, bare or in PKCS#8): the public point inside the [1] wrapper. A
    certificate or CSR holds the modulus or the point too, but never so introduced.
    """
    if isinstance(public_key, rsa.RSAPublicKey):
        n = public_key.public_numbers().n
        body = n.to_bytes(n.bit_length() // 8 + 1, "big")
        return [b"\x02\x01\x00\x02\x82" + len(body).to_bytes(2, "big") + body]
    point = public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    bits = b"\x03" + _der_length(len(point) + 1) + b"\x00" + point
    return [b"\xa1" + _der_length(len(bits)) + bits]


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def private_key_traces(folder: Path, public_keys: list[Any]) -> list[str]:
    """Files under `folder` (and a text dump of any SQLite database there) holding a private key
    of one of `public_keys`, or any PEM private key."""
    patterns = [pattern for key in public_keys for pattern in private_key_patterns(key)]
    found: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        texts = [data]
        if path.suffix == ".db":
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
                texts.append("\n".join(connection.iterdump()).encode())
        if any(
            b"PRIVATE KEY-----" in text
            or any(
                pattern in text or pattern.hex().upper().encode() in text for pattern in patterns
            )
            for text in texts
        ):
            found.append(str(path))
    return found


def test_the_scan_finds_a_private_key_where_there_is_one(tmp_path: Path) -> None:
    """The scan below must be able to fail: it finds PKCS#8 DER and a SQLite blob of each kind."""
    for key in (rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP384R1())):
        folder = tmp_path / type(key).__name__
        folder.mkdir()
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        (folder / "leaked.der").write_bytes(der)
        with sqlite3.connect(folder / "leaked.db") as connection:
            connection.execute("CREATE TABLE t (b BLOB)")
            connection.execute("INSERT INTO t VALUES (?)", (der,))
        traces = private_key_traces(folder, [key.public_key()])
        assert traces == [str(folder / "leaked.db"), str(folder / "leaked.der")]


def test_no_private_key_bytes_in_the_data_dir_or_the_database(
    hsm: Any, hsm_server: LiveServer, softhsm: SoftHsmToken
) -> None:
    cas = [
        new_root(hsm, "RSA_2048", "SHA256WITHRSA"),
        new_root(hsm, "EC_secp384r1", "SHA384WITHECDSA"),
    ]
    listed = hsm.list_certificate_authorities()["CertificateAuthorities"]
    public_keys = [
        ca_certificate(hsm, ca["Arn"]).public_key() for ca in listed if ca["Status"] == "ACTIVE"
    ]
    assert len(public_keys) >= len(cas)
    assert private_key_traces(hsm_server.data_dir, public_keys) == []
    # What the CA rows keep is the token's name and the CKA_ID, not a sealed key.
    with sqlite3.connect(f"file:{hsm_server.data_dir / 'pica.db'}?mode=ro", uri=True) as db:
        rows = dict(
            db.execute(
                "SELECT arn, private_key_ref || ':' || hex(private_key_ciphertext) "
                "FROM certificate_authorities"
            ).fetchall()
        )
    for arn in cas:
        assert rows[arn] == f"pkcs11:{softhsm.label}:{ca_id(arn).upper()}"


def test_readyz_checks_the_token(hsm_server: LiveServer) -> None:
    status, _, body = http(f"{hsm_server.endpoint}/readyz")
    assert status == 200
    assert json.loads(body)["checks"] == {
        "database": "ok",
        "key_store": "ok",
        "object_store": "ok",
        "pkcs11_token": "ok",
    }


# --- start-up that cannot work: one line -------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"PICA_PKCS11_PIN": "0000"}, "the PIN of the PKCS#11 token 'pica-test' is wrong"),
        ({"PICA_PKCS11_TOKEN_LABEL": "absent"}, "no PKCS#11 token labelled 'absent'"),
        ({"PICA_PKCS11_MODULE": "/nonexistent/libpkcs11.so"}, "cannot load the PKCS#11 module"),
    ],
)
def test_a_token_pica_cannot_use_stops_the_start_with_one_line(
    softhsm: SoftHsmToken, tmp_path: Path, change: dict[str, str], expected: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PICA_"))}
    env.update(softhsm.pica_env())
    env.update(change)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pica",
            "serve",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode != 0
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], completed.stderr
    assert "Traceback" not in completed.stderr
