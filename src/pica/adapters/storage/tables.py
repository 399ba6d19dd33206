"""The relational schema, as SQLAlchemy Core tables (the source the migrations must match).

Conventions, and why:
- Timestamps are `UtcDateTime`: SQLite has no time zones, so every value is stored as UTC and
  handed back timezone-aware, whatever the engine.
- Serial numbers are lower-case hex TEXT without leading zeros: RFC 5280 serials reach 160 bits,
  more than any SQL integer, and a canonical spelling keeps (ca_arn, serial) unique by constraint.
- Configuration documents are JSON TEXT (see `documents.py`): they are read and written whole,
  never queried by member.
- Secrets are sealed by the key store before they reach a row: `*_key_ref` + `*_ciphertext`.
- Constraint names come from a naming convention so later migrations can name them on every
  engine (SQLite's batch mode needs names to drop or alter a constraint).

Past ~400 lines because it is the whole schema in one place, as the migrations are compared
against it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every engine; naive datetimes are refused on the way in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the store only takes aware UTC times")
        value = value.astimezone(UTC)
        # SQLite's DATETIME would silently drop the offset; store the UTC wall time instead.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    # On SQLite both directions go straight between aware datetimes and the text SQLAlchemy's
    # DATETIME stores ("YYYY-MM-DD HH:MM:SS.ffffff", which is `isoformat(" ")`): its own
    # processors format and parse in Python, ~3 µs a value, several values an issuance.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"naive datetime {value!r}: the store only takes aware UTC times")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        fallback = super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            parsed: datetime | None
            try:
                parsed = datetime.fromisoformat(value)
            except (TypeError, ValueError):  # a form fromisoformat does not read: SQLAlchemy's
                parsed = fallback(value) if fallback is not None else None
            return self.process_result_value(parsed, dialect)

        return process


metadata = MetaData(naming_convention=NAMING_CONVENTION)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String, primary_key=True),
    Column("account_id", String, ForeignKey("accounts.account_id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("secret_key_ref", String, nullable=False),
    Column("secret_ciphertext", LargeBinary, nullable=False),
)

certificate_authorities = Table(
    "certificate_authorities",
    metadata,
    Column("arn", String, primary_key=True),
    Column("account_id", String, nullable=False),
    Column("type", String, nullable=False),
    Column("status", String, nullable=False),
    Column("configuration", Text, nullable=False),
    Column("revocation_configuration", Text, nullable=False),
    Column("usage_mode", String, nullable=False),
    Column("key_storage_security_standard", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_state_change_at", UtcDateTime, nullable=False),
    Column("private_key_ref", String, nullable=True),
    Column("private_key_ciphertext", LargeBinary, nullable=True),
    Column("csr_pem", Text, nullable=True),
    Column("certificate_pem", Text, nullable=True),
    Column("certificate_chain_pem", Text, nullable=True),
    Column("serial", String, nullable=True),
    Column("not_before", UtcDateTime, nullable=True),
    Column("not_after", UtcDateTime, nullable=True),
    Column("failure_reason", String, nullable=True),
    Column("restorable_until", UtcDateTime, nullable=True),
    Column("status_before_deletion", String, nullable=True),
    Column("version", Integer, nullable=False),
    # The uuid at the end of the ARN (revision 0003): CRL URLs name CAs by it alone.
    Column("ca_id", String, nullable=False),
    # Hex hashes of the public key bit string (revision 0002): OCSP names issuers by them.
    Column("public_key_sha1", String, nullable=True, index=True),
    Column("public_key_sha256", String, nullable=True, index=True),
    # ListCertificateAuthorities: one account's CAs in ARN order.
    Index(None, "account_id", "arn"),
    # Serving a CRL: the CA its URL names (revision 0003).
    Index(None, "ca_id"),
    # The purge sweep: DELETED CAs whose restore window has closed.
    Index(None, "status", "restorable_until"),
)

# The condition of the partial index of revoked certificates; the CRL query has the same term
# (`revoked_at IS NOT NULL`), which is what lets both engines use the index.
REVOKED_ONLY = "revoked_at IS NOT NULL"

certificates = Table(
    "certificates",
    metadata,
    Column("ca_arn", String, ForeignKey("certificate_authorities.arn"), nullable=False),
    Column("serial", String, nullable=False),
    Column("certificate_der", LargeBinary, nullable=False),
    Column("not_before", UtcDateTime, nullable=False),
    Column("not_after", UtcDateTime, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("template_arn", String, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revocation_reason", String, nullable=True),
    Column("crl_partition", String, nullable=True),  # revision 0002
    # The uniqueness a random serial relies on, and the index every lookup uses.
    PrimaryKeyConstraint("ca_arn", "serial"),
    # CRL generation reads one CA's revoked certificates (revision 0002); only those are in the
    # index (revision 0011), so issuing a certificate adds no entry to it.
    Index(
        None,
        "ca_arn",
        "revoked_at",
        sqlite_where=text(REVOKED_ONLY),
        postgresql_where=text(REVOKED_ONLY),
    ),
)

# One row per CA with CRL publication enabled (revision 0002).
crl_state = Table(
    "crl_state",
    metadata,
    Column("ca_arn", String, ForeignKey("certificate_authorities.arn"), primary_key=True),
    Column("crl_number", BigInteger, nullable=False),
    Column("dirty_since", UtcDateTime, nullable=True),
    Column("this_update", UtcDateTime, nullable=True),
    Column("next_update", UtcDateTime, nullable=True),
    Column("next_refresh_at", UtcDateTime, nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("issued_count", BigInteger, nullable=False),
)

# CRL buckets and the account that first named one (revision 0003): no other account's CA may
# publish there.
bucket_owners = Table(
    "bucket_owners",
    metadata,
    Column("bucket", String, primary_key=True),
    Column("account_id", String, nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
)

idempotency_tokens = Table(
    "idempotency_tokens",
    metadata,
    Column("scope", String, nullable=False),
    Column("token", String, nullable=False),
    Column("result", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("scope", "token"),
)

tags = Table(
    "tags",
    metadata,
    Column("ca_arn", String, ForeignKey("certificate_authorities.arn"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("key", String, nullable=False),
    Column("value", String, nullable=True),
    PrimaryKeyConstraint("ca_arn", "position"),
    UniqueConstraint("ca_arn", "key"),
)


# --- ACM certificates (revision 0006) -------------------------------------------------------
# No foreign key to the issuing CA: an ACM certificate outlives its CA's permanent deletion, as
# on AWS (it can still be described, exported and deleted).
acm_certificates = Table(
    "acm_certificates",
    metadata,
    Column("arn", String, primary_key=True),
    Column("account_id", String, nullable=False),
    Column("type", String, nullable=False),
    Column("status", String, nullable=False),
    Column("domain_name", String, nullable=False),
    Column("subject_alternative_names", Text, nullable=False),  # JSON list
    Column("key_algorithm", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("ca_arn", String, nullable=True),
    Column("private_key_ref", String, nullable=True),
    Column("private_key_ciphertext", LargeBinary, nullable=True),
    Column("certificate_pem", Text, nullable=True),
    Column("chain_pem", Text, nullable=True),
    Column("serial", String, nullable=True),
    Column("not_before", UtcDateTime, nullable=True),
    Column("not_after", UtcDateTime, nullable=True),
    Column("issued_at", UtcDateTime, nullable=True),
    Column("imported_at", UtcDateTime, nullable=True),
    Column("failure_reason", String, nullable=True),
    Column("exported", Boolean, nullable=False),
    Column("renewal_status", String, nullable=True),
    Column("renewal_reason", String, nullable=True),
    Column("renewal_updated_at", UtcDateTime, nullable=True),
    Column("next_renewal_at", UtcDateTime, nullable=True),
    Column("renewal_attempts", Integer, nullable=False),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    Index(None, "account_id", "created_at"),
    Index(None, "next_renewal_at"),
)

acm_tags = Table(
    "acm_tags",
    metadata,
    Column("certificate_arn", String, ForeignKey("acm_certificates.arn"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("key", String, nullable=False),
    Column("value", String, nullable=True),
    PrimaryKeyConstraint("certificate_arn", "position"),
    UniqueConstraint("certificate_arn", "key"),
)

acm_account_configurations = Table(
    "acm_account_configurations",
    metadata,
    Column("account_id", String, primary_key=True),
    Column("days_before_expiry", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


def serial_to_text(serial: int) -> str:
    """The one stored spelling of a serial number: lower-case hex, no leading zeros."""
    return format(serial, "x")


def serial_from_text(text: str) -> int:
    return int(text, 16)


# --- sharing and oversight (revision 0004) ----------------------------------------------------
# Every row belongs to a CA and goes with it: ON DELETE CASCADE, so purging a CA needs no
# statement per table.

# Permissions for the ACM service principal; `source_account` is "" when none was given (a
# primary key column cannot be NULL).
ca_permissions = Table(
    "ca_permissions",
    metadata,
    Column(
        "ca_arn",
        String,
        ForeignKey("certificate_authorities.arn", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("principal", String, nullable=False),
    Column("source_account", String, nullable=False),
    Column("actions", Text, nullable=False),  # JSON list
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("ca_arn", "principal", "source_account"),
)

# The resource policy of a CA, as the owner wrote it.
ca_policies = Table(
    "ca_policies",
    metadata,
    Column(
        "ca_arn",
        String,
        ForeignKey("certificate_authorities.arn", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("policy", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Whom each policy shares its CA with (an account id, or "*"): ResourceOwner=OTHER_ACCOUNTS.
ca_policy_principals = Table(
    "ca_policy_principals",
    metadata,
    Column(
        "ca_arn",
        String,
        ForeignKey("certificate_authorities.arn", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("principal", String, nullable=False),
    PrimaryKeyConstraint("ca_arn", "principal"),
    Index(None, "principal", "ca_arn"),
)

# The account that asked for a certificate, when it was not the CA's owner (audit reports).
certificate_requesters = Table(
    "certificate_requesters",
    metadata,
    Column("ca_arn", String, nullable=False),
    Column("serial", String, nullable=False),
    Column("account_id", String, nullable=False),
    PrimaryKeyConstraint("ca_arn", "serial"),
    ForeignKeyConstraint(
        ["ca_arn", "serial"], ["certificates.ca_arn", "certificates.serial"], ondelete="CASCADE"
    ),
)

audit_reports = Table(
    "audit_reports",
    metadata,
    Column("report_id", String, primary_key=True),
    Column(
        "ca_arn",
        String,
        ForeignKey("certificate_authorities.arn", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("bucket", String, nullable=False),
    Column("s3_key", String, nullable=False),
    Column("format", String, nullable=False),
    Column("status", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime, nullable=True),
    # The per-CA rate limit reads the newest report of a CA.
    Index(None, "ca_arn", "created_at"),
    # Nodes look for reports still to make.
    Index(None, "status", "lease_until"),
)

# The audit trail (revision 0005): append-only; `position`, `prev_hash` and `hash` are set once
# the sealer has put the record into the hash chain.
audit_trail = Table(
    "audit_trail",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", UtcDateTime, nullable=False),
    Column("request_id", String, nullable=True),
    Column("account_id", String, nullable=True),
    Column("access_key_id", String, nullable=True),
    Column("action", String, nullable=False),
    Column("resource", String, nullable=True),
    Column("result", String, nullable=False),
    Column("detail", Text, nullable=True),
    Column("position", BigInteger, nullable=True, unique=True),
    Column("prev_hash", String, nullable=True),
    Column("hash", String, nullable=True),
    Index(None, "resource", "id"),
    Index(None, "account_id", "id"),
    Index(None, "action", "id"),
    Index(None, "at"),
)

# The chain's head: its last position and hash (one row, named "trail").
audit_chain_head = Table(
    "audit_chain_head",
    metadata,
    Column("name", String, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("hash", String, nullable=False),
)

# Web console sessions (revision 0007): the row behind the console cookie, keyed by a SHA-256
# of the cookie's random id; `expires_at` lets a sign-in sweep the ended ones.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("session_hash", String, primary_key=True),
    Column("account_id", String, nullable=False),
    Column("access_key_id", String, nullable=False),
    Column("csrf_token", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "expires_at"),
)

# Request-rate token buckets (revision 0010; `throttle_records`): one row per (account,
# service, operation). Used on PostgreSQL, UNLOGGED there; SQLite keeps its buckets in a
# separate file beside the database, so the table stays empty on SQLite.
throttle_buckets = Table(
    "throttle_buckets",
    metadata,
    Column("account_id", String, primary_key=True),
    Column("service", String, primary_key=True),
    Column("operation", String, primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("granted", Integer, nullable=False),
)
