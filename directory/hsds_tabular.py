"""The HSDS 3.0 tabular form (a folder of CSV files and datapackage.json) <-> nested documents.

Reading joins the tables into nested service documents (the `/services/{id}` shape), so the
importer handles one shape; writing flattens nested documents back into the tables. Table
and column names follow the published HSDS 3.0 datapackage (copied here so the hub does not
read the standards folder at run time).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["TABLES", "datapackage", "read_tabular", "write_tabular"]


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


#: table name -> (file name, columns in order), as in the HSDS 3.0 datapackage.
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "organization": (
        "organizations.csv",
        _columns(
            "id name alternate_name description email website tax_status tax_id "
            "year_incorporated legal_status logo uri parent_organization_id"
        ),
    ),
    "program": (
        "programs.csv",
        _columns("id organization_id name alternate_name description"),
    ),
    "service": (
        "services.csv",
        _columns(
            "id organization_id program_id name alternate_name description url email status "
            "interpretation_services application_process fees_description wait_time fees "
            "accreditations eligibility_description minimum_age maximum_age assured_date "
            "assurer_email licenses alert last_modified"
        ),
    ),
    "attribute": (
        "attributes.csv",
        _columns("id link_id taxonomy_term_id link_type link_entity value"),
    ),
    "service_at_location": (
        "service_at_location.csv",
        _columns("id service_id location_id description"),
    ),
    "location": (
        "locations.csv",
        _columns(
            "id location_type url organization_id name alternate_name description "
            "transportation latitude longitude external_identifier external_identifier_type"
        ),
    ),
    "phone": (
        "phones.csv",
        _columns(
            "id location_id service_id organization_id contact_id service_at_location_id "
            "number extension type description"
        ),
    ),
    "contact": (
        "contacts.csv",
        _columns(
            "id organization_id service_id service_at_location_id location_id name title "
            "department email"
        ),
    ),
    "address": (
        "addresses.csv",
        _columns(
            "id location_id attention address_1 address_2 city region state_province "
            "postal_code country address_type"
        ),
    ),
    "schedule": (
        "schedules.csv",
        _columns(
            "id service_id location_id service_at_location_id valid_from valid_to dtstart "
            "timezone until count wkst freq interval byday byweekno bymonthday byyearday "
            "description opens_at closes_at schedule_link attending_type notes"
        ),
    ),
    "funding": (
        "funding.csv",
        _columns("id organization_id service_id source"),
    ),
    "service_area": (
        "service_areas.csv",
        _columns("id service_id name description extent extent_type uri"),
    ),
    "required_document": (
        "required_documents.csv",
        _columns("id service_id document uri"),
    ),
    "language": (
        "languages.csv",
        _columns("id service_id location_id phone_id name code note"),
    ),
    "accessibility": (
        "accessibility.csv",
        _columns("id location_id description details url"),
    ),
    "taxonomy_term": (
        "taxonomy_terms.csv",
        _columns("id code name description parent_id taxonomy language taxonomy_id term_uri"),
    ),
    "metadata": (
        "metadata.csv",
        _columns(
            "id resource_id resource_type last_action_date last_action_type field_name "
            "previous_value replacement_value updated_by"
        ),
    ),
    "meta_table_description": (
        "meta_table_descriptions.csv",
        _columns("id name language character_set"),
    ),
    "cost_option": (
        "cost_options.csv",
        _columns("id service_id valid_from valid_to option currency amount amount_description"),
    ),
    "organization_identifier": (
        "organization_identifiers.csv",
        _columns("id organization_id identifier_scheme identifier_type identifier"),
    ),
    "taxonomy": (
        "taxonomies.csv",
        _columns("id name description uri version"),
    ),
}
#: Columns whose datapackage type is `number` (converted when read).
NUMBERS: dict[str, set[str]] = {
    "organization": {"year_incorporated"},
    "service": {"maximum_age", "minimum_age"},
    "location": {"longitude", "latitude"},
    "phone": {"extension"},
    "schedule": {"interval", "timezone", "count"},
    "cost_option": {"amount"},
}

Row = dict[str, Any]


def datapackage() -> dict[str, Any]:
    """The datapackage.json written beside an export (one resource per HSDS table)."""
    return {
        "name": "refhub_directory",
        "title": "refhub directory (Human Services Data Specification 3.0, tabular)",
        "profile": "tabular-data-package",
        "version": "3.0.0",
        "resources": [
            {
                "name": name,
                "path": path,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "profile": "tabular-data-resource",
                "schema": {
                    "primaryKey": "id",
                    "fields": [
                        {"name": c, "type": "number" if c in NUMBERS.get(name, ()) else "string"}
                        for c in columns
                    ],
                },
            }
            for name, (path, columns) in TABLES.items()
        ],
    }


# Reading ------------------------------------------------------------------------------------


def _number(value: str) -> int | float | str:
    """A `number` cell as a number; an unreadable one is left as text for the importer to
    reject with the column's name."""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number


def _load(folder: Path) -> dict[str, list[Row]]:
    paths = {name: path for name, (path, _) in TABLES.items()}
    descriptor = folder / "datapackage.json"
    if descriptor.exists():
        for resource in json.loads(descriptor.read_text(encoding="utf-8")).get("resources", []):
            if resource.get("name") in TABLES and isinstance(resource.get("path"), str):
                paths[resource["name"]] = resource["path"]
    tables: dict[str, list[Row]] = {}
    for name, path in paths.items():
        rows: list[Row] = []
        file = folder / path
        if file.exists():
            with file.open(newline="", encoding="utf-8-sig") as handle:
                for raw in csv.DictReader(handle):
                    row = {
                        k: v for k, v in raw.items() if isinstance(k, str) and v not in ("", None)
                    }
                    for column in NUMBERS.get(name, ()):
                        if isinstance(row.get(column), str):
                            row[column] = _number(row[column])
                    rows.append(row)
        tables[name] = rows
    return tables


def _by(rows: list[Row], key: str) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if key in row:
            out[row[key]].append(row)
    return out


def read_tabular(folder: Path) -> list[Row]:
    """Nested documents from an HSDS tabular folder: one service document per services.csv
    row (its organization, locations, terms and details nested), then an organization
    document (with an empty `services` list) for each organization without services.

    Raises:
        FileNotFoundError: the folder has neither services.csv nor organizations.csv.
    """
    if not (folder / "services.csv").exists() and not (folder / "organizations.csv").exists():
        raise FileNotFoundError(f"{folder} has no services.csv or organizations.csv")
    t = _load(folder)
    phones: dict[str, dict[str, list[Row]]] = {
        "service_id": defaultdict(list),
        "location_id": defaultdict(list),
        "organization_id": defaultdict(list),
    }
    for phone in t["phone"]:  # a phone belongs to its most specific owner
        owner = next((k for k in phones if k in phone), None)
        if owner is not None:
            phones[owner][phone[owner]].append(phone)
    contact_phones = _by(t["phone"], "contact_id")  # and to its contact, if it names one
    contacts = [
        {**row, "phones": contact_phones.get(row["id"], [])} if "id" in row else row
        for row in t["contact"]
    ]
    identifiers = _by(t["organization_identifier"], "organization_id")
    orgs = {
        row["id"]: {
            **row,
            "organization_identifiers": identifiers.get(row["id"], []),
            "phones": phones["organization_id"].get(row["id"], []),
        }
        for row in t["organization"]
        if "id" in row
    }
    addresses, access = _by(t["address"], "location_id"), _by(t["accessibility"], "location_id")
    locations = {
        row["id"]: {
            **row,
            "addresses": addresses.get(row["id"], []),
            "accessibility": access.get(row["id"], []),
            "phones": phones["location_id"].get(row["id"], []),
        }
        for row in t["location"]
        if "id" in row
    }
    taxonomies = {row["id"]: row for row in t["taxonomy"] if "id" in row}
    terms: dict[str, Row] = {}
    for row in t["taxonomy_term"]:
        if "id" in row:
            detail = taxonomies.get(row.get("taxonomy_id", ""))
            terms[row["id"]] = {**row, "taxonomy_detail": detail} if detail else row
    programs = {row["id"]: row for row in t["program"] if "id" in row}
    attributes = _by(t["attribute"], "link_id")
    per_service = {
        key: _by(t[table], "service_id")
        for key, table in (
            ("languages", "language"),
            ("schedules", "schedule"),
            ("service_areas", "service_area"),
            ("required_documents", "required_document"),
            ("cost_options", "cost_option"),
            ("funding", "funding"),
            ("service_at_locations", "service_at_location"),
        )
    }
    per_service["contacts"] = _by(contacts, "service_id")
    docs: list[Row] = []
    for row in t["service"]:
        sid = row.get("id", "")
        doc = dict(row)
        if row.get("organization_id") in orgs:
            doc["organization"] = orgs[row["organization_id"]]
        if row.get("program_id") in programs:
            doc["program"] = programs[row["program_id"]]
        doc["phones"] = phones["service_id"].get(sid, [])
        for key, grouped in per_service.items():
            doc[key] = grouped.get(sid, [])
        doc["service_at_locations"] = [
            {**sal, "location": locations[sal["location_id"]]}
            if sal.get("location_id") in locations
            else sal
            for sal in doc["service_at_locations"]
        ]
        doc["attributes"] = [
            {**a, "taxonomy_term": terms[a["taxonomy_term_id"]]}
            if a.get("taxonomy_term_id") in terms
            else a
            for a in attributes.get(sid, [])
        ]
        docs.append(doc)
    used = {row.get("organization_id") for row in t["service"]}
    docs += [{**org, "services": []} for oid, org in orgs.items() if oid not in used]
    return docs


# Writing ------------------------------------------------------------------------------------


class _Tables:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Row]] = {name: {} for name in TABLES}

    def put(self, table: str, row: Row, **links: Any) -> None:
        """Add a row; a row met again (a phone of both a service and its contact) gains
        the links and values it lacked."""
        merged = {**row, **links}
        key = str(merged.get("id") or len(self.rows[table]))
        found = self.rows[table].setdefault(key, merged)
        for column, value in merged.items():
            if found.get(column) in (None, ""):
                found[column] = value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _flatten(out: _Tables, doc: Row) -> None:
    sid = doc["id"]
    org = doc.get("organization")
    if org:
        out.put("organization", org)
        for ident in org.get("organization_identifiers", []):
            out.put("organization_identifier", ident, organization_id=org["id"])
        for phone in org.get("phones", []):
            out.put("phone", phone, organization_id=org["id"])
    if doc.get("program"):
        out.put("program", doc["program"], organization_id=doc.get("organization_id"))
        doc = {**doc, "program_id": doc["program"].get("id")}
    out.put("service", doc)
    for key, table in (
        ("phones", "phone"),
        ("languages", "language"),
        ("schedules", "schedule"),
        ("service_areas", "service_area"),
        ("required_documents", "required_document"),
        ("cost_options", "cost_option"),
        ("contacts", "contact"),
        ("funding", "funding"),
    ):
        for item in doc.get(key, []):
            out.put(table, item, service_id=sid)
    for contact in doc.get("contacts", []):
        for phone in contact.get("phones", []):
            out.put("phone", phone, contact_id=contact.get("id"))
    for sal in doc.get("service_at_locations", []):
        loc = sal.get("location")
        out.put("service_at_location", sal, service_id=sid, location_id=sal.get("location_id"))
        if loc:
            out.put("location", loc)
            for address in loc.get("addresses", []):
                out.put("address", address, location_id=loc["id"])
            for item in loc.get("accessibility", []):
                out.put("accessibility", item, location_id=loc["id"])
            for phone in loc.get("phones", []):
                out.put("phone", phone, location_id=loc["id"])
    for attribute in doc.get("attributes", []):
        term = attribute.get("taxonomy_term")
        out.put("attribute", attribute, link_id=attribute.get("link_id", sid))
        if term:
            out.put("taxonomy_term", term)
            if term.get("taxonomy_detail"):
                out.put("taxonomy", term["taxonomy_detail"])


def write_tabular(folder: Path, services: Iterable[Row]) -> dict[str, int]:
    """Write nested service documents as HSDS tables (every table, empty ones with their
    header) and datapackage.json into `folder`; returns the row count per table."""
    out = _Tables()
    for doc in services:
        _flatten(out, doc)
    folder.mkdir(parents=True, exist_ok=True)
    for name, (path, columns) in TABLES.items():
        with (folder / path).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in out.rows[name].values():
                writer.writerow([_cell(row.get(column)) for column in columns])
    (folder / "datapackage.json").write_text(json.dumps(datapackage(), indent=2), encoding="utf-8")
    return {name: len(rows) for name, rows in out.rows.items()}
