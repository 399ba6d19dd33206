"""The index of revoked certificates holds only revoked certificates.

Revision 0002 indexed (ca_arn, revoked_at) for every certificate, so each issuance added an
entry (and, on SQLite, a page to its commit) that only CRL generation reads, and only for
revoked certificates. The partial index serves the same query (`revoked_at IS NOT NULL` is
one of its terms) and stays as small as the revocations.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

_NAME = "ix_certificates_ca_arn_revoked_at"
_REVOKED_ONLY = "revoked_at IS NOT NULL"


def upgrade() -> None:
    op.drop_index(_NAME, table_name="certificates")
    op.create_index(
        _NAME,
        "certificates",
        ["ca_arn", "revoked_at"],
        sqlite_where=sa.text(_REVOKED_ONLY),
        postgresql_where=sa.text(_REVOKED_ONLY),
    )


def downgrade() -> None:
    op.drop_index(_NAME, table_name="certificates")
    op.create_index(_NAME, "certificates", ["ca_arn", "revoked_at"])
