"""Contract of the ACM rows of the store (`AcmTransaction`), on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pica.adapters.storage.sql_store import SqlStore
from pica.authority.acm.model import (
    AcmCertificate,
    AcmKeyAlgorithm,
    CertificateStatus,
    CertificateType,
    RenewalStatus,
    RenewalSummary,
)
from pica.authority.model import SealedKey, Tag
from pica.errors import ConcurrentModification, Conflict

ACCOUNT = "111122223333"
OTHER = "444455556666"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def arn(n: int, account: str = ACCOUNT) -> str:
    return f"arn:aws:acm:us-east-1:{account}:certificate/00000000-0000-4000-8000-{n:012d}"


def make(n: int = 1, **changes: object) -> AcmCertificate:
    certificate = AcmCertificate(
        arn=arn(n),
        account_id=ACCOUNT,
        type=CertificateType.PRIVATE,
        status=CertificateStatus.ISSUED,
        domain_name="www.example.com",
        subject_alternative_names=("www.example.com", "api.example.com"),
        key_algorithm=AcmKeyAlgorithm.EC_prime256v1,
        created_at=NOW + timedelta(seconds=n),
        ca_arn="arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/x",
        sealed_key=SealedKey("kek-1", b"\x00sealed"),
        certificate_pem="-----BEGIN CERTIFICATE-----\n...\n",
        chain_pem="chain",
        serial=(1 << 127) + n,
        not_before=NOW,
        not_after=NOW + timedelta(days=395),
        issued_at=NOW,
        exported=True,
        renewal=RenewalSummary(RenewalStatus.FAILED, NOW, "PCA_ACCESS_DENIED"),
        next_renewal_at=NOW + timedelta(days=335),
        renewal_attempts=2,
    )
    return replace(certificate, **changes)  # type: ignore[arg-type]


def test_a_certificate_round_trips(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.insert_acm_certificate(make())
        tx.insert_acm_certificate(make(2, renewal=None, sealed_key=None, serial=None))
    with store.transaction(read_only=True) as tx:
        assert tx.get_acm_certificate(arn(1)) == make()
        assert tx.get_acm_certificate(arn(2)) == make(2, renewal=None, sealed_key=None, serial=None)
        assert tx.get_acm_certificate(arn(3)) is None


def test_a_second_insert_of_one_arn_conflicts(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.insert_acm_certificate(make())
        with pytest.raises(Conflict):
            tx.insert_acm_certificate(make())


def test_update_is_optimistic(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.insert_acm_certificate(make())
        tx.update_acm_certificate(make(status=CertificateStatus.FAILED, version=2))
        with pytest.raises(ConcurrentModification):
            tx.update_acm_certificate(make(version=2))
    with store.transaction(read_only=True) as tx:
        found = tx.get_acm_certificate(arn(1))
    assert found is not None and found.status is CertificateStatus.FAILED and found.version == 2


def test_list_is_the_accounts_oldest_first(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.insert_acm_certificate(make(3))
        tx.insert_acm_certificate(make(1))
        tx.insert_acm_certificate(make(2, arn=arn(2, OTHER), account_id=OTHER))
    with store.transaction(read_only=True) as tx:
        assert [c.arn for c in tx.list_acm_certificates(ACCOUNT)] == [arn(1), arn(3)]
        assert [c.arn for c in tx.list_acm_certificates(OTHER)] == [arn(2, OTHER)]


def test_tags_replace_and_go_with_the_certificate(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.insert_acm_certificate(make())
        tx.put_acm_tags(arn(1), [Tag("b", "2"), Tag("a", None)])
    with store.transaction() as tx:
        assert tx.get_acm_tags(arn(1)) == [Tag("b", "2"), Tag("a", None)]
        with pytest.raises(Conflict):
            tx.put_acm_tags(arn(1), [Tag("a"), Tag("a")])
        tx.put_acm_tags(arn(1), [Tag("c", "3")])
        assert tx.get_acm_tags(arn(1)) == [Tag("c", "3")]
        assert tx.delete_acm_certificate(arn(1)) is True
        assert tx.delete_acm_certificate(arn(1)) is False
        assert tx.get_acm_tags(arn(1)) == []


def test_days_before_expiry_is_per_account(store: SqlStore) -> None:
    with store.transaction() as tx:
        assert tx.get_acm_days_before_expiry(ACCOUNT) is None
        tx.put_acm_days_before_expiry(ACCOUNT, 30, NOW)
        tx.put_acm_days_before_expiry(ACCOUNT, 20, NOW)
    with store.transaction(read_only=True) as tx:
        assert tx.get_acm_days_before_expiry(ACCOUNT) == 20
        assert tx.get_acm_days_before_expiry(OTHER) is None


def test_claims_take_only_due_eligible_unleased_certificates(store: SqlStore) -> None:
    due = NOW - timedelta(seconds=1)
    with store.transaction() as tx:
        tx.insert_acm_certificate(make(1, next_renewal_at=due))
        tx.insert_acm_certificate(make(2, next_renewal_at=NOW + timedelta(hours=1)))
        tx.insert_acm_certificate(make(3, next_renewal_at=due, exported=False))
        tx.insert_acm_certificate(make(4, next_renewal_at=due, type=CertificateType.IMPORTED))
        tx.insert_acm_certificate(make(5, next_renewal_at=due, status=CertificateStatus.FAILED))
        tx.insert_acm_certificate(make(6, next_renewal_at=due, lease_until=NOW + timedelta(1)))
        tx.insert_acm_certificate(make(7, next_renewal_at=due, lease_until=due))
    stale_before = NOW - timedelta(minutes=10)
    with store.transaction(read_only=True) as tx:
        assert tx.has_acm_renewal_work(NOW, stale_before)
    with store.transaction() as tx:
        assert sorted(tx.claim_acm_renewals(NOW, NOW + timedelta(minutes=1), 10)) == [
            arn(1),
            arn(7),
        ]
    with store.transaction(read_only=True) as tx:
        assert not tx.has_acm_renewal_work(NOW, stale_before)  # all leased now
    with store.transaction() as tx:
        assert tx.claim_acm_renewals(NOW, NOW + timedelta(minutes=1), 10) == []
        later = NOW + timedelta(minutes=2)
        assert len(tx.claim_acm_renewals(later, later + timedelta(minutes=1), 1)) == 1


def test_racing_claims_take_each_certificate_once(store: SqlStore) -> None:
    with store.transaction() as tx:
        for n in range(1, 21):
            tx.insert_acm_certificate(make(n, next_renewal_at=NOW - timedelta(seconds=1)))
    taken: list[str] = []
    lock = threading.Lock()

    def claim() -> None:
        for _ in range(5):
            with store.transaction() as tx:
                got = tx.claim_acm_renewals(NOW, NOW + timedelta(minutes=1), 3)
            with lock:
                taken.extend(got)

    workers = [threading.Thread(target=claim) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # A racing round may come back empty-handed (others took its candidates), so the threads
    # need not have taken everything; what is left is claimed here. Each certificate exactly
    # once: a duplicate shows as an extra item, a lost one as a missing item.
    while True:
        with store.transaction() as tx:
            rest = tx.claim_acm_renewals(NOW, NOW + timedelta(minutes=1), 3)
        if not rest:
            break
        taken.extend(rest)
    assert sorted(taken) == sorted(arn(n) for n in range(1, 21))


def test_key_refs_in_use_include_acm_keys(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.insert_acm_certificate(make(1, sealed_key=SealedKey("kek-acm", b"x")))
        tx.insert_acm_certificate(make(2, sealed_key=None))
    assert store.key_refs_in_use() == frozenset({"kek-acm"})


def test_stale_pending_requests_are_failed(store: SqlStore) -> None:
    pending = CertificateStatus.PENDING_VALIDATION
    with store.transaction() as tx:
        tx.insert_acm_certificate(make(1, status=pending, created_at=NOW - timedelta(hours=1)))
        tx.insert_acm_certificate(make(2, status=pending, created_at=NOW))
        tx.insert_acm_certificate(make(3, created_at=NOW - timedelta(hours=1)))
    with store.transaction(read_only=True) as tx:
        assert tx.has_acm_renewal_work(NOW, NOW - timedelta(minutes=10))
    with store.transaction() as tx:
        assert tx.fail_stale_acm_requests(NOW - timedelta(minutes=10), "PCA_REQUEST_FAILED") == 1
        assert tx.fail_stale_acm_requests(NOW - timedelta(minutes=10), "PCA_REQUEST_FAILED") == 0
    with store.transaction(read_only=True) as tx:
        assert not tx.has_acm_renewal_work(NOW, NOW - timedelta(minutes=10))
        stale = tx.get_acm_certificate(arn(1))
        assert stale is not None and stale.status is CertificateStatus.FAILED
        assert stale.failure_reason == "PCA_REQUEST_FAILED" and stale.version == 2
        fresh = tx.get_acm_certificate(arn(2))
        assert fresh is not None and fresh.status is pending
        issued = tx.get_acm_certificate(arn(3))
        assert issued is not None and issued.status is CertificateStatus.ISSUED
