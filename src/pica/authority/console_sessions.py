"""Web console sign-in: an access key id and its secret buy a server-side session.

The secret is checked as SigV4 checks it (`AccountService.secret_for`, compared in constant
time, an unknown key costing the same comparison) and is then forgotten: the session row holds
the account, the access key id, the CSRF token of the session's forms and an expiry. The
browser holds only a random id whose SHA-256 names the row, so signing out (deleting the row)
ends the session for every copy of the cookie, and a deleted access key ends its sessions as it
ends its API access (within `secret_for`'s few seconds of cache).

Sign-in and sign-out land in the audit trail beside the API's actions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from pica.authority.accounts import AccountService
from pica.authority.ca_access import Caller, record_success
from pica.authority.console_ports import ConsoleSession
from pica.authority.ports import Clock, Store

SESSION_LIFETIME = timedelta(hours=8)
SIGN_IN_ACTION = "ConsoleSignIn"
SIGN_OUT_ACTION = "ConsoleSignOut"
# Compared against when the access key is unknown, so both answers take the same time.
_NO_SECRET = b"\x00" * 40


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """A new session: the id goes into the cookie, never anywhere else."""

    session_id: str
    session: ConsoleSession


class ConsoleSessions:
    def __init__(
        self,
        store: Store,
        accounts: AccountService,
        clock: Clock,
        lifetime: timedelta = SESSION_LIFETIME,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._clock = clock
        self.lifetime = lifetime

    def sign_in(
        self, access_key_id: str, secret_access_key: str, request_id: str | None = None
    ) -> SignedIn | None:
        """A session for valid credentials; None for anything else (no hint which part)."""
        found = self._accounts.secret_for(access_key_id) if access_key_id else None
        expected = found[0].encode() if found is not None else _NO_SECRET
        matches = hmac.compare_digest(expected, secret_access_key.encode())
        if found is None or not matches:
            return None
        now = self._clock.now()
        session_id = secrets.token_urlsafe(32)
        session = ConsoleSession(
            session_hash=session_hash(session_id),
            account_id=found[1],
            access_key_id=access_key_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + self.lifetime,
        )
        with self._store.transaction() as tx:
            tx.delete_expired_console_sessions(now)
            tx.insert_console_session(session)
            caller = Caller(session.account_id, access_key_id, request_id)
            record_success(tx, caller, SIGN_IN_ACTION, None, now)
        return SignedIn(session_id, session)

    def resume(self, session_id: str) -> ConsoleSession | None:
        """The live session a cookie names, or None (unknown, ended, or its key deleted)."""
        if not session_id:
            return None
        with self._store.transaction(read_only=True) as tx:
            session = tx.get_console_session(session_hash(session_id))
        if session is None or session.expires_at <= self._clock.now():
            return None
        if self._accounts.secret_for(session.access_key_id) is None:
            return None
        return session

    def sign_out(self, session: ConsoleSession, request_id: str | None = None) -> None:
        now = self._clock.now()
        with self._store.transaction() as tx:
            if tx.delete_console_session(session.session_hash):
                caller = Caller(session.account_id, session.access_key_id, request_id)
                record_success(tx, caller, SIGN_OUT_ACTION, None, now)
