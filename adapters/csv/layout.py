"""The refhub CSV layout: its columns, in template order, with what each holds.

``person`` columns may be filled on every row; ``member`` columns only on family-member rows;
``case`` columns only on the client's row (they describe the whole case). Lists are written
with ``|`` between items; yes/no columns take ``yes`` or ``no``; dates are ``YYYY-MM-DD``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Literal

from adapters.errors import MalformedInput

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "REQUIRED",
    "Column",
    "header_key",
    "sniff_delimiter",
    "template",
]

Scope = Literal["person", "member", "case"]


@dataclass(frozen=True)
class Column:
    """One column of the layout."""

    name: str
    scope: Scope
    description: str


COLUMNS: tuple[Column, ...] = (
    Column("case_id", "person", "Your case code; rows with the same code are one family."),
    Column("role", "person", "client (exactly one row per case) or member."),
    Column("given_name", "person", "Given name(s)."),
    Column("family_name", "person", "Family name."),
    Column("birth_date", "person", "YYYY-MM-DD, YYYY-MM or YYYY (also dd/mm/yyyy, Excel)."),
    Column("gender", "person", "male, female, other or unknown."),
    Column("phone", "person", "Phone number, e.g. +961 70 123 456."),
    Column("relationship", "member", "Relation to the client: mother, son, wife, sibling..."),
    Column("caregiver", "member", "yes if this member is the client's caregiver."),
    Column("email", "case", "Client's email."),
    Column("unhcr_id", "case", "UNHCR individual number."),
    Column("national_id", "case", "National identity number."),
    Column("address_line", "case", "Street, block, shelter or tent number."),
    Column("city", "case", "Town, city or camp."),
    Column("district", "case", "District."),
    Column("region", "case", "Region, governorate or state."),
    Column("postal_code", "case", "Postal code."),
    Column("country", "case", "Country."),
    Column("preferred_language", "case", "BCP 47 code of the preferred language (ar, fa, prs)."),
    Column("other_languages", "case", "Other languages, e.g. ps|en."),
    Column("interpreter_needed", "case", "yes or no."),
    Column("contact_method", "case", "phone, sms, messaging-app, email, in-person, via-referrer."),
    Column("safe_to_contact", "case", "yes or no: is it safe to contact the client directly?"),
    Column("contact_instructions", "case", "When and how to contact safely."),
    Column("separation", "case", "For a minor: accompanied, separated or unaccompanied."),
    Column("caregiver_informed", "case", "For a minor: yes or no."),
    Column("caregiver_not_informed_reason", "case", "For a minor: why not."),
    Column("household_size", "case", "Number of people in the household."),
    Column("kind", "case", "referral (default) or handover."),
    Column("priority", "case", "24h, 72h or 2weeks."),
    Column("referral_date", "case", "Date of the referral."),
    Column("referred_by", "case", "Name of your agency."),
    Column("referred_by_ref", "case", "Your agency in the hub: Organization/<id>."),
    Column("referred_by_worker", "case", "Case worker's name."),
    Column("referred_by_position", "case", "Case worker's position."),
    Column("referred_by_phone", "case", "Case worker's phone."),
    Column("referred_by_email", "case", "Case worker's email."),
    Column("referred_to", "case", "Name of the receiving agency."),
    Column("referred_to_ref", "case", "Receiving agency in the hub: Organization/<id>."),
    Column("referred_to_service", "case", "Name of the service."),
    Column("referred_to_service_ref", "case", "Service in the hub: HealthcareService/<id>."),
    Column("delivery_channel", "case", "hub, in-person, phone, email, paper or other."),
    Column("services_requested", "case", "Domains of the services asked for: mhpss|education."),
    Column("reason", "case", "Reason for referral."),
    Column("do_not_contact_client", "case", "yes if the receiver must not contact the client."),
    Column("needs", "case", "Domains of the needs: shelter|food."),
    Column("risks", "case", "Risk domains, optionally with a level: gbv:high|safety."),
    Column("strengths", "case", "Strengths, separated by |."),
    Column("barriers", "case", "Barriers, separated by |."),
    Column("goals", "case", "Service-plan goals, separated by |."),
    Column("services_received", "case", "Domains of services already received: cash|food."),
    Column("consent_ref", "case", "The consent in the hub: Consent/<id>."),
    Column("summary", "case", "Free-text case summary."),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
SCOPES: dict[str, Scope] = {c.name: c.scope for c in COLUMNS}
REQUIRED = ("case_id", "role")


def template() -> str:
    """The header row users fill in (the content of ``adapters/csv/template.csv``)."""
    return ",".join(COLUMN_NAMES) + "\r\n"


def header_key(name: str) -> str:
    """A header cell as the layout names columns (`Case ID` -> `case_id`)."""
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def sniff_delimiter(text: str) -> str:
    """The delimiter (comma, semicolon or tab) under which the first row is a header."""
    first = text.split("\n", 1)[0]
    for delimiter in (",", ";", "\t"):
        header = next(csv.reader([first], delimiter=delimiter), [])
        if all(r in {header_key(h) for h in header} for r in REQUIRED):
            return delimiter
    raise MalformedInput(
        "the first row is not a refhub CSV header",
        location="row 1",
        expected="a header row naming at least case_id and role, separated by commas, "
        "semicolons or tabs (download the template)",
    )
