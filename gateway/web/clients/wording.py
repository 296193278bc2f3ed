"""A consent in plain words: "Northside may send Harbour your identity and needs, for
referrals, until 3 March 2027" — what a case worker reads back to the client.

Built in Python (not in a template) because the sentence depends on the language's list
and date formats; every piece goes through the page's gettext.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_date
from babel.lists import format_list

from consent.models import ConsentStatus, ProvisionKind, RevokedVia
from gateway.web.clients.labels import (
    CATEGORY_PHRASES,
    GRANTOR_LABELS,
    LANGUAGE_LABELS,
    METHOD_LABELS,
    ORG_TYPE_LABELS,
    PURPOSE_PHRASES,
)
from gateway.web.i18n import babel_locale

__all__ = ["ConsentView", "Words", "consent_view", "recipient_names"]

Gettext = Callable[[str], str]


def _lower_first(text: str) -> str:
    """ "Needs and assessment" inside a sentence; "LGBTIQ+ service" stays as it is."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


@dataclass(frozen=True)
class Words:
    """The wording helpers of one page language."""

    gettext: Gettext
    language: str

    def listed(self, items: Sequence[str]) -> str:
        return format_list(list(items), style="standard", locale=self.language) if items else ""

    def day(self, value: dt.date | dt.datetime) -> str:
        return format_date(value, format="long", locale=babel_locale(self.language))

    def categories(self, codes: Iterable[str]) -> str:
        return self.listed([self.gettext(CATEGORY_PHRASES.get(c, c)) for c in codes])

    def purposes(self, codes: Iterable[str]) -> str:
        return self.listed([self.gettext(PURPOSE_PHRASES.get(c, c)) for c in codes])

    def org_type(self, code: str) -> str:
        label = _lower_first(self.gettext(ORG_TYPE_LABELS.get(code, code)))
        return self.gettext("any %(type)s") % {"type": label}

    def recipients(self, names: Sequence[str]) -> str:
        return self.listed(names)

    def permit(
        self,
        *,
        sender: str,
        recipients: Sequence[str],
        categories: Iterable[str],
        purposes: Iterable[str],
        until: dt.date | dt.datetime | None,
    ) -> str:
        values = {
            "sender": sender,
            "recipient": self.recipients(recipients),
            "categories": self.categories(categories),
            "purposes": self.purposes(purposes),
        }
        if until is None:
            return (
                self.gettext(
                    "%(sender)s may send %(recipient)s your %(categories)s, for %(purposes)s, "
                    "until you withdraw your consent."
                )
                % values
            )
        return self.gettext(
            "%(sender)s may send %(recipient)s your %(categories)s, for %(purposes)s, "
            "until %(until)s."
        ) % (values | {"until": self.day(until)})

    def deny(self, *, recipients: Sequence[str], categories: Sequence[str]) -> str:
        if not categories:
            return self.gettext("Nothing about you is sent to %(recipient)s.") % {
                "recipient": self.recipients(recipients)
            }
        values = {"categories": self.categories(categories)}
        if not recipients:
            return self.gettext("Never sent to anyone: your %(categories)s.") % values
        return self.gettext("Never sent to %(recipient)s: your %(categories)s.") % (
            values | {"recipient": self.recipients(recipients)}
        )


@dataclass
class ConsentView:
    """One consent (its current version) as the client's record shows it."""

    series_id: uuid.UUID
    tag: str
    status: str
    sentences: list[str]
    given_by: str
    method: str
    witness: str | None
    language: str
    recorded_by: str
    recorded_at: dt.datetime
    in_force: bool
    details: dict[str, Any] = field(default_factory=dict)


def _status(record: Any, now: dt.datetime, gettext: Gettext) -> tuple[str, str, bool]:
    """(tag class, word, in force?) of a consent's current version."""
    if record.status != ConsentStatus.ACTIVE.value:
        if record.revoked_via == RevokedVia.EXPIRY.value:
            return "completed", gettext("Expired"), False
        if record.revoked_via == RevokedVia.ERASURE.value:
            return "revoked", gettext("Ended (data erased)"), False
        return "revoked", gettext("Withdrawn"), False
    if record.period_end is not None and record.period_end <= now:
        return "completed", gettext("Expired"), False
    if record.period_start > now:
        return "warn", gettext("Not yet in force"), False
    return "active", gettext("In force"), True


def recipient_names(
    words: Words, recipients: Iterable[Any], names: dict[uuid.UUID, str]
) -> list[str]:
    out = []
    for r in recipients:
        if r.organisation_id is not None:
            out.append(names.get(r.organisation_id) or words.gettext("an organisation"))
        else:
            out.append(words.org_type(str(r.organisation_type)))
    return out


def consent_view(
    words: Words,
    record: Any,
    provisions: list[tuple[Any, list[Any]]],
    names: dict[uuid.UUID, str],
    now: dt.datetime,
) -> ConsentView:
    """A consent version and its provisions, in words."""
    gettext = words.gettext
    sender = names.get(record.recorded_by_org_id) or gettext("The organisation")
    sentences = []
    for provision, recipients in provisions:
        shown = recipient_names(words, recipients, names)
        if provision.kind == ProvisionKind.DENY.value:
            sentences.append(words.deny(recipients=shown, categories=provision.categories.split()))
            continue
        sentences.append(
            words.permit(
                sender=sender,
                recipients=shown,
                categories=provision.categories.split(),
                purposes=provision.purposes.split(),
                until=provision.period_end or record.period_end,
            )
        )
    tag, status, in_force = _status(record, now, gettext)
    return ConsentView(
        series_id=record.series_id,
        tag=tag,
        status=status,
        sentences=sentences,
        given_by=gettext(
            GRANTOR_LABELS.get(record.grantor_relationship, record.grantor_relationship)
        ),
        method=gettext(METHOD_LABELS.get(record.method, record.method)),
        witness=record.witness,
        language=gettext(LANGUAGE_LABELS.get(record.language, record.language)),
        recorded_by=sender,
        recorded_at=record.recorded_at,
        in_force=in_force,
    )
