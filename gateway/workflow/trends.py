"""Supervisor figures over time and per person, and the conditions behind each figure.

- `series()`: per week or month of a window, how many referrals were sent and the median
  and 90th percentile of the hours to the receiver's first answer and to acceptance (the
  same definitions as `stats.referral_figures`).
- `caseload()`: open items (sent and still waiting: requested, accepted, in progress, on
  hold) per assignee of the caller's side, and how many of them are late, now.
- `drill_clause()`: the SQL condition of exactly the referrals behind one figure, so a
  drill-down list (`queries.Filters.also`) shows the rows that were counted.

Everything starts from `stats.scope_clause` (the same organisation scope and narrowing as
the report), so the same people (supervisors, org admins) may read it.
"""

from __future__ import annotations

import datetime as dt
import statistics
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, select, true
from sqlalchemy.orm import Session

from gateway.auth import people
from gateway.auth.models import User
from gateway.workflow import monitor, stats, views
from gateway.workflow.errors import WorkflowError
from gateway.workflow.models import Handover, Kind, Referral, Status
from kernel.caller import Caller
from kernel.db import utcnow

__all__ = [
    "GRAINS",
    "MAX_PERIODS",
    "Load",
    "Period",
    "Worker",
    "WorkerNotFound",
    "caseload",
    "counterparts",
    "drill_clause",
    "late_clause",
    "reasons_by_counterpart",
    "series",
    "worker",
]

GRAINS = ("week", "month")
MAX_PERIODS = 60
_ENDED = (Status.REJECTED.value, Status.CANCELLED.value, Status.FAILED.value)


class WorkerNotFound(WorkflowError):
    """No such staff member in the caller's organisation (another organisation's: the same)."""

    status = 404
    code = "worker-not-found"
    title = "Staff member not found"


@dataclass(frozen=True)
class Period:
    """One week or month of the window: [start, end)."""

    start: dt.datetime
    end: dt.datetime
    sent: int
    time_to_response: stats.Durations
    time_to_acceptance: stats.Durations


@dataclass(frozen=True)
class Load:
    """Open items assigned to one staff member of the caller's side (`user_id` None:
    to nobody yet), and how many of them are late."""

    user_id: uuid.UUID | None
    name: str | None
    open: int
    late: int


@dataclass(frozen=True)
class Worker:
    id: uuid.UUID
    name: str
    team: str | None
    active: bool


def _starts(since: dt.datetime, until: dt.datetime, grain: str) -> list[dt.datetime]:
    day = since.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = day - dt.timedelta(days=day.weekday())
    start = day.replace(day=1) if grain == "month" else monday
    found: list[dt.datetime] = []
    while start < until and len(found) < MAX_PERIODS:
        found.append(start)
        if grain == "month":
            year, month = divmod(start.month, 12)
            start = start.replace(year=start.year + year, month=month + 1)
        else:
            start += dt.timedelta(days=7)
    return found


def _durations(hours: list[float]) -> stats.Durations:
    ordered = sorted(hours)
    if not ordered:
        return stats.Durations(count=0, sample=0, median_hours=None, p90_hours=None)
    return stats.Durations(
        count=len(ordered),
        sample=len(ordered),
        median_hours=round(statistics.median(ordered), 1),
        p90_hours=round(stats.percentile(ordered, 0.9), 1),
    )


def _hours(start: dt.datetime, end: dt.datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)


def series(
    session: Session,
    caller: Caller,
    *,
    side: stats.Side,
    since: dt.datetime,
    until: dt.datetime,
    narrowing: stats.Narrowing | None = None,
    grain: str = "week",
) -> list[Period]:
    """Per week (from Monday, UTC) or month of [since, until): sent, and the times to the
    receiver's answer and to acceptance of those sent in it (over the newest
    `stats.DURATION_SAMPLE` of the window). At most `MAX_PERIODS` periods.

    Raises:
        Forbidden: as `stats.referral_figures`.
        InvalidWindow: `since` is not before `until`.
    """
    if since >= until:
        raise stats.InvalidWindow("`since` must be before `until`.")
    where = stats.scope_clause(caller, side=side, since=since, until=until, narrowing=narrowing)
    answered = case(
        (and_(stats.answered_clause(), Referral.responded_at.is_not(None)), Referral.responded_at),
        else_=None,
    )
    rows = session.execute(
        select(Referral.authored_on, answered, Referral.accepted_at)
        .where(where)
        .order_by(Referral.authored_on.desc())
        .limit(stats.DURATION_SAMPLE)
    ).all()
    starts = _starts(since, until, "month" if grain == "month" else "week")
    ends = [*starts[1:], until]
    buckets: list[tuple[list[dt.datetime], list[float], list[float]]] = [
        ([], [], []) for _ in starts
    ]
    for authored, responded, accepted in rows:
        index = next((i for i, end in enumerate(ends) if authored < end), None)
        if index is None:
            continue
        sent, response, acceptance = buckets[index]
        sent.append(authored)
        if responded is not None:
            response.append(_hours(authored, responded))
        if accepted is not None:
            acceptance.append(_hours(authored, accepted))
    return [
        Period(
            start=max(start, since),
            end=min(end, until),
            sent=len(sent),
            time_to_response=_durations(response),
            time_to_acceptance=_durations(acceptance),
        )
        for start, end, (sent, response, acceptance) in zip(starts, ends, buckets, strict=True)
    ]


def reasons_by_counterpart(
    session: Session,
    caller: Caller,
    *,
    side: stats.Side,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    narrowing: stats.Narrowing | None = None,
) -> list[stats.ReasonCount]:
    """Declined, cancelled and failed referrals by the other organisation (the receiver of
    what was sent, the sender of what was received), status and reason, most first: where
    capacity is missing. The same counts as `Figures.reasons`, split by counterpart.

    Raises:
        Forbidden: as `stats.referral_figures`.
    """
    where = stats.scope_clause(caller, side=side, since=since, until=until, narrowing=narrowing)
    other = Referral.owner_org_id if side is stats.Side.SENT else Referral.requester_org_id
    reason = func.coalesce(Referral.status_reason, "unspecified")
    rows = session.execute(
        select(other, Referral.status, reason, func.count())
        .where(where, Referral.status.in_(_ENDED))
        .group_by(other, Referral.status, reason)
    ).all()
    names = views.names(session, {r[0] for r in rows})
    found = [
        stats.ReasonCount(
            status=status, reason=code, count=int(n), organisation_id=org, name=names.get(org)
        )
        for org, status, code, n in rows
    ]
    return sorted(found, key=lambda r: (-r.count, r.name or "", r.status, r.reason))


def late_clause(session: Session, now: dt.datetime) -> ColumnElement[bool]:
    """Open and late on the receiver's side at `now` (`monitor.overdue_clause`): for what
    was received, our lateness; for what was sent, the receiver's."""
    return and_(Referral.status.in_(stats.WAITING), monitor.overdue_clause(session, now))


def caseload(
    session: Session,
    caller: Caller,
    *,
    side: stats.Side,
    narrowing: stats.Narrowing | None = None,
    now: dt.datetime | None = None,
) -> list[Load]:
    """Open items per assignee of the caller's side, whenever sent: every case worker,
    supervisor and admin of the organisation (zero included), by name, then `nobody yet`.
    A narrowing's assignee is ignored (this is the figure per assignee).

    Raises:
        Forbidden: as `stats.referral_figures`.
    """
    n = narrowing or stats.Narrowing()
    wide = stats.Narrowing(counterpart=n.counterpart, kind=n.kind)
    where = stats.scope_clause(caller, side=side, narrowing=wide)
    column = Referral.requester_assignee if side is stats.Side.SENT else Referral.owner_assignee
    late = late_clause(session, now or utcnow())
    found = {
        assignee: (int(total), int(overdue or 0))
        for assignee, total, overdue in session.execute(
            select(column, func.count(), func.sum(case((late, 1), else_=0)))
            .where(where, Referral.status.in_(stats.WAITING))
            .group_by(column)
        )
    }
    loads = [
        Load(uid, name, *found.pop(uid, (0, 0))) for uid, name in people.assignable(session, caller)
    ]
    nobody = found.pop(None, (0, 0))
    if found:  # assigned to people no longer active (or without a case role)
        names = people.names_of(session, [f"user:{uid}" for uid in found])
        for uid, (total, overdue) in found.items():
            person = names.get(f"user:{uid}")
            loads.append(Load(uid, person.name if person else None, total, overdue))
    loads.append(Load(None, None, *nobody))
    return loads


def counterparts(
    session: Session, caller: Caller, *, side: stats.Side
) -> list[tuple[uuid.UUID, str]]:
    """The organisations the caller's organisation sent to (or received from), by name."""
    where = stats.scope_clause(caller, side=side)
    other = Referral.owner_org_id if side is stats.Side.SENT else Referral.requester_org_id
    ids = set(session.scalars(select(other).where(where).distinct()))
    names = views.names(session, ids)
    return sorted(((i, names.get(i, "")) for i in ids), key=lambda p: (p[1], str(p[0])))


def worker(session: Session, caller: Caller, user_id: uuid.UUID) -> Worker:
    """A staff member of the caller's organisation.

    Raises:
        WorkerNotFound: no such person, or one of another organisation.
    """
    user = session.get(User, user_id)
    if user is None or user.organisation_id != caller.organisation_id:
        raise WorkerNotFound("No such staff member in your organisation.")
    return Worker(id=user.id, name=user.display_name, team=user.team, active=bool(user.active))


def _age(bucket: str, now: dt.datetime) -> ColumnElement[bool]:
    """The open-age bucket of `stats.AGE_BUCKETS` (bounds as `stats` counts them)."""
    clauses: list[ColumnElement[bool]] = []
    lower: dt.timedelta | None = None
    for name, upper in stats.AGE_BUCKETS:
        if name == bucket:
            if upper is not None:
                clauses.append(Referral.authored_on > now - upper)
            if lower is not None:
                clauses.append(Referral.authored_on <= now - lower)
            return and_(true(), *clauses)
        lower = upper
    return and_(true(), Referral.id.is_(None))  # an unknown bucket: nothing


def drill_clause(
    session: Session,
    caller: Caller,
    *,
    side: stats.Side,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    narrowing: stats.Narrowing | None = None,
    status: str | None = None,
    reason: str | None = None,
    age: str | None = None,
    waiting: bool = False,
    late: bool = False,
    missed: bool = False,
    now: dt.datetime | None = None,
) -> ColumnElement[bool]:
    """The referrals behind one figure: those `stats.referral_figures` counts for the
    window and narrowing, further narrowed to a status, a decline/cancel/fail reason
    (`unspecified`: none given), an open-age bucket, the open ones (`waiting`), the late
    ones (`late`, as `caseload`) or the handovers whose first contact is overdue
    (`missed`, as `HandoverFigures.first_contact_overdue`).

    Raises:
        Forbidden: as `stats.referral_figures`.
    """
    moment = now or utcnow()
    clauses = [stats.scope_clause(caller, side=side, since=since, until=until, narrowing=narrowing)]
    if status:
        clauses.append(Referral.status == status)
    if reason:
        clauses.append(Referral.status.in_(_ENDED))
        clauses.append(
            Referral.status_reason.is_(None)
            if reason == "unspecified"
            else Referral.status_reason == reason
        )
    if age:
        clauses.append(and_(Referral.status.in_(stats.WAITING), _age(age, moment)))
    if waiting:
        clauses.append(Referral.status.in_(stats.WAITING))
    if late:
        clauses.append(late_clause(session, moment))
    if missed:
        contact_late = select(Handover.referral_id).where(stats.contact_overdue_clause(moment))
        clauses.append(
            and_(
                Referral.kind == Kind.HANDOVER.value,
                Referral.status.in_(stats.WAITING),
                Referral.id.in_(contact_late),
            )
        )
    return and_(*clauses)
