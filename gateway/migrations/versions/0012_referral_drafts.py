"""Referral drafts: a referral or handover being composed in the web pages, not yet sent.

`workflow_referral_draft` keeps the sender's working copy: kind, client, service and
consent chosen so far, and the case summary being written, sealed under the client's data
key (`content`). Once sent it names the referral (`referral_id`) and its content is gone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_referral_draft",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("author_actor", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("consent_id", sa.Uuid(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["workflow_referral.id"],
            name=op.f("fk_workflow_referral_draft_referral_id_workflow_referral"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_referral_draft")),
    )
    with op.batch_alter_table("workflow_referral_draft", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_referral_draft_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            "ix_workflow_referral_draft_org_status", ["organisation_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("workflow_referral_draft", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_referral_draft_org_status")
        batch_op.drop_index(batch_op.f("ix_workflow_referral_draft_client_id"))
    op.drop_table("workflow_referral_draft")
