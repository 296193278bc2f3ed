"""A rich HSDS service document for tests: every HSDS 3.0 object linked consistently, and
refhub's network extension."""

from __future__ import annotations

import uuid
from typing import Any

NS = uuid.UUID("0b3e8c1a-6d2f-4f61-9a0e-5c7d2b1e4f90")


def ident(name: str) -> str:
    return str(uuid.uuid5(NS, name))


SERVICE, ORG, OWNER = ident("service"), ident("org"), ident("owner")
LOCATION, SAL, ENDPOINT = ident("location"), ident("sal"), ident("endpoint")


def rich_document() -> dict[str, Any]:
    """A network-only service whose every HSDS field has a value."""
    term = {
        "id": ident("term"),
        "code": "talking-therapy",
        "name": "Talking therapy",
        "description": "Counselling and psychotherapy",
        "taxonomy": "Example services taxonomy",
        "taxonomy_id": ident("taxonomy"),
        "language": "en",
        "term_uri": "https://taxonomy.example.org/services#talking-therapy",
        "taxonomy_detail": {
            "id": ident("taxonomy"),
            "name": "Example services taxonomy",
            "description": "Kinds of service",
            "uri": "https://taxonomy.example.org/services",
            "version": "2.1",
        },
    }
    return {
        "id": SERVICE,
        "organization_id": ORG,
        "name": "Community counselling",
        "alternate_name": "Counselling",
        "description": "Counselling by trained professionals.",
        "url": "https://counselling.example.org/",
        "email": "intake@counselling.example.org",
        "status": "active",
        "interpretation_services": "Interpreters on request",
        "application_process": "Phone the intake line",
        "fees_description": "Free for under 18s",
        "wait_time": "About two weeks",
        "fees": "Sliding scale",
        "accreditations": "BACP",
        "eligibility_description": "Residents of the county",
        "minimum_age": 12,
        "maximum_age": 99,
        "assured_date": "2025-10-01",
        "assurer_email": "assurer@example.org",
        "licenses": "Registered charity",
        "alert": "Phone lines closed on bank holidays",
        "last_modified": "2025-11-02T08:15:00.000Z",
        "organization": {
            "id": ORG,
            "name": "Counselling trust",
            "alternate_name": "The trust",
            "description": "A counselling charity",
            "email": "office@counselling.example.org",
            "website": "https://counselling.example.org/",
            "tax_status": "charity",
            "tax_id": "GB123",
            "year_incorporated": 1998,
            "legal_status": "Charitable company",
            "logo": "https://counselling.example.org/logo.png",
            "uri": "https://counselling.example.org/about",
            "parent_organization_id": ident("parent"),
            "funding": [{"id": ident("org-funding"), "organization_id": ORG, "source": "Lottery"}],
            "programs": [
                {
                    "id": ident("program"),
                    "organization_id": ORG,
                    "name": "Wellbeing",
                    "alternate_name": "Wellbeing programme",
                    "description": "Mental health services",
                }
            ],
            "organization_identifiers": [
                {
                    "id": ident("identifier"),
                    "organization_id": ORG,
                    "identifier_scheme": "GB-CHC",
                    "identifier_type": "Charity number",
                    "identifier": "1234567",
                }
            ],
            "phones": [{"id": ident("org-phone"), "organization_id": ORG, "number": "0100 200"}],
        },
        "program": {
            "id": ident("program"),
            "organization_id": ORG,
            "name": "Wellbeing",
            "alternate_name": "Wellbeing programme",
            "description": "Mental health services",
        },
        "funding": [{"id": ident("funding"), "service_id": SERVICE, "source": "County grant"}],
        "phones": [
            {
                "id": ident("phone"),
                "service_id": SERVICE,
                "number": "0100 300",
                "type": "voice",
                "languages": [
                    {"id": ident("phone-lang"), "phone_id": ident("phone"), "code": "cy"}
                ],
            }
        ],
        "schedules": [
            {
                "id": ident("weekly"),
                "service_id": SERVICE,
                "valid_from": "2026-01-01",
                "valid_to": "2026-12-31",
                "dtstart": "2026-01-05",
                "timezone": 0,
                "until": "2026-12-31",
                "wkst": "MO",
                "freq": "WEEKLY",
                "interval": 1,
                "byday": "MO,WE",
                "opens_at": "09:30:00",
                "closes_at": "17:00:00",
                "description": "Weekdays",
                "schedule_link": "https://counselling.example.org/hours",
                "attending_type": "in person",
                "notes": "Closed on bank holidays",
            },
            {
                "id": ident("monthly"),
                "service_id": SERVICE,
                "freq": "MONTHLY",
                "interval": 2,
                "count": 6,
                "bymonthday": "1,15",
                "byweekno": "2",
                "byyearday": "30",
                "opens_at": "10:00",
                "closes_at": "12:00",
                "attending_type": "online",
                "notes": "Drop-in clinic",
            },
        ],
        "service_areas": [
            {
                "id": ident("area"),
                "service_id": SERVICE,
                "name": "The county",
                "description": "All of it",
                "extent": '{"type":"Polygon","coordinates":[[[-3,51],[-2,51],[-2,52],[-3,51]]]}',
                "extent_type": "geojson",
                "uri": "https://areas.example.org/county",
            }
        ],
        "service_at_locations": [
            {
                "id": SAL,
                "service_id": SERVICE,
                "location_id": LOCATION,
                "description": "At the civic centre",
                "contacts": [
                    {
                        "id": ident("sal-contact"),
                        "service_at_location_id": SAL,
                        "name": "Front desk",
                        "phones": [
                            {
                                "id": ident("sal-contact-phone"),
                                "contact_id": ident("sal-contact"),
                                "number": "0100 400",
                            }
                        ],
                    }
                ],
                "phones": [
                    {"id": ident("sal-phone"), "service_at_location_id": SAL, "number": "0100 500"}
                ],
                "schedules": [
                    {
                        "id": ident("sal-schedule"),
                        "service_at_location_id": SAL,
                        "freq": "WEEKLY",
                        "byday": "FR",
                        "opens_at": "13:00:00",
                        "closes_at": "15:30:00",
                    }
                ],
                "location": {
                    "id": LOCATION,
                    "location_type": "physical",
                    "url": "https://civic.example.org/",
                    "organization_id": ORG,
                    "name": "Civic centre",
                    "alternate_name": "The centre",
                    "description": "On the high street",
                    "transportation": "Bus 12",
                    "latitude": 51.48,
                    "longitude": -3.18,
                    "external_identifier": "UPRN 100",
                    "external_identifier_type": "UPRN",
                    "addresses": [
                        {
                            "id": ident("address"),
                            "location_id": LOCATION,
                            "attention": "Reception",
                            "address_1": "1 High Street",
                            "address_2": "Floor 2",
                            "city": "Cardiff",
                            "region": "South Wales",
                            "state_province": "Wales",
                            "postal_code": "CF10 1AA",
                            "country": "GB",
                            "address_type": "physical",
                        }
                    ],
                    "accessibility": [
                        {
                            "id": ident("access"),
                            "location_id": LOCATION,
                            "description": "Step-free",
                            "details": "Lift to floor 2",
                            "url": "https://civic.example.org/access",
                        }
                    ],
                    "languages": [
                        {
                            "id": ident("loc-lang"),
                            "location_id": LOCATION,
                            "name": "Welsh",
                            "code": "cy",
                        }
                    ],
                },
            }
        ],
        "languages": [
            {
                "id": ident("lang"),
                "service_id": SERVICE,
                "name": "Welsh",
                "code": "cy",
                "note": "Some staff",
            }
        ],
        "cost_options": [
            {
                "id": ident("cost"),
                "service_id": SERVICE,
                "valid_from": "2026-01-01",
                "valid_to": "2026-12-31",
                "option": "Adults",
                "currency": "GBP",
                "amount": 20,
                "amount_description": "per session",
            }
        ],
        "required_documents": [
            {
                "id": ident("document"),
                "service_id": SERVICE,
                "document": "Proof of address",
                "uri": "https://counselling.example.org/documents",
            }
        ],
        "contacts": [
            {
                "id": ident("contact"),
                "service_id": SERVICE,
                "name": "Ann Persona",
                "title": "Intake lead",
                "department": "Intake",
                "email": "ann@counselling.example.org",
                "phones": [
                    {
                        "id": ident("contact-phone"),
                        "contact_id": ident("contact"),
                        "number": "0100 600",
                        "extension": 12,
                        "description": "Direct line",
                    }
                ],
            }
        ],
        "attributes": [
            {
                "id": ident("attribute"),
                "link_id": SERVICE,
                "taxonomy_term_id": term["id"],
                "link_type": "service_type",
                "link_entity": "service",
                "value": "primary",
                "taxonomy_term": term,
            }
        ],
        "metadata": [
            {
                "id": ident("metadata"),
                "resource_id": SERVICE,
                "resource_type": "service",
                "last_action_date": "2025-11-02",
                "last_action_type": "update",
                "field_name": "name",
                "previous_value": "Counselling",
                "replacement_value": "Community counselling",
                "updated_by": "Ann Persona",
            }
        ],
        "refhub": {
            "visibility": "network",
            "owner_organisation_id": OWNER,
            "accepts_electronic_referrals": True,
            "capacity": "waitlist",
            "capacity_note": "Phone lines closed on bank holidays",
            "wait_time_days": 14,
            "intake_requirements": "Referral form and consent",
            "timezone": "Europe/London",
            "populations": ["older-people"],
            "endpoint": {
                "id": ENDPOINT,
                "connection_type": "hl7-fhir-rest",
                "address": "https://counselling.example.org/fhir",
                "payload_types": ["urn:refhub:referral-packet"],
                "public_jwk": {"kty": "OKP", "crv": "X25519", "x": "a" * 43},
                "active": True,
            },
        },
    }
