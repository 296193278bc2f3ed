"""Monitoring the closed loop: per-organisation thresholds, reminders, escalation, and
handovers without first contact.

The periodic task `workflow.monitor` (every 15 minutes) looks at every open referral with
the RECEIVER's thresholds (`OrgThresholds`, NULL or no row = the default):

- A referral that sits in `requested` past the response time (from `authored_on`), or in
  `accepted` without being started past the start time (from `accepted_at`), gets one
  reminder to the receiver in that phase (`reminded_at`).
- If it still sits there an escalation period after the reminder, it is escalated once to
  the sender's supervisors (`escalated_at`): a history step, an audit record under the
  sender, a status notice tagged `escalation` to the sender, and an entry in the sender's
  `attention` list (`GET /reports/referrals`). The escalation is counted from the reminder,
  so a receiver always has a full period after being reminded.
- A handover accepted with a first-contact duty and no first contact by
  `first_contact_due_at` is flagged once (`first_contact_flagged_at`), both sides told.

Each action is decided by one SQL condition and recorded on the row in the same
transaction, so a second run finds nothing left to do; rows are taken in batches with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent runs (and a user changing the same
referral) never act twice. SQLite serialises writers anyway.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, Session

from gateway.auth.errors import Forbidden
from gateway.workflow import history
from gateway.workflow.change import queue_status
from gateway.workflow.models import Handover, OrgThresholds, Referral, Status
from gateway.workflow.states import OPEN, Party
from kernel import audit
from kernel.caller import Caller, CallerKind, Role
from kernel.db import utcnow
from kernel.errors import Conflict
from kernel.outbox import task

__all__ = [
    "DEFAULTS",
    "MONITOR_EVERY_SECONDS",
    "Swept",
    "Thresholds",
    "effective_thresholds",
    "monitor",
    "overdue_clause",
    "stored_thresholds",
    "sweep",
    "update_thresholds",
]

log = structlog.get_logger(__name__)

MONITOR_EVERY_SECONDS = 900.0
ACTOR = "system:workflow.monitor"
BATCH = 200
MAX_BATCHES = 25  # per action and run; the next run continues


@dataclass(frozen=True)
class Thresholds:
    """An organisation's effective monitoring periods."""

    response_hours: int
    start_hours: int
    escalation_hours: int
    first_contact_days: int


DEFAULTS = Thresholds(
    response_hours=72, start_hours=7 * 24, escalation_hours=72, first_contact_days=5
)
_FIELDS = ("response_hours", "start_hours", "escalation_hours", "first_contact_days")


def _effective(row: OrgThresholds | None) -> Thresholds:
    if row is None:
        return DEFAULTS
    values = {name: getattr(row, name) or getattr(DEFAULTS, name) for name in _FIELDS}
    return Thresholds(**values)


def effective_thresholds(session: Session, organisation_id: uuid.UUID) -> Thresholds:
    """The periods the monitor uses for `organisation_id` as a receiver."""
    return _effective(session.get(OrgThresholds, organisation_id))


def stored_thresholds(session: Session, organisation_id: uuid.UUID) -> dict[str, int | None]:
    """The organisation's own values as set (None where it uses the default)."""
    row = session.get(OrgThresholds, organisation_id)
    return {name: getattr(row, name) if row else None for name in _FIELDS}


def update_thresholds(
    session: Session, caller: Caller, *, values: dict[str, int | None]
) -> Thresholds:
    """Replace the caller's organisation's thresholds (None = the default); audited.

    Raises:
        Forbidden: the caller is not an org admin (staff) of the organisation.
    """
    if caller.kind is not CallerKind.USER or not caller.has_role(Role.ORG_ADMIN):
        raise Forbidden("Only an administrator of your organisation may change thresholds.")
    org = caller.organisation_id
    row = session.get(OrgThresholds, org, with_for_update=True)
    before = {name: getattr(row, name) if row else None for name in _FIELDS}
    if row is None:
        try:
            with session.begin_nested():  # two first-time writers: one wins, one gets a 409
                session.add(OrgThresholds(organisation_id=org))
        except IntegrityError:
            raise Conflict("The thresholds were changed at the same moment; try again.") from None
        row = session.get(OrgThresholds, org, with_for_update=True)
        assert row is not None
    for name in _FIELDS:
        setattr(row, name, values.get(name))
    row.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="workflow.thresholds.update",
        organisation=str(org),
        subject=f"Organization/{org}",
        detail={
            **{f"{name}.before": before[name] for name in _FIELDS},
            **{name: values.get(name) for name in _FIELDS},
        },
    )
    return _effective(row)


# ---------------------------------------------------------------------------- the sweep


@dataclass
class Swept:
    """What one run did."""

    reminded: int = 0
    escalated: int = 0
    flagged: int = 0


def _by_period(
    rows: Iterable[OrgThresholds], name: str
) -> tuple[dict[int, list[uuid.UUID]], list[uuid.UUID]]:
    """Organisations grouped by a non-default period, and all that have a row."""
    groups: dict[int, list[uuid.UUID]] = {}
    custom: list[uuid.UUID] = []
    for row in rows:
        custom.append(row.organisation_id)
        groups.setdefault(getattr(_effective(row), name), []).append(row.organisation_id)
    return groups, custom


def _older_than(
    stamp: QueryableAttribute[Any],
    org: QueryableAttribute[uuid.UUID],
    rows: list[OrgThresholds],
    name: str,
    now: dt.datetime,
) -> ColumnElement[bool]:
    """`stamp` is older than the organisation's period `name` (hours; bound per group).

    The thresholds rows are few (one per organisation that changed a value), so the cut-off
    of each distinct period is computed here and compared in SQL on both back-ends.
    """
    groups, custom = _by_period(rows, name)
    default = dt.timedelta(hours=getattr(DEFAULTS, name))
    clauses = [and_(org.not_in(custom) if custom else true(), stamp <= now - default)]
    for hours, orgs in groups.items():
        clauses.append(and_(org.in_(orgs), stamp <= now - dt.timedelta(hours=hours)))
    return or_(*clauses)


def _phase(status: Status) -> QueryableAttribute[Any]:
    """When the wait being monitored began."""
    return Referral.authored_on if status is Status.REQUESTED else Referral.accepted_at


_PERIOD = {Status.REQUESTED: "response_hours", Status.ACCEPTED: "start_hours"}


def _waiting(status: Status) -> ColumnElement[bool]:
    clause = Referral.status == status.value
    if status is Status.ACCEPTED:
        clause = and_(clause, Referral.started_at.is_(None), Referral.accepted_at.is_not(None))
    return clause


def _remind_due(rows: list[OrgThresholds], now: dt.datetime) -> ColumnElement[bool]:
    clauses = []
    for status, period in _PERIOD.items():
        since = _phase(status)
        clauses.append(
            and_(
                _waiting(status),
                or_(Referral.reminded_at.is_(None), Referral.reminded_at < since),
                _older_than(since, Referral.owner_org_id, rows, period, now),
            )
        )
    return or_(*clauses)


def _escalate_due(rows: list[OrgThresholds], now: dt.datetime) -> ColumnElement[bool]:
    clauses = []
    for status in _PERIOD:
        since = _phase(status)
        clauses.append(
            and_(
                _waiting(status),
                Referral.reminded_at.is_not(None),
                Referral.reminded_at >= since,
                or_(Referral.escalated_at.is_(None), Referral.escalated_at < since),
                _older_than(
                    Referral.reminded_at, Referral.owner_org_id, rows, "escalation_hours", now
                ),
            )
        )
    return or_(*clauses)


def overdue_clause(session: Session, now: dt.datetime) -> ColumnElement[bool]:
    """The SQL condition of a referral late on the receiver's side at `now`, by the
    receiver's thresholds: unanswered past the response time, accepted and not started past
    the start time, or a handover's first contact past its due date (what the monitor
    reminds and flags, whether or not it has run yet)."""
    rows = list(session.scalars(select(OrgThresholds)))
    owner = Referral.owner_org_id
    waits = [
        and_(_waiting(status), _older_than(_phase(status), owner, rows, period, now))
        for status, period in _PERIOD.items()
    ]
    contact_late = select(Handover.referral_id).where(
        Handover.first_contact_due_at.is_not(None),
        Handover.first_contact_due_at <= now,
        Handover.first_contact_at.is_(None),
        Handover.closed_at.is_(None),
    )
    open_statuses = [s.value for s in OPEN]
    return or_(*waits, and_(Referral.status.in_(open_statuses), Referral.id.in_(contact_late)))


def _batches(session: Session, condition: ColumnElement[bool]) -> Iterable[list[Referral]]:
    """Rows matching `condition`, locked, in batches; acting on a row must make it stop
    matching (rows another run holds are skipped, so the loop ends)."""
    for _ in range(MAX_BATCHES):
        rows = list(
            session.scalars(
                select(Referral)
                .where(condition)
                .order_by(Referral.authored_on, Referral.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        if not rows:
            return
        yield rows
        session.flush()
        if len(rows) < BATCH:
            return


def _note(
    session: Session, referral: Referral, action: str, organisation: uuid.UUID, **detail: str
) -> None:
    history.record(
        session,
        referral,
        None,
        action=action,
        from_status=referral.status,
        to_status=referral.status,
        business_status=referral.business_status,
        actor=ACTOR,
    )
    audit.record(
        session,
        actor=ACTOR,
        action=f"{referral.kind}.{action}",
        organisation=str(organisation),
        subject=f"Task/{referral.id}",
        detail={
            "status": referral.status,
            "receiver": str(referral.owner_org_id),
            "requester": str(referral.requester_org_id),
            **detail,
        },
    )


def _remind(session: Session, rows: list[OrgThresholds], now: dt.datetime) -> int:
    count = 0
    for batch in _batches(session, _remind_due(rows, now)):
        for referral in batch:
            referral.reminded_at = now
            _note(session, referral, "reminder", referral.owner_org_id)
            queue_status(session, referral, Party.REQUESTER, tag="reminder")  # receiver only
            count += 1
    return count


def _escalate(session: Session, rows: list[OrgThresholds], now: dt.datetime) -> int:
    count = 0
    for batch in _batches(session, _escalate_due(rows, now)):
        for referral in batch:
            referral.escalated_at = now
            reminded = referral.reminded_at.isoformat() if referral.reminded_at else ""
            _note(session, referral, "escalation", referral.requester_org_id, reminded=reminded)
            queue_status(session, referral, Party.OWNER, tag="escalation")  # sender only
            count += 1
    return count


def _flag_first_contact(session: Session, now: dt.datetime) -> int:
    due = and_(
        Handover.first_contact_due_at.is_not(None),
        Handover.first_contact_due_at <= now,
        Handover.first_contact_at.is_(None),
        Handover.first_contact_flagged_at.is_(None),
        Handover.closed_at.is_(None),
        Referral.status.in_([s.value for s in OPEN]),
    )
    count = 0
    for _ in range(MAX_BATCHES):
        pairs = session.execute(
            select(Handover, Referral)
            .join(Referral, Referral.id == Handover.referral_id)
            .where(due)
            .order_by(Handover.first_contact_due_at, Handover.referral_id)
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=[Handover, Referral])  # history is per Task
        ).all()
        for handover, referral in pairs:
            handover.first_contact_flagged_at = now
            due_at = (
                handover.first_contact_due_at.isoformat() if handover.first_contact_due_at else ""
            )
            _note(session, referral, "first-contact-overdue", referral.owner_org_id, due=due_at)
            queue_status(session, referral, None, tag="first-contact-overdue")  # both sides
            count += 1
        session.flush()
        if len(pairs) < BATCH:
            break
    return count


def sweep(session: Session, *, now: dt.datetime | None = None) -> Swept:
    """Remind, escalate and flag whatever is due at `now` (default: the current time).

    Idempotent: each action is stamped on its row, and a stamped row no longer matches.
    Escalations are looked at before reminders, so one run never reminds and escalates the
    same referral.
    """
    moment = now or utcnow()
    rows = list(session.scalars(select(OrgThresholds)))
    done = Swept()
    done.escalated = _escalate(session, rows, moment)
    done.reminded = _remind(session, rows, moment)
    done.flagged = _flag_first_contact(session, moment)
    if done.reminded or done.escalated or done.flagged:
        log.info(
            "workflow.monitor",
            reminded=done.reminded,
            escalated=done.escalated,
            flagged=done.flagged,
        )
    return done


@task("workflow.monitor", every_seconds=MONITOR_EVERY_SECONDS)
def monitor(session: Session, now: str | None = None) -> None:
    """The periodic run (beat or the embedded relay); `now` (ISO 8601) for replays."""
    sweep(session, now=dt.datetime.fromisoformat(now) if now else None)
