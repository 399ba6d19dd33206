"""The console's record family against every SQL engine: sessions, and a CA's certificates
listed newest first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pica.adapters.storage.sql_store import SqlStore
from pica.authority.console_ports import ConsoleSession
from pica.errors import Conflict
from tests.contract.test_store import CA_ARN, T0, make_certificate, seed_ca


def session(name: str, expires_in: timedelta = timedelta(hours=1)) -> ConsoleSession:
    return ConsoleSession(
        session_hash=f"hash-{name}",
        account_id="123456789012",
        access_key_id="PICAEXAMPLE000000000",
        csrf_token=f"csrf-{name}",
        created_at=T0,
        expires_at=T0 + expires_in,
    )


def test_sessions_insert_get_delete(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.insert_console_session(session("a"))
    with store.transaction() as tx:
        with pytest.raises(Conflict):
            tx.insert_console_session(session("a"))
        assert tx.get_console_session("hash-a") == session("a")
        assert tx.get_console_session("hash-b") is None
    with store.transaction() as tx:
        assert tx.delete_console_session("hash-a")
        assert not tx.delete_console_session("hash-a")
    with store.transaction(read_only=True) as tx:
        assert tx.get_console_session("hash-a") is None


def test_expired_sessions_are_swept(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.insert_console_session(session("old", timedelta(minutes=5)))
        tx.insert_console_session(session("new", timedelta(hours=5)))
    with store.transaction() as tx:
        assert tx.delete_expired_console_sessions(T0 + timedelta(minutes=5)) == 1
    with store.transaction(read_only=True) as tx:
        assert tx.get_console_session("hash-old") is None
        assert tx.get_console_session("hash-new") is not None


def test_a_cas_certificates_newest_first_up_to_the_limit(store: SqlStore) -> None:
    seed_ca(store)
    with store.transaction() as tx:
        for serial in range(1, 5):
            tx.insert_certificate(
                make_certificate(serial, issued_at=T0 + timedelta(minutes=serial))
            )
    with store.transaction(read_only=True) as tx:
        listed = tx.list_issued_certificates(CA_ARN, limit=3)
        assert [cert.serial for cert in listed] == [4, 3, 2]
        assert listed[0] == make_certificate(4, issued_at=T0 + timedelta(minutes=4))
        assert tx.list_issued_certificates(CA_ARN + "x", limit=3) == []
