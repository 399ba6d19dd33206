"""What the web console stores: its sign-in sessions, and the certificate listing its pages read.

A session is the server's half of the console cookie: the cookie holds only a random id, the
row holds a hash of it (a copied database does not sign anyone in), who signed in, the CSRF
token of the session's forms and when it ends. Deleting the row ends the session everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pica.authority.model import IssuedCertificate


@dataclass(frozen=True)
class ConsoleSession:
    """One signed-in console session (never holds the secret access key)."""

    session_hash: str
    account_id: str
    access_key_id: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime


class ConsoleRecords(Protocol):
    """Console sessions, and the issued certificates of a CA, newest first."""

    def insert_console_session(self, session: ConsoleSession) -> None: ...
    def get_console_session(self, session_hash: str) -> ConsoleSession | None: ...
    def delete_console_session(self, session_hash: str) -> bool:
        """Remove the session; whether it existed."""
        ...

    def delete_expired_console_sessions(self, now: datetime) -> int:
        """Remove sessions that ended before `now`; how many."""
        ...

    def list_issued_certificates(self, ca_arn: str, *, limit: int) -> list[IssuedCertificate]:
        """Up to `limit` of the CA's certificates, the most recently issued first."""
        ...
