"""Case notes: dated contacts with the client, written by the organisation holding the case.

`workflow_case_note` is append-only (a correction is a new row naming the note it corrects,
`corrects_id`). The note's text, who took part and the interpreter's language are sealed
under the client's data key (`sealed`), so erasure makes them unreadable; the date, kind,
author and organisation are in clear. New table only: existing data is untouched. The
downgrade drops it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_case_note",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("contacted_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("interpreter", sa.Boolean(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("corrects_id", sa.Uuid(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("written_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["workflow_case.id"],
            name=op.f("fk_workflow_case_note_case_id_workflow_case"),
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["workflow_case_note.id"],
            name=op.f("fk_workflow_case_note_corrects_id_workflow_case_note"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_case_note")),
    )
    with op.batch_alter_table("workflow_case_note", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_case_note_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            "ix_workflow_case_note_client_org", ["client_id", "organisation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("workflow_case_note", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_case_note_client_org")
        batch_op.drop_index(batch_op.f("ix_workflow_case_note_case_id"))
    op.drop_table("workflow_case_note")
