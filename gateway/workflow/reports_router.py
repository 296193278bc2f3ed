"""`/reports/referrals`: the supervisor figures as JSON or as one flat CSV.

Supervisors and org admins get their organisation's side (`sent` or `received`); hub admins
the network's aggregates (counts only). Everyone else gets 403. See `stats` for what each
figure means and docs/monitoring.md for the CSV layout.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession
from gateway.errors import error_responses
from gateway.workflow import stats
from kernel.inputs import IsoDateTime

__all__ = ["CSV_COLUMNS", "csv_rows", "csv_text", "router"]

router = APIRouter(prefix="/reports", tags=["reports"])

#: One row per figure: what it is, its value, and the dimensions it is broken down by
#: (empty where they do not apply).
CSV_COLUMNS = (
    "metric",
    "statistic",
    "value",
    "status",
    "kind",
    "reason",
    "organisation_id",
    "organisation",
    "bucket",
    "referral_id",
)


def _row(metric: str, statistic: str, value: Any, **dims: Any) -> dict[str, Any]:
    row = {column: "" for column in CSV_COLUMNS}
    row.update(metric=metric, statistic=statistic, value="" if value is None else value)
    row.update({k: "" if v is None else v for k, v in dims.items()})
    return row


def csv_rows(f: stats.Figures) -> Iterator[dict[str, Any]]:
    """The figures in the documented flat layout (docs/monitoring.md)."""
    yield _row("total", "count", f.total)
    for status, n in f.by_status.items():
        yield _row("by_status", "count", n, status=status)
    for kind, n in f.by_kind.items():
        yield _row("by_kind", "count", n, kind=kind)
    for org in f.by_organisation:
        ids = {"organisation_id": org.organisation_id, "organisation": org.name}
        yield _row(f"by_{f.grouped_by}", "count", org.total, **ids)
        yield _row(f"by_{f.grouped_by}", "open", org.open, **ids)
        for status, n in org.by_status.items():
            yield _row(f"by_{f.grouped_by}", "count", n, status=status, **ids)
    for bucket, n in f.open_age.items():
        yield _row("open_age", "count", n, bucket=bucket)
    for r in f.reasons:
        yield _row("reasons", "count", r.count, status=r.status, reason=r.reason)
    for r in f.reasons_by_receiver:
        yield _row(
            "reasons_by_receiver",
            "count",
            r.count,
            status=r.status,
            reason=r.reason,
            organisation_id=r.organisation_id,
            organisation=r.name,
        )
    for metric, d in (
        ("time_to_response_hours", f.time_to_response),
        ("time_to_acceptance_hours", f.time_to_acceptance),
    ):
        yield _row(metric, "count", d.count)
        yield _row(metric, "sample", d.sample)
        yield _row(metric, "median", d.median_hours)
        yield _row(metric, "p90", d.p90_hours)
    h = f.handovers
    yield _row("handovers", "total", h.total)
    yield _row("handovers", "transferred", h.transferred)
    yield _row("handovers", "first_contact_made", h.first_contact_made)
    yield _row("handovers", "first_contact_overdue", h.first_contact_overdue)
    yield _row("attention", "count", f.attention_count)
    for a in f.attention:
        yield _row(
            "attention",
            "age_hours",
            a.age_hours,
            status=a.status,
            kind=a.kind,
            reason=a.why,
            organisation_id=a.counterpart_id,
            organisation=a.counterpart,
            referral_id=a.id,
        )


def _cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text (organisation names are self-chosen)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(figures: stats.Figures) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in csv_rows(figures):
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


@router.get(
    "/referrals",
    response_model=stats.Figures,
    responses={
        200: {"content": {"application/json": {}, "text/csv": {}}},
        **error_responses(401, 403, 422),
    },
)
def referral_report(
    caller: CurrentCaller,
    session: DbSession,
    side: Annotated[stats.Side, Query(description="sent or received")] = stats.Side.SENT,
    since: Annotated[IsoDateTime | None, Query(description="authored on or after")] = None,
    until: Annotated[IsoDateTime | None, Query(description="authored before")] = None,
    output: Annotated[str, Query(alias="format", pattern="^(json|csv)$")] = "json",
) -> Any:
    """Referral figures for a quality review: by status, kind and receiver (or sender),
    open referrals' age, decline/cancel/fail reasons, times to response and acceptance,
    handovers, and the referrals needing attention (escalated, reminded, first contact
    overdue). Supervisors and org admins: your organisation; hub admins: the network.
    """
    figures = stats.referral_figures(
        session, caller, side=side, since=_aware(since), until=_aware(until)
    )
    if output == "json":
        return figures
    stamp = figures.generated_at.strftime("%Y%m%d")
    return Response(
        csv_text(figures),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="refhub-referrals-{figures.side}-{stamp}.csv"'
            )
        },
    )


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """A time without a zone is taken as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
