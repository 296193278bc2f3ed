"""The outbox: work commits with data, runs once in effect, retries or dead-letters."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.delivery.relay import InProcessDispatcher, Relay, batches
from gateway.runtime import Runtime
from kernel import audit, outbox
from kernel.db import utcnow
from kernel.errors import Recoverable, RefhubError

CALLS: list[str] = []


@outbox.task("test.touch")
def _touch(session: Session, *, marker: str) -> None:
    CALLS.append(marker)
    audit.record(session, actor="system:test", action="test.touch", subject=f"Test/{marker}")


@outbox.task("test.flaky", max_attempts=2, backoff_base_seconds=60)
def _flaky(session: Session, *, marker: str) -> None:
    raise Recoverable(f"receiver away ({marker})")


class _Refused(RefhubError):
    code = "refused"


@outbox.task("test.refused")
def _refused(session: Session, *, marker: str) -> None:
    raise _Refused("receiver refused the message")


@outbox.task("test.bug")
def _bug(session: Session, *, marker: str) -> None:
    raise ZeroDivisionError("bug")


def _events(runtime: Runtime, task: str) -> list[outbox.OutboxEvent]:
    with runtime.sessions() as session:
        return list(
            session.scalars(select(outbox.OutboxEvent).where(outbox.OutboxEvent.task == task))
        )


def _relay(runtime: Runtime) -> Relay:
    return Relay(runtime.sessions, InProcessDispatcher(runtime.sessions))


def test_unknown_task_is_refused_with_the_known_ones(db: Session) -> None:
    with pytest.raises(KeyError, match=r"audit\.checkpoint"):
        outbox.enqueue(db, "no.such.task")


def test_work_commits_with_the_data_and_runs_once(committed: Runtime) -> None:
    CALLS.clear()
    with committed.sessions.begin() as session:
        outbox.enqueue(session, "test.touch", {"marker": "a"})
    relay = _relay(committed)
    assert relay.drain() == 1
    assert relay.drain() == 0
    [event] = _events(committed, "test.touch")
    assert event.state == "done" and event.attempts == 1 and event.done_at is not None
    assert outbox.execute(committed.sessions, event.id) == outbox.Outcome.SKIPPED
    assert CALLS == ["a"]


def test_rolled_back_work_never_runs(committed: Runtime) -> None:
    CALLS.clear()
    with pytest.raises(RuntimeError), committed.sessions.begin() as session:
        outbox.enqueue(session, "test.touch", {"marker": "b"})
        raise RuntimeError("the data write failed")
    assert _relay(committed).drain() == 0
    assert CALLS == []


def test_dedupe_key_makes_enqueue_idempotent(committed: Runtime) -> None:
    for _ in range(3):
        with committed.sessions.begin() as session:
            outbox.enqueue(session, "test.touch", {"marker": "c"}, dedupe_key="touch-c")
    assert len(_events(committed, "test.touch")) == 1


def test_recoverable_failure_backs_off_then_dead_letters(committed: Runtime) -> None:
    with committed.sessions.begin() as session:
        outbox.enqueue(session, "test.flaky", {"marker": "d"})
    relay = _relay(committed)
    assert relay.drain() == 1
    [event] = _events(committed, "test.flaky")
    assert event.state == "pending" and event.attempts == 1
    assert "receiver away" in (event.last_error or "")
    assert event.available_at > utcnow() + dt.timedelta(seconds=25)  # backoff, jittered
    assert relay.drain() == 0  # not due yet
    assert outbox.execute(committed.sessions, event.id) == outbox.Outcome.FAILED
    [event] = _events(committed, "test.flaky")
    assert event.state == "failed" and event.attempts == 2


@pytest.mark.parametrize("task", ["test.refused", "test.bug"])
def test_permanent_failure_dead_letters_with_the_error(committed: Runtime, task: str) -> None:
    with committed.sessions.begin() as session:
        outbox.enqueue(session, task, {"marker": "e"})
    _relay(committed).drain()
    [event] = _events(committed, task)
    assert event.state == "failed" and event.attempts == 1
    assert event.last_error and (
        "refused" in event.last_error or "ZeroDivisionError" in event.last_error
    )


def test_handler_writes_roll_back_with_a_failure(committed: Runtime) -> None:
    @outbox.task("test.half_done")
    def _half_done(session: Session) -> None:
        audit.record(session, actor="system:test", action="test.half")
        session.flush()
        raise _Refused("stop")

    with committed.sessions.begin() as session:
        outbox.enqueue(session, "test.half_done")
    _relay(committed).drain()
    with committed.sessions() as session:
        assert (
            session.scalars(
                select(audit.AuditRecord).where(audit.AuditRecord.action == "test.half")
            ).first()
            is None
        )


def test_dispatched_work_lost_by_a_crash_is_dispatched_again(committed: Runtime) -> None:
    CALLS.clear()
    with committed.sessions.begin() as session:
        outbox.enqueue(session, "test.touch", {"marker": "f"})
    # A relay claims the event and dies before handing it on.
    crashed = Relay(committed.sessions, InProcessDispatcher(committed.sessions))
    assert len(crashed._claim()) == 1
    assert _relay(committed).drain() == 0  # claimed recently: left alone
    stale = Relay(
        committed.sessions, InProcessDispatcher(committed.sessions), stale_after=dt.timedelta(0)
    )
    assert stale.drain() == 1
    assert CALLS == ["f"]


def test_a_batch_settles_each_event_on_its_own(committed: Runtime) -> None:
    """One event's failure rolls back its own writes only; the others commit."""
    CALLS.clear()
    with committed.sessions.begin() as session:
        for task, marker in [
            ("test.touch", "g1"),
            ("test.refused", "g2"),
            ("test.bug", "g3"),
            ("test.flaky", "g4"),
            ("test.touch", "g5"),
        ]:
            outbox.enqueue(session, task, {"marker": marker})
    with committed.sessions() as session:
        events = session.scalars(
            select(outbox.OutboxEvent).order_by(outbox.OutboxEvent.created_at)
        ).all()
        ids = {event.payload["marker"]: event.id for event in events}
    order = ["g1", "g2", "g3", "g4", "g5"]
    outcomes = outbox.execute_many(committed.sessions, [ids[m] for m in order])
    assert [outcomes[ids[m]] for m in order] == [
        outbox.Outcome.DONE,
        outbox.Outcome.FAILED,
        outbox.Outcome.FAILED,
        outbox.Outcome.RETRY,
        outbox.Outcome.DONE,
    ]
    # The batch ran without savepoints first, met the failures and replayed with them: the
    # handlers may run twice (they must be idempotent), their writes land once.
    assert set(CALLS) == {"g1", "g5"}
    with committed.sessions() as session:
        states = {
            marker: (event.state, event.attempts)
            for marker in order
            if (event := session.get(outbox.OutboxEvent, ids[marker]))
        }
        touched = session.scalars(
            select(audit.AuditRecord.subject).where(
                audit.AuditRecord.action == "test.touch",
                audit.AuditRecord.subject.like("Test/g%"),
            )
        ).all()
    assert states == {
        "g1": ("done", 1),
        "g2": ("failed", 1),
        "g3": ("failed", 1),
        "g4": ("pending", 1),
        "g5": ("done", 1),
    }
    assert sorted(touched) == ["Test/g1", "Test/g5"]  # once each: the first run rolled back
    again = outbox.execute_many(committed.sessions, [ids["g1"], ids["g5"]])
    assert set(again.values()) == {outbox.Outcome.SKIPPED}  # done once is done


_TRACE: list[tuple[str, str]] = []
_TRACE_LOCK = threading.Lock()
_OTHER_LANE_RUNNING = threading.Event()


def _trace(step: str, marker: str) -> None:
    with _TRACE_LOCK:
        _TRACE.append((step, marker))


def _push_perform(plan: tuple[str, str]) -> str:
    marker, lane = plan
    _trace("start", marker)
    if lane == "other":
        _OTHER_LANE_RUNNING.set()
    elif marker == "r1-first":  # holds its lane until the other lane is seen running
        _trace("saw-other" if _OTHER_LANE_RUNNING.wait(10) else "alone", marker)
    _trace("end", marker)
    return marker


def _push_finish(session: Session, result: str, *, marker: str, lane: str) -> None:
    audit.record(session, actor="system:test", action="test.pushed", subject=f"Test/{result}")
    if marker == "o-fail":
        raise Recoverable("the receiver answered 503")


@outbox.task("test.push", perform=_push_perform, finish=_push_finish, lane=lambda plan: plan[1])
def _push_prepare(session: Session, *, marker: str, lane: str) -> tuple[str, str]:
    return marker, lane


def test_a_batch_pushes_lanes_side_by_side_and_in_order_within_one(committed: Runtime) -> None:
    _TRACE.clear()
    _OTHER_LANE_RUNNING.clear()
    plan = [
        ("r1-first", "referral-1"),
        ("r1-second", "referral-1"),
        ("o-ok", "other"),
        ("o-fail", "other"),
    ]
    with committed.sessions.begin() as session:
        for marker, lane in plan:
            outbox.enqueue(session, "test.push", {"marker": marker, "lane": lane})
    by_marker = {event.payload["marker"]: event.id for event in _events(committed, "test.push")}
    ids = [by_marker[marker] for marker, _lane in plan]
    outcomes = outbox.execute_many(committed.sessions, ids, concurrency=4)
    assert ("saw-other", "r1-first") in _TRACE  # the lanes ran side by side
    assert _TRACE.index(("end", "r1-first")) < _TRACE.index(("start", "r1-second"))
    assert [outcomes[i] for i in ids] == [
        outbox.Outcome.DONE,
        outbox.Outcome.DONE,
        outbox.Outcome.DONE,
        outbox.Outcome.RETRY,
    ]
    with committed.sessions() as session:
        pushed = session.scalars(
            select(audit.AuditRecord.subject).where(audit.AuditRecord.action == "test.pushed")
        ).all()
    assert sorted(pushed) == ["Test/o-ok", "Test/r1-first", "Test/r1-second"]


def test_only_batchable_work_is_grouped_for_workers() -> None:
    @outbox.task("test.batchable", batchable=True)
    def _batchable(session: Session) -> None:
        pass

    events = [(uuid.uuid4(), "test.batchable") for _ in range(5)]
    events.insert(2, (uuid.uuid4(), "test.touch"))
    units = batches(events, batch_size=2)
    batchable = [event_id for event_id, task in events if task == "test.batchable"]
    assert units == [
        ("test.batchable", batchable[0:2]),
        ("test.touch", [events[2][0]]),
        ("test.batchable", batchable[2:4]),
        ("test.batchable", batchable[4:5]),
    ]
    assert batches(events, batch_size=1) == [(task, [event_id]) for event_id, task in events]


_IN_FLIGHT: list[Callable[[], None]] = []  # what the next "test.slow-push" does mid-I/O


def _slow_perform(plan: str) -> str:
    _trace("start", plan)
    for meanwhile in _IN_FLIGHT:
        meanwhile()
    _trace("end", plan)
    return plan


def _slow_finish(session: Session, result: str, *, marker: str) -> None:
    audit.record(session, actor="system:test", action="test.pushed", subject=f"Test/{result}")


@outbox.task("test.slow-push", perform=_slow_perform, finish=_slow_finish)
def _slow_prepare(session: Session, *, marker: str) -> str:
    return marker


def test_a_phased_event_in_flight_is_not_claimed_again(committed: Runtime) -> None:
    """While one run of a phased task performs its I/O (between its two transactions),
    another run of the same event (the broker handed the message over twice) skips it:
    the push happens once. The first run then settles it."""
    _TRACE.clear()
    with committed.sessions.begin() as session:
        outbox.enqueue(session, "test.slow-push", {"marker": "twice"})
    (event,) = _events(committed, "test.slow-push")
    seen: dict[str, object] = {}

    def a_copy_arrives() -> None:
        with committed.sessions() as session:
            row = session.get(outbox.OutboxEvent, event.id)
            seen["state"] = row.state if row else None
        seen["outcome"] = outbox.execute(committed.sessions, event.id)

    _IN_FLIGHT[:] = [a_copy_arrives]
    try:
        first = outbox.execute(committed.sessions, event.id)
    finally:
        _IN_FLIGHT.clear()
    assert seen == {"state": "claimed", "outcome": outbox.Outcome.SKIPPED}
    assert first is outbox.Outcome.DONE
    assert _TRACE == [("start", "twice"), ("end", "twice")]  # pushed once
    with committed.sessions() as session:
        row = session.get(outbox.OutboxEvent, event.id)
        assert row is not None and row.state == "done" and row.attempts == 1


def test_the_relay_re_dispatches_a_claim_its_worker_left(committed: Runtime) -> None:
    """A worker that died during a phased task's I/O leaves the event claimed: once the
    claim is older than the relay's `stale_after`, the relay hands it out again."""
    with committed.sessions.begin() as session:
        outbox.enqueue(session, "test.slow-push", {"marker": "orphan"})
        session.flush()
        (event,) = [
            e
            for e in session.scalars(select(outbox.OutboxEvent))
            if e.payload.get("marker") == "orphan"
        ]
        event.state, event.dispatched_at = "claimed", utcnow() - dt.timedelta(minutes=6)
        event_id = event.id
    assert _relay(committed).relay_once() >= 1
    with committed.sessions() as session:
        row = session.get(outbox.OutboxEvent, event_id)
        assert row is not None and row.state == "done"
