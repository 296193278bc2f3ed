"""One organisation, one FHIR identity: a network organisation's listing has its id, and a
network organisation without a listing still resolves at `/fhir/Organization/<id>` (and in
searches by `_id`) for network members; imported organisations keep their own ids."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory import service as directory_service
from directory.models import DirOrganization
from directory.schemas import OrganizationIn
from gateway.auth.models import OrgStatus
from kernel.errors import Conflict
from tests.directory.factories import editor, make_listing
from tests.gateway.staff import Account, MakeAccount, MakeOrg, StaffClient


def test_a_listing_takes_its_network_organisations_id(
    db: Session, make_org: MakeOrg, app: FastAPI
) -> None:
    org = make_org()
    make_listing(db, org.id)
    listing = directory_service.own_organization(db, org.id)
    assert listing is not None and listing.id == org.id
    public = TestClient(app).get(f"/fhir/Organization/{org.id}")
    assert public.status_code == 200 and public.json()["name"] == listing.name


def test_an_unlisted_network_organisation_resolves_for_members(
    db: Session,
    make_org: MakeOrg,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
    app: FastAPI,
) -> None:
    unlisted = make_org(org_type="health")
    suspended = make_org(status=OrgStatus.SUSPENDED)
    applicant = make_org(status=OrgStatus.APPLIED)
    listed = make_org()
    make_listing(db, listed.id)
    imported = DirOrganization(name="Imported clinic")
    db.add(imported)
    db.flush()
    member = staff_client(make_account())

    read = member.get(f"/fhir/Organization/{unlisted.id}")
    assert read.status_code == 200, read.text
    assert read.json()["name"] == unlisted.name and read.json()["active"] is True
    assert read.json()["type"][0]["coding"][0]["code"] == "health"
    assert member.get(f"/fhir/Organization/{suspended.id}").json()["active"] is False
    assert member.get(f"/fhir/Organization/{applicant.id}").status_code == 404
    assert member.get(f"/fhir/Organization/{uuid.uuid4()}").status_code == 404
    anonymous = TestClient(app)
    assert anonymous.get(f"/fhir/Organization/{unlisted.id}").status_code == 404

    wanted = ",".join(str(i) for i in (unlisted.id, listed.id, imported.id, applicant.id))
    found = member.get("/fhir/Organization", params={"_id": wanted}).json()
    ids = [e["resource"]["id"] for e in found["entry"]]
    assert found["total"] == 3
    assert sorted(ids[:2]) == sorted([str(listed.id), str(imported.id)])  # listings first
    assert ids[2] == str(unlisted.id)
    paged = member.get("/fhir/Organization", params={"_id": wanted, "_count": 2, "_page": 2})
    assert [e["resource"]["id"] for e in paged.json()["entry"]] == [str(unlisted.id)]
    by_name = member.get("/fhir/Organization", params={"name": unlisted.name}).json()
    assert by_name["total"] == 0  # other filters describe listings
    public = anonymous.get("/fhir/Organization", params={"_id": str(unlisted.id)}).json()
    assert public["total"] == 0 and "entry" not in public


def test_a_listing_cannot_take_an_id_an_imported_organisation_has(
    db: Session, make_org: MakeOrg
) -> None:
    org = make_org()
    db.add(DirOrganization(id=org.id, name="Imported with that id"))
    db.flush()
    with pytest.raises(Conflict):
        directory_service.upsert_organization(db, editor(org.id), body=OrganizationIn(name="X"))
