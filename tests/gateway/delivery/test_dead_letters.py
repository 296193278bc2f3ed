"""Operators list, inspect and re-run dead letters (API and CLI); each re-run is audited."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.delivery import dead_letters
from gateway.delivery.relay import InProcessDispatcher, Relay
from gateway.runtime import Runtime
from kernel import audit, outbox
from kernel.caller import Caller, CallerKind, Role
from kernel.errors import RefhubError
from tests.conftest import REFHUB
from tests.gateway.staff import Account, MakeAccount, StaffClient

RECEIVER_FIXED: set[str] = set()


class _Refused(RefhubError):
    code = "receiver-refused"


@outbox.task("test.until_fixed")
def _until_fixed(session: Session, *, marker: str) -> None:
    if marker not in RECEIVER_FIXED:
        raise _Refused(f"receiver refused {marker}")
    audit.record(session, actor="system:test", action="test.delivered", subject=f"Test/{marker}")


def _dead_letter(runtime: Runtime) -> tuple[uuid.UUID, str]:
    marker = uuid.uuid4().hex
    with runtime.sessions.begin() as session:
        outbox.enqueue(session, "test.until_fixed", {"marker": marker}, dedupe_key=marker)
    Relay(runtime.sessions, InProcessDispatcher(runtime.sessions)).drain()
    with runtime.sessions() as session:
        event = session.scalars(
            select(outbox.OutboxEvent).where(outbox.OutboxEvent.dedupe_key == marker)
        ).one()
    assert event.state == "failed"
    return event.id, marker


def test_a_rerun_dead_letter_is_delivered_and_audited(committed: Runtime) -> None:
    event_id, marker = _dead_letter(committed)
    operator = Caller(
        kind=CallerKind.USER,
        id=uuid.uuid4(),
        organisation_id=uuid.uuid4(),
        roles=frozenset({Role.HUB_ADMIN}),
    )
    with committed.sessions() as session:
        listed = dead_letters.list_dead_letters(session, operator, task="test.until_fixed")
        assert event_id in [event.id for event in listed]
    RECEIVER_FIXED.add(marker)  # the receiver is mended; the operator re-runs the work
    with committed.sessions.begin() as session:
        dead_letters.retry(session, operator, event_id)
    assert Relay(committed.sessions, InProcessDispatcher(committed.sessions)).drain() == 1
    with committed.sessions() as session:
        event = session.get(outbox.OutboxEvent, event_id)
        assert event is not None
        assert event.state == "done"
        retried = session.scalars(
            select(audit.AuditRecord).where(audit.AuditRecord.subject == f"OutboxEvent/{event_id}")
        ).all()
    assert [(r.action, r.actor) for r in retried] == [("outbox.retry", operator.actor)]


def test_retry_over_the_api(
    app: FastAPI,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
    db: Session,
) -> None:
    marker = uuid.uuid4().hex
    outbox.enqueue(db, "test.until_fixed", {"marker": marker}, dedupe_key=marker)
    event = db.scalars(
        select(outbox.OutboxEvent).where(outbox.OutboxEvent.dedupe_key == marker)
    ).one()
    event.state, event.attempts, event.last_error = "failed", 8, "_Refused: receiver refused"
    db.flush()
    hub = staff_client(make_account(roles=(Role.HUB_ADMIN,)))
    retried = hub.post(f"/admin/outbox/dead-letters/{event.id}/retry")
    assert retried.status_code == 200
    assert retried.json()["state"] == "pending"
    assert retried.json()["attempts"] == 0
    again = hub.post(f"/admin/outbox/dead-letters/{event.id}/retry")
    assert again.status_code == 409
    assert hub.get(f"/admin/outbox/dead-letters/{uuid.uuid4()}").status_code == 404
    org_admin = staff_client(make_account(roles=(Role.ORG_ADMIN,)))
    assert org_admin.get("/admin/outbox/dead-letters").status_code == 403
    assert org_admin.post(f"/admin/outbox/dead-letters/{event.id}/retry").status_code == 403


def test_cli_lists_and_reruns(committed: Runtime, env_base: dict[str, str]) -> None:
    event_id, _marker = _dead_letter(committed)
    env = {**env_base, "REFHUB_DATABASE_URL": committed.settings.database_url}
    listed = subprocess.run(
        [REFHUB, "outbox", "dead-letters", "--task", "test.until_fixed"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert str(event_id) in listed.stdout
    shown = subprocess.run(
        [REFHUB, "outbox", "show", str(event_id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert '"state": "failed"' in shown.stdout
    retried = subprocess.run(
        [REFHUB, "outbox", "retry", str(event_id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert retried.returncode == 0, retried.stderr
    with committed.sessions() as session:
        event = session.get(outbox.OutboxEvent, event_id)
        assert event is not None
        assert event.state == "pending"
        record = session.scalars(
            select(audit.AuditRecord).where(audit.AuditRecord.subject == f"OutboxEvent/{event_id}")
        ).one()
    assert record.actor == "system:cli"


def test_anonymous_callers_see_nothing(client: TestClient) -> None:
    assert client.get("/admin/outbox/dead-letters").status_code == 401
