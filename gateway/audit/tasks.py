"""Audit tasks: sign checkpoints of the chain head often enough, and hand them to the witness.

Two bounds, whichever comes first (REFHUB_AUDIT_CHECKPOINT_EVERY_RECORDS and
REFHUB_AUDIT_CHECKPOINT_EVERY_SECONDS):

- records: the commit that takes the chain past a multiple of the bound also enqueues
  `audit.checkpoint` (an outbox row in the same transaction as the records, so it cannot
  be lost or come without them), which signs the head as soon as a worker takes it;
- time: `audit.checkpoint_if_due` runs every minute and signs when the last checkpoint is
  as old as the bound and records were added since.

Both are phased outbox tasks: the checkpoint row commits in the claiming transaction;
then, with no transaction open, every checkpoint the witness file lacks is appended to it
and the HTTP witness, if one is set, is sent what it lacks. A witness file that cannot be
written retries the event (the checkpoint is safe in the database meanwhile); an HTTP
witness that cannot be reached is only logged, and caught up with the next checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.orm import Session

from gateway.audit import service as audit_service
from gateway.audit.witness import WitnessedCheckpoint, Witnesses
from kernel import audit, outbox
from kernel.crypto import load_ed25519_private_key
from kernel.outbox import task
from kernel.settings import Settings, get_settings

__all__ = ["ExportPlan", "checkpoint", "checkpoint_if_due", "export", "exported"]

log = structlog.get_logger(__name__)
CHECKPOINT_TASK = "audit.checkpoint"
DUE_CHECK_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class ExportPlan:
    """Checkpoints the witness file lacks, and where to send them."""

    witnesses: Witnesses
    checkpoints: tuple[WitnessedCheckpoint, ...]


def _export_plan(session: Session, settings: Settings) -> ExportPlan | None:
    witnesses = Witnesses.for_settings(settings)
    pending = audit_service.unwitnessed_checkpoints(session, witness=witnesses.file)
    return ExportPlan(witnesses, tuple(pending)) if pending else None


def export(plan: ExportPlan) -> int:
    """Append the plan's checkpoints to the witness file, then catch the HTTP witness up.

    Raises:
        WitnessUnavailable: the file cannot be written (the event is retried).
    """
    return plan.witnesses.export(plan.checkpoints)


def exported(session: Session, result: int, **_payload: Any) -> None:
    """Nothing to record in the database: the witness is the record."""
    if result:
        log.info("audit.checkpoints_witnessed", checkpoints=result)


@task(CHECKPOINT_TASK, perform=export, finish=exported)
def checkpoint(session: Session) -> ExportPlan | None:
    """Sign the current head (nothing to do when it is already signed) and export it."""
    settings = get_settings()
    audit_service.write_checkpoint(session, load_ed25519_private_key(settings.audit_key_path))
    return _export_plan(session, settings)


@task(
    "audit.checkpoint_if_due",
    every_seconds=DUE_CHECK_EVERY_SECONDS,
    perform=export,
    finish=exported,
)
def checkpoint_if_due(session: Session) -> ExportPlan | None:
    """Sign the head when the time bound (or, as a backstop, the record bound) is reached;
    export whatever the witness file lacks either way."""
    settings = get_settings()
    if audit_service.checkpoint_due(
        session,
        every_records=settings.audit_checkpoint_every_records,
        every_seconds=settings.audit_checkpoint_every_seconds,
    ):
        key = load_ed25519_private_key(settings.audit_key_path)
        audit_service.write_checkpoint(session, key)
    return _export_plan(session, settings)


def _checkpoint_on_record_bound(session: Session, first_seq: int, last_seq: int) -> None:
    every = get_settings().audit_checkpoint_every_records
    bound = last_seq // every * every
    if bound >= first_seq:  # this commit took the chain to or past a multiple of `every`
        outbox.enqueue(session, CHECKPOINT_TASK, dedupe_key=f"{CHECKPOINT_TASK}@record:{bound}")


audit.on_append(_checkpoint_on_record_bound)
