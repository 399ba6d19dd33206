"""The CA state machine: capabilities per status and the allowed stored transitions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from pica.authority import lifecycle
from pica.authority.lifecycle import Action
from pica.authority.model import (
    CaConfiguration,
    CaStatus,
    CaType,
    CertificateAuthority,
    KeyAlgorithm,
    KeyStorageSecurityStandard,
    RevocationConfiguration,
    SigningAlgorithm,
    Subject,
    UsageMode,
)
from pica.errors import InvalidState

NOW = datetime(2030, 1, 1, tzinfo=UTC)
ARN = (
    "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
    "00000000-0000-0000-0000-000000000000"
)


def ca(status: CaStatus, not_after: datetime | None = None) -> CertificateAuthority:
    return CertificateAuthority(
        arn=ARN,
        account_id="123456789012",
        type=CaType.ROOT,
        status=status,
        configuration=CaConfiguration(
            KeyAlgorithm.EC_prime256v1, SigningAlgorithm.SHA256WITHECDSA, Subject(common_name="x")
        ),
        revocation_configuration=RevocationConfiguration(),
        usage_mode=UsageMode.GENERAL_PURPOSE,
        key_storage_security_standard=KeyStorageSecurityStandard.FIPS_140_2_LEVEL_3_OR_HIGHER,
        created_at=NOW,
        last_state_change_at=NOW,
        not_after=not_after,
    )


@pytest.mark.parametrize("status", [CaStatus.ACTIVE, CaStatus.DISABLED])
def test_an_expired_certificate_reports_expired(status: CaStatus) -> None:
    assert ca(status, NOW - timedelta(seconds=1)).effective_status(NOW) is CaStatus.EXPIRED
    assert ca(status, NOW + timedelta(seconds=1)).effective_status(NOW) is status


def test_deleted_stays_deleted_even_when_expired() -> None:
    deleted = dataclasses.replace(ca(CaStatus.DELETED, NOW - timedelta(days=1)))
    assert deleted.effective_status(NOW) is CaStatus.DELETED


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        (Action.ISSUE, {CaStatus.ACTIVE}),
        (Action.UPDATE, {CaStatus.ACTIVE, CaStatus.DISABLED}),
        (
            Action.DELETE,
            {
                CaStatus.PENDING_CERTIFICATE,
                CaStatus.CREATING,
                CaStatus.EXPIRED,
                CaStatus.DISABLED,
                CaStatus.FAILED,
            },
        ),
        (Action.RESTORE, {CaStatus.DELETED}),
        (
            Action.IMPORT_CA_CERTIFICATE,
            {CaStatus.PENDING_CERTIFICATE, CaStatus.ACTIVE, CaStatus.EXPIRED},
        ),
    ],
)
def test_capabilities_follow_the_aws_status_table(action: Action, allowed: set[CaStatus]) -> None:
    for status in CaStatus:
        if status in allowed:
            lifecycle.require(action, status, ARN)
        else:
            with pytest.raises(InvalidState, match=ARN):
                lifecycle.require(action, status, ARN)


def test_transitions_outside_the_table_are_invalid_state() -> None:
    assert lifecycle.transition(CaStatus.ACTIVE, CaStatus.DISABLED, ARN) is CaStatus.DISABLED
    assert lifecycle.transition(CaStatus.DELETED, CaStatus.DISABLED, ARN) is CaStatus.DISABLED
    for bad in [
        (CaStatus.FAILED, CaStatus.ACTIVE),
        (CaStatus.PENDING_CERTIFICATE, CaStatus.CREATING),
        (CaStatus.DELETED, CaStatus.DELETED),
    ]:
        with pytest.raises(InvalidState):
            lifecycle.transition(*bad, ARN)
    # EXPIRED is derived from the certificate, never stored.
    assert all(CaStatus.EXPIRED not in targets for targets in lifecycle.TRANSITIONS.values())
