"""Staff pages of the directory area: "Find a service" (search and match) and a service's
page. Both read through the viewer the directory API gives the same caller, so a page shows
exactly what `GET /directory/services` and `POST /directory/match` would."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from directory import lookups as directory_lookups
from directory import service as directory_service
from directory.access import Viewer
from directory.dependencies import Wiring
from directory.errors import ListingNotFound
from directory.search import MAX_PAGE
from gateway.auth.clients.scopes import scope_allows
from gateway.auth.dependencies import current_caller
from gateway.dependencies import get_session
from gateway.web.directory import finder
from gateway.web.directory.views import CAPACITY_LABELS, POPULATION_LABELS, Words, field_message
from gateway.web.directory.views import page_of as service_page_of
from gateway.web.shell import Staff, StaffDep, parse_uuid

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
Text = Annotated[str, Query(max_length=200)]


def viewer(staff: Staff) -> Viewer:
    """What the staff member may see of listings: the directory API's viewer for them."""
    settings = staff.request.app.state.runtime.settings
    wiring = Wiring(get_session, current_caller, scope_allows, settings.public_base_url)
    return wiring.viewer(staff.caller, "HealthcareService")


def _words(staff: Staff) -> Words:
    return Words(staff.language, staff.gettext)


def _form(
    need: str,
    population: str,
    language: str,
    place: str,
    radius: str,
    accepting: str,
    capacity: list[str],
    open_now: str,
    q: str,
    page: str,
) -> finder.SearchForm:
    page_no = int(page) if page.isdigit() else 1
    return finder.SearchForm(
        need=need.strip(),
        population=population.strip(),
        language=language.strip(),
        place=place.strip(),
        radius=radius.strip() if radius.strip() in finder.RADII else "25",
        accepting=bool(accepting),
        capacity=[c for c in capacity if c][:10],
        open_now=bool(open_now),
        q=q.strip(),
        page=min(max(page_no, 1), MAX_PAGE),
    )


def _query_string(form: finder.SearchForm) -> str:
    """The form's values as the pager's links carry them (without the page)."""
    pairs: list[tuple[str, str]] = [
        (key, value)
        for key, value in (
            ("need", form.need),
            ("population", form.population),
            ("language", form.language),
            ("place", form.place),
            ("radius", form.radius),
            ("accepting", "1" if form.accepting else ""),
            ("open_now", "1" if form.open_now else ""),
            ("q", form.q),
        )
        if value
    ]
    pairs += [("capacity", c) for c in form.capacity]
    return urlencode(pairs)


@router.get("/services", response_class=HTMLResponse)
def find_a_service(
    staff: StaffDep,
    need: Text = "",
    population: Text = "",
    language: Text = "",
    place: Text = "",
    radius: Text = "25",
    accepting: Text = "",
    capacity: Annotated[list[str], Query()] = [],  # noqa: B006 - query list
    open_now: Text = "",
    q: Text = "",
    page: Text = "1",
) -> HTMLResponse:
    form = _form(need, population, language, place, radius, accepting, capacity, open_now, q, page)
    words, _ = _words(staff), staff.gettext
    seen = viewer(staff)
    needs = [(t.code, t.name) for t in directory_lookups.categories(staff.session)]
    languages = sorted(
        (
            (c, words.language_name(c))
            for c in directory_lookups.languages_offered(staff.session, seen)
        ),
        key=lambda pair: pair[1],
    )
    found = finder.find(staff.session, seen, form)
    errors = [{"field": f, "message": _(field_message(code))} for f, code in found.errors]
    asked = {
        "need": dict(needs).get(form.need, form.need),
        "language": words.language_name(form.language) if form.language else "",
        "population": words.population(form.population) if form.population else "",
    }
    results = []
    for hit in found.hits:
        row = words.summary(hit)
        reasons = found.reasons.get(hit.details.service.id, [])
        row["reasons"] = [
            {"met": r.met, "text": words.reason(r, hit, asked, found.radius_km)} for r in reasons
        ]
        results.append(row)
    return staff.page(
        "directory/search.html",
        nav="services",
        errors=errors,
        form=form,
        need_options=needs,
        language_options=languages,
        population_options=[(code, _(label)) for code, label in POPULATION_LABELS.items()],
        capacity_options=[(code, _(label)) for code, label in CAPACITY_LABELS.items()],
        radius_options=[
            (r, _("Within %(km)s km") % {"km": r} if r else _("Any distance")) for r in finder.RADII
        ],
        results=results,
        found=found,
        matching=bool(form.need) and not errors,
        pager_url="/ui/services?" + _query_string(form),
        back=urlencode({"back": _query_string(form)}) if form.asked else "",
    )


@router.get("/services/{service_id}", response_class=HTMLResponse)
def service_page(
    staff: StaffDep, service_id: str, back: Annotated[str, Query(max_length=2000)] = ""
) -> HTMLResponse:
    """A listing's page; `back` is the search it was found by (its query string)."""
    sid = parse_uuid(service_id)
    try:
        if sid is None:
            raise ListingNotFound("No such listing.")
        details = directory_service.get_service(staff.session, viewer(staff), sid)
    except ListingNotFound:
        return staff.page("directory/missing.html", status=404, nav="services", errors=[])
    service = service_page_of(_words(staff), details)
    return staff.page(
        "directory/service.html",
        nav="services",
        errors=[],
        service=service,
        refer_url="/ui/referrals/new?" + urlencode({"service": str(details.service.id)}),
        back_url="/ui/services?" + urlencode(parse_qsl(back)) if back else "",
    )
