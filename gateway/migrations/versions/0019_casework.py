"""Case work across agencies: assessments, service plans (goals, tasks, reviews), links from
case notes to the plan, case conferences, supervision reviews, file reviews and each
organisation's planning rules; and `workflow_case_note.share_with_partners`.

New tables only, plus one column with a server default (false: no existing note is shared),
so existing data is untouched. Client content in the new tables is sealed under the
client's data key like case notes. The downgrade drops them.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_org_plan_settings",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("review_every_days", sa.Integer(), nullable=False),
        sa.Column("goal_domain_required", sa.Boolean(), nullable=False),
        sa.Column("goal_target_required", sa.Boolean(), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_workflow_org_plan_settings")),
    )
    op.create_table(
        "workflow_assessment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("reassess_on", sa.Date(), nullable=True),
        sa.Column("intensity", sa.String(length=10), nullable=False),
        sa.Column("risk_flags", sa.Integer(), nullable=False),
        sa.Column("review_state", sa.String(length=10), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("written_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["workflow_case.id"],
            name=op.f("fk_workflow_assessment_case_id_workflow_case"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["workflow_assessment.id"],
            name=op.f("fk_workflow_assessment_supersedes_id_workflow_assessment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_assessment")),
        sa.UniqueConstraint(
            "case_id", "version", name=op.f("uq_workflow_assessment_case_id_version")
        ),
    )
    with op.batch_alter_table("workflow_assessment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_assessment_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_assessment_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "workflow_conference",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("next_meeting_on", sa.Date(), nullable=True),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("written_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["workflow_case.id"],
            name=op.f("fk_workflow_conference_case_id_workflow_case"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_conference")),
    )
    with op.batch_alter_table("workflow_conference", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_conference_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "workflow_file_review",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("run_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reviewer_id", sa.Uuid(), nullable=True),
        sa.Column("reviewer_name", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["workflow_case.id"],
            name=op.f("fk_workflow_file_review_case_id_workflow_case"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_file_review")),
    )
    with op.batch_alter_table("workflow_file_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_file_review_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            "ix_workflow_file_review_org_kind", ["organisation_id", "kind", "period"], unique=False
        )

    op.create_table(
        "workflow_supervision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("subject_kind", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by_name", sa.String(length=200), nullable=False),
        sa.Column("requested_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=200), nullable=True),
        sa.Column("decided_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["workflow_case.id"],
            name=op.f("fk_workflow_supervision_case_id_workflow_case"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_supervision")),
    )
    with op.batch_alter_table("workflow_supervision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_supervision_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            "ix_workflow_supervision_org_decision", ["organisation_id", "decision"], unique=False
        )

    op.create_table(
        "workflow_plan",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("owner_org_id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("review_every_days", sa.Integer(), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("review_state", sa.String(length=10), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["workflow_assessment.id"],
            name=op.f("fk_workflow_plan_assessment_id_workflow_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["workflow_case.id"], name=op.f("fk_workflow_plan_case_id_workflow_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_plan")),
        sa.UniqueConstraint("case_id", name=op.f("uq_workflow_plan_case_id")),
    )
    with op.batch_alter_table("workflow_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workflow_plan_client_id"), ["client_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_workflow_plan_owner_org_id"), ["owner_org_id"], unique=False
        )

    op.create_table(
        "workflow_goal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("domain", sa.String(length=30), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("target_on", sa.Date(), nullable=True),
        sa.Column("lifecycle_status", sa.String(length=20), nullable=False),
        sa.Column("achievement_status", sa.String(length=20), nullable=True),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["workflow_case.id"], name=op.f("fk_workflow_goal_case_id_workflow_case")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["workflow_plan.id"], name=op.f("fk_workflow_goal_plan_id_workflow_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_goal")),
    )
    with op.batch_alter_table("workflow_goal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workflow_goal_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_workflow_goal_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "workflow_plan_review",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("written_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["workflow_plan.id"],
            name=op.f("fk_workflow_plan_review_plan_id_workflow_plan"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_plan_review")),
    )
    with op.batch_alter_table("workflow_plan_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_plan_review_plan_id"), ["plan_id"], unique=False
        )

    op.create_table(
        "workflow_plan_task",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("responsible", sa.String(length=15), nullable=False),
        sa.Column("responsible_org_id", sa.Uuid(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("conference_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_org_id", sa.Uuid(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["workflow_case.id"],
            name=op.f("fk_workflow_plan_task_case_id_workflow_case"),
        ),
        sa.ForeignKeyConstraint(
            ["conference_id"],
            ["workflow_conference.id"],
            name=op.f("fk_workflow_plan_task_conference_id_workflow_conference"),
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["workflow_goal.id"],
            name=op.f("fk_workflow_plan_task_goal_id_workflow_goal"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["workflow_plan.id"],
            name=op.f("fk_workflow_plan_task_plan_id_workflow_plan"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["workflow_referral.id"],
            name=op.f("fk_workflow_plan_task_referral_id_workflow_referral"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_plan_task")),
    )
    with op.batch_alter_table("workflow_plan_task", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_plan_task_goal_id"), ["goal_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_plan_task_plan_id"), ["plan_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_plan_task_referral_id"), ["referral_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_plan_task_responsible_org_id"),
            ["responsible_org_id"],
            unique=False,
        )

    op.create_table(
        "workflow_case_note_link",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("note_id", sa.Uuid(), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["workflow_goal.id"],
            name=op.f("fk_workflow_case_note_link_goal_id_workflow_goal"),
        ),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["workflow_case_note.id"],
            name=op.f("fk_workflow_case_note_link_note_id_workflow_case_note"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["workflow_plan_task.id"],
            name=op.f("fk_workflow_case_note_link_task_id_workflow_plan_task"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_case_note_link")),
    )
    with op.batch_alter_table("workflow_case_note_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_case_note_link_goal_id"), ["goal_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_case_note_link_note_id"), ["note_id"], unique=False
        )

    with op.batch_alter_table("workflow_case_note", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "share_with_partners", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("workflow_case_note", schema=None) as batch_op:
        batch_op.drop_column("share_with_partners")

    with op.batch_alter_table("workflow_case_note_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_case_note_link_note_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_case_note_link_goal_id"))

    op.drop_table("workflow_case_note_link")
    with op.batch_alter_table("workflow_plan_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_plan_task_responsible_org_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_plan_task_referral_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_plan_task_plan_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_plan_task_goal_id"))

    op.drop_table("workflow_plan_task")
    with op.batch_alter_table("workflow_plan_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_plan_review_plan_id"))

    op.drop_table("workflow_plan_review")
    with op.batch_alter_table("workflow_goal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_goal_plan_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_goal_client_id"))

    op.drop_table("workflow_goal")
    with op.batch_alter_table("workflow_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_plan_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_plan_client_id"))

    op.drop_table("workflow_plan")
    with op.batch_alter_table("workflow_supervision", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_supervision_org_decision")
        batch_op.drop_index(batch_op.f("ix_workflow_supervision_case_id"))

    op.drop_table("workflow_supervision")
    with op.batch_alter_table("workflow_file_review", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_file_review_org_kind")
        batch_op.drop_index(batch_op.f("ix_workflow_file_review_case_id"))

    op.drop_table("workflow_file_review")
    with op.batch_alter_table("workflow_conference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_conference_case_id"))

    op.drop_table("workflow_conference")
    with op.batch_alter_table("workflow_assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_assessment_client_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_assessment_case_id"))

    op.drop_table("workflow_assessment")
    op.drop_table("workflow_org_plan_settings")
