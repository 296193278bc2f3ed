"""Dates, times and numbers on the staff pages: day before month in English, a 24-hour
clock, times in the hub's display time zone labelled with the zone."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from gateway.web.i18n import environment
from kernel.settings import Settings

MOMENT = dt.datetime(2026, 7, 3, 15, 44, 9, tzinfo=dt.UTC)


def _render(language: str, source: str, **context: object) -> str:
    return environment(language).from_string(source).render(**context)


def test_english_pages_write_the_day_first_and_a_24_hour_clock() -> None:
    assert _render("en", "{{ v|when }}", v=MOMENT, timezone="UTC") == "3 Jul 2026, 15:44 UTC"
    assert _render("en", "{{ v|day }}", v=MOMENT.date()) == "3 July 2026"
    assert _render("fr", "{{ v|day }}", v=MOMENT.date()) == "3 juillet 2026"
    assert _render("fr", "{{ n|number }}", n=1234.5) == "1\u202f234,5"


def test_times_are_shown_in_the_display_time_zone_with_its_name() -> None:
    lisbon = _render("en", "{{ v|when }}", v=MOMENT, timezone="Europe/Lisbon")
    assert lisbon == "3 Jul 2026, 16:44 WEST"  # summer time
    naive = MOMENT.replace(tzinfo=None)  # stored as UTC without a zone (SQLite)
    assert _render("en", "{{ v|when }}", v=naive, timezone="Europe/Lisbon") == lisbon


def test_an_unknown_time_zone_is_refused_at_start_up() -> None:
    assert Settings(display_timezone="Europe/Lisbon").display_timezone == "Europe/Lisbon"
    with pytest.raises(ValidationError, match="IANA time zone"):
        Settings(display_timezone="Mars/Olympus")
