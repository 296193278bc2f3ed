"""The audit chain: records link by hash, rolled-back work leaves no record, rows stay put."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kernel import audit
from kernel.audit import AuditHead, AuditRecord, Outcome, chain_hash, hashed_fields


def _head(session: Session) -> AuditHead:
    head = session.get(AuditHead, 1)
    assert head is not None
    return head


def test_records_are_chained_at_commit(db: Session) -> None:
    start = _head(db).seq
    first = audit.record(
        db,
        actor="user:u1",
        action="consent.revoke",
        organisation="org-a",
        subject="Consent/c1",
        purpose="referral",
    )
    second = audit.record(
        db,
        actor="client:k1",
        action="referral.submit",
        outcome=Outcome.DENIED,
        detail={"data_sha256": "ab" * 32},
    )
    db.commit()
    rows = db.scalars(
        select(AuditRecord).where(AuditRecord.seq > start).order_by(AuditRecord.seq)
    ).all()
    assert [row.id for row in rows] == [first, second]
    assert rows[0].seq == start + 1 and rows[1].seq == start + 2
    assert rows[1].prev_hash == rows[0].hash
    for row in rows:
        assert chain_hash(hashed_fields(row, row.seq), row.prev_hash) == row.hash
    assert _head(db).seq == start + 2 and _head(db).hash == rows[1].hash
    assert rows[1].outcome == "denied"


def test_rolled_back_work_leaves_no_record(db: Session) -> None:
    start = _head(db).seq
    audit.record(db, actor="user:u1", action="referral.submit")
    db.rollback()
    db.commit()
    assert _head(db).seq == start
    assert db.scalars(select(AuditRecord).where(AuditRecord.seq > start)).first() is None


def test_detail_refuses_content(db: Session) -> None:
    with pytest.raises(TypeError):
        audit.record(db, actor="user:u1", action="x", detail={"client": {"name": "Amina"}})
    with pytest.raises(ValueError, match="digest"):
        audit.record(db, actor="user:u1", action="x", detail={"note": "x" * 300})


def test_records_cannot_be_updated_or_deleted(db: Session) -> None:
    audit.record(db, actor="user:u1", action="directory.update")
    db.commit()
    seq = _head(db).seq
    for statement in (
        f"UPDATE kernel_audit_record SET actor = 'user:someone-else' WHERE seq = {seq}",
        f"DELETE FROM kernel_audit_record WHERE seq = {seq}",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
            db.execute(text(statement))


def test_a_rolled_back_savepoint_keeps_earlier_records(db: Session) -> None:
    start = _head(db).seq
    audit.record(db, actor="user:u1", action="auth.sign_in", outcome=Outcome.DENIED)
    with pytest.raises(RuntimeError), db.begin_nested():
        raise RuntimeError("an attempt inside a savepoint failed")
    db.commit()
    assert _head(db).seq == start + 1


def test_records_made_inside_a_rolled_back_savepoint_go_with_it(db: Session) -> None:
    start = _head(db).seq
    audit.record(db, actor="user:u1", action="before")
    with pytest.raises(RuntimeError), db.begin_nested():
        audit.record(db, actor="user:u1", action="inside")
        raise RuntimeError("rolled back")
    with db.begin_nested():
        audit.record(db, actor="user:u1", action="kept")
    db.commit()
    actions = db.scalars(
        select(AuditRecord.action).where(AuditRecord.seq > start).order_by(AuditRecord.seq)
    ).all()
    assert actions == ["before", "kept"]


def test_records_wait_for_the_outermost_commit(db: Session) -> None:
    """Releasing a savepoint writes nothing (and takes no lock on the chain head): a batch
    of work in savepoints appends its records once, at its commit."""
    start = _head(db).seq
    with db.begin_nested():
        audit.record(db, actor="system:test", action="in-a-released-savepoint")
    assert db.scalars(select(AuditRecord).where(AuditRecord.seq > start)).first() is None
    db.commit()
    actions = db.scalars(select(AuditRecord.action).where(AuditRecord.seq > start)).all()
    assert actions == ["in-a-released-savepoint"]
