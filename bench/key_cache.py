"""Issuance cost in-process and over the wire, and what caching the decrypted CA key saves.

Run: `.venv/bin/python -m bench keycache [N]` (N requests per measurement, default 300).

Prints, measured side by side in one run:
- IssueCertificate in-process with the CA key opened once (the cache) versus opened and
  decrypted on every request (what pica avoids), and their ratio, for an EC P-256 and an RSA-2048
  CA;
- IssueCertificate in-process from an EC P-256 root whose certificate carries name constraints
  (what checking them costs, next to the unconstrained P-256 figure);
- IssueCertificate and DescribeCertificateAuthority through boto3 against a live `pica serve`
  (SQLite, one worker), requests per second.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pica.app import bootstrap, build_runtime
from pica.authority.authorities import CreateCaRequest
from pica.authority.ca_access import Caller
from pica.authority.certificates import IssueRequest
from pica.authority.issuers import IssuerCache
from pica.authority.model import (
    ApiPassthrough,
    CaConfiguration,
    CaType,
    CustomExtension,
    Extensions,
    KeyAlgorithm,
    SigningAlgorithm,
    Subject,
    Validity,
    ValidityType,
)
from pica.settings import build

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.pki import ec_key, make_csr, new_root
from tests.support.server import LiveServer, free_port


def rate(label: str, count: int, action: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(count):
        action()
    elapsed = time.perf_counter() - start
    per_second = count / elapsed
    print(f"  {label:<58} {per_second:9.1f}/s  {1000 * elapsed / count:7.2f} ms each")
    return per_second


def in_process(tmp: Path, count: int) -> None:
    print(f"In-process IssueCertificate ({count} each, SQLite):")
    settings = build({"data_dir": str(tmp / "inproc")})
    runtime = build_runtime(settings, initialise=True)
    try:
        bootstrap(runtime)
        account = runtime.services.accounts.list_accounts()[0].account_id
        caller = Caller(account)

        for key_algorithm, signing in (
            ("EC_prime256v1", "SHA256WITHECDSA"),
            ("RSA_2048", "SHA256WITHRSA"),
        ):
            measure_key_cache(runtime, caller, key_algorithm, signing, count)
        measure_name_constraints(runtime, caller, count)
    finally:
        runtime.close()


def measure_key_cache(
    runtime: Any, caller: Caller, key_algorithm: str, signing: str, count: int
) -> None:
    arn = _activate_in_process(runtime, caller, key_algorithm, signing)
    request = IssueRequest(
        ca_arn=arn,
        csr=make_csr(ec_key()),
        signing_algorithm=SigningAlgorithm(signing),
        validity=Validity(30, ValidityType.DAYS),
    )
    certificates = runtime.services.certificates
    keys = certificates._keys  # the key store, whose cache is under test
    reference = runtime.services.authorities.describe(caller, arn).key_reference

    def cached() -> None:
        certificates.issue(caller, request)

    def cold() -> None:
        # Forget the opened key and the issuer entry that holds its signer.
        keys.discard(reference)
        certificates._issuers = IssuerCache()
        certificates.issue(caller, request)

    for _ in range(20):  # warm the database and code paths before either measurement
        cached()
    hot = rate(f"{key_algorithm}: CA key opened once (pica)", count, cached)
    cool = rate(f"{key_algorithm}: CA key decrypted per request", count, cold)
    print(f"  {key_algorithm}: caching the key makes issuance {hot / cool:.2f}x faster")


# NameConstraints: permitted dNSName example.com, iPAddress 10.0.0.0/8; excluded dNSName
# bad.example.com (DER, base64).
_NAME_CONSTRAINTS = "MDKgGzANggtleGFtcGxlLmNvbTAKhwgKAAAA/wAAAKETMBGCD2JhZC5leGFtcGxlLmNvbQ=="


def measure_name_constraints(runtime: Any, caller: Caller, count: int) -> None:
    constraints = ApiPassthrough(
        extensions=Extensions(
            custom_extensions=(CustomExtension("2.5.29.30", _NAME_CONSTRAINTS, critical=True),)
        )
    )
    arn = _activate_in_process(
        runtime, caller, "EC_prime256v1", "SHA256WITHECDSA", root_passthrough=constraints
    )
    request = IssueRequest(
        ca_arn=arn,
        csr=make_csr(ec_key(), dns_names=("www.example.com", "api.example.com")),
        signing_algorithm=SigningAlgorithm.SHA256WITHECDSA,
        validity=Validity(30, ValidityType.DAYS),
    )
    certificates = runtime.services.certificates
    for _ in range(20):
        certificates.issue(caller, request)
    rate(
        "EC_prime256v1: root with name constraints, 2 SANs",
        count,
        lambda: certificates.issue(caller, request),
    )


def _activate_in_process(
    runtime: Any,
    caller: Caller,
    key_algorithm: str,
    signing: str,
    root_passthrough: ApiPassthrough | None = None,
) -> str:
    authorities = runtime.services.authorities
    arn: str = authorities.create(
        caller,
        CreateCaRequest(
            type=CaType.ROOT,
            configuration=CaConfiguration(
                KeyAlgorithm(key_algorithm), SigningAlgorithm(signing), Subject(common_name="bench")
            ),
        ),
    )
    csr = authorities.get_csr(caller, arn).encode()
    root_arn = runtime.services.certificates.issue(
        caller,
        IssueRequest(
            ca_arn=arn,
            csr=csr,
            signing_algorithm=SigningAlgorithm(signing),
            validity=Validity(5, ValidityType.YEARS),
            template_arn="arn:aws:acm-pca:::template/RootCACertificate/V1"
            if root_passthrough is None
            else "arn:aws:acm-pca:::template/RootCACertificate_APIPassthrough/V1",
            api_passthrough=root_passthrough,
        ),
    )
    got = runtime.services.certificates.get(caller, arn, root_arn)
    authorities.import_certificate(caller, arn, got.certificate.encode(), None)
    return arn


def over_the_wire(tmp: Path, count: int) -> None:
    print(f"Live server through boto3 ({count} requests each, one worker, SQLite):")
    server = LiveServer(tmp / "live", free_port())
    server.start()
    try:
        pca = server.client()
        arn = new_root(pca)
        csr = make_csr(ec_key())
        rate(
            "IssueCertificate (EC P-256 CA)",
            count,
            lambda: pca.issue_certificate(
                CertificateAuthorityArn=arn,
                Csr=csr,
                SigningAlgorithm="SHA256WITHECDSA",
                Validity={"Value": 30, "Type": "DAYS"},
            ),
        )
        rate(
            "DescribeCertificateAuthority",
            count,
            lambda: pca.describe_certificate_authority(CertificateAuthorityArn=arn),
        )
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    count = int(argv[0]) if argv else 300
    with tempfile.TemporaryDirectory() as tmp:
        in_process(Path(tmp), count)
        over_the_wire(Path(tmp), count)


if __name__ == "__main__":
    main()
