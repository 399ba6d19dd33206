"""CertificateService in-process (memory store, frozen clock): IssueCertificate's idempotency
token answers a replay inside the window with the first certificate's ARN and issues nothing;
from the moment the window has passed the same token issues a new certificate."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pica.authority import idempotency
from pica.authority.certificates import IssueRequest
from pica.authority.model import SigningAlgorithm, Validity, ValidityType
from tests.support.in_process import InProcess, in_process
from tests.support.pki import make_csr
from tests.support.runtime import active_root


@pytest.fixture
def world(tmp_path: Path) -> InProcess:
    return in_process(tmp_path / "data")


def request(ca_arn: str, csr: bytes, token: str | None) -> IssueRequest:
    return IssueRequest(
        ca_arn=ca_arn,
        csr=csr,
        signing_algorithm=SigningAlgorithm.SHA256WITHECDSA,
        validity=Validity(7, ValidityType.DAYS),
        idempotency_token=token,
    )


def stored(world: InProcess, ca_arn: str) -> int:
    with world.store.transaction(read_only=True) as tx:
        return len(tx.list_issued_certificates(ca_arn, limit=1000))


def test_a_replay_inside_the_window_returns_the_same_arn_and_issues_nothing(
    world: InProcess,
) -> None:
    caller = world.new_caller()
    ca_arn, _ = active_root(world, caller)
    certificates = world.services.certificates
    csr = make_csr()
    before = stored(world, ca_arn)

    first = certificates.issue(caller, request(ca_arn, csr, "token-1"))
    world.clock.advance(idempotency.WINDOW - timedelta(seconds=1))
    assert certificates.issue(caller, request(ca_arn, csr, "token-1")) == first
    assert stored(world, ca_arn) == before + 1

    # Another token, or none, is another request.
    other = certificates.issue(caller, request(ca_arn, csr, "token-2"))
    untokened = certificates.issue(caller, request(ca_arn, csr, None))
    assert len({first, other, untokened}) == 3
    assert stored(world, ca_arn) == before + 3


def test_once_the_window_has_passed_the_token_issues_a_new_certificate(
    world: InProcess,
) -> None:
    caller = world.new_caller()
    ca_arn, _ = active_root(world, caller)
    certificates = world.services.certificates
    csr = make_csr()
    first = certificates.issue(caller, request(ca_arn, csr, "token-1"))

    world.clock.advance(idempotency.WINDOW)
    second = certificates.issue(caller, request(ca_arn, csr, "token-1"))
    assert second != first
    # The new certificate now owns the token: a replay answers with it, not the first.
    world.clock.advance(timedelta(minutes=1))
    assert certificates.issue(caller, request(ca_arn, csr, "token-1")) == second
    assert certificates.get(caller, ca_arn, first).certificate
    assert certificates.get(caller, ca_arn, second).certificate


def test_the_token_is_scoped_per_account_and_per_ca(world: InProcess) -> None:
    alice, bob = world.new_caller(), world.new_caller()
    alice_ca, _ = active_root(world, alice)
    alice_other_ca, _ = active_root(world, alice, common_name="second CA")
    bob_ca, _ = active_root(world, bob)
    certificates = world.services.certificates
    csr = make_csr()
    arns = {
        certificates.issue(alice, request(alice_ca, csr, "shared")),
        certificates.issue(alice, request(alice_other_ca, csr, "shared")),
        certificates.issue(bob, request(bob_ca, csr, "shared")),
    }
    assert len(arns) == 3
