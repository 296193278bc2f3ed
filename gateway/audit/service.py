"""Audit rules: sign the chain head, and verify every record and checkpoint.

Verification recomputes each record's hash from its fields and the previous hash, checks
that sequence numbers have no gap, that the head row matches the last record, and that
each checkpoint is signed by the hub's key and pins a hash still present. Then it checks
the chain against the witness (`gateway.audit.witness`, kept outside the database): every
witnessed checkpoint must be in the database, validly signed, and pin the hash the record
at its seq still has, so checkpoints deleted with a rehashed chain, or a truncated tail,
show. It reports every problem it finds (not only the first) so an operator sees the
extent of the damage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit.errors import WitnessUnavailable
from gateway.audit.models import AuditCheckpoint
from gateway.audit.witness import SEND_LIMIT, FileWitness, WitnessedCheckpoint, WitnessReading
from kernel.audit import GENESIS_HASH, AuditHead, AuditRecord, chain_hash, hashed_fields
from kernel.crypto import canonical_json, ed25519_key_id, verify_ed25519
from kernel.db import utcnow

__all__ = [
    "VerifyReport",
    "checkpoint_due",
    "checkpoint_message",
    "unwitnessed_checkpoints",
    "verify_chain",
    "write_checkpoint",
]

log = structlog.get_logger(__name__)
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


def _latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)
    ).first()


def checkpoint_due(
    session: Session,
    *,
    every_records: int,
    every_seconds: float,
    now: dt.datetime | None = None,
) -> bool:
    """True when records were added since the last checkpoint and either there are
    `every_records` of them or the last checkpoint is `every_seconds` old (or there is none)."""
    head = session.get(AuditHead, 1)
    if head is None or head.seq == 0:
        return False
    latest = _latest_checkpoint(session)
    if latest is None:
        return True
    if latest.seq >= head.seq:
        return False
    if head.seq - latest.seq >= every_records:
        return True
    return (now or utcnow()) - latest.signed_at >= dt.timedelta(seconds=every_seconds)


def write_checkpoint(session: Session, key: Ed25519PrivateKey) -> AuditCheckpoint | None:
    """Sign the current chain head; None when the chain is empty or already checkpointed."""
    head = session.get(AuditHead, 1)
    if head is None or head.seq == 0:
        return None
    latest = _latest_checkpoint(session)
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


def _witnessed(checkpoint: AuditCheckpoint) -> WitnessedCheckpoint:
    return WitnessedCheckpoint(
        seq=checkpoint.seq,
        head_hash=checkpoint.head_hash,
        signed_at=checkpoint.signed_at,
        key_id=checkpoint.key_id,
        signature=bytes(checkpoint.signature),
    )


def unwitnessed_checkpoints(session: Session, *, witness: FileWitness) -> list[WitnessedCheckpoint]:
    """The checkpoints newer than the witness file's last one, oldest first (at most the
    newest SEND_LIMIT: the newest pins every record before it).

    A witness file that cannot be read is logged, not raised (raising would roll back a
    checkpoint just signed in the same transaction): every recent checkpoint is returned,
    and appending them after the commit meets the error again.
    """
    try:
        after_seq = witness.last_seq()
    except WitnessUnavailable as exc:
        log.warning("audit.witness_unreadable", reason=exc.detail)
        after_seq = 0
    rows = session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.seq > after_seq)
        .order_by(AuditCheckpoint.seq.desc())
        .limit(SEND_LIMIT)
    )
    return [_witnessed(row) for row in reversed(list(rows))]


@dataclass
class VerifyReport:
    records: int = 0
    checkpoints: int = 0
    head_seq: int = 0
    problems: list[str] = field(default_factory=list)
    #: The witness file read (None: verified without a witness).
    witness: str | None = None
    witnessed_checkpoints: int = 0
    #: The record the last witnessed checkpoint pins (0: none).
    witnessed_seq: int = 0
    #: Checkpoints in the database pinning records after `witnessed_seq` (not yet exported).
    unwitnessed_checkpoints: int = 0
    #: Records after the last witnessed checkpoint that no valid checkpoint covers either.
    uncovered_records: int = 0
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
            "witness": self.witness,
            "witnessed_checkpoints": self.witnessed_checkpoints,
            "witnessed_seq": self.witnessed_seq,
            "unwitnessed_checkpoints": self.unwitnessed_checkpoints,
            "uncovered_records": self.uncovered_records,
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


def _signed(public_key: Ed25519PublicKey, cp: AuditCheckpoint | WitnessedCheckpoint) -> bool:
    message = checkpoint_message(cp.seq, cp.head_hash, cp.signed_at, cp.key_id)
    return cp.key_id == ed25519_key_id(public_key) and verify_ed25519(
        public_key, cp.signature, message
    )


def _verify_checkpoints(
    report: VerifyReport,
    public_key: Ed25519PublicKey,
    checkpoints: list[AuditCheckpoint],
    last_seq: int,
) -> int:
    """Check the database's checkpoints; return the last record a valid one pins."""
    hashes, covered = report.pinned_hashes, 0
    for cp in checkpoints:
        report.checkpoints += 1
        if not _signed(public_key, cp):
            report.problems.append(f"checkpoint at record {cp.seq} has an invalid signature")
        elif cp.seq > last_seq:
            report.problems.append(
                f"checkpoint pins record {cp.seq} but the chain ends at {last_seq} "
                "(records removed from the end)"
            )
        elif hashes.get(cp.seq) != cp.head_hash:
            report.problems.append(f"record {cp.seq} differs from its signed checkpoint")
        else:
            covered = max(covered, cp.seq)
    return covered


def _verify_witness(
    report: VerifyReport,
    public_key: Ed25519PublicKey,
    witness: WitnessReading,
    checkpoints: list[AuditCheckpoint],
    last_seq: int,
) -> None:
    """Check the chain against every witnessed checkpoint (see the module docstring)."""
    report.witness = str(witness.path)
    if witness.error is not None:
        report.problems.append(f"the witness {witness.path} cannot be read ({witness.error})")
        return
    if not witness.exists and checkpoints:
        report.problems.append(
            f"the witness {witness.path} does not exist but the database holds "
            f"{len(checkpoints)} checkpoints (wrong REFHUB_AUDIT_WITNESS_DIR, or the file "
            "was removed; `refhub audit checkpoint` starts one)"
        )
    report.problems.extend(
        f"witness line {number} is not a checkpoint (altered, or cut short by a crash)"
        for number in witness.bad_lines
    )
    in_database = {(cp.seq, cp.head_hash, bytes(cp.signature)) for cp in checkpoints}
    hashes = report.pinned_hashes
    for cp in dict.fromkeys(witness.checkpoints):  # a line written twice is checked once
        report.witnessed_checkpoints += 1
        if not _signed(public_key, cp):
            report.problems.append(
                f"witnessed checkpoint at record {cp.seq} has an invalid signature "
                "(the witness was altered, or is another hub's)"
            )
            continue
        report.witnessed_seq = max(report.witnessed_seq, cp.seq)
        if cp.seq > last_seq:
            report.problems.append(
                f"the witness holds a checkpoint at record {cp.seq} but the chain ends at "
                f"{last_seq} (records removed from the end)"
            )
        elif hashes.get(cp.seq) != cp.head_hash:
            report.problems.append(
                f"record {cp.seq} differs from its witnessed checkpoint (the chain was rewritten)"
            )
        if (cp.seq, cp.head_hash, cp.signature) not in in_database:
            report.problems.append(
                f"the witnessed checkpoint at record {cp.seq} is missing from the database "
                "(checkpoints deleted)"
            )
    report.unwitnessed_checkpoints = sum(1 for cp in checkpoints if cp.seq > report.witnessed_seq)


def verify_chain(
    session: Session, public_key: Ed25519PublicKey, *, witness: WitnessReading | None
) -> VerifyReport:
    """Check the whole audit chain and its checkpoints against the hub's public key, and
    against the witness read from outside the database (None: without one, which cannot
    catch checkpoints deleted with a rewritten chain or a truncated tail)."""
    report = VerifyReport()
    checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)))
    pinned = {cp.seq for cp in checkpoints}
    if witness is not None:
        pinned.update(cp.seq for cp in witness.checkpoints)
    last_seq, last_hash = _verify_records(session, report, pinned)
    head = session.get(AuditHead, 1)
    report.head_seq = head.seq if head else 0
    if head is not None and head.seq != last_seq:
        report.problems.append(
            f"the chain head says {head.seq} records but the last record is {last_seq} "
            "(records removed from the end?)"
        )
    elif head is not None and last_hash != head.hash:
        report.problems.append("the chain head's hash does not match the last record")
    covered = _verify_checkpoints(report, public_key, checkpoints, last_seq)
    if witness is not None:
        _verify_witness(report, public_key, witness, checkpoints, last_seq)
    report.uncovered_records = max(0, last_seq - max(covered, report.witnessed_seq))
    return report
