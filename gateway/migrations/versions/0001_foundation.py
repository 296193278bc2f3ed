"""Foundation: the audit chain and its head, signed checkpoints, the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64

# The audit table is append-only in the database too: an UPDATE or DELETE fails unless
# someone with owner rights drops the trigger first, which the hash chain then exposes.
_PG_GUARD = """
CREATE FUNCTION kernel_audit_record_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'kernel_audit_record is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER kernel_audit_record_append_only
  BEFORE UPDATE OR DELETE ON kernel_audit_record
  FOR EACH ROW EXECUTE FUNCTION kernel_audit_record_append_only();
"""
_SQLITE_GUARDS = [
    """CREATE TRIGGER kernel_audit_record_no_update BEFORE UPDATE ON kernel_audit_record
       BEGIN SELECT RAISE(ABORT, 'kernel_audit_record is append-only'); END""",
    """CREATE TRIGGER kernel_audit_record_no_delete BEFORE DELETE ON kernel_audit_record
       BEGIN SELECT RAISE(ABORT, 'kernel_audit_record is append-only'); END""",
]


def upgrade() -> None:
    op.create_table(
        "kernel_audit_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("purpose", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_audit_record")),
        sa.UniqueConstraint("seq", name=op.f("uq_kernel_audit_record_seq")),
    )
    op.create_index(op.f("ix_kernel_audit_record_action"), "kernel_audit_record", ["action"])
    op.create_index(
        op.f("ix_kernel_audit_record_organisation"), "kernel_audit_record", ["organisation"]
    )
    op.create_index(op.f("ix_kernel_audit_record_subject"), "kernel_audit_record", ["subject"])
    head = op.create_table(
        "kernel_audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_audit_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])
    op.create_table(
        "gateway_audit_checkpoint",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_audit_checkpoint")),
    )
    op.create_index(op.f("ix_gateway_audit_checkpoint_seq"), "gateway_audit_checkpoint", ["seq"])
    op.create_table(
        "kernel_outbox_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("available_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_outbox_event")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_kernel_outbox_event_dedupe_key")),
    )
    op.create_index(
        "ix_kernel_outbox_event_state_available_at",
        "kernel_outbox_event",
        ["state", "available_at"],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_GUARD)
    else:
        for statement in _SQLITE_GUARDS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER kernel_audit_record_append_only ON kernel_audit_record")
        op.execute("DROP FUNCTION kernel_audit_record_append_only()")
    op.drop_table("kernel_outbox_event")
    op.drop_table("gateway_audit_checkpoint")
    op.drop_table("kernel_audit_head")
    op.drop_table("kernel_audit_record")
