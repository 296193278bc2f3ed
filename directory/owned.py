"""The owner's own view of its listings (the web console's listings pages): every listing of
the caller's organisation whatever its visibility or moderation, its endpoint, and a listing
as its owner would write it back. Another organisation's listing is "not found"."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.access import EDITOR_ROLES
from directory.details import Details, load_details
from directory.errors import ListingNotFound, NotListingEditor
from directory.models import DirEndpoint, Service
from directory.schemas import ServiceIn
from directory.service import own_organization
from directory.vocabulary import CATEGORY_SYSTEM, TYPE_SYSTEM
from kernel.caller import Caller

__all__ = ["current_body", "own_endpoint", "own_listing", "own_listings"]


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
