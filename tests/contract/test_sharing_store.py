"""The sharing and oversight store ports (permissions, policies, requesters, audit reports) on
every storage engine (SQLite file, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pica.adapters.storage.sql_store import SqlStore
from pica.authority.ca_access import service_may
from pica.authority.model import RevocationReason
from pica.authority.sharing import (
    ACM_PRINCIPAL,
    AuditReport,
    AuditReportFormat,
    AuditReportStatus,
    Permission,
)
from pica.errors import Conflict
from tests.contract.test_store import (
    ACCOUNT,
    CA_ARN,
    OTHER_ACCOUNT,
    T0,
    ca_arn,
    make_ca,
    make_certificate,
    seed_ca,
)

OTHER_CA = ca_arn(OTHER_ACCOUNT, "99999999-2222-3333-4444-555555555555")


def permission(source: str | None = None, *actions: str) -> Permission:
    return Permission(CA_ARN, ACM_PRINCIPAL, source, actions or ("IssueCertificate",), T0)


def report(report_id: str, at_minutes: int = 0, ca: str = CA_ARN) -> AuditReport:
    return AuditReport(
        report_id=report_id,
        ca_arn=ca,
        bucket="audit",
        key=f"audit-report/x/{report_id}.json",
        format=AuditReportFormat.JSON,
        status=AuditReportStatus.CREATING,
        created_at=T0 + timedelta(minutes=at_minutes),
    )


def test_permissions_are_unique_per_principal_and_source_account(store: SqlStore) -> None:
    seed_ca(store)
    with store.transaction() as tx:
        tx.insert_permission(permission(None, "IssueCertificate", "GetCertificate"))
        tx.insert_permission(permission(ACCOUNT))
        with pytest.raises(Conflict):
            tx.insert_permission(permission(None, "ListPermissions"))
        # The conflict did not poison the transaction.
        assert tx.get_permission(CA_ARN, ACM_PRINCIPAL, None) == permission(
            None, "IssueCertificate", "GetCertificate"
        )
    with store.transaction(read_only=True) as tx:
        assert [p.source_account for p in tx.list_permissions(CA_ARN)] == [None, ACCOUNT]
        assert tx.get_permission(CA_ARN, ACM_PRINCIPAL, OTHER_ACCOUNT) is None
    with store.transaction() as tx:
        assert tx.delete_permission(CA_ARN, ACM_PRINCIPAL, None)
        assert not tx.delete_permission(CA_ARN, ACM_PRINCIPAL, None)
        assert [p.source_account for p in tx.list_permissions(CA_ARN)] == [ACCOUNT]


def test_policies_put_replace_delete_and_who_they_share_with(store: SqlStore) -> None:
    seed_ca(store)
    seed_ca(store, make_ca(OTHER_CA, OTHER_ACCOUNT))
    third = "777788889999"
    with store.transaction() as tx:
        assert tx.get_policy(CA_ARN) is None
        tx.put_policy(CA_ARN, "first", frozenset({OTHER_ACCOUNT}), T0)
        tx.put_policy(OTHER_CA, "everyone", frozenset({"*"}), T0)
    with store.transaction(read_only=True) as tx:
        assert tx.get_policy(CA_ARN) == "first"
        assert tx.list_cas_shared_with(OTHER_ACCOUNT, limit=10) == [CA_ARN]
        # A CA shared with everyone is not listed for its own account.
        assert tx.list_cas_shared_with(ACCOUNT, limit=10) == [OTHER_CA]
        assert tx.list_cas_shared_with(third, limit=10) == [OTHER_CA]
        assert tx.list_cas_shared_with(third, limit=10, after_arn=OTHER_CA) == []
    with store.transaction() as tx:
        tx.put_policy(CA_ARN, "second", frozenset({third, "*"}), T0)
    with store.transaction(read_only=True) as tx:
        assert tx.get_policy(CA_ARN) == "second"
        assert sorted(tx.list_cas_shared_with(third, limit=10)) == sorted([CA_ARN, OTHER_CA])
        assert tx.list_cas_shared_with(third, limit=1) == [min(CA_ARN, OTHER_CA)]
    with store.transaction() as tx:
        assert tx.delete_policy(CA_ARN)
        assert not tx.delete_policy(CA_ARN)
        assert tx.get_policy(CA_ARN) is None
        assert tx.list_cas_shared_with(third, limit=10) == [OTHER_CA]


def test_a_purged_ca_takes_its_sharing_rows_with_it(store: SqlStore) -> None:
    seed_ca(store)
    with store.transaction() as tx:
        tx.insert_certificate(make_certificate(1))
        tx.record_requester(CA_ARN, 1, OTHER_ACCOUNT)
        tx.insert_permission(permission())
        tx.put_policy(CA_ARN, "p", frozenset({OTHER_ACCOUNT}), T0)
        tx.insert_audit_report(report("r1"))
    with store.transaction() as tx:
        tx.delete_ca(CA_ARN)
    seed_ca(store)
    with store.transaction(read_only=True) as tx:
        assert tx.list_permissions(CA_ARN) == []
        assert tx.get_policy(CA_ARN) is None
        assert tx.list_cas_shared_with(OTHER_ACCOUNT, limit=10) == []
        assert tx.get_audit_report(CA_ARN, "r1") is None
        assert list(tx.audit_entries(CA_ARN)) == []


def test_audit_entries_stream_every_certificate_with_its_requester(store: SqlStore) -> None:
    seed_ca(store)
    with store.transaction() as tx:
        for serial in range(1, 6):
            tx.insert_certificate(
                make_certificate(serial, issued_at=T0 + timedelta(seconds=serial))
            )
        tx.record_requester(CA_ARN, 3, OTHER_ACCOUNT)
        tx.revoke_certificate(CA_ARN, 2, T0 + timedelta(hours=1), RevocationReason.KEY_COMPROMISE)
    with store.transaction(read_only=True) as tx:
        entries = list(tx.audit_entries(CA_ARN))
    assert [e.serial for e in entries] == [1, 2, 3, 4, 5]
    assert [e.requester_account for e in entries] == [None, None, OTHER_ACCOUNT, None, None]
    assert entries[1].revoked_at == T0 + timedelta(hours=1)
    assert entries[1].revocation_reason is RevocationReason.KEY_COMPROMISE
    assert entries[0].revoked_at is None and entries[0].revocation_reason is None
    assert entries[0].certificate_der == make_certificate(1).certificate_der
    assert entries[0].issued_at.tzinfo is not None


def test_audit_reports_rate_and_leases(store: SqlStore) -> None:
    seed_ca(store)
    with store.transaction() as tx:
        assert tx.last_audit_report_at(CA_ARN) is None
        tx.insert_audit_report(report("r1", 0))
        tx.insert_audit_report(report("r2", 40))
    with store.transaction() as tx:
        assert tx.last_audit_report_at(CA_ARN) == T0 + timedelta(minutes=40)
        assert tx.get_audit_report(CA_ARN, "r1") == report("r1", 0)
        assert tx.get_audit_report(OTHER_CA, "r1") is None
        now = T0 + timedelta(hours=1)
        claimed = tx.claim_audit_reports(now, now + timedelta(minutes=5), 10)
        assert [r.report_id for r in claimed] == ["r1", "r2"]
        # Leased: another node finds nothing until the lease runs out.
        assert tx.claim_audit_reports(now, now + timedelta(minutes=5), 10) == []
        later = now + timedelta(minutes=6)
        assert [r.report_id for r in tx.claim_audit_reports(later, later, 1)] == ["r1"]
        tx.finish_audit_report("r1", AuditReportStatus.SUCCESS)
        tx.finish_audit_report("r2", AuditReportStatus.FAILED)
        much_later = later + timedelta(hours=1)
        assert tx.claim_audit_reports(much_later, much_later, 10) == []
        assert tx.get_audit_report(CA_ARN, "r1").status is AuditReportStatus.SUCCESS  # type: ignore[union-attr]
        assert tx.get_audit_report(CA_ARN, "r2").status is AuditReportStatus.FAILED  # type: ignore[union-attr]


def test_service_may_reads_the_permissions_of_the_cas_own_account(store: SqlStore) -> None:
    ca = seed_ca(store)
    with store.transaction() as tx:
        assert not service_may(tx, ca, ACM_PRINCIPAL, "IssueCertificate", ACCOUNT)
        tx.insert_permission(permission(None, "IssueCertificate", "GetCertificate"))
        tx.insert_permission(permission(ACCOUNT, "ListPermissions"))
    with store.transaction(read_only=True) as tx:
        assert service_may(tx, ca, ACM_PRINCIPAL, "IssueCertificate", ACCOUNT)
        assert service_may(tx, ca, ACM_PRINCIPAL, "ListPermissions", ACCOUNT)
        assert not service_may(tx, ca, ACM_PRINCIPAL, "RevokeCertificate", ACCOUNT)
        assert not service_may(tx, ca, "ec2.amazonaws.com", "IssueCertificate", ACCOUNT)
        # Across accounts a permission grants nothing (AWS: use a resource policy).
        assert not service_may(tx, ca, ACM_PRINCIPAL, "IssueCertificate", OTHER_ACCOUNT)
