"""Audit rules: sign the chain head, and verify every record and checkpoint.

Verification recomputes each record's hash from its fields and the previous hash, checks
that sequence numbers have no gap, that the head row matches the last record, and that
each checkpoint is signed by the hub's key and pins a hash still present. It reports every
problem it finds (not only the first) so an operator sees the extent of the damage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit.models import AuditCheckpoint
from kernel.audit import GENESIS_HASH, AuditHead, AuditRecord, chain_hash, hashed_fields
from kernel.crypto import canonical_json, ed25519_key_id, verify_ed25519
from kernel.db import utcnow

__all__ = ["VerifyReport", "checkpoint_message", "verify_chain", "write_checkpoint"]

_BATCH = 1000


def checkpoint_message(seq: int, head_hash: str, signed_at: dt.datetime, key_id: str) -> bytes:
    """The exact bytes a checkpoint signature covers."""
    return canonical_json(
        {
            "type": "refhub-audit-checkpoint",
            "seq": seq,
            "head_hash": head_hash,
            "signed_at": signed_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "key_id": key_id,
        }
    )


def write_checkpoint(session: Session, key: Ed25519PrivateKey) -> AuditCheckpoint | None:
    """Sign the current chain head; None when the chain is empty or already checkpointed."""
    head = session.get(AuditHead, 1)
    if head is None or head.seq == 0:
        return None
    latest = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)
    ).first()
    if latest is not None and latest.seq == head.seq:
        return None
    signed_at = utcnow()
    key_id = ed25519_key_id(key.public_key())
    checkpoint = AuditCheckpoint(
        seq=head.seq,
        head_hash=head.hash,
        signed_at=signed_at,
        key_id=key_id,
        signature=key.sign(checkpoint_message(head.seq, head.hash, signed_at, key_id)),
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


@dataclass
class VerifyReport:
    records: int = 0
    checkpoints: int = 0
    head_seq: int = 0
    problems: list[str] = field(default_factory=list)
    pinned_hashes: dict[int, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "head_seq": self.head_seq,
            "problems": self.problems,
        }


def _verify_records(session: Session, report: VerifyReport, pinned: set[int]) -> tuple[int, str]:
    """Walk the chain; return the last (seq, hash) and fill `pinned` seqs' hashes."""
    hashes = report.pinned_hashes
    expected_seq, prev = 1, GENESIS_HASH
    rows = session.scalars(select(AuditRecord).order_by(AuditRecord.seq)).yield_per(_BATCH)
    for row in rows:
        if row.seq != expected_seq:
            report.problems.append(
                f"records {expected_seq}..{row.seq - 1} are missing (deleted?)"
                if row.seq > expected_seq
                else f"record {row.seq} is out of order"
            )
        if row.prev_hash != prev:
            report.problems.append(f"record {row.seq} does not link to the record before it")
        if chain_hash(hashed_fields(row, row.seq), row.prev_hash) != row.hash:
            report.problems.append(f"record {row.seq} was altered (its hash does not match)")
        if row.seq in pinned:
            hashes[row.seq] = row.hash
        prev, expected_seq = row.hash, row.seq + 1
        report.records += 1
    return expected_seq - 1, prev


def verify_chain(session: Session, public_key: Ed25519PublicKey) -> VerifyReport:
    """Check the whole audit chain and its checkpoints against the hub's public key."""
    report = VerifyReport()
    checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)))
    last_seq, last_hash = _verify_records(session, report, {cp.seq for cp in checkpoints})
    hashes = report.pinned_hashes
    head = session.get(AuditHead, 1)
    report.head_seq = head.seq if head else 0
    if head is not None and head.seq != last_seq:
        report.problems.append(
            f"the chain head says {head.seq} records but the last record is {last_seq} "
            "(records removed from the end?)"
        )
    elif head is not None and last_hash != head.hash:
        report.problems.append("the chain head's hash does not match the last record")
    key_id = ed25519_key_id(public_key)
    for cp in checkpoints:
        report.checkpoints += 1
        message = checkpoint_message(cp.seq, cp.head_hash, cp.signed_at, cp.key_id)
        if cp.key_id != key_id or not verify_ed25519(public_key, cp.signature, message):
            report.problems.append(f"checkpoint at record {cp.seq} has an invalid signature")
        elif cp.seq > last_seq:
            report.problems.append(
                f"checkpoint pins record {cp.seq} but the chain ends at {last_seq} "
                "(records removed from the end)"
            )
        elif hashes.get(cp.seq) != cp.head_hash:
            report.problems.append(f"record {cp.seq} differs from its signed checkpoint")
    return report
