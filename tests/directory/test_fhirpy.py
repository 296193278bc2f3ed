"""An unmodified FHIR client library (fhirpy's SyncFHIRClient) searches HealthcareService on
the real app served by uvicorn (committed data, removed afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fhirpy import SyncFHIRClient
from sqlalchemy import delete

from directory import service as directory_service
from directory.models import DirOrganization, Service, TaxonomyTerm
from directory.schemas import OrganizationIn, ServiceIn
from directory.taxonomy import term_ids
from directory.vocabulary import CATEGORY_SYSTEM
from gateway.runtime import Runtime
from kernel.db import transaction
from tests.directory.factories import editor
from tests.serving import serve

RUN = uuid.uuid4().hex[:8]
CATEGORY = f"fhirpy-{RUN}"  # a category only this test's listings have


@pytest.fixture
def base_url(committed: Runtime) -> Iterator[str]:
    """The app on a free port in a background thread, with three committed listings."""
    org = uuid.uuid4()
    with transaction(committed.sessions) as session:
        directory_service.upsert_organization(
            session, editor(org), body=OrganizationIn(name=f"Fhirpy org {RUN}")
        )
        for name, languages in (("Alpha", ["en", "uk"]), ("Beta", ["ar"]), ("Gamma", ["uk"])):
            body = ServiceIn(
                name=f"Fhirpy {RUN} {name} clinic", categories=[CATEGORY], languages=languages
            )
            directory_service.create_service(session, editor(org), body=body)
    try:
        with serve(committed) as url:
            yield f"{url}/fhir"
    finally:
        with transaction(committed.sessions) as session:
            terms = term_ids(session, CATEGORY_SYSTEM, [CATEGORY])
            session.execute(delete(Service).where(Service.owner_organisation_id == org))
            mine = DirOrganization.owner_organisation_id == org
            session.execute(delete(DirOrganization).where(mine))
            session.execute(delete(TaxonomyTerm).where(TaxonomyTerm.id.in_(terms)))


def test_fhirpy_searches_healthcare_services(base_url: str) -> None:
    client = SyncFHIRClient(base_url)
    services = client.resources("HealthcareService")

    by_category = services.search(**{"service-category": f"{CATEGORY_SYSTEM}|{CATEGORY}"})
    names = sorted(r["name"] for r in by_category.fetch_all())
    assert names == [f"Fhirpy {RUN} {n} clinic" for n in ("Alpha", "Beta", "Gamma")]

    by_name = services.search(name=f"Fhirpy {RUN} Be").fetch()
    assert [r["name"] for r in by_name] == [f"Fhirpy {RUN} Beta clinic"]
    assert by_name[0]["resourceType"] == "HealthcareService"

    speaks_uk = services.search(
        **{"service-category": f"{CATEGORY_SYSTEM}|{CATEGORY}", "communication": "uk"}
    ).fetch_all()
    assert sorted(r["name"] for r in speaks_uk) == [
        f"Fhirpy {RUN} Alpha clinic",
        f"Fhirpy {RUN} Gamma clinic",
    ]
    assert all(
        any(c["code"] == "uk" for concept in r["communication"] for c in concept["coding"])
        for r in speaks_uk
    )

    paged = services.search(name=f"Fhirpy {RUN}").limit(2).fetch_all()  # follows Bundle.link next
    assert len(paged) == 3
    assert services.search(name=f"Fhirpy {RUN}").count() == 3
    one = client.reference("HealthcareService", paged[0]["id"]).to_resource()
    assert one["name"] == paged[0]["name"]
