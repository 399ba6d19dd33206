"""ACM renewal refused by the CA's permissions, and the retry backoff; in-process on the memory
store and a frozen clock (the real services and permission store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pica.authority.acm.certificates import CertificateRequest, renewal_due
from pica.authority.acm.model import AcmKeyAlgorithm, RenewalStatus
from pica.authority.acm.renewal import RENEWAL_ACTIONS, retry_delay
from tests.support.in_process import in_process
from tests.support.runtime import active_root


def test_a_ca_without_the_acm_permissions_fails_renewal_with_pca_access_denied(
    tmp_path: Path,
) -> None:
    world = in_process(tmp_path / "data")
    caller = world.new_caller()
    root_arn, _ = active_root(world, caller, common_name="acm unit root")
    acm = world.acm
    arn = acm.certificates.request(
        caller,
        CertificateRequest(
            "www.example.com", ca_arn=root_arn, key_algorithm=AcmKeyAlgorithm.EC_prime256v1
        ),
    )
    acm.certificates.export(caller, arn, b"passphrase")
    before = acm.certificates.describe(caller, arn)
    acm.renewals.renew(caller, arn)
    after = acm.certificates.describe(caller, arn)
    assert after.renewal is not None
    assert after.renewal.status is RenewalStatus.FAILED
    assert after.renewal.reason == "PCA_ACCESS_DENIED"
    assert after.serial == before.serial
    assert after.renewal_attempts == 1
    assert after.lease_until is None
    assert after.next_renewal_at == world.clock.now() + retry_delay(1)

    # Two of the three actions are not enough; all three are.
    permissions = world.services.permissions
    permissions.create(caller, root_arn, "acm.amazonaws.com", list(RENEWAL_ACTIONS[:2]), None)
    acm.renewals.renew(caller, arn)
    assert acm.certificates.describe(caller, arn).serial == before.serial
    permissions.delete(caller, root_arn, "acm.amazonaws.com", None)
    permissions.create(caller, root_arn, "acm.amazonaws.com", list(RENEWAL_ACTIONS), None)
    acm.renewals.renew(caller, arn)
    renewed = acm.certificates.describe(caller, arn)
    assert renewed.serial != before.serial
    assert renewed.renewal is not None and renewed.renewal.status is RenewalStatus.SUCCESS


def test_retries_back_off_exponentially_up_to_six_hours() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [15, 30, 60]
    assert retry_delay(40) == timedelta(hours=6)


def test_renewal_starts_in_the_window_but_never_in_the_first_half() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    year = start + timedelta(days=395)
    assert renewal_due(start, year, timedelta(days=60)) == year - timedelta(days=60)
    assert renewal_due(start, start + timedelta(days=10), timedelta(days=60)) == start + timedelta(
        days=5
    )
