"""The outbox: work commits with data, runs once in effect, retries or dead-letters."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.delivery.relay import InProcessDispatcher, Relay
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
