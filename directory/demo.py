"""Demo directory: a few dozen services across populations, service types, languages and
places (idempotent: fixed ids, nothing overwritten). Demo listings have no owning network
organisation (hub admins moderate them), since the directory cannot see the gateway's
demo organisations.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from directory import service as directory_service
from directory.models import DirOrganization, Service
from directory.schemas import LocationIn, ScheduleIn, ServiceIn
from kernel.db import utcnow

__all__ = ["DEMO_NAMESPACE", "load"]

DEMO_NAMESPACE = uuid.UUID("8f1d2c1e-5c55-4a4e-9d6b-0c1de3a0d001")

_PLACES = [  # city, postcode, lat, lon, country
    ("Lisbon", "1100-001", 38.7223, -9.1393, "PT"),
    ("Porto", "4000-001", 41.1579, -8.6291, "PT"),
    ("Athens", "104 31", 37.9838, 23.7275, "GR"),
    ("Thessaloniki", "546 21", 40.6401, 22.9444, "GR"),
    ("Berlin", "10115", 52.5200, 13.4050, "DE"),
]
_ZONES = {"PT": "Europe/Lisbon", "GR": "Europe/Athens", "DE": "Europe/Berlin"}
_ORGS = [
    ("Safe Harbour Refugee Support", "resettlement_ngo"),
    ("Children First Protection Network", "child_protection"),
    ("Women's Refuge Alliance", "gbv_service"),
    ("Centre for Survivors of Torture", "torture_survivor_service"),
    ("Open Doors Disability Services", "disability_service"),
    ("Rainbow Welcome Collective", "lgbtiq_service"),
]
# fmt: off
_SERVICES: list[tuple[int, str, list[str], list[str], list[str], list[str], str]] = [
    # org, name, categories, types, populations, languages, capacity
    (0, "Emergency shelter", ["housing"], ["housing-0"], [], ["en", "ar", "fa"], "capacity"),
    (0, "Legal aid for asylum claims", ["legal"], ["legal-0"], [], ["en", "ar", "fr"], "waitlist"),
    (
        0,
        "Interpretation by phone",
        ["interpretation"],
        [],
        [],
        ["ar", "fa", "ps", "uk", "ti"],
        "capacity",
    ),
    (0, "Employment coaching", ["employment"], [], [], ["en", "uk", "ru"], "capacity"),
    (
        1,
        "Unaccompanied minors case management",
        ["case-management"],
        [],
        ["unaccompanied-minors", "children-at-risk"],
        ["en", "ar", "ps", "prs"],
        "capacity",
    ),
    (
        1,
        "Family tracing and reunification",
        ["case-management"],
        [],
        ["unaccompanied-minors"],
        ["en", "fr", "so", "ti"],
        "waitlist",
    ),
    (
        1,
        "Child-friendly space",
        ["childcare"],
        [],
        ["children-at-risk", "families-with-young-children"],
        ["en", "ar", "uk"],
        "capacity",
    ),
    (
        2,
        "Gender-based violence response",
        ["mental-health"],
        ["mental-health-0"],
        ["survivors-of-violence", "women-and-girls-at-risk"],
        ["en", "ar", "fa", "sw"],
        "capacity",
    ),
    (
        2,
        "Safe house for women and girls",
        ["housing"],
        ["housing-1"],
        ["women-and-girls-at-risk", "survivors-of-violence"],
        ["en", "ar", "fr"],
        "no-capacity",
    ),
    (
        3,
        "Trauma counselling",
        ["mental-health"],
        ["mental-health-1"],
        ["survivors-of-torture", "survivors-of-violence"],
        ["en", "ar", "fa", "ti"],
        "additional-assessment-required",
    ),
    (
        3,
        "Medical documentation of torture",
        ["health", "legal"],
        [],
        ["survivors-of-torture"],
        ["en", "fr", "es"],
        "waitlist",
    ),
    (
        4,
        "Disability assessment and aids",
        ["health"],
        ["health-0"],
        ["people-with-disabilities", "older-people"],
        ["en", "uk", "ru"],
        "capacity",
    ),
    (
        4,
        "Accessible transport",
        ["transport"],
        [],
        ["people-with-disabilities", "older-people"],
        ["en"],
        "capacity",
    ),
    (
        5,
        "LGBTIQ+ peer support",
        ["mental-health"],
        ["mental-health-2"],
        ["lgbtiq"],
        ["en", "es", "ar", "ru"],
        "capacity",
    ),
    (
        5,
        "Safe housing for LGBTIQ+ people",
        ["housing"],
        ["housing-2"],
        ["lgbtiq"],
        ["en", "es"],
        "waitlist",
    ),
    (
        0,
        "Food parcels",
        ["food"],
        [],
        ["families-with-young-children"],
        ["en", "ar", "uk", "so"],
        "capacity",
    ),
]


def _id(*parts: Any) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, "/".join(str(p) for p in parts))


def load(session: Session, _settings: object) -> list[str]:
    """Add the demo directory if it is missing; return one line saying where to look."""
    added = 0
    orgs = []
    for i, (name, org_type) in enumerate(_ORGS):
        org = session.get(DirOrganization, _id("org", i))
        if org is None:
            org = DirOrganization(id=_id("org", i), name=name, org_type=org_type,
                                  description=f"{name}: a member of the demo referral network.")
            session.add(org)
            session.flush()
        orgs.append(org)
    for place_no, (city, postcode, lat, lon, country) in enumerate(_PLACES):
        for j, (org_no, name, cats, types, pops, langs, capacity) in enumerate(_SERVICES):
            sid = _id("service", place_no, j)
            if session.get(Service, sid) is not None:
                continue
            body = ServiceIn(
                name=f"{name} ({city})",
                description=f"{name} in {city}, for people referred by network partners.",
                categories=cats, types=types, populations=pops, languages=langs,
                capacity=capacity, accepts_electronic_referrals=(j % 3 != 2),
                wait_time_days=21 if capacity == "waitlist" else None,
                intake_requirements="Referral form and consent to share; interpreter on request.",
                visibility="network" if j % 7 == 6 else "public",
                locations=[LocationIn(
                    id=_id("location", place_no, org_no), name=f"{_ORGS[org_no][0]} {city}",
                    address_1=f"{10 + org_no} Main Street", city=city, postal_code=postcode,
                    country=country, latitude=lat + 0.01 * org_no, longitude=lon + 0.01 * org_no,
                )],
                schedules=[ScheduleIn(byday="MO,TU,WE,TH,FR", opens_at="09:00", closes_at="17:00")],
                timezone=_ZONES[country],
            )
            service = Service(id=sid, organization_id=orgs[org_no].id, owner_organisation_id=None)
            session.add(service)
            directory_service.apply_listing(session, service, orgs[org_no], body)
            directory_service.save_version(session, service, change="create", actor="system:demo")
            # the demo's own listings need no hub admin's review (the queue starts empty)
            service.reviewed_version, service.reviewed_by = service.version, "system:demo"
            service.reviewed_at = utcnow()
            added += 1
    return [
        f"Directory:      {added} demo services added (GET /directory/services, /hsds/services)"
    ]
