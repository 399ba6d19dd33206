"""CRL bucket owners, and CAs findable by their id alone.

- `bucket_owners`: the account that first named a CRL bucket owns it; no other account's CA may
  publish there. Existing CAs are replayed oldest first, so a bucket already shared by several
  accounts goes to the one that used it first.
- `certificate_authorities.ca_id` (indexed): the uuid at the end of the ARN, which is all a
  CRL URL names. It replaces a `LIKE '%...'` scan of every CA on each CRL GET.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "bucket_owners",
        sa.Column("bucket", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name="pk_bucket_owners"),
    )
    with op.batch_alter_table("certificate_authorities") as batch:
        batch.add_column(sa.Column("ca_id", sa.String(), nullable=True))

    cas = sa.table(
        "certificate_authorities",
        sa.column("arn", sa.String()),
        sa.column("account_id", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("revocation_configuration", sa.Text()),
        sa.column("ca_id", sa.String()),
    )
    owners = sa.table(
        "bucket_owners",
        sa.column("bucket", sa.String()),
        sa.column("account_id", sa.String()),
        sa.column("claimed_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    claimed: set[str] = set()
    rows = connection.execute(
        sa.select(cas.c.arn, cas.c.account_id, cas.c.revocation_configuration).order_by(
            cas.c.created_at, cas.c.arn
        )
    ).all()
    # SQLite stores UTC wall time without an offset (see tables.UtcDateTime).
    now = datetime.now(UTC)
    claimed_at = now.replace(tzinfo=None) if connection.dialect.name == "sqlite" else now
    for arn, account_id, revocation in rows:
        connection.execute(
            sa.update(cas).where(cas.c.arn == arn).values(ca_id=arn.rsplit("/", 1)[1])
        )
        crl = json.loads(revocation).get("crl") or {}
        bucket = crl.get("s3_bucket_name")
        if crl.get("enabled") and bucket and bucket not in claimed:
            claimed.add(bucket)
            connection.execute(
                sa.insert(owners).values(
                    bucket=bucket, account_id=account_id, claimed_at=claimed_at
                )
            )

    with op.batch_alter_table("certificate_authorities") as batch:
        batch.alter_column("ca_id", existing_type=sa.String(), nullable=False)
        batch.create_index("ix_certificate_authorities_ca_id", ["ca_id"])
