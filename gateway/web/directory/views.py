"""What the directory pages show of a listing, in words: capacity and wait, languages by
name, opening hours, addresses, the matching reasons; field errors as sentences.

Only wording: every verdict (visible or not, met or fell short) comes from the directory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel import Locale
from babel.core import UnknownLocaleError
from babel.dates import get_timezone_location
from babel.numbers import format_decimal

from directory.details import Details
from directory.matching import Reason
from directory.models import Capacity, ServiceStatus
from directory.search import Hit
from directory.vocabulary import CATEGORY_SYSTEM
from gateway.web.i18n import N_

__all__ = [
    "CAPACITY_LABELS",
    "POPULATION_LABELS",
    "Words",
    "field_message",
]

CAPACITY_LABELS: dict[str, str] = {
    Capacity.CAPACITY: N_("Has capacity"),
    Capacity.NO_CAPACITY: N_("No capacity at present"),
    Capacity.WAITLIST: N_("Waiting list"),
    Capacity.ASSESSMENT: N_("Needs an assessment first"),
}
STATUS_LABELS: dict[str, str] = {
    ServiceStatus.ACTIVE: N_("Open"),
    ServiceStatus.INACTIVE: N_("Not running at present"),
    ServiceStatus.DEFUNCT: N_("Closed for good"),
    ServiceStatus.TEMPORARILY_CLOSED: N_("Temporarily closed"),
}
#: The directory's populations (directory.vocabulary.POPULATIONS), translatable.
POPULATION_LABELS: dict[str, str] = {
    "survivors-of-violence": N_("Survivors of violence"),
    "survivors-of-torture": N_("Survivors of torture"),
    "women-and-girls-at-risk": N_("Women and girls at risk"),
    "children-at-risk": N_("Children at risk"),
    "unaccompanied-minors": N_("Unaccompanied or separated minors"),
    "people-with-disabilities": N_("People with disabilities"),
    "lgbtiq": N_("LGBTIQ+ people"),
    "older-people": N_("Older people"),
    "families-with-young-children": N_("Families with children under 5"),
}
#: Languages Babel has no name for.
_LANGUAGE_NAMES: dict[str, str] = {"prs": N_("Dari")}
_FIELD_MESSAGES: dict[str, str] = {
    "unknown-postcode": N_(
        "We do not know this postcode. Enter a postcode of a listed service's address or "
        "area, or a latitude and longitude such as 38.72,-9.14"
    ),
    "bad-point": N_(
        "Enter the latitude and longitude as two numbers with a comma between, such as 38.72,-9.14"
    ),
    "place": N_(
        "Enter a latitude between -90 and 90 and a longitude between -180 and 180, "
        "such as 38.72,-9.14"
    ),
    "radius": N_("Choose a distance from the list"),
    "population": N_("Choose a group from the list"),
    "language": N_("Choose a language from the list"),
    "capacity": N_("Choose capacity from the list"),
    "need": N_("Choose a need from the list"),
}


def _in_sentence(label: str) -> str:
    """A label inside a sentence: "Older people" -> "older people", "LGBTIQ+" kept."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def field_message(code: str) -> str:
    """The untranslated sentence for a form error code (`gettext` it)."""
    return _FIELD_MESSAGES.get(code, _FIELD_MESSAGES.get(code.split(":")[0], N_("Check this")))


class Words:
    """Wording in the page's language (`gettext` of the staff member, Babel's locale data)."""

    def __init__(self, language: str, gettext: Callable[[str], str]) -> None:
        self.language = language
        self.locale = Locale.parse(language)
        self._ = gettext

    def km(self, value: float) -> str:
        return str(format_decimal(round(value, 1), locale=self.language))

    def language_name(self, code: str) -> str:
        base = code.split("-")[0].lower()
        if base in _LANGUAGE_NAMES:
            return self._(_LANGUAGE_NAMES[base])
        try:
            name = Locale.parse(code.replace("-", "_")).get_display_name(self.locale)
        except (UnknownLocaleError, ValueError):
            name = self.locale.languages.get(base)
        return (name[:1].upper() + name[1:]) if name else code

    def languages(self, codes: list[str]) -> str:
        return ", ".join(sorted(self.language_name(c) for c in codes))

    def population(self, code: str) -> str:
        return self._(POPULATION_LABELS.get(code, code.replace("-", " ")))

    def country(self, code: str | None) -> str:
        return str(self.locale.territories.get(code, code)) if code else ""

    def capacity(self, capacity: str | None, wait_days: int | None) -> str:
        if capacity is None:
            return self._("Capacity not stated")
        text = self._(CAPACITY_LABELS.get(capacity, capacity))
        if capacity == Capacity.WAITLIST and wait_days is not None:
            text += " " + self._("(about %(days)s days)") % {"days": wait_days}
        return text

    def status(self, status: str) -> str:
        return self._(STATUS_LABELS.get(status, status))

    def referrals(self, accepts: bool) -> str:
        if accepts:
            return self._("Takes electronic referrals")
        return self._("No electronic referrals: contact the service directly")

    def days(self, byday: str) -> str:
        """`MO,TU,WE,TH,FR` as "Monday to Friday"; other sets listed."""
        order = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
        wide = self.locale.days["format"]["wide"]
        picked = [order.index(d) for d in byday.split(",") if d in order]
        if len(picked) > 2 and picked == list(range(picked[0], picked[-1] + 1)):
            return self._("%(first)s to %(last)s") % {
                "first": wide[picked[0]],
                "last": wide[picked[-1]],
            }
        return ", ".join(wide[i] for i in picked)

    def timezone(self, zone: str) -> str:
        try:
            return str(get_timezone_location(zone, locale=self.locale, return_city=True))
        except LookupError:
            return zone

    def reason(self, reason: Reason, hit: Hit, asked: dict[str, str], radius: float | None) -> str:
        """A matching reason as a sentence (the verdict is the directory's)."""
        s = hit.details.service
        _ = self._
        if reason.criterion == "need":
            template = _("Offers %(need)s") if reason.met else _("Does not offer %(need)s")
            return template % {"need": _in_sentence(asked.get("need", ""))}
        if reason.criterion == "language":
            template = (
                _("Works in %(language)s") if reason.met else _("Does not work in %(language)s")
            )
            return template % {"language": asked.get("language", "")}
        if reason.criterion == "distance":
            km = hit.distance_km
            if reason.met and km is not None and (radius is None or km <= radius):
                return _("%(km)s km away") % {"km": self.km(km)}
            if reason.met:
                return _("Serves the area this place is in")
            if km is None:
                return _("No site with a known location")
            return _("%(km)s km away, further than %(radius)s km") % {
                "km": self.km(km),
                "radius": self.km(radius or 0),
            }
        if reason.criterion == "population":
            template = (
                _("Specialised in %(group)s") if reason.met else _("Not specialised in %(group)s")
            )
            return template % {"group": _in_sentence(asked.get("population", ""))}
        if reason.criterion == "referrals":
            return self.referrals(reason.met)
        if reason.criterion == "capacity":
            return self.capacity(s.capacity, s.wait_time_days)
        return reason.detail

    def summary(self, hit: Hit) -> dict[str, Any]:
        """What a result row shows of a listing."""
        d, s = hit.details, hit.details.service
        return {
            "id": str(s.id),
            "name": s.name,
            "organisation": d.organization.name,
            "distance": (
                self._("%(km)s km away") % {"km": self.km(hit.distance_km)}
                if hit.distance_km is not None
                else ""
            ),
            "capacity": self.capacity(s.capacity, s.wait_time_days),
            "capacity_ok": s.capacity == Capacity.CAPACITY,
            "languages": self.languages(d.languages),
            "referrals": self.referrals(s.accepts_electronic_referrals),
            "accepts": s.accepts_electronic_referrals,
            "status": self.status(s.status) if s.status != ServiceStatus.ACTIVE else "",
        }


def address(words: Words, loc: Any) -> list[str]:
    """A location's address lines."""
    town = " ".join(part for part in (loc.postal_code, loc.city) if part)
    lines = [loc.address_1, town, loc.region or loc.state_province, words.country(loc.country)]
    return [line for line in lines if line]


def phones(entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {"number": str(p.get("number", "")), "about": str(p.get("description") or "")}
        for p in entries or []
        if p.get("number")
    ]


def page_of(words: Words, d: Details) -> dict[str, Any]:
    """Everything the service page shows, in words."""
    s = d.service
    _ = words._
    ages = ""
    if s.minimum_age is not None and s.maximum_age is not None:
        ages = _("Ages %(low)s to %(high)s") % {"low": s.minimum_age, "high": s.maximum_age}
    elif s.minimum_age is not None:
        ages = _("Aged %(low)s and over") % {"low": s.minimum_age}
    elif s.maximum_age is not None:
        ages = _("Aged up to %(high)s") % {"high": s.maximum_age}
    contacts = [
        {
            "name": str(c.get("name") or ""),
            "title": str(c.get("title") or ""),
            "email": str(c.get("email") or ""),
            "phones": phones(c.get("phones") or []),
        }
        for c in s.contacts or []
    ]
    return {
        **words.summary(Hit(d)),
        "description": s.description or "",
        "intake": s.intake_requirements or "",
        "application": s.application_process or "",
        "documents": [str(doc.get("document") or "") for doc in s.required_documents or []],
        "eligibility": s.eligibility_description or "",
        "fees": s.fees_description or "",
        "ages": ages,
        "populations": [words.population(p) for p in d.populations],
        "needs": [t.term.name for t in d.terms if t.taxonomy.uri == CATEGORY_SYSTEM],
        "hours": [
            {
                "days": words.days(h.byday),
                "opens": h.opens_at,
                "closes": h.closes_at,
                "note": h.description or "",
            }
            for h in d.schedules
        ],
        "timezone": words.timezone(s.timezone),
        "email": s.email or d.organization.email or "",
        "website": s.url or d.organization.website or "",
        "website_link": (s.url or d.organization.website or "").startswith(("https://", "http://")),
        "phones": phones(s.phones) or phones(d.organization.phones),
        "contacts": contacts,
        "locations": [
            {"name": loc.name or "", "lines": address(words, loc)} for _sal, loc in d.locations
        ],
        "areas": [a.name for a in d.areas if a.name],
        "wait_days": s.wait_time_days,
        "capacity_note": s.capacity_note or "",
        "alternate_name": s.alternate_name or "",
    }
