"""API shapes of the directory's own routes (owner editing, search, matching).

The HSDS and FHIR shapes are built in `hsds.py` and `fhir.py`; these are refhub's.
"""

from __future__ import annotations

import re
import uuid
import zoneinfo
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from directory.models import Capacity, ServiceStatus, Visibility
from directory.vocabulary import POPULATIONS
from kernel.inputs import StrictBool, StrictFloat, StrictInt

__all__ = [
    "CODE_PATTERN",
    "AreaIn",
    "CapacityIn",
    "EndpointIn",
    "LocationIn",
    "MatchIn",
    "ModerationIn",
    "OrganizationIn",
    "PhoneIn",
    "ScheduleIn",
    "ServiceIn",
]

CODE_PATTERN = r"^[a-z0-9][a-z0-9.\-]{0,99}$"
_LANG_PATTERN = r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$"
_LANG = re.compile(_LANG_PATTERN)
_TIME = r"^([01]\d|2[0-3]):[0-5]\d$"
_DAYS = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"}
_DAY = "(" + "|".join(f"[{d[0]}{d[0].lower()}][{d[1]}{d[1].lower()}]" for d in sorted(_DAYS)) + ")"

# What the validators below check, stated in the OpenAPI document too (they keep their
# own messages), so that the document's "valid" is the hub's.
_CODES_DOC: JsonDict = {"items": {"type": "string", "pattern": CODE_PATTERN}}
_LANGS_DOC: JsonDict = {"items": {"type": "string", "pattern": _LANG_PATTERN}}
_POPULATIONS_DOC: JsonDict = {"items": {"enum": list(POPULATIONS)}}
_JWK_DOC: JsonDict = {
    "anyOf": [
        {
            "type": "object",
            "required": ["kty"],
            "properties": {"kty": {"enum": ["OKP", "EC", "RSA"]}},
            "not": {"anyOf": [{"required": [m]} for m in ("d", "p", "q", "dp", "dq", "qi", "k")]},
        },
        {"type": "null"},
    ]
}
_EXTENT_DOC: JsonDict = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"enum": ["Polygon", "MultiPolygon"]},
        "coordinates": {"type": "array", "minItems": 1},
    },
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _languages(value: list[str]) -> list[str]:
    for code in value:
        if not _LANG.match(code):
            raise ValueError(f"{code!r} is not a BCP 47 language tag")
    return sorted({code.lower() for code in value})


def _populations(value: list[str]) -> list[str]:
    unknown = sorted(set(value) - set(POPULATIONS))
    if unknown:
        raise ValueError(f"unknown population {unknown}; known: {', '.join(POPULATIONS)}")
    return sorted(set(value))


class OrganizationIn(_In):
    name: str = Field(min_length=1, max_length=250)
    alternate_name: str | None = Field(default=None, max_length=250)
    description: str = Field(default="", max_length=5000)
    email: str | None = Field(default=None, max_length=254)
    website: str | None = Field(default=None, max_length=500)
    identifier: str | None = Field(default=None, max_length=100)
    identifier_type: str | None = Field(default=None, max_length=100)
    org_type: str | None = Field(default=None, max_length=40)
    visibility: Visibility = Visibility.PUBLIC


class EndpointIn(_In):
    """Where referrals are delivered: a FHIR base URL or a webhook, and the public key."""

    connection_type: Literal["hl7-fhir-rest", "rest-hook"]
    address: str = Field(pattern=r"^https://[^\s]{3,490}$")
    name: str | None = Field(default=None, max_length=250)
    payload_types: list[str] = Field(default_factory=lambda: ["application/fhir+json"])
    public_jwk: dict[str, Any] | None = Field(default=None, json_schema_extra=_JWK_DOC)
    active: StrictBool = True

    @field_validator("public_jwk")
    @classmethod
    def _public_only(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if value.get("kty") not in ("OKP", "EC", "RSA"):  # a tuple: the value may be a dict
            raise ValueError("public_jwk needs kty OKP, EC or RSA")
        private = {"d", "p", "q", "dp", "dq", "qi", "k"} & set(value)
        if private:
            raise ValueError("public_jwk must not contain private key members")
        return value


class PhoneIn(_In):
    number: str = Field(min_length=3, max_length=40)
    type: str | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=200)


class LocationIn(_In):
    id: uuid.UUID | None = None
    name: str | None = Field(default=None, max_length=250)
    description: str | None = Field(default=None, max_length=2000)
    location_type: Literal["physical", "postal", "virtual"] = "physical"
    address_1: str | None = Field(default=None, max_length=250)
    city: str | None = Field(default=None, max_length=120)
    region: str | None = Field(default=None, max_length=120)
    state_province: str | None = Field(default=None, max_length=120)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    accessibility: list[str] = Field(default_factory=list)


class ScheduleIn(_In):
    byday: str = Field(
        description="Comma separated iCal days, e.g. MO,TU,WE",
        pattern=rf"^{_DAY}(,{_DAY})*$",
    )
    opens_at: str = Field(pattern=_TIME)
    closes_at: str = Field(pattern=_TIME)
    description: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _check(self) -> ScheduleIn:
        days = self.byday.upper().split(",")
        if not days or not set(days) <= _DAYS:
            raise ValueError("byday lists iCal days MO,TU,WE,TH,FR,SA,SU")
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at (same day)")
        self.byday = ",".join(days)
        return self


class AreaIn(_In):
    name: str | None = Field(default=None, max_length=250)
    description: str | None = Field(default=None, max_length=2000)
    extent: dict[str, Any] = Field(
        description="GeoJSON Polygon or MultiPolygon", json_schema_extra=_EXTENT_DOC
    )

    @field_validator("extent")
    @classmethod
    def _polygon(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("type") not in ("Polygon", "MultiPolygon"):  # the value may be a dict
            raise ValueError("extent must be a GeoJSON Polygon or MultiPolygon")
        if not isinstance(value.get("coordinates"), list) or not value["coordinates"]:
            raise ValueError("extent needs coordinates")
        return value


class ServiceIn(_In):
    """A listing as its owner writes it (the whole listing; PUT replaces)."""

    name: str = Field(min_length=1, max_length=250)
    alternate_name: str | None = Field(default=None, max_length=250)
    description: str | None = Field(default=None, max_length=10000)
    url: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=254)
    status: ServiceStatus = ServiceStatus.ACTIVE
    visibility: Visibility = Visibility.PUBLIC
    program: str | None = Field(default=None, max_length=200)
    categories: list[str] = Field(default_factory=list, max_length=20, json_schema_extra=_CODES_DOC)
    types: list[str] = Field(default_factory=list, max_length=40, json_schema_extra=_CODES_DOC)
    languages: list[str] = Field(default_factory=list, max_length=40, json_schema_extra=_LANGS_DOC)
    populations: list[str] = Field(
        default_factory=list, max_length=20, json_schema_extra=_POPULATIONS_DOC
    )
    accepts_electronic_referrals: StrictBool = False
    capacity: Capacity | None = None
    capacity_note: str | None = Field(default=None, max_length=500)
    wait_time_days: int | None = Field(default=None, ge=0, le=3650)
    intake_requirements: str | None = Field(default=None, max_length=5000)
    application_process: str | None = Field(default=None, max_length=5000)
    eligibility_description: str | None = Field(default=None, max_length=5000)
    fees_description: str | None = Field(default=None, max_length=2000)
    minimum_age: int | None = Field(default=None, ge=0, le=150)
    maximum_age: int | None = Field(default=None, ge=0, le=150)
    timezone: str = Field(
        default="UTC",
        description="An IANA time zone, e.g. Europe/London",
        json_schema_extra={"pattern": r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"},
    )
    phones: list[PhoneIn] = Field(default_factory=list, max_length=20)
    locations: list[LocationIn] = Field(default_factory=list, max_length=50)
    schedules: list[ScheduleIn] = Field(default_factory=list, max_length=50)
    service_areas: list[AreaIn] = Field(default_factory=list, max_length=20)
    required_documents: list[str] = Field(default_factory=list, max_length=20)

    _langs = field_validator("languages")(_languages)
    _pops = field_validator("populations")(_populations)

    @field_validator("categories", "types")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not re.match(CODE_PATTERN, code):
                raise ValueError(f"{code!r} is not a taxonomy code")
        return sorted(set(value))

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _ages(self) -> ServiceIn:
        if (
            self.minimum_age is not None
            and self.maximum_age is not None
            and self.minimum_age > self.maximum_age
        ):
            raise ValueError("minimum_age is above maximum_age")
        return self


class CapacityIn(_In):
    """A listing's daily figures: can it take people now, how long the wait, a short note."""

    capacity: Capacity | None = None
    wait_time_days: int | None = Field(default=None, ge=0, le=3650)
    capacity_note: str | None = Field(default=None, max_length=500)


class ModerationIn(_In):
    action: Literal["suspend", "restore"]
    reason: str = Field(min_length=1, max_length=500)


class MatchIn(_In):
    """A client's situation, for matching (never stored, never logged)."""

    needs: list[str] = Field(min_length=1, max_length=20, description="category or type codes")
    languages: list[str] = Field(default_factory=list, max_length=10, json_schema_extra=_LANGS_DOC)
    populations: list[str] = Field(
        default_factory=list, max_length=20, json_schema_extra=_POPULATIONS_DOC
    )
    latitude: StrictFloat | None = Field(default=None, ge=-90, le=90)
    longitude: StrictFloat | None = Field(default=None, ge=-180, le=180)
    max_distance_km: StrictFloat = Field(default=25.0, gt=0, le=1000)
    age: StrictInt | None = Field(default=None, ge=0, le=150)
    limit: StrictInt = Field(default=20, ge=1, le=100)

    _langs = field_validator("languages")(_languages)
    _pops = field_validator("populations")(_populations)

    @model_validator(mode="after")
    def _point(self) -> MatchIn:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self
