"""refhub's network extension of an imported HSDS service, and the HSDS 3.1 fields it meets.

The extension (`refhub`, written by exports for network members) carries what HSDS 3.0 has
no field for: visibility, moderation, the owning network organisation, capacity and intake,
electronic referrals and the delivery endpoint. HSDS 3.1 additions are kept with the
document as given (the JSON export gives them back) and listed in the import report, since
refhub does not use them and the 3.0 tabular form has no table for them.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from directory.import_fields import Fields
from directory.models import Capacity, Moderation, Visibility
from directory.vocabulary import POPULATIONS

__all__ = ["HSDS_31_FIELDS", "endpoint_row", "hsds_31_notes", "network_fields"]

#: HSDS 3.1 additions, by the 3.0 object that gains them.
HSDS_31_FIELDS: dict[str, tuple[str, ...]] = {
    "service": ("capacities", "additional_urls"),
    "organization": ("additional_websites",),
    "attribute": ("label",),
    "service_area": ("service_at_location_id",),
    "service_at_location": ("service_areas",),
}
_CONNECTIONS = 30


def network_fields(x: Fields) -> tuple[dict[str, Any], list[str]]:
    """The service columns the extension sets, and the populations it names.

    Raises:
        BadRecord: a value refhub cannot store, naming the field.
    """
    ext = x.doc
    visibility = ext.get("visibility", Visibility.PUBLIC.value)
    if visibility not in {v.value for v in Visibility}:
        raise x.fail("visibility", f"{visibility!r} is not public or network")
    moderation = ext.get("moderation", Moderation.OK.value)
    if moderation not in {m.value for m in Moderation}:
        raise x.fail("moderation", f"{moderation!r} is not ok or suspended")
    capacity = ext.get("capacity")
    if capacity is not None and capacity not in {c.value for c in Capacity}:
        raise x.fail("capacity", f"{capacity!r} is not a capacity code")
    zone = ext.get("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(str(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise x.fail("timezone", f"unknown IANA time zone {zone!r}") from None
    columns: dict[str, Any] = {
        "visibility": visibility,
        "moderation": moderation,
        "capacity": capacity,
        "capacity_note": x.text("capacity_note", 500),
        "wait_time_days": x.integer("wait_time_days", 0, 3650),
        "intake_requirements": x.text("intake_requirements", 20000),
        "accepts_electronic_referrals": ext.get("accepts_electronic_referrals") is True,
        "timezone": str(zone),
    }
    for key, column in (("confirmed_at", "confirmed_at"), ("stale_since", "stale_notified_at")):
        if key in ext:  # a members' export: its confirmation date and stale flag
            columns[column] = _moment(x, key)
    if "owner_organisation_id" in ext:
        columns["owner_organisation_id"] = x.maybe_ident("owner_organisation_id")
    if x.text("program", 200):
        columns["program"] = x.text("program", 200)
    populations = ext.get("populations", [])
    if not isinstance(populations, list):
        raise x.fail("populations", "must be a list")
    return columns, [p for p in populations if p in POPULATIONS]


def _moment(x: Fields, key: str) -> dt.datetime:
    value = x.doc.get(key)
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise x.fail(key, f"{value!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise x.fail(key, f"{value!r} has no time zone")
    return moment.astimezone(dt.UTC)


def endpoint_row(x: Fields) -> dict[str, Any] | None:
    """The delivery endpoint the extension names (`endpoint`), as a directory_endpoint row
    without its organization; None when it names none.

    Raises:
        BadRecord: naming the field.
    """
    endpoint = x.doc.get("endpoint")
    if endpoint is None:
        return None
    if not isinstance(endpoint, dict):
        raise x.fail("endpoint", "must be an object")
    payload = endpoint.get("payload_types", [])
    jwk = endpoint.get("public_jwk")
    if not isinstance(payload, list) or not all(isinstance(p, str) for p in payload):
        raise x.fail("endpoint.payload_types", "must be a list of texts")
    if jwk is not None and not isinstance(jwk, dict):
        raise x.fail("endpoint.public_jwk", "must be a JSON Web Key object")
    for key, limit in (("connection_type", _CONNECTIONS), ("address", 500)):
        value = endpoint.get(key)
        if not isinstance(value, str) or not value or len(value) > limit:
            raise x.fail(f"endpoint.{key}", f"must be text of at most {limit} characters")
    try:
        endpoint_id = uuid.UUID(str(endpoint.get("id")))
    except ValueError:
        raise x.fail("endpoint.id", f"{endpoint.get('id')!r} is not a UUID") from None
    return {
        "id": endpoint_id,
        "connection_type": endpoint["connection_type"],
        "address": endpoint["address"],
        "payload_types": payload,
        "public_jwk": jwk,
        "active": endpoint.get("active", True) is not False,
    }


def hsds_31_notes(doc: dict[str, Any]) -> list[str]:
    """Report lines for the HSDS 3.1 fields in a service document (kept, not used)."""
    found: list[str] = []

    def look(kind: str, obj: Any, path: str) -> None:
        if isinstance(obj, dict):
            found.extend(f"{path}{key}" for key in HSDS_31_FIELDS[kind] if key in obj)

    look("service", doc, "")
    look("organization", doc.get("organization"), "organization.")
    for key, kind in (
        ("attributes", "attribute"),
        ("service_areas", "service_area"),
        ("service_at_locations", "service_at_location"),
    ):
        items = doc.get(key)
        for item in items if isinstance(items, list) else []:
            look(kind, item, f"{key}.")
    return [
        f"HSDS 3.1 field {name}: kept as given in the JSON export, not used by refhub "
        "(the HSDS 3.0 tabular form has no column for it)"
        for name in dict.fromkeys(found)
    ]
