"""The assessment form: record the case's assessment, or reassess (the next version),
with `casework.assessments.record_assessment`, as the API's `POST /cases/{id}/assessments`.

Per life domain the strengths, needs and barriers are typed one per line; a need or a
barrier may start with its severity ("High: ..."). A reassessment starts from the latest
version, and a line kept or reworded in its place stays the same item (its id), so the
plan's strategies and goals keep pointing at it: an unchanged line keeps its item
wherever it moves; a changed line keeps the item that was on the same line before.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from gateway.web.casework.common import (
    CasePage,
    Posted,
    PostedDep,
    case_or_page,
    one,
    refusal,
    service_problem,
    shown_day,
    today,
    typed_day,
)
from gateway.web.casework.labels import DOMAIN_LABELS, KIND_LABELS, RISK_LABELS, SEVERITY_LABELS
from gateway.web.clients.forms import Problems, attempt
from gateway.web.i18n import N_
from gateway.web.shell import Staff, StaffDep, go
from gateway.workflow.casework import assessments
from gateway.workflow.casework.assessments import ITEM_MAX, KINDS, AssessmentIn, AssessmentOut
from gateway.workflow.casework.errors import CaseworkInvalid
from gateway.workflow.casework.models import Domain
from kernel.errors import RefhubError

__all__ = ["match_items", "router", "split_line"]

router = APIRouter()
_SEVERE = ("needs", "barriers")
_MESSAGES = {
    "domains": N_("Write at least one strength, need or barrier, or tick a risk flag"),
    "assessed_on": N_("The assessment cannot be in the future: enter the day it was done"),
    "reassess_on": N_("The reassessment date must be after the day of the assessment"),
}
_LONG = N_("Shorten each line to at most 2,000 characters")
_MANY = N_("Write at most 30 lines here")
_TEXT = N_("Shorten this to at most 5,000 characters")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def split_line(staff: Staff, line: str, severe: bool) -> tuple[str, str | None]:
    """A typed line as (text, severity): "High: waiting lists" -> ("waiting lists", "high")
    for a need or barrier, in English or the page's language."""
    typed = re.fullmatch(r"\s*([^:]{1,20}?)\s*:\s*(.+)", line) if severe else None
    if typed:
        word = typed[1].casefold()
        for code, label in SEVERITY_LABELS.items():
            if word in (code, label.casefold(), staff.gettext(label).casefold()):
                return typed[2].strip(), code
    return line.strip(), None


def _line_of(staff: Staff, item: dict[str, Any]) -> str:
    severity = item.get("severity")
    if severity in SEVERITY_LABELS:
        return f"{staff.gettext(SEVERITY_LABELS[severity])}: {item['text']}"
    return str(item["text"])


def match_items(
    lines: list[tuple[str, str | None]], previous: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The typed items, each with the id of the previous version's item it continues: the
    same text anywhere in the list, else the item that was on the same line."""
    used: set[str] = set()
    ids: list[str | None] = [None] * len(lines)
    for index, (text, _severity) in enumerate(lines):
        for item in previous:
            if item["id"] not in used and _norm(item["text"]) == _norm(text):
                ids[index] = item["id"]
                used.add(item["id"])
                break
    exact = {_norm(item["text"]) for item in previous}
    for index, (text, _severity) in enumerate(lines):
        if ids[index] is None and index < len(previous):
            candidate = previous[index]
            if candidate["id"] not in used and _norm(text) not in exact:
                ids[index] = candidate["id"]
                used.add(candidate["id"])
    return [
        {"id": ids[i], "text": text, "severity": severity}
        for i, (text, severity) in enumerate(lines)
    ]


def _form_of_latest(staff: Staff, latest: AssessmentOut | None) -> dict[str, Any]:
    form: dict[str, Any] = {"assessed_on": shown_day(today(staff)), "reassess_on": ""}
    form["risk_flags"] = [f.value for f in latest.risk_flags] if latest else []
    form["participants"] = (latest.participants or "") if latest else ""
    form["family_view"] = (latest.family_view or "") if latest else ""
    for domain in Domain:
        content = latest.domains.get(domain) if latest else None
        for kind in KINDS:
            items = getattr(content, kind) if content else []
            lines = [_line_of(staff, i.model_dump(mode="json")) for i in items]
            form[f"{domain.value}-{kind}"] = "\n".join(lines)
    return form


def _page(
    staff: Staff,
    page: CasePage,
    form: dict[str, Any],
    errors: Problems,
    latest: AssessmentOut | None,
    *,
    status: int = 200,
) -> HTMLResponse:
    return staff.page(
        "casework/assessment.html",
        status=status,
        errors=errors,
        form=form,
        latest=latest,
        domain_labels=DOMAIN_LABELS,
        kind_labels=KIND_LABELS,
        risk_labels=RISK_LABELS,
        kinds=KINDS,
        **page.context(),
    )


def _previous_items(
    latest: AssessmentOut | None, domain: Domain, kind: str
) -> list[dict[str, Any]]:
    content = latest.domains.get(domain) if latest else None
    if content is None:
        return []
    return [i.model_dump(mode="json") for i in getattr(content, kind) if i.id is not None]


def parse_assessment(
    staff: Staff, posted: Posted, latest: AssessmentOut | None
) -> tuple[AssessmentIn | None, dict[str, Any], Problems]:
    """The typed form (kept as typed), as `AssessmentIn` or the problems at their fields."""
    form: dict[str, Any] = {
        key: one(posted, key)
        for key in ("assessed_on", "reassess_on", "participants", "family_view")
    }
    form["risk_flags"] = [f for f in posted.get("risk_flags", []) if f in RISK_LABELS]
    problems: Problems = []
    assessed = typed_day(
        staff,
        form["assessed_on"],
        "assessed_on",
        problems,
        required=N_("Enter the day of the assessment, for example 30/11/2026"),
    )
    reassess = typed_day(staff, form["reassess_on"], "reassess_on", problems)
    domains: dict[str, Any] = {}
    for domain in Domain:
        for kind in KINDS:
            key = f"{domain.value}-{kind}"
            form[key] = one(posted, key)
            lines = [
                split_line(staff, line, kind in _SEVERE)
                for line in form[key].splitlines()
                if line.strip()
            ]
            lines = [(text, severity) for text, severity in lines if text]
            if len(lines) > ITEM_MAX:
                problems.append({"field": key, "message": staff.gettext(_MANY)})
            elif any(len(text) > 2000 for text, _s in lines):
                problems.append({"field": key, "message": staff.gettext(_LONG)})
            elif lines:
                items = match_items(lines, _previous_items(latest, domain, kind))
                domains.setdefault(domain.value, {})[kind] = items
    for key in ("participants", "family_view"):
        if len(form[key].strip()) > 5000:
            problems.append({"field": key, "message": staff.gettext(_TEXT)})
    if problems or assessed is None:
        return None, form, problems
    raw = {
        "assessed_on": assessed,
        "reassess_on": reassess,
        "domains": domains,
        "risk_flags": form["risk_flags"],
        "participants": form["participants"].strip() or None,
        "family_view": form["family_view"].strip() or None,
    }
    try:
        return AssessmentIn.model_validate(raw), form, []
    except ValidationError:
        message = staff.gettext("Check what you wrote: something here cannot be recorded")
        return None, form, [{"field": "domains", "message": message}]


def _latest(staff: Staff, page: CasePage) -> AssessmentOut | None:
    return assessments.latest(staff.session, page.id)


@router.get("/cases/{case_id}/assessment", response_class=HTMLResponse)
def assessment_form(staff: StaffDep, case_id: str) -> Response:
    """The assessment form, prefilled from the latest version for a reassessment."""
    page = case_or_page(staff, case_id, "assessment.write")
    if not isinstance(page, CasePage):
        return page
    try:
        latest = _latest(staff, page)
    except RefhubError as error:
        return refusal(staff, error)
    return _page(staff, page, _form_of_latest(staff, latest), [], latest)


@router.post("/cases/{case_id}/assessment", response_class=HTMLResponse)
def record_assessment(staff: StaffDep, case_id: str, posted: PostedDep) -> Response:
    """Record the assessment (the next version), then back to the case."""
    staff.check_csrf(one(posted, "csrf_token"))
    page = case_or_page(staff, case_id, "assessment.write")
    if not isinstance(page, CasePage):
        return page
    try:
        latest = _latest(staff, page)
    except RefhubError as error:
        return refusal(staff, error)
    body, form, problems = parse_assessment(staff, posted, latest)
    if body is None:
        return _page(staff, page, form, problems, latest, status=422)
    try:
        with attempt(staff.session):
            assessments.record_assessment(staff.session, staff.caller, page.id, body)
    except CaseworkInvalid as error:
        messages = {k: staff.gettext(v) for k, v in _MESSAGES.items()}
        problem = service_problem(staff, error, messages)
        return _page(staff, page, form, problem, latest, status=422)
    except RefhubError as error:
        return refusal(staff, error)
    return go(f"/ui/cases/{page.id}?done=assessment#assessment")
