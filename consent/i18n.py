"""Languages of the client consent page: gettext catalogs (Babel) and Jinja2 templates.

Catalogs are `consent/locale/<lang>/LC_MESSAGES/messages.po`, compiled in memory with
Babel when first used; English is the source language. Arabic is right-to-left.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from jinja2 import Environment, FileSystemLoader, select_autoescape

from adapters import DataCategory
from kernel.i18n import compiled_catalog
from kernel.organisations import OrgType

__all__ = [
    "CATEGORY_LABELS",
    "LANGUAGES",
    "ORG_TYPE_LABELS",
    "PURPOSE_LABELS",
    "direction",
    "language_or_default",
    "render",
    "translations",
]

_HERE = Path(__file__).parent
LOCALE_DIR = _HERE / "locale"

#: code -> (name in that language, text direction)
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "ltr"),
    "fr": ("Français", "ltr"),
    "ar": ("العربية", "rtl"),
    "uk": ("Українська", "ltr"),
}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    return message


CATEGORY_LABELS: dict[str, str] = {
    DataCategory.IDENTITY.value: N_("Identity"),
    DataCategory.CONTACT.value: N_("Contact"),
    DataCategory.FAMILY.value: N_("Family"),
    DataCategory.NEEDS.value: N_("Needs and assessment"),
    DataCategory.HEALTH.value: N_("Health"),
    DataCategory.PROTECTION.value: N_("Protection and safety"),
    DataCategory.LEGAL_STATUS.value: N_("Legal status"),
    DataCategory.CASE_NOTES.value: N_("Case notes"),
    DataCategory.DOCUMENTS.value: N_("Documents"),
}
PURPOSE_LABELS: dict[str, str] = {
    "referral": N_("Referral"),
    "handover": N_("Handover"),
    "service-coordination": N_("Service coordination"),
    "follow-up": N_("Follow-up"),
}
METHOD_LABELS: dict[str, str] = {
    "written": N_("In writing"),
    "verbal": N_("Verbally, with a witness"),
    "electronic": N_("Electronically"),
}
GRANTOR_LABELS: dict[str, str] = {
    "self": N_("You"),
    "parent": N_("Your parent"),
    "guardian": N_("Your guardian"),
    "legal-representative": N_("Your legal representative"),
}


ORG_TYPE_LABELS: dict[str, str] = {
    "resettlement_ngo": N_("Resettlement organisation"),
    "municipality": N_("Municipality"),
    "community_sponsor": N_("Community sponsor"),
    "torture_survivor_service": N_("Service for survivors of torture"),
    "child_protection": N_("Child protection service"),
    "gbv_service": N_("Service for survivors of gender-based violence"),
    "disability_service": N_("Disability service"),
    "lgbtiq_service": N_("LGBTIQ+ service"),
    "older_people_service": N_("Service for older people"),
    "health": N_("Health service"),
    "housing": N_("Housing service"),
    "government": N_("Government office"),
    "hub_operator": N_("Hub operator"),
    "other": N_("Other organisation"),
}
assert set(ORG_TYPE_LABELS) == {t.value for t in OrgType}  # every type has its wording


def language_or_default(value: str | None, fallback: str = "en") -> str:
    return value if value in LANGUAGES else (fallback if fallback in LANGUAGES else "en")


def direction(language: str) -> str:
    return LANGUAGES[language_or_default(language)][1]


def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog for `language` (English: the source strings)."""
    return compiled_catalog(LOCALE_DIR, language)


@functools.cache
def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]

    def when(value: dt.datetime | None) -> str:
        if value is None:
            return ""
        return format_datetime(value, format="medium", locale=language, tzinfo=dt.UTC)

    def day(value: dt.datetime | None) -> str:
        return "" if value is None else format_date(value, format="long", locale=language)

    env.filters["when"] = when
    env.filters["day"] = day
    return env


def render(template: str, language: str, **context: Any) -> str:
    """Render a page template in `language` (with `lang`, `dir` and the labels set)."""
    language = language_or_default(language)
    return (
        _environment(language)
        .get_template(template)
        .render(
            lang=language,
            dir=direction(language),
            languages=LANGUAGES,
            categories=CATEGORY_LABELS,
            purposes=PURPOSE_LABELS,
            methods=METHOD_LABELS,
            grantors=GRANTOR_LABELS,
            org_types=ORG_TYPE_LABELS,
            **context,
        )
    )
