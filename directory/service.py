"""Directory rules: who edits which listing, and how a listing is written, versioned, audited.

Every write records an audit entry and a new version (the listing's HSDS JSON). Services
flush; the boundary (request, task, CLI) commits.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from directory import hsds
from directory.access import EDITOR_ROLES, Viewer, visible_services
from directory.details import Details, load_details
from directory.errors import ListingNotFound, NotListingEditor, NotModerator
from directory.models import (
    DirEndpoint,
    DirLocation,
    DirOrganization,
    Moderation,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    ServicePopulation,
    ServiceTerm,
    ServiceVersion,
)
from directory.schemas import (
    CapacityIn,
    EndpointIn,
    LocationIn,
    ModerationIn,
    OrganizationIn,
    ServiceIn,
)
from directory.search import search_keys
from directory.taxonomy import ensure_term
from directory.vocabulary import CATEGORY_SYSTEM, TYPE_SYSTEM
from kernel import audit
from kernel.caller import Caller
from kernel.db import utcnow
from kernel.errors import Conflict

__all__ = [
    "apply_listing",
    "bounding_box",
    "confirm_service",
    "create_service",
    "current_body",
    "get_service",
    "list_versions",
    "moderate_service",
    "own_endpoint",
    "own_listing",
    "own_listings",
    "own_organization",
    "save_version",
    "set_endpoint",
    "sync_coordinates",
    "update_capacity",
    "update_service",
    "upsert_organization",
]


def _require_editor(caller: Caller, owner: uuid.UUID | None) -> None:
    if caller.is_hub_admin:
        return
    if owner is None or owner != caller.organisation_id or not caller.has_role(*EDITOR_ROLES):
        raise NotListingEditor("Only your organisation's org_admin or supervisor edits this.")


def own_organization(session: Session, organisation_id: uuid.UUID) -> DirOrganization | None:
    """The directory organization listing of a network organisation, if it has one."""
    return session.scalars(
        select(DirOrganization).where(DirOrganization.owner_organisation_id == organisation_id)
    ).first()


def upsert_organization(
    session: Session, caller: Caller, *, body: OrganizationIn
) -> DirOrganization:
    """Create or replace the caller's organisation listing."""
    _require_editor(caller, caller.organisation_id)
    org = own_organization(session, caller.organisation_id)
    created = org is None
    if org is None:
        org = DirOrganization(owner_organisation_id=caller.organisation_id)
        session.add(org)
    for key, value in body.model_dump().items():
        setattr(org, key, value)
    org.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="directory.organization." + ("create" if created else "update"),
        organisation=str(caller.organisation_id),
        subject=f"Organization/{org.id}",
    )
    return org


def set_endpoint(session: Session, caller: Caller, *, body: EndpointIn) -> DirEndpoint:
    """Create or replace the endpoint where the caller's organisation receives referrals;
    every listing of the organisation that accepts electronic referrals points to it."""
    _require_editor(caller, caller.organisation_id)
    org = own_organization(session, caller.organisation_id)
    if org is None:
        raise Conflict("Create your organisation's listing first (PUT /directory/organization).")
    endpoint = session.scalars(
        select(DirEndpoint).where(DirEndpoint.organization_id == org.id)
    ).first()
    if endpoint is None:
        endpoint = DirEndpoint(organization_id=org.id)
        session.add(endpoint)
    for key, value in body.model_dump().items():
        setattr(endpoint, key, value)
    endpoint.updated_at = utcnow()
    session.flush()
    for service in session.scalars(select(Service).where(Service.organization_id == org.id)):
        service.endpoint_id = endpoint.id if service.accepts_electronic_referrals else None
    audit.record(
        session,
        actor=caller.actor,
        action="directory.endpoint.set",
        organisation=str(caller.organisation_id),
        subject=f"Endpoint/{endpoint.id}",
        detail={"connection_type": endpoint.connection_type, "has_key": bool(body.public_jwk)},
    )
    return endpoint


def bounding_box(extent: dict[str, object]) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a GeoJSON geometry's coordinates."""
    points: list[tuple[float, float]] = []

    def walk(node: object) -> None:
        if (
            isinstance(node, list)
            and len(node) >= 2
            and all(isinstance(v, int | float) for v in node[:2])
        ):
            points.append((float(node[1]), float(node[0])))
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(extent.get("coordinates"))
    if not points:
        return (math.nan, math.nan, math.nan, math.nan)
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    return min(lats), max(lats), min(lons), max(lons)


def sync_coordinates(session: Session, location_ids: Collection[uuid.UUID]) -> None:
    """Copy these locations' coordinates onto every service-at-location row that points at
    them (the radius search reads them there). Call after moving a location: it may be
    shared with other services than the one being written."""
    if not location_ids:
        return
    of_location = DirLocation.id == ServiceAtLocation.location_id
    session.execute(
        update(ServiceAtLocation)
        .where(ServiceAtLocation.location_id.in_(list(location_ids)))
        .values(
            latitude=select(DirLocation.latitude).where(of_location).scalar_subquery(),
            longitude=select(DirLocation.longitude).where(of_location).scalar_subquery(),
        )
        .execution_options(synchronize_session="fetch")
    )


def _location(session: Session, org: DirOrganization, spec: LocationIn) -> DirLocation:
    loc = session.get(DirLocation, spec.id) if spec.id is not None else None
    moved = loc is not None and (loc.latitude, loc.longitude) != (spec.latitude, spec.longitude)
    if loc is None or loc.organization_id != org.id:
        loc = DirLocation(id=spec.id or uuid.uuid4(), organization_id=org.id)
        session.add(loc)
    for key, value in spec.model_dump(exclude={"id", "accessibility"}).items():
        setattr(loc, key, value)
    loc.accessibility = [
        {"id": str(uuid.uuid5(loc.id, text)), "description": text} for text in spec.accessibility
    ]
    loc.updated_at = utcnow()
    if moved:
        session.flush()
        sync_coordinates(session, [loc.id])
    return loc


def apply_listing(
    session: Session, service: Service, org: DirOrganization, body: ServiceIn
) -> None:
    """Write `body` onto `service` and replace its related rows."""
    fields = body.model_dump(
        exclude={
            "categories",
            "types",
            "languages",
            "populations",
            "phones",
            "locations",
            "schedules",
            "service_areas",
            "required_documents",
        }
    )
    for key, value in fields.items():
        setattr(service, key, value)
    service.phones = [
        {"id": str(uuid.uuid5(service.id, p.number)), **p.model_dump(exclude_none=True)}
        for p in body.phones
    ]
    service.required_documents = [
        {"id": str(uuid.uuid5(service.id, doc)), "document": doc} for doc in body.required_documents
    ]
    service.search_text = " ".join(
        part for part in (body.name, body.alternate_name, body.description) if part
    ).lower()
    service.updated_at = utcnow()
    session.flush()
    for model in (ServiceTerm, ServiceLanguage, ServicePopulation, ServiceAtLocation, Schedule):
        session.execute(delete(model).where(model.service_id == service.id))
    session.execute(delete(ServiceArea).where(ServiceArea.service_id == service.id))
    terms = {ensure_term(session, CATEGORY_SYSTEM, code).id for code in body.categories}
    for code in body.types:
        parent_code = next((c for c in body.categories if code.startswith(c + "-")), None)
        parent = ensure_term(session, CATEGORY_SYSTEM, parent_code) if parent_code else None
        terms.add(ensure_term(session, TYPE_SYSTEM, code, parent=parent).id)
    session.add_all(ServiceTerm(service_id=service.id, term_id=t) for t in sorted(terms))
    session.add_all(ServiceLanguage(service_id=service.id, code=c) for c in body.languages)
    session.add_all(ServicePopulation(service_id=service.id, code=c) for c in body.populations)
    keys = search_keys(terms, body.languages)
    for spec in body.locations:
        loc = _location(session, org, spec)
        session.flush()
        session.add(
            ServiceAtLocation(
                service_id=service.id,
                location_id=loc.id,
                latitude=loc.latitude,
                longitude=loc.longitude,
                search_keys=keys,
            )
        )
    for sched in body.schedules:
        session.add(Schedule(service_id=service.id, **sched.model_dump()))
    for area in body.service_areas:
        min_lat, max_lat, min_lon, max_lon = bounding_box(area.extent)
        session.add(
            ServiceArea(
                service_id=service.id,
                name=area.name,
                description=area.description,
                extent=area.extent,
                min_lat=min_lat,
                max_lat=max_lat,
                min_lon=min_lon,
                max_lon=max_lon,
            )
        )
    endpoint = session.scalars(
        select(DirEndpoint.id).where(DirEndpoint.organization_id == org.id)
    ).first()
    service.endpoint_id = endpoint if body.accepts_electronic_referrals else None
    session.flush()


def save_version(session: Session, service: Service, *, change: str, actor: str) -> None:
    """Store the listing as it now is (HSDS JSON, with members-only parts) as a version."""
    (details,) = load_details(session, [service])
    session.add(
        ServiceVersion(
            service_id=service.id,
            version=service.version,
            change=change,
            actor=actor,
            snapshot=hsds.service_document(details, members=True),
        )
    )
    session.flush()


def _audit(session: Session, caller: Caller, action: str, service: Service) -> None:
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        organisation=str(caller.organisation_id),
        subject=f"HealthcareService/{service.id}",
        detail={"version": service.version},
    )


def create_service(session: Session, caller: Caller, *, body: ServiceIn) -> Service:
    """A new listing of the caller's organisation."""
    _require_editor(caller, caller.organisation_id)
    org = own_organization(session, caller.organisation_id)
    if org is None:
        raise Conflict("Create your organisation's listing first (PUT /directory/organization).")
    service = Service(
        id=uuid.uuid4(), organization_id=org.id, owner_organisation_id=caller.organisation_id
    )
    session.add(service)
    apply_listing(session, service, org, body)
    save_version(session, service, change="create", actor=caller.actor)
    _audit(session, caller, "directory.service.create", service)
    return service


def _editable(session: Session, caller: Caller, service_id: uuid.UUID) -> Service:
    service = session.scalars(
        visible_services(Viewer.of(caller)).where(Service.id == service_id).with_for_update()
    ).first()
    if service is None:
        raise ListingNotFound("No such listing.")
    _require_editor(caller, service.owner_organisation_id)
    return service


def update_service(
    session: Session, caller: Caller, *, service_id: uuid.UUID, body: ServiceIn
) -> Service:
    """Replace a listing (owner's editors or hub admin); a new version, confirmed now."""
    service = _editable(session, caller, service_id)
    org = session.get(DirOrganization, service.organization_id)
    assert org is not None
    service.version += 1
    service.confirmed_at = utcnow()
    service.stale_notified_at = None
    apply_listing(session, service, org, body)
    save_version(session, service, change="update", actor=caller.actor)
    _audit(session, caller, "directory.service.update", service)
    return service


def confirm_service(session: Session, caller: Caller, *, service_id: uuid.UUID) -> Service:
    """The owner confirms the listing is still correct (resets the stale clock)."""
    service = _editable(session, caller, service_id)
    service.confirmed_at = utcnow()
    service.stale_notified_at = None
    session.flush()
    _audit(session, caller, "directory.service.confirm", service)
    return service


def moderate_service(
    session: Session, caller: Caller, *, service_id: uuid.UUID, body: ModerationIn
) -> Service:
    """Hub admins suspend a listing (hidden from all but its owner) or restore it."""
    if not caller.is_hub_admin:
        raise NotModerator("Only hub admins moderate listings.")
    service = session.get(Service, service_id, with_for_update=True)
    if service is None:
        raise ListingNotFound("No such listing.")
    service.moderation = Moderation.SUSPENDED if body.action == "suspend" else Moderation.OK
    service.moderation_reason = body.reason
    service.version += 1
    service.updated_at = utcnow()
    # A verdict is a review: the version it produced leaves the moderation queue.
    service.reviewed_version, service.reviewed_at = service.version, service.updated_at
    service.reviewed_by = caller.actor
    session.flush()
    save_version(session, service, change="moderate-" + body.action, actor=caller.actor)
    _audit(session, caller, "directory.service.moderate", service)
    return service


def get_service(session: Session, viewer: Viewer, service_id: uuid.UUID) -> Details:
    """A listing the viewer may read, with its details."""
    service = session.scalars(visible_services(viewer).where(Service.id == service_id)).first()
    if service is None:
        raise ListingNotFound("No such listing.")
    return load_details(session, [service])[0]


def list_versions(
    session: Session, caller: Caller, *, service_id: uuid.UUID
) -> Sequence[ServiceVersion]:
    """The listing's history (its owner's editors and hub admins)."""
    service = session.get(Service, service_id)
    if service is None:
        raise ListingNotFound("No such listing.")
    try:
        _require_editor(caller, service.owner_organisation_id)
    except NotListingEditor:
        raise ListingNotFound("No such listing.") from None
    return session.scalars(
        select(ServiceVersion)
        .where(ServiceVersion.service_id == service_id)
        .order_by(ServiceVersion.version)
    ).all()


# The owner's own view (the web console's listings pages): every listing of the caller's
# organisation, whatever its visibility or moderation; another organisation's is "not found".


def _require_own_editor(caller: Caller) -> uuid.UUID:
    if caller.organisation_id is None or not caller.has_role(*EDITOR_ROLES):
        raise NotListingEditor("Only your organisation's org_admin or supervisor edits this.")
    return caller.organisation_id


def own_listings(session: Session, caller: Caller) -> list[Details]:
    """Every listing of the caller's organisation (network-only and suspended ones too),
    by name, with its details."""
    organisation_id = _require_own_editor(caller)
    services = session.scalars(
        select(Service)
        .where(Service.owner_organisation_id == organisation_id)
        .order_by(Service.name, Service.id)
    ).all()
    return load_details(session, services)


def own_listing(session: Session, caller: Caller, *, service_id: uuid.UUID) -> Details:
    """One listing of the caller's organisation; another organisation's is not found (its
    editors only: hub admins use `get_service`)."""
    organisation_id = _require_own_editor(caller)
    service = session.scalars(
        select(Service).where(
            Service.id == service_id, Service.owner_organisation_id == organisation_id
        )
    ).first()
    if service is None:
        raise ListingNotFound("No such listing.")
    return load_details(session, [service])[0]


def own_endpoint(session: Session, caller: Caller) -> DirEndpoint | None:
    """The endpoint of the caller's organisation, if it has set one (its editors only)."""
    organisation_id = _require_own_editor(caller)
    org = own_organization(session, organisation_id)
    if org is None:
        return None
    return session.scalars(select(DirEndpoint).where(DirEndpoint.organization_id == org.id)).first()


def current_body(details: Details) -> ServiceIn:
    """The listing as its owner would write it back unchanged (`update_service`'s body):
    an edit form changes some parts of it and keeps the rest."""
    s = details.service
    return ServiceIn.model_validate(
        {
            "name": s.name,
            "alternate_name": s.alternate_name,
            "description": s.description,
            "url": s.url,
            "email": s.email,
            "status": s.status,
            "visibility": s.visibility,
            "program": s.program,
            "categories": details.codes(CATEGORY_SYSTEM),
            "types": details.codes(TYPE_SYSTEM),
            "languages": details.languages,
            "populations": details.populations,
            "accepts_electronic_referrals": s.accepts_electronic_referrals,
            "capacity": s.capacity,
            "capacity_note": s.capacity_note,
            "wait_time_days": s.wait_time_days,
            "intake_requirements": s.intake_requirements,
            "application_process": s.application_process,
            "eligibility_description": s.eligibility_description,
            "fees_description": s.fees_description,
            "minimum_age": s.minimum_age,
            "maximum_age": s.maximum_age,
            "timezone": s.timezone,
            "phones": [
                {k: p[k] for k in ("number", "type", "description") if p.get(k) is not None}
                for p in s.phones or []
                if p.get("number")
            ],
            "locations": [
                {
                    "id": loc.id,
                    "name": loc.name,
                    "description": loc.description,
                    "location_type": loc.location_type,
                    "address_1": loc.address_1,
                    "city": loc.city,
                    "region": loc.region,
                    "state_province": loc.state_province,
                    "postal_code": loc.postal_code,
                    "country": loc.country,
                    "latitude": loc.latitude,
                    "longitude": loc.longitude,
                    "accessibility": [
                        str(a["description"])
                        for a in loc.accessibility or []
                        if a.get("description")
                    ],
                }
                for _sal, loc in details.locations
            ],
            "schedules": [
                {
                    "byday": h.byday,
                    "opens_at": h.opens_at,
                    "closes_at": h.closes_at,
                    "description": h.description,
                }
                for h in details.schedules
            ],
            "service_areas": [
                {"name": a.name, "description": a.description, "extent": a.extent}
                for a in details.areas
                if a.extent
            ],
            "required_documents": [
                str(d["document"]) for d in s.required_documents or [] if d.get("document")
            ],
        }
    )


def update_capacity(
    session: Session, caller: Caller, *, service_id: uuid.UUID, body: CapacityIn
) -> Service:
    """The owner's daily update: capacity, waiting time and note only; a new version,
    confirmed now, audited (as `update_service` is)."""
    service = _editable(session, caller, service_id)
    service.capacity = body.capacity
    service.wait_time_days = body.wait_time_days
    service.capacity_note = body.capacity_note
    service.version += 1
    service.confirmed_at = service.updated_at = utcnow()
    service.stale_notified_at = None
    session.flush()
    save_version(session, service, change="capacity", actor=caller.actor)
    _audit(session, caller, "directory.service.capacity", service)
    return service
