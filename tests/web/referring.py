"""The sender's side of the browser tests: listed receiving services and a client with a
consent for them (set up in the database), and composing and sending a referral or a
handover through the pages, step by step as a case worker does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent.models import Purpose
from directory import service as directory_service
from directory.schemas import EndpointIn, OrganizationIn
from gateway.auth.models import OrgType
from gateway.runtime import Runtime
from kernel.caller import Caller, CallerKind, Role
from tests.consent.factories import grant, make_client, permit
from tests.directory.factories import editor, make_listing
from tests.web.conftest import Person, make_org

CLIENT = "Amal Haddad"
NEED = "Temporary housing ends in 60 days"


@dataclass(frozen=True)
class Listed:
    """A receiving organisation and its service listed in the directory."""

    org_id: uuid.UUID
    org_name: str
    service_id: uuid.UUID


@dataclass(frozen=True)
class Network:
    """The sender's client and the services the client's consent lets it send to."""

    client_id: uuid.UUID
    services: tuple[Listed, ...]


def _listed(session: Session, name: str) -> Listed:
    org = make_org(session, name, OrgType.TORTURE_SURVIVOR_SERVICE)
    directory_service.upsert_organization(
        session, editor(org.id), body=OrganizationIn(name=org.name)
    )
    service_id = make_listing(
        session, org.id, name="Trauma counselling", accepts_electronic_referrals=True
    )
    directory_service.set_endpoint(
        session,
        editor(org.id),
        body=EndpointIn(connection_type="rest-hook", address=f"https://{org.id.hex[:8]}.example/"),
    )
    return Listed(org.id, org.name, service_id)


def listed(committed: Runtime, names: tuple[str, ...]) -> tuple[Listed, ...]:
    """Receiving services (one per organisation name) listed with an electronic endpoint."""
    with committed.sessions.begin() as session:
        return tuple(_listed(session, name) for name in names)


def network(
    committed: Runtime, sender: Person, names: tuple[str, ...] = ("Safe Harbour Counselling",)
) -> Network:
    """Listed services (one per name) and a client of the sender's whose consent shares
    identity, needs, family and case notes (the messages) with such services for
    referrals and handovers, and lets their answers come back to the sender."""
    with committed.sessions.begin() as session:
        services = tuple(_listed(session, name) for name in names)
        worker = Caller(
            CallerKind.USER, uuid.uuid4(), sender.org_id, roles=frozenset({Role.CASE_WORKER})
        )
        client = make_client(session, worker, name=CLIENT)
        purposes = (Purpose.REFERRAL, Purpose.HANDOVER)
        grant(
            session,
            worker,
            client,
            permit(
                org_type=OrgType.TORTURE_SURVIVOR_SERVICE.value,
                purposes=purposes,
                categories=(
                    DataCategory.IDENTITY,
                    DataCategory.NEEDS,
                    DataCategory.FAMILY,
                    DataCategory.CASE_NOTES,
                ),
            ),
            permit(org=sender.org_id, purposes=purposes, categories=(DataCategory.CASE_NOTES,)),
        )
        return Network(client.id, services)


def start(page: Page, hub: str, client_id: uuid.UUID, service_id: uuid.UUID, kind: str) -> None:
    """From the service's "refer" link to the task list, the consent chosen."""
    page.goto(f"{hub}/ui/referrals/new?client={client_id}&service={service_id}")
    page.get_by_label(f"A {kind}").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name=f"New {kind}")).to_be_visible()
    page.get_by_role("link", name="Client's consent").click()
    page.get_by_role("button", name="Save and continue").click()


def fill_summary(page: Page, birth: str = "1989") -> None:
    """The case summary: reference, urgency, one need, one family member, language."""
    page.get_by_role("link", name="Case summary").click()
    page.get_by_label("Your case reference").fill("HR-2026-7")
    page.get_by_label("Soon: within 72 hours").check()
    page.get_by_label("What the client needs help with").select_option("shelter")
    page.get_by_label("Details").fill(NEED)
    page.get_by_label("Given name").fill("Laila")
    page.get_by_label("Relationship to the client").select_option("wife")
    page.get_by_label("Birth date").fill(birth)
    page.get_by_label("Main language").select_option("prs")
    page.get_by_role("button", name="Save and continue").click()


def send(page: Page, kind: str) -> str:
    """From the review page: send, and the new referral's id from the confirmation."""
    page.get_by_role("button", name=f"Send {kind}").click()
    expect(page.get_by_role("heading", name=f"{kind.capitalize()} sent")).to_be_visible()
    href = page.get_by_role("link", name="Go to the referral").get_attribute("href") or ""
    return href.rsplit("/", 1)[-1]


def compose(page: Page, hub: str, net: Network, kind: str = "referral") -> str:
    """Compose and send a referral (or handover) of the network's client to its first
    service; the new referral's id."""
    start(page, hub, net.client_id, net.services[0].service_id, kind)
    fill_summary(page)
    page.get_by_role("link", name="Check your answers").click()
    return send(page, kind)
