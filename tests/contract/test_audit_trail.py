"""The audit trail on every storage engine: records are appended, sealed into one hash chain
in insertion order, and `verify` names an edited, deleted or reordered record and a cut-off
tail. Tampering is done the way an intruder would: with SQL on the table."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from pica.adapters.keystore.file_signer import FileSigningKeyStore
from pica.adapters.keystore.kek_file import FileKeyStore
from pica.adapters.objectstore.local_dir import LocalDirObjectStore
from pica.adapters.storage.sql_store import SqlStore
from pica.adapters.storage.tables import audit_chain_head, audit_trail
from pica.authority.arns import ArnFactory
from pica.authority.audit_trail import AuditFilter, AuditTrail
from pica.authority.authorities import CertificateAuthorityService
from pica.authority.model import CaStatus
from pica.authority.sharing import AuditRecord
from tests.contract.test_store import make_ca, seed_ca

T0 = datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
CA = "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/x"


class FrozenClock:
    def now(self) -> datetime:
        return T0


def fill(store: SqlStore, count: int, start: int = 0) -> None:
    with store.transaction() as tx:
        for n in range(start, start + count):
            tx.append_audit(
                AuditRecord(
                    at=T0 + timedelta(seconds=n),
                    action="IssueCertificate" if n % 2 else "RevokeCertificate",
                    result="Success",
                    account_id="111122223333" if n % 3 else "444455556666",
                    access_key_id="PICAKEY",
                    request_id=f"req-{n}",
                    resource=CA if n % 2 else None,
                )
            )


@pytest.fixture
def trail(store: SqlStore) -> AuditTrail:
    return AuditTrail(store, FrozenClock())


def test_an_untouched_chain_verifies(store: SqlStore, trail: AuditTrail) -> None:
    assert trail.verify().ok  # empty
    fill(store, 5)
    assert trail.seal_pending() == 5
    fill(store, 3, start=5)
    assert trail.seal_pending(batch=2) == 2
    assert trail.seal_pending() == 1
    assert trail.seal_pending() == 0
    result = trail.verify()
    assert result.ok, result.problem
    assert (result.checked, result.unsealed, result.head_position) == (8, 0, 8)
    positions = [r.position for r in trail.list(AuditFilter())]
    assert positions == list(range(1, 9))


def test_filters(store: SqlStore, trail: AuditTrail) -> None:
    fill(store, 6)
    assert len(list(trail.list(AuditFilter(resource=CA)))) == 3
    assert len(list(trail.list(AuditFilter(action="RevokeCertificate")))) == 3
    assert len(list(trail.list(AuditFilter(account_id="444455556666")))) == 2
    window = AuditFilter(since=T0 + timedelta(seconds=2), until=T0 + timedelta(seconds=4))
    assert [r.record.request_id for r in trail.list(window)] == ["req-2", "req-3"]
    assert len(list(trail.list(AuditFilter(limit=4)))) == 4


def tamper(store: SqlStore, statement: object) -> None:
    with store.engine.begin() as connection:
        connection.execute(statement)  # type: ignore[call-overload]


def position_id(store: SqlStore, position: int) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.execute(
                select(audit_trail.c.id).where(audit_trail.c.position == position)
            ).scalar_one()
        )


@pytest.mark.sql_only("edits rows behind the port, through the SQL engine")
@pytest.mark.parametrize("change", ["result", "account", "time"])
def test_an_edited_record_is_found(store: SqlStore, trail: AuditTrail, change: str) -> None:
    fill(store, 6)
    trail.seal_pending()
    values = {
        "result": {"result": "AccessDeniedException"},
        "account": {"account_id": "999999999999"},
        "time": {"at": T0 + timedelta(days=1)},
    }[change]
    tamper(store, update(audit_trail).where(audit_trail.c.position == 4).values(**values))
    result = trail.verify()
    assert not result.ok
    assert result.checked == 3
    assert "position 4" in (result.problem or "") and "edited" in (result.problem or "")


@pytest.mark.sql_only("edits rows behind the port, through the SQL engine")
def test_a_deleted_record_is_found(store: SqlStore, trail: AuditTrail) -> None:
    fill(store, 6)
    trail.seal_pending()
    tamper(store, delete(audit_trail).where(audit_trail.c.position == 3))
    result = trail.verify()
    assert not result.ok
    assert "position 3 is missing" in (result.problem or "")


@pytest.mark.sql_only("edits rows behind the port, through the SQL engine")
def test_reordered_records_are_found(store: SqlStore, trail: AuditTrail) -> None:
    fill(store, 6)
    trail.seal_pending()
    second, fifth = position_id(store, 2), position_id(store, 5)
    # Swap the positions (and hashes go with the rows): the links no longer hold.
    tamper(store, update(audit_trail).where(audit_trail.c.id == second).values(position=-1))
    tamper(store, update(audit_trail).where(audit_trail.c.id == fifth).values(position=2))
    tamper(store, update(audit_trail).where(audit_trail.c.id == second).values(position=5))
    result = trail.verify()
    assert not result.ok
    assert "position 2" in (result.problem or "")


@pytest.mark.sql_only("edits rows behind the port, through the SQL engine")
def test_a_cut_off_tail_is_found(store: SqlStore, trail: AuditTrail) -> None:
    fill(store, 6)
    trail.seal_pending()
    tamper(store, delete(audit_trail).where(audit_trail.c.position >= 5))
    result = trail.verify()
    assert not result.ok
    assert "end" in (result.problem or "")
    # Rewriting the head too hides a cut-off tail only from someone who kept no head hash.
    fill(store, 1, start=99)
    tamper(store, update(audit_chain_head).values(position=99))
    assert not trail.verify().ok


def test_concurrent_sealers_build_one_chain(store: SqlStore, trail: AuditTrail) -> None:
    fill(store, 200)
    errors: list[BaseException] = []

    def seal() -> None:
        try:
            while trail.seal_pending(batch=7):
                pass
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=seal) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    result = trail.verify()
    assert result.ok, result.problem
    assert result.checked == 200


def test_purging_a_ca_is_recorded(store: SqlStore, trail: AuditTrail, tmp_path: Path) -> None:
    ca = seed_ca(
        store,
        make_ca(status=CaStatus.DELETED, restorable_until=T0 - timedelta(days=1)),
    )
    FileKeyStore.create(tmp_path / "kek")
    key_store = FileKeyStore.load(tmp_path / "kek")
    service = CertificateAuthorityService(
        store,
        FileSigningKeyStore(key_store),
        FrozenClock(),
        ArnFactory("aws", "us-east-1"),
        LocalDirObjectStore(tmp_path / "buckets", "http://127.0.0.1"),
    )
    assert service.purge_deleted() == 1
    records = list(trail.list(AuditFilter(resource=ca.arn)))
    assert [(r.record.action, r.record.account_id) for r in records] == [
        ("PurgeCertificateAuthority", ca.account_id)
    ]
