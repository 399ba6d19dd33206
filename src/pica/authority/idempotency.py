"""Idempotency tokens: the replay rule and its window, defined once for the domain and the store.

AWS Private CA answers a request carrying the IdempotencyToken of one made in the last five
minutes with the first request's result and does nothing new (CreateCertificateAuthority,
IssueCertificate). pica records each token with its result and time under a scope naming the
account, the operation and (for IssueCertificate) the CA, unique by database constraint, so
racing requests with one token produce one result wherever they run.

A record is live while its age is under `WINDOW`; once its age reaches `WINDOW` a new request
with the same token is a new request, and its result replaces the record (the store makes the
replacement race-safe by re-checking the age in the same statement).
"""

from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = timedelta(minutes=5)


def scope(account_id: str, operation: str, resource: str | None = None) -> str:
    """The namespace a token is unique in: per account and operation, and per resource."""
    return (
        f"{account_id}:{operation}" if resource is None else f"{account_id}:{operation}:{resource}"
    )


def replays(recorded: tuple[str, datetime] | None, now: datetime) -> str | None:
    """The result a request with a token must answer with: the recorded one while it is live."""
    if recorded is not None and now - recorded[1] < WINDOW:
        return recorded[0]
    return None


def replaceable_before(now: datetime) -> datetime:
    """A record made at or before this time may be replaced by a result recorded at `now`."""
    return now - WINDOW
