"""CertificateAuthorityService in-process, where the clock matters: a CA whose certificate has
expired reports EXPIRED and refuses what an expired CA cannot do, a status change records when
it happened, and a deleted CA can be restored only inside its PermanentDeletionTimeInDays.
On the in-memory store and a frozen clock: every time asserted is exact, none waited for."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pica.authority import idempotency
from pica.authority.authorities import CreateCaRequest
from pica.authority.ca_access import Caller
from pica.authority.certificates import IssueRequest
from pica.authority.model import (
    CaConfiguration,
    CaStatus,
    CaType,
    KeyAlgorithm,
    SigningAlgorithm,
    Subject,
    Validity,
    ValidityType,
)
from pica.errors import InvalidState, NotFound
from pica.wire.awsjson.codec import render_ca
from tests.support.in_process import InProcess, in_process
from tests.support.pki import make_csr
from tests.support.runtime import active_root


@pytest.fixture
def world(tmp_path: Path) -> InProcess:
    return in_process(tmp_path / "data")


@pytest.fixture
def caller(world: InProcess) -> Caller:
    return world.new_caller()


def issue_request(ca_arn: str) -> IssueRequest:
    return IssueRequest(
        ca_arn=ca_arn,
        csr=make_csr(),
        signing_algorithm=SigningAlgorithm.SHA256WITHECDSA,
        validity=Validity(1, ValidityType.DAYS),
    )


def test_a_ca_whose_certificate_expired_reports_expired(world: InProcess, caller: Caller) -> None:
    authorities = world.services.authorities
    certificates = world.services.certificates
    clock = world.clock
    arn, certificate = active_root(world, caller, validity=Validity(2, ValidityType.DAYS))
    leaf_arn = certificates.issue(caller, issue_request(arn))
    ca = authorities.describe(caller, arn)
    assert render_ca(ca, clock.now())["Status"] == "ACTIVE"
    assert ca.not_after == certificate.not_valid_after_utc

    clock.set(certificate.not_valid_after_utc - timedelta(seconds=1))
    assert render_ca(authorities.describe(caller, arn), clock.now())["Status"] == "ACTIVE"
    clock.advance(timedelta(seconds=1))

    assert ca.status is CaStatus.ACTIVE  # the stored status: EXPIRED is derived from the time
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


def test_a_status_change_records_when_it_happened(world: InProcess, caller: Caller) -> None:
    authorities = world.services.authorities
    arn, _ = active_root(world, caller)
    created = authorities.describe(caller, arn).last_state_change_at
    assert created == world.clock.now()

    disabled_at = world.clock.advance(timedelta(minutes=5))
    authorities.update(caller, arn, CaStatus.DISABLED, None)
    disabled = authorities.describe(caller, arn)
    assert disabled.status is CaStatus.DISABLED
    assert disabled.last_state_change_at == disabled_at
    with pytest.raises(InvalidState, match="Current status: DISABLED"):
        world.services.certificates.issue(caller, issue_request(arn))

    enabled_at = world.clock.advance(timedelta(minutes=5))
    authorities.update(caller, arn, CaStatus.ACTIVE, None)
    enabled = authorities.describe(caller, arn)
    assert enabled.status is CaStatus.ACTIVE
    assert enabled.last_state_change_at == enabled_at
    # The same status again is accepted and is no change.
    world.clock.advance(timedelta(minutes=5))
    authorities.update(caller, arn, CaStatus.ACTIVE, None)
    assert authorities.describe(caller, arn).last_state_change_at == enabled_at


def deleted_ca(world: InProcess, caller: Caller, days: int | None) -> str:
    authorities = world.services.authorities
    arn, _ = active_root(world, caller)
    authorities.update(caller, arn, CaStatus.DISABLED, None)
    authorities.delete(caller, arn, days)
    return arn


def test_a_deleted_ca_is_restorable_until_its_permanent_deletion_time(
    world: InProcess, caller: Caller
) -> None:
    authorities = world.services.authorities
    deleted_at = world.clock.now()
    arn = deleted_ca(world, caller, 10)
    ca = authorities.describe(caller, arn)
    assert ca.status is CaStatus.DELETED
    assert ca.restorable_until == deleted_at + timedelta(days=10)

    world.clock.set(deleted_at + timedelta(days=10) - timedelta(seconds=1))
    assert authorities.purge_deleted() == 0
    authorities.restore(caller, arn)
    restored = authorities.describe(caller, arn)
    # A CA restores into the status it had when deleted, and without a deadline.
    assert restored.status is CaStatus.DISABLED
    assert restored.restorable_until is None
    assert restored.last_state_change_at == world.clock.now()


def test_after_the_window_a_deleted_ca_is_gone(world: InProcess, caller: Caller) -> None:
    authorities = world.services.authorities
    deleted_at = world.clock.now()
    arn = deleted_ca(world, caller, None)  # AWS's default window: 30 days
    assert authorities.describe(caller, arn).restorable_until == deleted_at + timedelta(days=30)

    world.clock.set(deleted_at + timedelta(days=30))
    # Past the window the CA is not found even before the purger removed it...
    with pytest.raises(NotFound):
        authorities.restore(caller, arn)
    with pytest.raises(NotFound):
        authorities.describe(caller, arn)
    # ...and the purger then removes it with everything it owned.
    assert authorities.purge_deleted() == 1
    with world.store.transaction(read_only=True) as tx:
        assert tx.get_ca(arn) is None
        assert tx.count_cas(caller.account_id) == 0


def test_create_with_a_token_replays_inside_the_window_only(
    world: InProcess, caller: Caller
) -> None:
    authorities = world.services.authorities
    request = CreateCaRequest(
        type=CaType.ROOT,
        configuration=CaConfiguration(
            KeyAlgorithm.EC_prime256v1,
            SigningAlgorithm.SHA256WITHECDSA,
            Subject(common_name="idempotent root"),
        ),
        idempotency_token="create-1",
    )
    first = authorities.create(caller, request)
    world.clock.advance(idempotency.WINDOW - timedelta(seconds=1))
    assert authorities.create(caller, request) == first
    assert [ca.arn for ca in authorities.list_cas(caller, None, None).items] == [first]
    world.clock.advance(timedelta(seconds=1))
    second = authorities.create(caller, request)
    assert second != first
    listed = {ca.arn for ca in authorities.list_cas(caller, None, None).items}
    assert listed == {first, second}
