"""The pull inbox and the sender's receipts: what a caller's organisation may see of
outgoing messages, narrowed in one place (`_visible`).

Pull is always on: every message addressed to an organisation waits in its inbox until
acknowledged, whether or not a push channel also delivered it. Content is built when it
is fetched (the builder re-checks consent; a `Cancelled` message leaves the inbox; a status
notice says what it announced at its event, see `outgoing`), then
sealed to the organisation's directory key, or only signed when it has registered none
(it travels over the hub's TLS to the authenticated caller).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from joserfc import jws
from joserfc.jwk import ECKey
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from directory import models as directory_models
from gateway.delivery import outgoing, targets
from gateway.delivery.channels import FHIR_JSON
from gateway.delivery.envelope import MESSAGE_TYPE, REGISTRY, SIGNING_ALGORITHMS, seal_message
from gateway.delivery.errors import MessageNotFound
from gateway.delivery.models import MessageState, OutgoingMessage
from gateway.delivery.signing import signing_key
from kernel import audit
from kernel.caller import Caller
from kernel.db import utcnow
from kernel.errors import Conflict

__all__ = ["InboxItem", "acknowledge", "fetch_inbox", "visible_receipts"]

_WAITING = (MessageState.PENDING.value, MessageState.DELIVERED.value, MessageState.FAILED.value)


@dataclass(frozen=True)
class InboxItem:
    message_id: uuid.UUID
    kind: str
    created_at: dt.datetime
    format: str  # "jwe" (sealed to the organisation's key) or "jws" (signed only)
    envelope: str


def _visible(caller: Caller) -> ColumnElement[bool]:
    """Messages the caller's organisation sent or receives: the one organisation rule."""
    return or_(
        OutgoingMessage.recipient_org_id == caller.organisation_id,
        OutgoingMessage.sender_org_id == caller.organisation_id,
    )


def visible_receipts(
    session: Session, caller: Caller, *, referral_id: uuid.UUID
) -> list[OutgoingMessage]:
    """The delivery receipts about a referral that the caller's organisation sent or
    receives, oldest first."""
    return list(
        session.scalars(
            select(OutgoingMessage)
            .where(OutgoingMessage.referral_id == referral_id, _visible(caller))
            .order_by(OutgoingMessage.created_at, OutgoingMessage.id)
        )
    )


def _organisation_key(session: Session, organisation_id: uuid.UUID) -> targets.PublicKey | None:
    endpoints = session.scalars(
        select(directory_models.DirEndpoint)
        .join(
            directory_models.DirOrganization,
            directory_models.DirOrganization.id == directory_models.DirEndpoint.organization_id,
        )
        .where(
            directory_models.DirOrganization.owner_organisation_id == organisation_id,
            directory_models.DirEndpoint.active.is_(True),
        )
        .order_by(directory_models.DirEndpoint.id)
    )
    for endpoint in endpoints:
        key = targets.receiver_key(endpoint.public_jwk)
        if key is not None:
            return key
    return None


def _signed(body: bytes, message_id: str, key: ECKey) -> str:
    header = {
        "alg": "ES256",
        "kid": key.kid or key.thumbprint(),
        "typ": MESSAGE_TYPE,
        "cty": FHIR_JSON,
        "refhub-msg": message_id,
        "iat": int(utcnow().timestamp()),
    }
    return jws.serialize_compact(
        header, body, key, algorithms=SIGNING_ALGORITHMS, registry=REGISTRY
    )


def fetch_inbox(
    session: Session, caller: Caller, *, signing_key_path: Path, limit: int = 20
) -> list[InboxItem]:
    """The caller's organisation's messages not yet acknowledged, oldest first, each built
    now (consent re-checked) and sealed or signed. Every disclosure is audited."""
    hub_key = signing_key(signing_key_path)
    receiver = _organisation_key(session, caller.organisation_id)
    messages = session.scalars(
        select(OutgoingMessage)
        .where(
            OutgoingMessage.recipient_org_id == caller.organisation_id,
            OutgoingMessage.state.in_(_WAITING),
        )
        .order_by(OutgoingMessage.created_at, OutgoingMessage.id)
        .limit(limit)
    ).all()
    items: list[InboxItem] = []
    for message in messages:
        try:
            payload = outgoing.build(session, message)
        except outgoing.Cancelled as cancelled:
            outgoing.cancel(session, message, cancelled.reason)
            continue
        except outgoing.NoBuilder:
            continue  # a deployment error: it stays for when the builder is back
        body = json.dumps(payload.resource, separators=(",", ":")).encode()
        if receiver is not None:
            envelope = seal_message(
                body,
                message_id=str(message.id),
                content_type=FHIR_JSON,
                signing_key=hub_key,
                receiver_key=receiver,
            )
            form = "jwe"
        else:
            envelope, form = _signed(body, str(message.id), hub_key), "jws"
        audit.record(
            session,
            actor=caller.actor,
            action="delivery.inbox.fetch",
            organisation=str(caller.organisation_id),
            subject=f"Message/{message.id}",
            detail={"kind": message.kind, "format": form},
        )
        items.append(InboxItem(message.id, message.kind, message.created_at, form, envelope))
    return items


def acknowledge(session: Session, caller: Caller, *, message_id: uuid.UUID) -> OutgoingMessage:
    """Mark a message to the caller's organisation as received (idempotent; audited).

    Raises:
        MessageNotFound: no such message addressed to the caller's organisation.
        Conflict: the message was cancelled (its consent is gone: discard it).
    """
    message = session.scalars(
        select(OutgoingMessage)
        .where(
            OutgoingMessage.id == message_id,
            OutgoingMessage.recipient_org_id == caller.organisation_id,
        )
        .with_for_update()
    ).first()
    if message is None:
        raise MessageNotFound("No such message in your inbox.")
    if message.state == MessageState.ACKNOWLEDGED:
        return message
    if message.state == MessageState.CANCELLED:
        raise Conflict("This message was cancelled; discard it.")
    message.state = MessageState.ACKNOWLEDGED
    message.acknowledged_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="delivery.ack",
        organisation=str(caller.organisation_id),
        subject=f"Message/{message.id}",
        detail={"kind": message.kind},
    )
    return message


def visible_message(session: Session, caller: Caller, message_id: uuid.UUID) -> OutgoingMessage:
    message = session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.id == message_id, _visible(caller))
    ).first()
    if message is None:
        raise MessageNotFound("No such message.")
    return message
