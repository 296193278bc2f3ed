"""`/ui/team/files`: the quality of the organisation's case files for its supervisors: the
case-work report (goals by life domain, plans overdue for review, review requests waiting,
the automatic checks that fail), the monthly sample of files to review by hand, and each
sampled file's page with its checklist and the supervisor's findings. The same service
functions as the API (`casework.qa_report`, `casework.file_sample`) decide and audit."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_date
from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from consent import clients as consent_clients
from consent.errors import ClientErased
from gateway.auth.models import Organisation
from gateway.web.casework.labels import DOMAIN_LABELS
from gateway.web.i18n import N_, babel_locale
from gateway.web.shell import Staff, SupervisorDep, go, parse_uuid, refused, render
from gateway.web.supervision import charts
from gateway.web.supervision.dashboard import team_page
from gateway.web.supervision.file_labels import (
    CHECK_HINTS,
    CHECK_LABELS,
    RESULT_LABELS,
    RESULT_TAGS,
    STATUS_LABELS,
)
from gateway.workflow.casework import file_sample, qa_report
from gateway.workflow.casework.errors import CaseworkInvalid
from gateway.workflow.casework.qa_errors import FileReviewDone, FileReviewNotFound
from gateway.workflow.casework.qa_schemas import CheckItem, FileReviewOut, FindingsIn, SampleIn
from kernel.db import utcnow
from kernel.errors import RefhubError

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=5000)]
MONTHS = 12

DRAWN = {
    "new": N_("The sample of %(month)s is drawn. Review each file below."),
    "again": N_("The sample of %(month)s was drawn before: these are the same files."),
    "empty": N_("Your organisation held no case files in %(month)s: there is nothing to sample."),
}


def _month_label(staff: Staff, period: str) -> str:
    year, month = (int(part) for part in period.split("-"))
    return str(format_date(dt.date(year, month, 1), "LLLL y", locale=babel_locale(staff.language)))


def _months(staff: Staff) -> list[tuple[str, str]]:
    """The 12 months before the current one, the latest first: (YYYY-MM, its name)."""
    today = utcnow().date()
    year, month = today.year, today.month
    out = []
    for _ in range(MONTHS):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        period = f"{year:04d}-{month:02d}"
        out.append((period, _month_label(staff, period)))
    return out


def _names(staff: Staff, client_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    org = staff.session.get(Organisation, staff.caller.organisation_id)
    labels = consent_clients.labels_for(
        staff.session,
        staff.caller,
        dict.fromkeys(client_ids, "service-coordination"),
        caller_org_type=org.org_type if org else None,
    )
    unnamed = staff.gettext("Client without a name you may see")
    return {
        cid: (label.name or label.reference or unnamed) if label else unnamed
        for cid, label in ((cid, labels.get(cid)) for cid in client_ids)
    }


def _checks(staff: Staff, items: list[CheckItem]) -> list[dict[str, str]]:
    return [
        {
            "label": staff.gettext(CHECK_LABELS.get(i.item, i.item)),
            "hint": staff.gettext(CHECK_HINTS[i.item]) if i.item in CHECK_HINTS else "",
            "result": staff.gettext(RESULT_LABELS[i.result.value]),
            "tag": RESULT_TAGS[i.result.value],
        }
        for i in items
    ]


def _report(staff: Staff) -> dict[str, Any]:
    report = qa_report.casework_report(staff.session, staff.caller)
    gettext = staff.gettext
    goals: list[dict[str, Any]] = [
        {
            "label": gettext(DOMAIN_LABELS.get(g.domain, N_("No life domain"))),
            "achieved": g.achieved,
            "open": g.open,
        }
        for g in report.goals_by_domain
    ]
    items: list[dict[str, Any]] = [
        {
            "label": gettext(CHECK_LABELS.get(i.item, i.item)),
            "hint": gettext(CHECK_HINTS[i.item]) if i.item in CHECK_HINTS else "",
            "failing": i.failing,
        }
        for i in report.failing_by_item
    ]
    beside = gettext("One bar per life domain; the numbers are in the table below.")
    return {
        "report": report,
        "goals": goals,
        "achieved_chart": charts.bars(
            "chart-achieved",
            gettext("Goals achieved, by life domain"),
            beside,
            [charts.Bar(g["label"], g["achieved"], "load") for g in goals],
        ),
        "open_chart": charts.bars(
            "chart-open",
            gettext("Goals still open, by life domain"),
            beside,
            [charts.Bar(g["label"], g["open"]) for g in goals],
        ),
        "items": items,
        "items_chart": charts.bars(
            "chart-items",
            gettext("Open case files failing each check"),
            gettext("One bar per check; the numbers are in the table beside."),
            [charts.Bar(i["label"], i["failing"], "reason") for i in items],
        ),
        "latest_month": _month_label(staff, report.sample_period) if report.sample_period else "",
    }


def _sample_rows(
    staff: Staff, sample: list[FileReviewOut], names: dict[uuid.UUID, str]
) -> list[dict[str, Any]]:
    rows = []
    for review in sample:
        failing = [
            staff.gettext(CHECK_LABELS.get(i.item, i.item))
            for i in review.checklist
            if i.result.value == "fail"
        ]
        rows.append(
            {
                "review": review,
                "client": names.get(review.client_id, ""),
                "status": staff.gettext(STATUS_LABELS.get(review.status, review.status)),
                "failing": failing,
            }
        )
    return rows


def _page(
    staff: Staff,
    period: str,
    *,
    errors: list[dict[str, str]],
    drawn: str = "",
    status: int = 200,
) -> HTMLResponse:
    months = _months(staff)
    if period not in {value for value, _label in months}:
        months.insert(0, (period, _month_label(staff, period)))
    context = _report(staff)
    sample = file_sample.list_file_reviews(
        staff.session, staff.caller, kind=file_sample.SAMPLE, period=period
    )
    overdue = context["report"].plans_overdue
    names = _names(staff, {p.client_id for p in overdue} | {r.client_id for r in sample})
    month = _month_label(staff, period)
    return team_page(
        staff,
        "supervision/files.html",
        "files",
        **context,
        overdue=[{"plan": p, "client": names.get(p.client_id, "")} for p in overdue],
        months=months,
        period=period,
        month=month,
        sample=_sample_rows(staff, sample, names),
        drawn=staff.gettext(DRAWN[drawn]) % {"month": month} if drawn in DRAWN else "",
        errors=errors,
        status=status,
    )


def _valid(period: str) -> bool:
    try:
        SampleIn.model_validate({"period": period})
    except ValidationError:
        return False
    return period <= utcnow().strftime("%Y-%m")


@routes.get("/team/files", response_class=HTMLResponse)
def case_files(staff: SupervisorDep, period: str = "", drawn: str = "") -> HTMLResponse:
    """The report and the sample of `period` (last month unless a valid month is given)."""
    chosen = period if _valid(period) else _months(staff)[0][0]
    return _page(staff, chosen, errors=[], drawn=drawn)


@routes.post("/team/files/sample", response_class=HTMLResponse)
def draw(staff: SupervisorDep, period: Field = "", csrf_token: Field = "") -> Response:
    """Draw the month's sample (or find the one drawn before); its list again."""
    staff.check_csrf(csrf_token)
    last = _months(staff)[0][0]
    try:
        body = SampleIn.model_validate({"period": period})
    except ValidationError:
        message = staff.gettext("Choose one of the months in the list.")
        return _page(staff, last, errors=[{"field": "period", "message": message}], status=422)
    try:
        items, created = file_sample.draw_sample(staff.session, staff.caller, body.period)
    except CaseworkInvalid as exc:
        refused(staff, exc)
        message = staff.gettext("A month that has not ended yet cannot be sampled here.")
        return _page(staff, last, errors=[{"field": "period", "message": message}], status=422)
    outcome = "empty" if not items else "new" if created else "again"
    query = urlencode({"period": body.period, "drawn": outcome})
    return go(f"/ui/team/files?{query}#sample")


def _not_found(staff: Staff) -> HTMLResponse:
    """The HTML 404, returned (not raised) so the audited refusal is kept."""
    return render(staff.request, "not_found.html", status=404, caller=None, errors=[])


def _file_page(
    staff: Staff,
    file_review_id: uuid.UUID,
    *,
    errors: list[dict[str, str]],
    sent: dict[str, str] | None = None,
    done: bool = False,
    status: int = 200,
) -> HTMLResponse:
    try:
        review = file_sample.read_file_review(staff.session, staff.caller, file_review_id)
    except FileReviewNotFound:
        return _not_found(staff)
    except ClientErased:
        message = staff.gettext("This client's data was erased: the file can no longer be read.")
        return staff.page("clients/refused.html", status=410, nav="team", errors=[], detail=message)
    names = _names(staff, {review.client_id})
    return team_page(
        staff,
        "supervision/file.html",
        "files",
        review=review,
        client=names.get(review.client_id, ""),
        month=_month_label(staff, review.period) if review.period else "",
        checks=_checks(staff, review.checklist),
        status_label=staff.gettext(STATUS_LABELS.get(review.status, review.status)),
        sent=sent or {},
        done=staff.gettext("Review done. The findings are kept as recorded.") if done else "",
        errors=errors,
        status=status,
    )


@routes.get("/team/files/{file_review_id}", response_class=HTMLResponse)
def file_review_page(staff: SupervisorDep, file_review_id: str, done: str = "") -> HTMLResponse:
    """One sampled file: the case, its checklist, the findings (or the form for them)."""
    rid = parse_uuid(file_review_id)
    if rid is None:
        return _not_found(staff)
    return _file_page(staff, rid, errors=[], done=done == "1")


def _problems(staff: Staff, exc: ValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "findings"
        if field == "corrective_actions":
            message = staff.gettext("Keep the corrective actions under 4,000 characters.")
        elif error["type"] == "string_too_long":
            message = staff.gettext("Keep the findings under 4,000 characters.")
        else:
            field, message = "findings", staff.gettext("Write what you found in this file.")
        errors.append({"field": field, "message": message})
    return errors


@routes.post("/team/files/{file_review_id}/findings", response_class=HTMLResponse)
def findings(
    file_review_id: str,
    staff: SupervisorDep,
    findings: Field = "",
    corrective_actions: Field = "",
    csrf_token: Field = "",
) -> Response:
    """Record the findings and mark the review done; the page again with the problem."""
    staff.check_csrf(csrf_token)
    rid = parse_uuid(file_review_id)
    if rid is None:
        return _not_found(staff)
    sent = {"findings": findings, "corrective_actions": corrective_actions}
    try:
        body = FindingsIn.model_validate(
            {"findings": findings, "corrective_actions": corrective_actions.strip() or None}
        )
    except ValidationError as exc:
        return _file_page(staff, rid, errors=_problems(staff, exc), sent=sent, status=422)
    try:
        file_sample.record_findings(staff.session, staff.caller, rid, body)
    except FileReviewNotFound:
        return _not_found(staff)
    except FileReviewDone as exc:
        errors = refused(staff, exc)
        errors[0]["message"] = staff.gettext(
            "This review is done already: its findings are kept as recorded."
        )
        return _file_page(staff, rid, errors=errors, status=exc.status)
    except RefhubError as exc:
        errors = refused(staff, exc, "findings")
        errors[0]["message"] = staff.gettext("These findings cannot be recorded.")
        return _file_page(staff, rid, errors=errors, sent=sent, status=exc.status)
    return go(f"/ui/team/files/{rid}?done=1")
