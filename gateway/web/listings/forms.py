"""The listing form as typed, and its parsing into the API's `ServiceIn`.

The form holds strings so it can be shown again with the input kept. An edit starts from
the listing as stored (`directory.owned.current_body`): the form changes the parts it
shows and keeps the rest (service types, areas, other phones, a location's accessibility).
Every problem becomes `{"field": input id, "message": text}` (the pydantic error's `loc`
mapped to the input's id) for the error summary and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from directory.schemas import CapacityIn, ScheduleIn, ServiceIn
from gateway.web.i18n import N_
from gateway.web.listings.common import Posted

__all__ = [
    "DAYS",
    "LOCATION_FIELDS",
    "MAX_LOCATIONS",
    "CapacityForm",
    "ListingForm",
    "LocationRow",
    "Problems",
    "form_of",
    "parse_capacity",
    "parse_listing",
    "read_form",
]

Problems = list[dict[str, str]]
Gettext = Callable[[str], str]
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
LOCATION_FIELDS = ("name", "address_1", "city", "postal_code", "country", "latitude", "longitude")
MAX_LOCATIONS = 10

#: Messages for the fields whose generic message would not say what to do.
_MESSAGES = {
    "name": N_("Enter the name of the service"),
    "languages": N_("Choose the languages the service works in"),
    "languages_other": N_("Enter language codes such as en, ar or fa-AF, separated by commas"),
    "minimum_age": N_("Enter an age in whole years, from 0 to 150"),
    "maximum_age": N_("Enter an age in whole years, from 0 to 150"),
    "ages": N_("The youngest age must not be above the oldest age"),
    "wait_time_days": N_("Enter the waiting time as a whole number of days, from 0 to 3650"),
    "timezone": N_("Enter a time zone such as Europe/Lisbon"),
    "phone": N_("Enter a phone number of at least 3 characters"),
    "country": N_("Enter the country as a two-letter code, such as PT"),
    "latitude": N_("Enter a latitude between -90 and 90, such as 38.72"),
    "longitude": N_("Enter a longitude between -180 and 180, such as -9.14"),
    "time": N_("Enter the time as hours and minutes, such as 09:00"),
    "order": N_("The closing time must be after the opening time"),
    "both": N_("Enter both the opening and the closing time, or neither"),
    "location": N_("Enter at least one address where the service is given"),
}


class LocationRow(BaseModel):
    """One address row of the form (`id`: the stored location it edits, if any)."""

    id: str = ""
    name: str = ""
    address_1: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""
    latitude: str = ""
    longitude: str = ""

    @property
    def blank(self) -> bool:
        return not any(getattr(self, f).strip() for f in LOCATION_FIELDS)


class ListingForm(BaseModel):
    """The create and edit form as typed."""

    name: str = ""
    description: str = ""
    status: str = "active"
    visibility: str = "public"
    categories: list[str] = []
    languages: list[str] = []
    languages_other: str = ""
    populations: list[str] = []
    minimum_age: str = ""
    maximum_age: str = ""
    eligibility_description: str = ""
    locations: list[LocationRow] = []
    hours: dict[str, tuple[str, str]] = {}
    timezone: str = "UTC"
    email: str = ""
    phone: str = ""
    capacity: str = ""
    wait_time_days: str = ""
    capacity_note: str = ""
    intake_requirements: str = ""
    accepts_electronic_referrals: bool = False


def _text(value: object) -> str:
    return "" if value is None else str(value)


def form_of(body: ServiceIn, known_languages: set[str]) -> ListingForm:
    """The form showing a listing as stored (`known_languages`: those with a checkbox)."""
    hours: dict[str, tuple[str, str]] = {}
    for sched in body.schedules:
        for day in sched.byday.split(","):
            hours.setdefault(day, (sched.opens_at, sched.closes_at))
    return ListingForm(
        name=body.name,
        description=_text(body.description),
        status=body.status,
        visibility=body.visibility,
        categories=body.categories,
        languages=[c for c in body.languages if c in known_languages],
        languages_other=", ".join(c for c in body.languages if c not in known_languages),
        populations=body.populations,
        minimum_age=_text(body.minimum_age),
        maximum_age=_text(body.maximum_age),
        eligibility_description=_text(body.eligibility_description),
        locations=[
            LocationRow(id=_text(loc.id), **{f: _text(getattr(loc, f)) for f in LOCATION_FIELDS})
            for loc in body.locations
        ]
        or [LocationRow()],
        hours=hours,
        timezone=body.timezone,
        email=_text(body.email),
        phone=body.phones[0].number if body.phones else "",
        capacity=_text(body.capacity),
        wait_time_days=_text(body.wait_time_days),
        capacity_note=_text(body.capacity_note),
        intake_requirements=_text(body.intake_requirements),
        accepts_electronic_referrals=body.accepts_electronic_referrals,
    )


def read_form(posted: Posted) -> ListingForm:
    """The posted listing form, as typed."""

    def one(name: str, default: str = "") -> str:
        return (posted.get(name) or [default])[0]

    rows: list[LocationRow] = []
    for index in range(MAX_LOCATIONS):
        prefix = f"location-{index}-"
        if not any(key.startswith(prefix) for key in posted):
            break
        rows.append(
            LocationRow(id=one(prefix + "id"), **{f: one(prefix + f) for f in LOCATION_FIELDS})
        )
    return ListingForm(
        name=one("name"),
        description=one("description"),
        status=one("status", "active"),
        visibility=one("visibility", "public"),
        categories=[c for c in posted.get("categories", []) if c][:20],
        languages=[c for c in posted.get("languages", []) if c][:40],
        languages_other=one("languages_other"),
        populations=[c for c in posted.get("populations", []) if c][:20],
        minimum_age=one("minimum_age"),
        maximum_age=one("maximum_age"),
        eligibility_description=one("eligibility_description"),
        locations=rows or [LocationRow()],
        hours={d: (one(f"hours-{d}-opens"), one(f"hours-{d}-closes")) for d in DAYS},
        timezone=one("timezone", "UTC"),
        email=one("email"),
        phone=one("phone"),
        capacity=one("capacity"),
        wait_time_days=one("wait_time_days"),
        capacity_note=one("capacity_note"),
        intake_requirements=one("intake_requirements"),
        accepts_electronic_referrals=bool(one("accepts_electronic_referrals")),
    )


def _problem(out: Problems, field: str, message: str) -> None:
    if all(p["field"] != field for p in out):
        out.append({"field": field, "message": message})


def _number(
    out: Problems, field: str, text: str, message: str, gettext: Gettext, kind: type = int
) -> Any:
    """`text` as a number (None if empty), else a problem at `field`."""
    text = text.strip()
    if not text:
        return None
    try:
        return kind(text.replace(",", ".") if kind is float else text)
    except ValueError:
        _problem(out, field, gettext(message))
        return None


def _schedules(form: ListingForm, out: Problems, gettext: Gettext) -> list[dict[str, str]]:
    """One schedule per set of days with the same hours (each day checked on its own)."""
    same: dict[tuple[str, str], list[str]] = {}
    for day in DAYS:
        opens, closes = (t.strip() for t in form.hours.get(day, ("", "")))
        if not opens and not closes:
            continue
        if not opens or not closes:
            field = f"hours-{day}-{'opens' if not opens else 'closes'}"
            _problem(out, field, gettext(_MESSAGES["both"]))
            continue
        try:
            ScheduleIn(byday=day, opens_at=opens, closes_at=closes)
        except ValidationError as error:
            kinds = {e["type"] for e in error.errors()}
            if "string_pattern_mismatch" in kinds:
                bad = (
                    "closes" if [e for e in error.errors() if "closes_at" in e["loc"]] else "opens"
                )
                if [e for e in error.errors() if "opens_at" in e["loc"]]:
                    bad = "opens"
                _problem(out, f"hours-{day}-{bad}", gettext(_MESSAGES["time"]))
            else:
                _problem(out, f"hours-{day}-closes", gettext(_MESSAGES["order"]))
            continue
        same.setdefault((opens, closes), []).append(day)
    return [
        {"byday": ",".join(days), "opens_at": opens, "closes_at": closes}
        for (opens, closes), days in same.items()
    ]


def _locations(
    form: ListingForm, base: list[dict[str, Any]], out: Problems, gettext: Gettext
) -> tuple[list[dict[str, Any]], list[int]]:
    """The typed addresses over the stored ones (kept parts: description, accessibility...),
    and the form row of each (for mapping errors back)."""
    stored = {str(loc.get("id")): loc for loc in base if loc.get("id")}
    locations: list[dict[str, Any]] = []
    rows: list[int] = []
    for index, row in enumerate(form.locations):
        if row.blank:
            continue
        prefix = f"location-{index}-"
        spec = dict(stored.get(row.id.strip(), {}))
        for name in ("name", "address_1", "city", "postal_code"):
            spec[name] = getattr(row, name).strip() or None
        spec["country"] = row.country.strip().upper() or None
        for name in ("latitude", "longitude"):
            spec[name] = _number(
                out, prefix + name, getattr(row, name), _MESSAGES[name], gettext, float
            )
        locations.append(spec)
        rows.append(index)
    if not locations:
        _problem(out, "location-0-address_1", gettext(_MESSAGES["location"]))
    return locations, rows


def _languages(form: ListingForm) -> list[str]:
    typed = [c.strip() for c in form.languages_other.replace(";", ",").split(",") if c.strip()]
    return form.languages + typed


def _field_of(loc: tuple[Any, ...], form: ListingForm, rows: list[int]) -> str:
    """The input id of a `ServiceIn` error location."""
    if not loc:
        return "maximum_age"  # the model's one check across fields: the ages' order
    head = str(loc[0])
    if head == "languages":
        return "languages_other" if form.languages_other.strip() else "languages"
    if head == "phones":
        return "phone"
    if head == "locations" and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(rows):
        name = str(loc[2]) if len(loc) > 2 else "address_1"
        return f"location-{rows[loc[1]]}-{name if name in LOCATION_FIELDS else 'address_1'}"
    if head in ListingForm.model_fields:
        return head
    return ""


def _message(field: str, kind: str, gettext: Gettext) -> str:
    key = field.rsplit("-", 1)[-1] if field.startswith("location-") else field
    if field.startswith("location-") and key not in ("country", "latitude", "longitude"):
        key = ""
    if not field:
        return gettext("Check this answer")
    if key in _MESSAGES and not (key == "maximum_age" and kind == "value_error"):
        return gettext(_MESSAGES[key])
    if key == "maximum_age":
        return gettext(_MESSAGES["ages"])
    if kind in ("missing", "string_too_short"):
        return gettext("Enter this information")
    if kind == "string_too_long":
        return gettext("This is too long")
    if kind in ("literal_error", "enum"):
        return gettext("Choose one of the options")
    return gettext("Check this answer")


def parse_listing(
    form: ListingForm, base: ServiceIn | None, gettext: Gettext
) -> tuple[ServiceIn | None, Problems]:
    """The form over the stored listing (`base`; None for a new one) as `ServiceIn`, or the
    problems to show at the fields."""
    out: Problems = []
    data: dict[str, Any] = base.model_dump(mode="json") if base is not None else {}
    ages = {
        name: _number(out, name, getattr(form, name), _MESSAGES[name], gettext)
        for name in ("minimum_age", "maximum_age")
    }
    wait = _number(out, "wait_time_days", form.wait_time_days, _MESSAGES["wait_time_days"], gettext)
    locations, rows = _locations(form, data.get("locations", []), out, gettext)
    schedules = _schedules(form, out, gettext)
    other_phones = data.get("phones", [])[1:]
    data.update(
        name=form.name.strip(),
        description=form.description.strip() or None,
        status=form.status,
        visibility=form.visibility,
        categories=form.categories,
        languages=_languages(form),
        populations=form.populations,
        eligibility_description=form.eligibility_description.strip() or None,
        locations=locations,
        schedules=schedules,
        timezone=form.timezone.strip() or "UTC",
        email=form.email.strip() or None,
        phones=([{"number": form.phone.strip()}] if form.phone.strip() else []) + other_phones,
        capacity=form.capacity or None,
        wait_time_days=wait,
        capacity_note=form.capacity_note.strip() or None,
        intake_requirements=form.intake_requirements.strip() or None,
        accepts_electronic_referrals=form.accepts_electronic_referrals,
        **ages,
    )
    try:
        body = ServiceIn.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            field = _field_of(tuple(item["loc"]), form, rows)
            _problem(out, field, _message(field, item["type"], gettext))
        return None, out
    return (None, out) if out else (body, out)


class CapacityForm(BaseModel):
    """The quick "Update capacity" form of one listing, as typed."""

    capacity: str = ""
    wait_time_days: str = ""
    capacity_note: str = ""


def parse_capacity(
    form: CapacityForm, prefix: str, gettext: Gettext
) -> tuple[CapacityIn | None, Problems]:
    """The quick form as `CapacityIn`; problems at `<prefix>-<field>`."""
    out: Problems = []
    wait = _number(out, f"{prefix}-wait", form.wait_time_days, _MESSAGES["wait_time_days"], gettext)
    try:
        body = CapacityIn(
            capacity=form.capacity or None,
            wait_time_days=wait,
            capacity_note=form.capacity_note.strip() or None,
        )
    except ValidationError as error:
        names = {"capacity": "capacity", "wait_time_days": "wait", "capacity_note": "note"}
        for item in error.errors():
            name = names.get(str(item["loc"][0]) if item["loc"] else "", "capacity")
            message = _message("wait_time_days" if name == "wait" else "", item["type"], gettext)
            if name == "capacity":
                message = gettext("Choose one of the options")
            elif name == "note":
                message = gettext("Keep the note under 500 characters")
            _problem(out, f"{prefix}-{name}", message)
        return None, out
    return (None, out) if out else (body, out)
