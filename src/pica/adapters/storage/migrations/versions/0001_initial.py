"""The initial schema: accounts, access keys, CAs, issued certificates, idempotency tokens, tags.

Written by hand and frozen: later changes go in new revisions, never here. It must produce what
`pica.adapters.storage.tables` declares (a contract test compares the two).

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_accounts"),
    )
    op.create_table(
        "access_keys",
        sa.Column("access_key_id", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("secret_key_ref", sa.String(), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("access_key_id", name="pk_access_keys"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name="fk_access_keys_account_id_accounts",
        ),
    )
    op.create_index("ix_access_keys_account_id", "access_keys", ["account_id"])
    op.create_table(
        "certificate_authorities",
        sa.Column("arn", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("configuration", sa.Text(), nullable=False),
        sa.Column("revocation_configuration", sa.Text(), nullable=False),
        sa.Column("usage_mode", sa.String(), nullable=False),
        sa.Column("key_storage_security_standard", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_state_change_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("private_key_ref", sa.String(), nullable=True),
        sa.Column("private_key_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("csr_pem", sa.Text(), nullable=True),
        sa.Column("certificate_pem", sa.Text(), nullable=True),
        sa.Column("certificate_chain_pem", sa.Text(), nullable=True),
        sa.Column("serial", sa.String(), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.String(), nullable=True),
        sa.Column("restorable_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_before_deletion", sa.String(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("arn", name="pk_certificate_authorities"),
    )
    op.create_index(
        "ix_certificate_authorities_account_id_arn",
        "certificate_authorities",
        ["account_id", "arn"],
    )
    op.create_index(
        "ix_certificate_authorities_status_restorable_until",
        "certificate_authorities",
        ["status", "restorable_until"],
    )
    op.create_table(
        "certificates",
        sa.Column("ca_arn", sa.String(), nullable=False),
        sa.Column("serial", sa.String(), nullable=False),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("template_arn", sa.String(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("ca_arn", "serial", name="pk_certificates"),
        sa.ForeignKeyConstraint(
            ["ca_arn"],
            ["certificate_authorities.arn"],
            name="fk_certificates_ca_arn_certificate_authorities",
        ),
    )
    op.create_table(
        "idempotency_tokens",
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("token", sa.String(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "token", name="pk_idempotency_tokens"),
    )
    op.create_table(
        "tags",
        sa.Column("ca_arn", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("ca_arn", "position", name="pk_tags"),
        sa.UniqueConstraint("ca_arn", "key", name="uq_tags_ca_arn_key"),
        sa.ForeignKeyConstraint(
            ["ca_arn"],
            ["certificate_authorities.arn"],
            name="fk_tags_ca_arn_certificate_authorities",
        ),
    )


def downgrade() -> None:
    for table in (
        "tags",
        "idempotency_tokens",
        "certificates",
        "certificate_authorities",
        "access_keys",
        "accounts",
    ):
        op.drop_table(table)
