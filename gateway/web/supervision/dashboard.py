"""`/ui/team`: the supervisor's dashboard (figures, charts, tables beside them, each number
a link to the referrals behind it) and its CSV download (the reports API's layout)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from gateway.auth import people
from gateway.web.i18n import N_, REASON_LABELS, STATUS_LABELS
from gateway.web.shell import Staff, SupervisorDep
from gateway.web.supervision import charts
from gateway.web.supervision.filters import KINDS, PERIODS, Chosen, Text, choose
from gateway.workflow import reports_router, stats, trends
from kernel.db import utcnow

__all__ = ["AGE_LABELS", "TABS", "routes", "team_page"]

routes = APIRouter(include_in_schema=False)

AGE_LABELS = {
    "lt_1d": N_("Less than a day"),
    "1d_3d": N_("1 to 3 days"),
    "3d_7d": N_("3 to 7 days"),
    "7d_30d": N_("7 to 30 days"),
    "gt_30d": N_("More than 30 days"),
}
#: The console's sections: (href, label, key).
TABS = (
    ("/ui/team", N_("Dashboard"), "dashboard"),
    ("/ui/team/referrals?late=1&period=all", N_("Late now"), "late"),
    ("/ui/team/workers", N_("Case workers"), "workers"),
    ("/ui/team/reviews", N_("Review requests"), "reviews"),
    ("/ui/team/files", N_("Case files"), "files"),
)


@dataclass(frozen=True)
class Cell:
    """One number of a table and the list of referrals behind it (`href` None: none)."""

    label: str
    value: int
    href: str | None


def team_page(staff: Staff, name: str, current: str, **context: Any) -> HTMLResponse:
    tabs = [(href, staff.gettext(label), key) for href, label, key in TABS]
    return staff.page(name, nav="team", tabs=tabs, current=current, **context)


def drill(c: Chosen, *, window: bool = True, **extra: Any) -> str:
    return "/ui/team/referrals?" + c.query(window=window, **extra)


def _status_cells(staff: Staff, c: Chosen, f: stats.Figures) -> list[Cell]:
    return [
        Cell(staff.gettext(STATUS_LABELS.get(s, s)), n, drill(c, status=s))
        for s, n in sorted(f.by_status.items(), key=lambda kv: -kv[1])
    ]


def _age_cells(staff: Staff, c: Chosen, f: stats.Figures) -> list[Cell]:
    return [Cell(staff.gettext(AGE_LABELS[b]), n, drill(c, age=b)) for b, n in f.open_age.items()]


def _reason_cells(staff: Staff, c: Chosen) -> list[dict[str, Any]]:
    found = trends.reasons_by_counterpart(
        staff.session,
        staff.caller,
        side=c.stats_side,
        since=c.since_at,
        until=c.until_at,
        narrowing=c.narrowing,
    )
    cells = []
    for r in found:
        reason = (
            staff.gettext(REASON_LABELS[r.reason])
            if r.reason in REASON_LABELS
            else staff.gettext("No reason given")
        )
        organisation = r.name or staff.gettext("Unknown organisation")
        href = drill(c, status=r.status, reason=r.reason, counterpart=r.organisation_id)
        cells.append(
            {
                "organisation": organisation,
                "status": staff.gettext(STATUS_LABELS.get(r.status, r.status)),
                "reason": reason,
                "cell": Cell(f"{organisation}: {reason}", r.count, href),
            }
        )
    return cells


def _durations(staff: Staff, c: Chosen, periods: list[trends.Period]) -> dict[str, Any]:
    month = len(periods) > 1 and (periods[1].start - periods[0].start).days > 7
    labels = [p.start.strftime("%Y-%m" if month else "%m-%d") for p in periods]
    rows = []
    for p in periods:
        last = (p.end - dt.timedelta(seconds=1)).date()
        href = drill(
            c,
            period="custom",
            since=p.start.date().isoformat(),
            until=last.isoformat(),
        )
        if p.sent:
            rows.append({"period": p, "last": last, "href": href})

    def chart(chart_id: str, title: str, pick: str) -> Any:
        lines = [
            charts.Line(
                staff.gettext("Median (half answered sooner)"),
                [getattr(p, pick).median_hours for p in periods],
                "median",
            ),
            charts.Line(
                staff.gettext("90% answered within"),
                [getattr(p, pick).p90_hours for p in periods],
                "p90",
            ),
        ]
        desc = staff.gettext("Hours, per period; the numbers are in the table below.")
        return charts.lines(chart_id, title, desc, labels, lines, staff.gettext("hours"))

    return {
        "rows": rows,
        "grain": "month" if month else "week",
        "response_chart": chart(
            "chart-response", staff.gettext("Hours to the first answer"), "time_to_response"
        ),
        "acceptance_chart": chart(
            "chart-acceptance", staff.gettext("Hours to acceptance"), "time_to_acceptance"
        ),
    }


def _caseload(staff: Staff, c: Chosen) -> list[dict[str, Any]]:
    loads = trends.caseload(staff.session, staff.caller, side=c.stats_side, narrowing=c.narrowing)
    out = []
    for load in loads:
        former = staff.gettext("Former staff member")
        nobody = former if load.user_id else staff.gettext("Nobody yet")
        who = str(load.user_id) if load.user_id else "none"
        out.append(
            {
                "name": load.name or nobody,
                "known": load.name is not None,
                "user_id": load.user_id,
                "open": Cell("", load.open, drill(c, window=False, worker=who, waiting=1)),
                "late": Cell("", load.late, drill(c, window=False, worker=who, late=1)),
            }
        )
    return out


def _bars(cells: list[Cell], variant: str = "") -> list[charts.Bar]:
    return [charts.Bar(cell.label, cell.value, variant) for cell in cells]


def _figures(staff: Staff, c: Chosen) -> dict[str, Any]:
    session, caller, side = staff.session, staff.caller, c.stats_side
    f = stats.referral_figures(
        session, caller, side=side, since=c.since_at, until=c.until_at, narrowing=c.narrowing
    )
    now = utcnow()
    since = c.since_at or now - dt.timedelta(days=365)
    until = c.until_at or now
    grain = "week" if (until - since).days <= 120 else "month"
    periods = trends.series(
        session, caller, side=side, since=since, until=until, narrowing=c.narrowing, grain=grain
    )
    statuses, ages = _status_cells(staff, c, f), _age_cells(staff, c, f)
    reasons = _reason_cells(staff, c)
    caseload = _caseload(staff, c)
    late = sum(row["late"].value for row in caseload)
    gettext = staff.gettext
    return {
        "figures": f,
        "total": Cell("", f.total, drill(c)),
        "waiting": Cell("", sum(ages_cell.value for ages_cell in ages), drill(c, waiting=1)),
        "late": Cell("", late, drill(c, window=False, late=1)),
        "missed": Cell("", f.handovers.first_contact_overdue, drill(c, missed=1)),
        "statuses": statuses,
        "status_chart": charts.bars(
            "chart-status",
            gettext("Referrals by status"),
            gettext("One bar per status; the numbers are in the table beside."),
            _bars(statuses),
        ),
        "ages": ages,
        "age_chart": charts.bars(
            "chart-age",
            gettext("Open items by age"),
            gettext("One bar per age; the numbers are in the table beside."),
            _bars(ages, "age"),
        ),
        "reasons": reasons,
        "reason_chart": charts.bars(
            "chart-reasons",
            gettext("Declined, cancelled and failed, by organisation and reason"),
            gettext("One bar per organisation and reason; the numbers are in the table."),
            [charts.Bar(r["cell"].label, r["cell"].value, "reason") for r in reasons],
        ),
        "series": _durations(staff, c, periods),
        "series_window": (since, until),
        "caseload": caseload,
        "caseload_chart": charts.bars(
            "chart-caseload",
            gettext("Open items per case worker"),
            gettext("One bar per person; the numbers are in the table beside."),
            [charts.Bar(row["name"], row["open"].value, "load") for row in caseload],
        ),
    }


def _form(staff: Staff, c: Chosen) -> dict[str, Any]:
    org_names = trends.counterparts(staff.session, staff.caller, side=c.stats_side)
    workers = [(str(uid), name) for uid, name in people.assignable(staff.session, staff.caller)]
    return {
        "chosen": c,
        "periods": [(value, staff.gettext(label)) for value, label, _days in PERIODS],
        "kinds": [(value, staff.gettext(label)) for value, label in KINDS.items()],
        "organisations": [(str(i), name) for i, name in org_names],
        "workers": [*workers, ("none", staff.gettext("Nobody yet"))],
        "csv_href": "/ui/team/figures.csv?" + c.query(),
    }


@routes.get("/team", response_class=HTMLResponse)
def dashboard(
    staff: SupervisorDep,
    side: Text = "",
    period: Text = "",
    since: Text = "",
    until: Text = "",
    counterpart: Text = "",
    worker: Text = "",
    kind: Text = "",
) -> HTMLResponse:
    c = choose(
        staff,
        side=side,
        period=period,
        since=since,
        until=until,
        counterpart=counterpart,
        worker=worker,
        kind=kind,
    )
    form = _form(staff, c)
    if c.errors:
        return team_page(
            staff, "supervision/dashboard.html", "dashboard", status=422, errors=c.errors, **form
        )
    return team_page(
        staff,
        "supervision/dashboard.html",
        "dashboard",
        errors=[],
        **form,
        **_figures(staff, c),
    )


@routes.get("/team/figures.csv", response_model=None)
def figures_csv(
    staff: SupervisorDep,
    side: Text = "",
    period: Text = "",
    since: Text = "",
    until: Text = "",
    counterpart: Text = "",
    worker: Text = "",
    kind: Text = "",
) -> Response:
    """The reports API's CSV of these filters, plus one row per period of the time series
    (`*_by_period`, `bucket` the period's first day)."""
    c = choose(
        staff,
        side=side,
        period=period,
        since=since,
        until=until,
        counterpart=counterpart,
        worker=worker,
        kind=kind,
    )
    if c.errors:
        return dashboard(staff, side, period, since, until, counterpart, worker, kind)
    f = stats.referral_figures(
        staff.session,
        staff.caller,
        side=c.stats_side,
        since=c.since_at,
        until=c.until_at,
        narrowing=c.narrowing,
    )
    text = reports_router.csv_text(f)  # the API's CSV, byte for byte
    since_at = c.since_at or f.generated_at - dt.timedelta(days=365)
    until_at = c.until_at or f.generated_at
    grain = "week" if (until_at - since_at).days <= 120 else "month"
    periods = trends.series(
        staff.session,
        staff.caller,
        side=c.stats_side,
        since=since_at,
        until=until_at,
        narrowing=c.narrowing,
        grain=grain,
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reports_router.CSV_COLUMNS, lineterminator="\r\n")
    for p in periods:
        for metric, d in (
            ("time_to_response_hours_by_period", p.time_to_response),
            ("time_to_acceptance_hours_by_period", p.time_to_acceptance),
        ):
            for statistic, value in (
                ("count", d.count),
                ("median", d.median_hours),
                ("p90", d.p90_hours),
            ):
                row: dict[str, Any] = dict.fromkeys(reports_router.CSV_COLUMNS, "")
                row.update(
                    metric=metric,
                    statistic=statistic,
                    value="" if value is None else value,
                    bucket=p.start.date().isoformat(),
                )
                writer.writerow(row)
    stamp = f.generated_at.strftime("%Y%m%d")
    return Response(
        text + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="refhub-team-{c.side}-{stamp}.csv"'},
    )
