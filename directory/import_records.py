"""One HSDS 3.0 document checked and turned into directory rows (no database access).

A value the directory cannot store makes the record fail with the field's name
(`BadRecord`); an optional part it cannot use (coordinates out of range, an extent that is
not a GeoJSON polygon, a schedule without hours) is left out with a warning.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from directory.geometry import bounding_box
from directory.hsds import LEGACY_POPULATION_TAXONOMY_ID, POPULATION_TAXONOMY_ID
from directory.import_extension import endpoint_row, hsds_31_notes, network_fields
from directory.import_fields import BadRecord, Fields, contacts, cost_options, strip
from directory.import_shapes import not_kept
from directory.models import ServiceStatus
from directory.vocabulary import POPULATION_SYSTEM, POPULATIONS, current_system

__all__ = ["BadRecord", "Record", "parse_document"]

_LANG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(:[0-5]\d(\.\d+)?)?")
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_STATUSES = [s.value for s in ServiceStatus]


@dataclass
class Record:
    """A checked document as directory rows (dicts of column values)."""

    id: uuid.UUID
    label: str
    organization_id: uuid.UUID | None
    org: dict[str, Any] | None
    service: dict[str, Any] | None
    kind: str = "service"
    endpoint: dict[str, Any] | None = None
    taxonomy: dict[str, Any] | None = None
    snapshot: dict[str, Any] = field(default_factory=dict)
    locations: list[dict[str, Any]] = field(default_factory=list)
    service_at_locations: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    service_areas: list[dict[str, Any]] = field(default_factory=list)
    terms: list[dict[str, Any]] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    populations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _organization(doc: dict[str, Any], label: str) -> dict[str, Any]:
    f = Fields(doc, label, "organization.")
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
        "phones": strip(f.items("phones"), "organization_id"),
    }


def _coordinate(record: Record, loc_id: uuid.UUID, value: Any, limit: float) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and -limit <= value <= limit:
        return float(value)
    record.warnings.append(f"location {loc_id}: coordinate {value!r} out of range, left out")
    return None


def _location(record: Record, sal: dict[str, Any], f: Fields) -> None:
    sal_id = f.ident("id")
    loc = sal.get("location")
    if not isinstance(loc, dict):
        record.warnings.append(f"service_at_location {sal_id}: no nested location, left out")
        return
    loc_id = _location_row(record, loc, "location.")
    record.service_at_locations.append(
        {"id": sal_id, "location_id": loc_id, "description": f.text("description", 20000)}
    )


def _location_row(record: Record, loc: dict[str, Any], prefix: str) -> uuid.UUID:
    """Add the location `loc` to the record's locations; returns its id."""
    lf = Fields(loc, record.label, prefix)
    loc_id = lf.ident("id")
    addresses = sorted(lf.items("addresses"), key=lambda a: a.get("address_type") != "physical")
    address = Fields(addresses[0], record.label, "location.addresses.") if addresses else None
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
            "accessibility": strip(lf.items("accessibility"), "location_id"),
            "phones": strip(lf.items("phones"), "location_id"),
        }
    )
    return loc_id


def _schedule(record: Record, f: Fields) -> None:
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


def _area(record: Record, f: Fields) -> None:
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
    tf = Fields(term, record.label, "attributes.taxonomy_term.")
    term_id = tf.ident("id")
    code = tf.text("code", 100) or str(term_id)
    term_uri = tf.text("term_uri", 500)
    detail = term.get("taxonomy_detail")
    detail = detail if isinstance(detail, dict) else {}
    df = Fields(detail, record.label, "attributes.taxonomy_term.taxonomy_detail.")
    uri = current_system(df.text("uri", 500))
    term_uri = current_system(term_uri)
    if uri is None and term_uri and term_uri.endswith("#" + code):
        uri = term_uri[: -len(code) - 1]
    taxonomy_id = df.maybe_ident("id") or tf.maybe_ident("taxonomy_id")
    if uri == POPULATION_SYSTEM or taxonomy_id in (
        POPULATION_TAXONOMY_ID,
        LEGACY_POPULATION_TAXONOMY_ID,
    ):
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


def _network(f: Fields, service: dict[str, Any], record: Record) -> None:
    """refhub's own extension (`refhub`, written by exports for network members)."""
    ext = f.doc.get("refhub")
    if not isinstance(ext, dict):
        return
    x = Fields(ext, record.label, "refhub.")
    columns, populations = network_fields(x)
    service.update(columns)
    record.populations += populations
    record.endpoint = endpoint_row(x)


def _taxonomy(doc: dict[str, Any], record: Record) -> dict[str, Any]:
    f = Fields(doc, record.label)
    return {
        "id": f.ident("id"),
        "name": f.text("name", 200, required=True),
        "description": f.text("description", 20000) or "",
        "uri": current_system(f.text("uri", 500)),
        "version": f.text("version", 50),
    }


def _other(doc: dict[str, Any], kind: str, rid: uuid.UUID, label: str) -> Record:
    """A document that is not a service: an organization, location, taxonomy or term."""
    f = Fields(doc, label)
    skipped = not_kept(kind, doc)
    warnings = [f"not stored (refhub keeps these only within a service): {', '.join(skipped)}"]
    if kind == "organization":
        alone = _organization(doc, label)
        record = Record(id=rid, label=label, organization_id=rid, org=alone, service=None)
        record.kind, record.warnings = kind, warnings if skipped else []
        return record
    record = Record(id=rid, label=label, organization_id=None, org=None, service=None, kind=kind)
    record.warnings = warnings if skipped else []
    if kind == "location":
        _location_row(record, doc, "")
        record.organization_id = f.maybe_ident("organization_id")
    elif kind == "taxonomy":
        record.taxonomy = _taxonomy(doc, record)
    else:
        f.text("name", 200, required=True)
        _term(record, {"taxonomy_term": doc})
    return record


def parse_document(doc: Any, index: int, kind: str = "service") -> Record:
    """Check one HSDS document of type `kind` (`directory.import_shapes.KINDS`).

    A service without an organization (none nested, no `organization_id`) takes the
    organization of its first location that names one, else none (`organization_id` None:
    the importer applies its default or refuses it).

    Raises:
        BadRecord: naming the record (its type and id, or its position) and the field.
    """
    label = f"record #{index + 1}"
    if not isinstance(doc, dict):
        raise BadRecord(label, "not a JSON object")
    if doc.get("id") not in (None, ""):
        label = f"{kind} {doc['id']}"
    f = Fields(doc, label)
    rid = f.ident("id")
    if kind != "service":
        return _other(doc, kind, rid, label)
    nested = doc.get("organization")
    org = _organization(nested, label) if isinstance(nested, dict) else None
    org_id = org["id"] if org is not None else f.maybe_ident("organization_id")
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
        "program": Fields(program, label, "program.").text("name", 200)
        if isinstance(program, dict)
        else None,
        "phones": strip(f.items("phones"), "service_id"),
        "contacts": contacts(f),
        "cost_options": cost_options(f),
        "required_documents": strip(f.items("required_documents"), "service_id"),
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
        _location(record, sal, Fields(sal, label, "service_at_locations."))
    for sched in f.items("schedules"):
        _schedule(record, Fields(sched, label, "schedules."))
    for area in f.items("service_areas"):
        _area(record, Fields(area, label, "service_areas."))
    for attribute in f.items("attributes"):
        _term(record, attribute)
    record.populations = sorted(set(record.populations))
    if record.organization_id is None:
        record.organization_id = next(
            (loc["_organization_id"] for loc in record.locations if loc["_organization_id"]),
            None,
        )
    record.warnings += hsds_31_notes(doc)
    return record
