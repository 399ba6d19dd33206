"""Issuance and OCSP with CA keys in the encrypted-file store and in a SoftHSM2 token.

Run: `.venv/bin/python -m bench keystores [N]` (N requests per measurement, default 300).
Installs SoftHSM2 with apt-get when missing (as root), and makes a token in a temporary dir.

Prints, side by side in one run, for an EC P-256 and an RSA-2048 root CA:
- IssueCertificate in-process (the service, SQLite), certificates per second;
- IssueCertificate through boto3 against a live `pica serve` (one worker, SQLite);
- OCSP responses per second (POST, signed by the CA key) against the same server;
with `key_store = file` and `key_store = pkcs11`, and the token's share of each.
"""

from __future__ import annotations

import http.client
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509 import ocsp

from pica.app import bootstrap, build_runtime
from pica.authority.ca_access import Caller
from pica.authority.certificates import IssueRequest
from pica.authority.model import SigningAlgorithm, Validity, ValidityType
from pica.settings import build

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.pki import ec_key, make_csr, new_root
from tests.support.revocation import der_request
from tests.support.server import LiveServer, free_port
from tests.support.softhsm import SoftHsmToken, new_token

from bench.key_cache import _activate_in_process

KEYS = (("EC_prime256v1", "SHA256WITHECDSA"), ("RSA_2048", "SHA256WITHRSA"))


def rate(count: int, action: Callable[[], object]) -> float:
    for _ in range(min(20, count)):
        action()  # warm caches, sessions and connections
    start = time.perf_counter()
    for _ in range(count):
        action()
    return count / (time.perf_counter() - start)


def store_settings(store: str, token: SoftHsmToken) -> dict[str, str]:
    if store == "file":
        return {}
    return {
        "key_store": "pkcs11",
        "pkcs11_module": str(token.module),
        "pkcs11_token_label": token.label,
        "pkcs11_pin": token.pin,
    }


def in_process(tmp: Path, store: str, token: SoftHsmToken, count: int) -> dict[str, float]:
    runtime = build_runtime(
        build({"data_dir": str(tmp / f"inproc-{store}"), **store_settings(store, token)}),
        initialise=True,
    )
    figures: dict[str, float] = {}
    try:
        bootstrap(runtime)
        caller = Caller(runtime.services.accounts.list_accounts()[0].account_id)
        for key_algorithm, signing in KEYS:
            arn = _activate_in_process(runtime, caller, key_algorithm, signing)
            request = IssueRequest(
                ca_arn=arn,
                csr=make_csr(ec_key()),
                signing_algorithm=SigningAlgorithm(signing),
                validity=Validity(30, ValidityType.DAYS),
            )
            figures[key_algorithm] = rate(
                count, lambda r=request: runtime.services.certificates.issue(caller, r)
            )
    finally:
        runtime.close()
    return figures


def live(tmp: Path, store: str, token: SoftHsmToken, count: int) -> dict[str, tuple[float, float]]:
    env = {} if store == "file" else token.pica_env()
    server = LiveServer(tmp / f"live-{store}", free_port(), env=env)
    server.start()
    figures: dict[str, tuple[float, float]] = {}
    try:
        pca = server.raw_client()
        for key_algorithm, signing in KEYS:
            root = new_root(pca, key_algorithm, signing)
            pca.update_certificate_authority(
                CertificateAuthorityArn=root,
                RevocationConfiguration={"OcspConfiguration": {"Enabled": True}},
            )
            csr = make_csr(ec_key())

            def issue(root: str = root, signing: str = signing, csr: bytes = csr) -> str:
                arn: str = pca.issue_certificate(
                    CertificateAuthorityArn=root,
                    Csr=csr,
                    SigningAlgorithm=signing,
                    Validity={"Value": 30, "Type": "DAYS"},
                )["CertificateArn"]
                return arn

            issued = rate(count, issue)
            figures[key_algorithm] = (issued, ocsp_rate(pca, server, root, issue(), count))
    finally:
        server.stop()
    return figures


def ocsp_rate(pca: Any, server: LiveServer, root: str, arn: str, count: int) -> float:
    issuer_pem = pca.get_certificate_authority_certificate(CertificateAuthorityArn=root)
    issuer = x509.load_pem_x509_certificate(issuer_pem["Certificate"].encode())
    leaf_pem = pca.get_certificate(CertificateAuthorityArn=root, CertificateArn=arn)
    leaf = x509.load_pem_x509_certificate(leaf_pem["Certificate"].encode())
    body = der_request(issuer, leaf)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Content-Type": "application/ocsp-request"}

    def ask() -> None:
        connection.request("POST", "/ocsp", body=body, headers=headers)
        answer = ocsp.load_der_ocsp_response(connection.getresponse().read())
        assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD

    try:
        return rate(count, ask)
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    count = int(argv[0]) if argv else 300
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        token = new_token(tmp / "softhsm")
        os.environ.update(token.env)  # SoftHSM2 reads it when the module is first loaded
        inproc = {store: in_process(tmp, store, token, count) for store in ("file", "pkcs11")}
        served = {store: live(tmp, store, token, count) for store in ("file", "pkcs11")}
    print(f"CA keys in the file store and in SoftHSM2 ({count} requests each, SQLite, 1 worker):")
    print(f"  {'CA key':<15} {'measure':<34} {'file':>10} {'SoftHSM2':>10} {'ratio':>7}")
    for key_algorithm, _ in KEYS:
        rows = (
            (
                "IssueCertificate in-process /s",
                inproc["file"][key_algorithm],
                inproc["pkcs11"][key_algorithm],
            ),
            (
                "IssueCertificate via boto3 /s",
                served["file"][key_algorithm][0],
                served["pkcs11"][key_algorithm][0],
            ),
            (
                "OCSP responses (POST) /s",
                served["file"][key_algorithm][1],
                served["pkcs11"][key_algorithm][1],
            ),
        )
        for label, file_rate, token_rate in rows:
            print(
                f"  {key_algorithm:<15} {label:<34} {file_rate:10.1f} {token_rate:10.1f} "
                f"{token_rate / file_rate:6.2f}x"
            )


if __name__ == "__main__":
    main()
