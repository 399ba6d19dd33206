"""CertificateAuthorityService in-process, where the clock matters: a CA whose certificate has
expired reports EXPIRED and refuses what an expired CA cannot do, and a status change records
when it happened. The clock is moved instead of waiting, which a live server cannot do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from pica import settings
from pica.app import Runtime, build_runtime
from pica.authority.ca_access import Caller
from pica.authority.certificates import IssueRequest
from pica.authority.model import CaStatus, SigningAlgorithm, Validity, ValidityType
from pica.errors import InvalidState
from pica.wire.awsjson.codec import render_ca
from tests.support.pki import make_csr
from tests.support.runtime import MovableClock, active_root


@pytest.fixture(scope="module")
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, clock: MovableClock) -> Iterator[Runtime]:
    data_dir: Path = tmp_path_factory.mktemp("authorities") / "data"
    built = build_runtime(settings.build({"data_dir": str(data_dir)}), initialise=True, clock=clock)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def caller(runtime: Runtime, clock: MovableClock) -> Iterator[Caller]:
    """A fresh account, and the clock back at real time afterwards."""
    yield Caller(runtime.services.accounts.create_account().account_id)
    clock.offset = timedelta()


def issue_request(ca_arn: str) -> IssueRequest:
    return IssueRequest(
        ca_arn=ca_arn,
        csr=make_csr(),
        signing_algorithm=SigningAlgorithm.SHA256WITHECDSA,
        validity=Validity(1, ValidityType.DAYS),
    )


def test_a_ca_whose_certificate_expired_reports_expired(
    runtime: Runtime, caller: Caller, clock: MovableClock
) -> None:
    authorities = runtime.services.authorities
    certificates = runtime.services.certificates
    arn, certificate = active_root(runtime, caller, validity=Validity(2, ValidityType.DAYS))
    leaf_arn = certificates.issue(caller, issue_request(arn))
    ca = authorities.describe(caller, arn)
    assert render_ca(ca, clock.now())["Status"] == "ACTIVE"
    assert ca.not_after == certificate.not_valid_after_utc

    clock.offset = certificate.not_valid_after_utc - clock.now() + timedelta(seconds=1)

    assert render_ca(authorities.describe(caller, arn), clock.now())["Status"] == "EXPIRED"
    (listed,) = [item for item in authorities.list_cas(caller, None, None).items if item.arn == arn]
    assert listed.effective_status(clock.now()) is CaStatus.EXPIRED
    with pytest.raises(InvalidState, match="Current status: EXPIRED"):
        certificates.issue(caller, issue_request(arn))
    for target in (CaStatus.ACTIVE, CaStatus.DISABLED):
        with pytest.raises(InvalidState):
            authorities.update(caller, arn, target, None)
    # What it issued (its own certificate included) stays retrievable.
    assert certificates.get(caller, arn, leaf_arn).certificate
    assert authorities.get_ca_certificate(caller, arn)[0]

    authorities.delete(caller, arn, 7)
    assert authorities.describe(caller, arn).status is CaStatus.DELETED
    authorities.restore(caller, arn)
    assert render_ca(authorities.describe(caller, arn), clock.now())["Status"] == "EXPIRED"


def test_a_status_change_records_when_it_happened(
    runtime: Runtime, caller: Caller, clock: MovableClock
) -> None:
    authorities = runtime.services.authorities
    arn, _ = active_root(runtime, caller)
    created = authorities.describe(caller, arn).last_state_change_at

    clock.offset = timedelta(minutes=5)
    authorities.update(caller, arn, CaStatus.DISABLED, None)
    disabled = authorities.describe(caller, arn)
    assert disabled.status is CaStatus.DISABLED
    assert disabled.last_state_change_at - created >= timedelta(minutes=5)
    with pytest.raises(InvalidState, match="Current status: DISABLED"):
        runtime.services.certificates.issue(caller, issue_request(arn))

    clock.offset = timedelta(minutes=10)
    authorities.update(caller, arn, CaStatus.ACTIVE, None)
    enabled = authorities.describe(caller, arn)
    assert enabled.status is CaStatus.ACTIVE
    assert enabled.last_state_change_at - disabled.last_state_change_at >= timedelta(minutes=5)
    # The same status again is accepted and is no change.
    authorities.update(caller, arn, CaStatus.ACTIVE, None)
    assert authorities.describe(caller, arn).last_state_change_at == enabled.last_state_change_at
