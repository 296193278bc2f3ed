"""Each version of a referral's Task is kept, sealed, for an exact vread.

- `workflow_task_version`: the Task as FHIR JSON at each version (status, reason text,
  business status, outputs and contained Procedures), sealed under the client's data key
  like packets and thread messages, so erasure makes every version unreadable.

Existing referrals get no rows: their past versions are still rebuilt from the referral's
history (partial), as before. The downgrade drops the table.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_task_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["workflow_referral.id"],
            name=op.f("fk_workflow_task_version_referral_id_workflow_referral"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_task_version")),
        sa.UniqueConstraint(
            "referral_id", "version", name=op.f("uq_workflow_task_version_referral_id_version")
        ),
    )


def downgrade() -> None:
    op.drop_table("workflow_task_version")
