"""Audit tasks: sign a checkpoint of the chain head every minute."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.audit import service as audit_service
from kernel.crypto import load_ed25519_private_key
from kernel.outbox import task
from kernel.settings import get_settings

CHECKPOINT_EVERY_SECONDS = 60.0


@task("audit.checkpoint", every_seconds=CHECKPOINT_EVERY_SECONDS)
def checkpoint(session: Session) -> None:
    """Sign the current head (nothing to do when it is already signed)."""
    key = load_ed25519_private_key(get_settings().audit_key_path)
    audit_service.write_checkpoint(session, key)
