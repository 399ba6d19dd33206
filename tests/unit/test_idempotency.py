"""The replay rule of idempotency tokens (`pica.authority.idempotency`), at its boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pica.authority import idempotency

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)


def test_a_record_is_replayed_until_its_age_reaches_the_window() -> None:
    assert idempotency.replays(("arn-1", NOW), NOW) == "arn-1"
    assert idempotency.replays(("arn-1", NOW - idempotency.WINDOW + ONE_MS), NOW) == "arn-1"
    assert idempotency.replays(("arn-1", NOW - idempotency.WINDOW), NOW) is None
    assert idempotency.replays(None, NOW) is None


def test_the_window_is_five_minutes_as_aws_documents() -> None:
    assert timedelta(minutes=5) == idempotency.WINDOW


def test_a_record_may_be_replaced_exactly_when_it_is_no_longer_replayed() -> None:
    for age in (idempotency.WINDOW - ONE_MS, idempotency.WINDOW, idempotency.WINDOW + ONE_MS):
        recorded_at = NOW - age
        live = idempotency.replays(("arn", recorded_at), NOW) is not None
        replaceable = recorded_at <= idempotency.replaceable_before(NOW)
        assert live != replaceable, age


def test_scopes_separate_accounts_operations_and_cas() -> None:
    scopes = {
        idempotency.scope("111111111111", "IssueCertificate", "arn:ca/1"),
        idempotency.scope("111111111111", "IssueCertificate", "arn:ca/2"),
        idempotency.scope("222222222222", "IssueCertificate", "arn:ca/1"),
        idempotency.scope("111111111111", "CreateCertificateAuthority"),
    }
    assert len(scopes) == 4
