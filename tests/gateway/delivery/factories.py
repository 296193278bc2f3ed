"""Receiving organisations for delivery tests: an organisation, its directory listing and
endpoint(s) with a real key pair, and committed messages to it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from directory.models import DirEndpoint, DirOrganization
from gateway.delivery import outgoing, subscriptions
from gateway.delivery.models import OutgoingMessage
from gateway.runtime import Runtime
from kernel.caller import Caller, CallerKind, Role
from tests.gateway.auth.factories import make_organisation


@dataclass
class ReceivingOrg:
    org_id: uuid.UUID
    directory_org_id: uuid.UUID
    key: ECKey
    endpoint_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def staff(self) -> Caller:
        return Caller(
            CallerKind.USER, uuid.uuid4(), self.org_id, roles=frozenset({Role.CASE_WORKER})
        )


def receiving_org(
    session: Session, endpoints: list[tuple[str, str]] | None = None, *, with_key: bool = True
) -> ReceivingOrg:
    """An organisation with a directory listing and endpoints [(connection_type, url)]
    (written directly: the directory's own schema only takes https addresses)."""
    org = make_organisation(session)
    listing = DirOrganization(id=org.id, owner_organisation_id=org.id, name=f"Listing {org.name}")
    session.add(listing)
    session.flush()
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    public: dict[str, Any] | None = key.as_dict(private=False) if with_key else None
    receiving = ReceivingOrg(org.id, listing.id, key)
    for connection_type, url in endpoints or []:
        endpoint = DirEndpoint(
            organization_id=listing.id,
            connection_type=connection_type,
            address=url,
            payload_types=["application/fhir+json"],
            public_jwk=public,
            active=True,
        )
        session.add(endpoint)
        session.flush()
        receiving.endpoint_ids.append(endpoint.id)
    return receiving


def committed_org(runtime: Runtime, endpoints: list[tuple[str, str]] | None = None) -> ReceivingOrg:
    with runtime.sessions.begin() as session:
        return receiving_org(session, endpoints)


def send(
    runtime: Runtime,
    recipient: uuid.UUID,
    *,
    n: int = 1,
    kind: outgoing.MessageKind = outgoing.MessageKind.STATUS,
    subject_ref: str = "Patient/p1",
    referral_id: uuid.UUID | None = None,
    sender: uuid.UUID | None = None,
) -> list[str]:
    """Queue `n` committed messages; their ids."""
    with runtime.sessions.begin() as session:
        messages = [
            outgoing.queue(
                session,
                kind=kind,
                recipient_org_id=recipient,
                sender_org_id=sender,
                referral_id=referral_id or uuid.uuid4(),
                subject_ref=subject_ref,
            )
            for _ in range(n)
        ]
        return [str(m.id) for m in messages]


def message(runtime: Runtime, message_id: str) -> OutgoingMessage:
    with runtime.sessions() as session:
        row = session.get(OutgoingMessage, uuid.UUID(message_id))
        assert row is not None
        return row


def isolation_ids(db: Session, org_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """A message to and a subscription of organisation `org_id`, for the route walk."""
    queued = outgoing.queue(
        db,
        kind=outgoing.MessageKind.STATUS,
        recipient_org_id=org_id,
        sender_org_id=None,
        referral_id=uuid.uuid4(),
        subject_ref="Patient/p1",
    )
    owner = Caller(CallerKind.USER, uuid.uuid4(), org_id, roles=frozenset({Role.ORG_ADMIN}))
    subscription = subscriptions.create_subscription(
        db,
        owner,
        body={
            "resourceType": "Subscription",
            "criteria": f"Task?owner=Organization/{org_id}",
            "channel": {"type": "rest-hook", "endpoint": "https://receiver.example.org/hook"},
        },
        allow_http=False,
    )
    return {"message_id": queued.id, "subscription_id": subscription.id}
