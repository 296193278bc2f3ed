"""One HSDS 3.0 document checked and turned into directory rows (no database access).

A value the directory cannot store makes the record fail with the field's name
(`BadRecord`); an optional part it cannot use (coordinates out of range, an extent that is
not a GeoJSON polygon, a schedule without hours) is left out with a warning.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from directory.geometry import bounding_box
from directory.hsds import POPULATION_TAXONOMY_ID
from directory.models import Capacity, ServiceStatus, Visibility
from directory.vocabulary import POPULATION_SYSTEM, POPULATIONS

__all__ = ["BadRecord", "Record", "parse_document"]

_LANG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(:[0-5]\d(\.\d+)?)?")
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_STATUSES = [s.value for s in ServiceStatus]


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


@dataclass
class Record:
    """A checked document as directory rows (dicts of column values)."""

    id: uuid.UUID
    label: str
    organization_id: uuid.UUID
    org: dict[str, Any] | None
    service: dict[str, Any] | None
    snapshot: dict[str, Any] = field(default_factory=dict)
    locations: list[dict[str, Any]] = field(default_factory=list)
    service_at_locations: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    service_areas: list[dict[str, Any]] = field(default_factory=list)
    terms: list[dict[str, Any]] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    populations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Fields:
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


def _strip(items: list[dict[str, Any]], *links: str) -> list[dict[str, Any]]:
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
    f: _Fields, shape: dict[str, str | int], *links: str, required: str | None = None
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


def _contacts(f: _Fields) -> list[dict[str, Any]]:
    """The service's contacts, each with its phones (HSDS `contact.phones`)."""
    contacts = []
    for item in f.items("contacts"):
        cf = _Fields(item, f.label, "contacts.")
        contact = _object(cf, _CONTACT, "service_id")
        contact["phones"] = [
            _object(
                _Fields(phone, f.label, "contacts.phones."), _PHONE, "contact_id", required="number"
            )
            for phone in cf.items("phones")
        ]
        contacts.append(contact)
    return contacts


def _cost_options(f: _Fields) -> list[dict[str, Any]]:
    return [
        _object(_Fields(item, f.label, "cost_options."), _COST_OPTION, "service_id")
        for item in f.items("cost_options")
    ]


def _organization(doc: dict[str, Any], label: str) -> dict[str, Any]:
    f = _Fields(doc, label, "organization.")
    oid = f.ident("id")
    identifiers = f.items("organization_identifiers")
    name = f.text("name", 250, required=True)
    return {
        "id": oid,
        "name": name,
        "alternate_name": f.text("alternate_name", 250),
        "description": f.text("description", 20000) or "",
        "email": f.text("email", 254),
        "website": f.text("website", 500),
        "identifier": str(identifiers[0].get("identifier", ""))[:100] or None
        if identifiers
        else None,
        "identifier_type": str(identifiers[0].get("identifier_type", ""))[:100] or None
        if identifiers
        else None,
        "phones": _strip(f.items("phones"), "organization_id"),
    }


def _coordinate(record: Record, loc_id: uuid.UUID, value: Any, limit: float) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and -limit <= value <= limit:
        return float(value)
    record.warnings.append(f"location {loc_id}: coordinate {value!r} out of range, left out")
    return None


def _location(record: Record, sal: dict[str, Any], f: _Fields) -> None:
    sal_id = f.ident("id")
    loc = sal.get("location")
    if not isinstance(loc, dict):
        record.warnings.append(f"service_at_location {sal_id}: no nested location, left out")
        return
    lf = _Fields(loc, record.label, "location.")
    loc_id = lf.ident("id")
    addresses = sorted(lf.items("addresses"), key=lambda a: a.get("address_type") != "physical")
    address = _Fields(addresses[0], record.label, "location.addresses.") if addresses else None
    country = address.text("country", 20) if address else None
    if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
        record.warnings.append(f"location {loc_id}: country {country!r} is not ISO 3166-1 alpha-2")
        country = None
    kind = loc.get("location_type")
    record.locations.append(
        {
            "id": loc_id,
            "_organization_id": lf.maybe_ident("organization_id"),
            "name": lf.text("name", 250),
            "description": lf.text("description", 20000),
            "location_type": kind if kind in ("physical", "postal", "virtual") else "physical",
            "address_1": address.text("address_1", 250) if address else None,
            "city": address.text("city", 120) if address else None,
            "region": address.text("region", 120) if address else None,
            "state_province": address.text("state_province", 120) if address else None,
            "postal_code": address.text("postal_code", 20) if address else None,
            "country": country,
            "latitude": _coordinate(record, loc_id, loc.get("latitude"), 90),
            "longitude": _coordinate(record, loc_id, loc.get("longitude"), 180),
            "accessibility": _strip(lf.items("accessibility"), "location_id"),
            "phones": _strip(lf.items("phones"), "location_id"),
        }
    )
    record.service_at_locations.append(
        {"id": sal_id, "location_id": loc_id, "description": f.text("description", 20000)}
    )


def _schedule(record: Record, f: _Fields) -> None:
    sid = f.ident("id")
    opens, closes = (_TIME.match(str(f.doc.get(k) or "")) for k in ("opens_at", "closes_at"))
    days = [d.strip().upper() for d in str(f.doc.get("byday") or "").split(",") if d.strip()]
    if f.doc.get("freq") not in (None, "", "WEEKLY") or not days or not set(days) <= set(_DAYS):
        record.warnings.append(f"schedule {sid}: only weekly byday schedules are kept")
        return
    if opens is None or closes is None or closes.group(0)[:5] <= opens.group(0)[:5]:
        record.warnings.append(f"schedule {sid}: needs opens_at before closes_at (same day)")
        return
    record.schedules.append(
        {
            "id": sid,
            "byday": ",".join(days),
            "opens_at": opens.group(0)[:5],
            "closes_at": closes.group(0)[:5],
            "description": f.text("description", 500),
        }
    )


def _area(record: Record, f: _Fields) -> None:
    aid = f.ident("id")
    extent: Any = f.doc.get("extent")
    if isinstance(extent, str):
        try:
            extent = json.loads(extent)
        except json.JSONDecodeError:
            extent = None
    polygon = (
        isinstance(extent, dict)
        and extent.get("type") in ("Polygon", "MultiPolygon")
        and isinstance(extent.get("coordinates"), list)
        and bool(extent["coordinates"])
    )
    if f.doc.get("extent") and not polygon:
        record.warnings.append(f"service_area {aid}: extent is not a GeoJSON polygon, left out")
    box = bounding_box(extent) if polygon else (None, None, None, None)
    record.service_areas.append(
        {
            "id": aid,
            "name": f.text("name", 250),
            "description": f.text("description", 20000),
            "extent": extent if polygon else None,
            "min_lat": box[0],
            "max_lat": box[1],
            "min_lon": box[2],
            "max_lon": box[3],
        }
    )


def _term(record: Record, attribute: dict[str, Any]) -> None:
    term = attribute.get("taxonomy_term")
    if not isinstance(term, dict):
        return
    tf = _Fields(term, record.label, "attributes.taxonomy_term.")
    term_id = tf.ident("id")
    code = tf.text("code", 100) or str(term_id)
    term_uri = tf.text("term_uri", 500)
    detail = term.get("taxonomy_detail")
    detail = detail if isinstance(detail, dict) else {}
    df = _Fields(detail, record.label, "attributes.taxonomy_term.taxonomy_detail.")
    uri = df.text("uri", 500)
    if uri is None and term_uri and term_uri.endswith("#" + code):
        uri = term_uri[: -len(code) - 1]
    taxonomy_id = df.maybe_ident("id") or tf.maybe_ident("taxonomy_id")
    if uri == POPULATION_SYSTEM or taxonomy_id == POPULATION_TAXONOMY_ID:
        if code in POPULATIONS:
            record.populations.append(code)
        else:
            record.warnings.append(f"population {code!r} is not one refhub knows, left out")
        return
    name = tf.text("taxonomy", 200)
    record.terms.append(
        {
            "id": term_id,
            "code": code,
            "name": tf.text("name", 200) or code,
            "description": tf.text("description", 20000) or "",
            "parent_id": tf.maybe_ident("parent_id"),
            "term_uri": term_uri,
            "taxonomy": {
                "id": taxonomy_id or uuid.uuid5(uuid.NAMESPACE_URL, f"hsds:{uri or name}"),
                "name": df.text("name", 200) or name or uri or "imported taxonomy",
                "description": df.text("description", 20000) or "",
                "uri": uri,
                "version": df.text("version", 50),
            },
        }
    )


def _network(f: _Fields, service: dict[str, Any], record: Record) -> None:
    """refhub's own extension (`refhub`, written by exports for network members)."""
    ext = f.doc.get("refhub")
    if not isinstance(ext, dict):
        return
    x = _Fields(ext, record.label, "refhub.")
    visibility = ext.get("visibility", Visibility.PUBLIC.value)
    if visibility not in {v.value for v in Visibility}:
        raise x.fail("visibility", f"{visibility!r} is not public or network")
    capacity = ext.get("capacity")
    if capacity is not None and capacity not in {c.value for c in Capacity}:
        raise x.fail("capacity", f"{capacity!r} is not a capacity code")
    zone = ext.get("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(str(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise x.fail("timezone", f"unknown IANA time zone {zone!r}") from None
    service.update(
        visibility=visibility,
        capacity=capacity,
        capacity_note=x.text("capacity_note", 500),
        wait_time_days=x.integer("wait_time_days", 0, 3650),
        intake_requirements=x.text("intake_requirements", 20000),
        accepts_electronic_referrals=ext.get("accepts_electronic_referrals") is True,
        timezone=str(zone),
    )
    if x.text("program", 200):
        service["program"] = x.text("program", 200)
    record.populations += [p for p in ext.get("populations", []) if p in POPULATIONS]


def parse_document(doc: Any, index: int) -> Record:
    """Check one HSDS service (or organization-only) document.

    Raises:
        BadRecord: naming the record (its id, or its position) and the field.
    """
    label = f"record #{index + 1}"
    if not isinstance(doc, dict):
        raise BadRecord(label, "not a JSON object")
    if doc.get("id") not in (None, ""):
        label = ("organization " if doc.get("_organization_only") else "service ") + str(doc["id"])
    f = _Fields(doc, label)
    rid = f.ident("id")
    if doc.get("_organization_only"):
        alone = _organization({k: v for k, v in doc.items() if k != "_organization_only"}, label)
        return Record(id=rid, label=label, organization_id=rid, org=alone, service=None)
    nested = doc.get("organization")
    org = _organization(nested, label) if isinstance(nested, dict) else None
    org_id = org["id"] if org is not None else f.ident("organization_id")
    status = doc.get("status")
    if status not in _STATUSES:
        raise f.fail("status", f"{status!r} is not one of {', '.join(_STATUSES)}")
    minimum, maximum = f.integer("minimum_age", 0, 150), f.integer("maximum_age", 0, 150)
    if minimum is not None and maximum is not None and minimum > maximum:
        raise f.fail("minimum_age", "is above maximum_age")
    program = doc.get("program")
    name = f.text("name", 250, required=True)
    alternate, description = f.text("alternate_name", 250), f.text("description", 20000)
    service: dict[str, Any] = {
        "name": name,
        "alternate_name": alternate,
        "description": description,
        "url": f.text("url", 500),
        "email": f.text("email", 254),
        "status": status,
        "application_process": f.text("application_process", 20000),
        "eligibility_description": f.text("eligibility_description", 20000),
        "fees_description": f.text("fees_description", 20000),
        "minimum_age": minimum,
        "maximum_age": maximum,
        "capacity_note": f.text("alert", 500),
        "program": _Fields(program, label, "program.").text("name", 200)
        if isinstance(program, dict)
        else None,
        "phones": _strip(f.items("phones"), "service_id"),
        "contacts": _contacts(f),
        "cost_options": _cost_options(f),
        "required_documents": _strip(f.items("required_documents"), "service_id"),
        "search_text": " ".join(p for p in (name, alternate, description) if p).lower(),
    }
    record = Record(
        id=rid, label=label, organization_id=org_id, org=org, service=service, snapshot=doc
    )
    _network(f, service, record)
    for lang in f.items("languages"):
        code = str(lang.get("code") or "")
        if _LANG.match(code):
            record.languages.append(code.lower())
        else:
            record.warnings.append(f"language {code!r} is not a BCP 47 tag, left out")
    record.languages = sorted(set(record.languages))
    for sal in f.items("service_at_locations"):
        _location(record, sal, _Fields(sal, label, "service_at_locations."))
    for sched in f.items("schedules"):
        _schedule(record, _Fields(sched, label, "schedules."))
    for area in f.items("service_areas"):
        _area(record, _Fields(area, label, "service_areas."))
    for attribute in f.items("attributes"):
        _term(record, attribute)
    record.populations = sorted(set(record.populations))
    return record
