"""The dashboard's filters (a GET form shared by the dashboard, its CSV and its drill-down
lists): side, period, counterpart organisation, case worker, kind. Parsed here into the
window and `stats.Narrowing` the figures take; bad dates become messages at their field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query

from gateway.web.i18n import N_
from gateway.web.shell import Staff, parse_uuid
from gateway.workflow import stats
from kernel.db import utcnow

__all__ = ["KINDS", "PERIODS", "Chosen", "Text", "choose"]

Text = Annotated[str, Query(max_length=100)]
#: The period presets: (value, label, days back; None: every referral ever sent).
PERIODS: tuple[tuple[str, str, int | None], ...] = (
    ("30", N_("Last 30 days"), 30),
    ("90", N_("Last 90 days"), 90),
    ("365", N_("Last 12 months"), 365),
    ("all", N_("Since the beginning"), None),
    ("custom", N_("Dates I choose below"), None),
)
KINDS = {"referral": N_("Referrals"), "handover": N_("Handovers")}
_FILTER_KEYS = ("side", "period", "since", "until", "counterpart", "worker", "kind")


@dataclass
class Chosen:
    """The filters as sent (to refill the form and build links) and as understood."""

    side: str = "received"
    period: str = "90"
    since: str = ""
    until: str = ""
    counterpart: str = ""
    worker: str = ""
    kind: str = ""
    since_at: dt.datetime | None = None
    until_at: dt.datetime | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def stats_side(self) -> stats.Side:
        return stats.Side(self.side)

    @property
    def narrowing(self) -> stats.Narrowing:
        return stats.Narrowing(
            counterpart=parse_uuid(self.counterpart) if self.counterpart else None,
            assignee=parse_uuid(self.worker) if self.worker not in ("", "none") else None,
            unassigned=self.worker == "none",
            kind=self.kind or None,
        )

    @property
    def windowed(self) -> bool:
        return self.since_at is not None or self.until_at is not None

    def values(self, *, window: bool = True) -> dict[str, str]:
        """The filters as query parameters (without the window: for figures of now)."""
        kept = {key: str(getattr(self, key)) for key in _FILTER_KEYS}
        if self.period != "custom":
            kept["since"] = kept["until"] = ""
        if not window:
            kept.update(period="all", since="", until="")
        return {k: v for k, v in kept.items() if v}

    def query(self, *, window: bool = True, **extra: Any) -> str:
        """`values()` plus `extra` (a figure's own narrowing), URL-encoded."""
        params = self.values(window=window)
        params.update({k: str(v) for k, v in extra.items() if v not in (None, "", False)})
        return urlencode(params)

    @property
    def window_words(self) -> tuple[str, str] | None:
        """The window's first and last day (ISO dates), if there is one."""
        if self.since_at is None or self.until_at is None:
            return None
        last = self.until_at - dt.timedelta(days=1)
        return self.since_at.date().isoformat(), last.date().isoformat()


def _date(value: str) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def choose(
    staff: Staff,
    *,
    side: str,
    period: str,
    since: str,
    until: str,
    counterpart: str,
    worker: str,
    kind: str,
) -> Chosen:
    """The filters of a request; unknown values fall back to the defaults, bad dates are
    errors at their field (`since`, `until`)."""
    c = Chosen(
        side=side if side in ("sent", "received") else "received",
        counterpart=counterpart if parse_uuid(counterpart) else "",
        worker=worker if worker == "none" or parse_uuid(worker) else "",
        kind=kind if kind in KINDS else "",
        since=since.strip(),
        until=until.strip(),
    )
    presets = {value: days for value, _label, days in PERIODS}
    c.period = "custom" if (c.since or c.until) and period in ("", "custom") else period
    if c.period not in presets:
        c.period = "90"
    today = _date(utcnow().date().isoformat())
    assert today is not None
    tomorrow = today + dt.timedelta(days=1)
    if c.period == "custom":
        _custom(staff, c, tomorrow)
    elif (days := presets[c.period]) is not None:
        c.since_at, c.until_at = today - dt.timedelta(days=days - 1), tomorrow
    return c


def _custom(staff: Staff, c: Chosen, tomorrow: dt.datetime) -> None:
    message = staff.gettext("Enter the date as year-month-day, for example 2026-03-01.")
    start = _date(c.since) if c.since else None
    end = _date(c.until) if c.until else None
    if c.since and start is None:
        c.errors.append({"field": "since", "message": message})
    if c.until and end is None:
        c.errors.append({"field": "until", "message": message})
    if not c.since and not c.until:
        c.errors.append(
            {"field": "since", "message": staff.gettext("Enter a start date, an end date or both.")}
        )
    if c.errors:
        return
    c.until_at = end + dt.timedelta(days=1) if end else tomorrow
    c.since_at = start if start else c.until_at - dt.timedelta(days=90)
    if c.since_at >= c.until_at:
        c.errors.append(
            {
                "field": "until",
                "message": staff.gettext("The end date must be on or after the start date."),
            }
        )
        c.since_at = c.until_at = None
