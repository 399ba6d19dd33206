"""Revocation: CRL publication state, CRL partitions, and CA public-key hashes for OCSP.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from cryptography import x509

from pica.authority.key_hashes import public_key_hashes

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("certificate_authorities") as batch:
        batch.add_column(sa.Column("public_key_sha1", sa.String(), nullable=True))
        batch.add_column(sa.Column("public_key_sha256", sa.String(), nullable=True))
        batch.create_index("ix_certificate_authorities_public_key_sha1", ["public_key_sha1"])
        batch.create_index("ix_certificate_authorities_public_key_sha256", ["public_key_sha256"])
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("crl_partition", sa.String(), nullable=True))
        batch.create_index("ix_certificates_ca_arn_revoked_at", ["ca_arn", "revoked_at"])
    op.create_table(
        "crl_state",
        sa.Column("ca_arn", sa.String(), nullable=False),
        sa.Column("crl_number", sa.BigInteger(), nullable=False),
        sa.Column("dirty_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("this_update", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_update", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_refresh_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ca_arn", name="pk_crl_state"),
        sa.ForeignKeyConstraint(
            ["ca_arn"],
            ["certificate_authorities.arn"],
            name="fk_crl_state_ca_arn_certificate_authorities",
        ),
    )
    # Existing CAs: derive the key hashes from the public key in their CSR.
    cas = sa.table(
        "certificate_authorities",
        sa.column("arn", sa.String()),
        sa.column("csr_pem", sa.Text()),
        sa.column("public_key_sha1", sa.String()),
        sa.column("public_key_sha256", sa.String()),
    )
    connection = op.get_bind()
    for arn, csr_pem in connection.execute(sa.select(cas.c.arn, cas.c.csr_pem)).all():
        if csr_pem is None:
            continue
        sha1, sha256 = public_key_hashes(x509.load_pem_x509_csr(csr_pem.encode()).public_key())
        connection.execute(
            sa.update(cas)
            .where(cas.c.arn == arn)
            .values(public_key_sha1=sha1.hex(), public_key_sha256=sha256.hex())
        )
