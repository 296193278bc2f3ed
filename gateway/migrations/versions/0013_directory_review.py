"""Directory review: the listing version a hub admin last reviewed, when and by whom.

`directory_service.reviewed_version` (with `reviewed_at`, `reviewed_by`) lets the hub
console's moderation queue show listings nobody has reviewed yet (NULL) and listings
changed since their last review (`version` greater than `reviewed_version`). Existing
listings count as reviewed at the version they have: they were live in the network before
the queue existed (hub admins could already suspend them), and an upgrade must not bury the
queue's new and changed listings under every old one. `reviewed_by` says so.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("directory_service", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewed_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("reviewed_at", kernel.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=200), nullable=True))
    service = sa.table(
        "directory_service",
        sa.column("version", sa.Integer()),
        sa.column("reviewed_version", sa.Integer()),
        sa.column("reviewed_by", sa.String()),
    )
    op.execute(
        service.update().values(reviewed_version=service.c.version, reviewed_by="migration:0013")
    )


def downgrade() -> None:
    with op.batch_alter_table("directory_service", schema=None) as batch_op:
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_version")
