"""ConsoleSessions in-process: sign-in checks the secret, the session is a server-side record
that ends at its expiry, at sign-out, or when its access key is deleted; both ends are
audited. On the in-memory store; the frozen clock is moved instead of waiting."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pica.authority.accounts import AccountService, Credentials
from pica.authority.audit_trail import AuditFilter
from pica.authority.console_sessions import (
    SIGN_IN_ACTION,
    SIGN_OUT_ACTION,
    ConsoleSessions,
    session_hash,
)
from tests.support.clock import FrozenClock
from tests.support.in_process import InProcess, in_process


@pytest.fixture
def runtime(tmp_path: Path) -> InProcess:
    return in_process(tmp_path / "data")


@pytest.fixture
def clock(runtime: InProcess) -> FrozenClock:
    return runtime.clock


@pytest.fixture
def sessions(runtime: InProcess, clock: FrozenClock) -> ConsoleSessions:
    # No secret cache: a deleted key must end its sessions at once in these tests.
    accounts = AccountService(runtime.store, runtime.key_store, clock, cache_seconds=0.0)
    return ConsoleSessions(runtime.store, accounts, clock, lifetime=timedelta(hours=1))


@pytest.fixture
def credentials(runtime: InProcess) -> Credentials:
    accounts = runtime.services.accounts
    return accounts.create_access_key(accounts.create_account().account_id)


def test_the_right_secret_signs_in_and_nothing_else_does(
    sessions: ConsoleSessions, credentials: Credentials
) -> None:
    key, secret = credentials.access_key_id, credentials.secret_access_key
    assert sessions.sign_in(key, secret[:-1] + ("a" if secret[-1] != "a" else "b")) is None
    assert sessions.sign_in(key, "") is None
    assert sessions.sign_in("PICANOSUCHKEY0000000", secret) is None
    assert sessions.sign_in("", "") is None
    signed_in = sessions.sign_in(key, secret)
    assert signed_in is not None
    assert signed_in.session.account_id == credentials.account_id
    assert signed_in.session.session_hash == session_hash(signed_in.session_id)
    assert secret not in repr(signed_in.session)
    assert sessions.resume(signed_in.session_id) == signed_in.session
    assert sessions.resume(signed_in.session_id + "x") is None
    assert sessions.resume("") is None


def test_a_session_ends_at_its_expiry(
    sessions: ConsoleSessions, credentials: Credentials, clock: FrozenClock
) -> None:
    signed_in = sessions.sign_in(credentials.access_key_id, credentials.secret_access_key)
    assert signed_in is not None
    clock.advance(timedelta(minutes=59, seconds=59))
    assert sessions.resume(signed_in.session_id) is not None
    clock.advance(timedelta(seconds=1))
    assert sessions.resume(signed_in.session_id) is None


def test_sign_out_removes_the_record_and_is_audited(
    runtime: InProcess, sessions: ConsoleSessions, credentials: Credentials
) -> None:
    signed_in = sessions.sign_in(credentials.access_key_id, credentials.secret_access_key, "r-1")
    assert signed_in is not None
    sessions.sign_out(signed_in.session, "r-2")
    assert sessions.resume(signed_in.session_id) is None
    with runtime.store.transaction(read_only=True) as tx:
        assert tx.get_console_session(signed_in.session.session_hash) is None
    records = list(
        runtime.services.audit_trail.list(AuditFilter(account_id=credentials.account_id))
    )
    actions = [(stored.record.action, stored.record.request_id) for stored in records]
    assert (SIGN_IN_ACTION, "r-1") in actions and (SIGN_OUT_ACTION, "r-2") in actions
    assert all(stored.record.access_key_id == credentials.access_key_id for stored in records)


def test_deleting_the_access_key_ends_its_sessions(
    runtime: InProcess, sessions: ConsoleSessions, credentials: Credentials
) -> None:
    signed_in = sessions.sign_in(credentials.access_key_id, credentials.secret_access_key)
    assert signed_in is not None
    runtime.services.accounts.delete_access_key(credentials.access_key_id)
    assert sessions.resume(signed_in.session_id) is None


def test_a_sign_in_sweeps_ended_sessions(
    runtime: InProcess, sessions: ConsoleSessions, credentials: Credentials, clock: FrozenClock
) -> None:
    old = sessions.sign_in(credentials.access_key_id, credentials.secret_access_key)
    assert old is not None
    clock.advance(timedelta(hours=2))
    assert sessions.sign_in(credentials.access_key_id, credentials.secret_access_key) is not None
    with runtime.store.transaction(read_only=True) as tx:
        assert tx.get_console_session(old.session.session_hash) is None
