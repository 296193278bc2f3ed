"""Directory rules: who edits which listing, and how a listing is written, versioned, audited.

Every write records an audit entry and a new version (the listing's HSDS JSON). Services
flush; the boundary (request, task, CLI) commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from directory import hsds
from directory.access import EDITOR_ROLES, Viewer, visible_services
from directory.details import Details, load_details
from directory.errors import ListingNotFound, NotListingEditor, NotModerator
from directory.geometry import bounding_box, sync_coordinates
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
    "confirm_service",
    "create_service",
    "get_service",
    "list_versions",
    "moderate_service",
    "own_organization",
    "save_version",
    "set_endpoint",
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
    """Create or replace the caller's organisation listing.

    The listing takes the network organisation's id: one organisation has one FHIR
    identity (`Organization/<id>`), the one Consents, Tasks and referrals name.

    Raises:
        Conflict: another (imported) directory organisation already has that id.
    """
    _require_editor(caller, caller.organisation_id)
    org = own_organization(session, caller.organisation_id)
    created = org is None
    if org is None:
        if session.get(DirOrganization, caller.organisation_id) is not None:
            raise Conflict("A directory organisation with your organisation's id exists already.")
        org = DirOrganization(
            id=caller.organisation_id, owner_organisation_id=caller.organisation_id
        )
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
