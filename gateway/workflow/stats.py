"""Supervisor figures: the referral numbers a quality review of case management needs.

`referral_figures()` answers for one side of the caller's organisation (what it sent, or
what it received), or, for a hub admin, for the whole network (aggregates only). Every
number is a SQL aggregate on both back-ends; only the median and 90th percentile of the
response and acceptance times are computed here, over at most `DURATION_SAMPLE` of the
newest referrals. No figure carries client data; the attention list names referral ids,
and only those the caller may see (`access.visible_clause`).

The window (`since` ≤ authored_on < `until`) applies to every figure except `attention`,
which is what needs attention now whenever it was sent. A `Narrowing` (one counterpart
organisation, one assignee of the caller's side, one kind) applies to every figure.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from gateway.auth.errors import Forbidden
from gateway.workflow import needs_attention, views
from gateway.workflow.figures import (
    Attention,
    Durations,
    Figures,
    HandoverFigures,
    InvalidWindow,
    Narrowing,
    OrgFigures,
    ReasonCount,
    Side,
)
from gateway.workflow.models import Handover, Kind, Referral, Status
from gateway.workflow.needs_attention import ATTENTION_LIMIT, WAITING, contact_overdue_clause
from gateway.workflow.states import OPEN
from kernel import audit
from kernel.caller import Caller, CallerKind, Role
from kernel.db import utcnow

__all__ = [
    "AGE_BUCKETS",
    "ATTENTION_LIMIT",
    "DURATION_SAMPLE",
    "WAITING",
    "Attention",
    "Durations",
    "Figures",
    "HandoverFigures",
    "InvalidWindow",
    "Narrowing",
    "OrgFigures",
    "ReasonCount",
    "Side",
    "answered_clause",
    "contact_overdue_clause",
    "percentile",
    "referral_figures",
    "scope_clause",
]

DURATION_SAMPLE = 10_000
#: Age buckets of open referrals: (name, upper bound); the last is open-ended.
AGE_BUCKETS: tuple[tuple[str, dt.timedelta | None], ...] = (
    ("lt_1d", dt.timedelta(days=1)),
    ("1d_3d", dt.timedelta(days=3)),
    ("3d_7d", dt.timedelta(days=7)),
    ("7d_30d", dt.timedelta(days=30)),
    ("gt_30d", None),
)
_ENDED_WITH_REASON = (Status.REJECTED, Status.CANCELLED, Status.FAILED)


def _scope(caller: Caller) -> str:
    if caller.is_hub_admin:
        return "network"
    if caller.kind is CallerKind.USER and caller.has_role(Role.SUPERVISOR, Role.ORG_ADMIN):
        return "organisation"
    raise Forbidden("The referral figures are for supervisors and organisation admins.")


def _where(
    caller: Caller,
    scope: str,
    side: Side,
    since: dt.datetime | None,
    until: dt.datetime | None,
    narrowing: Narrowing | None = None,
) -> ColumnElement[bool]:
    """Counts cover every referral the organisation was party to on `side` (closed
    handovers included: counts disclose no content); a receiver never counts drafts."""
    clauses: list[ColumnElement[bool]] = []
    n = narrowing or Narrowing()
    if scope == "organisation":
        sent = side is Side.SENT
        if sent:
            clauses.append(Referral.requester_org_id == caller.organisation_id)
        else:
            clauses.append(Referral.owner_org_id == caller.organisation_id)
            clauses.append(Referral.status != Status.DRAFT.value)
        if n.counterpart is not None:
            other = Referral.owner_org_id if sent else Referral.requester_org_id
            clauses.append(other == n.counterpart)
        assignee = Referral.requester_assignee if sent else Referral.owner_assignee
        if n.unassigned:
            clauses.append(assignee.is_(None))
        elif n.assignee is not None:
            clauses.append(assignee == n.assignee)
    if n.kind is not None:
        clauses.append(Referral.kind == n.kind)
    if since is not None:
        clauses.append(Referral.authored_on >= since)
    if until is not None:
        clauses.append(Referral.authored_on < until)
    return and_(true(), *clauses)


def scope_clause(
    caller: Caller,
    *,
    side: Side,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    narrowing: Narrowing | None = None,
) -> ColumnElement[bool]:
    """The SQL condition of the referrals `referral_figures` counts for these arguments
    (for figures computed elsewhere and drill-down lists that must match them).

    Raises:
        Forbidden: as `referral_figures`.
    """
    return _where(caller, _scope(caller), side, since, until, narrowing)


def _counts(session: Session, column: Any, where: ColumnElement[bool]) -> dict[str, int]:
    rows = session.execute(
        select(column, func.count()).where(where).group_by(column).order_by(column)
    )
    return {str(key): int(n) for key, n in rows}


def _by_organisation(session: Session, group: Any, where: ColumnElement[bool]) -> list[OrgFigures]:
    found: dict[uuid.UUID, dict[str, int]] = {}
    for org, status, n in session.execute(
        select(group, Referral.status, func.count()).where(where).group_by(group, Referral.status)
    ):
        found.setdefault(org, {})[status] = int(n)
    names = views.names(session, found)
    open_values = {s.value for s in OPEN}
    result = [
        OrgFigures(
            organisation_id=org,
            name=names.get(org),
            total=sum(by_status.values()),
            open=sum(n for s, n in by_status.items() if s in open_values),
            by_status=dict(sorted(by_status.items())),
        )
        for org, by_status in found.items()
    ]
    return sorted(result, key=lambda o: (-o.total, o.name or "", str(o.organisation_id)))


def _open_age(session: Session, where: ColumnElement[bool], now: dt.datetime) -> dict[str, int]:
    whens = [(Referral.authored_on > now - upper, name) for name, upper in AGE_BUCKETS if upper]
    bucket = case(*whens, else_=AGE_BUCKETS[-1][0])
    counts = _counts(session, bucket, and_(where, Referral.status.in_(WAITING)))
    return {name: counts.get(name, 0) for name, _ in AGE_BUCKETS}


def _reasons(
    session: Session, where: ColumnElement[bool], *, by_receiver: bool
) -> list[ReasonCount]:
    reason = func.coalesce(Referral.status_reason, "unspecified")
    ended = and_(where, Referral.status.in_([s.value for s in _ENDED_WITH_REASON]))
    columns: list[Any] = [Referral.status, reason]
    if by_receiver:
        columns.insert(0, Referral.owner_org_id)
    rows = session.execute(select(*columns, func.count()).where(ended).group_by(*columns)).all()
    names = views.names(session, {r[0] for r in rows}) if by_receiver else {}
    result = [
        ReasonCount(
            status=r[-3],
            reason=r[-2],
            count=int(r[-1]),
            organisation_id=r[0] if by_receiver else None,
            name=names.get(r[0]) if by_receiver else None,
        )
        for r in rows
    ]
    return sorted(result, key=lambda r: (-r.count, r.status, r.reason, str(r.organisation_id)))


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending, non-empty sequence."""
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def answered_clause() -> ColumnElement[bool]:
    """The receiver answered (accepted or declined): a sender's cancellation of a referral
    still waiting also ends `requested`, but is no response."""
    return or_(Referral.accepted_at.is_not(None), Referral.status == Status.REJECTED.value)


def _durations(
    session: Session, where: ColumnElement[bool], step: Any, answered: ColumnElement[bool]
) -> Durations:
    done = and_(where, step.is_not(None), answered)
    count = int(session.scalar(select(func.count()).select_from(Referral).where(done)) or 0)
    rows = session.execute(
        select(Referral.authored_on, step)
        .where(done)
        .order_by(Referral.authored_on.desc())
        .limit(DURATION_SAMPLE)
    ).all()
    hours = sorted(max(0.0, (end - start).total_seconds() / 3600) for start, end in rows)
    if not hours:
        return Durations(count=count, sample=0, median_hours=None, p90_hours=None)
    return Durations(
        count=count,
        sample=len(hours),
        median_hours=round(statistics.median(hours), 1),
        p90_hours=round(percentile(hours, 0.9), 1),
    )


def _handovers(session: Session, where: ColumnElement[bool], now: dt.datetime) -> HandoverFigures:
    row = session.execute(
        select(
            func.count(),
            func.count(Handover.transferred_at),
            func.count(Handover.first_contact_at),
            func.coalesce(
                func.sum(
                    case(
                        (and_(contact_overdue_clause(now), Referral.status.in_(WAITING)), 1),
                        else_=0,
                    )
                ),
                0,
            ),
        )
        .select_from(Referral)
        .join(Handover, Handover.referral_id == Referral.id)
        .where(where, Referral.kind == Kind.HANDOVER.value)
    ).one()
    return HandoverFigures(
        total=int(row[0]),
        transferred=int(row[1]),
        first_contact_made=int(row[2]),
        first_contact_overdue=int(row[3]),
    )


def _described(n: Narrowing) -> dict[str, str]:
    """The narrowing as flat audit detail (only what was given)."""
    found = {
        "counterpart": str(n.counterpart) if n.counterpart else None,
        "assignee": str(n.assignee) if n.assignee else ("none" if n.unassigned else None),
        "kind": n.kind,
    }
    return {key: value for key, value in found.items() if value}


def referral_figures(
    session: Session,
    caller: Caller,
    *,
    side: Side,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
    narrowing: Narrowing | None = None,
) -> Figures:
    """The figures for the caller's organisation's `side`, or the network's for a hub
    admin (see the module docstring). Audited as a read of the figures.

    Raises:
        Forbidden: the caller is neither a supervisor nor an org admin (staff), nor a hub
            admin; system clients included.
        InvalidWindow: `since` is not before `until`.
    """
    scope = _scope(caller)
    if since is not None and until is not None and since >= until:
        raise InvalidWindow("`since` must be before `until`.")
    moment = now or utcnow()
    where = _where(caller, scope, side, since, until, narrowing)
    receiver_grouped = (scope == "organisation") == (side is Side.SENT)
    group = Referral.owner_org_id if receiver_grouped else Referral.requester_org_id
    own = _where(caller, scope, side, None, None, narrowing)
    attention_count, attention = needs_attention.listed(session, caller, own, scope, side, moment)
    figures = Figures(
        scope=scope,
        organisation_id=caller.organisation_id if scope == "organisation" else None,
        side=side.value,
        grouped_by="receiver" if receiver_grouped else "sender",
        since=since,
        until=until,
        generated_at=moment,
        total=int(session.scalar(select(func.count()).select_from(Referral).where(where)) or 0),
        by_status=_counts(session, Referral.status, where),
        by_kind=_counts(session, Referral.kind, where),
        by_organisation=_by_organisation(session, group, where),
        open_age=_open_age(session, where, moment),
        reasons=_reasons(session, where, by_receiver=False),
        reasons_by_receiver=_reasons(session, where, by_receiver=True),
        time_to_response=_durations(session, where, Referral.responded_at, answered_clause()),
        time_to_acceptance=_durations(session, where, Referral.accepted_at, true()),
        handovers=_handovers(session, where, moment),
        attention_count=attention_count,
        attention=attention,
    )
    audit.record(
        session,
        actor=caller.actor,
        action="workflow.report.read",
        organisation=str(caller.organisation_id),
        detail={
            "scope": scope,
            "side": side.value,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "attention": len(attention),
            **(_described(narrowing) if narrowing else {}),
        },
    )
    return figures
