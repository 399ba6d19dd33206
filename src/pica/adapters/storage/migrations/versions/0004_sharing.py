"""Sharing and oversight: ACM permissions, resource policies (and whom they share a CA with),
the account that asked for a certificate of a shared CA, audit reports.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_CA = "certificate_authorities.arn"


def upgrade() -> None:
    op.create_table(
        "ca_permissions",
        sa.Column("ca_arn", sa.String(), nullable=False),
        sa.Column("principal", sa.String(), nullable=False),
        sa.Column("source_account", sa.String(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ca_arn"],
            [_CA],
            name="fk_ca_permissions_ca_arn_certificate_authorities",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ca_arn", "principal", "source_account", name="pk_ca_permissions"),
    )
    op.create_table(
        "ca_policies",
        sa.Column("ca_arn", sa.String(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ca_arn"],
            [_CA],
            name="fk_ca_policies_ca_arn_certificate_authorities",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ca_arn", name="pk_ca_policies"),
    )
    op.create_table(
        "ca_policy_principals",
        sa.Column("ca_arn", sa.String(), nullable=False),
        sa.Column("principal", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ca_arn"],
            [_CA],
            name="fk_ca_policy_principals_ca_arn_certificate_authorities",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ca_arn", "principal", name="pk_ca_policy_principals"),
    )
    op.create_index(
        "ix_ca_policy_principals_principal_ca_arn",
        "ca_policy_principals",
        ["principal", "ca_arn"],
    )
    op.create_table(
        "certificate_requesters",
        sa.Column("ca_arn", sa.String(), nullable=False),
        sa.Column("serial", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ca_arn", "serial"],
            ["certificates.ca_arn", "certificates.serial"],
            name="fk_certificate_requesters_ca_arn_certificates",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ca_arn", "serial", name="pk_certificate_requesters"),
    )
    op.create_table(
        "audit_reports",
        sa.Column("report_id", sa.String(), nullable=False),
        sa.Column("ca_arn", sa.String(), nullable=False),
        sa.Column("bucket", sa.String(), nullable=False),
        sa.Column("s3_key", sa.String(), nullable=False),
        sa.Column("format", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ca_arn"],
            [_CA],
            name="fk_audit_reports_ca_arn_certificate_authorities",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", name="pk_audit_reports"),
    )
    op.create_index("ix_audit_reports_ca_arn_created_at", "audit_reports", ["ca_arn", "created_at"])
    op.create_index(
        "ix_audit_reports_status_lease_until", "audit_reports", ["status", "lease_until"]
    )
