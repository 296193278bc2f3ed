"""Where a message goes: the receiver's endpoints from the directory and its Subscriptions.

Reads `directory.models` (the directory owns those tables; nothing here writes them).
A referral to a service goes to that service's endpoint; everything else to the active
endpoints of the directory organisations the recipient owns. Subscriptions of the
recipient whose resource type is the payload's focus type get an id-only notification,
numbered per subscription; the number a message got is kept (`SubscriptionEvent`), so a
retried notification carries it again.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from joserfc.jwk import ECKey, OKPKey, import_key
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory import models as directory_models
from gateway.delivery.channels import (
    CONNECTION_TYPES,
    FHIR_JSON,
    JOSE,
    KIND_HEADER,
    MESSAGE_ID_HEADER,
    SIGNATURE_HEADER,
    Channel,
    Push,
    detached_signature,
)
from gateway.delivery.envelope import seal_message
from gateway.delivery.models import (
    OutgoingMessage,
    Subscription,
    SubscriptionEvent,
    SubscriptionState,
)
from gateway.delivery.outgoing import MessageKind, Payload
from gateway.delivery.subscription_status import BACKPORT, TOPIC, NoticeType, notice_bundle
from kernel.db import transaction_memo, utcnow

__all__ = [
    "BACKPORT",
    "TOPIC",
    "Skipped",
    "content_pushes",
    "endpoints_for",
    "notification_pushes",
    "receiver_key",
    "subscription_focus",
]

PublicKey = ECKey | OKPKey


@dataclass(frozen=True)
class Skipped:
    """A target that was not pushed to, and why (a code, for the audit detail)."""

    target: str
    reason: str


def endpoints_for(session: Session, message: OutgoingMessage) -> list[directory_models.DirEndpoint]:
    """The active directory endpoints a message is pushed to (possibly none); looked up
    once per recipient (and service) in a transaction, however many messages it sends."""
    key = (message.recipient_org_id, message.kind == MessageKind.REFERRAL and message.service_id)
    memo = transaction_memo(session, "delivery.endpoints")
    if key not in memo:
        memo[key] = _lookup_endpoints(session, message)
    return list(memo[key])


def _lookup_endpoints(
    session: Session, message: OutgoingMessage
) -> list[directory_models.DirEndpoint]:
    if message.kind == MessageKind.REFERRAL and message.service_id is not None:
        service = session.get(directory_models.Service, message.service_id)
        if (
            service is not None
            and service.owner_organisation_id == message.recipient_org_id
            and service.endpoint_id is not None
        ):
            endpoint = session.get(directory_models.DirEndpoint, service.endpoint_id)
            if endpoint is not None and endpoint.active:
                return [endpoint]
    query = (
        select(directory_models.DirEndpoint)
        .join(
            directory_models.DirOrganization,
            directory_models.DirOrganization.id == directory_models.DirEndpoint.organization_id,
        )
        .where(
            directory_models.DirOrganization.owner_organisation_id == message.recipient_org_id,
            directory_models.DirEndpoint.active.is_(True),
        )
        .order_by(directory_models.DirEndpoint.id)
    )
    return list(session.scalars(query))


def receiver_key(jwk: dict[str, Any] | None) -> PublicKey | None:
    """The endpoint's public key if it is one refhub can encrypt to (EC or X25519)."""
    if not jwk:
        return None
    try:
        key = import_key(jwk)
    except Exception:  # noqa: BLE001 - a malformed key in the directory is just unusable
        return None
    return key if isinstance(key, ECKey | OKPKey) else None


def _url_allowed(url: str, allow_http: bool) -> bool:
    scheme = urlsplit(url).scheme
    return scheme == "https" or (allow_http and scheme == "http")


def content_pushes(
    session: Session,
    message: OutgoingMessage,
    payload: Payload,
    *,
    signing_key: ECKey,
    allow_http: bool,
    done: set[str],
) -> tuple[list[Push], list[Skipped]]:
    """Sealed requests to the receiver's endpoints, except targets in `done`."""
    pushes: list[Push] = []
    skipped: list[Skipped] = []
    body = json.dumps(payload.resource, separators=(",", ":")).encode()
    sealed_for: dict[str, bytes] = {}
    for endpoint in endpoints_for(session, message):
        target = f"Endpoint/{endpoint.id}"
        if target in done:
            continue
        channel = CONNECTION_TYPES.get(endpoint.connection_type)
        if channel is None:
            skipped.append(Skipped(target, f"unknown-connection-type:{endpoint.connection_type}"))
            continue
        if not _url_allowed(endpoint.address, allow_http):
            skipped.append(Skipped(target, "insecure-address"))
            continue
        key = receiver_key(endpoint.public_jwk)
        if key is None:
            skipped.append(Skipped(target, "no-usable-key"))
            continue
        thumb = key.thumbprint()
        if thumb not in sealed_for:
            sealed_for[thumb] = seal_message(
                body,
                message_id=str(message.id),
                content_type=FHIR_JSON,
                signing_key=signing_key,
                receiver_key=key,
            ).encode()
        method, url = "POST", endpoint.address
        if channel is Channel.FHIR_REST and payload.resource_type not in ("Bundle", "Parameters"):
            method = "PUT"
            url = f"{endpoint.address.rstrip('/')}/{payload.resource_type}/{payload.resource_id}"
        headers = {
            "Content-Type": JOSE,
            MESSAGE_ID_HEADER: str(message.id),
            KIND_HEADER: message.kind,
        }
        pushes.append(Push(channel, target, method, url, headers, sealed_for[thumb]))
    return pushes, skipped


def subscription_focus(payload: Payload) -> dict[str, str]:
    """What each subscribed resource type is told about a payload: {type: focus reference}.

    A Task subscription hears of everything about the referral (focus: the Task); a
    Communication subscription of thread messages (focus: the Communication itself)."""
    focus = {payload.focus_ref.split("/", 1)[0]: payload.focus_ref}
    if payload.resource_type == "Communication":
        focus["Communication"] = f"Communication/{payload.resource_id}"
    return focus


def _matching_subscriptions(
    session: Session, message: OutgoingMessage, payload: Payload
) -> list[Subscription]:
    """The recipient's active Subscriptions for the payload (see `subscription_focus`),
    locked (their event counter is incremented). Only "none" is remembered for the
    transaction: a lock taken in a savepoint that rolls back is released, so found rows
    are locked afresh each time."""
    focus_types = sorted(subscription_focus(payload))
    key = (message.recipient_org_id, " ".join(focus_types))
    none_for = transaction_memo(session, "delivery.no-subscriptions")
    if key in none_for:
        return []
    found = list(
        session.scalars(
            select(Subscription)
            .where(
                Subscription.organisation_id == message.recipient_org_id,
                Subscription.status == SubscriptionState.ACTIVE,
                Subscription.resource_type.in_(focus_types),
            )
            .order_by(Subscription.id)
            .with_for_update()
        )
    )
    if not found:
        none_for[key] = True
    return found


def _event_numbers(
    session: Session, message: OutgoingMessage
) -> dict[uuid.UUID, SubscriptionEvent]:
    """The event numbers this message was already given, by subscription (a retry, or a
    run after a crash during the push, repeats them)."""
    rows = session.scalars(
        select(SubscriptionEvent).where(SubscriptionEvent.message_id == message.id)
    )
    return {row.subscription_id: row for row in rows}


def _new_event(
    session: Session, subscription: Subscription, message: OutgoingMessage
) -> SubscriptionEvent:
    """The subscription's next event number, given to this message (the subscription row
    is locked: see `_matching_subscriptions`)."""
    subscription.events_since_start += 1
    numbered = SubscriptionEvent(
        subscription_id=subscription.id,
        message_id=message.id,
        event_number=subscription.events_since_start,
        occurred_at=utcnow(),
    )
    session.add(numbered)
    return numbered


def notification_pushes(
    session: Session,
    message: OutgoingMessage,
    payload: Payload,
    *,
    signing_key: ECKey,
    allow_http: bool,
    fhir_base: str,
    done: set[str],
) -> tuple[list[Push], list[Skipped]]:
    """Signed id-only notifications to the receiver's matching Subscriptions."""
    pushes: list[Push] = []
    skipped: list[Skipped] = []
    focus = subscription_focus(payload)
    matching = _matching_subscriptions(session, message, payload)
    numbers = _event_numbers(session, message) if matching else {}
    for subscription in matching:
        target = f"Subscription/{subscription.id}"
        if target in done:
            continue
        if not _url_allowed(subscription.endpoint, allow_http):
            skipped.append(Skipped(target, "insecure-address"))
            continue
        numbered = numbers.get(subscription.id) or _new_event(session, subscription, message)
        bundle = notice_bundle(
            subscription,
            fhir_base,
            NoticeType.EVENT,
            event=(numbered.event_number, focus[subscription.resource_type]),
            event_at=numbered.occurred_at,
        )
        body = json.dumps(bundle, separators=(",", ":")).encode()
        headers = {
            "Content-Type": FHIR_JSON,
            MESSAGE_ID_HEADER: str(message.id),
            KIND_HEADER: message.kind,
            SIGNATURE_HEADER: detached_signature(
                body, message_id=str(message.id), content_type=FHIR_JSON, signing_key=signing_key
            ),
        }
        pushes.append(
            Push(Channel.SUBSCRIPTION, target, "POST", subscription.endpoint, headers, body)
        )
    return pushes, skipped


def subscription_id(target: str) -> uuid.UUID | None:
    kind, _, value = target.partition("/")
    return uuid.UUID(value) if kind == "Subscription" else None
