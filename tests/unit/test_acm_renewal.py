"""ACM renewal refused by the CA's permissions, and the retry backoff; on an in-process pica
(SQLite, the real services and permission store)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pica.app import build_acm_services, build_runtime
from pica.authority.acm.certificates import CertificateRequest, renewal_due
from pica.authority.acm.model import AcmKeyAlgorithm, RenewalStatus
from pica.authority.acm.renewal import RENEWAL_ACTIONS, retry_delay
from pica.authority.ca_access import Caller
from pica.authority.clock import SystemClock
from pica.root_ca import RootRequest, create_root
from pica.settings import build


def test_a_ca_without_the_acm_permissions_fails_renewal_with_pca_access_denied(
    tmp_path: Path,
) -> None:
    settings = build({"data_dir": str(tmp_path / "data")})
    root = create_root(settings, RootRequest("acm unit root", key_algorithm="EC_prime256v1"))
    runtime = build_runtime(settings, initialise=False)
    try:
        clock = SystemClock()
        acm = build_acm_services(
            settings,
            runtime.store,
            runtime.key_store,
            runtime.services.certificates,
            clock,
        )
        caller = Caller(root.account_id)
        arn = acm.certificates.request(
            caller,
            CertificateRequest(
                "www.example.com", ca_arn=root.arn, key_algorithm=AcmKeyAlgorithm.EC_prime256v1
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
        assert after.next_renewal_at is not None and after.lease_until is None
        wait = after.next_renewal_at - clock.now()
        assert timedelta(seconds=10) < wait <= timedelta(seconds=15)

        # Two of the three actions are not enough; all three are.
        permissions = runtime.services.permissions
        permissions.create(caller, root.arn, "acm.amazonaws.com", list(RENEWAL_ACTIONS[:2]), None)
        acm.renewals.renew(caller, arn)
        assert acm.certificates.describe(caller, arn).serial == before.serial
        permissions.delete(caller, root.arn, "acm.amazonaws.com", None)
        permissions.create(caller, root.arn, "acm.amazonaws.com", list(RENEWAL_ACTIONS), None)
        acm.renewals.renew(caller, arn)
        renewed = acm.certificates.describe(caller, arn)
        assert renewed.serial != before.serial
        assert renewed.renewal is not None and renewed.renewal.status is RenewalStatus.SUCCESS
    finally:
        runtime.close()


def test_retries_back_off_exponentially_up_to_six_hours() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [15, 30, 60]
    assert retry_delay(40) == timedelta(hours=6)


def test_renewal_starts_in_the_window_but_never_in_the_first_half() -> None:
    from datetime import UTC, datetime

    start = datetime(2026, 1, 1, tzinfo=UTC)
    year = start + timedelta(days=395)
    assert renewal_due(start, year, timedelta(days=60)) == year - timedelta(days=60)
    assert renewal_due(start, start + timedelta(days=10), timedelta(days=60)) == start + timedelta(
        days=5
    )
