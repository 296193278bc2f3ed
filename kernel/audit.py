"""The audit chain: append-only, hash-chained records every write path adds to.

`record()` is the one function callers use. Records are queued on the session and written
just before it commits, after the transaction's other rows are flushed, so the chain head
is locked only for the chain's own rows and the commit, and a rolled-back transaction
leaves no record. Each record holds the hash of
the one before it; `chain_hash()` is the single definition verifiers recompute.

Rows hold pseudonyms, ids and digests (`kernel.crypto.sha256_hex` of the bytes disclosed),
never client content, so erasing a client later leaves the chain verifiable.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, BigInteger, String, event, select
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from kernel.crypto import canonical_json, sha256_hex
from kernel.db import Base, new_id, utcnow

__all__ = [
    "GENESIS_HASH",
    "AuditHead",
    "AuditRecord",
    "Outcome",
    "chain_hash",
    "on_append",
    "record",
]

GENESIS_HASH = "0" * 64
_PENDING_KEY = "refhub.audit.pending"
_MAX_DETAIL_VALUE = 256


class Outcome(enum.StrEnum):
    """What came of the action (mapped to AuditEvent.outcome 0 / 4 / 8)."""

    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"


class AuditRecord(Base):
    """One audited action. Never updated, never deleted."""

    __tablename__ = "kernel_audit_record"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    recorded_at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    purpose: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain head: one row, locked while a transaction appends."""

    __tablename__ = "kernel_audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class _Pending:
    id: uuid.UUID
    recorded_at: dt.datetime
    actor: str
    organisation: str | None
    action: str
    subject: str | None
    purpose: str | None
    outcome: str
    detail: dict[str, Any] = field(default_factory=dict)


def chain_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """The hash of one record: SHA-256 over its canonical JSON and the previous hash."""
    return sha256_hex(canonical_json({**fields, "prev_hash": prev_hash}))


def hashed_fields(row: AuditRecord | _Pending, seq: int) -> dict[str, Any]:
    """The fields a record's hash covers, in their canonical form."""
    return {
        "seq": seq,
        "id": str(row.id),
        "recorded_at": row.recorded_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": row.actor,
        "organisation": row.organisation,
        "action": row.action,
        "subject": row.subject,
        "purpose": row.purpose,
        "outcome": row.outcome,
        "detail": row.detail,
    }


def _check_detail(detail: dict[str, Any]) -> dict[str, Any]:
    for key, value in detail.items():
        if not isinstance(value, str | int | bool | None):
            raise TypeError(f"audit detail {key!r} must be a scalar (ids, codes, digests)")
        if isinstance(value, str) and len(value) > _MAX_DETAIL_VALUE:
            raise ValueError(f"audit detail {key!r} is too long: store a digest, not content")
    return dict(detail)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    outcome: Outcome = Outcome.SUCCESS,
    organisation: str | None = None,
    subject: str | None = None,
    purpose: str | None = None,
    detail: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Add an audit record to the session's transaction; it is chained at commit.

    Args:
        actor: pseudonymous id of who acted (`user:<id>`, `client:<id>`, `system:<task>`).
        action: dotted verb, e.g. `consent.revoke`, `referral.submit`.
        outcome: success, denied or failure.
        organisation: id of the acting organisation, if any.
        subject: the thing acted on as `Type/id` (pseudonyms only).
        purpose: purpose of use, e.g. `referral`.
        detail: scalar ids, codes and digests; never client content.

    Returns the record's id (usable as the AuditEvent id).
    """
    pending = _Pending(
        id=new_id(),
        recorded_at=utcnow(),
        actor=actor,
        organisation=organisation,
        action=action,
        subject=subject,
        purpose=purpose,
        outcome=str(outcome),
        detail=_check_detail(detail or {}),
    )
    session.info.setdefault(_PENDING_KEY, []).append(pending)
    return pending.id


AppendListener = Callable[[Session, int, int], None]
_APPEND_LISTENERS: list[AppendListener] = []


def on_append(listener: AppendListener) -> None:
    """Call `listener(session, first_seq, last_seq)` whenever a commit appends records.

    It runs inside the committing transaction, after the records are chained and before
    the commit, so whatever it writes (an outbox event) commits with them or not at all.
    """
    if listener not in _APPEND_LISTENERS:
        _APPEND_LISTENERS.append(listener)


def _lock_head(session: Session) -> AuditHead:
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS_HASH)
        session.add(head)
    return head


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # SQLAlchemy also calls this when a savepoint is released: wait for the end
    if not session.info.get(_PENDING_KEY):
        return
    # Everything else the transaction writes goes out first, so that the head is locked
    # only for the chain's own rows and the commit (the flush may itself audit, hence the
    # pop after it).
    session.flush()
    pending: list[_Pending] = session.info.pop(_PENDING_KEY, [])
    head = _lock_head(session)
    first = head.seq + 1
    seq, prev = head.seq, head.hash
    for item in pending:
        seq += 1
        digest = chain_hash(hashed_fields(item, seq), prev)
        session.add(
            AuditRecord(
                id=item.id,
                seq=seq,
                recorded_at=item.recorded_at,
                actor=item.actor,
                organisation=item.organisation,
                action=item.action,
                subject=item.subject,
                purpose=item.purpose,
                outcome=item.outcome,
                detail=item.detail,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    head.seq, head.hash = seq, prev
    session.flush()
    for listener in _APPEND_LISTENERS:
        listener(session, first, seq)


# Records follow the transaction they were made in: those queued inside a savepoint that
# rolls back go with it; those queued before it stay. The outermost transaction's end
# discards whatever is left (after a commit nothing is).
_MARKS_KEY = "refhub.audit.savepoint_marks"


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        marks = session.info.setdefault(_MARKS_KEY, {})
        marks[id(transaction)] = len(session.info.get(_PENDING_KEY, []))


@event.listens_for(Session, "after_soft_rollback")
def _drop_savepoint_records(session: Session, previous: SessionTransaction) -> None:
    mark = session.info.get(_MARKS_KEY, {}).pop(id(previous), None)
    if previous.nested and mark is not None and _PENDING_KEY in session.info:
        del session.info[_PENDING_KEY][mark:]


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    # (SQLAlchemy ends a savepoint before it reports the soft rollback, so marks are
    # dropped with the outermost transaction, not here.)
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
        session.info.pop(_MARKS_KEY, None)
