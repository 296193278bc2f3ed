"""Reading the fields of one imported HSDS object, failing with the field's dotted name, and
the HSDS objects refhub keeps as JSON on a service (contacts with their phones, cost
options), checked field by field (no database access)."""

from __future__ import annotations

import functools
import uuid
from typing import Any

__all__ = ["BadRecord", "Fields", "contacts", "cost_options", "strip"]


@functools.lru_cache(maxsize=4096)
def _uuid(text: str) -> uuid.UUID:
    """A UUID from its text; documents repeat many (organizations, taxonomies, terms)."""
    return uuid.UUID(text)


class BadRecord(Exception):
    """The record cannot be imported; `reason` names the field."""

    def __init__(self, record: str, reason: str) -> None:
        super().__init__(f"{record}: {reason}")
        self.record = record
        self.reason = reason


class Fields:
    """Reads one object's fields, failing with the field's dotted name."""

    def __init__(self, doc: dict[str, Any], label: str, prefix: str = "") -> None:
        self.doc, self.label, self.prefix = doc, label, prefix

    def fail(self, key: str, problem: str) -> BadRecord:
        return BadRecord(self.label, f"{self.prefix}{key}: {problem}")

    def ident(self, key: str) -> uuid.UUID:
        found = self.maybe_ident(key)
        if found is None:
            raise self.fail(key, "missing")
        return found

    def maybe_ident(self, key: str) -> uuid.UUID | None:
        value = self.doc.get(key)
        if value in (None, ""):
            return None
        try:
            return _uuid(str(value))
        except ValueError:
            raise self.fail(key, f"{value!r} is not a UUID") from None

    def text(self, key: str, limit: int, *, required: bool = False) -> str | None:
        value = self.doc.get(key)
        if type(value) is str and value:  # the common case, checked first
            text = value.strip()
            if len(text) > limit:
                raise self.fail(key, f"longer than {limit} characters")
            return text
        if value in (None, ""):
            if required:
                raise self.fail(key, "missing")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.fail(key, "must be text")
        text = str(value).strip()
        if len(text) > limit:
            raise self.fail(key, f"longer than {limit} characters")
        return text

    def integer(self, key: str, low: int, high: int) -> int | None:
        value = self.doc.get(key)
        if value in (None, ""):
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise self.fail(key, f"{value!r} is not a whole number")
        if not low <= int(value) <= high:
            raise self.fail(key, f"must be between {low} and {high}")
        return int(value)

    def items(self, key: str) -> list[dict[str, Any]]:
        value = self.doc.get(key) or []
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        return [item for item in value if isinstance(item, dict)]


def strip(items: list[dict[str, Any]], *links: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k not in links} for item in items]


#: What refhub checks of the HSDS objects it keeps as JSON on the service (contacts with
#: their phones, cost options): field -> "id" (a UUID), "number", or the longest text.
_PHONE: dict[str, str | int] = {
    "location_id": "id",
    "service_id": "id",
    "organization_id": "id",
    "service_at_location_id": "id",
    "number": 100,
    "extension": "number",
    "type": 100,
    "description": 20000,
}
_CONTACT: dict[str, str | int] = {
    "organization_id": "id",
    "service_at_location_id": "id",
    "location_id": "id",
    "name": 250,
    "title": 250,
    "department": 250,
    "email": 254,
}
_COST_OPTION: dict[str, str | int] = {
    "valid_from": 30,
    "valid_to": 30,
    "option": 500,
    "currency": 10,
    "amount": "number",
    "amount_description": 500,
}


def _object(
    f: Fields, shape: dict[str, str | int], *links: str, required: str | None = None
) -> dict[str, Any]:
    """One HSDS object as kept: its id (and the `required` field) and the fields in `shape`
    checked (missing or of a wrong type fails the record, naming the field), empty ones left
    out, the `links` to its owner dropped (the export writes them again) and the rest
    (attributes, metadata, ...) kept as given."""
    out = {k: v for k, v in f.doc.items() if k not in links and v not in (None, "")}
    out["id"] = str(f.ident("id"))
    if required is not None and required not in out:
        raise f.fail(required, "missing")
    for key, kind in shape.items():
        if key not in out:
            continue
        if isinstance(kind, int):
            out[key] = f.text(key, kind)
        elif kind == "id":
            out[key] = str(f.ident(key))
        elif isinstance(out[key], bool) or not isinstance(out[key], int | float):
            raise f.fail(key, f"{out[key]!r} is not a number")
    return out


def contacts(f: Fields) -> list[dict[str, Any]]:
    """The service's contacts, each with its phones (HSDS `contact.phones`)."""
    contacts = []
    for item in f.items("contacts"):
        cf = Fields(item, f.label, "contacts.")
        contact = _object(cf, _CONTACT, "service_id")
        contact["phones"] = [
            _object(
                Fields(phone, f.label, "contacts.phones."), _PHONE, "contact_id", required="number"
            )
            for phone in cf.items("phones")
        ]
        contacts.append(contact)
    return contacts


def cost_options(f: Fields) -> list[dict[str, Any]]:
    return [
        _object(Fields(item, f.label, "cost_options."), _COST_OPTION, "service_id")
        for item in f.items("cost_options")
    ]
