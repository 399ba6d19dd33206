"""ACM certificates: the certificates, their tags and each account's expiry-events setting.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "acm_certificates",
        sa.Column("arn", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("domain_name", sa.String(), nullable=False),
        sa.Column("subject_alternative_names", sa.Text(), nullable=False),
        sa.Column("key_algorithm", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ca_arn", sa.String(), nullable=True),
        sa.Column("private_key_ref", sa.String(), nullable=True),
        sa.Column("private_key_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("certificate_pem", sa.Text(), nullable=True),
        sa.Column("chain_pem", sa.Text(), nullable=True),
        sa.Column("serial", sa.String(), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.String(), nullable=True),
        sa.Column("exported", sa.Boolean(), nullable=False),
        sa.Column("renewal_status", sa.String(), nullable=True),
        sa.Column("renewal_reason", sa.String(), nullable=True),
        sa.Column("renewal_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_renewal_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("renewal_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("arn", name="pk_acm_certificates"),
    )
    op.create_index(
        "ix_acm_certificates_account_id_created_at",
        "acm_certificates",
        ["account_id", "created_at"],
    )
    op.create_index("ix_acm_certificates_next_renewal_at", "acm_certificates", ["next_renewal_at"])
    op.create_table(
        "acm_tags",
        sa.Column("certificate_arn", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("certificate_arn", "position", name="pk_acm_tags"),
        sa.UniqueConstraint("certificate_arn", "key", name="uq_acm_tags_certificate_arn_key"),
        sa.ForeignKeyConstraint(
            ["certificate_arn"],
            ["acm_certificates.arn"],
            name="fk_acm_tags_certificate_arn_acm_certificates",
        ),
    )
    op.create_table(
        "acm_account_configurations",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("days_before_expiry", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_acm_account_configurations"),
    )


def downgrade() -> None:
    op.drop_table("acm_account_configurations")
    op.drop_table("acm_tags")
    op.drop_index("ix_acm_certificates_next_renewal_at", table_name="acm_certificates")
    op.drop_index("ix_acm_certificates_account_id_created_at", table_name="acm_certificates")
    op.drop_table("acm_certificates")
