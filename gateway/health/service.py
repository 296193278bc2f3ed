"""Readiness rules: what must answer before a process takes traffic."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from gateway.delivery.broker import broker_reachable
from gateway.delivery.relay import RelayThread
from gateway.runtime import Runtime
from kernel import outbox
from kernel.db import ping, read_only

__all__ = ["outbox_counts", "readiness"]


def readiness(runtime: Runtime, relay: RelayThread | None) -> dict[str, dict[str, Any]]:
    """Each dependency's state: {"ok": bool, "detail": str}."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        ping(runtime.engine)
        checks["database"] = {"ok": True, "detail": runtime.engine.dialect.name}
    except SQLAlchemyError as exc:
        checks["database"] = {"ok": False, "detail": type(exc).__name__}
    if runtime.settings.embedded_delivery:
        checks["broker"] = {"ok": True, "detail": "embedded in-process delivery"}
    else:
        problem = broker_reachable(runtime.settings.broker_url, timeout=1.0)
        checks["broker"] = {"ok": problem is None, "detail": problem or "redis"}
    if relay is not None:
        checks["relay"] = {"ok": relay.alive, "detail": "running" if relay.alive else "stopped"}
    return checks


def outbox_counts(runtime: Runtime) -> dict[str, int]:
    """Outbox events by state (for the metrics gauge); empty when the database is away."""
    try:
        with read_only(runtime.engine) as conn:
            rows = conn.execute(
                select(outbox.OutboxEvent.state, func.count()).group_by(outbox.OutboxEvent.state)
            ).all()
    except SQLAlchemyError:
        return {}
    counts = {state.value: 0 for state in outbox.EventState}
    counts.update({str(state): int(count) for state, count in rows})
    return counts
