"""Protected storage: encrypted documents, client erasure (crypto-shredding) and KEK rotation bookkeeping.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent_client", schema=None) as batch_op:
        batch_op.alter_column("wrapped_key", existing_type=sa.LargeBinary(), nullable=True)
        batch_op.alter_column("identity_ciphertext", existing_type=sa.LargeBinary(), nullable=True)
        batch_op.add_column(
            sa.Column("erased_at", kernel.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("erasure_basis", sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_consent_client_kek_id"), ["kek_id"], unique=False)

    op.create_table(
        "document",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("title_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["consent_client.id"],
            name=op.f("fk_document_client_id_consent_client"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_client_id"), ["client_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_document_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_document_referral_id"), ["referral_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_referral_id"))
        batch_op.drop_index(batch_op.f("ix_document_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_document_client_id"))
    op.drop_table("document")

    # Erased clients have no key and no identity left and cannot be put back under NOT
    # NULL; deleting them (and what points at them) would be a second erasure, so the
    # downgrade refuses instead.
    bind = op.get_bind()
    erased = bind.execute(
        sa.text("SELECT count(*) FROM consent_client WHERE wrapped_key IS NULL")
    ).scalar_one()
    if erased:
        raise RuntimeError(
            f"{erased} erased client(s) cannot be represented before revision 0008; "
            "downgrade refused"
        )
    with op.batch_alter_table("consent_client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_client_kek_id"))
        batch_op.drop_column("erasure_basis")
        batch_op.drop_column("erased_at")
        batch_op.alter_column("identity_ciphertext", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column("wrapped_key", existing_type=sa.LargeBinary(), nullable=False)
