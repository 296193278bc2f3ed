"""Referral and handover workflow: referrals (Tasks), their events, thread messages, handover and case records.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_case",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("owner_org_id", sa.Uuid(), nullable=False),
        sa.Column("opened_by_org_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("opened_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("transferred_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closure_reason", sa.String(length=40), nullable=True),
        sa.Column("closure", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_case")),
    )
    with op.batch_alter_table("workflow_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workflow_case_client_id"), ["client_id"], unique=False)
        batch_op.create_index(
            "ix_workflow_case_owner_status", ["owner_org_id", "status"], unique=False
        )

    op.create_table(
        "workflow_org_thresholds",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("response_hours", sa.Integer(), nullable=True),
        sa.Column("start_hours", sa.Integer(), nullable=True),
        sa.Column("escalation_hours", sa.Integer(), nullable=True),
        sa.Column("first_contact_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_workflow_org_thresholds")),
    )
    op.create_table(
        "workflow_referral",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("packet_id", sa.Uuid(), nullable=False),
        sa.Column("service_request_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("decided_by_consent_version", sa.Uuid(), nullable=True),
        sa.Column("requester_org_id", sa.Uuid(), nullable=False),
        sa.Column("requester_actor", sa.String(length=200), nullable=False),
        sa.Column("requester_assignee", sa.Uuid(), nullable=True),
        sa.Column("requester_team", sa.String(length=100), nullable=True),
        sa.Column("owner_org_id", sa.Uuid(), nullable=False),
        sa.Column("owner_assignee", sa.Uuid(), nullable=True),
        sa.Column("owner_team", sa.String(length=100), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.String(length=40), nullable=True),
        sa.Column("status_reason_text", sa.String(length=1000), nullable=True),
        sa.Column("business_status", sa.String(length=10), nullable=True),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("do_not_contact", sa.Boolean(), nullable=False),
        sa.Column("categories", sa.String(length=300), nullable=False),
        sa.Column("withheld", sa.String(length=300), nullable=False),
        sa.Column("service_codes", sa.JSON(), nullable=False),
        sa.Column("packet", sa.LargeBinary(), nullable=False),
        sa.Column("outputs", sa.LargeBinary(), nullable=True),
        sa.Column("output_count", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_digest", sa.String(length=64), nullable=True),
        sa.Column("resent_from_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("authored_on", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("responded_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["resent_from_id"],
            ["workflow_referral.id"],
            name=op.f("fk_workflow_referral_resent_from_id_workflow_referral"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_referral")),
        sa.UniqueConstraint(
            "requester_org_id",
            "idempotency_key",
            name=op.f("uq_workflow_referral_requester_org_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("workflow_referral", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_referral_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_referral_consent_id"), ["consent_id"], unique=False
        )
        batch_op.create_index(
            "ix_workflow_referral_owner_status", ["owner_org_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_workflow_referral_requester_status", ["requester_org_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_workflow_referral_status_authored", ["status", "authored_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_referral_service_id"), ["service_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_referral_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "workflow_handover",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("from_org_id", sa.Uuid(), nullable=False),
        sa.Column("to_org_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("first_contact_days", sa.Integer(), nullable=True),
        sa.Column("notes", sa.LargeBinary(), nullable=True),
        sa.Column("transferred_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("transferred_by", sa.String(length=200), nullable=True),
        sa.Column("first_contact_due_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_contact_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_contact_flagged_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["workflow_case.id"],
            name=op.f("fk_workflow_handover_case_id_workflow_case"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["workflow_referral.id"],
            name=op.f("fk_workflow_handover_referral_id_workflow_referral"),
        ),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_workflow_handover")),
    )
    op.create_table(
        "workflow_message",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("sender_org_id", sa.Uuid(), nullable=False),
        sa.Column("sender_actor", sa.String(length=200), nullable=False),
        sa.Column("recipient_org_id", sa.Uuid(), nullable=False),
        sa.Column("in_response_to", sa.Uuid(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("document_ids", sa.JSON(), nullable=False),
        sa.Column("sent_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["workflow_referral.id"],
            name=op.f("fk_workflow_message_referral_id_workflow_referral"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_message")),
    )
    with op.batch_alter_table("workflow_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_message_referral_id"), ["referral_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_workflow_message_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "workflow_referral_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("business_status", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("elapsed_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["workflow_referral.id"],
            name=op.f("fk_workflow_referral_event_referral_id_workflow_referral"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_referral_event")),
        sa.UniqueConstraint(
            "referral_id", "seq", name=op.f("uq_workflow_referral_event_referral_id_seq")
        ),
    )


def downgrade() -> None:
    op.drop_table("workflow_referral_event")
    with op.batch_alter_table("workflow_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_message_sent_at"))
        batch_op.drop_index(batch_op.f("ix_workflow_message_referral_id"))

    op.drop_table("workflow_message")
    op.drop_table("workflow_handover")
    with op.batch_alter_table("workflow_referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_referral_updated_at"))
        batch_op.drop_index(batch_op.f("ix_workflow_referral_service_id"))
        batch_op.drop_index("ix_workflow_referral_status_authored")
        batch_op.drop_index("ix_workflow_referral_requester_status")
        batch_op.drop_index("ix_workflow_referral_owner_status")
        batch_op.drop_index(batch_op.f("ix_workflow_referral_consent_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_referral_client_id"))

    op.drop_table("workflow_referral")
    op.drop_table("workflow_org_thresholds")
    with op.batch_alter_table("workflow_case", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_case_owner_status")
        batch_op.drop_index(batch_op.f("ix_workflow_case_client_id"))

    op.drop_table("workflow_case")
