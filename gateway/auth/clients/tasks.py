"""System-client tasks: purge expired replay-store rows and access tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from gateway.auth.clients.assertion import CLOCK_SKEW
from gateway.auth.clients.models import AccessToken, UsedAssertion
from kernel.db import utcnow
from kernel.outbox import task

PURGE_EVERY_SECONDS = 600.0
# Expired tokens are kept a little while so an operator can still match a just-failed call.
TOKEN_RETENTION = dt.timedelta(hours=1)


@task("auth.clients.purge_expired", every_seconds=PURGE_EVERY_SECONDS)
def purge_expired(session: Session, now: str | None = None) -> None:
    """Delete replay rows whose assertion has expired (a replay would fail on `exp` anyway;
    the clock-skew margin covers servers whose clocks differ) and access tokens past their
    expiry and retention. Idempotent."""
    current = dt.datetime.fromisoformat(now) if now else utcnow()
    session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < current - CLOCK_SKEW))
    session.execute(delete(AccessToken).where(AccessToken.expires_at < current - TOKEN_RETENTION))
