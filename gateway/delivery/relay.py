"""The outbox relay: claims committed events and hands them to a dispatcher.

Claiming and dispatching are separate steps: events are marked `dispatched` in a short
transaction (rows locked with SKIP LOCKED on PostgreSQL, so several relays share the work),
then published. If publishing fails (broker down) they go straight back to `pending`; if
the process dies in between, they are re-dispatched once `stale_after` has passed, as are
phased tasks left `claimed` by a worker that died during their I/O. Either
way nothing is lost, and `kernel.outbox.execute` makes the repeat harmless.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from kernel import outbox
from kernel.db import transaction, utcnow
from kernel.errors import Recoverable

__all__ = [
    "Dispatcher",
    "InProcessDispatcher",
    "Relay",
    "RelayThread",
    "batches",
    "enqueue_periodic",
]

log = structlog.get_logger(__name__)
State = outbox.EventState


class Dispatcher(Protocol):
    """Hands claimed events on. Raises `Recoverable` when it cannot (they are released)."""

    def dispatch(self, events: list[tuple[uuid.UUID, str]]) -> None: ...


def batches(
    events: list[tuple[uuid.UUID, str]], batch_size: int
) -> list[tuple[str, list[uuid.UUID]]]:
    """Claimed events as units of work: a batchable task's events in chunks of up to
    `batch_size` (in claim order), every other event on its own."""
    units: list[tuple[str, list[uuid.UUID]]] = []
    open_chunk: dict[str, list[uuid.UUID]] = {}
    specs = outbox.registered_tasks()
    for event_id, task_name in events:
        spec = specs.get(task_name)
        if spec is None or not spec.batchable or batch_size <= 1:
            units.append((task_name, [event_id]))
            continue
        chunk = open_chunk.get(task_name)
        if chunk is None or len(chunk) >= batch_size:
            chunk = open_chunk[task_name] = []
            units.append((task_name, chunk))
        chunk.append(event_id)
    return units


@dataclass
class InProcessDispatcher:
    """Embedded delivery: runs the events in this process, one unit after another."""

    sessions: sessionmaker[Session]
    batch_size: int = 1
    concurrency: int = 1

    def dispatch(self, events: list[tuple[uuid.UUID, str]]) -> None:
        for _task, event_ids in batches(events, self.batch_size):
            outbox.execute_many(self.sessions, event_ids, concurrency=self.concurrency)


@dataclass
class Relay:
    sessions: sessionmaker[Session]
    dispatcher: Dispatcher
    batch_size: int = 100
    stale_after: dt.timedelta = dt.timedelta(minutes=5)

    def _claim(self) -> list[tuple[uuid.UUID, str]]:
        now = utcnow()
        with transaction(self.sessions) as session:
            due = or_(
                (outbox.OutboxEvent.state == State.PENDING)
                & (outbox.OutboxEvent.available_at <= now),
                outbox.OutboxEvent.state.in_((State.DISPATCHED, State.CLAIMED))
                & (outbox.OutboxEvent.dispatched_at < now - self.stale_after),
            )
            rows = session.execute(
                select(outbox.OutboxEvent.id, outbox.OutboxEvent.task)
                .where(due)
                .order_by(outbox.OutboxEvent.available_at)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            claimed = [(row.id, row.task) for row in rows]
            if claimed:
                session.execute(
                    update(outbox.OutboxEvent)
                    .where(outbox.OutboxEvent.id.in_([event_id for event_id, _ in claimed]))
                    .values(state=State.DISPATCHED, dispatched_at=now)
                )
        return claimed

    def _release(self, events: Iterable[tuple[uuid.UUID, str]], reason: str) -> None:
        ids = [event_id for event_id, _ in events]
        with transaction(self.sessions) as session:
            session.execute(
                update(outbox.OutboxEvent)
                .where(outbox.OutboxEvent.id.in_(ids))
                .where(outbox.OutboxEvent.state == State.DISPATCHED)
                .values(state=State.PENDING, last_error=reason[:2000])
            )

    def relay_once(self) -> int:
        """Claim one batch of due events and dispatch it. Returns how many were handed on.

        Raises:
            Recoverable: the dispatcher could not take them (they are pending again).
        """
        claimed = self._claim()
        if not claimed:
            return 0
        try:
            self.dispatcher.dispatch(claimed)
        except Recoverable as exc:
            self._release(claimed, exc.detail)
            raise
        return len(claimed)

    def drain(self, max_batches: int = 1000) -> int:
        """Relay until nothing is due (or `max_batches`). Returns the number relayed."""
        total = 0
        for _ in range(max_batches):
            count = self.relay_once()
            total += count
            if count < self.batch_size:
                break
        return total


def enqueue_periodic(
    sessions: sessionmaker[Session], spec: outbox.TaskSpec, now: dt.datetime | None = None
) -> None:
    """Enqueue a periodic task once for the current interval, however many schedulers ask."""
    assert spec.every_seconds is not None
    moment = now or utcnow()
    bucket = int(moment.timestamp() // spec.every_seconds)
    with transaction(sessions) as session:
        outbox.enqueue(session, spec.name, dedupe_key=f"{spec.name}@{bucket}")


@dataclass
class RelayThread:
    """Background relay in a serving process: woken by commits that wrote events, and on
    an interval; also the scheduler of periodic tasks when `run_periodic` is set."""

    relay: Relay
    interval_seconds: float = 1.0
    run_periodic: bool = False
    _wake: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _next_due: dict[str, float] = field(default_factory=dict)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        outbox.on_commit_with_events(self.wake)
        self._thread = threading.Thread(target=self._run, name="refhub-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        outbox.remove_commit_listener(self.wake)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _schedule_periodic(self) -> None:
        now = utcnow()
        for spec in outbox.registered_tasks().values():
            if spec.every_seconds is None:
                continue
            if self._next_due.get(spec.name, 0.0) <= now.timestamp():
                enqueue_periodic(self.relay.sessions, spec, now)
                self._next_due[spec.name] = now.timestamp() + spec.every_seconds

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                if self.run_periodic:
                    self._schedule_periodic()
                self.relay.drain()
            except Recoverable as exc:
                log.warning("relay.dispatch_unavailable", reason=exc.detail)
            except Exception:
                log.exception("relay.iteration_failed")
            self._wake.wait(self.interval_seconds)
