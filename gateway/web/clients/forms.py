"""Form parsing for the clients pages: what a person typed, into the API's schemas.

A form is kept as typed (strings) so it can be shown again with the input kept; it is
parsed into the same pydantic schemas the JSON API takes (`ClientCreate`, `ConsentCreate`),
and every problem becomes `{"field": input id, "message": text}` for the error summary.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from consent import service as consent_service
from consent.schemas import ClientCreate, ConsentCreate
from kernel.db import utcnow
from kernel.errors import RefhubError

__all__ = [
    "IDENTIFIER_ROWS",
    "ClientForm",
    "ConsentForm",
    "Problems",
    "attempt",
    "parse_client",
    "parse_consent",
    "parse_day",
    "problem_field",
]

Problems = list[dict[str, str]]
Gettext = Callable[[str], str]
#: Reference rows on the registration form (the API takes up to 20).
IDENTIFIER_ROWS = 2
DEFAULT_SYSTEM = "case-number"


@contextmanager
def attempt(session: Session) -> Iterator[None]:
    """Run a service call as the API's transaction boundary would, inside the page's one:
    if it is refused, only what the error asks to keep (its audited refusal) stays."""
    savepoint = session.begin_nested()
    try:
        yield
    except RefhubError as error:
        if error.keeps_writes:
            savepoint.commit()
        else:
            savepoint.rollback()
        raise
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()


def parse_day(text: str) -> dt.date | None:
    """A date as a browser's date field sends it (2027-03-03), or as typed (3/3/2027).

    Raises:
        ValueError: not a real date.
    """
    text = text.strip()
    if not text:
        return None
    typed = re.fullmatch(r"(\d{1,2})[./ -](\d{1,2})[./ -](\d{4})", text)
    if typed:
        day, month, year = (int(x) for x in typed.groups())
        return dt.date(year, month, day)
    return dt.date.fromisoformat(text)


class ClientForm(BaseModel):
    """The registration form as typed."""

    name: str = ""
    birth_date: str = ""
    preferred_language: str = "en"
    contact: str = ""
    identifiers: list[tuple[str, str]] = []

    @classmethod
    def empty(cls) -> ClientForm:
        return cls(identifiers=[(DEFAULT_SYSTEM, "")] + [("", "")] * (IDENTIFIER_ROWS - 1))


def _pydantic_problems(
    error: ValidationError,
    field_of: Callable[[tuple[Any, ...]], str],
    gettext: Gettext,
    messages: dict[str, str] | None = None,
) -> Problems:
    out: Problems = []
    for item in error.errors():
        field = field_of(tuple(item["loc"]))
        kind = item["type"]
        if messages and field in messages:
            message = messages[field]
        elif kind in ("missing", "string_too_short"):
            message = gettext("Enter this information")
        elif kind == "string_too_long":
            message = gettext("This is too long")
        elif kind in ("literal_error", "enum"):
            message = gettext("Choose one of the options")
        else:
            message = gettext("Check this answer")
        if all(p["field"] != field for p in out):
            out.append({"field": field, "message": message})
    return out


def _client_field(loc: tuple[Any, ...]) -> str:
    if loc[:1] == ("identity",) and len(loc) > 1:
        return str(loc[1])
    if loc[:1] == ("identifiers",) and len(loc) > 2:
        return f"identifier-{loc[1]}-{'system' if loc[2] == 'system' else 'value'}"
    return "name"


def parse_client(form: ClientForm, gettext: Gettext) -> tuple[ClientCreate | None, Problems]:
    """The registration as `ClientCreate`, or the problems to show at the fields."""
    problems: Problems = []
    birth: str | None = None
    try:
        day = parse_day(form.birth_date)
        birth = day.isoformat() if day else None
        if day is not None and day > dt.date.today():
            problems.append(
                {"field": "birth_date", "message": gettext("The date of birth must be in the past")}
            )
    except ValueError:
        problems.append(
            {
                "field": "birth_date",
                "message": gettext("Enter the date of birth as a date, for example 2/4/1988"),
            }
        )
    identifiers = []
    for index, (system, value) in enumerate(form.identifiers):
        if not value.strip():
            continue
        if not system.strip():
            problems.append(
                {
                    "field": f"identifier-{index}-system",
                    "message": gettext("Say what kind of reference this is"),
                }
            )
        identifiers.append({"system": system.strip(), "value": value.strip()})
    data = {
        "identity": {
            "name": form.name.strip(),
            "birth_date": birth,
            "preferred_language": form.preferred_language,
            "contact": form.contact.strip() or None,
        },
        "identifiers": identifiers,
    }
    try:
        parsed = ClientCreate.model_validate(data)
    except ValidationError as error:
        return None, problems + _pydantic_problems(error, _client_field, gettext)
    return (None if problems else parsed), problems


class ConsentForm(BaseModel):
    """The consent form as typed (the check page sends it back in hidden fields)."""

    recipient: str = ""
    purposes: list[str] = []
    categories: list[str] = []
    period_end: str = ""
    grantor: str = ""
    method: str = ""
    witness: str = ""
    language: str = "en"


#: The consent rule broken (`consent.rules` codes) -> the form field it concerns.
_RULE_FIELDS = {
    "grantor-missing": "grantor",
    "grantor-relationship-missing": "grantor",
    "grantor-relationship": "grantor",
    "witness-missing": "witness",
    "period-order": "period_end",
    "provision-period": "period_end",
    "provision-missing": "recipient",
    "recipient-invalid": "recipient",
    "recipient-missing": "recipient",
    "purpose-missing": "purposes",
    "category-missing": "categories",
}


def _rule_messages(gettext: Gettext) -> dict[str, str]:
    return {
        "grantor": gettext("Say who gave consent"),
        "witness": gettext("A verbal consent needs a witness: enter their name"),
        "period_end": gettext("The end date must be after today"),
        "recipient": gettext("Choose who may receive the information"),
        "purposes": gettext("Choose at least one purpose"),
        "categories": gettext("Choose at least one kind of information"),
    }


def problem_field(reason: str | None, detail: str, gettext: Gettext) -> dict[str, str]:
    """A consent refusal (its rule code and message) as a problem at the field concerned."""
    field = _RULE_FIELDS.get(reason or "")
    if field is None:
        return {"field": "", "message": detail}
    return {"field": field, "message": _rule_messages(gettext)[field]}


def _recipient(value: str) -> dict[str, str] | None:
    kind, _, code = value.partition(":")
    if kind == "org":
        try:
            return {"organisation_id": str(uuid.UUID(code))}
        except ValueError:
            return None
    if kind == "type" and code:
        return {"organisation_type": code}
    return None


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


def parse_consent(
    form: ConsentForm, client_id: uuid.UUID, gettext: Gettext
) -> tuple[ConsentCreate | None, Problems]:
    """The consent as `ConsentCreate` (one permit: this recipient may receive these
    categories for these purposes), or the problems to show at the fields. Asks the
    consent rules (`consent.service.draft_problem`) too, so the check page only shows a
    consent that can be saved."""
    problems: Problems = []
    end: dt.datetime | None = None
    try:
        day = parse_day(form.period_end)
        end = _end_of(day) if day else None
    except ValueError:
        problems.append(
            {
                "field": "period_end",
                "message": gettext("Enter the end date as a date, for example 3/3/2027"),
            }
        )
    recipient = _recipient(form.recipient)
    data = {
        "grantor": {"relationship": form.grantor or None},
        "method": form.method or None,
        "witness": form.witness.strip() or None,
        "period_end": end,
        "language": form.language,
        "provisions": [
            {
                "kind": "permit",
                "recipients": [recipient] if recipient else [],
                "purposes": form.purposes,
                "categories": form.categories,
            }
        ],
    }
    try:
        draft = ConsentCreate.model_validate(data)
    except ValidationError as error:
        rules = _rule_messages(gettext)
        messages = {k: rules[k] for k in ("grantor", "recipient", "purposes", "categories")} | {
            "method": gettext("Say how consent was given"),
            "language": gettext("Choose the language the consent was explained in"),
        }
        return None, problems + _pydantic_problems(error, _consent_field, gettext, messages)
    if problems:
        return None, problems
    broken = consent_service.draft_problem(draft, client_id=client_id, now=utcnow())
    if broken is not None:
        return None, [problem_field(broken[0], broken[1], gettext)]
    return draft, []


def _consent_field(loc: tuple[Any, ...]) -> str:
    if loc[:1] == ("provisions",) and len(loc) > 2:
        name = str(loc[2])
        return {"recipients": "recipient"}.get(name, name)
    if loc[:1] == ("grantor",):
        return "grantor"
    return str(loc[0]) if loc else ""
