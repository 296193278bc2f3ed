"""The HSDS 3.0 tabular form's tables, read from the published datapackage, and how its rows
nest into JSON documents (which JSON key of which object holds which table's rows).

`hsds_datapackage.json` is the Open Referral HSDS 3.0 `datapackage.json`, copied verbatim
(so the hub does not read the standards folder at run time): table names, file names,
column order and types come from it, and an export writes it as its descriptor.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

__all__ = [
    "EXTENSION_FILE",
    "NUMBERS",
    "RELATIONS",
    "TABLES",
    "TIMES",
    "datapackage",
    "official_datapackage",
]

_DESCRIPTOR = Path(__file__).with_name("hsds_datapackage.json")
#: refhub's network extension of each service (a JSON object per row), beside the HSDS
#: tables: a members' export carries what HSDS has no column for (visibility, endpoint...).
EXTENSION_FILE = "refhub_service_extensions.csv"
_EXTENSION_RESOURCE = {
    "name": "refhub_service_extension",
    "path": EXTENSION_FILE,
    "title": "refhub network extension",
    "description": "refhub's network-only fields of each service (JSON), not part of HSDS.",
    "format": "csv",
    "mediatype": "text/csv",
    "encoding": "utf-8",
    "profile": "tabular-data-resource",
    "schema": {
        "fields": [
            {"name": "service_id", "type": "string", "format": "uuid"},
            {"name": "extension", "type": "object"},
        ],
        "primaryKey": ["service_id"],
        "foreignKeys": [
            {"fields": ["service_id"], "reference": {"resource": "service", "fields": ["id"]}}
        ],
    },
}


@functools.cache
def official_datapackage() -> dict[str, Any]:
    """The published HSDS 3.0 datapackage descriptor."""
    data: dict[str, Any] = json.loads(_DESCRIPTOR.read_text(encoding="utf-8"))
    return data


def datapackage(*, extension: bool) -> dict[str, Any]:
    """The descriptor an export writes: the published one, plus refhub's extension resource
    when the export carries it."""
    descriptor = copy.deepcopy(official_datapackage())
    if extension:
        descriptor["resources"].append(copy.deepcopy(_EXTENSION_RESOURCE))
    return descriptor


def _typed(kind: str) -> dict[str, set[str]]:
    return {
        r["name"]: {f["name"] for f in r["schema"]["fields"] if f.get("type") == kind}
        for r in official_datapackage()["resources"]
    }


#: table name -> (file name, columns in order), as in the HSDS 3.0 datapackage.
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    r["name"]: (r["path"], tuple(f["name"] for f in r["schema"]["fields"]))
    for r in official_datapackage()["resources"]
}
#: Columns whose datapackage type is `number` (numbers when read) or `time` (HH:MM:SS).
NUMBERS: dict[str, set[str]] = {k: v for k, v in _typed("number").items() if v}
TIMES: dict[str, set[str]] = {k: v for k, v in _typed("time").items() if v}

#: table -> [(JSON key, child table, link column, "many" | "one")]. "many": the child
#: rows whose link column names this row's id, as a list; "one": the row this row's link
#: column names, as an object. Every table also nests its `attributes` (by `link_id`) and
#: `metadata` (by `resource_id`).
RELATIONS: dict[str, list[tuple[str, str, str, str]]] = {
    "service": [
        ("organization", "organization", "organization_id", "one"),
        ("program", "program", "program_id", "one"),
        ("phones", "phone", "service_id", "many"),
        ("schedules", "schedule", "service_id", "many"),
        ("service_areas", "service_area", "service_id", "many"),
        ("service_at_locations", "service_at_location", "service_id", "many"),
        ("languages", "language", "service_id", "many"),
        ("funding", "funding", "service_id", "many"),
        ("cost_options", "cost_option", "service_id", "many"),
        ("required_documents", "required_document", "service_id", "many"),
        ("contacts", "contact", "service_id", "many"),
    ],
    "organization": [
        ("funding", "funding", "organization_id", "many"),
        ("contacts", "contact", "organization_id", "many"),
        ("phones", "phone", "organization_id", "many"),
        ("programs", "program", "organization_id", "many"),
        ("organization_identifiers", "organization_identifier", "organization_id", "many"),
    ],
    "service_at_location": [
        ("location", "location", "location_id", "one"),
        ("contacts", "contact", "service_at_location_id", "many"),
        ("phones", "phone", "service_at_location_id", "many"),
        ("schedules", "schedule", "service_at_location_id", "many"),
    ],
    "location": [
        ("addresses", "address", "location_id", "many"),
        ("accessibility", "accessibility", "location_id", "many"),
        ("phones", "phone", "location_id", "many"),
        ("languages", "language", "location_id", "many"),
        ("contacts", "contact", "location_id", "many"),
        ("schedules", "schedule", "location_id", "many"),
    ],
    "contact": [("phones", "phone", "contact_id", "many")],
    "phone": [("languages", "language", "phone_id", "many")],
    "attribute": [("taxonomy_term", "taxonomy_term", "taxonomy_term_id", "one")],
    "taxonomy_term": [("taxonomy_detail", "taxonomy", "taxonomy_id", "one")],
}
_SHARED = [
    ("attributes", "attribute", "link_id", "many"),
    ("metadata", "metadata", "resource_id", "many"),
]
for _table in TABLES:
    if _table not in ("metadata", "meta_table_description"):
        RELATIONS.setdefault(_table, [])
        RELATIONS[_table] += _SHARED
