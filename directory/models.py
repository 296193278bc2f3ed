"""Directory tables: HSDS 3.x organizations, services, locations and their links, plus what a
referral network adds (populations served, capacity, intake, delivery endpoint, versions).

Searched relations (taxonomy terms, languages, populations, service-at-location, schedules,
service areas) are rows with indexes; detail nobody filters on (contacts, phones, cost
options, required documents, accessibility) is kept as HSDS-shaped JSON on its owner row.
Listings name their owner as a network organisation id (`owner_organisation_id`), without
a foreign key into gateway's tables: this package never depends on the gateway.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, new_id, utcnow

__all__ = [
    "Capacity",
    "DirEndpoint",
    "DirLocation",
    "DirOrganization",
    "Moderation",
    "Schedule",
    "Service",
    "ServiceArea",
    "ServiceAtLocation",
    "ServiceLanguage",
    "ServicePopulation",
    "ServiceStatus",
    "ServiceTerm",
    "ServiceVersion",
    "Taxonomy",
    "TaxonomyTerm",
    "Visibility",
]


class Visibility(enum.StrEnum):
    """Who may read a listing: anyone, or authenticated network members only."""

    PUBLIC = "public"
    NETWORK = "network"


class ServiceStatus(enum.StrEnum):
    """HSDS 3.0 service.status."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DEFUNCT = "defunct"
    TEMPORARILY_CLOSED = "temporarily closed"


class Capacity(enum.StrEnum):
    """Gravity SDOH Clinical Care HealthcareService capacity codes."""

    CAPACITY = "capacity"
    NO_CAPACITY = "no-capacity"
    WAITLIST = "waitlist"
    ASSESSMENT = "additional-assessment-required"


class Moderation(enum.StrEnum):
    """A hub admin's verdict: a suspended listing is hidden from everyone but its owner."""

    OK = "ok"
    SUSPENDED = "suspended"


# The columns a search filters and sorts every match by (see `directory.search`).
LISTING_COLUMNS = (
    "id",
    "status",
    "moderation",
    "visibility",
    "organization_id",
    "owner_organisation_id",
    "name",
)


class DirOrganization(Base):
    """HSDS organization: who delivers services (a network member, or an imported record)."""

    __tablename__ = "directory_organization"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_organisation_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(250), index=True)
    alternate_name: Mapped[str | None] = mapped_column(String(250))
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(500))
    identifier: Mapped[str | None] = mapped_column(String(100), index=True)
    identifier_type: Mapped[str | None] = mapped_column(String(100))
    org_type: Mapped[str | None] = mapped_column(String(40))
    visibility: Mapped[str] = mapped_column(String(10), default=Visibility.PUBLIC)
    phones: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class DirLocation(Base):
    """HSDS location with its (one) physical address flattened into columns."""

    __tablename__ = "directory_location"
    __table_args__ = (Index("ix_directory_location_lat_lon", "latitude", "longitude"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(250), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    location_type: Mapped[str] = mapped_column(String(10), default="physical")
    address_1: Mapped[str | None] = mapped_column(String(250))
    city: Mapped[str | None] = mapped_column(String(120), index=True)
    region: Mapped[str | None] = mapped_column(String(120))
    state_province: Mapped[str | None] = mapped_column(String(120))
    postal_code: Mapped[str | None] = mapped_column(String(20), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    accessibility: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    phones: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class DirEndpoint(Base):
    """Where referrals to an organisation are delivered, and the key to encrypt them to.

    Visible to network members only (never to the public)."""

    __tablename__ = "directory_endpoint"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(250))
    connection_type: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(500))
    payload_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    public_jwk: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class Service(Base):
    """HSDS service plus the referral network's extras; one row per listing, versioned."""

    __tablename__ = "directory_service"
    __table_args__ = (
        Index("ix_directory_service_status_moderation", "status", "moderation"),
        # What a search reads of every matching service to pick and count a page: who may
        # see it, and its name to sort by (index-only scans, not the wide rows).
        Index("ix_directory_service_listing", *LISTING_COLUMNS),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_organization.id", ondelete="CASCADE"), index=True
    )
    owner_organisation_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    endpoint_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("directory_endpoint.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(250))
    alternate_name: Mapped[str | None] = mapped_column(String(250))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(20), default=ServiceStatus.ACTIVE)
    visibility: Mapped[str] = mapped_column(String(10), default=Visibility.PUBLIC)
    moderation: Mapped[str] = mapped_column(String(10), default=Moderation.OK)
    moderation_reason: Mapped[str | None] = mapped_column(String(500))
    program: Mapped[str | None] = mapped_column(String(200), index=True)
    accepts_electronic_referrals: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[str | None] = mapped_column(String(40))
    capacity_note: Mapped[str | None] = mapped_column(String(500))
    wait_time_days: Mapped[int | None] = mapped_column(Integer)
    intake_requirements: Mapped[str | None] = mapped_column(Text)
    application_process: Mapped[str | None] = mapped_column(Text)
    eligibility_description: Mapped[str | None] = mapped_column(Text)
    fees_description: Mapped[str | None] = mapped_column(Text)
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    phones: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    cost_options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    required_documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    confirmed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    stale_notified_at: Mapped[dt.datetime | None]
    # A hub admin's last review (`directory.moderation`): the version they looked at, when,
    # and who. A listing whose `version` is newer (or never reviewed) waits in the queue.
    reviewed_version: Mapped[int | None] = mapped_column(Integer)
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    # An imported listing's HSDS document as given, and the document refhub wrote from its
    # rows right after that import (`directory.hsds_merge`): exports give back what refhub
    # does not model and what it has not changed since. NULL for listings never imported.
    hsds_source: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    hsds_base: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# PostgreSQL only (the migration creates them there, with pg_trgm): trigram indexes for
# free-text (`%word%`) and name-prefix search. They are expression indexes, which alembic's
# SQLite comparison leaves out, so the models match the migration on both back-ends.
Index(
    "ix_directory_service_search_trgm",
    func.lower(Service.search_text).label("search_lower"),
    postgresql_using="gin",
    postgresql_ops={"search_lower": "gin_trgm_ops"},
)
Index(
    "ix_directory_service_name_trgm",
    func.lower(Service.name).label("name_lower"),
    postgresql_using="gin",
    postgresql_ops={"name_lower": "gin_trgm_ops"},
)


class Taxonomy(Base):
    """HSDS taxonomy: a vocabulary (service categories, populations served, ...)."""

    __tablename__ = "directory_taxonomy"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    uri: Mapped[str | None] = mapped_column(String(500), unique=True)
    version: Mapped[str | None] = mapped_column(String(50))


class TaxonomyTerm(Base):
    """HSDS taxonomy_term; a term without parent is a category, a child term a type."""

    __tablename__ = "directory_taxonomy_term"
    __table_args__ = (UniqueConstraint("taxonomy_id", "code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    taxonomy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_taxonomy.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("directory_taxonomy_term.id", ondelete="SET NULL"), index=True
    )
    term_uri: Mapped[str | None] = mapped_column(String(500))


class ServiceTerm(Base):
    """A service classified by a taxonomy term (HSDS attribute with link_entity=service)."""

    __tablename__ = "directory_service_term"
    __table_args__ = (Index("ix_directory_service_term_term_service", "term_id", "service_id"),)

    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_service.id", ondelete="CASCADE"), primary_key=True
    )
    term_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_taxonomy_term.id", ondelete="CASCADE"), primary_key=True
    )


class ServiceLanguage(Base):
    """A language the service is delivered in (BCP 47 code)."""

    __tablename__ = "directory_service_language"
    __table_args__ = (Index("ix_directory_service_language_code_service", "code", "service_id"),)

    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_service.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(35), primary_key=True)


class ServicePopulation(Base):
    """A population the service is for (codes in `directory.vocabulary.POPULATIONS`)."""

    __tablename__ = "directory_service_population"
    __table_args__ = (Index("ix_directory_service_population_code_service", "code", "service_id"),)

    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_service.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(60), primary_key=True)


class ServiceAtLocation(Base):
    """HSDS service_at_location: where a service is delivered.

    Copies for the radius search, so it reads this table alone instead of joining every
    service-location row to the locations in the box and then to the service's terms and
    languages: `latitude` and `longitude` are the location's (whoever moves a location calls
    `directory.geometry.sync_coordinates`); `search_keys` are the service's taxonomy terms and
    languages (`directory.search.search_keys`), written with the row, which is rewritten
    whenever the service's terms or languages are (`directory.service.apply_listing`, the
    importer). No default: a writer that forgets the keys fails instead of hiding the row."""

    __tablename__ = "directory_service_at_location"
    __table_args__ = (
        UniqueConstraint("service_id", "location_id"),
        Index("ix_directory_service_at_location_lat_lon", "latitude", "longitude", "service_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_service.id", ondelete="CASCADE")
    )
    location_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_location.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    search_keys: Mapped[str] = mapped_column(Text)


# PostgreSQL only (created by migration 0009; an expression index, left out of the SQLite
# comparison like the trigram ones): the service's term and language keys as an array, so a
# radius search ANDs this GIN bitmap with the box index and reads only the rows matching both.
# Without GIN's pending list (fastupdate): only VACUUM merges it, and every search scans it.
Index(
    "ix_directory_service_at_location_search_keys",
    func.string_to_array(ServiceAtLocation.search_keys, literal_column("' '")).label("keys"),
    postgresql_using="gin",
    postgresql_with={"fastupdate": "off"},
)


class Schedule(Base):
    """Weekly opening hours (iCal style: freq WEEKLY, byday, opens_at/closes_at local time)."""

    __tablename__ = "directory_schedule"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_service.id", ondelete="CASCADE"), index=True
    )
    byday: Mapped[str] = mapped_column(String(40))
    opens_at: Mapped[str] = mapped_column(String(5))
    closes_at: Mapped[str] = mapped_column(String(5))
    description: Mapped[str | None] = mapped_column(String(500))


class ServiceArea(Base):
    """Where a service is available: a GeoJSON polygon and its bounding box (prefilter)."""

    __tablename__ = "directory_service_area"
    __table_args__ = (Index("ix_directory_service_area_bbox", "min_lat", "max_lat"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_service.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(250))
    description: Mapped[str | None] = mapped_column(Text)
    extent: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    min_lon: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)


# Listing versions live in `directory.versions` (re-exported here, where callers look).
from directory.versions import ServiceVersion  # noqa: E402
