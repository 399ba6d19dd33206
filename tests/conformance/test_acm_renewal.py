"""ACM managed renewal, observed with short durations: on SQLite (across a restart) and on
PostgreSQL with two nodes, where exactly one of them renews each time.

Validity 18 s and an 11 s window make a certificate due 7 s after it is issued (and every 7 s
after each renewal), so each test sees its first renewal within seconds.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance.test_nodes import database  # noqa: F401  (a fixture)
from tests.support.acm import acm_client, grant_acm_renewal
from tests.support.pki import new_root
from tests.support.polling import wait_until
from tests.support.server import LiveServer, free_port

SHORT = {"PICA_ACM_CERTIFICATE_VALIDITY": "18s", "PICA_ACM_RENEWAL_WINDOW": "11s"}
PASSPHRASE = b"renewal test"


@pytest.fixture(scope="module")
def short_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("pica-acm-renew") / "data", free_port(), env=SHORT)
    live.start()
    try:
        yield live
    finally:
        live.stop()


def issue_exported(acm: Any, ca: str, *, export: bool = True) -> str:
    arn: str = acm.request_certificate(
        DomainName="renew.example.com", CertificateAuthorityArn=ca, KeyAlgorithm="EC_prime256v1"
    )["CertificateArn"]
    acm.get_waiter("certificate_validated").wait(
        CertificateArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 5}
    )
    if export:
        acm.export_certificate(CertificateArn=arn, Passphrase=PASSPHRASE)
    return arn


def wait_for_renewal(acm: Any, arn: str, serial: str, timeout: float = 20.0) -> dict[str, Any]:

    def renewed() -> dict[str, Any] | None:
        detail: dict[str, Any] = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        return detail if detail["Serial"] != serial else None

    return wait_until(renewed, timeout=timeout, interval=0.2, what=f"{arn} to be renewed")


def test_managed_renewal_renews_exported_certificates_across_a_restart(
    short_server: LiveServer,
) -> None:
    acm = acm_client(short_server)
    pca = short_server.client()
    ca = new_root(pca)
    grant_acm_renewal(pca, ca)
    arn = issue_exported(acm, ca)
    left_alone = issue_exported(acm, ca, export=False)
    first = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    kept = acm.describe_certificate(CertificateArn=left_alone)["Certificate"]["Serial"]

    # What is due is in the database: a restart before the window opens loses nothing.
    short_server.stop()
    short_server.start()
    acm = acm_client(short_server)

    renewed = wait_for_renewal(acm, arn, first["Serial"])
    assert renewed["CertificateArn"] == arn
    assert renewed["Status"] == "ISSUED"
    assert renewed["NotAfter"] > first["NotAfter"]
    assert renewed["RenewalSummary"]["RenewalStatus"] == "SUCCESS"
    # Not exported, so not eligible: never renewed.
    untouched = acm.describe_certificate(CertificateArn=left_alone)["Certificate"]
    assert untouched["Serial"] == kept
    assert untouched["RenewalEligibility"] == "INELIGIBLE"
    assert "RenewalSummary" not in untouched


@pytest.fixture(scope="module")
def nodes(
    tmp_path_factory: pytest.TempPathFactory,
    database: str,  # noqa: F811
) -> Iterator[list[LiveServer]]:
    data = tmp_path_factory.mktemp("acm-nodes") / "data"
    data.mkdir()
    (data / "pica.toml").write_text(f'database_url = "{database}"\n')
    first = LiveServer(data, free_port(), env=SHORT)
    first.start()
    second = LiveServer(data, free_port(), env=SHORT)
    second.output = data.parent / "second-server.log"
    second.start()
    try:
        yield [first, second]
    finally:
        second.stop()
        first.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.postgres
def test_two_nodes_renew_each_certificate_exactly_once(nodes: list[LiveServer]) -> None:
    first, second = nodes
    acm = acm_client(first)
    pca = first.client()
    ca = new_root(pca)
    grant_acm_renewal(pca, ca)
    arns = [issue_exported(acm, ca) for _ in range(3)]
    serials = {
        arn: acm.describe_certificate(CertificateArn=arn)["Certificate"]["Serial"] for arn in arns
    }
    via_second = acm_client(second)
    for arn in arns:
        wait_for_renewal(via_second, arn, serials[arn])
    # Each certificate's next renewal is 7 s away: every line now is its first renewal.
    logs = first.log_text() + second.log_text()
    for arn in arns:
        assert logs.count(f"renewed ACM certificate {arn} ") == 1, arn
