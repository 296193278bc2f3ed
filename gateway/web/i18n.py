"""Languages of the staff pages: gettext catalogs (Babel), one Jinja2 environment each.

Catalogs are `gateway/web/locale/<lang>/LC_MESSAGES/messages.po` (English is the source);
`pybabel extract -F gateway/web/babel.cfg` collects the strings of the templates and of
these modules. A page's language is the staff member's choice (the `refhub_lang` cookie,
set by the language menu), else the browser's `Accept-Language`, else English. Arabic
pages are laid out right-to-left.

Templates live beside the router of their area (`gateway/web/<area>/templates/`) and are
named `<area>/<file>.html`; shared ones (layout, macros, errors) in `gateway/web/templates`.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from pathlib import Path
from typing import Any

import segno
from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_decimal
from fastapi import Request
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup

from gateway.workflow.states import BUSINESS_STATUS, REASONS
from kernel.i18n import compiled_catalog

__all__ = [
    "AREAS",
    "BUSINESS_LABELS",
    "LANGUAGES",
    "LANGUAGE_COOKIE",
    "N_",
    "REASON_LABELS",
    "STATUS_LABELS",
    "STEP_LABELS",
    "babel_locale",
    "environment",
    "gettext_for",
    "language_of",
]

_HERE = Path(__file__).parent
LOCALE_DIR = _HERE / "locale"
LANGUAGE_COOKIE = "refhub_lang"
#: The areas of the staff web application, each a folder with `router.py` and `templates/`.
AREAS = (
    "directory",
    "clients",
    "compose",
    "referrals",
    "home",
    "supervision",
    "admin",
    "listings",
    "hub",
    "casework",
)

#: code -> (name in that language, text direction)
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "ltr"),
    "fr": ("Français", "ltr"),
    "ar": ("العربية", "rtl"),
}

#: The locale whose date and number formats a language's pages use: English pages write
#: day before month (3 Dec 2026) and a 24-hour clock, as most of the hub's users read them.
_FORMATS = {"en": "en_GB"}


def babel_locale(language: str) -> str:
    return _FORMATS.get(language, language)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    return message


STATUS_LABELS: dict[str, str] = {
    "draft": N_("Draft"),
    "requested": N_("New"),
    "accepted": N_("Accepted"),
    "rejected": N_("Declined"),
    "in-progress": N_("In progress"),
    "on-hold": N_("On hold"),
    "completed": N_("Completed"),
    "failed": N_("Could not be completed"),
    "cancelled": N_("Cancelled"),
    "entered-in-error": N_("Entered in error"),
}
BUSINESS_LABELS: dict[str, str] = {
    "2.0": N_("Received"),
    "3.0": N_("Accepted"),
    "4.0": N_("Declined"),
    "5.1.1": N_("Scheduled"),
    "5.1.2": N_("No-show"),
    "5.1.3": N_("Appointment cancelled"),
    "5.1.4": N_("Event completed (interim note)"),
    "5.2": N_("Cancellation requested"),
    "6.0": N_("Cancelled"),
    "7.0": N_("Completed"),
}
REASON_LABELS: dict[str, str] = {
    "no-capacity": N_("No capacity at present"),
    "not-eligible": N_("Client not eligible for the service"),
    "service-not-offered": N_("Service not offered for this need"),
    "client-unreachable": N_("Client could not be reached"),
    "client-declined": N_("Client declined the service"),
    "client-no-show": N_("Client did not attend"),
    "client-moved": N_("Client moved out of the service area"),
    "duplicate": N_("Duplicate referral"),
    "referred-elsewhere": N_("Referred to another provider"),
    "waiting-for-information": N_("Waiting for information"),
    "waiting-for-client": N_("Waiting for the client"),
    "consent-revoked": N_("The client's consent was revoked"),
    "safety-concern": N_("Safety concern"),
    "sent-in-error": N_("Sent in error"),
    "other": N_("Other (see text)"),
}
assert set(BUSINESS_LABELS) == set(BUSINESS_STATUS)  # every code has its translatable label
#: The business statuses the pages show beside a status: the steps it does not say itself.
#: 3.0, 4.0, 6.0 and 7.0 only repeat accepted, declined, cancelled and completed, and 3.0
#: stays while the service is in progress, where "In progress · Accepted" reads as stale.
STEP_LABELS = {
    code: label
    for code, label in BUSINESS_LABELS.items()
    if code not in {"3.0", "4.0", "6.0", "7.0"}
}
assert set(REASON_LABELS) == set(REASONS)


def language_of(request: Request) -> str:
    """The page language: the staff member's choice, else the browser's, else English."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def gettext_for(language: str) -> Any:
    """The `gettext` function of `language` (for messages built in Python)."""
    return compiled_catalog(LOCALE_DIR, language).gettext


def _loader() -> ChoiceLoader:
    areas = {area: FileSystemLoader(_HERE / area / "templates") for area in AREAS}
    return ChoiceLoader([FileSystemLoader(_HERE / "templates"), PrefixLoader(areas)])


@functools.cache
def environment(language: str) -> Environment:
    """The Jinja2 environment rendering staff pages in `language` (autoescaped)."""
    language = language if language in LANGUAGES else "en"
    env = Environment(
        loader=_loader(),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]
        compiled_catalog(LOCALE_DIR, language), newstyle=True
    )

    region = babel_locale(language)

    @pass_context
    def when(context: Context, value: dt.datetime | None) -> str:
        """A moment in the hub's display time zone, to the minute, with the zone's name."""
        if value is None:
            return ""
        zone = zoneinfo.ZoneInfo(context.get("timezone") or "UTC")
        local = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(zone)
        moment = str(get_datetime_format("medium", locale=region)).format(
            format_time(local, format="short", locale=region),
            format_date(local, format="medium", locale=region),
        )
        return f"{moment} {local.tzname() or zone.key}"

    def day(value: dt.date | dt.datetime | None) -> str:
        return "" if value is None else format_date(value, format="long", locale=region)

    def number(value: float | int | None, digits: int = 1) -> str:
        if value is None:
            return ""
        return format_decimal(round(value, digits), locale=region)

    def qr_svg(text: str, title: str) -> Markup:
        """`text` as a QR code, inline SVG (the pages' policy blocks data: images)."""
        svg = segno.make(text, error="m").svg_inline(
            scale=4, border=2, title=title, svgclass="qr", omitsize=True
        )
        return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - segno's output

    env.filters.update(when=when, day=day, number=number, qr_svg=qr_svg)
    env.globals.update(
        lang=language,
        dir=LANGUAGES[language][1],
        languages=LANGUAGES,
        status_labels=STATUS_LABELS,
        business_labels=STEP_LABELS,
        reason_labels=REASON_LABELS,
    )
    return env
